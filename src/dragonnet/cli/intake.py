"""`dragonnet import ...`: import cases from the exchange format, and write its templates.

Exit codes of `import cases`: 0 every row landed (or would, with --dry-run); 2 rows were rejected (listed;
with --all-or-nothing nothing was written); 1 the file or the command is wrong (one line on stderr).
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from dragonnet.errors import DragonnetError
from dragonnet.intake.templates import write_csv_template, write_xlsx_template

EXIT_REJECTED_ROWS = 2
MAX_PRINTED_ERRORS = 50

import_app = typer.Typer(help="Import cases from the exchange format (CSV / XLSX).", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


@import_app.command("cases")
def cases(
    file: Annotated[Path, typer.Argument(help="The CSV or XLSX file.", show_default=False)],
    agency: Annotated[str, typer.Option("--agency", help="Your agency's code, e.g. VN-CUS.", show_default=False)],
    operation: Annotated[str, typer.Option("--operation", help="The operation's slug.")] = "mekong-dragon",
    user: Annotated[
        str | None, typer.Option("--as", "--user", help="The importing user (must belong to the agency).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report; write nothing.")] = False,
    all_or_nothing: Annotated[
        bool, typer.Option("--all-or-nothing", help="Write nothing if any row is rejected.")
    ] = False,
    day_first: Annotated[bool, typer.Option("--day-first", help="Also read dates as DD/MM/YYYY.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report summary as JSON.")] = False,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Database URL (default: $DRAGONNET_DATABASE_URL).")
    ] = None,
) -> None:
    """Import cases. Exit 0: every row landed; 2: rows were rejected (listed); 1: the file was rejected."""
    from dragonnet.cli.common import actor_for, open_engine
    from dragonnet.intake.importer import import_cases
    from dragonnet.policy.access import audit_actor
    from dragonnet.policy.audit import AuditActor
    from dragonnet.storage.db import session_scope

    try:
        engine = open_engine(database_url)
        with session_scope(engine) as session:
            if user is not None:
                account = actor_for(session, user)
                if (account.agency_code or "").upper() != agency.strip().upper():
                    raise _fail(f"user {account.username} belongs to {account.agency_code}, not to {agency}")
                actor = audit_actor(account)
            else:
                actor = AuditActor(None, f"cli:{getpass.getuser()}", agency.strip().upper())
            report = import_cases(
                session,
                operation_slug=operation,
                agency_code=agency,
                actor=actor,
                file_path=file,
                dry_run=dry_run,
                all_or_nothing=all_or_nothing,
                day_first=day_first,
            )
    except DragonnetError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(report.summary(), ensure_ascii=False, default=str))
    else:
        verb = "would import" if dry_run else ("imported" if report.written else "imported nothing from")
        typer.echo(
            f"{report.filename}: {verb} {report.cases_created} new and {report.cases_updated} updated case(s), "
            f"{report.rows_imported} of {report.rows_total} row(s)"
            + (f" (encoding {report.encoding})" if report.encoding else "")
        )
        if report.rows_rejected:
            typer.echo(
                f"{report.rows_rejected} row(s) rejected, {report.cases_rejected} case(s) rejected"
                + (" - nothing written (all-or-nothing)" if all_or_nothing and not dry_run else ""),
                err=True,
            )
        for error in report.errors[:MAX_PRINTED_ERRORS]:
            typer.echo(f"  {error}", err=True)
        if report.errors_total > MAX_PRINTED_ERRORS:
            typer.echo(f"  ... and {report.errors_total - MAX_PRINTED_ERRORS} more (use --json)", err=True)
        if report.warnings_total:
            typer.echo(f"{report.warnings_total} value(s) accepted by a guess; check them:", err=True)
            for w in report.warnings[:MAX_PRINTED_ERRORS]:
                typer.echo(f"  {w.sheet} row {w.row}, {w.column}: {w.value!r} {w.reason}", err=True)
            if report.warnings_total > MAX_PRINTED_ERRORS:
                typer.echo(f"  ... and {report.warnings_total - MAX_PRINTED_ERRORS} more", err=True)
    if report.rows_rejected or report.errors_total:
        raise typer.Exit(code=EXIT_REJECTED_ROWS)


@import_app.command("template")
def template(
    directory: Annotated[
        Path, typer.Argument(help="Where to write cases-template.csv and cases-template.xlsx.")
    ] = Path("."),
) -> None:
    """Write the exchange-format templates: a CSV header and an XLSX workbook with drop-down lists."""
    if not directory.is_dir():
        raise _fail(f"not a directory: {directory}")
    csv_path, xlsx_path = directory / "cases-template.csv", directory / "cases-template.xlsx"
    write_csv_template(csv_path)
    write_xlsx_template(xlsx_path)
    typer.echo(f"wrote {csv_path} and {xlsx_path}")
