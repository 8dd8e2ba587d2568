"""Linkage tests reuse the module-scoped demo database of tests/demo (built once per module and backend)."""

from __future__ import annotations

from demo.conftest import backend, demo, demo_db  # noqa: F401  (fixtures)
