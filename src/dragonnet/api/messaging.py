"""`/api/v1` routes of the messaging capability: alerts, bulletins, attachments, inbox, watchlist, turnaround.

Thin: parse, call dragonnet.messaging, serialise. Alerts, bulletins and attachments an actor may not see
answer 404 (never 403). The upload routes are `async def` to read the multipart body; their database and
file work (and the serialisation, which reads ORM attributes) runs in the threadpool, never on the event loop.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from dragonnet.api.v1 import NOT_FOUND, PREFIX, UNAUTHENTICATED
from dragonnet.errors import ValidationError
from dragonnet.http.deps import ApiActor, AppSettings, DbSession
from dragonnet.messaging import alerts, attachments, bulletins, delivery, files, inbox, stats, watchlists
from dragonnet.operation import service
from dragonnet.policy.access import Actor
from dragonnet.storage.messaging_models import Alert, Attachment, Bulletin

router = APIRouter(prefix=PREFIX, tags=["messaging"])
RESPONSES: dict[int | str, dict[str, Any]] = {**UNAUTHENTICATED, **NOT_FOUND}


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IdentifierIn(Model):
    kind: str = Field(description="awb, bill_of_lading, container (ISO 6346), flight, vessel (IMO), passport")
    value: str = Field(max_length=100)


class AlertIn(Model):
    operation: str = Field(description="operation slug")
    subject_kind: str = Field(default="shipment", description="shipment, conveyance or person")
    title: str = Field(max_length=200)
    details: str = Field(default="", max_length=20_000)
    origin: str = Field(description="country code or name")
    transits: list[str] = Field(default_factory=list, max_length=10, description="transit countries, in order")
    destination: str
    expected_arrival: dt.datetime | None = None
    transport_mode: str | None = None
    identifiers: list[IdentifierIn] = Field(default_factory=list, max_length=20)
    indicators: list[str] = Field(default_factory=list, max_length=20)
    sharing_level: str = Field(default="amber", description="TLP: red, amber+strict, amber, green, clear")
    urgency: str = Field(default="priority", description="immediate (2 h), priority (12 h), routine (48 h)")
    add_agencies: list[str] = Field(default_factory=list, max_length=50, description="agency codes to add")
    remove_agencies: list[str] = Field(default_factory=list, max_length=50, description="derived ones to leave out")


class RecipientOut(Model):
    agency: str
    agency_name: str
    reason: str
    added_at: dt.datetime
    ack_due: dt.datetime
    acknowledged_at: dt.datetime | None
    overdue: bool
    result: str | None
    result_note: str | None
    found_commodity: str | None = Field(description="what the recipient seized: class of goods")
    found_goods: str | None = Field(description="what the recipient seized, as it wrote it")
    found_quantity: float | None
    found_unit: str | None
    seizure_date: dt.date | None
    answered_at: dt.datetime | None


class AttachmentOut(Model):
    id: int
    filename: str
    media_type: str
    size: int
    sha256: str
    url: str

    @classmethod
    def build(cls, att: Attachment) -> AttachmentOut:
        return cls(id=att.id, filename=att.filename, media_type=att.media_type, size=att.size, sha256=att.sha256,
                   url=f"{PREFIX}/attachments/{att.id}")  # fmt: skip


class LinkedCaseOut(Model):
    case_id: int | None = Field(description="null when the case is not visible to you")
    agency: str
    url: str | None
    restricted: str | None = Field(description="why you may not see it (its sharing level); its result is on the alert")


class AlertOut(Model):
    id: int
    operation_id: int
    sender_agency: str
    subject_kind: str
    title: str
    details: str
    indicators: list[str]
    transport_mode: str | None
    route: list[str]
    origin: str
    transits: list[str]
    destination: str
    expected_arrival: dt.datetime | None
    identifiers: list[IdentifierIn]
    sharing_level: str
    urgency: str
    created_at: dt.datetime
    recipients: list[RecipientOut]
    cases: list[LinkedCaseOut]
    attachments: list[AttachmentOut]

    @classmethod
    def build(cls, session: Session, actor: Actor, alert: Alert) -> AlertOut:
        now = dt.datetime.now(dt.UTC)
        return cls(
            id=alert.id, operation_id=alert.operation_id, sender_agency=alert.sender_agency.code,
            subject_kind=alert.subject_kind, title=alert.title, details=alert.details, indicators=alert.indicators,
            transport_mode=alert.transport_mode, route=alert.route, origin=alert.origin_country,
            transits=alert.transit_countries, destination=alert.destination_country,
            expected_arrival=alert.expected_arrival,
            identifiers=[IdentifierIn(kind=i.kind, value=i.value) for i in alert.identifiers],
            sharing_level=alert.sharing_level, urgency=alert.urgency, created_at=alert.created_at,
            recipients=[
                RecipientOut(
                    agency=r.agency.code, agency_name=r.agency.name, reason=r.reason, added_at=r.added_at,
                    ack_due=alerts.ack_due(alert, r), acknowledged_at=r.acknowledged_at,
                    overdue=alerts.is_overdue(alert, r, now), result=r.result, result_note=r.result_note,
                    found_commodity=r.result_commodity, found_goods=r.result_goods, found_quantity=r.result_quantity,
                    found_unit=r.result_unit, seizure_date=r.result_seizure_date, answered_at=r.answered_at,
                )
                for r in alert.recipients
            ],
            cases=[
                LinkedCaseOut(case_id=c.case_id if c.visible else None, agency=c.agency_code,
                              url=f"/cases/{c.case_id}" if c.visible else None, restricted=c.restriction)
                for c in alerts.linked_cases(session, actor, alert)
            ],
            attachments=[AttachmentOut.build(a) for a in files.list_for(session, alert_id=alert.id)],
        )  # fmt: skip


class AlertSummary(Model):
    id: int
    title: str
    sender_agency: str
    route: list[str]
    sharing_level: str
    urgency: str
    created_at: dt.datetime


class ResultIn(Model):
    result: str = Field(description="not_found, inspected_nothing_found or seizure_made")
    note: str = Field(default="", max_length=5000)
    seizure_date: dt.date | None = Field(default=None, description="for seizure_made; default today")
    found_commodity: str | None = Field(default=None, description="for seizure_made: drug, precursor, wildlife...")
    found_goods: str | None = Field(default=None, max_length=200, description="for seizure_made: what, as written")
    found_quantity: float | None = Field(default=None, description="for seizure_made: how much (with found_unit)")
    found_unit: str | None = Field(default=None, max_length=32, description="kg, g, t, pieces, tablets, l, ml, m3")


class ResultOut(Model):
    alert: AlertOut
    case_id: int | None
    case_url: str | None


class RecipientsIn(Model):
    add: list[str] = Field(default_factory=list, max_length=50)
    remove: list[str] = Field(default_factory=list, max_length=50)


class ProposedOut(Model):
    agency: str
    agency_name: str
    reason: str


class OverdueOut(Model):
    alert_id: int
    title: str
    agency: str
    due: dt.datetime
    urgency: str


class BulletinIn(Model):
    operation: str
    title: str = Field(max_length=200)
    body: str = Field(max_length=50_000)
    sharing_level: str = "green"
    to_all: bool = True
    agencies: list[str] = Field(default_factory=list, max_length=100)


class BulletinOut(Model):
    id: int
    operation_id: int
    sender_agency: str
    title: str
    body: str
    sharing_level: str
    to_all: bool
    agencies: list[str]
    created_at: dt.datetime
    attachments: list[AttachmentOut]

    @classmethod
    def build(cls, session: Session, b: Bulletin) -> BulletinOut:
        return cls(
            id=b.id, operation_id=b.operation_id, sender_agency=b.sender_agency.code, title=b.title, body=b.body,
            sharing_level=b.sharing_level, to_all=b.to_all, agencies=sorted(r.agency.code for r in b.recipients),
            created_at=b.created_at,
            attachments=[AttachmentOut.build(a) for a in files.list_for(session, bulletin_id=b.id)],
        )  # fmt: skip


class MessageOut(Model):
    id: int
    kind: str
    subject: str
    link: str
    sharing_level: str
    created_at: dt.datetime
    read: bool


class InboxOut(Model):
    unread: int
    messages: list[MessageOut]


class ReadIn(Model):
    ids: list[int] | None = Field(default=None, max_length=500, description="null: mark everything read")


class WatchIn(Model):
    kind: str = Field(description="person, company, phone, email, passport, container, vessel, vehicle, bank_account")
    value: str = Field(max_length=200)
    note: str = Field(default="", max_length=1000)


class WatchOut(Model):
    id: int
    kind: str
    value: str
    note: str
    created_at: dt.datetime


class TurnaroundOut(Model):
    agency: str
    agency_name: str
    received: int | None = Field(description="null: fewer than 5 (small-count rule)")
    acknowledged: int | None
    answered: int | None
    seizures: int | None
    overdue_open: int | None
    median_ack_seconds: float | None
    median_answer_seconds: float | None
    exact: bool = Field(description="your own agency's row; other agencies' counts are perturbed (cell-key method)")


class TurnaroundReport(Model):
    counting_rule: str
    agencies: list[TurnaroundOut]


def _send_mail(background: BackgroundTasks, request: Request) -> None:
    if delivery.smtp_settings() is not None:
        background.add_task(delivery.deliver, request.app.state.sessionmaker)


# --- alerts ------------------------------------------------------------------------------------------------


@router.get("/alerts", response_model=list[AlertSummary], responses=UNAUTHENTICATED)
def list_alerts(db: DbSession, actor: ApiActor) -> list[AlertSummary]:
    """The alerts you may see, newest first."""
    return [
        AlertSummary(
            id=a.id,
            title=a.title,
            sender_agency=a.sender_agency.code,
            route=a.route,
            sharing_level=a.sharing_level,
            urgency=a.urgency,
            created_at=a.created_at,
        )
        for a in alerts.list_alerts(db, actor)
    ]


@router.post("/alerts", response_model=AlertOut, status_code=201, responses=UNAUTHENTICATED)
def raise_alert(
    body: AlertIn, request: Request, background: BackgroundTasks, db: DbSession, actor: ApiActor
) -> AlertOut:
    """Raise an alert; recipients are derived from the route, then `add_agencies` / `remove_agencies` apply."""
    op = service.get_operation(db, body.operation)
    alert = alerts.raise_alert(
        db, actor,
        alerts.AlertInput(
            operation_id=op.id, subject_kind=body.subject_kind, title=body.title, details=body.details,
            origin=body.origin, transits=body.transits, destination=body.destination,
            expected_arrival=body.expected_arrival, transport_mode=body.transport_mode,
            identifiers=[(i.kind, i.value) for i in body.identifiers], indicators=body.indicators,
            sharing_level=body.sharing_level, urgency=body.urgency, add_agencies=body.add_agencies,
            remove_agencies=body.remove_agencies,
        ),
    )  # fmt: skip
    _send_mail(background, request)
    return AlertOut.build(db, actor, alert)


@router.get("/alerts/recipients", response_model=list[ProposedOut], responses=UNAUTHENTICATED)
def preview_recipients(
    db: DbSession,
    actor: ApiActor,
    operation: Annotated[str, Query()],
    origin: Annotated[str, Query()],
    destination: Annotated[str, Query()],
    transit: Annotated[list[str] | None, Query(max_length=10)] = None,
) -> list[ProposedOut]:
    """The recipients an alert on this route would get (before adjustments)."""
    op = service.get_operation(db, operation)
    preview = alerts.preview_recipients(db, actor, op.id, origin, transit or [], destination)
    if preview.problem:
        raise ValidationError(preview.problem)
    return [ProposedOut(agency=p.agency.code, agency_name=p.agency.name, reason=p.reason) for p in preview.proposed]


@router.get("/alerts/overdue", response_model=list[OverdueOut], responses=UNAUTHENTICATED)
def overdue(db: DbSession, actor: ApiActor) -> list[OverdueOut]:
    """Acknowledgements past due, over the alerts you may see."""
    return [
        OverdueOut(alert_id=o.alert_id, title=o.title, agency=o.agency_code, due=o.due, urgency=o.urgency)
        for o in alerts.overdue_acknowledgements(db, actor)
    ]


@router.get("/alerts/{alert_id}", response_model=AlertOut, responses=RESPONSES)
def get_alert(alert_id: int, db: DbSession, actor: ApiActor) -> AlertOut:
    return AlertOut.build(db, actor, alerts.get_alert(db, actor, alert_id))


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut, responses=RESPONSES)
def acknowledge(
    alert_id: int, request: Request, background: BackgroundTasks, db: DbSession, actor: ApiActor
) -> AlertOut:
    """Your agency acknowledges the alert (idempotent)."""
    alerts.acknowledge(db, actor, alert_id)
    _send_mail(background, request)
    return AlertOut.build(db, actor, alerts.get_alert(db, actor, alert_id))


@router.post("/alerts/{alert_id}/result", response_model=ResultOut, responses=RESPONSES)
def answer(
    alert_id: int, body: ResultIn, request: Request, background: BackgroundTasks, db: DbSession, actor: ApiActor
) -> ResultOut:
    """Your agency's result; `seizure_made` opens a draft case linked to the alert."""
    found = alerts.Found(body.found_commodity, body.found_goods, body.found_quantity, body.found_unit)
    result = alerts.answer(db, actor, alert_id, body.result, body.note, body.seizure_date, found)
    _send_mail(background, request)
    out = AlertOut.build(db, actor, alerts.get_alert(db, actor, alert_id))
    url = f"/cases/{result.case_id}" if result.case_id else None
    return ResultOut(alert=out, case_id=result.case_id, case_url=url)


