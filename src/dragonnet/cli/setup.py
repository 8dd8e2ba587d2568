"""Setting up a real operation from the command line: the first administrator, agencies and contact points,
operations and their phases and participants, a roster file, and the bulk validation of cases.

Thin: each command parses, calls the one service (dragonnet.policy.admin, dragonnet.operation.manage,
dragonnet.operation.roster, dragonnet.intake.workflow) and prints. Commands act as the console's operator
(`system` in the audit log) unless `--as USER` names a user, whose rights then apply.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from dragonnet.cli.common import AsUserOption, DatabaseOption, actor_for, clear_errors, fail, open_engine
from dragonnet.policy.access import SYSTEM, Actor
from dragonnet.storage.db import session_scope

agencies_app = typer.Typer(help="Agencies and their contact points.", no_args_is_help=True)
operations_app = typer.Typer(help="Operations: create, phases, participants, commodity scope.", no_args_is_help=True)
cases_app = typer.Typer(help="Cases: bulk validation.", no_args_is_help=True)
roster_app = typer.Typer(help="The roster file: agencies, contact points and users in one go.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
EXIT_REJECTED_ROWS = 2


def _actor(session: Session, user: str | None) -> Actor:
    return actor_for(session, user) if user else SYSTEM


def _day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise fail(f"{option}: not a date: {value!r} (use YYYY-MM-DD)") from None


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


# --- the first administrator ------------------------------------------------------------------------------------


def bootstrap(
    username: Annotated[str, typer.Argument(help="The first administrator's user name.")],
    agency: Annotated[str, typer.Option("--agency", help="Its agency's code (created with it), e.g. RILO-AP.")],
    agency_name: Annotated[str, typer.Option("--agency-name", help="The agency's name.")] = "",
    kind: Annotated[str, typer.Option("--kind", help="customs, police, border, regional_office, other...")] = "other",
    country: Annotated[str | None, typer.Option("--country", help="ISO code or name; none for bodies.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Create the first administrator (and its agency) on a database that has none; refused afterwards."""
    from dragonnet.policy.admin import FirstAdministrator, administrator_exists, first_administrator

    engine = open_engine(database_url)
    with Session(engine) as session:
        if administrator_exists(session):
            raise fail("an administrator exists already: log in as one (they create the other accounts)")
    password = _read_password(password_stdin)
    spec = FirstAdministrator(username=username, password=password, agency_code=agency,
                              agency_name=agency_name or agency, agency_kind=kind, agency_country=country,
                              display_name=name, email=email)  # fmt: skip
    with session_scope(engine) as session:
        user = first_administrator(session, spec, console=True)
        typer.echo(f"created administrator {user.username} of {user.agency.code} ({user.agency.name})")


# --- agencies ---------------------------------------------------------------------------------------------------


def _agency_row(a: Any) -> dict[str, Any]:
    return {"code": a.code, "name": a.name, "kind": a.kind, "country": a.country, "active": a.is_active}


