from __future__ import annotations

import datetime as dt
import random

import pytest

from dragonnet.linkage.resolve import PartyInput, apply_decisions, connected_components, resolve

FIRST = ["Van", "Thi", "Duc", "Minh", "Hoang", "Quang", "Thanh", "Ngoc"]
LAST = ["Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui", "Do", "Ho"]
GIVEN = ["Thang", "Long", "Huong", "Cuong", "Lan", "Hai", "Nam", "Binh", "Tuan", "Mai", "Son", "Phuc"]


def small_population(seed: int = 3, people: int = 60) -> tuple[list[PartyInput], dict[int, int]]:
    """Each person appears 1-3 times, respelt; returns the parties and party -> person."""
    rng = random.Random(seed)
    parties: list[PartyInput] = []
    truth: dict[int, int] = {}
    pid = 0
    for person in range(people):
        family, middle, given = rng.choice(LAST), rng.choice(FIRST), rng.choice(GIVEN)
        dob = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(15000))
        passport = f"C{rng.randrange(10**6, 10**7)}"
        for _ in range(rng.choice((1, 2, 3))):
            pid += 1
            name = rng.choice(
                [f"{family} {middle} {given}", f"{given} {family} {middle}", f"{family.upper()} {middle} {given}"]
            )
            parties.append(PartyInput(pid, "person", name, "VN", dob if rng.random() < 0.9 else None,
                                      passport if rng.random() < 0.6 else None))  # fmt: skip
            truth[pid] = person
    return parties, truth


def test_union_find_components() -> None:
    assert connected_components([1, 2, 3, 4, 5], [(2, 1), (4, 3), (3, 2)]) == {1: 1, 2: 1, 3: 1, 4: 1, 5: 5}


def test_decisions_override_the_model() -> None:
    from dragonnet.linkage.resolve import ScoredPair

    pairs = [ScoredPair(1, 2, 0.99, 9.0), ScoredPair(2, 3, 0.97, 7.0)]
    links = apply_decisions(pairs, 0.95, {(2, 3): "reject", (4, 5): "confirm"})
    assert links == [(1, 2), (4, 5)]


def test_resolution_finds_respelt_people_and_respects_decisions() -> None:
    parties, truth = small_population()
    result = resolve(parties)
    clusters = result.clusters
    true_pairs = {(a, b) for a in truth for b in truth if a < b and truth[a] == truth[b]}
    found_pairs = {(a, b) for a in clusters for b in clusters if a < b and clusters[a] == clusters[b]}
    tp = len(true_pairs & found_pairs)
    assert tp / len(found_pairs) >= 0.9  # precision
    assert tp / len(true_pairs) >= 0.8  # recall
    # An analyst rejects one found link and confirms one missed pair: the next run keeps both decisions.
    a, b = sorted(true_pairs & found_pairs)[0]
    missed = sorted(true_pairs - found_pairs)
    decisions = {(a, b): "reject"}
    if missed:
        decisions[missed[0]] = "confirm"
    again = resolve(parties, decisions=decisions)
    assert (a, b) not in again.links
    if missed:
        assert missed[0] in again.links
        assert again.clusters[missed[0][0]] == again.clusters[missed[0][1]]


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown backend"):
        resolve(small_population(people=3)[0], backend="oracle")  # type: ignore[arg-type]


def test_blocking_keys_are_capped_so_pairs_grow_linearly() -> None:
    """A name shared by more records than BLOCK_CAP leaves the name block (its records still meet through name
    and birth year, documents, phones); rarer names keep it. The blocked pairs stay bounded."""
    import pyarrow as pa

    from dragonnet.linkage.resolve import BLOCK_CAP, capped_block_keys

    common, rare = BLOCK_CAP + 1, 3
    names = ["nguyen van hung"] * common + ["tran thi lan"] * rare + [None]
    years = [1980 + i % 7 for i in range(common)] + [1990] * rare + [None]
    table = pa.table({
        "kind": ["person"] * len(names), "name_key": names, "name_prefix": [n[:6] if n else None for n in names],
        "birth_year": pa.array(years, pa.int64()), "birth_date": [None] * len(names),
        "address_key": pa.nulls(len(names), pa.string()), "postcode": pa.nulls(len(names), pa.string()),
    })  # fmt: skip
    out = capped_block_keys(table)
    b_name = out.column("b_name").to_pylist()
    assert b_name[:common] == [None] * common  # too common: no name block
    assert b_name[common : common + rare] == ["tran thi lan"] * rare
    assert b_name[-1] is None
    # name + birth year splits the common name into blocks under the cap, which are kept
    assert out.column("b_name_year").to_pylist()[0] == "nguyen van hung|1980"
    assert out.column("b_name_year").null_count == 1


