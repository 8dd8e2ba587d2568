"""`dragonnet messages ...`: send the e-mail outbox, remove orphan attachment files, alert turnaround."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from dragonnet.cli.common import AsUserOption, actor_for, fail, open_engine
from dragonnet.config import load_settings
from dragonnet.errors import DragonnetError
from dragonnet.messaging import attachments, delivery, stats
from dragonnet.operation import service
from dragonnet.storage.db import session_factory

messaging_app = typer.Typer(help="Intelligence messaging: e-mail outbox, attachments, alert turnaround.",
                            no_args_is_help=True)  # fmt: skip

DatabaseOption = Annotated[str | None, typer.Option("--database-url", help="Database URL (default: the settings).")]


def _session(database_url: str | None) -> Session:
    try:
        engine = open_engine(database_url)
    except DragonnetError as exc:
        raise fail(str(exc)) from None
    return Session(engine, expire_on_commit=False)


@messaging_app.command("send-mail")
def send_mail(database_url: DatabaseOption = None) -> None:
    """Send the e-mails waiting in the outbox (DRAGONNET_SMTP_HOST/PORT/FROM)."""
    settings = delivery.smtp_settings()
    if settings is None:
        raise fail("DRAGONNET_SMTP_HOST is not set: e-mail is off")
    with _session(database_url) as session:
        sent = delivery.deliver(session_factory(session.get_bind().engine), settings)
    typer.echo(f"{sent} e-mail(s) sent")


@messaging_app.command("clean-attachments")
def clean_attachments(
    database_url: DatabaseOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List, do not delete.")] = False,
) -> None:
    """Delete stored files no attachment refers to (left by uploads whose transaction was rolled back)."""
    data_dir = load_settings().data_dir
    with _session(database_url) as session:
        found = attachments.orphans(session, data_dir)
    for path in found:
        typer.echo(str(path))
    if not dry_run:
        attachments.remove_orphans(found)
    typer.echo(f"{len(found)} orphan file(s){' found' if dry_run else ' removed'}")


@messaging_app.command("turnaround")
def turnaround(
    operation: Annotated[str, typer.Argument(help="operation slug")],
    username: AsUserOption = None,
    database_url: DatabaseOption = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Median time to acknowledge and to answer alerts, per recipient agency (with --as: members only)."""
    with _session(database_url) as session:
        actor = actor_for(session, username) if username else None
        try:
            op = service.get_operation(session, operation)
            rows = stats.turnaround(session, actor, op.id)
        except DragonnetError as exc:
            raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps({"counting_rule": stats.COUNTING_RULE, "agencies": [
            {"agency": r.agency_code, "received": r.received, "acknowledged": r.acknowledged, "answered": r.answered,
             "seizures": r.seizures, "overdue_open": r.overdue_open,
             "median_ack_seconds": r.median_ack.total_seconds() if r.median_ack else None,
             "median_answer_seconds": r.median_answer.total_seconds() if r.median_answer else None,
             "exact": r.exact}
            for r in rows]}, indent=2))  # fmt: skip
        return
    typer.echo(f"counting rule: {stats.COUNTING_RULE}")
    for r in rows:
        ack, answer = stats.format_duration(r.median_ack), stats.format_duration(r.median_answer)
        typer.echo(f"{r.agency_code:12} received {stats.count_text(r.received):>4}  "
                   f"ack {ack:>12}  answer {answer:>12}  overdue {stats.count_text(r.overdue_open)}")  # fmt: skip
