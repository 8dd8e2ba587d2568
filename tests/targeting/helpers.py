"""Helpers of the targeting tests (shared by the page/API tests and the browser test)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from dragonnet.storage.db import make_engine, session_scope
from dragonnet.targeting import generator, service
from dragonnet.targeting.profiles import builtin_profiles
from web.seed import SLUG


def build_lists(db_url: str, data_dir: Path) -> int:
    """A labelled history (Jan-May 2024), a model, and June declarations at THBKK ranked into a list."""
    hist, june = data_dir / "hist.parquet", data_dir / "june.parquet"
    pq.write_table(generator.generate(3000, seed=3, start=dt.date(2024, 1, 1), days=150), hist)
    table = generator.generate(300, seed=4, start=dt.date(2024, 6, 1), days=20, id_prefix="J", labelled=0.0)
    table = table.set_column(2, "office_locode", pa.array(["THBKK"] * len(table), pa.string()))
    pq.write_table(table, june)
    eng = make_engine(db_url)
    try:
        with session_scope(eng) as session:
            service.import_declarations(session, data_dir, hist, agency_code="TH-CUS")
            service.train(session, data_dir, builtin_profiles(), agency_code="TH-CUS", rounds=30, threads=1)
            batch = service.import_declarations(session, data_dir, june, agency_code="TH-CUS")
            (tl,) = service.build_lists(session, data_dir, batch, builtin_profiles(), agency_code="TH-CUS",
                                        operation_slug=SLUG, threads=1)  # fmt: skip
            return tl.id
    finally:
        eng.dispose()
