"""`dragonnet screen encode FILE --key-file K --out list.encoded.json`: encode a list where it is (no name leaves);
`dragonnet screen list.encoded.json --operation SLUG --as USER`: screen the encoded list at the hub.

`dragonnet screen FILE ...` stays the way to screen: `ScreenGroup` reads a first argument that is not a subcommand
as the file of the default command (`screen list`), clear or encoded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from dragonnet.cli.common import clear_errors, fail

PRINTED_HITS = 50
DEFAULT_COMMAND = "list"


class ScreenGroup(TyperGroup):
    """A group whose first argument, when it is not a subcommand (a file, an option), goes to `screen list`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


def encode(
    file: Annotated[Path, typer.Argument(help="The list to encode: CSV or XLSX (manifest, consignees, register).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the encoded list (JSON), to send to the hub.")],
    key_file: Annotated[
        Path | None,
        typer.Option("--key-file", help="The operation's shared linkage key (else $DRAGONNET_LINKAGE_KEY)."),
    ] = None,
    kind: Annotated[str, typer.Option("--kind", help="persons or companies (a 'kind' column overrides).")] = "persons",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Encode a list to screen without sending names: Bloom-filter encodings under the operation's key."""
    from dragonnet.cli.linkage import _secret
    from dragonnet.linkage.screening.encoded import encode_list

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}") from None
    secret = _secret(key_file)
    encoded, report = encode_list(data, file.name, secret, kind=kind)
    try:
        out.write_bytes(encoded.dumps())
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror}") from None
    summary = {"rows_read": report.rows_read, "rows_encoded": len(encoded.rows),
               "rows_quarantined": report.quarantined_rows, "out": str(out)}  # fmt: skip
    if as_json:
        typer.echo(json.dumps(summary))
        return
    typer.echo(f"{report.rows_read} rows read: {len(encoded.rows)} encoded, {report.quarantined_rows} quarantined; "
               f"written to {out} (encodings only: no name, date, number or address)")  # fmt: skip
    for e in report.quarantined:  # with their values: this report stays here, only row numbers are sent
        typer.echo(f"  quarantined: {e}")
    for e in report.notes:
        typer.echo(f"  note: {e}")


def screen_encoded_file(
    data: bytes, file: Path, *, operation: str, username: str, threshold: float | None, key_file: Path | None,
    out: Path | None, out_format: str | None, as_json: bool, database_url: str | None,
) -> None:  # fmt: skip
    """The hub's side of `dragonnet screen ENCODED_FILE`: match the encodings against what the user may see."""
    from dragonnet.cli.linkage import _secret
    from dragonnet.cli.screening import run_and_report
    from dragonnet.linkage.screening import encoded

    secret = _secret(key_file)
    run_and_report(
        lambda session, actor, bar: encoded.screen_encoded(
            session, actor, operation=operation, data=data, filename=file.name, secret=secret,
            threshold=threshold, progress=bar,
        ),
        encoded.export, _print, file=file, username=username, out=out, out_format=out_format, as_json=as_json,
        database_url=database_url,
    )  # fmt: skip


def _print(result: Any, out: Path | None) -> None:
    s = result.summary()
    typer.echo(
        f"privacy-preserving screening: {s['rows_read']} rows read, {s['rows_screened']} encoded, "
        f"{s['rows_quarantined']} quarantined at the sender; against {s['case_parties']} case parties, "
        f"{s['declaration_parties']} declared parties and {s['watchlist_entries']} watchlist entries"
    )
    typer.echo(
        f"pairs compared {s['pairs_compared']}, scored {s['pairs_scored']}, at or above {s['threshold']} "
        f"{s['pairs_above_threshold']}; {s['hits']} hits on {s['rows_with_hits']} rows (model: {s['model']}); "
        f"{s['notices']} screening notices"
    )
    for hit in result.hits[:PRINTED_HITS]:
        p = "exact" if hit.match_probability is None else f"p={hit.match_probability:.3f}"
        typer.echo(f"  row {hit.row} -> {hit.matched_name}, {hit.reference} [{p}; {hit.evidence()}] {hit.link}")
    if len(result.hits) > PRINTED_HITS:
        typer.echo(f"  ... and {len(result.hits) - PRINTED_HITS} more" + (f" (all in {out})" if out else ""))
    if result.notices:
        typer.echo(f"{len(result.notices)} hits on records you may not see (screening notices; ask with "
                   "`dragonnet linkage request-screening NOTICE --reason ...`):")  # fmt: skip
    for n in result.notices[:PRINTED_HITS]:
        typer.echo(f"  row {n.row} -> {n.owner_agency} holds a matching record (screening notice {n.notice_id})")
    if len(result.notices) > PRINTED_HITS:
        typer.echo(f"  ... and {len(result.notices) - PRINTED_HITS} more" + (f" (all in {out})" if out else ""))
    for e in result.encoded.quarantined:
        typer.echo(f"  not screened: row {e.row}, {e.column}: {e.reason}")
    if out is not None:
        typer.echo(f"hits written to {out}")


def screen_app(screen: Any) -> typer.Typer:
    """`dragonnet screen`: the default command (`screen` itself: a clear or an encoded list) and `encode`."""
    app = typer.Typer(cls=ScreenGroup, no_args_is_help=True,
                      help="Screen a list against the operation (dragonnet screen FILE ...), or encode one to screen "
                           "without sending names (dragonnet screen encode FILE ...).")  # fmt: skip
    app.command(DEFAULT_COMMAND, help="Screen a list (CSV, XLSX, or an encoded list): the default command.")(
        clear_errors(screen)
    )
    app.command("encode")(clear_errors(encode))
    return app
