"""The messaging part of the demo: its alerts raised, acknowledged and answered through the alert service,
as the demo users would (the listener of `hooks.demo_built`). Times are set back afterwards so that the
alerts read as raised hours or days ago (acknowledgements on time or late, one still overdue)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.hooks import DemoAlert, DemoBuilt, hookimpl
from dragonnet.policy.access import Actor
from dragonnet.storage.models import Case, User


@hookimpl(tryfirst=True)  # first: a seizure it reports opens a case that the later analyses see
def demo_built(session: Session, demo: DemoBuilt) -> str | None:
    if not demo.alerts:
        return None
    demo.progress(0, len(demo.alerts), "alerts")
    answered = 0
    for n, spec in enumerate(demo.alerts, start=1):
        answered += _alert(session, demo, spec)
        demo.progress(n, len(demo.alerts), "alerts")
    return f"{len(demo.alerts)} alerts, {answered} answers"


def _actor(session: Session, username: str) -> Actor:
    user = session.execute(select(User).where(User.username == username)).scalar_one()
    return Actor.for_user(user)


def _alert(session: Session, demo: DemoBuilt, spec: DemoAlert) -> int:
    from dragonnet.messaging import alerts

    sender = _actor(session, spec.sender)
    alert = alerts.raise_alert(
        session, sender,
        alerts.AlertInput(
            operation_id=demo.operation_id, subject_kind=spec.subject_kind, title=spec.title, details=spec.details,
            origin=spec.origin, transits=spec.transits, destination=spec.destination,
            transport_mode=spec.transport_mode, identifiers=spec.identifiers, indicators=spec.indicators,
            sharing_level=spec.sharing_level, urgency=spec.urgency,
        ),
    )  # fmt: skip
    raised = demo.now - dt.timedelta(hours=spec.hours_ago)
    alert.created_at = raised
    for rec in alert.recipients:
        rec.added_at = raised
    answered = 0
    for answer in spec.answers:
        actor = _actor(session, answer.username)
        rec = alerts.acknowledge(session, actor, alert.id)
        rec.acknowledged_at = raised + dt.timedelta(hours=answer.ack_hours)
        if answer.result is None:
            continue
        found = alerts.Found(*answer.found) if answer.found else None
        day = demo.today - dt.timedelta(days=answer.seizure_days_ago)
        outcome = alerts.answer(session, actor, alert.id, answer.result, answer.note, day, found, today=demo.today)
        rec.answered_at = raised + dt.timedelta(hours=answer.answer_hours)
        if outcome.case_id is not None:
            # The draft it opened: written the day after the seizure (midnight UTC, at the latest today), so that
            # the demo's cases stay the same for a seed and a day.
            case = session.get(Case, outcome.case_id)
            assert case is not None
            written = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
            case.reported_at = case.created_at = case.updated_at = written
        answered += 1
    session.flush()
    return answered
