"""Risk targeting: declarations, risk profiles (YAML -> SQL), a LightGBM model, lanes, lists, a Spark job.

Modules, bottom up:
- `declarations`: the documented column set, CSV/Parquet import (columnar, DuckDB), the KCS adapter, the store.
- `sql`: the two SQL dialects (DuckDB, Spark SQL) the scoring is written once for.
- `profiles`: the YAML risk-profile format and its compilation to vectorised SQL expressions.
- `features`: history tables (HS value ranges, party outcome counts) and the feature/scoring query.
- `model`: LightGBM training, prediction and per-declaration explanations (`pred_contrib`): the model alone.
- `lanescore`: the lane score, the model raised by the profiles whose worth held-out outcomes have shown.
- `lanes`: red/yellow/green selection with a target inspection rate, mandatory profiles and a random share
  drawn from the green lane.
- `metrics`: precision@k and recall@k.
- `engine`: the single-machine (DuckDB) pipeline; `spark_job`: the same on PySpark.
- `effectiveness`: per-profile effectiveness (hit rates, confidence intervals, lift over random and the model).
- `service`: what the web/API/CLI call for lists (batches, lists, results -> draft cases, model versions);
  `profile_service`: for stored profiles (import, review cycle, history, the effectiveness report).
- `generator`: a synthetic declaration generator with documented smuggling patterns.
"""
