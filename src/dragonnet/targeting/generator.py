"""Synthetic declarations with documented smuggling patterns (tests without the KCS data, the 10M benchmark).

Each row is a declared item at one of eight offices of the Mekong region. Normal goods draw an HS code from
`HS_TYPICAL` with a log-normal value per kg around its typical value. The seizure probability of a row is
logistic in these patterns (all vectorised, reproducible from `seed`):

| pattern | share of rows | effect on the log-odds |
|---|---:|---:|
| undervaluation: value per kg 8-20x below the HS code's typical value | 4% | +2.5 |
| wildlife route: origin NG/CD/MZ/CM and transit through ET/AE/MY | 2% | +2.0 |
| concealment words in the description ("scales", "vảy", "鳞片", "ngà", "ivory" ...) | 1% | +2.5 |
| a "bad" importer (1% of 5,000 importers) | ~3% | +2.0 |
| a "bad" declarant (2% of 800 declarants) | ~2.5% | +1.0 |
| base | all | -4.0 |

`outcome` is set for a share `labelled` of rows (the inspected ones, drawn at random), NULL elsewhere.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

OFFICES = ["THBKK", "THLCH", "VNSGN", "VNHPH", "KHPNH", "LAVTE", "MMRGN", "MYPKG"]
MODES = ["sea_container", "air_cargo", "express_courier", "postal", "road"]
ORIGINS = ["CN", "TH", "VN", "MY", "ID", "IN", "US", "DE", "JP", "KR", "NG", "CD", "MZ", "CM", "ZA", "AE"]
RISK_ORIGINS = ["NG", "CD", "MZ", "CM"]
TRANSITS = ["ET", "AE", "MY", "SG", "HK", "QA"]
RISK_TRANSITS = ["ET", "AE", "MY"]
HS_TYPICAL: dict[str, tuple[float, str]] = {
    "030389": (4.0, "frozen fish"), "050790": (30.0, "horns and hooves, unworked"),
    "071320": (1.2, "dried chickpeas"), "090111": (3.0, "coffee beans"), "100630": (0.6, "milled rice"),
    "170199": (0.5, "white sugar"), "210690": (8.0, "food preparations"), "220421": (6.0, "wine in bottles"),
    "290512": (1.5, "propanol"), "291439": (4.0, "ketones"), "300490": (60.0, "medicaments"),
    "330499": (25.0, "cosmetics"), "392690": (6.0, "plastic articles"), "401110": (5.0, "car tyres"),
    "440349": (0.4, "tropical logs"), "440729": (0.9, "sawn tropical wood"), "481910": (1.5, "cartons"),
    "610910": (18.0, "cotton t-shirts"), "640299": (14.0, "footwear"), "691110": (7.0, "porcelain tableware"),
    "730890": (2.0, "steel structures"), "820551": (5.0, "kitchen tools"), "847130": (300.0, "laptops"),
    "850440": (30.0, "power supplies"), "851712": (500.0, "mobile phones"), "852872": (60.0, "televisions"),
    "870323": (12.0, "passenger cars"), "900490": (40.0, "spectacles"), "940360": (3.0, "wooden furniture"),
    "950300": (10.0, "toys"), "960190": (80.0, "worked animal carving material"), "970500": (150.0, "collections"),
}  # fmt: skip
CONCEAL = ["pangolin scales", "vảy tê tê", "穿山甲鳞片", "ngà voi", "elephant ivory", "象牙", "sừng tê giác",
           "dried seahorse", "écailles", "rosewood logs"]  # fmt: skip


def generate(n: int, *, seed: int = 1, start: dt.date = dt.date(2024, 1, 1), days: int = 365,
             labelled: float = 1.0, id_prefix: str = "D") -> pa.Table:  # fmt: skip
    """`n` declarations as an Arrow table in the column set of `declarations` (sorted by date)."""
    rng = np.random.default_rng(seed)
    hs_codes = np.array(list(HS_TYPICAL))
    typical = np.array([v[0] for v in HS_TYPICAL.values()])
    names = np.array([v[1] for v in HS_TYPICAL.values()], dtype=object)
    day = np.sort(rng.integers(0, days, n))
    hs_i = rng.integers(0, len(hs_codes), n)
    weight = np.round(np.exp(rng.normal(5.0, 1.6, n)), 1) + 0.1
    vpk = typical[hs_i] * np.exp(rng.normal(0.0, 0.35, n))
    under = rng.random(n) < 0.04
    vpk = np.where(under, vpk / rng.uniform(8, 20, n), vpk)
    origin = np.array(ORIGINS, dtype=object)[rng.integers(0, len(ORIGINS), n)]
    route = rng.random(n) < 0.02
    origin = np.where(route, np.array(RISK_ORIGINS, dtype=object)[rng.integers(0, 4, n)], origin)
    transit = np.array(TRANSITS, dtype=object)[rng.integers(0, len(TRANSITS), n)]
    has_transit = route | (rng.random(n) < 0.3)
    transit = np.where(route, np.array(RISK_TRANSITS, dtype=object)[rng.integers(0, 3, n)], transit)
    transit[~has_transit] = None
    conceal = rng.random(n) < 0.01
    desc = names[hs_i].copy()
    words = np.array(CONCEAL, dtype=object)[rng.integers(0, len(CONCEAL), n)]
    desc = np.where(conceal, desc + " / " + words, desc)
    importer_i = rng.integers(0, 5000, n)
    declarant_i = rng.integers(0, 800, n)
    bad_imp = importer_i % 100 == 7
    bad_decl = declarant_i % 50 == 3
    logit = -4.0 + 2.5 * under + 2.0 * route + 2.5 * conceal + 2.0 * bad_imp + 1.0 * bad_decl
    seized = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    inspected = rng.random(n) < labelled
    office_i = rng.integers(0, len(OFFICES), n)
    offices = np.array(OFFICES, dtype=object)[office_i]
    dates = np.datetime64(start.isoformat(), "D") + day.astype("timedelta64[D]")
    conveyance = np.char.add("MSKU", rng.integers(1000000, 9999999, n).astype(str)).astype(object)
    ids = np.char.add(f"{id_prefix}", np.char.zfill(np.arange(n).astype(str), 9))
    # fmt: off
    return pa.table({
        "declaration_id": pa.array(ids.astype(object), pa.string()),
        "declaration_date": pa.array(dates, pa.date32()),
        "office_locode": pa.array(offices, pa.string()),
        "mode": pa.array(np.array(MODES, dtype=object)[rng.integers(0, len(MODES), n)], pa.string()),
        "declarant": pa.array(np.char.add("DCL", declarant_i.astype(str)).astype(object), pa.string()),
        "importer": pa.array(np.char.add("IMP", importer_i.astype(str)).astype(object), pa.string()),
        "exporter": pa.array(np.char.add("EXP", rng.integers(0, 3000, n).astype(str)).astype(object), pa.string()),
        "origin_country": pa.array(origin, pa.string()),
        "loading_place": pa.array(origin, pa.string()),
        "transit_places": pa.array(transit, pa.string()),
        "hs_code": pa.array(hs_codes[hs_i].astype(object), pa.string()),
        "goods_description": pa.array(desc, pa.string()),
        "quantity": pa.array(np.round(weight * rng.uniform(0.5, 3, n)), pa.float64()),
        "gross_weight_kg": pa.array(weight, pa.float64()),
        "declared_value": pa.array(np.round(vpk * weight, 2), pa.float64()),
        "currency": pa.array(np.full(n, "USD", dtype=object), pa.string()),
        "conveyance_ref": pa.array(conveyance, pa.string()),
        "outcome": pa.array(np.where(inspected, seized.astype(np.int32), 0), pa.int32(), mask=~inspected),
    })
    # fmt: on


def write(path: Path, n: int, *, seed: int = 1, chunk: int = 1_000_000, **kwargs: object) -> Path:
    """Write `n` generated declarations to a Parquet file, `chunk` rows at a time (for 10M rows)."""
    writer: pq.ParquetWriter | None = None
    try:
        for i, start in enumerate(range(0, n, chunk)):
            size = min(chunk, n - start)
            table = generate(size, seed=seed * 1000 + i, id_prefix=f"D{i:03d}", **kwargs)  # type: ignore[arg-type]
            if writer is None:
                writer = pq.ParquetWriter(str(path), table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return path
