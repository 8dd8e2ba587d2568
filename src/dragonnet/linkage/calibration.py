"""Calibrated thresholds: the match probability's threshold of an operation, chosen from analysts' decisions.

Analysts confirm or reject proposed links (`review.decide`). Joined to the match probabilities of the latest
resolution run, those decisions are a labelled sample: at a threshold t, a confirmed pair scored at or above t is
a true positive, a rejected one a false positive, a confirmed pair below t (or not proposed by the run at all) a
miss. The precision/recall curve is counted by DuckDB over the decided pairs (one point per distinct probability,
cumulative counts by window functions), never by a Python loop.

The run stores pairs from min(its threshold, 0.5) up, so the curve starts there: a decided pair the run did not
store scored below that floor (or was never compared) and is a predicted "no" at every threshold of the curve.

Suggested thresholds: the one with the best F1 on the decisions, and the lowest one reaching a precision target
the analyst chooses (the most recall at that precision). Fewer than `MIN_DECISIONS` decisions, no confirmation or
no rejection: the curve says nothing trustworthy, no threshold is suggested and none can be adopted.

Which decisions count is the reader's extract: pairs of parties of the operation's cases the reader may see
(`extract`), so the counts never reveal a pair the reader could not open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.linkage.extract import extract
from dragonnet.linkage.resolution import latest_run
from dragonnet.linkage.thresholds import adopted, history, operation_threshold
from dragonnet.policy.access import Actor
from dragonnet.storage.linkage_models import LinkageRun, LinkDecision, ProposedLink
from dragonnet.storage.scratch import scratch

MIN_DECISIONS = 20  # fewer labelled pairs: the curve is noise and the default threshold stays
STORED_FLOOR = 0.5  # a run stores the pairs from min(its threshold, 0.5) up (resolve.train_and_predict)
RULES = ("best_f1", "precision_target", "chosen")
PROBLEMS = {
    "no_run": "no resolution run yet: run `dragonnet linkage run` first",
    "no_confirmed": "no confirmed link among the decisions",
    "no_rejected": "no rejected link among the decisions",
    "none_scored": "no decided pair was scored by the latest run",
}
__all__ = ["MIN_DECISIONS", "RULES", "Calibration", "CurvePoint", "adopted", "calibrate", "curve", "history",
           "operation_threshold"]  # fmt: skip


@dataclass(frozen=True)
class CurvePoint:
    threshold: float  # pairs scored at or above it are predicted matches
    true_positives: int
    false_positives: int
    precision: float
    recall: float
    f1: float

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "true_positives": self.true_positives,
                "false_positives": self.false_positives, "precision": self.precision, "recall": self.recall,
                "f1": self.f1}  # fmt: skip


@dataclass
class Calibration:
    """The decisions of an operation a reader may see, joined to the latest run's probabilities, and the curve."""

    run_id: int | None
    floor: float  # the lowest probability the run stored: the curve's lowest threshold
    confirmed: int
    rejected: int
    unscored: int  # decided pairs the run did not store (scored below the floor, or never compared)
    points: list[CurvePoint] = field(default_factory=list)  # highest threshold first

    @property
    def decisions(self) -> int:
        return self.confirmed + self.rejected

    @property
    def problem_code(self) -> str | None:
        """Why no threshold can be suggested from these decisions, as a code the pages word (None: it can)."""
        if self.run_id is None:
            return "no_run"
        if self.decisions < MIN_DECISIONS:
            return "too_few"
        if not self.confirmed:
            return "no_confirmed"
        if not self.rejected:
            return "no_rejected"
        if not self.points:
            return "none_scored"
        return None

    @property
    def problem(self) -> str | None:
        """`problem_code` in words (the CLI's and the API's English)."""
        code = self.problem_code
        if code == "too_few":
            return f"too few decisions: {self.decisions} of at least {MIN_DECISIONS}"
        return PROBLEMS[code] if code else None

    def best_f1(self) -> CurvePoint | None:
        """The point with the best F1 (ties: the higher threshold), or None when the decisions do not allow."""
        if self.problem:
            return None
        return max(self.points, key=lambda p: (p.f1, p.threshold))

    def for_precision(self, target: float) -> CurvePoint | None:
        """The lowest threshold whose precision reaches `target` (the most recall at that precision), or None."""
        if self.problem:
            return None
        reaching = [p for p in self.points if p.precision >= target]
        return max(reaching, key=lambda p: (p.recall, p.threshold)) if reaching else None

    def at(self, threshold: float) -> CurvePoint:
        """Counts at any threshold (the curve's point at or just above it; nothing predicted above the top)."""
        above = [p for p in self.points if p.threshold >= threshold]
        if above:
            p = above[-1]
            return CurvePoint(threshold, p.true_positives, p.false_positives, p.precision, p.recall, p.f1)
        return CurvePoint(threshold, 0, 0, 0.0, 0.0, 0.0)


