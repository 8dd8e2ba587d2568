"""The API's documentation page: Swagger UI at /api/docs, served from the package (no CDN) and started
by a static script (no inline JS)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from dragonnet.web.templating import templates

OPENAPI_URL = "/api/v1/openapi.json"
DOCS_URL = "/api/docs"

router = APIRouter(include_in_schema=False)


@router.get(DOCS_URL, response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "api_docs.html", {"openapi_url": OPENAPI_URL})
