"""The linkage capability's door: what web pages, the API and the CLI call, and nothing deeper.

The work lives in the stage modules: `resolution` (the operator's Splink run, links, networks),
`declaration_links` (cases x shipment declarations), `review` (analysts' confirm/reject decisions), `privacy`
(the privacy-preserving run) and `disclosure` (its match notices: hit / no hit, and the requests that reveal
the other side with its owner's consent, `policy.matches`). Every read for a user starts from `extract(session, actor)`;
the readers here that show party names (`read_networks`, `read_network`, `read_declaration_links`,
`read_link_review`) take the purpose and write the `nominal.read` audit entry themselves, so no door can show
names without the trace. The operator (actor None, a CLI without --as) is audited as the system.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from dragonnet.errors import ValidationError
from dragonnet.linkage.calibration import MIN_DECISIONS, RULES, Calibration, CurvePoint, adopted, calibrate, history
from dragonnet.linkage.declaration_links import (
    EVIDENCE_KINDS,
    EVIDENCE_LABELS,
    LEAD_KINDS,
    CaseDeclarationLink,
    DeclarationLinks,
    Evidence,
    declaration_code_links,
    declaration_links_for,
    declaration_model_links,
)
from dragonnet.linkage.disclosure import (
    REASON_MAX,
    REASON_MIN,
    MatchNotice,
    RequestView,
    Revealed,
    decide_request,
    match_notice,
    match_notices,
    request_disclosure,
)
from dragonnet.linkage.extract import Extract, extract
from dragonnet.linkage.networks import Network
from dragonnet.linkage.privacy import demo_secret, encode_agency, run_pprl
from dragonnet.linkage.resolution import (
    DECLARATION_ID_MAX,
    decisions,
    declaration_record_key,
    latest_run,
    networks_for,
    party_links,
    run_resolution,
)
from dragonnet.linkage.resolve import DEFAULT_THRESHOLD as RESOLUTION_THRESHOLD
from dragonnet.linkage.review import DECISIONS, LinkRow, decide, review_links
from dragonnet.linkage.screening.matching import DEFAULT_THRESHOLD as SCREENING_THRESHOLD
from dragonnet.linkage.screening.notices import ScreeningNoticeView, screening_notice, screening_notices
from dragonnet.linkage.screening.notices import request_disclosure as request_screening_disclosure
from dragonnet.operation.service import get_operation
from dragonnet.policy import audit
from dragonnet.policy.access import (
    Actor,
    Hidden,
    PermissionDenied,
    audit_actor,
    may_adopt_threshold,
    may_calibrate,
)
from dragonnet.storage.linkage_models import ThresholdAdoption

__all__ = [
    "AUDITED_IDS_MAX",
    "DECISIONS",
    "DECLARATION_ID_MAX",
    "EVIDENCE_KINDS",
    "EVIDENCE_LABELS",
    "LEAD_KINDS",
    "MIN_DECISIONS",
    "REASON_MAX",
    "REASON_MIN",
    "RESOLUTION_THRESHOLD",
    "RULES",
    "SCREENING_THRESHOLD",
    "Calibration",
    "CaseDeclarationLink",
    "CurvePoint",
    "DeclarationLinks",
    "Evidence",
    "Extract",
    "LinkRow",
    "MatchNotice",
    "Network",
    "NetworksRead",
    "RequestView",
    "Revealed",
    "ScreeningNoticeView",
    "ThresholdAdoption",
    "ThresholdView",
    "adopt_threshold",
    "adoption_json",
    "decide",
    "decide_request",
    "decisions",
    "declaration_code_links",
    "declaration_links_for",
    "declaration_model_links",
    "declaration_record_key",
    "demo_secret",
    "encode_agency",
    "extract",
    "latest_run",
    "match_notice",
    "match_notices",
    "networks_for",
    "party_links",
    "read_declaration_links",
    "read_link_review",
    "read_network",
    "read_networks",
    "read_notice",
    "read_notices",
    "read_screening_notice",
    "read_screening_notices",
    "read_threshold",
    "request_disclosure",
    "request_screening_disclosure",
    "review_links",
    "run_pprl",
    "run_resolution",
]  # fmt: skip

AUDITED_IDS_MAX = 500  # ids listed in one audit entry (the entry says how many more were shown)


def _record_nominal(
    session: Session, actor: Actor | None, object_type: str, purpose: str, **ids: Iterable[int | str]
) -> None:
    lists = {name: sorted(set(values)) for name, values in ids.items()}
    if not any(lists.values()):
        return
    detail: dict[str, object] = {name: values[:AUDITED_IDS_MAX] for name, values in lists.items()}
    detail.update({f"{name}_more": len(v) - AUDITED_IDS_MAX for name, v in lists.items() if len(v) > AUDITED_IDS_MAX})
    who = audit.SYSTEM if actor is None else audit_actor(actor)
    audit.record(session, who, "nominal.read", object_type, None, **detail, purpose=purpose)


def _party_ids(networks: Sequence[Network]) -> list[int]:
    return [int(e.key.split(":", 1)[1]) for n in networks for e in n.entities if e.key.startswith("party:")]


@dataclass(frozen=True)
class NetworksRead:
    extract: Extract
    networks: list[Network]  # the ones shown (filtered, at most `limit`)
    total: int  # every network before the filters


def read_networks(
    session: Session, actor: Actor | None, *, purpose: str, operation_id: int | None = None, hub: bool = False,
    min_countries: int = 1, limit: int | None = None,
) -> NetworksRead:  # fmt: skip
    """Networks `actor` may see, at least `min_countries` wide, the first `limit`; party names appear as entity
    labels, so the read is audited (`nominal.read` on `linkage_networks`). The hub's view holds no names."""
    ex, nets = networks_for(session, actor, operation_id=operation_id, hub=hub)
    shown = [n for n in nets if len(n.countries) >= min_countries][:limit]
    if not hub:
        _record_nominal(session, actor, "linkage_networks", purpose, parties=_party_ids(shown))
    return NetworksRead(ex, shown, len(nets))


