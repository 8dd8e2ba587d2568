"""S1: the cross-agency read matrix over EVERY route of the app, every actor, own/foreign/missing ids.

Routes come from `dragonnet.app.route_table(app)`, so routes added later are covered automatically. Each
path parameter is filled from PARAMS (a small table: how to find an own, a foreign and a missing value
for the actor); a route with a parameter the table does not know fails `test_every_path_parameter_is_known`.

Checked for every response:
- leak: a canary of a record the oracle (security.world.World.sees) hides from the actor appears;
- existence oracle: a foreign id is answered differently (status, or body with the id blanked) from an id
  that does not exist, or a foreign id is answered 403.
Writes (non-GET) are sent with foreign and missing ids only (the write paths are S2's subject).
"""

from __future__ import annotations

import html
import io
import json
import re
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from dragonnet.app import route_table
from security.sessions import Login, open_sessions, use
from security.world import OWNERS, MessageFact, OwnedFact, RequestFact, ScreeningNoticeFact, World

MISSING_ID = 987654
ACTORS = [None, "th_reporter", "th_coord", "th_reporter2", "vn_reporter", "vn_coord", "la_reporter", "la_coord",
          "analyst", "observer", "admin"]  # fmt: skip
FIGURES: dict[str, object] = {}


@dataclass(frozen=True)
class Values:
    own: str | None  # a value the actor may use (None: no such value for this actor)
    foreign: str | None  # a value of someone else's record the actor must not learn about
    missing: str  # a value that exists for nobody
    more: tuple[str, ...] = ()  # further own values to try (e.g. every export format)


def _formats() -> tuple[str, ...]:
    try:
        from dragonnet.reporting.render import Format
    except ImportError:  # pragma: no cover - reporting not built
        return ("json", "csv")
    return (*(f.value for f in Format), "csv")


def _lookup_kinds() -> tuple[str, ...]:
    try:
        from dragonnet.intake.lookups import KINDS
    except ImportError:  # pragma: no cover
        return ()
    return tuple(KINDS)


def _case_values(w: World, who: str | None) -> Values:
    if who is None:
        return Values(None, str(w.cases[0].id), str(MISSING_ID))
    visible = w.visible_case(who)
    return Values(str(visible.id) if visible else None, str(w.foreign_case(who).id), str(MISSING_ID))


def _site_admin(w: World, who: str | None) -> bool:
    """Site administrators manage every user, agency and token: nothing of that kind is foreign to them."""
    return who is not None and "administrator" in w.user_roles[who]


def _user_values(w: World, who: str | None) -> Values:
    if who is None:
        return Values(None, str(w.users["vn_reporter"]), str(MISSING_ID))
    mine = w.user_agency[who]
    foreign = next(u for u, a in w.user_agency.items() if a != mine)
    own = next((u for u, a in w.user_agency.items() if a == mine and u != who), who)
    return Values(str(w.users[own]), None if _site_admin(w, who) else str(w.users[foreign]), str(MISSING_ID))


def _agency_values(w: World, who: str | None) -> Values:
    if who is None:
        return Values(None, str(w.agencies["VN-CUS"]), str(MISSING_ID))
    mine = w.user_agency[who]
    foreign = next(code for code in w.agencies if code != mine)
    return Values(str(w.agencies[mine]), None if _site_admin(w, who) else str(w.agencies[foreign]), str(MISSING_ID))


def _token_values(w: World, who: str | None) -> Values:
    other = "vn_reporter" if who != "vn_reporter" else "th_reporter"
    own = str(w.tokens[who][0]) if who else None
    return Values(own, None if _site_admin(w, who) else str(w.tokens[other][0]), str(MISSING_ID))


def _pick(
    records: list[MessageFact] | list[OwnedFact] | list[RequestFact] | list[ScreeningNoticeFact],
    sees: Callable[..., bool],
    who: str | None,
    key: Callable[..., object | None],
    missing: str = str(MISSING_ID),
) -> Values:
    """An own value (a record `who` may see), a foreign one (a record hidden from `who`), a missing one."""
    usable = [r for r in records if key(r) is not None]
    if who is None:
        return Values(None, str(key(usable[0])) if usable else None, missing)
    own = next((r for r in usable if sees(who, r)), None)
    foreign = next((r for r in usable if not sees(who, r)), None)
    return Values(str(key(own)) if own else None, str(key(foreign)) if foreign else None, missing)


