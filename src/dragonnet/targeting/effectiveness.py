"""Per-profile effectiveness: what each risk profile selected, what inspections found, against random and the model.

Counting rule (over the declarations of one period and office):
- *selected*: declarations the profile fired on, evaluated as it would have fired on the day (party history from
  strictly earlier days, the profile's validity period);
- *inspected*: of those, the ones with a known outcome (an inspection result recorded by an officer, or the
  outcome in the imported file); *found*: outcome 1 (seizure / irregularity);
- *hit rate* = found / inspected, with a 95 % Wilson score interval;
- *lift over random* = hit rate / the baseline rate, the share found among all inspected declarations of the
  period and office (unbiased only when the inspections were not targeted, e.g. every declaration inspected;
  the report says which);
- *the model at the same inspection rate*: the model's `selected` highest-scored declarations of the same
  period and office, and the hit rate among those inspected; *lift over the model* = the profile's hit rate /
  the model's. A profile below 1 finds less than the model would with the same number of inspections.
- *lane outcomes*: hit rates of the red lane (risk-selected), the yellow lane and the random draws of the
  targeting lists in the period and office; the random draws are a uniform sample of the green lane
  (`lanes.assign`), so theirs is the unbiased estimate of the fraud rate among declarations released unchecked.

All counting is vectorised (numpy over the fired masks, DuckDB upstream); `tests/targeting/test_effectiveness.py`
checks every figure against an independent row-by-row count.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dragonnet.i18n import Percent, translatable
from dragonnet.targeting import lanescore
from dragonnet.targeting.features import mask_count
from dragonnet.targeting.profiles import Profile, ProfileSet

if TYPE_CHECKING:  # pandas takes ~0.4 s to load: imported where used, not by every process that imports this
    import pandas as pd

Z95 = 1.959963984540054
DEFAULT_MIN_INSPECTIONS = 30


@dataclass(frozen=True)
class Rate:
    """found of inspected, with the 95 % Wilson score interval."""

    inspected: int
    found: int

    @property
    def rate(self) -> float | None:
        return self.found / self.inspected if self.inspected else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.found, self.inspected)

    def as_dict(self) -> dict[str, Any]:
        ci = self.interval
        return {"inspected": self.inspected, "found": self.found, "rate": _r(self.rate),
                "ci_low": _r(ci[0]) if ci else None, "ci_high": _r(ci[1]) if ci else None}  # fmt: skip


def wilson(found: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    if n <= 0:
        return None
    p = found / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


@dataclass(frozen=True)
class ReviewState:
    """What the review cycle knows of a stored profile (absent for a profile read from a file)."""

    status: str = "active"  # active | retired (the dates are the profile's own: review_by, valid_to)
    version: int | None = None


@dataclass(frozen=True)
class ProfileFigures:
    profile: Profile
    selected: int
    declarations: int
    hits: Rate
    model: Rate | None  # the model's top `selected` declarations (None without a model)
    baseline: float | None
    weight: lanescore.WeightUsed
    review: ReviewState
    flags: list[str] = field(default_factory=list)

    @property
    def selection_rate(self) -> float | None:
        return self.selected / self.declarations if self.declarations else None

    @property
    def lift_random(self) -> float | None:
        return _ratio(self.hits.rate, self.baseline)

    @property
    def lift_model(self) -> float | None:
        return _ratio(self.hits.rate, self.model.rate) if self.model else None

    def as_dict(self) -> dict[str, Any]:
        p = self.profile
        return {
            "id": p.id, "name": p.name, "owner": p.owner, "mandatory": p.mandatory, "status": self.review.status,
            "review_by": p.review_by.isoformat() if p.review_by else None,
            "expires": p.valid_to.isoformat() if p.valid_to else None, "responsible": p.responsible,
            "version": self.review.version, "selected": self.selected, "selection_rate": _r(self.selection_rate),
            **{k: v for k, v in self.hits.as_dict().items() if k != "rate"}, "hit_rate": _r(self.hits.rate),
            "lift_random": _r(self.lift_random, 3), "model": self.model.as_dict() if self.model else None,
            "lift_model": _r(self.lift_model, 3), "weight": self.weight.as_dict(), "flags": self.flags,
        }  # fmt: skip


@dataclass(frozen=True)
class ModelInfo:
    version_id: int | None
    trained_to: dt.date | None
    overlaps: bool  # trained on outcomes of the period: its figures are optimistic (in-sample)


@dataclass(frozen=True)
class Report:
    date_from: dt.date | None
    date_to: dt.date | None
    office: str | None
    declarations: int
    inspected: Rate
    every_declaration_inspected: bool
    lanes: dict[str, Rate]  # red (risk-selected), yellow, random (the green lane's unbiased estimate)
    model: ModelInfo | None
    floor: float | None
    min_inspections: int
    profiles: list[ProfileFigures]

    @property
    def baseline_basis(self) -> str:
        if self.every_declaration_inspected:
            return "every declaration of the period was inspected: the baseline is the fraud rate"
        return ("share found among the inspected declarations only: targeted inspections make it higher than "
                "the fraud rate of all declarations (see the random draws for the green lane)")  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {"from": self.date_from.isoformat() if self.date_from else None,
                       "to": self.date_to.isoformat() if self.date_to else None},
            "office": self.office, "declarations": self.declarations, "baseline": self.inspected.as_dict(),
            "baseline_basis": self.baseline_basis,
            "lanes": {k: v.as_dict() for k, v in self.lanes.items()},
            "model": None if self.model is None else {
                "version_id": self.model.version_id,
                "trained_to": self.model.trained_to.isoformat() if self.model.trained_to else None,
                "in_sample": self.model.overlaps},
            "floor": _r(self.floor), "min_inspections": self.min_inspections,
            "profiles": [p.as_dict() for p in self.profiles],
        }  # fmt: skip


def model_at_rate(model_p: np.ndarray, labels: np.ndarray, ids: np.ndarray, counts: list[int]) -> list[Rate]:
    """For each count s, the model's s highest-scored rows: how many have an outcome and how many were found.

    Ties in the score are broken by the declaration id (a fixed, reproducible order)."""
    order = np.lexsort((ids, -np.asarray(model_p, dtype=np.float64)))
    known = ~np.isnan(labels[order])
    found = np.nan_to_num(labels[order]) == 1
    cum_known = np.concatenate([[0], np.cumsum(known)])
    cum_found = np.concatenate([[0], np.cumsum(found & known)])
    return [Rate(int(cum_known[s]), int(cum_found[s])) for s in counts]


def profile_figures(
    frame: pd.DataFrame,
    profiles: ProfileSet,
    model_p: np.ndarray | None,
    lane: lanescore.LaneWeights | None,
) -> tuple[list[tuple[Profile, int, Rate, Rate | None, lanescore.WeightUsed]], Rate]:
    """Selected / inspected / found per profile, the model at the same count, and the baseline (all rows).

    `frame`: one row per declaration of the period and office, with `label` (NaN: not inspected) and the
    `mask_*` columns of `ProfileSet.mask_sql`."""
    import pandas as pd

    labels = pd.to_numeric(frame["label"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    known = ~np.isnan(labels)
    found = known & (np.nan_to_num(labels) == 1)
    masks = [frame[f"mask_{i}"].to_numpy(dtype=np.int64) for i in range(mask_count(profiles))]
    fired = lanescore.fired_columns(masks, len(profiles.profiles))
    selected = [int(col.sum()) for col in fired]
    model_rates: list[Rate] | None = None
    if model_p is not None and len(frame):
        model_rates = model_at_rate(model_p, labels, frame["declaration_id"].astype(str).to_numpy(), selected)
    rows = []
    for i, (profile, col) in enumerate(zip(profiles.profiles, fired, strict=True)):
        hits = Rate(int((col & known).sum()), int((col & found).sum()))
        model = model_rates[i] if model_rates is not None else None
        rows.append((profile, selected[i], hits, model, lanescore.weight_used(profile, lane)))
    return rows, Rate(int(known.sum()), int(found.sum()))


def review_flags(
    profile: Profile, review: ReviewState, hits: Rate, *, floor: float | None, min_inspections: int, today: dt.date
) -> list[str]:
    """Why the review cycle wants this profile looked at (empty: nothing to do)."""
    # English strings (API, CLI) that pages show translated, their dates and rates in the reader's form.
    flags: list[str] = []
    if review.status != "active":
        flags.append(translatable("retired") if review.status == "retired" else review.status)
    if profile.review_by is None:
        flags.append(translatable("no review date"))
    elif profile.review_by <= today:
        flags.append(translatable("review due since %(date)s", date=profile.review_by))
    if profile.valid_to is not None and profile.valid_to < today:
        flags.append(translatable("expired on %(date)s", date=profile.valid_to))
    rate = hits.rate
    if floor is not None and rate is not None and hits.inspected >= min_inspections and rate < floor:
        flags.append(translatable("hit rate %(rate)s below the floor %(floor)s over %(n)s inspections",
                                  rate=Percent(rate), floor=Percent(floor), n=hits.inspected))  # fmt: skip
    return flags


def build_report(
    frame: pd.DataFrame,
    profiles: ProfileSet,
    *,
    model_p: np.ndarray | None,
    lane: lanescore.LaneWeights | None,
    model: ModelInfo | None,
    lanes: dict[str, Rate],
    reviews: dict[str, ReviewState],
    date_from: dt.date | None,
    date_to: dt.date | None,
    office: str | None,
    floor: float | None,
    min_inspections: int,
    today: dt.date,
) -> Report:
    """The report over `frame` (already restricted to the period and office). Without an explicit `floor`,
    the floor is the baseline: a profile that finds no more than inspecting at random is flagged."""
    rows, baseline = profile_figures(frame, profiles, model_p, lane)
    floor_used = floor if floor is not None else baseline.rate
    out = []
    for profile, selected, hits, model_rate, weight in rows:
        review = reviews.get(profile.id, ReviewState())
        flags = review_flags(profile, review, hits, floor=floor_used, min_inspections=min_inspections, today=today)
        out.append(ProfileFigures(profile, selected, len(frame), hits, model_rate, baseline.rate, weight, review,
                                  flags))  # fmt: skip
    every = bool(len(frame)) and baseline.inspected == len(frame)
    return Report(date_from, date_to, office, len(frame), baseline, every, lanes, model, floor_used,
                  min_inspections, out)  # fmt: skip
