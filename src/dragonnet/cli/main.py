"""The `dragonnet` command line. Thin: parse, call a capability, print. Errors are one line, exit code 1."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.core import TyperGroup

from dragonnet import __version__
from dragonnet.cli.admin import audit_export
from dragonnet.cli.common import DatabaseOption, clear_errors, fail, open_engine
from dragonnet.config import load_settings
from dragonnet.storage.db import redact, session_scope


def _group(module: str, name: str) -> Callable[[], Any]:
    return lambda: typer.main.get_group(getattr(importlib.import_module(module), name))


def _bootstrap() -> Any:
    from dragonnet.cli.setup import bootstrap

    one = typer.Typer()
    one.command("bootstrap")(clear_errors(bootstrap))
    return typer.main.get_group(one).commands["bootstrap"]


def _screen() -> Any:
    from dragonnet.cli.screening import screen
    from dragonnet.cli.screening_encoded import screen_app

    return typer.main.get_group(screen_app(screen))


# The capabilities' commands, built from their modules when one of them runs (or the help lists them): a command
# loads its own capability's modules, not every capability's (the CLI starts in ~0.7 s instead of ~1.0 s).
LAZY: dict[str, Callable[[], Any]] = {
    "bootstrap": _bootstrap,
    "import": _group("dragonnet.cli.intake", "import_app"),
    "messages": _group("dragonnet.cli.messaging", "messaging_app"),
    "report": _group("dragonnet.cli.report", "report_app"),
    "targeting": _group("dragonnet.cli.targeting", "targeting_app"),
    "linkage": _group("dragonnet.cli.linkage", "linkage_app"),
    "agencies": _group("dragonnet.cli.setup", "agencies_app"),
    "operations": _group("dragonnet.cli.setup", "operations_app"),
    "roster": _group("dragonnet.cli.setup", "roster_app"),
    "cases": _group("dragonnet.cli.setup", "cases_app"),
    "admin": _group("dragonnet.cli.admin", "admin_app"),
    "reference": _group("dragonnet.cli.reference", "reference_app"),
    "curation": _group("dragonnet.cli.curation", "curation_app"),
    "screen": _screen,
}
# The order `dragonnet --help` lists the commands in.
HELP_ORDER = ("init", "bootstrap", "demo", "serve", "backup", "restore", "users", "import", "messages", "report",
              "targeting", "linkage", "agencies", "operations", "roster", "cases", "admin", "audit", "reference",
              "curation", "screen")  # fmt: skip


class LazyGroup(TyperGroup):
    """The root command: the commands of `LAZY` are built from their modules when first asked for."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = {*super().list_commands(ctx), *LAZY}
        return sorted(names, key=lambda n: HELP_ORDER.index(n) if n in HELP_ORDER else len(HELP_ORDER))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in LAZY and cmd_name not in self.commands:
            command = LAZY[cmd_name]()
            command.name = cmd_name
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    name="dragonnet",
    cls=LazyGroup,
    help="dragonnet: the shared platform of a joint customs and law-enforcement operation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
users_app = typer.Typer(help="Create users, reset passwords, list users.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")


@app.callback(invoke_without_command=True)
def root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(f"dragonnet {__version__}")
        raise typer.Exit()


@app.command()
@clear_errors
def init(database_url: DatabaseOption = None) -> None:
    """Create the database, or migrate it to the current schema."""
    from dragonnet.storage.migrate import upgrade

    engine = open_engine(database_url, need_schema=False)
    before, after = upgrade(engine)
    state = "created" if before is None else ("up to date" if before == after else f"migrated from {before}")
    typer.echo(f"database {redact(str(engine.url.render_as_string(hide_password=False)))}: schema {after} ({state})")