@router.post("/alerts/{alert_id}/recipients", response_model=AlertOut, responses=RESPONSES)
def adjust_recipients(
    alert_id: int, body: RecipientsIn, request: Request, background: BackgroundTasks, db: DbSession, actor: ApiActor
) -> AlertOut:
    """The sender agency adds recipients or removes those that have not acknowledged."""
    alert = alerts.adjust_recipients(db, actor, alert_id, add=body.add, remove=body.remove)
    _send_mail(background, request)
    return AlertOut.build(db, actor, alert)


async def _upload(request: Request) -> tuple[Any, str | None]:
    """The uploaded file of a multipart request (one file, field `file`), refusing oversized bodies early."""
    length = request.headers.get("content-length")
    limit = attachments.max_bytes()
    if length and length.isdigit() and int(length) > limit + 64 * 1024:
        raise ValidationError(f"the file is larger than the limit of {limit:,} bytes")
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ValidationError("send the file as multipart/form-data in the field `file`")
    return upload.file, upload.filename


@router.post("/alerts/{alert_id}/attachments", response_model=AttachmentOut, status_code=201, responses=RESPONSES)
async def attach_to_alert(
    alert_id: int, request: Request, db: DbSession, actor: ApiActor, settings: AppSettings
) -> AttachmentOut:
    """Attach a JPEG, PNG, PDF or plain-text file (checked by content; size-limited)."""
    stream, name = await _upload(request)

    def work() -> AttachmentOut:
        return AttachmentOut.build(files.attach_to_alert(db, actor, settings.data_dir, alert_id, stream, name))

    return await run_in_threadpool(work)