def read_network(
    session: Session, actor: Actor, *, operation_id: int, number: int, purpose: str
) -> tuple[Extract, Network]:
    """Network `number` (1-based, as `read_networks` numbers them) or Hidden; audited like `read_networks`."""
    ex, nets = networks_for(session, actor, operation_id=operation_id)
    if not 1 <= number <= len(nets):
        raise Hidden(actor, "network", number)
    network = nets[number - 1]
    _record_nominal(session, actor, "linkage_networks", purpose, parties=_party_ids([network]))
    return ex, network


def read_declaration_links(
    session: Session, actor: Actor | None, *, operation_id: int, purpose: str, kind: str | None = None,
    office: str | None = None, limit: int | None = None,
) -> tuple[DeclarationLinks, list[CaseDeclarationLink]]:  # fmt: skip
    """`declaration_links_for`, and the first `limit` rows to show; declared and case parties' names and phones
    are evidence, so the rows shown are audited (`nominal.read` on `linkage_declaration_links`)."""
    found = declaration_links_for(session, actor, operation_id=operation_id, kind=kind, office=office)
    shown = found.rows[:limit]
    _record_nominal(session, actor, "linkage_declaration_links", purpose,
                    parties=[p for r in shown for p in r.case_parties],
                    declarations=[r.declaration for r in shown])  # fmt: skip
    return found, shown


def _notice_parties(notices: Sequence[MatchNotice]) -> list[int]:
    """The parties a list of notices names: the reader's own, and the other side's where revealed."""
    return [n.party_id for n in notices] + [n.revealed.party_id for n in notices if n.revealed]


