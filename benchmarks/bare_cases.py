"""The load test's baseline: a bare FastAPI app answering the case list and one case with hand-written SQL.

It runs the SQL dragonnet's `GET /api/v1/cases` and `GET /api/v1/cases/{id}` run (the API token's user,
the operation, the visibility filter of `dragonnet.policy.access` written out by hand for that user, the
page or the case with its items, transits and, where the reader may see them, parties) on the same engine
settings (`make_engine`) and switch interval, and answers the same JSON shape; nothing else: no ORM, no
pydantic, no policy module, no audit entry, no `last_used_at`, no admission limit or security headers.

    uvicorn --factory --app-dir benchmarks bare_cases:create_app   (DRAGONNET_DATABASE_URL as for dragonnet)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
from typing import Any

from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, Engine, text

from dragonnet.config import load_settings
from dragonnet.storage.db import make_engine

_USER = text(
    """
    SELECT u.id, u.agency_id, a.country, (SELECT string_agg(r.role, ',') FROM user_roles r WHERE r.user_id = u.id)
    FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN agencies a ON a.id = u.agency_id
    WHERE t.token_hash = :h AND t.revoked_at IS NULL AND t.expires_at > :now AND u.is_active
    """
)

_ITEM_COLUMNS = ("position", "commodity_class", "substance_text", "substance", "substance_control", "taxon_text",
                 "taxon", "cites_appendix", "specimen_type", "quantity", "unit", "quantity_text", "mass_kg",
                 "goods_description")  # fmt: skip
_PARTY_COLUMNS = ("role", "kind", "name", "nationality", "birth_date", "id_number", "phone", "email", "address")


class Reader:
    def __init__(self, row: Any) -> None:
        self.user_id, self.agency_id, self.country = row[0], row[1], row[2]
        self.roles = set((row[3] or "").split(","))

    def visibility(self) -> str:
        """`policy.access.case_visibility`, by hand (c = cases)."""
        named = "EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = c.id AND s.agency_id = :agency)"
        own = "c.reporting_agency_id = :agency"
        if "partner_observer" in self.roles and not self.roles & {"reporter", "national_coordinator",
                                                                   "regional_analyst"}:  # fmt: skip
            return f"({own} OR (c.status <> 'draft' AND c.sharing_level = 'clear'))"
        amber = [named]
        if "regional_analyst" in self.roles:
            amber.append("TRUE")
        if "national_coordinator" in self.roles and self.country:
            amber.append(
                "EXISTS (SELECT 1 FROM agencies ag WHERE ag.id = c.reporting_agency_id AND ag.country = :country)"
            )
        members = "c.sharing_level IN ('clear', 'green')"
        amber_ok = f"(c.sharing_level = 'amber' AND ({' OR '.join(amber)}))"
        red_ok = f"(c.sharing_level = 'red' AND {named})"
        return f"({own} OR (c.status <> 'draft' AND ({members} OR {amber_ok} OR {red_ok})))"

    def nominal(self) -> str:
        if "partner_observer" in self.roles and not self.roles & {"reporter", "national_coordinator",
                                                                   "regional_analyst"}:  # fmt: skip
            return "FALSE"
        return ("(c.reporting_agency_id = :agency OR (c.status <> 'draft' AND EXISTS (SELECT 1 FROM case_shares s "
                "WHERE s.case_id = c.id AND s.agency_id = :agency AND s.nominal)))")  # fmt: skip

    @property
    def params(self) -> dict[str, Any]:
        return {"agency": self.agency_id, "country": self.country}


def _reader(conn: Connection, authorization: str | None) -> Reader:
    raw = (authorization or "").partition(" ")[2].strip()
    row = conn.execute(_USER, {"h": hashlib.sha256(raw.encode()).hexdigest(), "now": dt.datetime.now(dt.UTC)}).first()
    if row is None:
        raise HTTPException(401, "unauthenticated")
    return Reader(row)


def _summary(row: Any, classes: list[str]) -> dict[str, Any]:
    return {"id": row.id, "case_ref": row.case_ref, "reporting_agency": row.agency, "phase": row.phase,
            "status": row.status, "version": row.version, "sharing_level": row.sharing_level,
            "seizure_date": row.seizure_date.isoformat(), "place_country": row.place_country,
            "place_locode": row.place_locode, "commodity_classes": classes}  # fmt: skip


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def create_app() -> FastAPI:
    engine: Engine = make_engine(os.environ["DRAGONNET_DATABASE_URL"])
    # The same server settings as dragonnet's workers: their threads' switch interval (1 ms by default).
    interval = load_settings().switch_interval
    if interval is not None:
        sys.setswitchinterval(interval)
    app = FastAPI()

    @app.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/cases")
    def list_cases(request: Request, operation: str, limit: int = 50, authorization: str | None = Header(None)) -> Any:
        with engine.connect() as conn:
            reader = _reader(conn, authorization)
            op = conn.execute(text("SELECT id FROM operations WHERE slug = :s"), {"s": operation}).scalar()
            if op is None:
                raise HTTPException(404, "no operation")
            rows = conn.execute(
                text(f"""SELECT c.id, c.case_ref, a.code AS agency, p.number AS phase, c.status, c.version,
                                c.sharing_level, c.seizure_date, c.place_country, c.place_locode
                         FROM cases c JOIN agencies a ON a.id = c.reporting_agency_id JOIN phases p ON p.id = c.phase_id
                         WHERE c.operation_id = :op AND {reader.visibility()}
                         ORDER BY c.id DESC LIMIT :n"""),
                {**reader.params, "op": op, "n": limit + 1},
            ).all()
            more = len(rows) > limit
            rows = rows[:limit]
            classes: dict[int, set[str]] = {r.id: set() for r in rows}
            if rows:
                for case_id, cls in conn.execute(
                    text("SELECT case_id, commodity_class FROM items WHERE case_id = ANY(:ids)"),
                    {"ids": list(classes)},
                ):
                    classes[case_id].add(cls)
        items = [_summary(r, sorted(classes[r.id])) for r in rows]
        return JSONResponse({"items": items, "next_cursor": str(rows[-1].id) if more and rows else None})

    @app.get("/api/v1/cases/{case_id}")
    def read_case(case_id: int, authorization: str | None = Header(None)) -> Any:
        with engine.connect() as conn:
            reader = _reader(conn, authorization)
            row = conn.execute(
                text(f"""SELECT c.*, a.code AS agency, p.number AS phase, o.slug AS operation
                         FROM cases c JOIN agencies a ON a.id = c.reporting_agency_id JOIN phases p ON p.id = c.phase_id
                         JOIN operations o ON o.id = c.operation_id
                         WHERE c.id = :id AND {reader.visibility()}"""),
                {**reader.params, "id": case_id},
            ).first()
            if row is None:
                raise HTTPException(404, f"no case {case_id}")
            items = conn.execute(
                text(f"SELECT {', '.join(_ITEM_COLUMNS)} FROM items WHERE case_id = :id ORDER BY position"),
                {"id": case_id},
            ).all()
            transits = (
                conn.execute(
                    text("SELECT country FROM case_transits WHERE case_id = :id ORDER BY position"), {"id": case_id}
                )
                .scalars()
                .all()
            )
            may_see = conn.execute(
                text(f"SELECT 1 FROM cases c WHERE c.id = :id AND {reader.visibility()} AND {reader.nominal()}"),
                {**reader.params, "id": case_id},
            ).first()
            parties = None
            if may_see:
                parties = [
                    {k: _plain(v) for k, v in zip(_PARTY_COLUMNS, p, strict=True)}
                    for p in conn.execute(
                        text(f"SELECT {', '.join(_PARTY_COLUMNS)} FROM parties WHERE case_id = :id ORDER BY id"),
                        {"id": case_id},
                    )
                ]
        body = _summary(row, sorted({i.commodity_class for i in items}))
        body.update({k: _plain(getattr(row, k)) for k in (
            "operation", "place_name", "place_type", "direction", "transport_mode", "conveyance_ref",
            "detection_method", "concealment", "origin_country", "destination_country", "arrests", "description",
            "merged_into_id", "submitted_at", "validated_at", "updated_at")})  # fmt: skip
        body["transit_countries"] = list(transits)
        body["items"] = [dict(zip(_ITEM_COLUMNS, i, strict=True)) for i in items]
        body["parties"] = parties
        return JSONResponse(body, headers={"ETag": f'"{row.version}"'})

    return app
