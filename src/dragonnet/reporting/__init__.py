"""Reporting: figures with explicit counting rules, the debrief report, charts, maps and safe exports.

Every figure is computed from an authz-scoped extract (`extract.py`, filtered by `policy.access`) by DuckDB
SQL over Arrow tables (`breakdowns.py`), and carries its counting rule (`rules.py`).
"""
