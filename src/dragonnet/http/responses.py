"""Responses that web pages and the API build the same way."""

from __future__ import annotations

from fastapi.responses import Response

AUDIT_CSV = "dragonnet-audit.csv"


def csv_download(text: str, filename: str) -> Response:
    """A CSV file download (the text is already safe against formula injection: the services make it)."""
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
