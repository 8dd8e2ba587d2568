"""`dragonnet linkage ...`: entity resolution, encoded cross-agency matching, networks, routes and trends."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from dragonnet.cli.common import AsUserOption, SparkConfOption, SparkDirOption, actor_for, fail, open_engine
from dragonnet.cli.progress import progress_bar

linkage_app = typer.Typer(help="Link and route analysis: resolve parties, find networks, compare routes.",
                          no_args_is_help=True)  # fmt: skip

DatabaseOption = Annotated[
    str | None, typer.Option("--database-url", help="Database URL (default: $DRAGONNET_DATABASE_URL).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _engine(database_url: str | None) -> Any:
    return open_engine(database_url)


def _secret(key_file: Path | None) -> bytes:
    """The operation's linkage key: --key-file, $DRAGONNET_LINKAGE_KEY (hex), or (demo) derived from the site key."""
    if key_file is not None:
        try:
            data = key_file.read_bytes().strip()
        except OSError as exc:
            raise fail(f"cannot read the key file {key_file}: {exc.strerror}") from None
        if len(data) < 16:
            raise fail("the linkage key must have at least 16 bytes")
        return data
    env = os.environ.get("DRAGONNET_LINKAGE_KEY")
    if env:
        try:
            return bytes.fromhex(env)
        except ValueError:
            raise fail("DRAGONNET_LINKAGE_KEY must be hexadecimal") from None
    from dragonnet.config import load_settings
    from dragonnet.linkage.service import demo_secret

    return demo_secret(load_settings().secret_key)


def _actor(session: Any, username: str | None) -> Any:
    """No --as: the operator's full extract (None)."""
    return None if username is None else actor_for(session, username)


@linkage_app.command("run")
def run(
    backend: Annotated[
        str, typer.Option("--backend", help="duckdb (default) or spark (local, or the cluster of --spark-master).")
    ] = "duckdb",
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="Run on this Spark cluster: spark://HOST:7077, yarn, k8s://..., or a "
            "Spark Connect URL sc://HOST:15002 (needs --spark-dir).",
        ),
    ] = None,
    spark_dir: SparkDirOption = None,
    spark_conf: SparkConfOption = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold", help="Match probability of a link (default: the --operation's adopted one, else 0.95)."
        ),
    ] = None,
    operation: Annotated[
        str | None,
        typer.Option(
            "--operation", help="Scope declarations to this operation's phases and use its adopted threshold."
        ),
    ] = None,
    pprl_threshold: Annotated[
        float | None, typer.Option("--pprl-threshold", help="Match probability of an encoded match (default 0.8).")
    ] = None,
    skip_pprl: Annotated[bool, typer.Option("--no-pprl", help="Skip the encoded cross-agency matching.")] = False,
    key_file: Annotated[Path | None, typer.Option("--key-file", help="The operation's shared linkage key.")] = None,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Resolve every party (Splink), store links and clusters; then encode per agency and match at the hub."""
    from dragonnet.config import load_settings
    from dragonnet.errors import DragonnetError
    from dragonnet.linkage import pprl, service
    from dragonnet.linkage.record_cache import cache_dir
    from dragonnet.operation.service import get_operation
    from dragonnet.storage.db import session_scope

    if backend not in ("duckdb", "spark"):
        raise fail(f"unknown backend {backend!r}: use duckdb or spark")
    cluster = _spark_cluster(backend, spark_master, spark_dir, spark_conf or [])
    engine = _engine(database_url)
    secret = None if skip_pprl else _secret(key_file)
    try:
        with session_scope(engine) as session:
            with progress_bar(f"entity resolution on {backend}", enabled=not as_json, total=2) as progress:
                progress(0, 2, "normalising, training and predicting (Splink)")
                operation_id = get_operation(session, operation).id if operation else None
                r = service.run_resolution(session, backend=backend, threshold=threshold,  # type: ignore[arg-type]
                                           operation_id=operation_id, spark=cluster,
                                           record_cache=cache_dir(load_settings().data_dir))  # fmt: skip
                progress(1, 2, "encoded cross-agency matching")
                pprl_at = pprl.DEFAULT_THRESHOLD if pprl_threshold is None else pprl_threshold
                matches = None if secret is None else service.run_pprl(session, secret, threshold=pprl_at)
                progress(2, 2)
            out = {"run": r.id, "backend": r.backend, "threshold": r.threshold, "records": r.records, "links": r.links,
                   "clusters": r.clusters, "encoded_matches": matches,
                   "spark_output": cluster.run_dir() if cluster else None}  # fmt: skip
    except DragonnetError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(out))
    else:
        typer.echo(
            f"run {out['run']} on {backend} at {out['threshold']:g}: {out['records']} parties, {out['links']} links, "
            f"{out['clusters']} entities" + ("" if matches is None else f"; {matches} encoded matches")
        )
        if cluster is not None:
            typer.echo(f"Parquet input and results of the cluster run: {out['spark_output']}")


def _spark_cluster(backend: str, master: str | None, folder: str | None, conf: list[str]) -> Any:
    """The cluster of --spark-master (None: DuckDB, or Spark inside this process)."""
    from dragonnet.cluster import SparkCluster, new_run_name, parse_conf
    from dragonnet.errors import DragonnetError

    if master is None:
        if folder or conf:
            raise fail("--spark-dir and --spark-conf go with --spark-master")
        return None
    if backend != "spark":
        raise fail("--spark-master needs --backend spark")
    if not folder:
        raise fail("--spark-master needs --spark-dir: a folder the cluster and this machine both reach")
    try:
        settings = parse_conf(conf)
    except DragonnetError as exc:
        raise fail(str(exc)) from None
    return SparkCluster(master, folder, settings, new_run_name())


@linkage_app.command("networks")
def networks(
    username: AsUserOption = None,
    hub: Annotated[bool, typer.Option("--hub", help="The hub's view: encoded matches, no nominal data.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many networks to print.")] = 20,
    min_countries: Annotated[int, typer.Option("--min-countries", min=1, help="Only networks this wide.")] = 1,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Networks of cases linked through shared entities, largest first."""
    from dragonnet.linkage import service
    from dragonnet.linkage.networks import summary_rows
    from dragonnet.storage.db import session_scope

    engine = _engine(database_url)
    try:
        with session_scope(engine) as session:
            actor = _actor(session, username)
            if actor is not None and hub:
                raise fail("--hub and --as exclude each other")
            read = service.read_networks(
                session, actor, hub=hub, min_countries=min_countries, limit=limit, purpose="networks"
            )
            rows = summary_rows(read.networks)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        central = "; ".join(f"{c['label']} ({c['kind']}, {c['cases']} cases)" for c in r["central"][:3])
        typer.echo(
            f"#{r['network']}: {r['cases']} cases, countries {','.join(r['countries'])}, "
            f"phases {','.join(map(str, r['phases']))}, {','.join(r['commodities'])}; central: {central}"
        )