def _message_values(kind: str, attachment: bool = False) -> Callable[[World, str | None], Values]:
    def values(w: World, who: str | None) -> Values:
        msgs = [m for m in w.messages if m.kind == kind or attachment]
        key = (lambda m: m.attachment_id) if attachment else (lambda m: m.id)
        return _pick(msgs, w.sees_message, who, key)

    return values


def _targeting_values(hit: bool) -> Callable[[World, str | None], Values]:
    return lambda w, who: _pick(w.targeting, w.sees_list, who, (lambda t: t.hit_id) if hit else (lambda t: t.key))


def _notice_values(w: World, who: str | None) -> Values:
    """A notice of the actor's agency (own), of a match its agency is not part of (foreign)."""
    if who is None:
        return Values(None, str(w.matches[0].id), str(MISSING_ID))
    own = next((m for m in w.matches if w.notice_sides(who, m) is not None), None)
    foreign = next(m for m in w.matches if w.notice_sides(who, m) is None)
    return Values(str(own.id) if own else None, str(foreign.id), str(MISSING_ID))


def _screening_notice_values(w: World, who: str | None) -> Values:
    return _pick(w.screening_notices, w.sees_screening_notice, who, lambda n: n.id)


def _request_values(w: World, who: str | None) -> Values:
    return _pick(w.requests, w.sees_request, who, lambda r: r.id)


def _personal(records: Callable[[World], list[OwnedFact]], missing: str) -> Callable[[World, str | None], Values]:
    """Records of one user (watchlist entries, staged imports): everyone else's are foreign."""
    return lambda w, who: _pick(records(w), lambda u, r: r.owner == u, who, lambda r: r.key, missing)


# How to fill each kind of path parameter. Add a line here when a route brings a new parameter.
PARAMS: dict[str, Callable[[World, str | None], Values]] = {
    "case_id": _case_values,
    "user_id": _user_values,
    "agency_id": _agency_values,
    "token_id": _token_values,
    "slug": lambda w, who: Values(w.slug, None, "no-such-operation"),
    "agency_code": lambda w, who: Values("LA-CUS", None, "NO-SUCH-AGENCY"),
    "path": lambda w, who: Values("css/app.css", None, "no/such/file.css"),
    "fmt": lambda w, who: Values("json", None, "nosuchformat", _formats()),
    "kind": lambda w, who: Values(_lookup_kinds()[0] if _lookup_kinds() else "x", None, "nosuchkind", _lookup_kinds()),
    "alert_id": _message_values("alert"),
    "bulletin_id": _message_values("bulletin"),
    "attachment_id": _message_values("", attachment=True),
    "entry_id": _personal(lambda w: w.watch, str(MISSING_ID)),
    "list_id": _targeting_values(hit=False),
    "hit_id": _targeting_values(hit=True),
    # Profile ids are text: the missing one has the foreign ones' shape (digits are blanked when comparing).
    "profile_key": lambda w, who: _pick(w.profiles, w.sees_list, who, lambda t: t.key, "pf-tgc0z"),
    "token": _personal(lambda w: w.staged, "0" * 32),
    # Match notices (the match's id) and the requests that reveal their other side (security.world._add_matches).
    "notice_id": _notice_values,
    "request_id": _request_values,
    "screening_notice_id": _screening_notice_values,
    "mapping_id": lambda w, who: _pick(w.mappings, w.sees_curation, who, lambda r: r.key),
    # Networks are numbered per viewer (largest first over what the viewer sees): not a record id, like slug.
    "number": lambda w, who: Values("1", None, "99999"),
}
# Parameters named like an id but not found above still fail the test below.
SKIP_PATHS = {"/static"}  # the static mount: files, no records
# Server-sent event streams never end: TestClient cannot read them here (their owners test them).
STREAMS = {"/messages/events"}
# PDF rendering takes ~1-2 s a document: one actor checks it (the other formats cover every actor).
HEAVY_SUFFIXES = (".pdf",)
HEAVY_ACTORS = {"vn_coord"}


