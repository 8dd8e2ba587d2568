"""`dragonnet targeting`: import declarations, train, score a file to a ranked CSV, evaluate, build lists;
`dragonnet targeting profiles`: the stored risk profiles, their review cycle and their effectiveness report.

Which profiles a command uses: `--profiles FILE` if given, else the stored profiles (`profiles import`) the
agency may use, else the shipped example set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from dragonnet.cli.common import (
    DatabaseOption,
    SparkConfOption,
    SparkDirOption,
    actor_for,
    clear_errors,
    fail,
    open_engine,
)
from dragonnet.config import load_settings
from dragonnet.storage.db import session_scope
from dragonnet.targeting import engine, metrics, profile_service, service
from dragonnet.targeting.profiles import LaneConfig, ProfileSet, builtin_profiles, check_lanes, load_profiles

targeting_app = typer.Typer(help="Risk targeting: declarations, profiles, model, ranked lists.", no_args_is_help=True)

ProfilesOption = Annotated[
    Path | None,
    typer.Option("--profiles", help="Risk profiles (YAML); default: the stored profiles, else the shipped set."),
]
AgencyOption = Annotated[str | None, typer.Option("--agency", help="Agency code (profiles it may use, its lists).")]
ThreadsOption = Annotated[int, typer.Option("--threads", min=1, help="Threads for DuckDB and LightGBM.")]


def _profiles(path: Path | None, session: Any = None, agency: str | None = None) -> ProfileSet:
    """--profiles FILE, else the stored profiles `agency` may use (with `session`), else the shipped set."""
    if path:
        return load_profiles(path)
    if session is not None:
        stored = profile_service.stored_profile_set(session, agency)
        if stored is not None:
            return stored
    return builtin_profiles()


def _stored_or_file(path: Path | None, database_url: str | None, agency: str | None) -> ProfileSet:
    if path:
        return load_profiles(path)
    eng = open_engine(database_url)
    with session_scope(eng) as session:
        return _profiles(None, session, agency)


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
            chosen = _profiles(profiles, session, agency)
            version = service.train(session, _data_dir(), chosen, agency_code=agency, rounds=rounds,
                                    threads=threads)  # fmt: skip
            ev = version.evaluation
            typer.echo(f"model version {version.id}: trained on {ev['train_rows']} rows {ev['train_period']}, "
                       f"evaluated on {ev['eval_rows']} later rows {ev['eval_period']}, AUC {ev['auc']}")  # fmt: skip
            for name in ("model", "lane", "handset", "rules"):
                cells = "  ".join(f"@{k}: P={v['precision']:.3f} R={v['recall']:.3f}" for k, v in ev[name].items())
                typer.echo(f"  {name:9} {cells}")
            learned = {k: w for k, w in ev["weights"].items() if w is not None}
            typer.echo("  profile weights learned on held-out outcomes (log-odds added to the model's): "
                       + (", ".join(f"{k} {w:.2f}" for k, w in learned.items()) or "none"))  # fmt: skip

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
    spark_dir: SparkDirOption = None,
    spark_conf: SparkConfOption = None,
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
            usable = _profiles(profiles, session, agency).for_agency(agency)
        history = declarations.store_files(service.store_dir(_data_dir()))
        if backend not in ("duckdb", "spark"):
            raise fail(f"unknown backend {backend!r}: use duckdb or spark")
        if backend != "spark" and (spark_dir or spark_conf):
            raise fail("--spark-dir and --spark-conf go with --backend spark")
        if backend == "spark" and spark_dir:
            _score_on_cluster(file, out, usable, spec, results, history, spark_master, spark_dir, spark_conf or [])
            return
        if backend == "spark":
            _score_on_spark(file, out, usable, spec, results, history, spark_master)
            return
        with tempfile.TemporaryDirectory() as tmp:
            staged = declarations.import_file(file, Path(tmp), "auto").path
            with engine.Workspace([staged], history or [staged], results=results,
                                  extras=spec.extras if spec else None, threads=threads) as ws:  # fmt: skip
                ranked = service.rank(ws, usable, spec)
        frame = ranked.frame.sort_values("score", ascending=False, kind="stable")
        frame["explanation"] = [
            service.explanation_text(ranked, list(r), str(d))
            for r, d in zip(frame["rules"], frame["declaration_id"], strict=True)
        ]
        frame["rules"] = frame["rules"].map(lambda r: ";".join(r))
        cols = ["declaration_id", "declaration_date", "office_locode", "lane", "random", "mandatory", "score",
                "rule_score", "model_p", "rules", "explanation"]  # fmt: skip
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
                "declaration_id", "declaration_date", "office_locode", "mandatory", "score", "rule_score", "model_p"
            )
            frame = scored.toPandas().sort_values(["score", "declaration_id"], ascending=[False, True], kind="stable")
    finally:
        spark.stop()
    frame.to_csv(out, index=False)
    typer.echo(f"scored {len(frame)} declarations on Spark ({master}) -> {out}")


def _score_on_cluster(
    file: Path, out: Path, profiles: Any, spec: Any, results: Any, history: list[Path], master: str, folder: str,
    conf: list[str],
) -> None:  # fmt: skip
    import tempfile

    from dragonnet.cluster import SparkCluster, parse_conf
    from dragonnet.targeting import declarations
    from dragonnet.targeting.spark_job import score_on_cluster

    cluster = SparkCluster(master, folder, parse_conf(conf))
    with tempfile.TemporaryDirectory() as tmp:
        staged = declarations.import_file(file, Path(tmp), "auto").path
        scored = score_on_cluster(cluster, staged, history, profiles, spec, results=results)
    scored.frame.to_csv(out, index=False)
    typer.echo(f"scored {len(scored.frame)} declarations on the Spark cluster {master} -> {out}; "
               f"Parquet input and scores of the run: {scored.output}")  # fmt: skip


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
    """precision@k and recall@k (k = 1, 2, 5, 10%) of the model alone, the lane score (model + learned profile
    weights), the hand-set noisy-OR, the profiles alone and random selection."""

    @clear_errors
    def run() -> None:
        import tempfile

        from dragonnet.targeting import declarations

        chosen = _stored_or_file(profiles, database_url, None) if test is None else (
            load_profiles(profiles) if profiles else builtin_profiles())  # fmt: skip
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
        for name, rows in ev.rankings():
            typer.echo(f"  {name:17} {_pct(rows)}")
        learned = ", ".join(f"{k} {w:.2f}" for k, w in ev.weights.items() if w is not None)
        typer.echo(f"  profile weights learned on held-out outcomes (log-odds over the model's): {learned or 'none'}")

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
    red_rate: Annotated[float | None, typer.Option("--red-rate", help="Share sent to the red lane.")] = None,
    yellow_rate: Annotated[float | None, typer.Option("--yellow-rate", help="Share sent to yellow.")] = None,
    random_share: Annotated[
        float | None, typer.Option("--random-share", help="Share of the red lane drawn at random from green.")
    ] = None,
    threads: ThreadsOption = 2,
    database_url: DatabaseOption = None,
) -> None:
    """Build the targeting lists (one per office) of an imported batch for the web UI and the API.

    Lane rates: the options, else the `lanes:` block of --profiles FILE, else red 5 %, yellow 5 %, random 10 %."""
    from dragonnet.errors import ValidationError
    from dragonnet.storage.targeting_models import TargetingBatch

    @clear_errors
    def run() -> None:
        eng = open_engine(database_url)
        with session_scope(eng) as session:
            found = session.get(TargetingBatch, batch)
            if found is None:
                raise ValidationError(f"no batch {batch}")
            chosen = _profiles(profiles, session, agency)
            given = {"red_rate": red_rate, "yellow_rate": yellow_rate, "random_share": random_share}
            lanes = LaneConfig(**{**chosen.lanes.__dict__, **{k: v for k, v in given.items() if v is not None}})
            check_lanes(lanes, "lane options")
            chosen = ProfileSet(chosen.profiles, lanes)
            made = service.build_lists(session, _data_dir(), found, chosen, agency_code=agency,
                                       operation_slug=operation, threads=threads)  # fmt: skip
            for tl in made:
                typer.echo(f"list {tl.id}: {tl.office_locode} {tl.declarations} declarations, red {tl.red}, "
                           f"yellow {tl.yellow}")  # fmt: skip

    run()


# --- stored profiles: import, review cycle, history, effectiveness report ------------------------------------

profiles_app = typer.Typer(
    help="Stored risk profiles: import, review cycle, history, per-profile effectiveness report.", no_args_is_help=True
)
targeting_app.add_typer(profiles_app, name="profiles")

AsUserOption = Annotated[str, typer.Option("--as", "--user", help="Act as this user (their agency and rights).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _day(value: str | None, what: str) -> Any:
    import datetime as dt

    from dragonnet.errors import ValidationError

    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"{what}: not a date (YYYY-MM-DD): {value!r}") from None


@profiles_app.command("import")
def profiles_import(
    file: Annotated[Path, typer.Argument(help="Risk profiles (YAML, the format of targeting/profiles.py).")],
    username: AsUserOption,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Store the profiles of a YAML file: new ones created, changed ones updated (each change kept in the
    profile's history and audited); all or nothing."""
    from dragonnet.errors import ValidationError

    @clear_errors
    def run() -> None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}") from None
        eng = open_engine(database_url)
        with session_scope(eng) as session:
            outcome = profile_service.import_profiles(session, actor_for(session, username), text, file.name)
        if as_json:
            typer.echo(json.dumps(outcome.as_dict()))
            return
        typer.echo(f"{file.name}: {len(outcome.created)} created, {len(outcome.updated)} updated, "
                   f"{len(outcome.unchanged)} unchanged")  # fmt: skip

    run()


