"""`dragonnet report ...`: the debrief report of a phase and case-list exports. Thin: parse, call, write."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dragonnet import i18n
from dragonnet.cli.common import DatabaseOption, actor_for, clear_errors, fail, open_engine
from dragonnet.storage.db import session_scope

report_app = typer.Typer(help="Debrief reports and exports, with explicit counting rules.", no_args_is_help=True)


@report_app.command("debrief")
@clear_errors
def debrief(
    operation: Annotated[str, typer.Option("--operation", help="The operation's slug, e.g. mekong-dragon.")],
    phase: Annotated[int | None, typer.Option("--phase", help="Phase number (default: the last phase).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json, html, pdf or xlsx.")] = "json",
    out: Annotated[Path | None, typer.Option("--out", help="Output file (default: standard output).")] = None,
    rule: Annotated[str, typer.Option("--rule", help="Counting rule: operation or wco-reported.")] = "operation",
    as_user: Annotated[
        str | None, typer.Option("--as", help="Compute within this user's scope and visibility.")
    ] = None,
    scope: Annotated[
        str | None, typer.Option("--scope", help="agency, country, operation or public (default: the role's).")
    ] = None,
    public: Annotated[bool, typer.Option("--public", help="The public summary (small cells suppressed).")] = False,
    commodity: Annotated[str | None, typer.Option("--commodity", help="Only cases of this class.")] = None,
    country: Annotated[str | None, typer.Option("--country", help="Only cases reported by this country.")] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Language of an html, pdf or xlsx debrief: en, zh_Hans, vi, fr..."),
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """The debrief of a phase: figures, charts, tables and maps, each with its counting rule.

    Without --as it is computed over the whole operation (an aggregate for the operation's own debrief).
    """
    from dragonnet.reporting import render, rules, service

    the_format = render.parse_format(fmt)
    the_rule = rules.preset(rule)
    locale = i18n.normalise(lang) if lang else None
    if lang and locale is None:
        raise fail(f"unknown language {lang!r}: use one of {', '.join(i18n.LOCALES)}")
    filters = service.Filters.parse(commodity, country)
    if fmt in ("pdf", "xlsx") and out is None:
        raise fail(f"--format {fmt} needs --out FILE")
    engine = open_engine(database_url)
    try:
        with session_scope(engine) as session:
            actor = actor_for(session, as_user) if as_user else None
            result = service.debrief(
                session, operation, phase, actor=actor, rule=the_rule,
                scope="public" if public else scope, filters=filters, fmt=the_format.value,
            )  # fmt: skip
            content = render.render(result, the_format, locale)
    finally:
        engine.dispose()
    if out is None:
        typer.echo(content.decode("utf-8"), nl=False)
        return
    out.write_bytes(content)
    h = result.headline
    change = "" if h.change_pct is None else f", {h.change_pct:+.0f}% on the previous phase"
    typer.echo(f"{out}: {result.phase.name}, {h.cases if h.cases is not None else '<5'} cases{change} ({rule} rule)")


@report_app.command("cases")
@clear_errors
def cases(
    operation: Annotated[str, typer.Option("--operation", help="The operation's slug.")],
    as_user: Annotated[str, typer.Option("--as", help="Export what this user may see.")],
    out: Annotated[Path, typer.Option("--out", help="Output file (.csv or .xlsx).")],
    phase: Annotated[int | None, typer.Option("--phase", help="Only this phase.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Export the case list a user may see (non-nominal columns), safe against formula injection."""
    from dragonnet.operation.service import get_operation
    from dragonnet.reporting.exports import export_cases

    fmt = out.suffix.lower().lstrip(".")
    engine = open_engine(database_url)
    try:
        with session_scope(engine) as session:
            actor = actor_for(session, as_user)
            op = get_operation(session, operation)
            content, _media, _name = export_cases(session, actor, op, fmt, phase)
    finally:
        engine.dispose()
    out.write_bytes(content)
    typer.echo(f"{out}: written")
