"""`dragonnet screen FILE --operation SLUG --as USER`: screen a list against what the user may see."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dragonnet.cli.common import DatabaseOption, actor_for, fail, open_engine
from dragonnet.cli.progress import progress_bar
from dragonnet.config import load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dragonnet.policy.access import Actor
    from dragonnet.progress import Progress

OUT_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json"}
PRINTED_HITS = 50


def screen(
    file: Annotated[Path, typer.Argument(help="The list to screen: CSV or XLSX (manifest, consignees, register).")],
    operation: Annotated[str, typer.Option("--operation", help="The operation's slug.")],
    username: Annotated[str, typer.Option("--as", "--user", help="Screen as this user: only what they may see.")],
    kind: Annotated[str, typer.Option("--kind", help="persons or companies (a 'kind' column overrides).")] = "persons",
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold", help="Match probability of a hit (default: the operation's adopted one, else 0.9)."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the hits to a .csv, .xlsx or .json file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    key_file: Annotated[
        Path | None, typer.Option("--key-file", help="An encoded list: the operation's shared linkage key.")
    ] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Screen a list against the operation's case parties, your agency's declarations and your watchlist. An
    encoded list (`dragonnet screen encode`) is matched on its encodings: no name was sent."""
    from dragonnet.linkage.screening import service

    out_format = None
    if out is not None:
        out_format = OUT_FORMATS.get(out.suffix.lower())
        if out_format is None:
            raise fail(f"--out {out}: use a .csv, .xlsx or .json file")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}") from None
    from dragonnet.cli.screening_encoded import screen_encoded_file
    from dragonnet.linkage.screening.encoded import looks_encoded

    if looks_encoded(data):
        return screen_encoded_file(data, file, operation=operation, username=username, threshold=threshold,
                                   key_file=key_file, out=out, out_format=out_format, as_json=as_json,
                                   database_url=database_url)  # fmt: skip
    run_and_report(
        lambda session, actor, bar: service.screen(
            session, actor, operation=operation, data=data, filename=file.name, kind=kind, threshold=threshold,
            progress=bar, data_dir=load_settings().data_dir,
        ),
        service.export, _print, file=file, username=username, out=out, out_format=out_format, as_json=as_json,
        database_url=database_url,
    )  # fmt: skip


def run_and_report(
    run: Callable[[Session, Actor, Progress], Any], export: Callable[[Any, str], bytes],
    show: Callable[[Any, Path | None], None], *, file: Path, username: str, out: Path | None,
    out_format: str | None, as_json: bool, database_url: str | None,
) -> None:  # fmt: skip
    """What a screening of either kind does on the command line: run it as the user with a progress bar, one
    `error:` line on failure, the hits to `--out`, then JSON or the printed summary."""
    from dragonnet.errors import DragonnetError
    from dragonnet.storage.db import session_scope

    engine = open_engine(database_url)
    try:
        with session_scope(engine) as session, progress_bar(f"screening {file.name}", enabled=not as_json) as bar:
            result = run(session, actor_for(session, username), bar)
    except DragonnetError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    if out is not None and out_format is not None:
        try:
            out.write_bytes(export(result, out_format))
        except OSError as exc:
            raise fail(f"cannot write {out}: {exc.strerror}") from None
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
        return
    show(result, out)


def _print(result: object, out: Path | None) -> None:
    from dragonnet.linkage.screening.service import Screening

    assert isinstance(result, Screening)
    s = result.summary()
    typer.echo(
        f"{s['rows_read']} rows read: {s['rows_screened']} screened, {s['rows_quarantined']} quarantined; "
        f"against {s['case_parties']} case parties, {s['declaration_parties']} declared parties and "
        f"{s['watchlist_entries']} watchlist entries"
    )
    typer.echo(
        f"pairs compared {s['pairs_compared']}, scored {s['pairs_scored']}, at or above {s['threshold']} "
        f"{s['pairs_above_threshold']}; {s['hits']} hits on {s['rows_with_hits']} rows; "
        f"{s['notices']} screening notices"
    )
    trained = {"between": " on the pairs between list and reference", "together": " on list and reference together"}
    typer.echo(f"model: {s['model']}{trained.get(s['trained_on'], '')}; reference records read from the records "
               f"kept by the last linkage run: {s['cached_records']}")  # fmt: skip
    for hit in result.hits[:PRINTED_HITS]:
        p = "exact" if hit.match_probability is None else f"p={hit.match_probability:.3f}"
        typer.echo(f"  row {hit.row}: {hit.listed_name} -> {hit.matched_name}, {hit.reference} [{p}; "
                   f"{hit.evidence()}] {hit.link}")  # fmt: skip
    if len(result.hits) > PRINTED_HITS:
        typer.echo(f"  ... and {len(result.hits) - PRINTED_HITS} more" + (f" (all in {out})" if out else ""))
    if result.notices:
        typer.echo(f"{len(result.notices)} hits on records you may not see (screening notices; ask with "
                   "`dragonnet linkage request-screening NOTICE --reason ...`):")  # fmt: skip
    for n in result.notices[:PRINTED_HITS]:
        typer.echo(f"  row {n.row}: {n.listed_name} -> {n.owner_agency} holds a matching record "
                   f"(screening notice {n.notice_id})")  # fmt: skip
    if len(result.notices) > PRINTED_HITS:
        typer.echo(f"  ... and {len(result.notices) - PRINTED_HITS} more" + (f" (all in {out})" if out else ""))
    for e in result.report.quarantined:
        typer.echo(f"  quarantined: {e}")
    for e in result.report.notes:
        typer.echo(f"  note: {e}")
    if out is not None:
        typer.echo(f"hits written to {out}")