@profiles_app.command("list")
def profiles_list(username: AsUserOption, as_json: JsonOption = False, database_url: DatabaseOption = None) -> None:
    """The stored profiles this user may use, with their review state."""

    @clear_errors
    def run() -> None:
        eng = open_engine(database_url)
        with session_scope(eng) as session:
            rows = profile_service.visible_profiles(session, actor_for(session, username))
            out = [profile_service.summary(r) for r in rows]
        if as_json:
            typer.echo(json.dumps(out, ensure_ascii=False))
            return
        for r in out:
            typer.echo(f"{r['id']:28} v{r['version']:<3} {r['status']:8} owner {r['owner']:8} "
                       f"review by {r['review_by'] or '-':10} expires {r['expires'] or '-':10}"
                       f"{'  MANDATORY' if r['mandatory'] else ''}  {r['name']}")  # fmt: skip

    run()


@profiles_app.command("history")
def profiles_history(
    profile_id: Annotated[str, typer.Argument(help="The profile's id.")],
    username: AsUserOption,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Every change of a profile: version, when, who, what changed, why."""

    @clear_errors
    def run() -> None:
        eng = open_engine(database_url)
        with session_scope(eng) as session:
            changes = [profile_service.change_summary(c) for c in
                       profile_service.history(session, actor_for(session, username), profile_id)]  # fmt: skip
        if as_json:
            typer.echo(json.dumps(changes, ensure_ascii=False, default=str))
            return
        for c in changes:
            fields = ", ".join(c["changes"]) or "-"
            typer.echo(f"v{c['version']} {c['at'][:16]} {c['by']:16} {c['action']:10} {fields}  {c['note'] or ''}")

    run()


@profiles_app.command("review")
def profiles_review(
    profile_id: Annotated[str, typer.Argument(help="The profile's id.")],
    username: AsUserOption,
    decision: Annotated[str, typer.Option("--decision", help="keep, retire or reinstate.")],
    note: Annotated[str, typer.Option("--note", help="What was looked at, why this decision.")],
    next_review: Annotated[
        str | None, typer.Option("--next-review", help="Next review date (keep, reinstate).")
    ] = None,
    mandatory: Annotated[
        bool | None, typer.Option("--mandatory/--not-mandatory", help="Intelligence-led: always red.")
    ] = None,
    expires: Annotated[str | None, typer.Option("--expires", help="New expiry date (valid_to); 'none' clears.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Record a review of a profile (a new version in its history, audited)."""

    @clear_errors
    def run() -> None:
        eng = open_engine(database_url)
        extra: dict[str, Any] = {}
        if expires is not None:
            extra["expires"] = None if expires.strip().lower() == "none" else _day(expires, "--expires")
        with session_scope(eng) as session:
            row = profile_service.review_profile(
                session, actor_for(session, username), profile_id, decision=decision,
                next_review=_day(next_review, "--next-review"), note=note, mandatory=mandatory, **extra,
            )  # fmt: skip
            typer.echo(f"profile {row.key}: version {row.version}, {row.status}, review by {row.review_by or '-'}, "
                       f"expires {row.valid_to or '-'}{', mandatory' if row.mandatory else ''}")  # fmt: skip

    run()


@profiles_app.command("report")
def profiles_report(
    username: AsUserOption,
    date_from: Annotated[str | None, typer.Option("--from", help="First day of the period (YYYY-MM-DD).")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last day of the period (YYYY-MM-DD).")] = None,
    office: Annotated[str | None, typer.Option("--office", help="Customs office (LOCODE); default: all.")] = None,
    floor: Annotated[
        float | None, typer.Option("--floor", help="Hit-rate floor (0-1); default: the period's baseline rate.")
    ] = None,
    min_inspections: Annotated[
        int, typer.Option("--min-inspections", help="Inspections before the floor applies.")
    ] = profile_service.eff.DEFAULT_MIN_INSPECTIONS,
    include_retired: Annotated[bool, typer.Option("--include-retired", help="Also report retired profiles.")] = False,
    profiles: Annotated[
        Path | None, typer.Option("--profiles", help="Assess the profiles of this YAML file instead of the stored.")
    ] = None,
    threads: ThreadsOption = 2,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Per-profile effectiveness over a period and office: selected, inspected, found, hit rate (95 % CI), lift
    over random and over the model at the same inspection rate, review flags; and the lanes' hit rates beside
    the random draws' (the unbiased estimate of the green lane's fraud rate)."""

    @clear_errors
    def run() -> None:
        query = profile_service.ReportQuery(
            date_from=_day(date_from, "--from"), date_to=_day(date_to, "--to"),
            office=office.strip().upper() if office else None, floor=floor, min_inspections=min_inspections,
            include_retired=include_retired,
        )  # fmt: skip
        chosen = load_profiles(profiles) if profiles else None
        eng = open_engine(database_url)
        with session_scope(eng) as session:
            report = profile_service.effectiveness_report(session, actor_for(session, username), query,
                                                          profiles=chosen, threads=threads)  # fmt: skip
        if as_json:
            typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
            return
        _print_report(report)

    run()


def _pct_or_dash(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _ratio_or_dash(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _print_report(report: Any) -> None:
    d = report.as_dict()
    base = report.inspected
    period = f"{d['period']['from'] or 'start'} .. {d['period']['to'] or 'today'}"
    typer.echo(
        f"period {period}, office {report.office or 'all'}: {report.declarations} declarations, "
        f"{base.inspected} inspected, {base.found} found ({_pct_or_dash(base.rate)}; {report.baseline_basis})"
    )
    if report.model is not None:
        caveat = " (trained on this period's outcomes: optimistic)" if report.model.overlaps else ""
        typer.echo(f"model version {report.model.version_id}{caveat}")
    lanes = "  ".join(f"{name} {_pct_or_dash(r.rate)} ({r.found}/{r.inspected})" for name, r in report.lanes.items())
    typer.echo(f"lane hit rates: {lanes}  [random = unbiased estimate of the green lane]")
    typer.echo(f"{'profile':28} {'selected':>8} {'inspected':>9} {'found':>6} {'hit rate':>8} {'95% CI':>15} "
               f"{'lift/rnd':>8} {'model':>7} {'lift/mdl':>8} {'weight':>15}  flags")  # fmt: skip
    for p in report.profiles:
        ci = p.hits.interval
        cell = f"{ci[0]:.1%}-{ci[1]:.1%}" if ci else "-"
        weight = "mandatory" if p.profile.mandatory else f"{p.weight.weight:.2f} {p.weight.basis[:11]}"
        typer.echo(f"{p.profile.id:28} {p.selected:8} {p.hits.inspected:9} {p.hits.found:6} "
                   f"{_pct_or_dash(p.hits.rate):>8} {cell:>15} {_ratio_or_dash(p.lift_random):>8} "
                   f"{_pct_or_dash(p.model.rate if p.model else None):>7} {_ratio_or_dash(p.lift_model):>8} "
                   f"{weight:>15}  {'; '.join(p.flags)}")  # fmt: skip