def test_a_very_common_name_does_not_explode_the_pairs() -> None:
    parties = [PartyInput(i, "person", "Nguyen Van Hung", "VN", dt.date(1970 + i % 30, 1, 1 + i % 28), None, None,
                          None) for i in range(1, 1201)]  # fmt: skip
    result = resolve(parties)
    # unbounded name blocking would compare 1200*1199/2 = 719,400 pairs; the capped keys compare far fewer
    assert result.compared_pairs < 50_000
    # every compared pair counts, not only those predicted (the counter once counted the pairs at p >= 0.5)
    assert result.compared_pairs >= result.pairs_above_threshold == len(result.pairs)
    assert result.compared_pairs > len(result.pairs)


def _edge_parties() -> list[PartyInput]:
    return [
        PartyInput(1, "person", "", None, None, None, None, None),  # nothing to normalise
        PartyInput(2, "person", "Mr. U", "MM", dt.date(1980, 2, 29), " c 123-456 ", "+95 9 123 456 789", " A@B.org "),
        PartyInput(3, "company", "Công ty TNHH Hải Long", "", None, "0106-123", "024 3826 4356", "no-at-sign", "VN"),
        PartyInput(4, "person", "陈伟强", "CN", None, None, "138 0013 8000", None),
        PartyInput(5, "person", "NGUYEN Van Thang", None, None, None, "091-234-5678", None, "VN"),
        PartyInput(6, "person", "Thang Nguyen Van", "VN", None, None, "(091) 234 5678", None),
        PartyInput(7, "person", "Thang Nguyen Van", "VN", None, None, "not a phone", None),
        PartyInput(8, "company", "Hilux Trading", None, None, "ชร-0100", None, None),  # documents in any script
        PartyInput(9, "person", "Lê Đức", "VN", None, "đ_12 x", None, None),
        PartyInput(10, "person", "Lê Đức", "VN", None, "__ --", None, None),  # no letter or digit: none
        PartyInput(11, "person", "Lê Đức", "VN", None, "ｂ１２３", None, None),  # full-width
    ]


def test_records_table_is_to_record_column_wise() -> None:
    """The vectorised normalisation (each distinct value once) gives exactly the records of `to_record`."""
    from dragonnet.linkage.evaluation import labelled_people
    from dragonnet.linkage.resolve import RECORD_COLUMNS, records_table, to_record

    parties = labelled_people(300, seed=11).parties + _edge_parties()
    table = records_table(parties)
    assert table.column_names == list(RECORD_COLUMNS)
    assert table.to_pylist() == [to_record(p) for p in parties]


def test_the_party_frame_holds_each_partys_fields_as_given() -> None:
    """`party_frame` (built by Arrow from the parties' attributes) is their fields, row for row, None kept."""
    from dataclasses import astuple

    from dragonnet.linkage.resolve import party_frame

    parties = small_population(people=20)[0] + _edge_parties()
    parties.append(PartyInput(999, "company", "ACME", None, None, None, "+84 912", "a@b.c", "VN", "1 Main St", "2000"))
    frame = party_frame(parties)
    assert frame.columns == ["unique_id", "kind", "name", "nationality", "birth", "id_number", "raw_phone",
                             "raw_email", "region", "address", "raw_postcode"]  # fmt: skip
    assert frame.rows() == [astuple(p) for p in parties]
    assert party_frame([]).shape == (0, 11)


def test_many_distinct_values_are_split_over_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    from dragonnet.linkage import resolve as resolve_module
    from dragonnet.linkage.evaluation import labelled_people

    parties = labelled_people(200, seed=12).parties + _edge_parties()
    alone = resolve_module.records_table(parties)
    monkeypatch.setattr(resolve_module, "PARALLEL_FROM", 10)
    monkeypatch.setattr(resolve_module.os, "cpu_count", lambda: 2)
    assert resolve_module.records_table(parties).equals(alone)


