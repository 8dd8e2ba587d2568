"""`dragonnet targeting`: import declarations, train, score a file to a ranked CSV, evaluate, build lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from dragonnet.cli.common import DatabaseOption, clear_errors, fail, open_engine
from dragonnet.config import load_settings
from dragonnet.storage.db import session_scope
from dragonnet.targeting import engine, metrics, service
from dragonnet.targeting.profiles import ProfileSet, builtin_profiles, load_profiles

targeting_app = typer.Typer(help="Risk targeting: declarations, profiles, model, ranked lists.", no_args_is_help=True)

ProfilesOption = Annotated[
    Path | None, typer.Option("--profiles", help="Risk profiles (YAML); default: the shipped example set.")
]
AgencyOption = Annotated[str | None, typer.Option("--agency", help="Agency code (profiles it may use, its lists).")]
ThreadsOption = Annotated[int, typer.Option("--threads", min=1, help="Threads for DuckDB and LightGBM.")]


def _profiles(path: Path | None) -> ProfileSet:
    return load_profiles(path) if path else builtin_profiles()


def _data_dir() -> Path:
    return load_settings().data_dir


def _pct(rows: list[metrics.AtK]) -> str:
    return "  ".join(f"@{round(r.fraction * 100)}%: P={r.precision:.3f} R={r.recall:.3f}" for r in rows)


@targeting_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="CSV (.csv, .csv.gz) or Parquet file of declarations.")],
    source_format: Annotated[str, typer.Option("--format", help="auto, canonical or kcs.")] = "auto",
    agency: AgencyOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Import declarations (columnar, any size) into the Parquet store under the data directory."""

    @clear_errors
    def run() -> None:
        eng = open_engine(database_url)
        with session_scope(eng) as session:
            batch = service.import_declarations(session, _data_dir(), file, agency_code=agency,
                                                source_format=source_format)  # fmt: skip
            typer.echo(
                f"imported {batch.rows} declarations ({batch.labelled} with an inspection result, "
                f"{batch.first_date} .. {batch.last_date}, format {batch.source_format}) as batch {batch.id}"
            )

    run()


@targeting_app.command("train")
def train_cmd(
    profiles: ProfilesOption = None,
    agency: AgencyOption = None,
    rounds: Annotated[int, typer.Option("--rounds", min=10, help="Boosting rounds.")] = 300,
    threads: ThreadsOption = 2,
    database_url: DatabaseOption = None,
) -> None:
    """Train a model on every stored declaration with a result (time-ordered hold-out), store the version."""

    @clear_errors
    def run() -> None:
        eng = open_engine(database_url)
        with session_scope(eng) as session:
            version = service.train(session, _data_dir(), _profiles(profiles), agency_code=agency, rounds=rounds,
                                    threads=threads)  # fmt: skip
            ev = version.evaluation
            typer.echo(f"model version {version.id}: trained on {ev['train_rows']} rows {ev['train_period']}, "
                       f"evaluated on {ev['eval_rows']} later rows {ev['eval_period']}, AUC {ev['auc']}")  # fmt: skip
            for name in ("model", "combined", "rules"):
                cells = "  ".join(f"@{k}: P={v['precision']:.3f} R={v['recall']:.3f}" for k, v in ev[name].items())
                typer.echo(f"  {name:9} {cells}")

    run()


@targeting_app.command("score")
def score_cmd(
    file: Annotated[Path, typer.Argument(help="Declarations to score (CSV or Parquet, column set or KCS).")],
    out: Annotated[Path, typer.Option("--out", help="Ranked CSV to write.")],
    profiles: ProfilesOption = None,
    agency: AgencyOption = None,
    threads: ThreadsOption = 2,
    backend: Annotated[
        str, typer.Option("--backend", help="duckdb (one machine) or spark (the same scores, on a Spark cluster).")
    ] = "duckdb",
    spark_master: Annotated[str, typer.Option("--spark-master", help="Spark master URL for --backend spark.")] = (
        "local[2]"
    ),
    database_url: DatabaseOption = None,
) -> None:
    """Score a file with the profiles and the latest model; write every declaration ranked, with its lane and
    the rules that fired (and the model's top contributions for red and yellow).

    With --backend spark the same rule and model scores come from the Spark job (lanes and explanations,
    which need the whole ranked list in one place, are computed by the DuckDB backend only)."""

    @clear_errors
    def run() -> None:
        import tempfile

        from dragonnet.targeting import declarations

        eng = open_engine(database_url)
        with session_scope(eng) as session:
            spec = service.load_spec(service.latest_model(session))
            results = service.recorded_results(session)
        usable = _profiles(profiles).for_agency(agency)
        history = declarations.store_files(service.store_dir(_data_dir()))
        if backend not in ("duckdb", "spark"):
            raise fail(f"unknown backend {backend!r}: use duckdb or spark")
        if backend == "spark":
            _score_on_spark(file, out, usable, spec, results, history, spark_master)
            return
        with tempfile.TemporaryDirectory() as tmp:
            staged = declarations.import_file(file, Path(tmp), "auto").path
            with engine.Workspace([staged], history or [staged], results=results,
                                  extras=spec.extras if spec else None, threads=threads) as ws:  # fmt: skip
                ranked = service.rank(ws, usable, spec)
        frame = ranked.frame.sort_values("score", ascending=False, kind="stable")
        frame["rules"] = frame["rules"].map(lambda r: ";".join(r))
        frame["explanation"] = (
            frame["declaration_id"]
            .astype(str)
            .map(lambda d: "; ".join(f"{c['label']} {c['contribution']:+.2f}" for c in ranked.explanations.get(d, [])))
        )
        cols = ["declaration_id", "declaration_date", "office_locode", "lane", "random", "score", "rule_score",
                "model_p", "rules", "explanation"]  # fmt: skip
        frame[cols].to_csv(out, index=False)
        lanes = frame["lane"].value_counts().to_dict()
        typer.echo(f"scored {len(frame)} declarations -> {out} (red {lanes.get('red', 0)}, "
                   f"yellow {lanes.get('yellow', 0)}; model {'yes' if spec else 'none: rules only'})")  # fmt: skip

    run()


