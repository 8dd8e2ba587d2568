"""The API tests share the page tests' fixtures (a seeded database and a TestClient per backend)."""

from __future__ import annotations

from web.webtest import app_client, seeded_db  # noqa: F401 - fixtures