@linkage_app.command("routes")
def routes(
    phase: Annotated[int, typer.Option("--phase", help="The phase (number) to show.")],
    compare: Annotated[
        int | None, typer.Option("--compare", help="Compare with this phase (default: phase-1).")
    ] = None,
    commodity: Annotated[str | None, typer.Option("--commodity", help="drug, precursor, wildlife or timber.")] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="p-value under which a change is a trend.")] = 0.01,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 20,
    username: AsUserOption = None,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Flows of one phase (validated cases) and the routes that changed against another phase."""
    from dragonnet.linkage import routes as routes_mod
    from dragonnet.linkage.extract import extract
    from dragonnet.storage.db import session_scope

    engine = _engine(database_url)
    try:
        with session_scope(engine) as session:
            ex = extract(session, _actor(session, username))
    finally:
        engine.dispose()
    phases = sorted({c.phase for c in ex.cases.values()})
    if phase not in phases:
        raise fail(f"no cases in phase {phase}; phases with cases: {', '.join(map(str, phases)) or 'none'}")
    other = compare if compare is not None else phase - 1
    flows = routes_mod.flows(ex, phase=phase, commodity=commodity)
    changes = routes_mod.trends(ex, other, phase, alpha=alpha, commodity=commodity) if other in phases else []
    if as_json:
        typer.echo(json.dumps({
            "phase": phase, "compared_with": other if changes else None,
            "flows": [{"route": list(f.route), "commodity": f.commodity, "product": f.product, "mode": f.mode,
                       "cases": f.cases} for f in flows[:limit]],
            "changes": [{"route": list(t.route), "before": t.before, "after": t.after, "p_value": t.p_value,
                         "change": t.change} for t in changes if t.significant or t.change in ("new", "vanished")],
        }, ensure_ascii=False))  # fmt: skip
        return
    typer.echo(f"phase {phase}: flows (validated cases)")
    for f in flows[:limit]:
        typer.echo(f"  {f.cases:4d}  {f.label}  {f.commodity} {f.product} {f.mode}")
    if changes:
        typer.echo(f"changes against phase {other} (exact binomial test, alpha {alpha}):")
        for t in [t for t in changes if t.significant][:limit]:
            typer.echo(f"  {t.change:8s} {t.label}: {t.before} -> {t.after} (p={t.p_value:.2g})")


@linkage_app.command("declarations")
def declarations(
    operation: Annotated[str, typer.Option("--operation", help="The operation (slug).")],
    username: AsUserOption = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only links with this evidence: party, container, phone, company_name.")
    ] = None,
    office: Annotated[str | None, typer.Option("--office", help="Only declarations lodged at this office.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="How many links to print (default: all).")] = None,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Declarations linked to cases: a shared party, container or phone, or a company name (a lead)."""
    from dragonnet.errors import DragonnetError
    from dragonnet.linkage import service
    from dragonnet.operation.service import get_operation
    from dragonnet.storage.db import session_scope

    engine = _engine(database_url)
    try:
        with session_scope(engine) as session:
            actor = _actor(session, username)
            op = get_operation(session, operation)
            found, rows = service.read_declaration_links(
                session, actor, operation_id=op.id, kind=kind, office=office, limit=limit, purpose="declaration links"
            )
    except DragonnetError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in rows], ensure_ascii=False))
        return
    if not found.may_read:
        typer.echo(f"{username} does not read declarations (only members of the importing agency who may target)")
        return
    typer.echo(f"{len(found.rows)} of {found.total} linked case-declaration pairs; {found.declarations} declarations "
               f"read, {found.cases} cases visible")  # fmt: skip
    for r in rows:
        evidence = "; ".join(_evidence_text(e) for e in r.evidence)
        hs = ",".join(r.hs_codes) or "-"
        typer.echo(f"{r.case_ref} <-> {r.declaration_id} ({r.office}, {r.date.isoformat()}, HS {hs}): {evidence}")


