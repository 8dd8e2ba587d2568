"""Helpers of the targeting tests (shared by the page/API tests and the browser test)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import select

from dragonnet.policy.access import Actor
from dragonnet.storage.db import make_engine, session_scope
from dragonnet.storage.models import User
from dragonnet.targeting import generator, profile_service, service
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


PROFILES = """
profiles:
  - {id: t-words, owner: TH-CUS, sharing: green, weight: 2.0, review_by: 2030-01-01,
     conditions: [{text: {field: goods_description, any: [Ivory, pangolin, 象牙, VẢY, seahorse]}}]}
  - {id: t-origin, owner: TH-CUS, sharing: green, weight: 1.0, review_by: 2024-02-01,
     conditions: [{field: origin_country, in: [NG, CD]}]}
  - {id: t-value, owner: TH-CUS, sharing: green, weight: 0.5, valid_to: 2024-03-31,
     conditions: [{field: declared_value, gt: 5000}]}
  - {id: t-repeat, owner: TH-CUS, sharing: green, weight: 1.2,
     conditions: [{party_history: {party: importer, min_seizures: 1}}]}
  - {id: t-horn, owner: TH-CUS, sharing: green, weight: 0.7, mandatory: true, review_by: 2030-01-01,
     conditions: [{field: hs_code, prefix: ["0507", "9601"]}]}
"""


@dataclass
class ProfileWorld:
    history: pa.Table  # Jan-May 2024, 70 % inspected (file outcomes)
    june: pa.Table  # June 2024, not inspected; THBKK's list partly recorded
    recorded: dict[str, str]  # declaration id -> result recorded by an officer
    list_ids: dict[str, int]  # office -> targeting list id


def build_profile_world(db_url: str, data_dir: Path, *, record: bool = True) -> ProfileWorld:
    """TH-CUS stores PROFILES (th_reporter), imports a labelled history, trains, builds the June lists and
    (`record`) records results on part of the THBKK list (its random draws and the first eight others)."""
    hist_path, june_path = data_dir / "hist.parquet", data_dir / "june.parquet"
    hist = generator.generate(4000, seed=8, start=dt.date(2024, 1, 1), days=150, labelled=0.7)
    june = generator.generate(600, seed=9, start=dt.date(2024, 6, 1), days=20, id_prefix="J", labelled=0.0)
    pq.write_table(hist, hist_path)
    pq.write_table(june, june_path)
    recorded: dict[str, str] = {}
    eng = make_engine(db_url)
    try:
        with session_scope(eng) as session:
            user = session.execute(select(User).where(User.username == "th_reporter")).scalar_one()
            actor = Actor.for_user(user)
            outcome = profile_service.import_profiles(session, actor, PROFILES, "test.yaml")
            assert len(outcome.created) == 5
            stored = profile_service.stored_profile_set(session, "TH-CUS")
            assert stored is not None
            service.import_declarations(session, data_dir, hist_path, agency_code="TH-CUS")
            service.train(session, data_dir, stored, agency_code="TH-CUS", rounds=30, threads=1)
            batch = service.import_declarations(session, data_dir, june_path, agency_code="TH-CUS")
            made = service.build_lists(session, data_dir, batch, stored, agency_code="TH-CUS", operation_slug=SLUG,
                                       threads=1)  # fmt: skip
            (bkk,) = [tl for tl in made if tl.office_locode == "THBKK"]
            chosen = [h for h in bkk.hits if h.random] + [h for h in bkk.hits if not h.random][:8] if record else []
            for i, hit in enumerate(chosen):
                result = "seizure" if i % 3 == 0 else "nothing_found"
                service.record_result(session, actor, hit.id, result)
                recorded[hit.declaration_id] = result
            list_ids = {tl.office_locode: tl.id for tl in made}
    finally:
        eng.dispose()
    return ProfileWorld(hist, june, recorded, list_ids)
