"""An operation's adopted match threshold (`linkage_thresholds`): the latest adoption, and the history.

Read by the screening and the resolution run (their default threshold) and by the calibration page; adopted
through `linkage.service.adopt_threshold` only."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.storage.linkage_models import ThresholdAdoption


def adopted(session: Session, operation_id: int) -> ThresholdAdoption | None:
    """The operation's current threshold (its latest adoption), or None: the defaults apply."""
    return session.execute(
        select(ThresholdAdoption)
        .where(ThresholdAdoption.operation_id == operation_id)
        .order_by(ThresholdAdoption.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def history(session: Session, operation_id: int, *, limit: int = 20) -> list[ThresholdAdoption]:
    return list(
        session.execute(
            select(ThresholdAdoption)
            .where(ThresholdAdoption.operation_id == operation_id)
            .order_by(ThresholdAdoption.id.desc())
            .limit(limit)
        ).scalars()
    )


def operation_threshold(session: Session, operation_id: int) -> float | None:
    """The threshold adopted for the operation, or None (the caller's default applies)."""
    row = adopted(session, operation_id)
    return row.threshold if row is not None else None
