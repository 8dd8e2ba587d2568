"""Alert-to-result turnaround per recipient agency: median time to acknowledge and to answer.

Counting rule: every (alert, recipient agency) pair of the operation raised in the period, over the alerts the
reader may see (`policy.messaging.alert_visibility`: a member never counts a RED or AMBER alert it was not sent
and did not send); an agency's median acknowledgement time is over the pairs it acknowledged, its median
answer time over those it answered (from the moment it became a recipient). These are figures about
agencies' responsiveness, not about the alerts' content: they name no alert and carry no identifier.

Disclosure control: the reader's own agency's row is exact (its own alerts); every other agency's counts are
perturbed by the cell-key method (`policy.cellkey`, keyed on the recipient pairs counted: the same figure is
the same number on the page, in the API, the CLI and the debrief) and then small-count suppressed ("<5",
None here); a median is withheld where the count it is taken over is. The operator (no reader) sees exact
figures over every alert.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.hooks import Table, TableColumn, hookimpl
from dragonnet.i18n import N_, LazyText, lazy_gettext
from dragonnet.messaging.alerts import is_overdue
from dragonnet.policy import cellkey
from dragonnet.policy.access import Actor, Hidden
from dragonnet.policy.messaging import alert_visibility, may_see_turnaround
from dragonnet.storage.messaging_models import Alert, AlertRecipient
from dragonnet.storage.models import Agency, utcnow

# A catalogue msgid: pages and the debrief show it translated (`counting_rule_text`); the CLI and API in English.
COUNTING_RULE_MSGID = N_(
    "every alert of the operation you may see, raised in the period, once per recipient agency; medians over the "
    "alerts the agency acknowledged or answered, measured from the moment it became a recipient; other agencies' "
    "counts are perturbed by a few units and counts below %(n)s are shown as '<%(n)s'"
)
COUNTING_RULE = COUNTING_RULE_MSGID % {"n": cellkey.SMALL_CELL}


def counting_rule_text() -> LazyText:
    """The counting rule, translated where it is shown."""
    return lazy_gettext(COUNTING_RULE_MSGID, n=cellkey.SMALL_CELL)


MEASURES = ("received", "acknowledged", "answered", "seizures", "overdue_open")


@dataclass(frozen=True)
class AgencyTurnaround:
    agency_code: str
    agency_name: str
    received: int | None  # None: a small count, shown "<5"
    acknowledged: int | None
    answered: int | None
    seizures: int | None
    overdue_open: int | None
    median_ack: dt.timedelta | None
    median_answer: dt.timedelta | None
    exact: bool = True  # False: counts perturbed and small ones withheld (another agency's row)


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
    return turnaround_rows(session, operation_id, since=since, until=until, now=now, actor=actor)


def turnaround_rows(
    session: Session,
    operation_id: int,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    now: dt.datetime | None = None,
    actor: Actor | None = None,
) -> list[AgencyTurnaround]:
    """The figures over the alerts `actor` may see (None: every alert, exact), for a caller that applied its
    own rule on who may read them (the debrief's scopes)."""
    now = now or utcnow()
    query = (
        select(Alert, AlertRecipient, Agency)
        .join(AlertRecipient, AlertRecipient.alert_id == Alert.id)
        .join(Agency, Agency.id == AlertRecipient.agency_id)
        .where(Alert.operation_id == operation_id)
    )
    if actor is not None:
        query = query.where(alert_visibility(actor))
    if since:
        query = query.where(Alert.created_at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    if until:
        query = query.where(Alert.created_at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC))
    acks: dict[str, list[dt.timedelta]] = {}
    answers: dict[str, list[dt.timedelta]] = {}
    pairs: dict[str, dict[str, list[int]]] = {}  # agency -> measure -> recipient-pair ids counted
    names: dict[str, str] = {}
    for alert, rec, agency in session.execute(query).all():
        code = agency.code
        names[code] = agency.name
        counted = pairs.setdefault(code, {m: [] for m in MEASURES})
        counted["received"].append(rec.id)
        if rec.acknowledged_at is not None:
            counted["acknowledged"].append(rec.id)
            acks.setdefault(code, []).append(rec.acknowledged_at - rec.added_at)
        elif is_overdue(alert, rec, now):
            counted["overdue_open"].append(rec.id)
        if rec.answered_at is not None:
            counted["answered"].append(rec.id)
            answers.setdefault(code, []).append(rec.answered_at - rec.added_at)
            if rec.result == "seizure_made":
                counted["seizures"].append(rec.id)
    key = cellkey.cell_key(session) if actor is not None else None
    own = actor.agency_code if actor is not None else None
    rows = []
    for code in sorted(pairs):
        counts: dict[str, int | None] = {m: len(ids) for m, ids in pairs[code].items()}
        median_ack, median_answer = _median(acks.get(code, [])), _median(answers.get(code, []))
        exact = key is None or code == own
        if not exact:
            assert key is not None
            counts = _protected(key, pairs[code])
            median_ack = median_ack if counts["acknowledged"] is not None else None
            median_answer = median_answer if counts["answered"] is not None else None
        rows.append(AgencyTurnaround(
            code, names[code], counts["received"], counts["acknowledged"], counts["answered"], counts["seizures"],
            counts["overdue_open"], median_ack, median_answer, exact=exact,
        ))  # fmt: skip
    return rows


def _protected(key: cellkey.CellKey, counted: dict[str, list[int]]) -> dict[str, int | None]:
    """Another agency's counts: perturbed (keyed on the recipient pairs each counts), then small-count
    suppressed; a part (acknowledged, answered...) is never shown above the alerts received."""
    sketches = cellkey.sketches((m, rid, 1.0) for m, ids in counted.items() for rid in ids)
    perturbed = {m: key.count(sketches[m]) if m in sketches else 0 for m in MEASURES}
    received = perturbed["received"]
    return {m: cellkey.shown(v if m == "received" else cellkey.at_most(v, received)) for m, v in perturbed.items()}


def count_text(value: int | None) -> str:
    """A count as shown: "<5" for a small count withheld."""
    return f"<{cellkey.SMALL_CELL}" if value is None else str(value)


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
def debrief_breakdowns(
    session: Session, operation_id: int, since: dt.date, until: dt.date, actor: Actor | None
) -> Table | None:
    """The turnaround as one of the debrief's breakdowns (alerts raised in the phase), over the alerts `actor`
    may see and protected as on the turnaround page (None: the operator, every alert, exact).

    About agencies' responsiveness, not about the alerts: it names no alert, so whoever may compute the
    debrief's non-public figures sees it (members; the public summary leaves it out).
    """
    if actor is not None and not may_see_turnaround(actor):
        return None

    def hours(value: dt.timedelta | None) -> float | None:
        return None if value is None else round(value.total_seconds() / 3600, 1)

    rows = turnaround_rows(session, operation_id, since=since, until=until, actor=actor)
    return Table(
        key="alert_turnaround",
        title=N_("Alert turnaround by recipient agency"),
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
        note=lazy_gettext("Counting rule: %(rule)s.", rule=counting_rule_text()),
        public=False,
    )