def _evidence_text(e: Any) -> str:
    """ "same container MSKU9070323", "same party: IMP0042 = Golden Ocean Trading" (declaration = case)."""
    if e.kind in ("container", "phone"):
        return f"{e.label.lower()} {e.entity.split(':', 1)[1]}"
    return f"{e.label.lower()}: {', '.join(e.declaration_values)} = {', '.join(e.case_values)}"


# --- match notices: hit / no hit, and the requests that reveal the other side --------------------------------

UserOption = Annotated[str, typer.Option("--as", "--user", help="Act as this user (notices are an agency's).")]


def _notice_json(n: Any) -> dict[str, Any]:
    return {
        "id": n.id, "party_id": n.party_id, "party_name": n.party_name, "case_id": n.own_case_id,
        "case_ref": n.own_case_ref, "other_agency": n.other_agency, "dice": round(n.dice, 3),
        "matched_at": n.matched_at.isoformat(), "status": n.status,
        "revealed": None if n.revealed is None else {"case_id": n.revealed.case_id, "case_ref": n.revealed.case_ref,
                                                      "party_id": n.revealed.party_id,
                                                      "party_name": n.revealed.party_name},
        "requests": [_request_json(r) for r in n.requests],
    }  # fmt: skip


def _request_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id, "notice": r.notice_id, "sent": r.sent, "requester_agency": r.requester_agency,
        "owner_agency": r.owner_agency, "status": r.status, "reason": r.reason,
        "requested_at": r.requested_at.isoformat(), "decided_at": r.decided_at.isoformat() if r.decided_at else None,
        "decision_reason": r.decision_reason, "case_id": r.case_id,
    }  # fmt: skip


def _as_user(work: Any, username: str, database_url: str | None) -> Any:
    """Run `work(session, actor)` as `username` in one transaction; a user's error is one line."""
    from dragonnet.errors import DragonnetError
    from dragonnet.storage.db import session_scope

    engine = _engine(database_url)
    try:
        with session_scope(engine) as session:
            return work(session, actor_for(session, username))
    except DragonnetError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()