def _params(path: str) -> list[str]:
    return re.findall(r"{([^}:]+)(?::[^}]*)?}", path)


def _routes(client: TestClient) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for info in route_table(client.app):  # type: ignore[arg-type]
        if info.path in SKIP_PATHS or info.path in STREAMS or info.is_mount:
            continue
        for method in sorted(info.methods - {"HEAD", "OPTIONS"}):
            out.append((method, info.path))
    return out


def test_every_path_parameter_is_known(client: TestClient) -> None:
    unknown = {(p, path) for _m, path in _routes(client) for p in _params(path) if p not in PARAMS}
    assert not unknown, f"routes with path parameters the access matrix cannot fill (add them to PARAMS): {unknown}"


def _fill(path: str, w: World, who: str | None, variant: str) -> str | None:
    urls = _fill_all(path, w, who, variant, first_only=True)
    return urls[0] if urls else None


def _unknown(w: World, who: str | None) -> Values:
    """A parameter not in PARAMS (test_every_path_parameter_is_known fails for it): probe a missing value only."""
    return Values(None, None, str(MISSING_ID))


def _fill_all(path: str, w: World, who: str | None, variant: str, *, first_only: bool = False) -> list[str]:
    """The URLs of `path` for a variant; "own" expands parameters with several own values (formats)."""
    urls = [path]
    for p in _params(path):
        v = PARAMS.get(p, _unknown)(w, who)
        value = {"own": v.own, "foreign": v.foreign, "missing": v.missing}[variant]
        if v.foreign is None and variant in ("foreign", "missing") and v.own is not None:
            value = v.own  # a parameter with no foreign value (slug, format): keep it, vary the others
        if value is None:
            return []
        values = [value] if first_only or variant != "own" else list(dict.fromkeys([value, *v.more]))
        pat = r"{" + re.escape(p) + r"(?::[^}]*)?}"
        urls = [re.sub(pat, val, u) for u in urls for val in values]
    return urls


def _text(r: httpx.Response) -> str:
    """The response as text, including what is inside XLSX (zip) and compressed PDF streams."""
    data = r.content
    parts = [data.decode("utf-8", "replace")]
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            parts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
    if data[:5] == b"%PDF-":
        for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
            try:
                parts.append(zlib.decompress(m.group(1)).decode("latin-1"))
            except zlib.error:
                continue
    return "\n".join(parts)


def _hidden_canaries(w: World, who: str | None) -> list[str]:
    out: list[str] = []
    for c in w.cases:
        if who is None:
            out += [c.nn, c.nm]
            continue
        sees, sees_nominal = w.sees(who, c)
        if not sees:
            out.append(c.nn)
        if not sees_nominal:
            out.append(c.nm)
    return out + w.hidden_extra(who)


def _request(client: TestClient, method: str, url: str, login: Login | None) -> tuple[int, str]:
    headers = {}
    data = None
    if login is not None and method != "GET":
        headers["X-CSRF-Token"] = login.csrf
        data = {"csrf_token": login.csrf}
    if url.startswith("/api/") and method != "GET":
        r = client.request(method, url, headers=headers, json={})
    else:
        r = client.request(method, url, headers=headers, data=data)
    return r.status_code, _text(r)


