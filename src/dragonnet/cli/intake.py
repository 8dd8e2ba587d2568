"""`dragonnet import ...`: import cases from the exchange format, and write its templates.

Exit codes of `import cases`: 0 every row landed (or would, with --dry-run); 2 rows were rejected (listed;
with --all-or-nothing nothing was written); 1 the file or the command is wrong (one line on stderr).

`--json` prints the whole report (every error and warning with its row, column, value, reason and
suggestion) on stdout and nothing else. The text output shows the first errors and says where the full
report was written (FILE.import-report.json beside the file, or --report PATH).
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from dragonnet.cli.common import AsUserOption, DatabaseOption, fail
from dragonnet.errors import DragonnetError
from dragonnet.intake.templates import language, write_csv_template, write_xlsx_template

EXIT_REJECTED_ROWS = 2
MAX_PRINTED_ERRORS = 50

import_app = typer.Typer(help="Import cases from the exchange format (CSV / XLSX).", no_args_is_help=True)


def default_report_path(file: Path) -> Path:
    return file.with_name(f"{file.stem}.import-report.json")


def write_report(path: Path, text: str) -> str | None:
    """Write the full report; the reason it could not be written, or None."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


@import_app.command("cases")
def cases(
    file: Annotated[Path, typer.Argument(help="The CSV or XLSX file.", show_default=False)],
    agency: Annotated[str, typer.Option("--agency", help="Your agency's code, e.g. VN-CUS.", show_default=False)],
    operation: Annotated[str, typer.Option("--operation", help="The operation's slug.")] = "mekong-dragon",
    user: AsUserOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report; write nothing.")] = False,
    all_or_nothing: Annotated[
        bool, typer.Option("--all-or-nothing", help="Write nothing if any row is rejected.")
    ] = False,
    validate: Annotated[
        bool,
        typer.Option(
            "--validate",
            help="Also validate the imported cases in the same step (verified historic data; needs --as a "
            "national coordinator of the agency's country or a regional analyst).",
        ),
    ] = False,
    day_first: Annotated[bool, typer.Option("--day-first", help="Also read dates as DD/MM/YYYY.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON (stdout).")] = False,
    report_path: Annotated[
        Path | None, typer.Option("--report", help="Where to write the full report (default: FILE.import-report.json).")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Import cases. Exit 0: every row landed; 2: rows were rejected (listed); 1: the file was rejected."""
    from dragonnet.cli.common import actor_for, open_engine
    from dragonnet.cli.progress import progress_bar
    from dragonnet.intake.importer import import_cases
    from dragonnet.intake.workflow import BulkValidation, validate_cases, validator_agency
    from dragonnet.operation.service import get_operation
    from dragonnet.policy.access import audit_actor
    from dragonnet.policy.audit import AuditActor
    from dragonnet.storage.db import session_scope

    if validate and user is None:
        raise fail("--validate needs --as USER (a national coordinator or a regional analyst)")
    validation: BulkValidation | None = None
    try:
        engine = open_engine(database_url)
        with session_scope(engine) as session:
            account = None
            if user is not None:
                account = actor_for(session, user)
                if (account.agency_code or "").upper() != agency.strip().upper():
                    raise fail(f"user {account.username} belongs to {account.agency_code}, not to {agency}")
                actor = audit_actor(account)
            else:
                actor = AuditActor(None, f"cli:{getpass.getuser()}", agency.strip().upper())
            if validate and account is not None:
                validator_agency(session, account, agency)  # refused before anything is imported
            with progress_bar(f"importing {file.name}", enabled=not as_json) as progress:
                progress(0, None, "reading and checking")
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
                if validate and account is not None and report.case_refs and (report.written or dry_run):
                    validation = validate_cases(
                        session, account, get_operation(session, operation), agency, refs=report.case_refs,
                        reason=f"validated on import of {report.filename}", dry_run=dry_run, progress=progress,
                    )  # fmt: skip
    except DragonnetError as exc:
        raise fail(str(exc)) from None
    full = json.loads(report.to_json())
    if validation is not None:
        full["validation"] = validation.summary()
    text = json.dumps(full, ensure_ascii=False, indent=2, default=str)
    if as_json:
        typer.echo(text)
    else:
        _print_text(report, validation, dry_run=dry_run, all_or_nothing=all_or_nothing)
        target = report_path or default_report_path(file)
        problem = write_report(target, text)
        if problem:
            typer.echo(f"full report not written to {target}: {problem} (use --json or --report PATH)", err=True)
        else:
            typer.echo(f"full report: {target}", err=not report.ok)
    if report.rows_rejected or report.errors_total:
        raise typer.Exit(code=EXIT_REJECTED_ROWS)


def _print_text(report: object, validation: object, *, dry_run: bool, all_or_nothing: bool) -> None:
    from dragonnet.intake.importer import ImportReport
    from dragonnet.intake.workflow import BulkValidation

    assert isinstance(report, ImportReport)
    verb = "would import" if dry_run else ("imported" if report.written else "imported nothing from")
    typer.echo(
        f"{report.filename}: {verb} {report.cases_created} new, {report.cases_updated} updated and "
        f"{report.cases_unchanged} unchanged case(s), "
        f"{report.rows_imported} of {report.rows_total} row(s)"
        + (f" (encoding {report.encoding})" if report.encoding else "")
    )
    if isinstance(validation, BulkValidation):
        verb = "would validate" if dry_run else "validated"
        typer.echo(
            f"{verb} {len(validation.validated)} case(s)"
            + (f" ({len(validation.already_validated)} validated already)" if validation.already_validated else "")
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
        typer.echo(f"  ... and {report.errors_total - MAX_PRINTED_ERRORS} more (all of them in the full report)",
                   err=True)  # fmt: skip
    if report.warnings_total:
        typer.echo(f"{report.warnings_total} value(s) accepted with a warning (read by a guess, kept as written, "
                   "quantity unknown); check them:", err=True)  # fmt: skip
        for w in report.warnings[:MAX_PRINTED_ERRORS]:
            typer.echo(f"  {w.sheet} row {w.row}, {w.column}: {w.value!r} {w.reason}", err=True)
        if report.warnings_total > MAX_PRINTED_ERRORS:
            typer.echo(f"  ... and {report.warnings_total - MAX_PRINTED_ERRORS} more (in the full report)", err=True)
    if report.values_to_review and not dry_run:
        typer.echo(f"{report.values_to_review} distinct value(s) went to the operation's review queue "
                   "(`dragonnet curation list`)", err=True)  # fmt: skip


@import_app.command("template")
def template(
    directory: Annotated[
        Path, typer.Argument(help="Where to write cases-template.csv and cases-template.xlsx (created if needed).")
    ] = Path("."),
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang", help="Language of the headers, notes and sheets: en (default), zh_Hans, vi, th, fr, km, lo."
        ),
    ] = None,
) -> None:
    """Write the exchange-format templates: a CSV header and an XLSX workbook with drop-down lists."""
    try:
        locale = language(lang)
    except DragonnetError as exc:
        raise fail(str(exc)) from None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"cannot create {directory}: {exc.strerror or exc}") from None
    if not directory.is_dir():
        raise fail(f"not a directory: {directory}")
    csv_path, xlsx_path = directory / "cases-template.csv", directory / "cases-template.xlsx"
    write_csv_template(csv_path, locale)
    write_xlsx_template(xlsx_path, locale)
    typer.echo(f"wrote {csv_path} and {xlsx_path}")