def read_link_review(
    session: Session, actor: Actor, *, purpose: str, limit: int = 200
) -> tuple[list[LinkRow], list[MatchNotice]]:
    """The links to review and the privacy-preserving run's notices for `actor`'s agency, audited as one read."""
    rows = review_links(session, actor, limit=limit)
    notices = match_notices(session, actor)
    parties = [p.id for r in rows for p in (r.left, r.right)] + _notice_parties(notices)
    _record_nominal(session, actor, "linkage_links", purpose, parties=parties)
    return rows, notices


def read_notices(session: Session, actor: Actor, *, purpose: str) -> list[MatchNotice]:
    """The match notices of `actor`'s agency (hit / no hit; the other side where its owner agreed), audited
    (`nominal.read` on `linkage_notices`: they name the reader's parties)."""
    notices = match_notices(session, actor)
    _record_nominal(session, actor, "linkage_notices", purpose, parties=_notice_parties(notices))
    return notices


def read_notice(session: Session, actor: Actor, notice_id: int, *, purpose: str) -> MatchNotice:
    """One notice of `actor`'s agency, or Hidden; audited like `read_notices`."""
    notice = match_notice(session, actor, notice_id)
    _record_nominal(session, actor, "linkage_notices", purpose, parties=_notice_parties([notice]))
    return notice


def read_screening_notices(session: Session, actor: Actor, *, purpose: str) -> list[ScreeningNoticeView]:
    """The screening notices of `actor`'s agency (its screenings' hits on records it may not see, and the requests
    made to it), audited (`nominal.read` on `screening_notices`: they name the revealed or the owner's parties)."""
    found = screening_notices(session, actor)
    _record_nominal(session, actor, "screening_notices", purpose, notices=[n.id for n in found])
    return found


def read_screening_notice(session: Session, actor: Actor, notice_id: int, *, purpose: str) -> ScreeningNoticeView:
    """One screening notice of `actor`'s agency, or Hidden; audited like `read_screening_notices`."""
    found = screening_notice(session, actor, notice_id)
    _record_nominal(session, actor, "screening_notices", purpose, notices=[found.id])
    return found


# --- calibrated thresholds --------------------------------------------------------------------------------------

MAX_THRESHOLD = 0.9999  # a threshold is below 1: a curve point at probability 1.0 is adopted as this


@dataclass(frozen=True)
class ThresholdView:
    """An operation's threshold: the curve from the decisions the reader may see, what is adopted, its history."""

    operation: str
    calibration: Calibration
    current: ThresholdAdoption | None
    history: list[ThresholdAdoption]
    precision_target: float | None
    for_target: CurvePoint | None  # the suggestion for `precision_target` (None without one, or none reaches it)

    @property
    def screening_threshold(self) -> float:
        """What a screening of the operation uses without --threshold."""
        return self.current.threshold if self.current else SCREENING_THRESHOLD

    @property
    def resolution_threshold(self) -> float:
        """What `linkage run --operation` uses without --threshold."""
        return self.current.threshold if self.current else RESOLUTION_THRESHOLD

    def to_json(self) -> dict[str, Any]:
        c = self.calibration
        best, current = c.best_f1(), self.current
        return {
            "operation": self.operation, "run": c.run_id, "decisions": c.decisions, "confirmed": c.confirmed,
            "rejected": c.rejected, "unscored": c.unscored, "floor": c.floor, "min_decisions": MIN_DECISIONS,
            "problem": c.problem, "curve": [p.to_dict() for p in c.points],
            "suggested": {"best_f1": best.to_dict() if best else None,
                          "precision_target": self.precision_target,
                          "for_precision_target": self.for_target.to_dict() if self.for_target else None},
            "adopted": adoption_json(current) if current else None,
            "screening_threshold": self.screening_threshold, "resolution_threshold": self.resolution_threshold,
            "history": [adoption_json(a) for a in self.history],
        }  # fmt: skip


def adoption_json(a: ThresholdAdoption) -> dict[str, Any]:
    return {"id": a.id, "threshold": a.threshold, "rule": a.rule, "precision_target": a.precision_target,
            "decisions": a.decisions, "precision": a.precision, "recall": a.recall, "run": a.run_id,
            "user_id": a.user_id, "adopted_at": a.adopted_at.isoformat()}  # fmt: skip


