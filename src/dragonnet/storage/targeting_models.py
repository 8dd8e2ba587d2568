"""Tables of the targeting capability (registered on the shared metadata by dragonnet.storage.schema).

Declarations themselves live in Parquet files under the data directory (columnar, millions of rows); the
database keeps what people work with: import batches, model versions with their evaluation, targeting lists
per office and their entries with the officer's inspection result (and the draft case it opened), and the
stored risk profiles with their review cycle and the history of every change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dragonnet.storage.models import Agency, Base, User, utcnow

__all__ = [
    "Base",
    "TargetingBatch",
    "TargetingHit",
    "TargetingList",
    "TargetingModelVersion",
    "TargetingProfile",
    "TargetingProfileChange",
]


class TargetingBatch(Base):
    """One imported file of declarations, stored as one Parquet file."""

    __tablename__ = "targeting_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    source_name: Mapped[str] = mapped_column(String(300))
    source_format: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(500))
    rows: Mapped[int] = mapped_column(Integer)
    labelled: Mapped[int] = mapped_column(Integer, default=0)
    first_date: Mapped[dt.date | None] = mapped_column(Date)
    last_date: Mapped[dt.date | None] = mapped_column(Date)
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TargetingModelVersion(Base):
    """A trained LightGBM model with the evaluation made when it was trained (time-ordered hold-out)."""

    __tablename__ = "targeting_model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    train_rows: Mapped[int] = mapped_column(Integer)
    train_from: Mapped[dt.date | None] = mapped_column(Date)
    train_to: Mapped[dt.date | None] = mapped_column(Date)
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    spec: Mapped[str] = mapped_column(Text)  # feature layout (JSON, model.ModelSpec.to_json)
    booster: Mapped[str] = mapped_column(Text)  # LightGBM model_to_string()


class TargetingList(Base):
    """The declarations of one office selected for inspection (red and yellow lanes), ranked."""

    __tablename__ = "targeting_lists"
    __table_args__ = (Index("ix_targeting_lists_agency_office", "agency_id", "office_locode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))
    office_locode: Mapped[str] = mapped_column(String(16))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("targeting_batches.id"))
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("targeting_model_versions.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    declarations: Mapped[int] = mapped_column(Integer)
    red: Mapped[int] = mapped_column(Integer)
    yellow: Mapped[int] = mapped_column(Integer)
    profiles: Mapped[list[str]] = mapped_column(JSON, default=list)

    agency: Mapped[Agency] = relationship()
    hits: Mapped[list[TargetingHit]] = relationship(
        back_populates="targeting_list", order_by="TargetingHit.rank", cascade="all, delete-orphan"
    )


class TargetingHit(Base):
    """One declaration on a list: its score, why (rules fired, model contributions) and the result."""

    __tablename__ = "targeting_hits"
    __table_args__ = (UniqueConstraint("list_id", "declaration_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("targeting_lists.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    lane: Mapped[str] = mapped_column(String(8))
    random: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[float] = mapped_column(Float)
    rule_score: Mapped[float] = mapped_column(Float)
    model_score: Mapped[float | None] = mapped_column(Float)
    declaration_id: Mapped[str] = mapped_column(String(64), index=True)
    declaration_date: Mapped[dt.date] = mapped_column(Date)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    contributions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    result: Mapped[str | None] = mapped_column(String(16))
    result_note: Mapped[str | None] = mapped_column(Text)
    result_at: Mapped[dt.datetime | None] = mapped_column()
    result_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))

    targeting_list: Mapped[TargetingList] = relationship(back_populates="hits")


class TargetingProfile(Base):
    """A stored risk profile: its definition (the YAML format of targeting.profiles) and its review cycle.

    The columns beside `definition` repeat what the review cycle queries (owner, mandatory, review date,
    expiry = `valid_to`, status); `definition` is the source the profile compiles from. `version` counts the
    changes recorded in `targeting_profile_changes`.
    """

    __tablename__ = "targeting_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | retired
    review_by: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    responsible: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column()
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    agency: Mapped[Agency] = relationship()
    changes: Mapped[list[TargetingProfileChange]] = relationship(
        back_populates="profile", order_by="TargetingProfileChange.version", cascade="all, delete-orphan"
    )


class TargetingProfileChange(Base):
    """One change of a stored profile: who, when, what (field -> [before, after]), why, and the result."""

    __tablename__ = "targeting_profile_changes"
    __table_args__ = (UniqueConstraint("profile_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("targeting_profiles.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    by_name: Mapped[str] = mapped_column(String(150))
    action: Mapped[str] = mapped_column(String(16))  # created | updated | reviewed | retired | reinstated
    note: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)

    profile: Mapped[TargetingProfile] = relationship(back_populates="changes")
    by: Mapped[User | None] = relationship()
