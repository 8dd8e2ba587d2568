"""`dragonnet curation list|map|mappings|unmap|export|import`: the curation loop of an operation. Thin: parse,
call dragonnet.intake.curation.service as the user named by --as (a national coordinator or a regional analyst),
print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dragonnet.cli.common import DatabaseOption, actor_for, clear_errors, fail, open_engine
from dragonnet.storage.db import session_scope

curation_app = typer.Typer(
    help="Values read by a guess or not at all: review them, map each once to a reference entry, share the "
    "mappings as a file.",
    no_args_is_help=True,
)

OperationOption = Annotated[str, typer.Option("--operation", help="The operation's slug, e.g. mekong-dragon.")]
AsOption = Annotated[str, typer.Option("--as", help="A national coordinator (its agency's values) or an analyst.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@curation_app.command("list")
@clear_errors
def list_values(
    operation: OperationOption,
    as_user: AsOption,
    kind: Annotated[str | None, typer.Option("--kind", help="taxon, place, substance, country or hs_code.")] = None,
    state: Annotated[str, typer.Option("--state", help="open, mapped, not_listed or all.")] = "open",
    agency: Annotated[str | None, typer.Option("--agency", help="Only the values of this agency.")] = None,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """The values to review, most written first: id, kind, the value as written, how it was read and why."""
    from dragonnet.intake.curation import service

    engine = open_engine(database_url)
    try:
        with session_scope(engine) as session:
            actor = actor_for(session, as_user)
            found = service.review_queue(session, actor, operation, kind=kind, state=None if state == "all" else state,
                                         agency=agency)  # fmt: skip
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps([e.to_dict() for e in found], indent=2, ensure_ascii=False))
        return
    for e in found:
        where = f" [{e.context}]" if e.context else ""
        read = f" -> {e.read_as}" if e.read_as else ""
        typer.echo(f"{e.id:>6}  {e.kind:<9} {e.status:<10} {e.agency:<10} {e.occurrences:>5}x  {e.text}{where}{read}")
        if e.reason:
            typer.echo(f"{'':<8}{e.reason}")
    typer.echo(f"{len(found)} value(s) ({state})")


@curation_app.command("map")
@clear_errors
def map_value(
    operation: OperationOption,
    as_user: AsOption,
    value_id: Annotated[int | None, typer.Option("--id", help="A queue entry (see `curation list`).")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Or name the value: its kind...")] = None,
    text: Annotated[str | None, typer.Option("--text", help="... and its text as written.")] = None,
    country: Annotated[str | None, typer.Option("--country", help="A place's country (empty: any).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="The reference entry: LOCODE/IATA, taxon, HS code...")] = None,
    not_listed: Annotated[bool, typer.Option("--not-listed", help="Confirm the value has no reference entry.")] = False,
    agency: Annotated[str | None, typer.Option("--agency", help="For this agency only (analysts).")] = None,
    note: Annotated[str | None, typer.Option("--note", help="Why, for the next reader.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Map a written value once: applied to the cases that carry it, to the queue and to every later import."""
    from dragonnet.intake.curation import service

    if (to is None) == (not not_listed):
        raise fail("give --to REFERENCE or --not-listed (one of them)")
    engine = open_engine(database_url)
    try:
        with session_scope(engine) as session:
            actor = actor_for(session, as_user)
            applied = service.map_value(session, actor, operation, value_id=value_id, kind=kind, text=text,
                                        context=country, agency=agency, target=to, not_listed=not_listed,
                                        note=note)  # fmt: skip
    finally:
        engine.dispose()
    m = applied.mapping
    what = "not listed" if m.not_listed else m.target_label
    typer.echo(f"{m.kind} {m.text!r} -> {what} (for {m.agency or 'the whole operation'}): {applied.cases} case(s), "
               f"{applied.items} value(s) changed; {applied.values_closed} queue entr(y/ies) closed")  # fmt: skip


@curation_app.command("mappings")
@clear_errors
def list_mappings(
    operation: OperationOption,
    as_user: AsOption,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind.")] = None,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """The mappings in force (the operation's, and your agency's)."""
    from dragonnet.intake.curation import service

    engine = open_engine(database_url)
    try:
        with session_scope(engine) as session:
            found = service.mappings(session, actor_for(session, as_user), operation, kind=kind)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps([m.to_dict() for m in found], indent=2, ensure_ascii=False))
        return
    for m in found:
        where = f" [{m.context}]" if m.context else ""
        typer.echo(f"{m.id:>6}  {m.kind:<9} {m.agency or '(operation)':<12} {m.text}{where} -> "
                   f"{'not listed' if m.not_listed else m.target_label}")  # fmt: skip


@curation_app.command("unmap")
@clear_errors
def unmap(
    operation: OperationOption,
    as_user: AsOption,
    mapping_id: Annotated[int, typer.Argument(help="The mapping's id (see `curation mappings`).")],
    database_url: DatabaseOption = None,
) -> None:
    """Remove a mapping: later imports read the value from the reference data again."""
    from dragonnet.intake.curation import service

    engine = open_engine(database_url)
    try:
        with session_scope(engine) as session:
            entry = service.remove_mapping(session, actor_for(session, as_user), operation, mapping_id)
    finally:
        engine.dispose()
    typer.echo(f"removed the mapping of {entry.kind} {entry.text!r}")


@curation_app.command("export")
@clear_errors
def export(
    operation: OperationOption,
    as_user: AsOption,
    out: Annotated[Path | None, typer.Option("--out", help="Output file (default: standard output).")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv or yaml (default: from --out, else csv).")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Write the mappings you see as a file (CSV or YAML) another operation can import."""
    from dragonnet.intake.curation import service

    chosen = fmt or ("yaml" if out is not None and out.suffix.lower() in (".yaml", ".yml") else "csv")
    engine = open_engine(database_url)
    try:
        with session_scope(engine) as session:
            text = service.export_mappings(session, actor_for(session, as_user), operation, chosen)
    finally:
        engine.dispose()
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror or exc}") from None
    typer.echo(f"wrote {out}")


@curation_app.command("import")
@clear_errors
def import_file(
    path: Annotated[Path, typer.Argument(help="A mapping file (.csv or .yaml).")],
    operation: OperationOption,
    as_user: AsOption,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Import a mapping file: every row checked first, nothing imported while one is wrong; then each mapping is
    made and applied to the cases that carry its value."""
    from dragonnet.intake.curation import service

    if not path.is_file():
        raise fail(f"no file at {path}")
    engine = open_engine(database_url)
    try:
        with session_scope(engine) as session:
            result = service.import_mappings(session, actor_for(session, as_user), operation, data=path.read_bytes(),
                                             filename=path.name)  # fmt: skip
            if not result.ok:
                session.rollback()
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps({"ok": result.ok, "rows": result.rows, "errors": [e.to_dict() for e in result.errors],
                               "applied": [{"mapping": a.mapping.to_dict(), "cases": a.cases} for a in result.applied]},
                              indent=2, ensure_ascii=False))  # fmt: skip
    if not result.ok:
        for e in result.errors:
            typer.echo(f"  row {e.row}: {e.value or ''}: {e.reason}", err=True)
        raise fail(f"nothing imported: {len(result.errors)} row(s) to fix in {path.name}")
    if not as_json:
        changed = sum(a.cases for a in result.applied)
        typer.echo(f"{len(result.applied)} mapping(s) imported and applied: {changed} case change(s)")
