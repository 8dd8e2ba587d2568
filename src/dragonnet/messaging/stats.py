"""Alert-to-result turnaround per recipient agency: median time to acknowledge and to answer.

Counting rule: every (alert, recipient agency) pair of the operation raised in the period; an agency's
median acknowledgement time is over the pairs it acknowledged, its median answer time over those it
answered (from the moment it became a recipient). These are figures about agencies' responsiveness, not
about the alerts' content: they name no alert and carry no identifier.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.storage.messaging_models import Alert, AlertRecipient
from dragonnet.storage.models import Agency, utcnow

COUNTING_RULE = (
    "every alert of the operation raised in the period, once per recipient agency; medians over the alerts the "
    "agency acknowledged or answered, measured from the moment it became a recipient"
)


@dataclass(frozen=True)
class AgencyTurnaround:
    agency_code: str
    agency_name: str
    received: int
    acknowledged: int
    answered: int
    seizures: int
    overdue_open: int
    median_ack: dt.timedelta | None
    median_answer: dt.timedelta | None


def _median(values: list[dt.timedelta]) -> dt.timedelta | None:
    if not values:
        return None
    return dt.timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def turnaround(
    session: Session,
    operation_id: int,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    now: dt.datetime | None = None,
) -> list[AgencyTurnaround]:
    """Per recipient agency, ordered by agency code (see COUNTING_RULE)."""
    from dragonnet.messaging.alerts import is_overdue

    now = now or utcnow()
    query = (
        select(Alert, AlertRecipient, Agency)
        .join(AlertRecipient, AlertRecipient.alert_id == Alert.id)
        .join(Agency, Agency.id == AlertRecipient.agency_id)
        .where(Alert.operation_id == operation_id)
    )
    if since:
        query = query.where(Alert.created_at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    if until:
        query = query.where(Alert.created_at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC))
    acks: dict[str, list[dt.timedelta]] = {}
    answers: dict[str, list[dt.timedelta]] = {}
    counts: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for alert, rec, agency in session.execute(query).all():
        code = agency.code
        names[code] = agency.name
        c = counts.setdefault(code, [0, 0, 0, 0, 0])
        c[0] += 1
        if rec.acknowledged_at is not None:
            c[1] += 1
            acks.setdefault(code, []).append(rec.acknowledged_at - rec.added_at)
        elif is_overdue(alert, rec, now):
            c[4] += 1
        if rec.answered_at is not None:
            c[2] += 1
            answers.setdefault(code, []).append(rec.answered_at - rec.added_at)
            if rec.result == "seizure_made":
                c[3] += 1
    return [
        AgencyTurnaround(
            code, names[code], c[0], c[1], c[2], c[3], c[4], _median(acks.get(code, [])), _median(answers.get(code, []))
        )
        for code, c in sorted(counts.items())
    ]


def format_duration(value: dt.timedelta | None) -> str:
    if value is None:
        return "–"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} d {hours % 24} h"
