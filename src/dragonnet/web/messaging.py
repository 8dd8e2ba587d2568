"""Pages of the messaging capability: inbox (with live events), alerts, bulletins, watchlist, turnaround.

Thin: parse the form, check its CSRF token, call dragonnet.messaging, render. The live feed
(`/messages/events`) is a server-sent-event stream polled from the database, so it works with several
server processes; it ends when the login session ends, and after `timeout` seconds (the browser reconnects
with Last-Event-ID). The `async def` handlers (multipart uploads, the event stream) only read the request
on the event loop: every database and file call they make runs in the threadpool.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Mapping
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import HTMLResponse

from dragonnet.domain.exchange import LIST_SEPARATOR, split_list
from dragonnet.domain.quantity import Unit, parse_number
from dragonnet.domain.vocabulary import CommodityClass, SharingLevel, TransportMode
from dragonnet.errors import NotFound, ReferenceLookupError, ValidationError
from dragonnet.http.deps import (
    AppSettings,
    CsrfRejected,
    DbSession,
    PageAuth,
    Unauthenticated,
    authenticate_request,
)
from dragonnet.http.security import tokens_match
from dragonnet.i18n import N_
from dragonnet.i18n import lazy_gettext as _l
from dragonnet.messaging import alerts, bulletins, delivery, files, inbox, stats, watchlists
from dragonnet.messaging.identifiers import AlertIdentifierKind, WatchKind
from dragonnet.operation import service
from dragonnet.operation.service import list_operations
from dragonnet.policy.access import Actor, Hidden
from dragonnet.policy.messaging import is_member
from dragonnet.policy.users import resolve_session
from dragonnet.storage.db import reader, session_factory
from dragonnet.web.templating import render

router = APIRouter(include_in_schema=False)

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
MAX_STREAM_SECONDS = 300


def _csrf(auth: PageAuth, token: str) -> None:
    if not tokens_match(auth.csrf_token, token):
        raise CsrfRejected()


def _slug(db: Session, actor: Actor) -> str | None:
    ops = list_operations(db, actor)
    return ops[0].slug if ops else None


def _page(
    request: Request, db: Session, auth: PageAuth, name: str, ctx: Mapping[str, object], sub: str,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    full = {"sub": sub, "is_member": is_member(auth.actor), **ctx}
    active = "alerts" if sub == "alerts" else "inbox"  # alerts have a menu entry of their own
    return render(request, name, full, auth=auth, operation_slug=_slug(db, auth.actor), active=active,
                  status_code=status_code)  # fmt: skip


def _mail(background: BackgroundTasks, request: Request) -> None:
    if delivery.smtp_settings() is not None:
        background.add_task(delivery.deliver, request.app.state.sessionmaker)


def _lines(text: str) -> list[str]:
    """Agency codes typed in one field: codes hold no separators, so ";", "," and new lines all separate them."""
    return [line.strip() for line in text.replace(",", "\n").replace(";", "\n").splitlines() if line.strip()]


# --- inbox and live events -----------------------------------------------------------------------------------


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, db: DbSession, auth: PageAuth) -> Response:
    msgs = inbox.inbox(db, auth.actor)
    ctx = {"title": N_("Inbox"), "messages": msgs, "unread": inbox.unread_count(db, auth.actor),
           "last_id": inbox.latest_id(db, auth.actor)}  # fmt: skip
    return _page(request, db, auth, "inbox.html", ctx, "inbox")


@router.post("/inbox/read")
def inbox_read(db: DbSession, auth: PageAuth, csrf_token: Annotated[str, Form()] = "") -> Response:
    _csrf(auth, csrf_token)
    inbox.mark_read(db, auth.actor)
    return RedirectResponse("/inbox", status_code=303)


def _poll(factory: sessionmaker[Session], token: str, actor: Actor, last_id: int) -> tuple[bool, list[str], int]:
    """(session still valid, SSE frames, unread count) — one short read-only transaction."""
    with factory() as session:
        if resolve_session(session, token) is None:
            return False, [], 0
        frames = []
        for msg in inbox.events_after(session, actor, last_id):
            frames.append(f"id: {msg.id}\nevent: message\ndata: {json.dumps(msg.as_event())}\n\n")
        return True, frames, inbox.unread_count(session, actor)


@router.get("/messages/events")
async def events(
    request: Request, timeout: Annotated[int, Query(ge=0, le=MAX_STREAM_SECONDS)] = 60, after: int | None = None
) -> StreamingResponse:
    """Server-sent events: one `message` event per new inbox message, then `unread` with the count."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    # Polls only read: on SQLite they must not take the write lock once a second per open page.
    poller = session_factory(reader(request.app.state.engine))

    def who() -> tuple[Actor, str] | None:
        with factory() as session:
            auth = authenticate_request(request, session)
            return (auth.actor, auth.session_token) if auth and auth.session_token else None

    found = await run_in_threadpool(who)
    if found is None:
        raise Unauthenticated()
    actor, token = found
    header = request.headers.get("last-event-id", "")
    last_id = int(header) if header.isdigit() else (after if after is not None and after >= 0 else None)
    start = last_id if last_id is not None else await run_in_threadpool(_latest, factory, actor)

    async def stream() -> AsyncIterator[str]:
        last_id = start
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last_beat = loop.time()
        yield "retry: 3000\n\n"
        while True:
            alive, frames, unread = await run_in_threadpool(_poll, poller, token, actor, last_id)
            if not alive:
                yield "event: logout\ndata: {}\n\n"
                return
            for frame in frames:
                yield frame
            if frames:
                last_id = max(int(f.split("\n", 1)[0][4:]) for f in frames)
                yield f"event: unread\ndata: {json.dumps({'unread': unread})}\n\n"
            now = loop.time()
            if now >= deadline or await request.is_disconnected():
                return
            if now - last_beat >= HEARTBEAT_SECONDS:
                yield ": keep-alive\n\n"
                last_beat = now
            await asyncio.sleep(min(POLL_SECONDS, max(deadline - now, 0)))

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"})