def _decided_table(session: Session, actor: Actor, operation_id: int, run: LinkageRun | None) -> pa.Table:
    """The decided pairs of visible parties of the operation: (confirmed, probability or null)."""
    visible = set(extract(session, actor, operation_id=operation_id).parties)
    decided = [
        (a, b, d)
        for a, b, d in session.execute(
            select(LinkDecision.party_low_id, LinkDecision.party_high_id, LinkDecision.decision)
        )
        if a in visible and b in visible
    ]
    scores: dict[tuple[int, int], float] = {}
    if run is not None and decided:
        keys = {(a, b) for a, b, _d in decided}
        lows = sorted({a for a, _b in keys})
        for a, b, p in session.execute(
            select(ProposedLink.party_low_id, ProposedLink.party_high_id, ProposedLink.match_probability).where(
                ProposedLink.run_id == run.id, ProposedLink.party_low_id.in_(lows)
            )
        ):
            if (a, b) in keys:
                scores[(a, b)] = p
    return pa.table(
        {
            "confirmed": pa.array([d == "confirm" for _a, _b, d in decided], pa.bool_()),
            "p": pa.array([scores.get((a, b)) for a, b, _d in decided], pa.float64()),
        }
    )


CURVE_SQL = """
    WITH by_p AS (
        SELECT p, count(*) FILTER (WHERE confirmed) AS tp, count(*) FILTER (WHERE NOT confirmed) AS fp
        FROM decided WHERE p IS NOT NULL GROUP BY p
    ),
    cumulative AS (
        SELECT p,
               sum(tp) OVER (ORDER BY p DESC ROWS UNBOUNDED PRECEDING) AS tp,
               sum(fp) OVER (ORDER BY p DESC ROWS UNBOUNDED PRECEDING) AS fp
        FROM by_p
    )
    SELECT p, tp, fp,
           tp / (tp + fp) AS precision,
           CASE WHEN $positives > 0 THEN tp / $positives ELSE 0 END AS recall
    FROM cumulative ORDER BY p DESC
"""


def curve(decided: pa.Table) -> list[CurvePoint]:
    """Precision and recall at each distinct probability of the decided pairs (highest first), in DuckDB."""
    positives = int(decided.column("confirmed").to_pylist().count(True)) if decided.num_rows else 0
    con = scratch()
    try:
        con.register("decided", decided)
        rows = con.execute(CURVE_SQL, {"positives": positives}).fetchall()
    finally:
        con.close()
    out = []
    for p, tp, fp, precision, recall in rows:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out.append(CurvePoint(float(p), int(tp), int(fp), float(precision), float(recall), f1))
    return out


def calibrate(session: Session, actor: Actor, operation_id: int) -> Calibration:
    """The curve of an operation from the decisions `actor` may see (no policy check here: the door checks)."""
    run = latest_run(session)
    decided = _decided_table(session, actor, operation_id, run)
    confirmed = decided.column("confirmed").to_pylist().count(True)
    unscored = decided.column("p").null_count
    floor = min(run.threshold, STORED_FLOOR) if run is not None else STORED_FLOOR
    return Calibration(run.id if run else None, floor, confirmed, decided.num_rows - confirmed, unscored,
                       curve(decided))  # fmt: skip
