"""`dragonnet reference ... --file`: a list of terms checked at once, as text or JSON; clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dragonnet.cli.main import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_place_file_with_countries(tmp_path: Path) -> None:
    path = tmp_path / "places.csv"
    path.write_text("text,country\nJomo Kenyatta Airport,Kenya\nShahjalal Airport,BD\nBrussels Airport,NL\n", "utf-8")
    code, out, _ = run("reference", "place", "--file", str(path))
    assert code == 0
    assert "exact      Jomo Kenyatta Airport [Kenya]  ->  Nairobi (KENBO)" in out
    assert "guess" in out and "by the words written" in out
    assert "unresolved Brussels Airport [NL]" in out and "places of that name are in BE" in out
    assert out.strip().endswith("3 terms: 1 exact, 1 guessed, 1 unresolved")
    code, out, _ = run("reference", "place", "--file", str(path), "--json")
    body = json.loads(out)
    assert body["counts"] == {"exact": 1, "guess": 1, "unresolved": 1}
    assert [r["line"] for r in body["results"]] == [2, 3, 4]
    assert body["results"][0]["detail"]["latitude"] is not None


def test_taxon_file_one_term_per_line_in_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "taxa.txt"
    path.write_bytes("ivory\nBirds\nPloughshare Tortoise\nChickens\nXyzzy beast\nTortue à soc\n".encode("cp1252"))
    code, out, _ = run("reference", "taxon", "--file", str(path), "--json")
    assert code == 0
    results = json.loads(out)["results"]
    by_text = {r["text"]: r for r in results}
    assert by_text["ivory"]["code"] == "Elephantidae"
    assert by_text["Birds"]["detail"]["cites_status"] == "includes listed taxa"
    assert by_text["Chickens"]["detail"]["cites_status"] == "not CITES-listed"
    assert by_text["Xyzzy beast"]["status"] == "unresolved"
    assert by_text["Xyzzy beast"]["detail"]["cites_status"] == "unverified"
    assert by_text["Tortue à soc"]["code"] == "Astrochelys yniphora"


def test_substance_country_and_hs_files(tmp_path: Path) -> None:
    path = tmp_path / "terms.txt"
    path.write_text("ya ba\nmethamfetamine\nunobtainium\n", "utf-8")
    code, out, _ = run("reference", "substance", "--file", str(path))
    assert code == 0 and "3 terms: 1 exact, 1 guessed, 1 unresolved" in out
    path.write_text("Việt Nam\nLao PDR\nAtlantis\n", "utf-8")
    code, out, _ = run("reference", "country", "--file", str(path))
    assert code == 0 and "2 exact, 0 guessed, 1 unresolved" in out
    path.write_text("0507.10\n2939.45.00\n0599\n", "utf-8")
    code, out, _ = run("reference", "hs", "--file", str(path))
    assert code == 0 and "1 exact, 1 guessed, 1 unresolved" in out


def test_single_terms_and_errors(tmp_path: Path) -> None:
    code, out, _ = run("reference", "place", "Dubai Airport", "--country", "AE", "--json")
    assert code == 0 and json.loads(out)["locode"] == "AEDXB"
    code, out, _ = run("reference", "taxon", "Birds")
    assert code == 0 and "cites_status: includes listed taxa" in out
    code, out, _ = run("reference", "hs", "050710")
    assert code == 0 and "ivory" in out.lower()
    code, _, err = run("reference", "place", "Laem Chabang", "--country", "VN")
    assert code == 1 and err.startswith("error: no place named 'Laem Chabang' in VN")
    code, _, err = run("reference", "place", "Hanoi", "--country", "Atlantis")
    assert code == 1 and err.startswith("error: unknown country 'Atlantis'")
    code, _, err = run("reference", "taxon", "--file", str(tmp_path / "missing.csv"))
    assert code == 1 and err.startswith("error: no file at")
    code, _, err = run("reference", "taxon")
    assert code == 1 and "give a term or --file" in err
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n", "utf-8")
    code, _, err = run("reference", "taxon", "--file", str(empty))
    assert code == 1 and err.strip() == "error: the file holds no term"
    for output in (err,):
        assert len(output.strip().splitlines()) == 1