@agencies_app.command("add")
@clear_errors
def agencies_add(
    code: Annotated[str, typer.Argument(help="Its code, e.g. VN-CUS.")],
    name: Annotated[str, typer.Option("--name", help="Its name.")],
    kind: Annotated[str, typer.Option("--kind", help="customs, police, border, regional_office, ngo, other...")],
    country: Annotated[str | None, typer.Option("--country", help="ISO code or name; none for bodies.")] = None,
    user: AsUserOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Add an agency."""
    from dragonnet.policy.admin import create_agency

    with session_scope(open_engine(database_url)) as session:
        agency = create_agency(session, _actor(session, user), code=code, name=name, kind=kind, country=country)
        typer.echo(f"added agency {agency.code}: {agency.name} ({agency.kind}, {agency.country or 'no country'})")


@agencies_app.command("list")
@clear_errors
def agencies_list(as_json: JsonOption = False, user: AsUserOption = None, database_url: DatabaseOption = None) -> None:
    """List the agencies."""
    from dragonnet.policy.admin import list_agencies

    with Session(open_engine(database_url)) as session:
        rows = [_agency_row(a) for a in list_agencies(session, _actor(session, user))]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for r in rows:
        state = "" if r["active"] else "  (deactivated)"
        typer.echo(f"{r['code']:<14} {r['country'] or '--':<3} {r['kind']:<26} {r['name']}{state}")


@agencies_app.command("deactivate")
@clear_errors
def agencies_deactivate(code: str, user: AsUserOption = None, database_url: DatabaseOption = None) -> None:
    """Deactivate an agency: its users are disabled; it can no longer be named in shares."""
    from dragonnet.policy.admin import deactivate_agency, get_agency_by_code

    with session_scope(open_engine(database_url)) as session:
        actor = _actor(session, user)
        agency = deactivate_agency(session, actor, get_agency_by_code(session, actor, code).id)
        typer.echo(f"agency {agency.code} deactivated; its users are disabled")


@agencies_app.command("contact-point")
@clear_errors
def agencies_contact_point(
    agency: Annotated[str, typer.Argument(help="The agency's code.")],
    code: Annotated[str, typer.Argument(help="The contact point's code, e.g. HAN-AIR.")],
    name: Annotated[str, typer.Option("--name", help="Its name.")],
    kind: Annotated[str, typer.Option("--kind", help="seaport, airport, land_border, headquarters...")],
    locode: Annotated[str | None, typer.Option("--locode", help="Its UN/LOCODE, e.g. VNHAN.")] = None,
    user: AsUserOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Add a contact point (a port, airport, border post or office) to an agency."""
    from dragonnet.policy.admin import create_contact_point, get_agency_by_code

    with session_scope(open_engine(database_url)) as session:
        actor = _actor(session, user)
        found = get_agency_by_code(session, actor, agency)
        cp = create_contact_point(session, actor, found.id, code=code, name=name, kind=kind, locode=locode)
        typer.echo(f"added contact point {found.code}/{cp.code}: {cp.name} ({cp.kind})")


@agencies_app.command("contact-points")
@clear_errors
def agencies_contact_points(
    agency: str, as_json: JsonOption = False, user: AsUserOption = None, database_url: DatabaseOption = None
) -> None:
    """List an agency's contact points."""
    from dragonnet.policy.admin import get_agency_by_code, list_contact_points

    with Session(open_engine(database_url)) as session:
        actor = _actor(session, user)
        found = get_agency_by_code(session, actor, agency)
        rows = [{"code": c.code, "name": c.name, "kind": c.kind, "locode": c.locode}
                for c in list_contact_points(session, actor, found.id)]  # fmt: skip
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for r in rows:
        typer.echo(f"{r['code']:<14} {r['kind']:<14} {r['locode'] or '':<6} {r['name']}")


# --- operations -------------------------------------------------------------------------------------------------


@operations_app.command("create")
@clear_errors
def operations_create(
    slug: Annotated[str, typer.Argument(help="Its short name in addresses, e.g. mekong-dragon.")],
    name: Annotated[str, typer.Option("--name", help="Its name.")],
    description: Annotated[str, typer.Option("--description", help="What it is about.")] = "",
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="Commodity class in scope (repeatable): drug, wildlife...")
    ] = None,
    user: AsUserOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Create an operation (then add its phases and participants)."""
    from dragonnet.operation.manage import create_operation

    with session_scope(open_engine(database_url)) as session:
        op = create_operation(session, _actor(session, user), slug=slug, name=name, description=description,
                              scope=scope or [])  # fmt: skip
        typer.echo(f"created operation {op.slug}: {op.name}" + (f" (scope: {', '.join(op.scope)})" if op.scope else ""))


@operations_app.command("list")
@clear_errors
def operations_list(
    as_json: JsonOption = False, user: AsUserOption = None, database_url: DatabaseOption = None
) -> None:
    """List the operations with their phases."""
    from dragonnet.operation.manage import operations

    with Session(open_engine(database_url)) as session:
        rows: list[dict[str, Any]] = [{"slug": op.slug, "name": op.name, "scope": list(op.scope or []),
                 "phases": [{"number": p.number, "name": p.name, "start": p.start_date.isoformat(),
                             "end": p.end_date.isoformat()} for p in op.phases]}
                for op in operations(session, _actor(session, user))]  # fmt: skip
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for r in rows:
        typer.echo(f"{r['slug']:<24} {r['name']}  ({len(r['phases'])} phase(s); scope: {', '.join(r['scope']) or '-'})")


@operations_app.command("show")
@clear_errors
def operations_show(
    slug: str, as_json: JsonOption = False, user: AsUserOption = None, database_url: DatabaseOption = None
) -> None:
    """An operation: phases (with validated cases), participants, commodity scope."""
    from dragonnet.operation.manage import show

    with Session(open_engine(database_url)) as session:
        d = show(session, _actor(session, user), slug)
        totals = {t.number: t.cases for t in d.totals}
        data: dict[str, Any] = {
            "slug": d.operation.slug, "name": d.operation.name, "description": d.operation.description,
            "scope": list(d.operation.scope or []),
            "phases": [{"number": p.number, "name": p.name, "start": p.start_date.isoformat(),
                        "end": p.end_date.isoformat(), "validated_cases": totals.get(p.number)} for p in d.phases],
            "participants": [{"agency": a.code, "name": a.name, "country": a.country, "role": part.role,
                              "since_phase": part.since_phase} for part, a in d.participants],
        }  # fmt: skip
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{data['slug']}: {data['name']}")
    if data["description"]:
        typer.echo(f"  {data['description']}")
    typer.echo(f"scope: {', '.join(data['scope']) or '-'}")
    typer.echo("phases (validated cases; '<5' is a suppressed small count):")
    for p in data["phases"]:
        n = p["validated_cases"]
        typer.echo(f"  {p['number']:>2} {p['name']:<14} {p['start']} .. {p['end']}  {'<5' if n is None else n}")
    typer.echo("participants:")
    for part in data["participants"]:
        typer.echo(f"  {part['agency']:<14} {part['role']:<12} {part['name']}")


@operations_app.command("phase")
@clear_errors
def operations_phase(
    slug: Annotated[str, typer.Argument(help="The operation.")],
    name: Annotated[str, typer.Option("--name", help='The phase\'s name, e.g. "Phase I".')],
    start: Annotated[str, typer.Option("--start", help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--end", help="Last day (YYYY-MM-DD), inclusive.")],
    number: Annotated[int | None, typer.Option("--number", help="Its number (default: from the name).")] = None,
    user: AsUserOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Add a phase, or move an existing one (phases may not overlap nor orphan cases)."""
    from dragonnet.operation.manage import set_phase

    first, last = _day(start, "--start"), _day(end, "--end")
    with session_scope(open_engine(database_url)) as session:
        phase, created = set_phase(session, _actor(session, user), slug, name=name, start=first, end=last,
                                   number=number)  # fmt: skip
        verb = "added" if created else "moved"
        typer.echo(f"{verb} {phase.name} (number {phase.number}): {phase.start_date} .. {phase.end_date}")