def test_a_spark_connect_url_without_its_client_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from dragonnet.cluster import SparkCluster
    from dragonnet.errors import ConfigurationError

    pytest.importorskip("pyspark")
    real_import = builtins.__import__

    def no_grpc(name: str, *args: object, **kwargs: object) -> object:
        if name == "grpc":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_grpc)
    with pytest.raises(ConfigurationError, match=r"pyspark\[connect\]"):
        SparkCluster("sc://127.0.0.1:15002", "/tmp/nowhere").session()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--spark-master", "spark://127.0.0.1:7077"], "--spark-master needs --backend spark"),
        (["--backend", "spark", "--spark-master", "spark://127.0.0.1:7077"], "needs --spark-dir"),
        (["--backend", "spark", "--spark-dir", "/tmp/x"], "go with --spark-master"),
        (["--backend", "spark", "--spark-master", "spark://h:7077", "--spark-dir", "/tmp/x", "--spark-conf", "oops"],
         "KEY=VALUE"),
    ],
)  # fmt: skip
def test_cluster_options_are_checked_before_anything_runs(args: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from dragonnet.cli.main import app

    result = CliRunner().invoke(app, ["linkage", "run", *args, "--database-url", "sqlite:////nonexistent/x.db"])
    assert result.exit_code == 1
    assert message in result.output and result.output.startswith("error:")


def test_a_level_no_random_pair_agreed_on_keeps_a_u_in_the_saved_model() -> None:
    """Every generated person has their own phone: with few random pairs sampled for the u estimates, none shares
    one, while EM sees the phone agree on the same person's records. The saved model (what `linkage run` stores
    and a screening reads back) gives that level u = 1 / the pairs sampled, not no u (no weight at all)."""
    from dragonnet.linkage.evaluation import labelled_people
    from dragonnet.linkage.resolve import records_table, train_and_predict

    _pairs, _counts, model = train_and_predict(records_table(labelled_people(100, seed=5).parties), max_pairs_u=50)
    levels = [level for c in model["comparisons"] for level in c["comparison_levels"]]
    assert all(level.get("u_probability") is not None for level in levels if level.get("m_probability") is not None)
    phone = next(c for c in model["comparisons"] if c["output_column_name"] == "phone")
    exact = next(level for level in phone["comparison_levels"] if "=" in level["sql_condition"])
    assert exact["u_probability"] == pytest.approx(1 / 50)


def test_the_u_estimate_takes_one_pass_when_every_pair_fits_in_the_sample() -> None:
    from dragonnet.linkage.resolve import U_CHUNKS, u_chunks

    assert u_chunks(2000, 2e6) == 1  # 1,999,000 pairs: all of them in the sample
    assert u_chunks(2001, 2e6) == U_CHUNKS  # 2,001,000 pairs: a sample, in Splink's chunks
    assert u_chunks(None, 2e6) == U_CHUNKS  # count unknown: Splink's default
    assert u_chunks(0, 2e6) == u_chunks(1, 2e6) == 1


def test_one_pass_gives_the_u_values_of_the_chunks_where_none_stops_early() -> None:
    """73 records (2,628 pairs): no level is seen often enough to stop Splink's chunks early, so they count every
    pair, as the one pass does (what lets the Spark cluster's job take one pass: tests/linkage/test_spark_cluster.py
    checks it against DuckDB)."""
    import logging

    from splink import Linker

    from dragonnet.linkage.resolve import U_CHUNKS, _db_api, blocked_table, records_table, register, splink_settings

    records = records_table(small_population(seed=5, people=40)[0])
    assert records.num_rows == 73

    def u_values(chunks: int) -> list[float | None]:
        linker = Linker(register(_db_api("duckdb"), blocked_table(records)), splink_settings(),
                        log_level=logging.ERROR)  # fmt: skip
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=7, num_chunks=chunks)
        model = linker.misc.save_model_to_json()
        return [level.get("u_probability") for c in model["comparisons"] for level in c["comparison_levels"]]

    one, chunked = u_values(1), u_values(U_CHUNKS)
    assert any(u is not None for u in one)
    assert [u is None for u in one] == [u is None for u in chunked]
    assert [u for u in one if u is not None] == pytest.approx([u for u in chunked if u is not None], rel=1e-12)
