"""Link and route analysis: entity resolution with Splink, privacy-preserving matching, networks, routes and
trends, cases linked to shipment declarations.

Modules, bottom up:
- `normalise`: names, phones, codes and blocking keys; `extract`: what a viewer may link (cases, parties,
  identifiers, declarations), read through the access policy.
- `resolve`: the Splink model (DuckDB or Spark); `pprl`: Bloom-filter encodings and the hub's matching.
- `networks`: cases linked through shared entities; `routes`: flows and trends (exact binomial test).
- Stages of the service: `resolution` (the operator's run, links, networks), `declaration_links` (cases x
  declarations and their evidence), `review` (analysts' decisions), `privacy` (the privacy-preserving run).
- `service`: the door web/API/CLI call; its readers that show party names take a purpose and audit the read.
"""