# --- bulletins ---------------------------------------------------------------------------------------------


@router.get("/bulletins", response_model=list[BulletinOut], responses=UNAUTHENTICATED)
def list_bulletins(db: DbSession, actor: ApiActor) -> list[BulletinOut]:
    return [BulletinOut.build(db, b) for b in bulletins.list_bulletins(db, actor)]


@router.post("/bulletins", response_model=BulletinOut, status_code=201, responses=UNAUTHENTICATED)
def publish_bulletin(
    body: BulletinIn, request: Request, background: BackgroundTasks, db: DbSession, actor: ApiActor
) -> BulletinOut:
    op = service.get_operation(db, body.operation)
    b = bulletins.publish(db, actor, operation_id=op.id, title=body.title, body=body.body,
                          sharing_level=body.sharing_level, to_all=body.to_all, agencies=body.agencies)  # fmt: skip
    _send_mail(background, request)
    return BulletinOut.build(db, b)


@router.get("/bulletins/{bulletin_id}", response_model=BulletinOut, responses=RESPONSES)
def get_bulletin(bulletin_id: int, db: DbSession, actor: ApiActor) -> BulletinOut:
    return BulletinOut.build(db, bulletins.get_bulletin(db, actor, bulletin_id))


@router.post("/bulletins/{bulletin_id}/attachments", response_model=AttachmentOut, status_code=201, responses=RESPONSES)
async def attach_to_bulletin(
    bulletin_id: int, request: Request, db: DbSession, actor: ApiActor, settings: AppSettings
) -> AttachmentOut:
    stream, name = await _upload(request)

    def work() -> AttachmentOut:
        return AttachmentOut.build(files.attach_to_bulletin(db, actor, settings.data_dir, bulletin_id, stream, name))

    return await run_in_threadpool(work)