@pytest.mark.slow
def test_cross_agency_read_matrix(client: TestClient, world: World, db_url: str) -> None:
    start = time.monotonic()
    logins = open_sessions(db_url, [a for a in ACTORS if a])
    routes = _routes(client)
    requests = leaks = oracles = repeated = 0
    problems: list[str] = []
    for who in ACTORS:
        login = logins.get(who) if who else None
        use(client, login)
        hidden = _hidden_canaries(world, who)
        pattern = re.compile("|".join(re.escape(c) + r"(?!\d)" for c in hidden)) if hidden else None
        for method, path in routes:
            has_params = bool(_params(path))
            variants = ("own", "foreign", "missing") if has_params else ("own",)
            if method != "GET":
                variants = ("foreign", "missing") if has_params else ()
            answers: dict[str, tuple[int, str]] = {}
            # A GET asked again with the same URL (a route whose parameters have no foreign value, such as a slug
            # and a format, gives its own URL for the foreign variant) is answered from the first asking: the
            # same actor, the same read, already checked for leaks.
            asked: dict[str, tuple[int, str]] = {}
            for variant in variants:
                for url in _fill_all(path, world, who, variant):
                    if url.endswith(HEAVY_SUFFIXES) and who not in HEAVY_ACTORS:
                        continue
                    if method == "GET" and url in asked:
                        answers.setdefault(variant, asked[url])
                        repeated += 1
                        continue
                    status, body = _request(client, method, url, login)
                    body = _blank_own_url(body, url)
                    use(client, login)  # a logout route or a login form may have changed the cookies
                    requests += 1
                    if method == "GET":
                        asked[url] = (status, body)
                    answers.setdefault(variant, (status, body))
                    if pattern is not None and (m := pattern.search(body)):
                        leaks += 1
                        problems.append(f"LEAK {who} {method} {url} -> {status}: {m.group(0)}")
            if status_5xx := [v for v, (st, _b) in answers.items() if st >= 500]:
                problems.append(f"5XX {who} {method} {path} ({', '.join(status_5xx)})")
            probes_foreign = any(PARAMS.get(p, _unknown)(world, who).foreign for p in _params(path))
            if probes_foreign and "foreign" in answers and "missing" in answers and _foreign_differs(answers):
                oracles += 1
                problems.append(f"ORACLE {who} {method} {path}: foreign {answers['foreign'][0]} "
                                f"vs missing {answers['missing'][0]}")  # fmt: skip
    elapsed = time.monotonic() - start
    n_routes = len({p for _m, p in routes})
    line = (f"{requests} requests over {n_routes} routes ({len(routes)} route-methods) x {len(ACTORS)} actors "
            f"({repeated} repeated URLs answered once), {leaks} leaks, {oracles} existence oracles "
            f"({elapsed:.1f} s)")  # fmt: skip
    print("\nS1:", line)
    FIGURES["S1"] = line
    assert not problems, "\n".join(problems[:40])


def _blank_own_url(body: str, url: str) -> str:
    """The page echoes the path it was asked for (the language switcher returns there): that is the asker's own
    input, not something learnt, so it is blanked before a foreign and a missing id's answers are compared."""
    path = url.split("#", 1)[0]
    return body.replace(html.escape(path), "URL").replace(path, "URL")


def _foreign_differs(answers: dict[str, tuple[int, str]]) -> bool:
    """A foreign id answered unlike a missing one (status, or body with every number blanked), or with 403."""
    fs, fb = answers["foreign"]
    ms, mb = answers["missing"]
    if fs == 403 or fs != ms:
        return True
    return re.sub(r"\d+", "N", fb) != re.sub(r"\d+", "N", mb)


@pytest.mark.parametrize("who", ["th_reporter", "vn_coord", "analyst", "observer", "admin"])
def test_canaries_are_in_the_world(world: World, who: str) -> None:
    """The matrix can fail: every actor has hidden canaries, and sees some records of other agencies."""
    assert _hidden_canaries(world, who)
    visible_foreign = [c for c in world.cases if world.sees(who, c)[0] and c.owner != world.user_agency[who]]
    assert visible_foreign or who == "observer"
    # Every record parameter has a foreign value to probe, and an own value wherever the actor may have one.
    for name in ("alert_id", "bulletin_id", "attachment_id", "entry_id", "list_id", "hit_id", "profile_key", "token"):
        values = PARAMS[name](world, who)
        assert values.foreign is not None, name
        assert (
            values.own is not None
            or (name == "entry_id" and who == "observer")
            or (name == "screening_notice_id" and world.user_agency[who] not in OWNERS)
            or (name in ("list_id", "hit_id", "profile_key") and world.user_agency[who] == "UNODC")
        ), name