@linkage_app.command("notices")
def notices(username: UserOption, as_json: JsonOption = False, database_url: DatabaseOption = None) -> None:
    """Match notices of the user's agency: another agency holds a record matching one of its parties (hit / no
    hit). The other case is named only once its owner shared it."""
    from dragonnet.linkage import service

    found, screening = _as_user(
        lambda s, a: (service.read_notices(s, a, purpose="match notices"),
                      service.read_screening_notices(s, a, purpose="match notices")),
        username, database_url,
    )  # fmt: skip
    if as_json:  # the match notices; `screening-notices --json` prints the screening ones
        typer.echo(json.dumps([_notice_json(n) for n in found], ensure_ascii=False))
        return
    if not found:
        typer.echo("no match notice for your agency")
    for n in found:
        theirs = f"their case {n.revealed.case_ref} ({n.revealed.party_name})" if n.revealed else n.status
        asked = f"; {len(n.pending_received)} request(s) to answer" if n.pending_received else ""
        typer.echo(f"notice {n.id}: {n.other_agency} holds a record matching {n.party_name} ({n.own_case_ref}), "
                   f"Dice {n.dice:.2f}: {theirs}{asked}")  # fmt: skip
    _print_screening_notices(screening)


def _print_screening_notices(screening: Any) -> None:
    for sn in screening:
        asked = f"; {len(sn.pending_received)} request(s) to answer" if sn.pending_received else ""
        listed = "an encoded row: no name was sent" if sn.encoded else sn.listed_name
        if sn.asker:
            theirs = f"their case {sn.revealed.case_ref} ({sn.revealed.party_name})" if sn.revealed else sn.status
            typer.echo(f"screening notice {sn.id}: {sn.owner_agency} holds a record matching row {sn.row} "
                       f"({listed}) of {sn.list_name}: {theirs}")  # fmt: skip
        else:
            row = f"row {sn.row} of an encoded list (no name was sent)" if sn.encoded else f"a row ({sn.listed_name})"
            typer.echo(f"screening notice {sn.id}: {sn.requester_agency} screened {row} matching "
                       f"{sn.own_party_name} ({sn.own_case_ref}){asked}")  # fmt: skip


