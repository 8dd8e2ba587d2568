"""The curation loop (the "lookups" of OpenSanctions' zavod): values read by a guess or not read at all are reviewed
once per operation, mapped to a reference entry (or confirmed "not listed"), and the mapping is applied to the
cases that carry the value and to every later import.

- `store`: the review queue and the mappings as the importer and the form use them (record the values of an
  import, load the mappings an import consults before the reference data);
- `service`: the one door of the web page, the API and the CLI (list, map, remove, export, import), which takes
  the actor, checks `policy.access.may_curate` and writes the audit entries and the cases' history;
- `files`: the mapping file (CSV or YAML) operations share.
"""
