"""Response models of the JSON API (they document it in OpenAPI) and their builders.

The pages render the same models, so a figure shown on a page and the API's figure come from one place.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from dragonnet.operation import service
from dragonnet.policy.access import Actor
from dragonnet.reference import DatasetInfo
from dragonnet.reference.countries import Country
from dragonnet.storage.models import Operation, User


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ErrorDetail(Model):
    code: str = Field(description="machine-readable kind: not_found, invalid, conflict, unauthenticated, ...")
    message: str = Field(description="one line a user can act on")
    suggestions: list[str] = Field(default_factory=list, description="did-you-mean values, when there are some")


class ErrorOut(Model):
    error: ErrorDetail


class HealthOut(Model):
    status: str = Field(description='"ok", or "schema_outdated" when the database needs an upgrade')
    version: str
    database: str = Field(description="database backend: sqlite or postgresql")
    schema_revision: str | None = Field(description="the Alembic revision the database is at")
    schema_head: str = Field(description="the revision this version of dragonnet expects")


class AgencyOut(Model):
    code: str
    name: str
    kind: str
    country: str | None = Field(description="ISO 3166-1 alpha-2; null for international organisations")


class ContactPointOut(Model):
    code: str
    name: str
    kind: str
    locode: str | None


class MeOut(Model):
    username: str
    display_name: str
    email: str | None
    agency: AgencyOut
    contact_point: ContactPointOut | None
    roles: list[str]
    last_login_at: dt.datetime | None

    @classmethod
    def build(cls, user: User) -> MeOut:
        cp = user.contact_point
        return cls(
            username=user.username,
            display_name=user.display_name,
            email=user.email,
            agency=AgencyOut(
                code=user.agency.code, name=user.agency.name, kind=user.agency.kind, country=user.agency.country
            ),
            contact_point=ContactPointOut(code=cp.code, name=cp.name, kind=cp.kind, locode=cp.locode) if cp else None,
            roles=sorted(user.role_names),
            last_login_at=user.last_login_at,
        )


class PhaseOut(Model):
    number: int
    name: str
    start_date: dt.date
    end_date: dt.date
    scope: list[str]


class OperationSummary(Model):
    slug: str
    name: str
    description: str
    scope: list[str]
    phases: list[PhaseOut]

    @classmethod
    def build(cls, op: Operation) -> OperationSummary:
        return cls(
            slug=op.slug,
            name=op.name,
            description=op.description,
            scope=list(op.scope),
            phases=[
                PhaseOut(number=p.number, name=p.name, start_date=p.start_date, end_date=p.end_date, scope=p.scope)
                for p in op.phases
            ],
        )


class PhaseCountOut(Model):
    number: int
    name: str
    start_date: dt.date
    end_date: dt.date
    cases: int = Field(description="cases counted under the counting rule, each once")
    by_class: dict[str, int] = Field(description="cases per commodity class (a case counts under each class)")


class ParticipantOut(Model):
    agency_code: str
    agency_name: str
    country: str | None
    country_name: str | None
    kind: str
    role: str
    since_phase: int | None


class PhaseTotalOut(Model):
    number: int
    cases: int | None = Field(description="all member agencies' cases under the totals rule; null if suppressed")
    by_class: dict[str, int | None] = Field(description="per commodity class; null where suppressed")
    change_pct: float | None = Field(description="change against the previous phase, in %")


class OperationOverview(Model):
    slug: str
    name: str
    description: str
    scope: list[str]
    counting_rule: str
    phases: list[PhaseCountOut]
    total_cases: int
    by_class: dict[str, int] = Field(description="cases per commodity class over all phases")
    participants: list[ParticipantOut]
    totals_rule: str = Field(description="how the operation-wide totals count")
    totals: list[PhaseTotalOut] = Field(description="operation-wide aggregate figures per phase (all agencies)")

    @classmethod
    def build(cls, session: Session, actor: Actor, op: Operation) -> OperationOverview:
        figures = service.operation_figures(session, actor, op)
        return cls(
            slug=figures.slug,
            name=figures.name,
            description=figures.description,
            scope=figures.scope,
            counting_rule=figures.counting_rule,
            totals_rule=figures.totals_rule,
            totals=[
                PhaseTotalOut(number=t.number, cases=t.cases, by_class=t.by_class, change_pct=t.change_pct)
                for t in figures.totals
            ],
            phases=[
                PhaseCountOut(
                    number=pc.number,
                    name=pc.name,
                    start_date=pc.start_date,
                    end_date=pc.end_date,
                    cases=pc.cases,
                    by_class=dict(pc.by_class),
                )
                for pc in figures.phases
            ],
            total_cases=figures.total_cases,
            by_class=figures.by_class,
            participants=[ParticipantOut(**vars(p)) for p in figures.participants],
        )


class DatasetOut(Model):
    name: str
    version: str
    source: str
    licence: str
    records: int
    attribution: str = Field(description="text to show wherever the data is used (empty when none is asked)")

    @classmethod
    def build(cls, info: DatasetInfo) -> DatasetOut:
        return cls(
            name=info.name,
            version=info.version,
            source=info.source,
            licence=info.licence,
            records=info.records,
            attribution=info.attribution,
        )


class CountryOut(Model):
    alpha2: str
    alpha3: str
    name: str = Field(description="ISO 3166-1 short name in English")
    common_name: str = Field(description="the name as users write it")
    numeric: str

    @classmethod
    def build(cls, country: Country) -> CountryOut:
        return cls(
            alpha2=country.alpha2,
            alpha3=country.alpha3,
            name=country.name,
            common_name=country.common_name or country.name,
            numeric=country.numeric,
        )