@linkage_app.command("request")
def request(
    notice: Annotated[int, typer.Argument(help="The match notice's number.")],
    username: UserOption,
    reason: Annotated[str, typer.Option("--reason", help="Why your agency needs the record (sent to its owner).")],
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Ask the other agency of a match notice to share its matching record."""
    from dragonnet.linkage import service

    made = _as_user(lambda s, a: service.request_disclosure(s, a, notice, reason), username, database_url)
    if as_json:
        typer.echo(json.dumps(_request_json(made), ensure_ascii=False))
        return
    typer.echo(f"request {made.id} sent to {made.owner_agency} (match notice {notice})")


@linkage_app.command("screening-notices")
def screening_notices(username: UserOption, as_json: JsonOption = False, database_url: DatabaseOption = None) -> None:
    """Screening notices of the user's agency: rows of its lists matching a record another agency holds that it
    may not see (the agency only), and requests for its own records."""
    from dragonnet.linkage import service

    found = _as_user(lambda s, a: service.read_screening_notices(s, a, purpose="screening notices"), username,
                     database_url)  # fmt: skip
    if as_json:
        typer.echo(json.dumps([n.to_dict() for n in found], ensure_ascii=False))
        return
    if not found:
        typer.echo("no screening notice for your agency")
    _print_screening_notices(found)


@linkage_app.command("request-screening")
def request_screening(
    notice: Annotated[int, typer.Argument(help="The screening notice's number (printed by `dragonnet screen`).")],
    username: UserOption,
    reason: Annotated[str, typer.Option("--reason", help="Why your agency needs the record (sent to its owner).")],
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Ask the agency holding a record that matched a row of your list to share it (decided with `decide`)."""
    from dragonnet.linkage import service

    made = _as_user(lambda s, a: service.request_screening_disclosure(s, a, notice, reason), username, database_url)
    if as_json:
        typer.echo(json.dumps({**_request_json(made), "screening_notice": made.screening_notice_id},
                              ensure_ascii=False))  # fmt: skip
        return
    typer.echo(f"request {made.id} sent to {made.owner_agency} (screening notice {notice})")


@linkage_app.command("decide")
def decide(
    request_id: Annotated[int, typer.Argument(help="The request's number.")],
    decision: Annotated[str, typer.Argument(help="accept (share the case, with its parties) or decline.")],
    username: UserOption,
    reason: Annotated[str, typer.Option("--reason", help="Your reason (required to decline).")] = "",
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Accept or decline a request made to your agency for a record matching another agency's party."""
    from dragonnet.linkage import service

    done = _as_user(lambda s, a: service.decide_request(s, a, request_id, decision, reason), username, database_url)
    if as_json:
        typer.echo(json.dumps(_request_json(done), ensure_ascii=False))
        return
    typer.echo(f"request {done.id} of {done.requester_agency}: {done.status}")


# --- calibrated thresholds ------------------------------------------------------------------------------------

threshold_app = typer.Typer(
    help="The operation's match threshold, calibrated on analysts' confirm/reject decisions.", no_args_is_help=True
)
linkage_app.add_typer(threshold_app, name="threshold")

OperationOption = Annotated[str, typer.Option("--operation", help="The operation's slug.")]
ThresholdUserOption = Annotated[str, typer.Option("--as", "--user", help="Act as this user.")]
TargetOption = Annotated[
    float | None,
    typer.Option("--precision-target", help="Also suggest the lowest threshold reaching this precision (0-1]."),
]
CURVE_ROWS_PRINTED = 25


def _print_view(view: Any) -> None:
    c = view.calibration
    typer.echo(f"operation {view.operation}: {c.decisions} decisions ({c.confirmed} confirmed, {c.rejected} rejected) "
               f"on pairs you may see; {c.unscored} not scored by the latest run (below {c.floor:g})")  # fmt: skip
    current = view.current
    adopted = (f"adopted {current.threshold:.4f} ({current.rule}) on {current.adopted_at:%Y-%m-%d %H:%M} UTC"
               if current else "none adopted")  # fmt: skip
    typer.echo(f"threshold: {adopted}; screening uses {view.screening_threshold:.4f}, "
               f"resolution runs {view.resolution_threshold:.4f}")  # fmt: skip
    if c.problem:
        typer.echo(f"no suggestion: {c.problem}; the default stays")
        return
    typer.echo("threshold  precision  recall  F1      TP   FP")
    for p in c.points[:CURVE_ROWS_PRINTED]:
        typer.echo(f"{p.threshold:9.4f}  {p.precision:9.4f}  {p.recall:6.4f}  {p.f1:6.4f}  {p.true_positives:4d} "
                   f"{p.false_positives:4d}")  # fmt: skip
    if len(c.points) > CURVE_ROWS_PRINTED:
        typer.echo(f"... {len(c.points) - CURVE_ROWS_PRINTED} more points (--json gives them all)")
    best = c.best_f1()
    if best is not None:
        typer.echo(f"suggested (best F1): {best.threshold:.4f}: precision {best.precision:.4f}, recall "
                   f"{best.recall:.4f}, F1 {best.f1:.4f}")  # fmt: skip
    if view.precision_target is not None:
        t = view.for_target
        typer.echo(
            f"suggested for precision {view.precision_target:g}: "
            + (f"{t.threshold:.4f}: precision {t.precision:.4f}, recall {t.recall:.4f}" if t else "none reaches it")
        )


@threshold_app.command("show")
def threshold_show(
    operation: OperationOption,
    username: ThresholdUserOption,
    precision_target: TargetOption = None,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """The precision/recall curve of the match threshold from the decisions you may see, and the suggestions."""
    from dragonnet.linkage import service

    view = _as_user(
        lambda s, a: service.read_threshold(s, a, operation=operation, precision_target=precision_target),
        username, database_url,
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(view.to_json()))
        return
    _print_view(view)


@threshold_app.command("adopt")
def threshold_adopt(
    operation: OperationOption,
    username: ThresholdUserOption,
    precision_target: TargetOption = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Adopt this threshold (a point you chose on the curve).")
    ] = None,
    as_json: JsonOption = False,
    database_url: DatabaseOption = None,
) -> None:
    """Adopt the operation's threshold: the best F1 by default, the lowest reaching --precision-target, or
    --threshold. Screenings and `linkage run --operation` use it unless given --threshold."""
    from dragonnet.linkage import service

    if threshold is not None and precision_target is not None:
        raise fail("give --threshold or --precision-target, not both")
    rule = "chosen" if threshold is not None else ("precision_target" if precision_target is not None else "best_f1")

    def work(session: Any, actor: Any) -> dict[str, Any]:
        row = service.adopt_threshold(session, actor, operation=operation, rule=rule,
                                      precision_target=precision_target, threshold=threshold)  # fmt: skip
        return {"operation": operation, "threshold": row.threshold, "rule": row.rule, "decisions": row.decisions,
                "precision": row.precision, "recall": row.recall, "adopted_at": row.adopted_at.isoformat()}  # fmt: skip

    out = _as_user(work, username, database_url)
    if as_json:
        typer.echo(json.dumps(out))
        return
    typer.echo(f"operation {operation}: threshold {out['threshold']:.4f} adopted ({rule}, {out['decisions']} "
               f"decisions: precision {out['precision']:.4f}, recall {out['recall']:.4f})")  # fmt: skip