def _notice_urls(w: World) -> list[str]:
    out = ["/api/v1/linkage/notices", f"/operations/{w.slug}/links", "/api/v1/inbox?limit=500"]
    for m in w.matches:
        out += [f"/api/v1/linkage/notices/{m.id}", f"/operations/{w.slug}/notices/{m.id}"]
    return out


def _refs_not_agreed(w: World, who: str | None) -> list[str]:
    """Case references a match may not name to `who`: every case of a match except its own agency's side and
    another side whose owner agreed (the reader sees it with its parties)."""
    allowed: set[int] = set()
    if who is not None:
        for m in w.matches:
            sides = w.notice_sides(who, m)
            if sides is not None:
                own, other = sides
                allowed.add(own.id)
                if w.may_name(who, other):
                    allowed.add(other.id)
    return [f"R{c.nn}" for m in w.matches for c in (w.cases[m.a], w.cases[m.b]) if c.id not in allowed]


@pytest.mark.slow
def test_match_notices_name_only_cases_their_owner_agreed_to(client: TestClient, world: World, db_url: str) -> None:
    """Matches: for every actor, no notice (list, page, API, inbox, CLI) and no encoded match in a network names a
    case of another agency unless its owner agreed (the actor sees it with its parties)."""
    from typer.testing import CliRunner

    from dragonnet.cli.linkage import linkage_app

    logins = open_sessions(db_url, [a for a in ACTORS if a])
    requests = named = 0
    problems: list[str] = []
    for who in ACTORS:
        use(client, logins.get(who) if who else None)
        forbidden = _refs_not_agreed(world, who)
        pattern = re.compile("|".join(re.escape(r) + r"(?!\d)" for r in forbidden))
        for url in _notice_urls(world):
            r = client.get(url)
            requests += 1
            if (found := pattern.search(r.text)) is not None:
                problems.append(f"{who} GET {url} -> {r.status_code} names {found.group(0)}")
        # Networks: an encoded match links two cases only where the reader may name both.
        graph = client.get(f"/api/v1/operations/{world.slug}/networks/1/graph")
        requests += 1
        if graph.status_code == 200:
            elements = graph.json()["elements"]
            matched = {e["data"]["id"] for e in elements if e["data"].get("type") == "encoded_match"}
            cases = {e["data"]["target"] for e in elements if e["group"] == "edges" and e["data"]["source"] in matched}
            for target in cases:
                case = next(c for c in world.cases if f"case-{c.id}" == target)
                if who is None or not world.may_name(who, case):
                    problems.append(f"{who} network graph links case {case.id} through an encoded match")
        if who is not None:
            out = CliRunner().invoke(linkage_app, ["notices", "--as", who, "--json", "--database-url", db_url])
            requests += 1
            assert out.exit_code == 0, out.output
            if (found := pattern.search(out.output)) is not None:
                problems.append(f"{who} CLI linkage notices names {found.group(0)}")
            if world.receives_notices(who):
                named += sum(1 for n in json.loads(out.output) if n["revealed"])
    # The check can fail: the accepted request's case is named to its requester, on every door.
    accepted = next(r for r in world.requests if r.status == "accepted")
    other = next(world.cases[i] for m in world.matches if m.id == accepted.notice for i in (m.a, m.b)
                 if world.cases[i].owner == accepted.owner)  # fmt: skip
    use(client, logins["th_reporter"])
    assert f"R{other.nn}" in client.get(f"/api/v1/linkage/notices/{accepted.notice}").text
    assert f"R{other.nn}" in client.get(f"/operations/{world.slug}/notices/{accepted.notice}").text
    assert named > 0
    line = (f"{requests} requests (notices, notice pages, inbox, network graph, CLI) x {len(ACTORS)} actors over "
            f"{len(world.matches)} matches and {len(world.requests)} requests: {len(problems)} cases named without "
            f"their owner's consent; {named} named after it")  # fmt: skip
    print("\nS1 (matches):", line)
    FIGURES["S1 matches"] = line
    assert not problems, "\n".join(problems[:40])
