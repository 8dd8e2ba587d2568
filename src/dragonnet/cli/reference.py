"""`dragonnet reference ...`: the reference datasets, and resolving one term or a file of terms. Thin: parse, call,
print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from dragonnet.cli.common import clear_errors, fail
from dragonnet.errors import ReferenceLookupError

reference_app = typer.Typer(help="Reference data: versions, and resolving a term (or a file of terms) against it.")

FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        help="Check every term of a file: a CSV with a `text` column (and `country` for places), or one term per line.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@reference_app.callback(invoke_without_command=True)
@clear_errors
def reference_versions(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the reference datasets loaded: name, version, records, source and licence."""
    if ctx.invoked_subcommand is not None:
        return
    from dragonnet.reference import datasets

    infos = datasets()
    if as_json:
        typer.echo(json.dumps([info.__dict__ for info in infos], indent=2, ensure_ascii=False))
        return
    for info in infos:
        typer.echo(f"{info.name:<12} {info.version:<32} {info.records:>7} records")
        typer.echo(f"{'':<12} source: {info.source}")
        typer.echo(f"{'':<12} licence: {info.licence}")


def _print(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    for key, value in data.items():
        if value in (None, [], ""):
            continue
        typer.echo(f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}")


def _check_file(kind: str, path: Path, as_json: bool) -> None:
    """Resolve every term of the file; a table (or JSON) per term, then the counts."""
    from dragonnet.reference.check import check_file

    if not path.is_file():
        raise fail(f"no file at {path}")
    report = check_file(kind, path.read_bytes())
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        return
    for r in report.results:
        where = f" [{r.country}]" if r.country else ""
        head = f"{r.line:>5}  {r.status:<10} {r.text}{where}"
        if r.resolved_to:
            head += f"  ->  {r.resolved_to}"
        typer.echo(head)
        if r.reason:
            typer.echo(f"{'':<17}{r.reason}")
        if r.suggestions:
            typer.echo(f"{'':<17}did you mean: {'; '.join(r.suggestions)}")
    c = report.counts
    typer.echo(f"{len(report.results)} terms: {c['exact']} exact, {c['guess']} guessed, {c['unresolved']} unresolved")


def _one_term(text: str | None, path: Path | None) -> str | None:
    if (text is None) == (path is None):
        raise fail("give a term or --file FILE (not both)")
    return text


@reference_app.command("country")
@clear_errors
def reference_country(
    text: Annotated[str | None, typer.Argument()] = None, file: FileOption = None, as_json: JsonOption = False
) -> None:
    """Resolve a country name (several languages), alpha-2 or alpha-3 code."""
    from dragonnet.reference import countries

    if _one_term(text, file) is None:
        assert file is not None
        return _check_file("country", file, as_json)
    assert text is not None
    c = countries.resolve(text)
    _print({"alpha2": c.alpha2, "alpha3": c.alpha3, "name": c.name}, as_json)


@reference_app.command("place")
@clear_errors
def reference_place(
    text: Annotated[str | None, typer.Argument()] = None,
    country: Annotated[str | None, typer.Option(help="The country (alpha-2 or a name) as context.")] = None,
    file: FileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Resolve a place name, UN/LOCODE, IATA or ICAO code: exact, a guess (and why), or why not."""
    from dragonnet.reference import countries, places

    if _one_term(text, file) is None:
        assert file is not None
        return _check_file("place", file, as_json)
    assert text is not None
    if country:
        countries.resolve(country)  # a wrong --country is an error, not a context silently dropped
    res = places.lookup(text, country)
    if res.place is None:
        raise ReferenceLookupError(res.reason or f"unknown place {text!r}", suggestions=list(res.suggestions))
    p = res.place
    _print(
        {
            "status": res.status,
            "locode": p.locode,
            "iata": p.iata,
            "icao": p.icao,
            "name": p.name,
            "country": p.country,
            "type": p.place_type,
            "latitude": p.latitude,
            "longitude": p.longitude,
            "functions": list(p.functions),
            "matched_by": res.matched_by,
            "reason": res.reason,
            "candidates": [str(c) for c in res.candidates],
        },
        as_json,
    )


@reference_app.command("taxon")
@clear_errors
def reference_taxon(
    text: Annotated[str | None, typer.Argument()] = None, file: FileOption = None, as_json: JsonOption = False
) -> None:
    """Resolve a taxon (any rank; scientific, synonym, common or group name) against the CITES listings."""
    from dragonnet.reference import cites

    if _one_term(text, file) is None:
        assert file is not None
        return _check_file("taxon", file, as_json)
    assert text is not None
    res = cites.lookup(text)
    if res.match is None:
        raise ReferenceLookupError(res.reason or f"unknown taxon {text!r}", suggestions=list(res.suggestions))
    d = cites.describe(res)
    _print(
        {
            "taxon": d["taxon"],
            "rank": d["rank"],
            "cites_listing": d["cites_listing"],
            "cites_status": d["cites_status"],
            "status": d["status"],
            "matched_by": d["matched_by"],
            "specimen_hint": d["specimen_hint"],
            "alternatives": d["alternatives"],
            "reason": d["reason"],
            "reference": d["reference"],
        },
        as_json,
    )


@reference_app.command("substance")
@clear_errors
def reference_substance(
    text: Annotated[str | None, typer.Argument()] = None, file: FileOption = None, as_json: JsonOption = False
) -> None:
    """Resolve a drug or precursor name (street and trade names included)."""
    from dragonnet.reference import substances

    if _one_term(text, file) is None:
        assert file is not None
        return _check_file("substance", file, as_json)
    assert text is not None
    m = substances.resolve(text)
    _print(
        {
            "substance": m.substance.name,
            "class": m.substance.commodity_class,
            "control": m.substance.control,
            "matched_by": m.matched_by,
        },
        as_json,
    )


@reference_app.command("hs")
@clear_errors
def reference_hs(
    text: Annotated[str | None, typer.Argument(help="An HS code: 2, 4 or 6 digits.")] = None,
    file: FileOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check an HS 2022 code (chapter, heading or subheading) and show its description and parents."""
    from dragonnet.reference import goods

    if _one_term(text, file) is None:
        assert file is not None
        return _check_file("hs", file, as_json)
    assert text is not None
    res = goods.lookup(text)
    if res.code is None:
        raise ReferenceLookupError(res.reason or f"unknown HS code {text!r}", suggestions=list(res.suggestions))
    _print(goods.describe(res), as_json)
