"""Query parameters that web pages and the API validate the same way."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from dragonnet.linkage.declaration_links import EVIDENCE_KINDS

# An evidence kind or nothing ("all" in the page's filter); an office as a UN/LOCODE-like code.
KindFilter = Annotated[
    str,
    Query(pattern="^(" + "|".join(EVIDENCE_KINDS) + ")?$", max_length=16,
          description="only links with this evidence: " + ", ".join(EVIDENCE_KINDS) + " (empty: all)"),
]  # fmt: skip
OfficeFilter = Annotated[
    str, Query(pattern="^[A-Za-z0-9]*$", max_length=16, description="only declarations lodged at this office")
]