def _latest(factory: sessionmaker[Session], actor: Actor) -> int:
    with factory() as session:
        return inbox.latest_id(session, actor)


# --- alerts --------------------------------------------------------------------------------------------------


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, db: DbSession, auth: PageAuth) -> Response:
    found = alerts.list_alerts(db, auth.actor)
    overdue = alerts.overdue_acknowledgements(db, auth.actor)
    ctx = {"title": N_("Alerts"), "alerts": found, "overdue": overdue}
    return _page(request, db, auth, "alert_list.html", ctx, "alerts")


IDENTIFIER_ROWS = 3


@router.get("/alerts/new", response_class=HTMLResponse)
def alert_form(request: Request, db: DbSession, auth: PageAuth, case: int | None = None) -> Response:
    """The alert form; `?case=ID` fills it from a case ("alert the countries on this route")."""
    if not is_member(auth.actor):
        raise Hidden(auth.actor, "alert", "new")
    values: dict[str, object] = alerts.draft_from_case(db, auth.actor, case) if case is not None else {}
    identifiers = values.pop("identifiers", [])
    assert isinstance(identifiers, list)
    return _alert_form(request, db, auth, error=None, values={k: str(v) for k, v in values.items()},
                       identifiers=identifiers)  # fmt: skip


def _recipients_preview(db: Session, auth: PageAuth, values: Mapping[str, str]) -> alerts.RecipientsPreview | None:
    ops = {o.slug: o for o in list_operations(db, auth.actor)}
    op = ops.get(values.get("operation") or "") or next(iter(ops.values()), None)
    if op is None:
        return None
    return alerts.preview_recipients(db, auth.actor, op.id, values.get("origin", ""),
                                     split_list(values.get("transits")), values.get("destination", ""))  # fmt: skip


