"""`/api/v1` routes that set up a real operation: the first administrator, operations, phases, participants,
commodity scope, the roster file, and the bulk validation of cases.

Thin: each route parses, calls the one service (policy.admin, operation.manage, operation.roster,
intake.workflow) with the caller as actor, and renders; the services check the rights and write the audit.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from dragonnet.api.schemas import OperationSummary
from dragonnet.api.v1 import BAD_FILE, NOT_FOUND, PREFIX, UNAUTHENTICATED
from dragonnet.errors import ValidationError
from dragonnet.http.deps import ApiActor, AppSettings, DbSession, client_address
from dragonnet.intake import workflow
from dragonnet.operation import manage, roster
from dragonnet.operation.service import get_operation
from dragonnet.policy import admin
from dragonnet.tabular import MAX_BYTES

router = APIRouter(prefix=PREFIX)
DENIED: dict[int | str, dict[str, Any]] = {**UNAUTHENTICATED, **NOT_FOUND}


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=1000)


class SetupIn(In):
    setup_token: str = Field(max_length=64, description="printed by `dragonnet serve` while no administrator exists")
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    agency_code: str = Field(max_length=32)
    agency_name: str = Field(max_length=200)
    agency_kind: str = "other"
    agency_country: str | None = None
    display_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)


class SetupOut(BaseModel):
    username: str
    agency: str


class OperationCreate(In):
    slug: str = Field(max_length=64)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=5000)
    scope: list[str] = Field(default_factory=list, max_length=10)


class PhaseIn(In):
    name: str = Field(max_length=100, description='e.g. "Phase I"; an existing name moves that phase')
    start_date: dt.date
    end_date: dt.date
    number: int | None = Field(default=None, ge=1, le=999)


class ParticipantIn(In):
    agency: str = Field(max_length=32)
    role: str = Field(default="member", description="lead, member, partner or observer")
    since_phase: int | None = Field(default=None, ge=1)


class ParticipantOut(BaseModel):
    agency: str
    role: str
    since_phase: int | None
    result: str = Field(description="joined, role changed or unchanged")


class ScopeIn(In):
    scope: list[str] = Field(min_length=1, max_length=10)


class ValidateIn(In):
    agency: str = Field(max_length=32)
    selection: Literal["all_submitted", "refs"]
    refs: list[str] = Field(default_factory=list, max_length=100_000)
    reason: str | None = Field(default=None, max_length=2000)
    dry_run: bool = False


class ValidateOut(BaseModel):
    operation: str
    agency: str
    validated: int
    already_validated: int
    dry_run: bool
    validated_refs: list[str]
    already_validated_refs: list[str]


class RosterErrorOut(BaseModel):
    row: int
    column: str
    value: str | None
    reason: str
    suggestion: str | None


class NewUserOut(BaseModel):
    username: str
    agency: str
    first_password: str = Field(description="shown this once: hand it over; the user changes it")


class RosterOut(BaseModel):
    filename: str
    ok: bool
    written: bool
    dry_run: bool
    rows_total: int
    rows_rejected: int
    counts: dict[str, int]
    errors: list[RosterErrorOut]
    new_users: list[NewUserOut]


@router.post("/setup", response_model=SetupOut, status_code=201, responses={**NOT_FOUND}, tags=["setup"])
def setup(body: SetupIn, request: Request, db: DbSession, settings: AppSettings) -> SetupOut:
    """Create the first administrator and its agency (only while none exists; needs the setup token)."""
    spec = admin.FirstAdministrator(
        username=body.username, password=body.password, agency_code=body.agency_code, agency_name=body.agency_name,
        agency_kind=body.agency_kind, agency_country=body.agency_country, display_name=body.display_name,
        email=body.email,
    )  # fmt: skip
    user = admin.first_administrator(
        db,
        spec,
        console=False,
        setup_token_given=body.setup_token,
        secret_key=settings.secret_key,
        client_address=client_address(request),
    )
    return SetupOut(username=user.username, agency=user.agency.code)


@router.post("/operations", response_model=OperationSummary, status_code=201, responses=DENIED, tags=["operations"])
def create_operation(body: OperationCreate, db: DbSession, actor: ApiActor) -> OperationSummary:
    """Create an operation (site administrators)."""
    op = manage.create_operation(db, actor, slug=body.slug, name=body.name, description=body.description,
                                 scope=body.scope)  # fmt: skip
    return OperationSummary.build(op)


@router.post("/operations/{slug}/phases", response_model=OperationSummary, responses=DENIED, tags=["operations"])
def set_phase(slug: str, body: PhaseIn, db: DbSession, actor: ApiActor) -> OperationSummary:
    """Add a phase, or move the phase of that name (no overlap; a phase's cases may not be left outside)."""
    manage.set_phase(db, actor, slug, name=body.name, start=body.start_date, end=body.end_date, number=body.number)
    op = get_operation(db, slug)
    db.refresh(op, ["phases"])
    return OperationSummary.build(op)


@router.post("/operations/{slug}/participants", response_model=ParticipantOut, responses=DENIED,
             tags=["operations"])  # fmt: skip
def join(slug: str, body: ParticipantIn, db: DbSession, actor: ApiActor) -> ParticipantOut:
    """An agency takes part in the operation (again: its role changes)."""
    part, result = manage.join(db, actor, slug, body.agency, body.role, body.since_phase)
    return ParticipantOut(agency=part.agency.code, role=part.role, since_phase=part.since_phase, result=result)


@router.put("/operations/{slug}/scope", response_model=OperationSummary, responses=DENIED, tags=["operations"])
def set_scope(slug: str, body: ScopeIn, db: DbSession, actor: ApiActor) -> OperationSummary:
    """The commodity classes the operation covers."""
    return OperationSummary.build(manage.set_scope(db, actor, slug, body.scope))


@router.post("/operations/{slug}/validate", response_model=ValidateOut, responses=DENIED, tags=["cases"])
def validate(slug: str, body: ValidateIn, db: DbSession, actor: ApiActor) -> ValidateOut:
    """Validate an agency's submitted cases at once: all of them, or the refs given (national coordinators of
    the agency's country, regional analysts). All or nothing; each case gets its history row and audit entry."""
    if body.selection == "refs" and not body.refs:
        raise ValidationError("selection 'refs' needs refs")
    result = workflow.validate_cases(db, actor, get_operation(db, slug), body.agency,
                                     refs=body.refs if body.selection == "refs" else None, reason=body.reason,
                                     dry_run=body.dry_run)  # fmt: skip
    return ValidateOut(**result.summary())


@router.post("/admin/roster", response_model=RosterOut, responses={**DENIED, **BAD_FILE}, tags=["admin"])
def import_roster(
    db: DbSession,
    actor: ApiActor,
    file: Annotated[UploadFile, File(description="the roster: CSV or XLSX")],
    operation: Annotated[str | None, Form(max_length=64)] = None,
    dry_run: Annotated[bool, Form()] = False,
) -> RosterOut:
    """Import agencies, contact points and users; any row problem and nothing is written (listed per row)."""
    data = file.file.read(MAX_BYTES + 1)
    report = roster.import_roster(db, actor, data, file.filename or "roster.csv", operation=operation or None,
                                  dry_run=dry_run)  # fmt: skip
    return RosterOut(
        filename=report.filename, ok=report.ok, written=report.written, dry_run=report.dry_run,
        rows_total=report.rows_total, rows_rejected=report.rows_rejected, counts=report.counts(),
        errors=[RosterErrorOut(row=e.row, column=e.column, value=e.value, reason=e.reason, suggestion=e.suggestion)
                for e in report.errors],
        new_users=[NewUserOut(username=u, agency=a, first_password=p) for u, a, p in report.new_passwords],
    )  # fmt: skip
