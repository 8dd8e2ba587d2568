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

from dragonnet.hooks import Table, TableColumn, hookimpl
from dragonnet.messaging.alerts import is_overdue
from dragonnet.policy.access import Actor, Hidden
from dragonnet.policy.messaging import may_see_turnaround
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
    actor: Actor | None,
    operation_id: int,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    now: dt.datetime | None = None,
) -> list[AgencyTurnaround]:
    """Per recipient agency, ordered by agency code (see COUNTING_RULE), for `actor` if they may see it
    (`policy.messaging.may_see_turnaround`: members; None is the operator); else Hidden."""
    if actor is not None and not may_see_turnaround(actor):
        raise Hidden(actor, "alert_turnaround", operation_id)
    return turnaround_rows(session, operation_id, since=since, until=until, now=now)


def turnaround_rows(
    session: Session,
    operation_id: int,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    now: dt.datetime | None = None,
) -> list[AgencyTurnaround]:
    """The figures themselves, for a caller that applied its own rule (the debrief's scopes)."""
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


@hookimpl
def debrief_breakdowns(session: Session, operation_id: int, since: dt.date, until: dt.date) -> Table:
    """The turnaround as one of the debrief's breakdowns (alerts raised in the phase).

    About agencies' responsiveness, not about the alerts: it names no alert, so whoever may compute the
    debrief's non-public figures sees it; the public summary leaves it out.
    """

    def hours(value: dt.timedelta | None) -> float | None:
        return None if value is None else round(value.total_seconds() / 3600, 1)

    rows = turnaround_rows(session, operation_id, since=since, until=until)
    return Table(
        key="alert_turnaround",
        title="Alert turnaround by recipient agency",
        columns=(
            TableColumn("agency", "Agency"),
            TableColumn("received", "Alerts received", "count"),
            TableColumn("acknowledged", "Acknowledged", "count"),
            TableColumn("answered", "Answered", "count"),
            TableColumn("seizures", "Seizures reported", "count"),
            TableColumn("overdue", "Overdue, not acknowledged", "count"),
            TableColumn("median_ack_h", "Median hours to acknowledge", "amount"),
            TableColumn("median_answer_h", "Median hours to answer", "amount"),
        ),
        rows=tuple(
            (
                r.agency_code,
                r.received,
                r.acknowledged,
                r.answered,
                r.seizures,
                r.overdue_open,
                hours(r.median_ack),
                hours(r.median_answer),
            )
            for r in rows
        ),
        note=f"Counting rule: {COUNTING_RULE}.",
        public=False,
    )