def _alert_form(
    request: Request, db: Session, auth: PageAuth, *, error: str | None, values: Mapping[str, str],
    identifiers: list[tuple[str, str]] | None = None, chosen: set[str] | None = None,
    left_out: set[str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    rows = list(identifiers or [])[:IDENTIFIER_ROWS]
    rows += [("container", "")] * (IDENTIFIER_ROWS - len(rows))
    ctx = {
        "title": N_("Raise an alert"), "error": error, "values": values, "identifier_rows": rows,
        "operations": list_operations(db, auth.actor), "levels": SharingLevel.values(),
        "urgencies": [u.value for u in alerts.Urgency], "subject_kinds": [k.value for k in alerts.SubjectKind],
        "identifier_kinds": [k.value for k in AlertIdentifierKind], "modes": TransportMode.values(),
        "preview": _recipients_preview(db, auth, values), "chosen": chosen or set(), "left_out": left_out or set(),
        "separator": LIST_SEPARATOR,
    }  # fmt: skip
    return _page(request, db, auth, "alert_new.html", ctx, "alerts", status_code=status_code)


@router.get("/alerts/recipients", response_class=HTMLResponse)
def alert_recipients_preview(
    request: Request, db: DbSession, auth: PageAuth, operation: str = "", origin: str = "", transits: str = "",
    destination: str = "", recipient: Annotated[list[str] | None, Query()] = None,
    offered: Annotated[list[str] | None, Query()] = None,
) -> Response:  # fmt: skip
    """The recipients part of the alert form, for the route typed so far (htmx swaps it in)."""
    if not is_member(auth.actor):
        raise Hidden(auth.actor, "alert", "new")
    values = {"operation": operation, "origin": origin, "transits": transits, "destination": destination}
    checked = set(recipient or [])
    ctx = {"preview": _recipients_preview(db, auth, values), "values": values, "chosen": checked,
           "left_out": set(offered or []) - checked}  # fmt: skip
    return render(request, "alert_recipients.html", ctx, auth=auth)


@router.post("/alerts", response_class=HTMLResponse)
def alert_create(
    request: Request,
    background: BackgroundTasks,
    db: DbSession,
    auth: PageAuth,
    csrf_token: Annotated[str, Form()] = "",
    operation: Annotated[str, Form()] = "",
    subject_kind: Annotated[str, Form()] = "shipment",
    title: Annotated[str, Form(max_length=200)] = "",
    details: Annotated[str, Form(max_length=20_000)] = "",
    origin: Annotated[str, Form(max_length=100)] = "",
    transits: Annotated[str, Form(max_length=500)] = "",
    destination: Annotated[str, Form(max_length=100)] = "",
    expected_arrival: Annotated[str, Form(max_length=40)] = "",
    transport_mode: Annotated[str, Form()] = "",
    identifier_kind: Annotated[list[str] | None, Form()] = None,
    identifier_value: Annotated[list[str] | None, Form()] = None,
    indicators: Annotated[str, Form(max_length=6000)] = "",
    sharing_level: Annotated[str, Form()] = "amber",
    urgency: Annotated[str, Form()] = "priority",
    recipient: Annotated[list[str] | None, Form()] = None,
    offered: Annotated[list[str] | None, Form()] = None,
    add_agencies: Annotated[str, Form(max_length=1000)] = "",
    from_case: Annotated[str, Form(max_length=20)] = "",
    from_case_ref: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    _csrf(auth, csrf_token)
    values = {k: v for k, v in locals().items() if isinstance(v, str) and k != "csrf_token"}
    typed = list(zip(identifier_kind or [], identifier_value or [], strict=False))
    pairs = [(k, v) for k, v in typed if v.strip()]
    checked = set(recipient or [])
    left_out = set(offered or []) - checked  # offered by the route, unticked
    try:
        arrival = None
        if expected_arrival.strip():
            arrival = dt.datetime.fromisoformat(expected_arrival.strip())
            arrival = arrival if arrival.tzinfo else arrival.replace(tzinfo=dt.UTC)
        op = service.get_operation(db, operation)
        alert = alerts.raise_alert(
            db, auth.actor,
            alerts.AlertInput(
                operation_id=op.id, subject_kind=subject_kind, title=title, details=details, origin=origin,
                transits=split_list(transits), destination=destination, expected_arrival=arrival,
                transport_mode=transport_mode or None, identifiers=pairs,
                indicators=[i.strip() for i in indicators.splitlines()], sharing_level=sharing_level,
                urgency=urgency, add_agencies=sorted(checked | set(_lines(add_agencies))),
                remove_agencies=sorted(left_out),
            ),
        )  # fmt: skip
    except (ValidationError, ReferenceLookupError, NotFound, ValueError) as exc:
        db.rollback()  # nothing was written; the form comes back with everything typed
        return _alert_form(request, db, auth, error=str(exc), values=values, identifiers=typed, chosen=checked,
                           left_out=left_out, status_code=422)  # fmt: skip
    _mail(background, request)
    return RedirectResponse(f"/alerts/{alert.id}?raised=1", status_code=303)


@router.post("/alerts/new/preview", response_class=HTMLResponse)
async def alert_form_preview(request: Request, db: DbSession, auth: PageAuth) -> Response:
    """Without JavaScript: the form again, as typed, with the recipients of its route."""
    form = await request.form(max_fields=60)
    _csrf(auth, str(form.get("csrf_token") or ""))
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    kinds = [str(v) for v in form.getlist("identifier_kind")]
    typed = list(zip(kinds, [str(v) for v in form.getlist("identifier_value")], strict=False))
    checked = {str(v) for v in form.getlist("recipient")}
    left_out = {str(v) for v in form.getlist("offered")} - checked
    if not is_member(auth.actor):
        raise Hidden(auth.actor, "alert", "new")
    return await run_in_threadpool(_alert_form, request, db, auth, error=None, values=values, identifiers=typed,
                                   chosen=checked, left_out=left_out)  # fmt: skip


def _alert_page(
    request: Request, db: Session, auth: PageAuth, alert_id: int, *, error: str | None = None,
    answer: Mapping[str, str] | None = None, notice: str | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    alert = alerts.get_alert(db, auth.actor, alert_id)
    now = dt.datetime.now(dt.UTC)
    mine = next((r for r in alert.recipients if r.agency_id == auth.actor.agency_id), None)
    ctx = {
        "title": _l("Alert #%(id)s", id=alert.id), "alert": alert, "now": now, "mine": mine,
        "member": is_member(auth.actor), "is_sender": alert.sender_agency_id == auth.actor.agency_id,
        "recipients": [(r, alerts.ack_due(alert, r), alerts.is_overdue(alert, r, now)) for r in alert.recipients],
        "results": alerts.RESULT_LABELS, "cases": alerts.linked_cases(db, auth.actor, alert),
        "attachments": files.list_for(db, alert_id=alert.id), "error": error, "answer": answer or {},
        "notice": notice, "commodities": CommodityClass.values(), "units": [u.value for u in Unit],
        "today": dt.date.today().isoformat(), "addable": alerts.addable_recipients(db, auth.actor, alert),
        "found": {r.id: alerts.Found(r.result_commodity, r.result_goods, r.result_quantity, r.result_unit).describe()
                  for r in alert.recipients},
    }  # fmt: skip
    return _page(request, db, auth, "alert_detail.html", ctx, "alerts", status_code=status_code)


NOTICES = {
    "raised": N_("Alert raised: its recipients have it in their inbox."),
    "acknowledged": N_("Acknowledged: the sender sees it."),
    "answered": N_("Result sent: the sender and the recipients see it on this alert."),
    "recipients": N_("Recipients updated."),
    "attached": N_("File attached."),
}


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(
    request: Request, alert_id: int, db: DbSession, auth: PageAuth, raised: str = "", done: str = ""
) -> Response:
    notice = NOTICES["raised"] if raised else NOTICES.get(done)
    return _alert_page(request, db, auth, alert_id, notice=notice)


def _back(alert_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/alerts/{alert_id}?done={done}", status_code=303)


@router.post("/alerts/{alert_id}/acknowledge")
def alert_acknowledge(
    request: Request,
    alert_id: int,
    background: BackgroundTasks,
    db: DbSession,
    auth: PageAuth,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    _csrf(auth, csrf_token)
    alerts.acknowledge(db, auth.actor, alert_id)
    _mail(background, request)
    return _back(alert_id, "acknowledged")


@router.post("/alerts/{alert_id}/result", response_class=HTMLResponse)
def alert_result(
    request: Request,
    alert_id: int,
    background: BackgroundTasks,
    db: DbSession,
    auth: PageAuth,
    csrf_token: Annotated[str, Form()] = "",
    result: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
    seizure_date: Annotated[str, Form(max_length=10)] = "",
    found_commodity: Annotated[str, Form(max_length=16)] = "",
    found_goods: Annotated[str, Form(max_length=200)] = "",
    found_quantity: Annotated[str, Form(max_length=32)] = "",
    found_unit: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    _csrf(auth, csrf_token)
    typed = {k: v for k, v in locals().items() if isinstance(v, str) and k != "csrf_token"}
    try:
        day = _date(seizure_date, "seizure date")
        quantity = parse_number(found_quantity) if found_quantity.strip() else None
        found = alerts.Found(found_commodity or None, found_goods or None, quantity, found_unit or None)
        alerts.answer(db, auth.actor, alert_id, result, note, day, found)
    except (ValidationError, ReferenceLookupError) as exc:
        _rollback_and_check_alert(db, auth.actor, alert_id)
        # The page comes back with the error and everything typed (nothing in the address bar).
        return _alert_page(request, db, auth, alert_id, error=exc.message, answer=typed, status_code=422)
    _mail(background, request)
    return _back(alert_id, "answered")


def _date(text: str, what: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{what}: write the date as YYYY-MM-DD, not {text.strip()!r}") from None


@router.post("/alerts/{alert_id}/recipients")
def alert_recipients(
    request: Request,
    alert_id: int,
    background: BackgroundTasks,
    db: DbSession,
    auth: PageAuth,
    csrf_token: Annotated[str, Form()] = "",
    add: Annotated[list[str] | None, Form(max_length=1000)] = None,
    remove: Annotated[list[str] | None, Form(max_length=1000)] = None,
) -> Response:
    _csrf(auth, csrf_token)
    # Ticked agencies (one value each) or codes typed by an API-like client (";"-separated): both read the same.
    adding, removing = _lines("\n".join(add or [])), _lines("\n".join(remove or []))
    try:
        alerts.adjust_recipients(db, auth.actor, alert_id, add=adding, remove=removing)
    except ValidationError as exc:
        _rollback_and_check_alert(db, auth.actor, alert_id)
        return _alert_page(request, db, auth, alert_id, error=exc.message,
                           answer={"add": ";".join(adding), "remove": ";".join(removing)}, status_code=422)  # fmt: skip
    _mail(background, request)
    return _back(alert_id, "recipients")


async def _form_file(request: Request, auth: PageAuth) -> tuple[object, str | None]:
    from dragonnet.messaging import attachments

    length = request.headers.get("content-length")
    limit = attachments.max_bytes()
    if length and length.isdigit() and int(length) > limit + 64 * 1024:
        raise ValidationError(f"the file is larger than the limit of {limit:,} bytes")
    form = await request.form(max_files=1, max_fields=5)
    token = form.get("csrf_token")
    _csrf(auth, token if isinstance(token, str) else "")
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ValidationError("choose a file")
    return upload.file, upload.filename


@router.post("/alerts/{alert_id}/attachments")
async def alert_attach(
    request: Request, alert_id: int, db: DbSession, auth: PageAuth, settings: AppSettings
) -> Response:
    try:
        stream, name = await _form_file(request, auth)
        await run_in_threadpool(files.attach_to_alert, db, auth.actor, settings.data_dir, alert_id, stream, name)  # type: ignore[arg-type]
    except ValidationError as exc:
        await run_in_threadpool(_rollback_and_check_alert, db, auth.actor, alert_id)
        return await run_in_threadpool(_alert_page, request, db, auth, alert_id, error=exc.message, status_code=422)
    return _back(alert_id, "attached")


def _rollback_and_check_alert(db: Session, actor: Actor, alert_id: int) -> None:
    """After a refused action: drop the transaction, then 404 (Hidden) if the alert is not visible."""
    db.rollback()
    alerts.get_alert(db, actor, alert_id)


@router.get("/attachments/{attachment_id}")
def attachment(attachment_id: int, db: DbSession, auth: PageAuth, settings: AppSettings) -> FileResponse:
    att, path = files.download(db, auth.actor, settings.data_dir, attachment_id)
    return FileResponse(path, media_type=files.response_media_type(att),
                        headers={"Content-Disposition": files.content_disposition(att.filename)})  # fmt: skip


# --- bulletins -----------------------------------------------------------------------------------------------


@router.get("/bulletins", response_class=HTMLResponse)
def bulletins_page(request: Request, db: DbSession, auth: PageAuth) -> Response:
    return _bulletins(request, db, auth)


def _bulletins(
    request: Request, db: Session, auth: PageAuth, *, error: str | None = None, values: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    ctx = {"title": N_("Bulletins"), "bulletins": bulletins.list_bulletins(db, auth.actor), "error": error,
           "operations": list_operations(db, auth.actor), "levels": SharingLevel.values(),
           "values": values or {}}  # fmt: skip
    return _page(request, db, auth, "messaging_bulletins.html", ctx, "bulletins", status_code=status_code)


@router.post("/bulletins")
async def bulletin_create(
    request: Request, background: BackgroundTasks, db: DbSession, auth: PageAuth, settings: AppSettings
) -> Response:
    form = await request.form(max_files=1, max_fields=12)

    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    _csrf(auth, text("csrf_token"))
    upload = form.get("file")

    def work() -> int:
        op = service.get_operation(db, text("operation"))
        b = bulletins.publish(db, auth.actor, operation_id=op.id, title=text("title"), body=text("body"),
                              sharing_level=text("sharing_level") or "green", to_all=text("audience") != "named",
                              agencies=_lines(text("agencies")))  # fmt: skip
        if upload is not None and not isinstance(upload, str) and upload.filename:
            files.attach_to_bulletin(db, auth.actor, settings.data_dir, b.id, upload.file, upload.filename)
        return b.id

    try:
        bulletin_id = await run_in_threadpool(work)
    except (ValidationError, NotFound) as exc:
        await run_in_threadpool(db.rollback)
        typed = {k: text(k) for k in ("operation", "title", "body", "sharing_level", "audience", "agencies")}
        return await run_in_threadpool(_bulletins, request, db, auth, error=exc.message, values=typed,
                                       status_code=422)  # fmt: skip
    _mail(background, request)
    return RedirectResponse(f"/bulletins/{bulletin_id}", status_code=303)


@router.get("/bulletins/{bulletin_id}", response_class=HTMLResponse)
def bulletin_page(request: Request, bulletin_id: int, db: DbSession, auth: PageAuth) -> Response:
    b = bulletins.get_bulletin(db, auth.actor, bulletin_id)
    ctx = {"title": b.title, "bulletin": b, "attachments": files.list_for(db, bulletin_id=b.id)}
    return _page(request, db, auth, "messaging_bulletin.html", ctx, "bulletins")


# --- watchlist and turnaround --------------------------------------------------------------------------------


@router.get("/watchlist", response_class=HTMLResponse)
def watchlist_page(request: Request, db: DbSession, auth: PageAuth) -> Response:
    return _watchlist(request, db, auth)


def _watchlist(
    request: Request, db: Session, auth: PageAuth, *, error: str | None = None, values: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    ctx = {"title": N_("Watchlist"), "entries": watchlists.entries(db, auth.actor),
           "hits": watchlists.hits(db, auth.actor), "kinds": [k.value for k in WatchKind], "error": error,
           "values": values or {}}  # fmt: skip
    return _page(request, db, auth, "messaging_watchlist.html", ctx, "watchlist", status_code=status_code)


@router.post("/watchlist", response_class=HTMLResponse)
def watchlist_add(
    request: Request,
    db: DbSession,
    auth: PageAuth,
    csrf_token: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    value: Annotated[str, Form(max_length=200)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    _csrf(auth, csrf_token)
    try:
        watchlists.add_entry(db, auth.actor, kind, value, note)
    except ValidationError as exc:
        db.rollback()
        return _watchlist(request, db, auth, error=exc.message, values={"kind": kind, "value": value, "note": note},
                          status_code=422)  # fmt: skip
    return RedirectResponse("/watchlist", status_code=303)


@router.post("/watchlist/{entry_id}/delete")
def watchlist_remove(entry_id: int, db: DbSession, auth: PageAuth, csrf_token: Annotated[str, Form()] = "") -> Response:
    _csrf(auth, csrf_token)
    watchlists.remove_entry(db, auth.actor, entry_id)
    return RedirectResponse("/watchlist", status_code=303)


@router.get("/messages/stats", response_class=HTMLResponse)
def stats_page(request: Request, db: DbSession, auth: PageAuth, operation: str | None = None) -> Response:
    slug = operation or _slug(db, auth.actor)
    if slug is None:
        raise Hidden(auth.actor, "operation", "")
    op = service.get_operation(db, slug)
    rows = stats.turnaround(db, auth.actor, op.id)
    ctx = {
        "title": N_("Alert turnaround"),
        "op": op,
        "rows": rows,
        "fmt": stats.format_duration,
        "n": stats.count_text,
        "rule": stats.counting_rule_text(),
    }
    return _page(request, db, auth, "messaging_stats.html", ctx, "stats")