@app.command()
@clear_errors
def demo(
    database_url: DatabaseOption = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed builds the same operation.")] = 2023,
    reset: Annotated[bool, typer.Option("--reset", help="Delete all data first and rebuild the demo.")] = False,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="Cases and alerts only: no declarations, models, targeting lists or entity resolution "
            "(about a third of the full build's time).",
        ),
    ] = False,
) -> None:
    """Build the demo operation "Mekong Dragon" (phases I-V and the current phase VI, with alerts, targeting
    lists and resolved networks) and print the demo logins."""
    from dragonnet.cli.progress import progress_bar
    from dragonnet.demo import DEMO_PASSWORD, build_demo, demo_logins
    from dragonnet.storage.migrate import reset_database, upgrade
    from dragonnet.storage.models import Operation

    engine = open_engine(database_url, need_schema=False)
    if reset:
        reset_database(engine)
        # The stored declarations belong to the deleted batches (the targeting store reads every file in it), the
        # kept linkage records (record_cache) to the deleted parties.
        for folder in ("targeting", "demo", "linkage"):
            shutil.rmtree(load_settings().data_dir / folder, ignore_errors=True)
    upgrade(engine)
    with session_scope(engine) as session:
        exists = session.execute(select(func.count()).select_from(Operation)).scalar_one()
        if exists:
            typer.echo("the database holds an operation already; left as is (use --reset to rebuild the demo)")
        else:
            data_dir = None if quick else load_settings().data_dir
            with progress_bar("building the demo") as progress:
                summary = build_demo(session, seed=seed, data_dir=data_dir, progress=progress)
            typer.echo("\n".join(summary.lines()))
    typer.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    for username, role, agency in demo_logins():
        typer.echo(f"  {username:<24} {role:<22} {agency}")


WORKERS_HELP = "Server processes (one per core on PostgreSQL; SQLite takes one writer at a time)."


@app.command()
@clear_errors
def serve(
    database_url: DatabaseOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help=WORKERS_HELP)] = 1,
) -> None:
    """Serve the web application and the API."""
    import uvicorn

    from dragonnet.app import create_app
    from dragonnet.policy.admin import administrator_exists, setup_token

    if database_url:
        os.environ["DRAGONNET_DATABASE_URL"] = database_url  # the workers' settings read it too
    engine = open_engine(database_url)
    with Session(engine) as session:
        first_run = not administrator_exists(session)
    engine.dispose()
    # Read here, before any worker starts: without DRAGONNET_SECRET_KEY the key is made once in the data
    # directory, and every worker signs sessions with it (a key per worker would end sessions at random).
    settings = load_settings()
    typer.echo(f"dragonnet {__version__} on http://{host}:{port}/ (API docs: http://{host}:{port}/api/docs)"
               + (f", {workers} workers" if workers > 1 else ""))  # fmt: skip
    if first_run:
        token = setup_token(settings.secret_key)
        typer.echo(f"no administrator yet: create the first one at http://{host}:{port}/setup?token={token} "
                   "(or with `dragonnet bootstrap`)")  # fmt: skip
    if workers == 1:
        uvicorn.run(create_app(), host=host, port=port, proxy_headers=False, log_level="info")
    else:  # each worker process builds its own app from the factory
        uvicorn.run("dragonnet.app:create_app", factory=True, workers=workers, host=host, port=port,
                    proxy_headers=False, log_level="info")  # fmt: skip


# --- backup and restore -----------------------------------------------------------------------------------


@app.command("backup")
@clear_errors
def backup_command(
    out: Annotated[Path, typer.Argument(help="The backup file to write (.tar.gz).")],
    database_url: DatabaseOption = None,
) -> None:
    """Back up every table, the stored files and the audit chain into one portable file."""
    from dragonnet.storage.backup import backup

    engine = open_engine(database_url)
    summary = backup(engine, load_settings().data_dir, out)
    typer.echo(
        f"backup {summary.path}: schema {summary.revision}, {summary.rows} rows in {summary.tables} tables, "
        f"{summary.files} stored files, audit chain of {summary.audit_entries} entries"
    )