@operations_app.command("join")
@clear_errors
def operations_join(
    slug: Annotated[str, typer.Argument(help="The operation.")],
    agency: Annotated[str, typer.Argument(help="The agency's code.")],
    role: Annotated[str, typer.Option("--role", help="lead, member, partner or observer.")] = "member",
    since_phase: Annotated[int | None, typer.Option("--since-phase", help="From this phase number on.")] = None,
    user: AsUserOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """An agency takes part in the operation (joining again changes its role)."""
    from dragonnet.operation.manage import join

    with session_scope(open_engine(database_url)) as session:
        part, what = join(session, _actor(session, user), slug, agency, role, since_phase)
        typer.echo(f"{part.agency.code} in {slug} as {part.role}: {what}")


@operations_app.command("scope")
@clear_errors
def operations_scope(
    slug: str,
    classes: Annotated[list[str], typer.Argument(help="Commodity classes: drug, precursor, wildlife, timber, other.")],
    user: AsUserOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Set the commodity classes the operation covers."""
    from dragonnet.operation.manage import set_scope

    with session_scope(open_engine(database_url)) as session:
        op = set_scope(session, _actor(session, user), slug, classes)
        typer.echo(f"{op.slug} covers {', '.join(op.scope)}")


# --- bulk validation --------------------------------------------------------------------------------------------


def _refs_file(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise fail(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise fail(f"{path}: not UTF-8 text (one case ref per line)") from None
    refs = [line.split(",")[0].strip() for line in text.splitlines()]
    refs = [r for r in refs if r and not r.startswith("#") and r.lower() != "case_ref"]
    if not refs:
        raise fail(f"{path}: no case refs (one per line)")
    return refs


@cases_app.command("validate")
@clear_errors
def cases_validate(
    operation: Annotated[str, typer.Option("--operation", help="The operation's slug.")],
    agency: Annotated[str, typer.Option("--agency", help="The reporting agency whose cases to validate.")],
    user: Annotated[str, typer.Option("--as", "--user", help="The validating user (coordinator or analyst).")],
    all_submitted: Annotated[
        bool, typer.Option("--all-submitted", help="Every submitted case of the agency you may see.")
    ] = False,
    refs: Annotated[Path | None, typer.Option("--refs", help="A file of case refs, one per line.")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="A note kept in each case's history.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be validated; change nothing.")] = False,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Validate an agency's submitted cases at once: all of them, or those listed in a file."""
    from dragonnet.cli.progress import progress_bar
    from dragonnet.intake.workflow import validate_cases
    from dragonnet.operation.service import get_operation

    if all_submitted == (refs is not None):
        raise fail("say which cases: --all-submitted or --refs FILE (one of them)")
    wanted = _refs_file(refs) if refs is not None else None
    with session_scope(open_engine(database_url)) as session:
        actor = actor_for(session, user)
        op = get_operation(session, operation)
        with progress_bar(f"validating {agency} cases", enabled=not as_json) as progress:
            result = validate_cases(session, actor, op, agency, refs=wanted, reason=reason, dry_run=dry_run,
                                    progress=progress)  # fmt: skip
    if as_json:
        typer.echo(json.dumps(result.summary(), indent=2, ensure_ascii=False))
        return
    verb = "would validate" if dry_run else "validated"
    typer.echo(
        f"{verb} {len(result.validated)} case(s) of {result.agency} in {result.operation}"
        + (f"; {len(result.already_validated)} validated already" if result.already_validated else "")
    )


# --- the roster -------------------------------------------------------------------------------------------------


@roster_app.command("import")
def roster_import(
    file: Annotated[Path, typer.Argument(help="The roster (CSV or XLSX).", show_default=False)],
    operation: Annotated[
        str | None, typer.Option("--operation", help="Also make the agencies take part in this operation.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and report; write nothing.")] = False,
    passwords: Annotated[
        Path | None,
        typer.Option(
            "--passwords", help="Where to write the new users' first passwords (default: FILE.passwords.csv)."
        ),
    ] = None,
    as_json: JsonOption = False,
    user: AsUserOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Import agencies, contact points and users (idempotent). Exit 2: rows rejected, nothing written."""
    from dragonnet.cli.progress import progress_bar
    from dragonnet.errors import DragonnetError
    from dragonnet.operation.roster import import_roster, passwords_csv

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        with (
            session_scope(open_engine(database_url)) as session,
            progress_bar(f"importing {file.name}", enabled=not as_json) as progress,
        ):
            report = import_roster(session, _actor(session, user), data, file.name, operation=operation,
                                   dry_run=dry_run, progress=progress)  # fmt: skip
    except DragonnetError as exc:
        raise fail(str(exc)) from None
    secrets_path = None
    if report.new_passwords:
        secrets_path = passwords or file.with_name(f"{file.stem}.passwords.csv")
        try:
            secrets_path.write_bytes(b"")
            secrets_path.chmod(0o600)
            secrets_path.write_bytes(passwords_csv(report.new_passwords))
        except OSError as exc:
            raise fail(
                f"the users were created, but their first passwords could not be written to "
                f"{secrets_path}: {exc.strerror or exc}; reset them with `dragonnet users reset-password`"
            ) from None
    if as_json:
        out = report.to_dict()
        out["passwords_file"] = str(secrets_path) if secrets_path else None
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        for error in report.errors:
            typer.echo(f"  {error}", err=True)
        if report.errors:
            typer.echo(f"error: {report.filename}: {len(report.errors)} problem(s) in {report.rows_rejected} row(s); "
                       "nothing was imported", err=True)  # fmt: skip
        else:
            typer.echo(report.text())
            if secrets_path:
                typer.echo(f"first passwords of the {len(report.new_passwords)} new user(s): {secrets_path} "
                           "(hand each one over, then delete the file)")  # fmt: skip
    if report.errors:
        raise typer.Exit(code=EXIT_REJECTED_ROWS)


@roster_app.command("template")
@clear_errors
def roster_template(
    directory: Annotated[Path, typer.Argument(help="Where to write roster-template.csv and .xlsx.")] = Path("."),
) -> None:
    """Write the roster templates (CSV and XLSX with drop-down lists)."""
    from dragonnet.operation.roster import write_templates

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"cannot create {directory}: {exc.strerror or exc}") from None
    csv_path, xlsx_path = write_templates(directory)
    typer.echo(f"wrote {csv_path} and {xlsx_path}")
