"""The relational schema: one set of SQLAlchemy 2 models for SQLite and PostgreSQL.

Nominal data (parties, personal identifiers) lives in its own tables so that the access policy can
withhold it as a whole; case and item rows carry only non-nominal facts, as in a regional customs
seizure database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dragonnet.domain.vocabulary import CaseStatus, SharingLevel

# Deterministic constraint names so Alembic migrations are the same on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps stored as UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {dt.datetime: UTCDateTime(), dict[str, Any]: JSON()}


# --- organisation ---------------------------------------------------------------------------------------


class Operation(Base):
    __tablename__ = "operations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Commodity classes in scope, e.g. ["drug", "precursor", "wildlife", "timber"].
    scope: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The locale of its pages when neither the user nor the browser names a shipped one (None: English).
    default_language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    phases: Mapped[list[Phase]] = relationship(
        back_populates="operation", order_by="Phase.number", cascade="all, delete-orphan"
    )
    participants: Mapped[list[Participation]] = relationship(back_populates="operation", cascade="all, delete-orphan")


class Phase(Base):
    __tablename__ = "phases"
    __table_args__ = (UniqueConstraint("operation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    scope: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")

    operation: Mapped[Operation] = relationship(back_populates="phases")


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    # ISO 3166-1 alpha-2; NULL for international organisations and NGOs.
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    contact_points: Mapped[list[ContactPoint]] = relationship(back_populates="agency")


class Participation(Base):
    """An agency's part in an operation: member, partner, observer or coordinator, from a phase on."""

    __tablename__ = "participations"
    __table_args__ = (UniqueConstraint("operation_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    since_phase: Mapped[int | None] = mapped_column(Integer)

    operation: Mapped[Operation] = relationship(back_populates="participants")
    agency: Mapped[Agency] = relationship()


class ContactPoint(Base):
    __tablename__ = "contact_points"
    __table_args__ = (UniqueConstraint("agency_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    locode: Mapped[str | None] = mapped_column(String(5))

    agency: Mapped[Agency] = relationship(back_populates="contact_points")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    contact_point_id: Mapped[int | None] = mapped_column(ForeignKey("contact_points.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column()
    language: Mapped[str | None] = mapped_column(String(16))  # the locale the user chose (None: the browser's)

    agency: Mapped[Agency] = relationship()
    contact_point: Mapped[ContactPoint | None] = relationship()
    roles: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))


class WebSession(Base):
    """A server-side login session: logout and disabling a user end it for real."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    client_address: Mapped[str | None] = mapped_column(String(64))


# --- cases ------------------------------------------------------------------------------------------------


class Case(Base):
    """A seizure case as reported by one agency; (reporting agency, case_ref) identifies it."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("reporting_agency_id", "case_ref"),
        Index("ix_cases_operation_phase", "operation_id", "phase_id"),
        Index("ix_cases_seizure_date", "seizure_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    # Derived from seizure_date and the operation's phase periods; stored so queries can group by it.
    phase_id: Mapped[int] = mapped_column(ForeignKey("phases.id"))
    # No index of its own: the unique (reporting_agency_id, case_ref) key serves lookups by agency.
    reporting_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    contact_point_id: Mapped[int | None] = mapped_column(ForeignKey("contact_points.id"))
    case_ref: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.DRAFT.value, index=True)
    sharing_level: Mapped[str] = mapped_column(String(16), default=SharingLevel.AMBER.value)
    version: Mapped[int] = mapped_column(Integer, default=1)

    seizure_date: Mapped[dt.date] = mapped_column(Date)
    reported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    place_locode: Mapped[str | None] = mapped_column(String(5))
    place_name: Mapped[str | None] = mapped_column(String(200))
    place_country: Mapped[str] = mapped_column(String(2), index=True)
    place_type: Mapped[str | None] = mapped_column(String(32))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    direction: Mapped[str | None] = mapped_column(String(16))
    transport_mode: Mapped[str | None] = mapped_column(String(32))
    conveyance_ref: Mapped[str | None] = mapped_column(String(100))
    detection_method: Mapped[str | None] = mapped_column(String(32))
    concealment: Mapped[str | None] = mapped_column(Text)
    origin_country: Mapped[str | None] = mapped_column(String(2))
    destination_country: Mapped[str | None] = mapped_column(String(2))
    arrests: Mapped[int] = mapped_column(Integer, default=0)
    estimated_value_usd: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str | None] = mapped_column(Text)
    # Exchange-format columns without a column of their own (by name; see intake.extra).
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column()
    validated_at: Mapped[dt.datetime | None] = mapped_column()
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __mapper_args__ = {"version_id_col": version}

    operation: Mapped[Operation] = relationship()
    phase: Mapped[Phase] = relationship()
    reporting_agency: Mapped[Agency] = relationship()
    contact_point: Mapped[ContactPoint | None] = relationship()
    items: Mapped[list[Item]] = relationship(
        back_populates="case", order_by="Item.position", cascade="all, delete-orphan"
    )
    transits: Mapped[list[CaseTransit]] = relationship(order_by="CaseTransit.position", cascade="all, delete-orphan")
    shares: Mapped[list[CaseShare]] = relationship(cascade="all, delete-orphan")

    @property
    def transit_countries(self) -> list[str]:
        return [t.country for t in self.transits]


class CaseTransit(Base):
    """A transit country of a case's route, in order."""

    __tablename__ = "case_transits"
    __table_args__ = (UniqueConstraint("case_id", "position"),)  # also the index for lookups by case

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    country: Mapped[str] = mapped_column(String(2))


class CaseShare(Base):
    """An agency named as recipient of a RED or AMBER case; `nominal` extends the share to parties."""

    __tablename__ = "case_shares"
    __table_args__ = (UniqueConstraint("case_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    nominal: Mapped[bool] = mapped_column(Boolean, default=False)


class Item(Base):
    """One seized item. The officer's text is kept beside its normalised value."""

    __tablename__ = "items"
    # Substance and taxon are each set on part of the items only: partial indexes skip the NULLs. The
    # commodity class (four values) has no index: filters on it go through the case (ix_items_case_id) and
    # counts read every row anyway; each index costs every bulk import (docs/benchmarks.md, case intake).
    __table_args__ = (
        Index("ix_items_substance", "substance", postgresql_where=text("substance IS NOT NULL"),
              sqlite_where=text("substance IS NOT NULL")),
        Index("ix_items_taxon", "taxon", postgresql_where=text("taxon IS NOT NULL"),
              sqlite_where=text("taxon IS NOT NULL")),
        Index("ix_items_hs_code", "hs_code", postgresql_where=text("hs_code IS NOT NULL"),
              sqlite_where=text("hs_code IS NOT NULL")),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=1)
    commodity_class: Mapped[str] = mapped_column(String(16))
    substance_text: Mapped[str | None] = mapped_column(String(200))
    substance: Mapped[str | None] = mapped_column(String(200))
    substance_control: Mapped[str | None] = mapped_column(String(100))
    taxon_text: Mapped[str | None] = mapped_column(String(200))
    taxon: Mapped[str | None] = mapped_column(String(200))
    cites_appendix: Mapped[str | None] = mapped_column(String(16))
    specimen_type: Mapped[str | None] = mapped_column(String(32))
    # CITES status of the taxon (cites.LISTED, INCLUDES_LISTED, NOT_LISTED, UNVERIFIED) and the rank it was read
    # at (SPECIES, GENUS, FAMILY...): "ivory" is stored as the family Elephantidae, never as one of its species.
    taxon_status: Mapped[str | None] = mapped_column(String(24))
    taxon_rank: Mapped[str | None] = mapped_column(String(16))
    # NULL quantity (and unit): honestly unknown ("unknown" in the quantity cell); quantity_text keeps the words.
    quantity: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(16))
    quantity_text: Mapped[str | None] = mapped_column(String(64))
    mass_kg: Mapped[float | None] = mapped_column(Float)
    hs_code: Mapped[str | None] = mapped_column(String(12))  # HS digits when checked, else as written
    goods_description: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # see Case.extra

    case: Mapped[Case] = relationship(back_populates="items")


# --- nominal data -----------------------------------------------------------------------------------------


class Party(Base):
    """A person or company linked to a case. Nominal: visible to the owning agency and named shares only."""

    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(300))
    nationality: Mapped[str | None] = mapped_column(String(2))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    id_number: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # see Case.extra

    case: Mapped[Case] = relationship()


class CaseIdentifier(Base):
    """A conveyance or contact identifier seen in a case (container, vessel, vehicle, phone...).

    Containers, vessels and vehicles are non-nominal; phones, e-mails, bank accounts and passports are
    nominal and follow the same rule as parties (see policy).
    """

    __tablename__ = "case_identifiers"
    __table_args__ = (Index("ix_case_identifiers_kind_value", "kind", "normalised"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(200))
    normalised: Mapped[str] = mapped_column(String(200))


# --- audit ------------------------------------------------------------------------------------------------


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit log (see dragonnet.policy.audit)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[dt.datetime] = mapped_column()
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_username: Mapped[str | None] = mapped_column(String(64))
    actor_agency: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The staged entry this one was chained from (None for entries chained before staging existed); kept so
    # the database lets the staged row go only once its exact copy is in the chain. Not part of the hash.
    staged_id: Mapped[int | None] = mapped_column(Integer, index=True, unique=True)


class AuditStaged(Base):
    """An audit entry written in the audited change's own transaction, waiting for the appender to chain it.

    The database refuses UPDATE, and DELETE unless an identical entry carrying this id is in the chain."""

    __tablename__ = "audit_staged"
    # Ids are never reused (SQLite would reuse them once the table is empty): a chained entry keeps its own.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column()
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_username: Mapped[str | None] = mapped_column(String(64))
    actor_agency: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AuditHead(Base):
    """A single row holding the chain's last sequence number and hash; locked while appending."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


# --- sharing with control: API tokens, second factor -------------------------------------------------------


class ApiToken(Base):
    """A personal API token. Only its sha256 is stored; `prefix` (the first characters) identifies it."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(8))  # "read" or "write"
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    last_used_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()

    user: Mapped[User] = relationship()


class UserTotp(Base):
    """A user's TOTP second factor: enabled once confirmed; `last_step` makes each code single-use."""

    __tablename__ = "user_totp"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column()


class SiteKey(Base):
    """A secret the site keeps in its database, by purpose (e.g. "cell-key": the key of the statistics'
    perturbation, dragonnet.policy.cellkey). In the database so that every process, a restore and a backup
    use the same key: the same statistic must get the same noise for ever."""

    __tablename__ = "site_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), unique=True)
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LoginChallenge(Base):
    """The second step of a login: the password was right, the TOTP code is still owed."""

    __tablename__ = "login_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_path: Mapped[str] = mapped_column(String(500), default="/")
