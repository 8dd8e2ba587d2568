"""Tables of the linkage capability (registered on the shared metadata by dragonnet.storage.schema).

Everything here points at parties, so it is nominal-derived: readers go through `dragonnet.linkage.service`,
which filters by the access policy (a user sees a link, a cluster member or a match notice only where it
may see the parties involved).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dragonnet.storage.models import Base, utcnow

__all__ = [
    "Base", "DeclarationMatch", "DisclosureRequest", "LinkDecision", "LinkageRun", "PartyCluster", "PprlMatch",
    "ProposedLink", "ScreeningNotice", "ThresholdAdoption",
]  # fmt: skip


class LinkageRun(Base):
    """One entity-resolution run over an extract (`scope_agency_id` NULL: the whole database, run by the operator)."""

    __tablename__ = "linkage_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    backend: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[float] = mapped_column(Float)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    records: Mapped[int] = mapped_column(Integer, default=0)
    links: Mapped[int] = mapped_column(Integer, default=0)
    clusters: Mapped[int] = mapped_column(Integer, default=0)
    model: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ProposedLink(Base):
    """A pair the model scored at or above the run's threshold, for analysts to confirm or reject."""

    __tablename__ = "linkage_links"
    __table_args__ = (UniqueConstraint("run_id", "party_low_id", "party_high_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("linkage_runs.id", ondelete="CASCADE"), index=True)
    party_low_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    party_high_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    match_probability: Mapped[float] = mapped_column(Float)
    match_weight: Mapped[float] = mapped_column(Float)


class PartyCluster(Base):
    """A party's entity in a run: parties with the same `cluster_key` are taken for one person or company."""

    __tablename__ = "linkage_clusters"
    __table_args__ = (UniqueConstraint("run_id", "party_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("linkage_runs.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    cluster_key: Mapped[int] = mapped_column(Integer, index=True)


class DeclarationMatch(Base):
    """A case party and a declaration's importer, exporter or consignee the run's model took for one party.

    One row per case party and declaration (the best-scoring declared party of the declaration), at or above the
    run's threshold. The declared party is named by `record_key` (a hash of its role, kind, name and phone as the
    extract reads it from the batch), never in clear: its name stays in the batch's file.
    """

    __tablename__ = "linkage_declaration_matches"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("linkage_runs.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("targeting_batches.id", ondelete="CASCADE"), index=True)
    declaration_id: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # the declared party's role as a case party's: consignee | consignor
    record_key: Mapped[str] = mapped_column(String(64))
    match_probability: Mapped[float] = mapped_column(Float)


class LinkDecision(Base):
    """An analyst's decision on a pair of parties: `confirm` or `reject`; the next run respects it."""

    __tablename__ = "linkage_decisions"
    __table_args__ = (UniqueConstraint("party_low_id", "party_high_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    party_low_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    party_high_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(8))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class PprlMatch(Base):
    """The hub's finding that two agencies' encoded parties likely are one (no name ever reached the hub).

    Its id is the number of the match notice both agencies receive (hit / no hit): a pair matched again by a
    later run keeps its row, so a notice keeps its number and its disclosure requests.
    """

    __tablename__ = "linkage_pprl_matches"
    __table_args__ = (UniqueConstraint("party_a_id", "party_b_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    party_a_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    party_b_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    case_a_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    case_b_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency_a_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    agency_b_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    dice: Mapped[float] = mapped_column(Float)
    matched_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ScreeningNotice(Base):
    """A screening's hit on a record the screener may not see: "agency X holds a record matching row N of your
    list" (hit / no hit), the screener's agency's notice.

    `row_data` is the row as the screener submitted it (its own input, kept for the owner to judge a request);
    `row_key` its digest: the same row matched to the same record by a later screening keeps the notice's number.
    """

    __tablename__ = "screening_notices"
    __table_args__ = (UniqueConstraint("requester_agency_id", "owner_party_id", "row_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    requester_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    owner_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    owner_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    row_key: Mapped[str] = mapped_column(String(64))
    row_number: Mapped[int] = mapped_column(Integer)  # in the latest screening that found it
    row_data: Mapped[dict[str, Any]] = mapped_column(JSON)
    list_name: Mapped[str] = mapped_column(String(255))
    found_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    first_found_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_found_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DisclosureRequest(Base):
    """One agency asks the other side of a match notice to reveal its case (the second step of the exchange).

    A request on a screening's notice (`screening_notice_id`) has no requesting party (`requester_party_id` NULL):
    the asker's side is the row of its list kept with the notice.

    `status`: pending, accepted (the owner shared the case, with its parties, under the normal sharing rules),
    declined (with the owner's reason) or lapsed (the hub no longer finds the match). The parties and the case
    are kept by id so that the request outlives a later run that drops the match (`match_id` is then NULL).
    """

    __tablename__ = "linkage_disclosure_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("linkage_pprl_matches.id", ondelete="SET NULL"),
                                                 index=True)  # fmt: skip
    requester_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    screening_notice_id: Mapped[int | None] = mapped_column(
        ForeignKey("screening_notices.id", ondelete="SET NULL"), index=True
    )
    requester_party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    owner_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"), index=True)
    owner_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    decision_reason: Mapped[str] = mapped_column(Text, default="")


class ThresholdAdoption(Base):
    """A match-probability threshold an authorised user adopted for an operation from analysts' decisions; the
    latest row of an operation is its threshold (earlier rows are its history: who, when, on what evidence)."""

    __tablename__ = "linkage_thresholds"

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), index=True)
    threshold: Mapped[float] = mapped_column(Float)
    rule: Mapped[str] = mapped_column(String(32))  # best_f1 | precision_target | chosen
    precision_target: Mapped[float | None] = mapped_column(Float)
    decisions: Mapped[int] = mapped_column(Integer)  # labelled pairs the curve was computed on
    precision: Mapped[float | None] = mapped_column(Float)  # at the adopted threshold, on those decisions
    recall: Mapped[float | None] = mapped_column(Float)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("linkage_runs.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    adopted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
