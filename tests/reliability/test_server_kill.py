"""Crash atomicity (S8, issue #9): kill -9 the dragonnet server process, or the PostgreSQL server under it,
while cases are created, merged and reported through the API and the web pages.

A real server (`dragonnet serve`, one uvicorn process in its own process group) runs over a seeded
database (an operation, three agencies, four users with API tokens, 150 imported pairs of likely
duplicates); client threads keep creating cases (2 items and a party each), merging likely duplicates (a
regional analyst and a national coordinator) and generating the debrief report (JSON, HTML, XLSX, PDF).
At a seeded random moment the whole process group is killed with SIGKILL, several times per backend.

After each restart, direct SQL checks: every acknowledged case is there with its 2 items and its party;
no case is partial (not its 2 items; for API cases also not its party, status row or audit entry); every
acknowledged merge is complete and no merge is half done; every acknowledged report left its audit entry;
the audit chain verifies; the report answers 200 again. Requests cut by a kill are re-sent after the restart
(same case_ref, same pair): each either lands or is refused as already done, so the work completes.

The PostgreSQL variant (test_kill_postgres_server_mid_requests) runs a private PostgreSQL server
(scripts/pg-throwaway.sh, its own port) under the same seeded world and clients and kills its postmaster
with SIGKILL instead, twice, while a case creation, a merge and a report are in flight. The dragonnet server
is not restarted: it must come back by itself (its pool pings and reconnects) once PostgreSQL is restarted
(pg_ctl, after crash recovery). A request answered 5xx during the outage has an unknown outcome, like one
cut by a server kill: it is counted and re-sent. Then the same checks.
Figures are printed as `figure:` lines for docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import io
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dragonnet.domain.identifiers import iso6346_check_digit
from dragonnet.intake import duplicates
from dragonnet.intake.importer import import_cases
from dragonnet.operation import service
from dragonnet.policy import audit
from dragonnet.policy.access import Actor, audit_actor
from dragonnet.policy.tokens import create_token
from dragonnet.policy.users import create_user, open_session
from dragonnet.storage.db import make_engine
from dragonnet.storage.intake_models import CaseMerge, CaseStatusChange
from dragonnet.storage.models import AuditEvent, AuditStaged, Case, Item, Party

REPO = Path(__file__).resolve().parents[2]
SLUG = "mekong-dragon"
PASSWORD = "Kill-nine-server-test-2023"
PAIRS = 150  # seeded likely-duplicate pairs (VN-CUS case kept, TH-CUS report of the same seizure merged)
KILLS = 3
PG_KILLS = 2  # postmaster kills in the PostgreSQL variant
RECOVERY_S = 30.0  # after PostgreSQL is back, the dragonnet server must answer 2xx again within this
SESSION_COOKIE = "dragonnet_session"
REPORT_PATHS = (
    f"/api/v1/operations/{SLUG}/reports/debrief",
    f"/operations/{SLUG}/reports/debrief.html",
    f"/operations/{SLUG}/reports/debrief.xlsx",
    f"/operations/{SLUG}/reports/debrief.pdf",
)
USERS = {  # username -> (agency, role)
    "vn.reporter": ("VN-CUS", "reporter"),
    "th.reporter": ("TH-CUS", "reporter"),
    "vn.coordinator": ("VN-CUS", "national_coordinator"),
    "rilo.analyst": ("RILO-AP", "regional_analyst"),
}


# --- the seeded world ---------------------------------------------------------------------------------------


def _case_body(ref: str, day: dt.date, *, place: str, other: str, container: str, kg: float,
               person: str) -> dict[str, Any]:  # fmt: skip
    return {
        "case_ref": ref,
        "seizure_date": day.isoformat(),
        "place_country": place,
        "origin_country": other if place == "VN" else None,
        "destination_country": other if place != "VN" else None,
        "transport_mode": "sea_container",
        "conveyance_ref": container,
        "concealment": "inside frozen fish cartons",
        "sharing_level": "green",
        "items": [
            {"commodity_class": "drug", "substance": "methamphetamine", "quantity": kg, "unit": "kg"},
            {"commodity_class": "drug", "substance": "ketamine", "quantity": round(kg / 3, 2), "unit": "kg"},
        ],
        "parties": [
            {"role": "courier", "kind": "person", "name": person, "nationality": "VN", "birth_date": "1984-03-02"}
        ],
    }


@dataclass
class World:
    tokens: dict[str, str]  # username -> raw write token
    cookie: str  # a web session of the regional analyst (the debrief downloads are pages)
    pairs: list[tuple[int, int]]  # (keep_id, duplicate_id)


def _container(owner: str, serial: int) -> str:
    """A container number with its ISO 6346 check digit (every door checks it)."""
    first10 = f"{owner}{serial:06d}"
    return f"{first10}{iso6346_check_digit(first10)}"


def _pair_csv(agency: str) -> bytes:
    """One agency's import of the seized containers (items only): a VN-CUS seizure in Viet Nam and the TH-CUS
    report of the same container leaving Thailand a day earlier (same goods within 10%: likely duplicates)."""
    out = io.StringIO()
    rows = csv.writer(out)
    rows.writerow(["case_ref", "reporting_agency", "seizure_date", "place_country", "origin_country",
                   "destination_country", "transport_mode", "conveyance_ref", "concealment", "sharing_level",
                   "commodity_class", "substance", "quantity", "unit"])  # fmt: skip
    for i in range(PAIRS):
        day = dt.date(2023, 5, 1) + dt.timedelta(days=i % 150)
        vn = agency == "VN-CUS"
        ref, place, origin, destination = (
            (f"DUP-VN-{i:03d}", "VN", "TH", "") if vn else (f"DUP-TH-{i:03d}", "TH", "", "VN")
        )  # fmt: skip
        day, kg = (day, 10.0 + i) if vn else (day - dt.timedelta(days=1), (10.0 + i) * 1.02)
        for substance, quantity in (("methamphetamine", kg), ("ketamine", kg / 3)):
            rows.writerow([ref, agency, day.isoformat(), place, origin, destination, "sea_container",
                           _container("MSKU", 400000 + i), "inside frozen fish cartons", "green", "drug", substance,
                           f"{quantity:.2f}", "kg"])  # fmt: skip
    return out.getvalue().encode()


def _seed(url: str) -> World:
    engine = make_engine(url)
    with Session(engine) as s:
        op = service.create_operation(
            s, slug=SLUG, name="Mekong Dragon", description="", scope=["drug"],
            phases=[service.PhaseSpec(5, dt.date(2023, 4, 15), dt.date(2023, 11, 16), ("drug",))],
        )  # fmt: skip
        for code, name, kind, country, role in (
            ("VN-CUS", "Viet Nam Customs", "customs", "VN", "member"),
            ("TH-CUS", "Thai Customs Department", "customs", "TH", "member"),
            ("RILO-AP", "RILO Asia/Pacific", "regional_office", None, "coordinator"),
        ):
            service.add_participant(s, op, service.add_agency(s, code=code, name=name, kind=kind, country=country),
                                    role)  # fmt: skip
        s.flush()
        users = {
            name: create_user(s, username=name, password=PASSWORD, agency_code=agency, roles=[role])
            for name, (agency, role) in USERS.items()
        }
        tokens = {
            name: create_token(s, Actor.for_user(user), user, name="kill test", scope="write", days=1)[0]
            for name, user in users.items()
        }
        cookie, _ = open_session(s, users["rilo.analyst"], hours=8)
        for agency, user in (("VN-CUS", "vn.reporter"), ("TH-CUS", "th.reporter")):
            report = import_cases(s, operation_slug=SLUG, agency_code=agency, data=_pair_csv(agency),
                                  filename=f"{agency}.csv", actor=audit_actor(Actor.for_user(users[user])))  # fmt: skip
            assert report.cases_created == PAIRS and report.ok, report.to_json()
        s.commit()
        ids = dict(s.execute(select(Case.case_ref, Case.id).where(Case.case_ref.like("DUP-%"))).all())
        pairs = [(ids[f"DUP-VN-{i:03d}"], ids[f"DUP-TH-{i:03d}"]) for i in range(PAIRS)]
        # The pairs are what the duplicate review proposes to the analyst (linked by the container).
        found = {(c.a.id, c.b.id) for c in duplicates.candidates(s, Actor.for_user(users["rilo.analyst"]), op)}
        assert {(min(p), max(p)) for p in pairs} <= found
    engine.dispose()
    return World(tokens, cookie, pairs)


# --- the server ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url = url
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data_dir = tmp_path / "data"
        self.log = tmp_path / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.spawned = 0.0

    def spawn(self) -> None:
        env = {**os.environ, "DRAGONNET_DATABASE_URL": self.url, "DRAGONNET_DATA_DIR": str(self.data_dir),
               "DRAGONNET_SECRET_KEY": "server-kill-test-secret"}  # fmt: skip
        cmd = [sys.executable, "-m", "dragonnet.cli.main", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.spawned = time.monotonic()
        with self.log.open("ab") as log:
            # Its own process group: the kill takes the server and anything it spawned.
            self.proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=log, stderr=log, start_new_session=True)

    def wait_ready(self) -> float:
        """Seconds from the spawn until the server answers."""
        assert self.proc is not None
        deadline = self.spawned + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=2).status_code == 200:
                    return time.monotonic() - self.spawned
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise AssertionError("the server did not answer within 90 s")

    def kill(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


# --- clients ------------------------------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the server acknowledged, and what a kill cut (re-sent after the restart by the same user)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)  # case_ref -> body, acknowledged
    merges: set[tuple[int, int]] = field(default_factory=set)  # (keep, duplicate), acknowledged
    reports: Counter[str] = field(default_factory=Counter)  # format -> acknowledged 200s
    pending: list[tuple[str, str, Any]] = field(default_factory=list)  # (kind, user, body or pair)
    resent_landed: Counter[str] = field(default_factory=Counter)  # cut by a kill (or 5xx), done by the re-send
    resent_found_done: Counter[str] = field(default_factory=Counter)  # cut by a kill (or 5xx), had landed before
    in_flight: Counter[str] = field(default_factory=Counter)
    server_errors: Counter[str] = field(default_factory=Counter)  # kind -> 5xx answers (outcome unknown, re-sent)
    answers: list[tuple[float, float, int]] = field(default_factory=list)  # (sent, answered, status), monotonic
    unexpected: list[str] = field(default_factory=list)

    def put_pending(self, kind: str, user: str, body: Any) -> None:
        with self.lock:
            self.pending.append((kind, user, body))

    def take_pending(self, kind: str, user: str) -> Any | None:
        with self.lock:
            for n, (k, u, body) in enumerate(self.pending):
                if k == kind and u == user:
                    del self.pending[n]
                    return body
        return None


class Clients:
    """The client threads of one server life. A request cut by the kill is kept for the next life."""

    def __init__(self, base: str, world: World, ledger: Ledger, life: int, seed: int) -> None:
        self.base, self.world, self.ledger, self.life, self.seed = base, world, ledger, life, seed
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def _client(self, user: str | None) -> httpx.Client:
        if user is None:  # the web pages: the analyst's session cookie
            return httpx.Client(base_url=self.base, cookies={SESSION_COOKIE: self.world.cookie}, timeout=120)
        headers = {"Authorization": f"Bearer {self.world.tokens[user]}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=120)

    def _send(self, kind: str, call: Callable[[], httpx.Response]) -> httpx.Response | None:
        """One request; None when the server died under it (its outcome is then unknown)."""
        with self.ledger.lock:
            self.ledger.in_flight[kind] += 1
        sent = time.monotonic()
        r = None
        try:
            r = call()
            return r
        except httpx.TransportError:
            return None
        finally:
            with self.ledger.lock:
                self.ledger.in_flight[kind] -= 1
                if r is not None:
                    self.ledger.answers.append((sent, time.monotonic(), r.status_code))

    def _outage(self, kind: str, r: httpx.Response) -> bool:
        """A 5xx: the database went away under the request, whose outcome is then unknown. Counted, then a
        short pause; the caller re-sends it, like a request cut by a server kill."""
        if r.status_code < 500:
            return False
        with self.ledger.lock:
            self.ledger.server_errors[kind] += 1
        self.stop.wait(0.25)
        return True

    def _writer(self, n_user: int, user: str, place: str) -> None:
        rng = random.Random(self.seed * 10 + n_user)
        ledger, n = self.ledger, 0
        with self._client(user) as client:
            while not self.stop.is_set():
                body = ledger.take_pending("case", user)
                resent = body is not None
                if body is None:
                    n += 1
                    ref = f"API-{place}-{self.life}-{n:05d}"
                    day = dt.date(2023, 5, 1) + dt.timedelta(days=rng.randrange(180))
                    box = _container("TGHU", rng.randrange(10**6))
                    body = _case_body(ref, day, place=place, other="LA", container=box,
                                      kg=round(rng.uniform(1, 500), 1), person=f"Courier {ref}")  # fmt: skip
                    body |= {"operation": SLUG, "submit": True}
                sent = body
                r = self._send("create", functools.partial(client.post, "/api/v1/cases", json=sent))
                if r is None or self._outage("create", r):
                    ledger.put_pending("case", user, sent)
                    if r is None:
                        return  # the server died: the next life re-sends it
                    continue
                with ledger.lock:
                    if r.status_code == 201 and r.json()["case_ref"] == sent["case_ref"]:
                        ledger.cases[sent["case_ref"]] = sent
                        ledger.resent_landed["case"] += resent
                    elif resent and r.status_code == 422 and "already used" in r.text:
                        ledger.cases[sent["case_ref"]] = sent
                        ledger.resent_found_done["case"] += 1
                    else:
                        ledger.unexpected.append(f"create {sent['case_ref']}: {r.status_code} {r.text[:300]}")

    def _merger(self, user: str, queue: list[tuple[int, int]]) -> None:
        ledger = self.ledger
        with self._client(user) as client:
            while not self.stop.is_set():
                pair = ledger.take_pending("merge", user)
                resent = pair is not None
                if pair is None:
                    with ledger.lock:
                        if not queue:
                            break
                        pair = queue.pop(0)
                body = {"keep_id": pair[0], "duplicate_id": pair[1], "reason": "same container, same courier"}
                r = self._send("merge", functools.partial(client.post, "/api/v1/cases/merge", json=body))
                if r is None or self._outage("merge", r):
                    ledger.put_pending("merge", user, pair)
                    if r is None:
                        return
                    continue
                with ledger.lock:
                    if r.status_code == 200 and r.json()["merged_into_id"] == pair[0]:
                        ledger.merges.add(pair)
                        ledger.resent_landed["merge"] += resent
                    elif resent and r.status_code == 422 and "is merged" in r.text:
                        ledger.merges.add(pair)
                        ledger.resent_found_done["merge"] += 1
                    else:
                        ledger.unexpected.append(f"merge {pair}: {r.status_code} {r.text[:300]}")

    def _reporter(self) -> None:
        k = self.life
        with self._client("rilo.analyst") as api, self._client(None) as web:
            while not self.stop.is_set():
                path = REPORT_PATHS[k % len(REPORT_PATHS)]
                k += 1
                client = api if path.startswith("/api/") else web
                r = self._send("report", functools.partial(client.get, path, params={"phase": 5}))
                if r is None:
                    return
                if self._outage("report", r):
                    continue
                with self.ledger.lock:
                    if r.status_code == 200 and r.content:
                        self.ledger.reports[_report_format(path)] += 1
                    else:
                        self.ledger.unexpected.append(f"report {path}: {r.status_code} {r.text[:300]}")

    def start(self, queues: dict[str, list[tuple[int, int]]]) -> None:
        targets: list[Callable[[], None]] = [
            lambda: self._writer(0, "vn.reporter", "VN"),
            lambda: self._writer(1, "th.reporter", "TH"),
            lambda: self._merger("rilo.analyst", queues["rilo.analyst"]),
            lambda: self._merger("vn.coordinator", queues["vn.coordinator"]),
            self._reporter,
        ]
        self.threads = [threading.Thread(target=self._guarded, args=(t,), daemon=True) for t in targets]
        for t in self.threads:
            t.start()

    def _guarded(self, target: Callable[[], None]) -> None:
        try:
            target()
        except Exception as exc:  # a client bug must fail the test, not end a thread quietly
            with self.ledger.lock:
                self.ledger.unexpected.append(f"client thread: {exc!r}")

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=180)
            assert not t.is_alive(), "a client thread hung"


def _report_format(path: str) -> str:
    return path.rsplit(".", 1)[1] if "." in path.rsplit("/", 1)[1] else "json"


# --- the checks (direct SQL, server side of the story) ------------------------------------------------------


def _check(engine: Engine, ledger: Ledger) -> dict[str, Any]:
    """Lost acknowledged writes, partial cases, half merges, lost report audits and chain breaks, from SQL."""
    with ledger.lock:
        acked_cases = dict(ledger.cases)
        acked_merges = set(ledger.merges)
        acked_reports = Counter(ledger.reports)
    # One snapshot for all the queries: on PostgreSQL the clients may still be writing (on SQLite the
    # transaction holds the write lock).
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with Session(engine) as s:
        cases = {r.id: r for r in s.execute(select(Case.id, Case.case_ref, Case.status, Case.merged_into_id))}
        items: dict[int, list[tuple[str | None, float]]] = {}
        for case_id, substance, quantity in s.execute(select(Item.case_id, Item.substance, Item.quantity)):
            items.setdefault(case_id, []).append((substance, float(quantity)))
        parties: dict[int, list[str]] = {}
        for case_id, name in s.execute(select(Party.case_id, Party.name)):
            parties.setdefault(case_id, []).append(name)
        created_rows = set(
            s.execute(select(CaseStatusChange.case_id).where(CaseStatusChange.from_status.is_(None))).scalars()
        )
        merged_rows = Counter(s.execute(
            select(CaseStatusChange.case_id).where(CaseStatusChange.to_status == "merged")
        ).scalars())  # fmt: skip
        merge_rows = {m.duplicate_id: m.keep_id for m in s.execute(select(CaseMerge)).scalars()}
        watched = ["case.create", "case.merge", "report.generate"]
        # A committed entry is in the chain or still staged (its commit's append round was cut by the kill; the
        # next round chains it): both are the log, and one snapshot sees each entry in exactly one of them.
        events = [
            *s.execute(
                select(AuditEvent.action, AuditEvent.object_id, AuditEvent.detail, AuditEvent.actor_username).where(
                    AuditEvent.action.in_(watched)
                )
            ),
            *s.execute(
                select(AuditStaged.action, AuditStaged.object_id, AuditStaged.detail, AuditStaged.actor_username).where(
                    AuditStaged.action.in_(watched)
                )
            ),
        ]
        chain = audit.verify(s)
    create_events = Counter(int(e.object_id) for e in events if e.action == "case.create")
    merge_events = Counter(int(e.object_id) for e in events if e.action == "case.merge")
    report_events = Counter(
        e.detail.get("format") for e in events if e.action == "report.generate" and e.actor_username == "rilo.analyst"
    )
    by_ref = {c.case_ref: c for c in cases.values()}

    lost_cases = []
    for ref, body in acked_cases.items():
        row = by_ref.get(ref)
        want_items = sorted((i["substance"], float(i["quantity"])) for i in body["items"])
        if (
            row is None
            or sorted(items.get(row.id, [])) != want_items
            or parties.get(row.id) != [body["parties"][0]["name"]]
        ):
            lost_cases.append(ref)

    # Every case has its 2 items; one sent through the API also its party, its status row and its audit entry.
    def whole(case_id: int, ref: str) -> bool:
        if len(items.get(case_id, [])) != 2:
            return False
        api = ref.startswith("API-")
        return not api or (
            len(parties.get(case_id, [])) == 1 and case_id in created_rows and create_events[case_id] == 1
        )

    partial = [c.case_ref for c in cases.values() if not whole(c.id, c.case_ref)]
    orphan_events = [cid for cid in create_events if cid not in cases or create_events[cid] != 1]
    lost_merges = [
        (keep, dup) for keep, dup in acked_merges
        if cases[dup].status != "merged" or cases[dup].merged_into_id != keep or merge_rows.get(dup) != keep
    ]  # fmt: skip
    half_merges = []
    for c in cases.values():
        marks = (c.status == "merged", c.merged_into_id is not None, c.id in merge_rows, merged_rows[c.id] == 1,
                 merge_events[c.id] == 1)  # fmt: skip
        complete = all(marks) and merge_rows[c.id] == c.merged_into_id
        twice = merged_rows[c.id] > 1 or merge_events[c.id] > 1
        if (any(marks) and not complete) or twice:
            half_merges.append(c.case_ref)
    lost_reports = sum(max(0, n - report_events[fmt]) for fmt, n in acked_reports.items())
    return {
        "cases": len(cases), "merged": len(merge_rows), "lost_cases": lost_cases, "partial": partial,
        "orphan_events": orphan_events, "lost_merges": lost_merges, "half_merges": half_merges,
        "lost_reports": lost_reports, "chain_ok": chain.ok, "chain_entries": chain.entries,
        "chain_problem": chain.problem,
    }  # fmt: skip


def _reports_answer(base: str, world: World) -> bool:
    """After a restart the debrief answers 200 again, from the API (JSON) and as a page (XLSX)."""
    headers = {"Authorization": f"Bearer {world.tokens['rilo.analyst']}"}
    api = httpx.get(f"{base}{REPORT_PATHS[0]}", params={"phase": 5}, headers=headers, timeout=120)
    xlsx = httpx.get(f"{base}{REPORT_PATHS[2]}", params={"phase": 5}, cookies={SESSION_COOKIE: world.cookie},
                     timeout=120)  # fmt: skip
    return api.status_code == 200 and xlsx.status_code == 200 and xlsx.content.startswith(b"PK")


# --- the runs -----------------------------------------------------------------------------------------------


def _boot(url: str, tmp_path: Path) -> tuple[Server, World]:
    """The server spawned over a migrated database, and the seeded world."""
    server = Server(url, tmp_path)
    server.spawn()  # the first start overlaps the seeding (the server only needs the schema)
    try:
        world = _seed(url)
    except BaseException:
        server.stop()
        raise
    return server, world


def _queues(world: World) -> dict[str, list[tuple[int, int]]]:
    # The analyst reviews the even pairs, Viet Nam's coordinator the odd ones (pairs of its country).
    return {"rilo.analyst": world.pairs[0::2], "vn.coordinator": world.pairs[1::2]}


def _broken(state: dict[str, Any]) -> bool:
    keys = ("lost_cases", "partial", "orphan_events", "lost_merges", "half_merges", "lost_reports")
    return any(state[k] for k in keys) or not state["chain_ok"]


def _check_after_restart(engine: Engine, server: Server, world: World, ledger: Ledger, fig: Counter[str],
                         broken: list[dict[str, Any]]) -> None:  # fmt: skip
    state = _check(engine, ledger)
    fig["report_down_after_restart"] += not _reports_answer(server.base, world)
    if _broken(state):
        broken.append(state)


def _kill_in_flight(rng: random.Random, ledger: Ledger, kill: Callable[[], None], fig: Counter[str],
                    cut: Counter[str], *, after: tuple[float, float], wait_all: bool = False) -> float:  # fmt: skip
    """Kill at a seeded random moment; with `wait_all`, once a create, a merge and a report are all in flight
    (for at most 3 s more). Returns the moment just before the signal: a 5xx answered after it belongs to the
    outage (taking the time after the bookkeeping let a busy machine count an outage's 5xx outside it)."""
    time.sleep(rng.uniform(*after))
    deadline = time.monotonic() + 3.0
    while True:
        with ledger.lock:
            flying = +ledger.in_flight
        if not wait_all or len(flying) == 3 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    killed = time.monotonic()
    kill()
    fig["kills"] += 1
    for kind in ("create", "merge", "report"):
        fig[f"kills_during_a_{kind}"] += bool(flying[kind])
    cut.update(flying)
    return killed


def _settle(clients: Clients, ledger: Ledger) -> None:
    """The last stretch: every request a kill cut is re-sent and settles, the clients go on for a while."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with ledger.lock:
            if not ledger.pending:
                break
        time.sleep(0.2)
    time.sleep(3.0)
    clients.join()


def _summary(fig: Counter[str], ledger: Ledger, final: dict[str, Any], broken: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "kills": fig["kills"], "kills_during_a_create": fig["kills_during_a_create"],
        "kills_during_a_merge": fig["kills_during_a_merge"], "kills_during_a_report": fig["kills_during_a_report"],
        "acknowledged_cases": len(ledger.cases), "acknowledged_merges": len(ledger.merges),
        "acknowledged_reports": sum(ledger.reports.values()), "server_errors": dict(ledger.server_errors),
        "resent_landed": dict(ledger.resent_landed), "resent_found_done": dict(ledger.resent_found_done),
        "still_pending": len(ledger.pending), "lost_cases": len(final["lost_cases"]),
        "partial_cases": len(final["partial"]), "orphan_audit_entries": len(final["orphan_events"]),
        "lost_merges": len(final["lost_merges"]), "half_merges": len(final["half_merges"]),
        "lost_report_audits": final["lost_reports"],
        "chain_breaks": (not final["chain_ok"]) + sum(not b["chain_ok"] for b in broken),
        "broken_checks_after_restart": len(broken), "report_down_after_restart": fig["report_down_after_restart"],
        "cases_in_db": final["cases"], "merged_in_db": final["merged"], "audit_entries": final["chain_entries"],
        "unexpected": ledger.unexpected[:5], "detail": broken[:1],
    }  # fmt: skip


def _kill_server_runs(url: str, tmp_path: Path, kills: int, seed: int) -> dict[str, Any]:
    server, world = _boot(url, tmp_path)
    rng = random.Random(seed)
    ledger = Ledger()
    queues = _queues(world)
    engine = make_engine(url)
    fig: Counter[str] = Counter()
    cut: Counter[str] = Counter()
    broken: list[dict[str, Any]] = []
    startups: list[float] = []
    try:
        for life in range(kills + 1):
            if life:
                server.spawn()
            startups.append(server.wait_ready())
            if life:  # after the restart, before any client is back
                _check_after_restart(engine, server, world, ledger, fig, broken)
            clients = Clients(server.base, world, ledger, life, rng.randrange(1 << 30))
            clients.start(queues)
            if life < kills:
                _kill_in_flight(rng, ledger, server.kill, fig, cut, after=(2.5, 6.0))
                clients.join()
            else:
                _settle(clients, ledger)
        final = _check(engine, ledger)
    finally:
        server.stop()
        engine.dispose()
    return {**_summary(fig, ledger, final, broken), "requests_cut": dict(cut), "startup_s": round(max(startups), 1)}


class Postgres:
    """A private PostgreSQL server (scripts/pg-throwaway.sh) on its own port, as in test_crash."""

    SCRIPT = REPO / "scripts" / "pg-throwaway.sh"

    def __init__(self, pg_bin: Path) -> None:
        self.pg_bin = pg_bin
        self.port = str(_free_port())
        self.folder = Path(f"/tmp/dragonnet-pgkill-{self.port}")
        self.env = {**os.environ, "PGPORT": self.port}
        self.url = ""

    def start(self) -> str:
        self.url = subprocess.run(["bash", str(self.SCRIPT), "start", str(self.folder)], env=self.env, check=True,
                                  capture_output=True, text=True).stdout.strip()  # fmt: skip
        return self.url

    def kill(self) -> None:
        """SIGKILL to the postmaster alone: its backends notice its death and exit on their own."""
        pid = int((self.folder / "data" / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)

    def restart(self) -> int:
        """Start it again (crash recovery from the WAL); retried while the old backends die. Returns attempts."""
        subprocess.run(["bash", str(self.SCRIPT), "stop", str(self.folder)], env=self.env, check=False)
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=300 "
                   "-c fsync=off -c full_page_writes=off")  # fmt: skip  # the options of pg-throwaway.sh
        start = [str(self.pg_bin / "pg_ctl"), "-D", str(self.folder / "data"), "-l", str(self.folder / "server.log"),
                 "-w", "-o", options, "start"]  # fmt: skip
        if os.geteuid() == 0:
            start = ["runuser", "-u", "postgres", "--", *start]
        for attempt in range(1, 61):
            if subprocess.run(start, capture_output=True).returncode == 0:
                return attempt
            time.sleep(0.5)
        raise AssertionError(f"PostgreSQL did not restart: {(self.folder / 'server.log').read_text()[-2000:]}")

    def remove(self) -> None:
        subprocess.run(["bash", str(self.SCRIPT), "stop", str(self.folder)], env=self.env, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


def _first_2xx_after(ledger: Ledger, since: float) -> float | None:
    """When the first request sent after `since` was answered 2xx (monotonic), if one was."""
    with ledger.lock:
        done = [answered for sent, answered, status in ledger.answers if sent >= since and 200 <= status < 300]
    return min(done) if done else None


def _kill_postgres_runs(pg: Postgres, tmp_path: Path, kills: int, seed: int) -> dict[str, Any]:
    from dragonnet.storage.migrate import upgrade

    upgrade(make_engine(pg.url))
    server, world = _boot(pg.url, tmp_path)
    rng = random.Random(seed)
    ledger = Ledger()
    engine = make_engine(pg.url)
    fig: Counter[str] = Counter()
    in_flight: Counter[str] = Counter()
    broken: list[dict[str, Any]] = []
    outages: list[dict[str, Any]] = []
    try:
        server.wait_ready()
        clients = Clients(server.base, world, ledger, 0, rng.randrange(1 << 30))
        clients.start(_queues(world))
        for _ in range(kills):
            killed = _kill_in_flight(rng, ledger, pg.kill, fig, in_flight, after=(2.0, 4.0), wait_all=True)
            attempts = pg.restart()
            up = time.monotonic()
            # The dragonnet server is left alone: it must answer 2xx again by itself.
            while (first := _first_2xx_after(ledger, up)) is None and time.monotonic() < up + RECOVERY_S:
                time.sleep(0.05)
            outages.append({"killed": killed, "up": up, "first_2xx": first, "restart_attempts": attempts})
            if first is None:
                break  # never recovered: no point in killing again
            engine.dispose()  # the checks' own connections died with the postmaster (only the server's are tested)
            _check_after_restart(engine, server, world, ledger, fig, broken)
        _settle(clients, ledger)
        final = _check(engine, ledger)
        server_alive = server.proc is not None and server.proc.poll() is None
    finally:
        server.stop()
        engine.dispose()
    return {
        **_summary(fig, ledger, final, broken), "in_flight_at_kills": dict(in_flight),
        **_outage_figures(ledger, outages), "server_alive": server_alive,
    }  # fmt: skip


def _outage_figures(ledger: Ledger, outages: list[dict[str, Any]]) -> dict[str, Any]:
    """Per outage: how long PostgreSQL was down, the 5xx it caused, the time to the first 2xx after the restart.

    A 5xx belongs to an outage when it was answered after the kill to a request sent before the first 2xx
    after the restart. Any other 5xx (before the first kill, or to a request sent once the server had
    answered 2xx again) is `5xx_outside_outages`: the server did not recover cleanly."""
    with ledger.lock:
        errors = [(sent, answered) for sent, answered, status in ledger.answers if status >= 500]
    per_outage, outside = [], len(errors)
    for n, o in enumerate(outages):
        until = outages[n + 1]["killed"] if n + 1 < len(outages) else float("inf")
        first = o["first_2xx"] if o["first_2xx"] is not None else float("inf")
        count = sum(1 for sent, answered in errors if o["killed"] <= answered < until and sent < first)
        outside -= count
        per_outage.append({
            "pg_down_s": round(o["up"] - o["killed"], 1), "restart_attempts": o["restart_attempts"], "5xx": count,
            "first_2xx_after_restart_s": None if o["first_2xx"] is None else round(o["first_2xx"] - o["up"], 2),
        })  # fmt: skip
    recovered = [o["first_2xx_after_restart_s"] for o in per_outage if o["first_2xx_after_restart_s"] is not None]
    return {
        "5xx_during_outages": len(errors) - outside, "5xx_outside_outages": outside, "outages": per_outage,
        "recovered": len(recovered), "max_first_2xx_after_restart_s": max(recovered, default=None),
    }  # fmt: skip


def _assert_clean(result: dict[str, Any], kills: int) -> None:
    for key in ("lost_cases", "partial_cases", "orphan_audit_entries", "lost_merges", "half_merges",
                "lost_report_audits", "chain_breaks", "broken_checks_after_restart", "report_down_after_restart",
                "still_pending"):  # fmt: skip
        assert result[key] == 0, (
            key,
            {k: v for k, v in result["detail"][0].items() if v} if result["detail"] else result,
        )
    assert not result["unexpected"], result
    assert result["kills"] == kills and result["acknowledged_cases"] > 0 and result["acknowledged_merges"] > 0
    assert result["acknowledged_reports"] > 0


def _print_figures(backend: str, what: str, result: dict[str, Any], seconds: float) -> None:
    shown = {k: v for k, v in result.items() if k not in ("unexpected", "detail")}
    print(f"figure: S8 {backend} {what} kill -9 ({seconds:.0f} s): {shown}")


@pytest.mark.slow
def test_kill_server_sqlite(tmp_path: Path) -> None:
    from dragonnet.storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'server-kill.db'}"
    upgrade(make_engine(url))
    started = time.monotonic()
    result = _kill_server_runs(url, tmp_path, kills=KILLS, seed=11)
    _print_figures("sqlite", "dragonnet server", result, time.monotonic() - started)
    _assert_clean(result, KILLS)
    assert not result["server_errors"], result  # the server dies whole: no request is ever answered 5xx


@pytest.mark.slow
def test_kill_server_postgres(db_url: str, backend: str, tmp_path: Path) -> None:
    if backend != "postgresql":
        pytest.skip("the SQLite variant is test_kill_server_sqlite")
    started = time.monotonic()
    result = _kill_server_runs(db_url, tmp_path, kills=KILLS, seed=12)
    _print_figures("postgresql", "dragonnet server", result, time.monotonic() - started)
    _assert_clean(result, KILLS)
    assert not result["server_errors"], result


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    return found[-1] if found else None


@pytest.mark.slow
@pytest.mark.postgres
def test_kill_postgres_server_mid_requests(tmp_path: Path) -> None:
    """Kill -9 the postmaster under the running dragonnet server during a create, a merge and a report;
    restart PostgreSQL; the server recovers by itself; check."""
    pg_bin = _pg_bin()
    if pg_bin is None or (shutil.which("runuser") is None and os.geteuid() == 0):
        if os.environ.get("CI"):
            pytest.fail("CI needs PostgreSQL for the server-kill test")
        pytest.skip("PostgreSQL server binaries not installed")
    pg = Postgres(pg_bin)
    started = time.monotonic()
    try:
        pg.start()
        result = _kill_postgres_runs(pg, tmp_path, kills=PG_KILLS, seed=13)
    finally:
        pg.remove()
    _print_figures("postgresql", "postmaster", result, time.monotonic() - started)
    assert result["server_alive"], result  # the dragonnet server was never restarted
    assert result["recovered"] == PG_KILLS, ("the server answered no 2xx after PostgreSQL restarted", result)
    assert result["5xx_outside_outages"] == 0, result  # once it answers 2xx again, no more 5xx
    _assert_clean(result, PG_KILLS)