# --- attachments -------------------------------------------------------------------------------------------


@router.get("/attachments/{attachment_id}", responses=RESPONSES, response_class=Response)
def download(attachment_id: int, db: DbSession, actor: ApiActor, settings: AppSettings) -> FileResponse:
    """The file, always as a download (`Content-Disposition: attachment`, `nosniff`)."""
    att, path = files.download(db, actor, settings.data_dir, attachment_id)
    return FileResponse(path, media_type=files.response_media_type(att),
                        headers={"Content-Disposition": files.content_disposition(att.filename)})  # fmt: skip


# --- inbox, watchlist, turnaround ----------------------------------------------------------------------------


@router.get("/inbox", response_model=InboxOut, responses=UNAUTHENTICATED)
def get_inbox(
    db: DbSession, actor: ApiActor, unread: bool = False, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> InboxOut:
    """Your messages and your agency's, newest first."""
    msgs = inbox.inbox(db, actor, unread_only=unread, limit=limit)
    return InboxOut(
        unread=inbox.unread_count(db, actor),
        messages=[MessageOut(id=m.id, kind=m.kind, subject=m.subject, link=m.link, sharing_level=m.sharing_level,
                             created_at=m.created_at, read=m.read) for m in msgs],
    )  # fmt: skip


@router.post("/inbox/read", responses=UNAUTHENTICATED)
def mark_read(body: ReadIn, db: DbSession, actor: ApiActor) -> dict[str, int]:
    return {"marked": inbox.mark_read(db, actor, body.ids)}


@router.get("/watchlist", response_model=list[WatchOut], responses=UNAUTHENTICATED)
def get_watchlist(db: DbSession, actor: ApiActor) -> list[WatchOut]:
    return [WatchOut(id=e.id, kind=e.kind, value=e.value, note=e.note, created_at=e.created_at)
            for e in watchlists.entries(db, actor)]  # fmt: skip


@router.post("/watchlist", response_model=WatchOut, status_code=201, responses=UNAUTHENTICATED)
def add_watch(body: WatchIn, db: DbSession, actor: ApiActor) -> WatchOut:
    e = watchlists.add_entry(db, actor, body.kind, body.value, body.note)
    return WatchOut(id=e.id, kind=e.kind, value=e.value, note=e.note, created_at=e.created_at)


@router.delete("/watchlist/{entry_id}", status_code=204, responses=RESPONSES, response_class=Response)
def remove_watch(entry_id: int, db: DbSession, actor: ApiActor) -> Response:
    watchlists.remove_entry(db, actor, entry_id)
    return Response(status_code=204)


@router.get("/operations/{slug}/alert-turnaround", response_model=TurnaroundReport, responses=RESPONSES)
def turnaround(slug: str, db: DbSession, actor: ApiActor) -> TurnaroundReport:
    """Median time to acknowledge and to answer alerts, per recipient agency (members only)."""
    op = service.get_operation(db, slug)
    rows = stats.turnaround(db, actor, op.id)
    return TurnaroundReport(
        counting_rule=stats.COUNTING_RULE,
        agencies=[
            TurnaroundOut(
                agency=r.agency_code, agency_name=r.agency_name, received=r.received, acknowledged=r.acknowledged,
                answered=r.answered, seizures=r.seizures, overdue_open=r.overdue_open,
                median_ack_seconds=r.median_ack.total_seconds() if r.median_ack else None,
                median_answer_seconds=r.median_answer.total_seconds() if r.median_answer else None, exact=r.exact,
            )
            for r in rows
        ],
    )  # fmt: skip