@app.command("restore")
@clear_errors
def restore_command(
    archive: Annotated[Path, typer.Argument(help="A backup written by `dragonnet backup`.")],
    force: Annotated[bool, typer.Option("--force", help="Wipe a database that holds data first.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Restore a backup into an empty database and prove it: table hashes, file hashes, audit chain."""
    from dragonnet.storage.backup import restore

    engine = open_engine(database_url, need_schema=False)
    summary = restore(engine, load_settings().data_dir, archive, force=force)
    typer.echo(
        f"restored schema {summary.revision}: {summary.rows} rows, {summary.files} stored files; "
        f"every table and file matches the backup; audit chain intact ({summary.audit_entries} entries)"
    )


# --- users ------------------------------------------------------------------------------------------------


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("create")
@clear_errors
def users_create(
    username: str,
    agency: Annotated[str, typer.Option(help="Agency code, e.g. VN-CUS.")],
    role: Annotated[list[str], typer.Option(help="Role (repeatable): reporter, national_coordinator, ...")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Create a user of an agency with one or more roles."""
    from dragonnet.policy.users import create_user

    engine = open_engine(database_url)
    password = _read_password(password_stdin)
    with session_scope(engine) as session:
        user = create_user(
            session, username=username, password=password, agency_code=agency, roles=role,
            display_name=name, email=email,
        )  # fmt: skip
        typer.echo(f"created user {user.username} ({agency}: {', '.join(role)})")


@users_app.command("reset-password")
@clear_errors
def users_reset_password(
    username: str,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Set a new password; unlocks the account and ends the user's sessions and API tokens."""
    from dragonnet.policy.users import reset_password

    engine = open_engine(database_url)
    password = _read_password(password_stdin)
    with session_scope(engine) as session:
        reset_password(session, username, password)
        typer.echo(f"password of {username} reset; their sessions and API tokens are closed")


@users_app.command("list")
@clear_errors
def users_list(
    agency: Annotated[str | None, typer.Option(help="Only users of this agency.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """List users with their agency and roles."""
    from dragonnet.storage.models import Agency, User

    engine = open_engine(database_url)
    with Session(engine) as session:
        query = select(User).join(Agency).order_by(Agency.code, User.username)
        if agency:
            query = query.where(Agency.code == agency)
        rows: list[dict[str, Any]] = [
            {"username": u.username, "agency": u.agency.code, "roles": sorted(u.role_names), "active": u.is_active}
            for u in session.execute(query).scalars()
        ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        state = "" if r["active"] else "  (disabled)"
        typer.echo(f"{r['username']:<24} {r['agency']:<14} {', '.join(r['roles'])}{state}")


# --- audit ------------------------------------------------------------------------------------------------


audit_app.command("export")(audit_export)


@audit_app.command("verify")
@clear_errors
def audit_verify(
    database_url: DatabaseOption = None,
    anchor: Annotated[
        list[str] | None,
        typer.Option(
            "--anchor",
            help="SEQ:HASH printed by an earlier verify and kept elsewhere (repeatable): "
            "proves the chain up to there was not rewritten.",
        ),
    ] = None,
) -> None:
    """Recompute the audit chain; exit 1 if any entry was changed, deleted or reordered."""
    from dragonnet.policy.audit import append_staged, parse_anchor, verify

    try:
        anchors = dict(parse_anchor(a) for a in anchor or [])
    except ValueError as exc:
        raise fail(str(exc)) from None
    engine = open_engine(database_url)
    # Entries a stopped server committed but had not chained yet are chained first, so they are verified too.
    chained = append_staged(engine)
    with Session(engine) as session:
        result = verify(session, anchors)
    if not result.ok:
        raise fail(f"audit chain broken after {result.entries} entries: {result.problem}")
    typer.echo(
        f"audit chain intact: {result.entries} entries"
        + (f", {len(anchors)} anchor(s) match" if anchors else "")
        + (f" ({chained} staged entries chained first)" if chained else "")
        + (f"; {result.staged} entries committed since, not yet chained" if result.staged else "")
    )
    typer.echo(
        f"anchor: {result.head_seq}:{result.head_hash}  (keep it outside this system; "
        "pass it to a later verify with --anchor)"
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
