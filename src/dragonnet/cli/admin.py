"""Administration commands (`admin_app`): API tokens, second factor resets, audit export.

Run on the server with direct database access (as the `system` actor); each change is audited.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from dragonnet.cli.common import DatabaseOption, clear_errors, fail, open_engine
from dragonnet.policy.access import SYSTEM
from dragonnet.storage.db import session_scope

admin_app = typer.Typer(help="Administration: API tokens, second factors, audit export.", no_args_is_help=True)

SYSTEM_ACTOR = SYSTEM


def _day(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"not a date: {value!r} (use YYYY-MM-DD)") from None


@admin_app.command("audit-export")
@clear_errors
def audit_export(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write ('-' for stdout).")],
    action: Annotated[str | None, typer.Option(help="An action, or a prefix ending in '.' (auth.).")] = None,
    user: Annotated[str | None, typer.Option(help="Only entries by this username.")] = None,
    agency: Annotated[str | None, typer.Option(help="Only entries by users of this agency code.")] = None,
    since: Annotated[str | None, typer.Option(help="From this date (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="To this date, inclusive.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Export the audit log as CSV (formula-like cells neutralised with a leading ')."""
    from dragonnet.policy import audit

    flt = audit.AuditFilter(action=action, username=user, agency=agency, since=_day(since), until=_day(until))
    engine = open_engine(database_url)
    with session_scope(engine) as session:
        if str(out) == "-":
            import sys

            rows = audit.export_csv(session, flt, sys.stdout)
        else:
            try:
                with out.open("w", encoding="utf-8", newline="") as fh:
                    rows = audit.export_csv(session, flt, fh)
            except OSError as exc:
                raise fail(f"cannot write {out}: {exc.strerror}") from None
        audit.record(session, audit.SYSTEM, "audit.export", None, None, rows=rows, target="cli")
    if str(out) != "-":
        typer.echo(f"{rows} audit entries written to {out}")


@admin_app.command("token-create")
@clear_errors
def token_create(
    username: str,
    name: Annotated[str, typer.Option(help="What the token is for.")],
    scope: Annotated[str, typer.Option(help="read or write.")] = "read",
    days: Annotated[int, typer.Option(help="Days until it expires (at most 365).")] = 90,
    database_url: DatabaseOption = None,
) -> None:
    """Create an API token for a user and print it (once: only its hash is kept)."""
    from dragonnet.policy.tokens import create_token
    from dragonnet.policy.users import get_user

    engine = open_engine(database_url)
    with session_scope(engine) as session:
        user = get_user(session, username)
        if not user.is_active:
            raise fail(f"user {username} is disabled")
        raw, token = create_token(session, SYSTEM_ACTOR, user, name=name, scope=scope, days=days)
        typer.echo(raw)
        typer.echo(f"token {token.prefix}... ({scope}) for {user.username}, expires {token.expires_at:%Y-%m-%d}",
                   err=True)  # fmt: skip


@admin_app.command("token-list")
@clear_errors
def token_list(username: str, database_url: DatabaseOption = None) -> None:
    """List a user's API tokens (prefix, scope, expiry, last use, state)."""
    from dragonnet.policy.tokens import tokens_of
    from dragonnet.policy.users import get_user

    engine = open_engine(database_url)
    with session_scope(engine) as session:
        user = get_user(session, username)
        for t in tokens_of(session, user.id):
            state = "revoked" if t.revoked_at else ("expired" if t.expires_at <= dt.datetime.now(dt.UTC) else "live")
            used = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never"
            typer.echo(f"{t.id:>5} {t.prefix:<12} {t.scope:<5} {t.expires_at:%Y-%m-%d} {used:<16} {state:<7} {t.name}")


@admin_app.command("token-revoke")
@clear_errors
def token_revoke(token_id: int, database_url: DatabaseOption = None) -> None:
    """Revoke an API token by its id."""
    from dragonnet.policy.tokens import revoke_token

    engine = open_engine(database_url)
    with session_scope(engine) as session:
        token = revoke_token(session, SYSTEM_ACTOR, token_id)
        typer.echo(f"token {token.prefix}... revoked")


@admin_app.command("totp-reset")
@clear_errors
def totp_reset(username: str, database_url: DatabaseOption = None) -> None:
    """Remove a user's TOTP second factor (they log in with the password alone and may enrol again)."""
    from dragonnet.policy.mfa import reset_totp
    from dragonnet.policy.users import get_user

    engine = open_engine(database_url)
    with session_scope(engine) as session:
        user = get_user(session, username)
        reset_totp(session, SYSTEM_ACTOR, user)
        typer.echo(f"second factor of {user.username} removed")