def _check_target(precision_target: float | None) -> None:
    if precision_target is not None and not 0.0 < precision_target <= 1.0:
        raise ValidationError(f"the precision target must be above 0 and at most 1, not {precision_target}")


def read_threshold(
    session: Session, actor: Actor, *, operation: str, precision_target: float | None = None
) -> ThresholdView:
    """The precision/recall curve of `operation`'s match threshold from the analysts' decisions `actor` may see,
    the suggestions and the adopted threshold. Counts only (no name): not a nominal read."""
    if not may_calibrate(actor):
        raise PermissionDenied(actor, "operation", operation,
                               "only regional analysts, national coordinators and administrators see the threshold "
                               "curve")  # fmt: skip
    _check_target(precision_target)
    op = get_operation(session, operation)
    cal = calibrate(session, actor, op.id)
    target = cal.for_precision(precision_target) if precision_target is not None else None
    return ThresholdView(op.slug, cal, adopted(session, op.id), history(session, op.id), precision_target, target)


def adopt_threshold(
    session: Session, actor: Actor, *, operation: str, rule: str = "best_f1", precision_target: float | None = None,
    threshold: float | None = None,
) -> ThresholdAdoption:  # fmt: skip
    """Adopt `operation`'s match threshold from the decisions `actor` may see: the best F1 (`best_f1`), the most
    recall at `precision_target` (`precision_target`) or a `threshold` the user chose on the curve (`chosen`).
    The curve is recomputed here (what a page showed may be stale); stored with who and when, and audited."""
    if not may_adopt_threshold(actor):
        raise PermissionDenied(actor, "operation", operation,
                               "only regional analysts, national coordinators and administrators adopt an operation's "
                               "threshold")  # fmt: skip
    if rule not in RULES:
        raise ValidationError(f"rule must be one of {', '.join(RULES)}, not {rule!r}")
    _check_target(precision_target)
    op = get_operation(session, operation)
    cal = calibrate(session, actor, op.id)
    if cal.problem:
        raise ValidationError(f"no threshold can be adopted: {cal.problem}; the default stays")
    point = _chosen_point(cal, rule, precision_target, threshold)
    value = min(point.threshold, MAX_THRESHOLD)
    at = cal.at(value)
    previous = adopted(session, op.id)
    row = ThresholdAdoption(
        operation_id=op.id, threshold=value, rule=rule, precision_target=precision_target if rule != "chosen" else None,
        decisions=cal.decisions, precision=at.precision, recall=at.recall, run_id=cal.run_id, user_id=actor.user_id,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, audit_actor(actor), "linkage.threshold_adopted", "operation", op.id, threshold=value,
                 rule=rule, precision_target=row.precision_target, decisions=cal.decisions,
                 confirmed=cal.confirmed, rejected=cal.rejected, precision=round(at.precision, 6),
                 recall=round(at.recall, 6), run=cal.run_id,
                 previous=previous.threshold if previous else None)  # fmt: skip
    return row


def _chosen_point(cal: Calibration, rule: str, precision_target: float | None, threshold: float | None) -> CurvePoint:
    if rule == "best_f1":
        best = cal.best_f1()
        assert best is not None  # the decisions allow a suggestion (checked above)
        return best
    if rule == "precision_target":
        if precision_target is None:
            raise ValidationError("the precision_target rule needs a precision target")
        found = cal.for_precision(precision_target)
        if found is None:
            raise ValidationError(f"no threshold reaches precision {precision_target:g} on these decisions")
        return found
    if threshold is None or not 0.0 < threshold < 1.0:
        raise ValidationError(f"a chosen threshold must be between 0 and 1, not {threshold}")
    if threshold < cal.floor:
        raise ValidationError(f"the curve starts at {cal.floor:g} (the latest run stored no pair below it): "
                              f"choose a threshold from there")  # fmt: skip
    return cal.at(threshold)