def _score_on_spark(
    file: Path, out: Path, profiles: Any, spec: Any, results: Any, history: list[Path], master: str
) -> None:
    import tempfile

    from dragonnet.targeting import declarations
    from dragonnet.targeting.spark_job import SparkWorkspace, spark_session

    spark = spark_session(master)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            staged = declarations.import_file(file, Path(tmp), "auto").path
            ws = SparkWorkspace(spark, [staged], history or [staged], results=results,
                                extras=spec.extras if spec else None)  # fmt: skip
            scored = ws.score(profiles, spec).select(
                "declaration_id", "declaration_date", "office_locode", "score", "rule_score", "model_p"
            )
            frame = scored.toPandas().sort_values(["score", "declaration_id"], ascending=[False, True], kind="stable")
    finally:
        spark.stop()
    frame.to_csv(out, index=False)
    typer.echo(f"scored {len(frame)} declarations on Spark ({master}) -> {out}")


@targeting_app.command("evaluate")
def evaluate_cmd(
    train: Annotated[list[Path] | None, typer.Option("--train", help="Training file(s); default: the store.")] = None,
    test: Annotated[Path | None, typer.Option("--test", help="Test file; default: time-ordered hold-out.")] = None,
    profiles: ProfilesOption = None,
    rounds: Annotated[int, typer.Option("--rounds", min=10)] = 300,
    threads: ThreadsOption = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """precision@k and recall@k (k = 1, 2, 5, 10%) of the model, model + rules, rules alone and random."""

    @clear_errors
    def run() -> None:
        import tempfile

        from dragonnet.targeting import declarations

        chosen = _profiles(profiles)
        if test is not None:
            with tempfile.TemporaryDirectory() as tmp:
                sources = list(train or [])
                if not sources:
                    sources = declarations.store_files(service.store_dir(_data_dir()))
                staged = [p if p.suffix == ".parquet" else declarations.import_file(p, Path(tmp)).path for p in sources]
                test_path = declarations.import_file(test, Path(tmp)).path
                _spec, ev = engine.evaluate_split(staged, [test_path], chosen, rounds=rounds, threads=threads)
        else:
            eng = open_engine(database_url)
            with session_scope(eng) as session:
                results = service.recorded_results(session)
            files = declarations.store_files(service.store_dir(_data_dir()))
            with engine.Workspace(declarations_or_fail(files), results=results, threads=threads) as ws:
                _spec, ev = engine.train_time_ordered(ws, chosen, rounds=rounds)
        if as_json:
            typer.echo(json.dumps(ev.as_dict(), indent=2))
            return
        typer.echo(f"train {ev.train_rows} rows {ev.train_period}, test {ev.eval_rows} rows {ev.eval_period}, "
                   f"base rate {ev.base_rate:.3f}, AUC {ev.auc}")  # fmt: skip
        for name, rows in (("model", ev.model), ("combined", ev.combined), ("rules", ev.rules), ("random", ev.random)):
            typer.echo(f"  {name:9} {_pct(rows)}")

    run()


def declarations_or_fail(files: list[Path]) -> list[Path]:
    from dragonnet.errors import ValidationError

    if not files:
        raise ValidationError("no declarations imported yet: run `dragonnet targeting import FILE` first")
    return files


@targeting_app.command("lists")
def lists_cmd(
    batch: Annotated[int, typer.Argument(help="Batch id (from `import`).")],
    agency: Annotated[str, typer.Option("--agency", help="Agency whose offices get the lists.")],
    operation: Annotated[str | None, typer.Option("--operation", help="Operation slug for seizure cases.")] = None,
    profiles: ProfilesOption = None,
    threads: ThreadsOption = 2,
    database_url: DatabaseOption = None,
) -> None:
    """Build the targeting lists (one per office) of an imported batch for the web UI and the API."""
    from dragonnet.errors import ValidationError
    from dragonnet.storage.targeting_models import TargetingBatch

    @clear_errors
    def run() -> None:
        eng = open_engine(database_url)
        with session_scope(eng) as session:
            found = session.get(TargetingBatch, batch)
            if found is None:
                raise ValidationError(f"no batch {batch}")
            made = service.build_lists(session, _data_dir(), found, _profiles(profiles), agency_code=agency,
                                       operation_slug=operation, threads=threads)  # fmt: skip
            for tl in made:
                typer.echo(f"list {tl.id}: {tl.office_locode} {tl.declarations} declarations, red {tl.red}, "
                           f"yellow {tl.yellow}")  # fmt: skip

    run()
