"""Normalised records kept between runs (`linkage.record_cache`): read back, they are the records normalisation
gives and a screening finds the same hits; an edited party is normalised again; a file of another normaliser
version, a truncated or a foreign file is ignored."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from dragonnet.linkage import normalise, service
from dragonnet.linkage.record_cache import VERSION_KEY, cache_dir, cache_file, cached_records_table, records_version
from dragonnet.linkage.resolve import PartyInput, default_model, records_table
from dragonnet.linkage.screening import service as screening
from dragonnet.linkage.screening.matching import match_lists
from linkage.test_declaration_links import build_world
from linkage.test_screening_encoded import CONSIGNEES, _actor
from linkage.test_screening_matching import _people
from web.seed import SLUG

COMPANY = PartyInput(9, "company", "Golden Ocean Trading Co., Ltd", id_number="IMP-0042", phone="081 234 5678",
                     region="TH", address="88 Jiefang Road, Kunming 650011")  # fmt: skip


def _rows(reference: list[PartyInput]) -> list[PartyInput]:
    """List rows written as another officer would: name order and case changed, a document dropped."""
    picked = reference[0:40:7]
    return [dataclasses.replace(p, party_id=i, name=" ".join(reversed(p.name.split())).upper(), id_number=None)
            for i, p in enumerate(picked)]  # fmt: skip


def test_records_read_back_are_the_records_normalised_and_give_the_same_hits(tmp_path: Path) -> None:
    reference = [*_people(150, 100), COMPANY]
    first = cached_records_table(reference, tmp_path, write="replace")
    assert (first.hits, first.misses) == (0, len(reference))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records-company.parquet", "records-person.parquet"]
    again = cached_records_table(reference, tmp_path, write="none")
    assert (again.hits, again.misses) == (len(reference), 0)
    assert again.table.equals(records_table(reference)) and first.table.equals(again.table)

    rows, model = _rows(reference), default_model()
    plain = match_lists(rows, reference, model=model)
    cached = match_lists(rows, reference, model=model, record_cache=tmp_path)
    assert (plain.cached_records, cached.cached_records) == (0, len(reference))
    assert plain.matches and cached.matches == plain.matches and cached.counts == plain.counts


def test_hidden_references_are_read_alike_and_stay_apart(tmp_path: Path) -> None:
    visible, hidden = _people(40, 100), [PartyInput(9001, "person", "Nguyễn Văn Thắng", "VN", dt.date(1986, 11, 2))]
    rows = [PartyInput(1, "person", "Thang Nguyen Van", "VN", dt.date(1986, 11, 2)), *_rows(visible)]
    model = default_model()
    cached_records_table([*visible, *hidden], tmp_path, write="replace")
    plain = match_lists(rows, visible, model=model, hidden=hidden)
    cached = match_lists(rows, visible, model=model, hidden=hidden, record_cache=tmp_path)
    assert cached.cached_records == len(visible) + len(hidden)
    assert cached.hidden_matches == plain.hidden_matches and [m.reference for m in cached.hidden_matches] == [9001]
    assert cached.matches == plain.matches and cached.counts == plain.counts


def test_an_edited_party_is_normalised_again(tmp_path: Path) -> None:
    reference = _people(20, 100)
    cached_records_table(reference, tmp_path, write="replace")
    edited = [*reference]
    edited[3] = dataclasses.replace(edited[3], name="Somchai WONGSAWAT", phone="+66 81 234 5678")  # same id
    found = cached_records_table(edited, tmp_path, write="none")
    assert (found.hits, found.misses) == (len(reference) - 1, 1)
    assert found.table.equals(records_table(edited))
    assert (found.table.column("name_key")[3].as_py(), found.table.column("phone")[3].as_py()) == (
        "somchai wongsawat", "+66812345678"
    )  # fmt: skip
    cached_records_table(edited, tmp_path, write="replace")
    assert cached_records_table(edited, tmp_path, write="none").misses == 0


def test_a_file_of_another_normaliser_version_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    reference = _people(20, 100)
    cached_records_table(reference, tmp_path, write="replace")
    try:
        with monkeypatch.context() as patched, caplog.at_level(logging.INFO, "dragonnet.linkage.record_cache"):
            patched.setattr(normalise, "NORMALISER_VERSION", normalise.NORMALISER_VERSION + 1)
            records_version.cache_clear()
            found = cached_records_table(reference, tmp_path, write="replace")
            assert (found.hits, found.misses) == (0, len(reference)) and found.table.equals(records_table(reference))
            assert "ignored: written by normaliser" in caplog.text
            assert cached_records_table(reference, tmp_path, write="none").hits == len(reference)  # rewritten
    finally:
        records_version.cache_clear()
    assert cached_records_table(reference, tmp_path, write="none").hits == 0  # the newer file, for the old version


def test_a_truncated_or_foreign_file_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    reference = _people(20, 100)
    cached_records_table(reference, tmp_path, write="replace")
    path = cache_file(tmp_path, "person")
    whole = path.read_bytes()
    foreign = pa.table({"unique_id": [1]}).replace_schema_metadata({VERSION_KEY: records_version().encode()})
    for damage, why in [
        (lambda: path.write_bytes(whole[: len(whole) // 2]), "unreadable"),
        (lambda: path.write_bytes(b"PAR1 not parquet"), "unreadable"),
        (lambda: pq.write_table(foreign, path), "unexpected columns"),
    ]:
        damage()
        caplog.clear()
        with caplog.at_level(logging.INFO, "dragonnet.linkage.record_cache"):
            found = cached_records_table(reference, tmp_path, write="none")
        assert (found.hits, found.misses) == (0, len(reference)) and found.table.equals(records_table(reference))
        assert why in caplog.text
    assert [p.name for p in tmp_path.iterdir()] == ["records-person.parquet"]  # no temporary file left


def test_a_linkage_run_writes_the_records_a_screening_reads(session: Session, tmp_path: Path) -> None:
    build_world(session, tmp_path)
    service.run_resolution(session, record_cache=cache_dir(tmp_path))
    session.commit()
    assert cache_file(cache_dir(tmp_path), "company").exists() and cache_file(cache_dir(tmp_path), "person").exists()
    th = _actor(session, "th_reporter")
    args = {"operation": SLUG, "data": CONSIGNEES, "filename": "c.csv", "kind": "companies", "threshold": 0.5}
    plain = screening.screen(session, th, **args)  # type: ignore[arg-type]
    cached = screening.screen(session, th, **args, data_dir=tmp_path)  # type: ignore[arg-type]
    # Every reference record (the declarations' parties, numbered afresh by each extract, too) is read back.
    assert plain.run.cached_records == 0 and cached.run.cached_records >= cached.run.reference_records > 0
    assert cached.hits == plain.hits and cached.hits
    assert [n.row for n in cached.notices] == [n.row for n in plain.notices]
