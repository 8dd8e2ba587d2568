"""Fixtures for the page tests (also used by tests/api through web.webtest)."""

from __future__ import annotations

from web.webtest import app_client, seeded_db  # noqa: F401 - fixtures
