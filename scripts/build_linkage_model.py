"""Build `src/dragonnet/linkage/data/default-model.json`: the clear-text model a screening uses when it has
neither a stored resolution run nor enough records to estimate one (a small agency's few hundred parties give
u and m estimates that are noise). Estimated exactly as a resolution run estimates its model (EM, no labels) on
`linkage.evaluation.labelled_people`: generated people of the region, spelt as officers spell them (name order,
diacritics, Hanzi and pinyin, typos, missing fields). Deterministic; rerun after changing the comparisons:

    .venv/bin/python scripts/build_linkage_model.py
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from splink import Linker

from dragonnet.linkage.evaluation import labelled_people
from dragonnet.linkage.resolve import (
    DEFAULT_MODEL_FILE,
    _db_api,
    blocked_table,
    records_table,
    register,
    splink_settings,
)

PEOPLE = 3000
SEED = 7


def main() -> None:
    from dragonnet.linkage.resolve import train

    data = labelled_people(PEOPLE, SEED)
    records = records_table(data.parties)
    db_api = _db_api("duckdb")
    table = register(db_api, blocked_table(records))
    linker = Linker(table, splink_settings(), log_level=logging.ERROR)
    train(linker, seed=SEED, table=table)
    model = linker.misc.save_model_to_json()
    Path(DEFAULT_MODEL_FILE).write_text(json.dumps(model, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{DEFAULT_MODEL_FILE}: estimated on {records.num_rows} records of {PEOPLE} generated people (seed {SEED})")


if __name__ == "__main__":
    main()
