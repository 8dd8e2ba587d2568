"""S12: stored XSS, checked in a real browser (Debian's Chromium through Playwright, live server).

Every payload of tests/fixtures/xss_payloads.txt (script tags, event handlers, javascript:/data: URLs,
attribute-breaking quotes, template syntax, </textarea>, htmx attributes, RTL and full-width tricks...) is
stored in every user-controlled free-text field that a page renders, each copy tagged with its field
(`<payload> //<field><n>`, the tag is a JavaScript comment in a URL context). Most records are seeded
through the domain services (alerts, bulletins, watchlists, attachments, tokens, staged imports,
linkage decisions); cases, identifiers and targeting hits are inserted as rows, like an older system's
data would arrive; `test_payloads_through_the_web_forms` goes through the real forms (case report and
edit, alert, attachment upload, bulletin with a file, watchlist, a rejected form).

Each page that renders the values is then opened as a user who sees them, and must show:
- no JavaScript dialog, `window.__xss` undefined, no page error;
- no injected element or attribute: inline event handlers (`on*`), `hx-on` attributes, scripts other than
  /static/ files, images other than /static/ and data:image, frames, objects, `javascript:` links,
  `<style>` in the body;
- each expected stored value visible as text or form value, exactly (escaped, not dropped or rewritten):
  the test cannot pass vacuously;
- a Content-Security-Policy header whose script-src has no 'unsafe-inline'/'unsafe-eval', with
  frame-ancestors, and X-Content-Type-Options: nosniff;
- console CSP violations are collected and printed; one about scripts fails the test (markup reached the
  page and only the CSP stopped it).

The debrief HTML report is a download opened outside the site (no CSP): it is loaded with no CSP at all.

Stored but rendered by no page (so not checked here): linkage decision notes, targeting hit result notes,
duplicate dismissal reasons, item quantity_text, phase notes.

Prints `figure: S12 ...` (P payloads x F fields x V page kinds, page loads, values checked, executions).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from browser.live import serve
from dragonnet.intake import uploads
from dragonnet.intake.headers import ITEM_COLUMNS
from dragonnet.linkage import normalise
from dragonnet.linkage import service as linkage
from dragonnet.messaging import alerts, bulletins, files, watchlists
from dragonnet.operation.service import add_agency, add_contact_point, add_participant, phase_for_date
from dragonnet.policy import tokens
from dragonnet.policy.access import Actor
from dragonnet.policy.passwords import hash_password
from dragonnet.policy.users import create_user
from dragonnet.storage.db import make_engine, session_scope
from dragonnet.storage.intake_models import CaseMerge, CaseStatusChange
from dragonnet.storage.messaging_models import AlertIdentifier, Attachment
from dragonnet.storage.migrate import upgrade
from dragonnet.storage.models import Agency, Case, CaseIdentifier, CaseShare, Item, Operation, Party, User
from dragonnet.storage.targeting_models import TargetingHit, TargetingList
from web.seed import PASSWORD, SLUG, seed

pytestmark = pytest.mark.browser

PAYLOAD_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "xss_payloads.txt"
MAX_PAYLOAD = 48
DAY = dt.date(2024, 6, 12)  # phase II of the seeded operation


def load_payloads() -> list[str]:
    out = []
    for line in PAYLOAD_FILE.read_text(encoding="ascii").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        out.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), line))
    return out


PAYLOADS = load_payloads()
# Payloads also sent through the real web forms (the rest are seeded): the main kinds of breakout.
WEB = [
    i
    for i, p in enumerate(PAYLOADS)
    if p.startswith(
        ("<script>window", '"><img', "' autofocus", "</textarea>", "<svg onload", "{{", "<div hx-get", "\u202e")
    )
]


def tag(i: int, code: str) -> str:
    """Payload i tagged with its field: `<payload> //<code><i>` (at most 48 + 11 characters)."""
    return f"{PAYLOADS[i]} //{code}{i:02d}"


# --- what a page must show -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    field: str  # e.g. "case.case_ref"
    payload: int
    text: str  # exactly what must be visible (as text or as a form value)


@dataclass
class View:
    """A page kind visited as one user: one URL, or several (a paginated list) whose texts are pooled."""

    kind: str  # "case page", "alert page"... (the V of the figure)
    user: str
    urls: list[str]
    need: list[Shown] = field(default_factory=list)  # every one must be visible
    maybe: list[Shown] = field(default_factory=list)  # counted when visible (top-N tables); one at least
    ready: str | None = None  # a selector to wait for (pages drawing from the API)


@dataclass
class Tally:
    loads: int = 0
    checked: set[tuple[str, int, str]] = field(default_factory=set)  # (field, payload, page kind)
    kinds: set[str] = field(default_factory=set)
    fields: set[str] = field(default_factory=set)
    csp_reports: list[str] = field(default_factory=list)
    executions: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    header_problems: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def figure(self, what: str) -> str:
        payloads = len({p for _f, p, _k in self.checked})
        return (
            f"figure: S12 {what}: {payloads} payloads x {len(self.fields)} fields x {len(self.kinds)} page kinds "
            f"({self.loads} page loads), {len(self.checked)} (payload, field, page) renderings seen escaped, "
            f"{len(self.executions)} executed or injected, {len(self.header_problems)} pages without a strict CSP, "
            f"{len(self.csp_reports)} CSP console reports"
        )


# --- the world ------------------------------------------------------------------------------------------------


@dataclass
class XssWorld:
    base: str
    db_url: str
    data_dir: Path
    slug: str
    views: list[View]
    ids: dict[str, int]  # "th": TH-CUS agency id, "a<i>": case A of payload i


def _actor(session: Session, username: str) -> Actor:
    return Actor.for_user(session.execute(select(User).where(User.username == username)).scalar_one())


def _user_id(session: Session, username: str) -> int:
    return session.execute(select(User.id).where(User.username == username)).scalar_one()


def _case(op: Operation, agency_id: int, ref: str, created_by: int, **extra: Any) -> Case:
    values = {"status": "validated", "sharing_level": "green", "seizure_date": DAY, "place_country": "TH", **extra}
    return Case(
        operation_id=op.id,
        phase_id=phase_for_date(op, DAY).id,
        reporting_agency_id=agency_id,
        case_ref=ref,
        created_by_id=created_by,
        **values,
    )


def seed_payloads(session: Session, data_dir: Path) -> tuple[list[View], dict[str, int]]:
    """The seeded operation plus every payload in every rendered free-text field; the views that show them."""
    base = seed(session)
    op = session.get(Operation, base.operation_id)
    assert op is not None
    th, vn = base.agencies["TH-CUS"], base.agencies["VN-CUS"]
    th_user = _user_id(session, "th_reporter")
    th_actor, vn_actor = _actor(session, "th_reporter"), _actor(session, "vn_reporter")
    slug = op.slug
    n = range(len(PAYLOADS))
    sh = Shown
    views: list[View] = []

    # Operation description (all payloads in one text), agencies, contact points, users, API tokens.
    op.description = " ".join(tag(i, "opdesc") for i in n)
    th_agency = session.get(Agency, th)
    assert th_agency is not None
    known_hash = hash_password(PASSWORD)
    agency_ids, user_ids = [], {}
    with mock.patch("dragonnet.policy.users.hash_password", lambda pw: known_hash):
        for i in n:
            ag = add_agency(session, code=f"XSS-{i:02d}", name=tag(i, "agname"), kind="ngo", country=None)
            add_participant(session, op, ag, "observer")
            add_contact_point(session, th_agency, code=f"CP{i:02d}", name=tag(i, "cpname"), kind="inland", locode=None)
            session.flush()
            u = create_user(
                session,
                username=f"xss_user_{i:02d}",
                password=PASSWORD,
                agency_code=ag.code,
                roles=["partner_observer"],
                display_name=tag(i, "udisp"),
            )
            session.flush()
            agency_ids.append(ag.id)
            user_ids[u.username] = u.id
    th_row = session.get(User, th_user)
    assert th_row is not None
    for i in n:
        tokens.create_token(session, th_actor, th_row, name=tag(i, "tkname"), scope="read")

    # Cases: A (TH-CUS, every case field), B (VN-CUS, same seizure: a duplicate candidate and a network with
    # A through the identifier and the party), C (merged into A: the merge reason).
    a_ids = []
    for i in n:
        a = _case(
            op,
            th,
            tag(i, "ref"),
            th_user,
            place_name=tag(i, "place"),
            conveyance_ref=tag(i, "conv"),
            concealment=tag(i, "conc"),
            description=tag(i, "desc"),
            items=[
                Item(
                    position=1,
                    commodity_class="drug",
                    quantity=3.0,
                    unit="kg",
                    mass_kg=3.0,
                    substance_text=tag(i, "subtx"),
                    substance=tag(i, "subst"),
                    goods_description=tag(i, "goods"),
                )
            ],
        )
        b = _case(
            op,
            vn,
            f"VN-XSS-{i:02d}",
            _user_id(session, "vn_reporter"),
            shares=[CaseShare(agency_id=th, nominal=True)],
            items=[
                Item(
                    position=1, commodity_class="drug", quantity=3.0, unit="kg", mass_kg=3.0, substance=tag(i, "subst")
                )
            ],
        )
        c = _case(op, th, f"TH-MERGED-{i:02d}", th_user, status="merged")
        session.add_all([a, b, c])
        session.flush()
        c.merged_into_id = a.id
        pa = Party(
            case_id=a.id,
            role="courier",
            kind="person",
            name=tag(i, "pname"),
            id_number=tag(i, "pid"),
            phone=tag(i, "phone"),
            email=tag(i, "email"),
            address=tag(i, "addr"),
        )
        pb = Party(case_id=b.id, role="courier", kind="person", name=tag(i, "pname"))
        session.add_all([pa, pb])
        session.flush()
        for case_id in (a.id, b.id):
            session.add(
                CaseIdentifier(case_id=case_id, kind="container", value=tag(i, "ident"), normalised=tag(i, "ident"))
            )
        session.add(
            CaseStatusChange(
                case_id=a.id,
                from_status="submitted",
                to_status="validated",
                actor_username="th_coord",
                actor_agency="TH-CUS",
                reason=tag(i, "hreason"),
            )
        )
        session.add(CaseMerge(keep_id=a.id, duplicate_id=c.id, reason=tag(i, "merge"), merged_by_username="th_coord"))
        session.flush()
        linkage.decide(session, th_actor, pa.id, pb.id, "confirm", tag(i, "lnote"))
        a_ids.append(a.id)

    # Watchlist entries on the party names (so every A case is a match), then the matching.
    for i in n:
        watchlists.add_entry(session, th_actor, "person", tag(i, "pname"), tag(i, "wnote"))
    watchlists.check_cases(session, a_ids)

    # Alerts TH -> VN (details, indicators, an identifier row, VN's answer, an attachment) and bulletins.
    alert_ids, bulletin_ids, alert_files, bulletin_files = [], [], [], []
    for i in n:
        alert = alerts.raise_alert(
            session,
            th_actor,
            alerts.AlertInput(
                operation_id=op.id,
                subject_kind="shipment",
                title=tag(i, "atitle"),
                origin="TH",
                destination="VN",
                details=tag(i, "adetails"),
                indicators=[tag(i, "aind")],
                sharing_level="green",
            ),
        )
        alert.identifiers.append(
            AlertIdentifier(kind="bill_of_lading", value=tag(i, "aident"), normalised=tag(i, "aident"))
        )
        session.flush()
        alerts.acknowledge(session, vn_actor, alert.id)
        alerts.answer(session, vn_actor, alert.id, "not_found", tag(i, "anote"))
        att = files.attach_to_alert(
            session, th_actor, data_dir, alert.id, io.BytesIO(b"seizure notes\n"), tag(i, "afile") + ".txt"
        )
        b = bulletins.publish(
            session,
            th_actor,
            operation_id=op.id,
            title=tag(i, "btitle"),
            body=tag(i, "bbody"),
            sharing_level="green",
            to_all=True,
            agencies=[],
        )
        batt = files.attach_to_bulletin(
            session, th_actor, data_dir, b.id, io.BytesIO(b"trend notes\n"), tag(i, "bfile") + ".txt"
        )
        alert_ids.append(alert.id)
        bulletin_ids.append(b.id)
        alert_files.append(att.filename)
        bulletin_files.append(batt.filename)

    # One targeting list with a hit per payload (facts, rule names, model contributions).
    hits = [
        TargetingHit(
            rank=i + 1,
            lane="red",
            random=False,
            score=0.9,
            rule_score=0.9,
            model_score=0.8,
            declaration_id=tag(i, "tdecl"),
            declaration_date=DAY,
            facts={
                "goods_description": tag(i, "tgoods"),
                "importer": tag(i, "timp"),
                "hs_code": "030289",
                "origin_country": "NG",
                "gross_weight_kg": 12.5,
            },
            rules=[{"id": f"R{i}", "name": tag(i, "trule"), "weight": 1.0}],
            contributions=[{"label": tag(i, "tfeat"), "value": tag(i, "tval"), "contribution": 0.5}],
        )
        for i in n
    ]
    tl = TargetingList(
        agency_id=th,
        operation_id=op.id,
        office_locode="THBKK",
        declarations=len(hits),
        red=len(hits),
        yellow=0,
        profiles=[f"R{i}" for i in n],
        hits=hits,
    )
    session.add(tl)
    session.flush()

    # Staged imports: a CSV (th_reporter) and an XLSX (th_coord) with a payload header per payload and a
    # rejected payload cell per row; the file name is a payload too.
    header = [*ITEM_COLUMNS, *(tag(i, "ihdr") for i in n)]
    rows = []
    for i in n:
        row = {
            "case_ref": f"IMP-{i:02d}",
            "reporting_agency": "TH-CUS",
            "seizure_date": "2024-06-05",
            "place_country": "TH",
            "commodity_class": tag(i, "icell"),
            "quantity": "2",
            "unit": "kg",
            "substance": "heroin",
        }
        rows.append([row.get(c, "") for c in ITEM_COLUMNS] + [tag(i, "iextra") for _ in n])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows([header, *rows])
    staged = []
    name_payload = next(i for i, p in enumerate(PAYLOADS) if p.startswith('"><img'))
    for username, data, suffix in (
        ("th_reporter", buf.getvalue().encode(), ".csv"),
        ("th_coord", _xlsx([header, *rows]), ".xlsx"),
    ):
        up = uploads.stage(session, _actor(session, username), op, data, tag(name_payload, "ifile") + suffix, data_dir)
        staged.append((username, up.token, up.filename))
    session.flush()

    # --- the views ---------------------------------------------------------------------------------------
    def v(kind: str, user: str, url: str | list[str], ready: str | None = None) -> View:
        view = View(kind, user, url if isinstance(url, list) else [url], ready=ready)
        views.append(view)
        return view

    ov = v("operation overview", "th_reporter", f"/operations/{slug}")
    ov.need += [sh("operation.description", i, tag(i, "opdesc")) for i in n]
    ov.need += [sh("agency.name", i, tag(i, "agname")) for i in n]
    for i in n:
        cp = v("case page", "th_reporter", f"/cases/{a_ids[i]}")
        cp.need += [sh(f, i, tag(i, c)) for f, c in CASE_PAGE_FIELDS]
        ed = v("case edit form", "th_reporter", f"/cases/{a_ids[i]}/edit")
        ed.need += [sh(f, i, tag(i, c)) for f, c in EDIT_FORM_FIELDS]
        al = v("alert page", "th_reporter", f"/alerts/{alert_ids[i]}")
        al.need += [sh(f, i, tag(i, c)) for f, c in ALERT_PAGE_FIELDS]
        al.need.append(sh("attachment.filename (alert)", i, alert_files[i]))
        bp = v("bulletin page", "th_reporter", f"/bulletins/{bulletin_ids[i]}")
        bp.need += [
            sh("bulletin.title", i, tag(i, "btitle")),
            sh("bulletin.body", i, tag(i, "bbody")),
            sh("attachment.filename (bulletin)", i, bulletin_files[i]),
        ]
        au = v("admin user page", "admin", f"/admin/users/{user_ids[f'xss_user_{i:02d}']}")
        au.need += [sh("user.display_name", i, tag(i, "udisp")), sh("agency.name", i, tag(i, "agname"))]
        aa = v("admin agency page", "admin", f"/admin/agencies/{agency_ids[i]}")
        aa.need.append(sh("agency.name", i, tag(i, "agname")))
        acc = v("account page", f"xss_user_{i:02d}", "/account")
        acc.need += [sh("user.display_name", i, tag(i, "udisp")), sh("agency.name", i, tag(i, "agname"))]
    v("alert list", "th_reporter", "/alerts").need += [sh("alert.title", i, tag(i, "atitle")) for i in n]
    v("bulletin list", "th_reporter", "/bulletins").need += [sh("bulletin.title", i, tag(i, "btitle")) for i in n]
    wl = v("watchlist", "th_reporter", "/watchlist")
    wl.need += [sh("watchlist.value", i, tag(i, "pname")) for i in n]
    wl.need += [sh("watchlist.note", i, tag(i, "wnote")) for i in n]
    ib = v("inbox", "vn_reporter", "/inbox")
    ib.need += [sh("alert.title", i, tag(i, "atitle")) for i in n]
    ib.need += [sh("bulletin.title", i, tag(i, "btitle")) for i in n]
    v("inbox", "th_reporter", "/inbox").maybe += [sh("watchlist.value", i, repr(tag(i, "pname"))) for i in n]
    tg = v("targeting list", "th_reporter", f"/targeting/lists/{tl.id}")
    tg.need += [sh(f, i, tag(i, c)) for f, c in TARGETING_FIELDS for i in n]
    for username, token, filename in staged:
        ip = v("import preview", username, f"/operations/{slug}/import/{token}")
        ip.need += [sh("import.header", i, tag(i, "ihdr")) for i in n]
        ip.need += [sh("import.cell (error report)", i, tag(i, "icell")) for i in n]
        ip.need.append(sh("import.filename", name_payload, filename))
    v("my API tokens", "th_reporter", "/account/tokens").need += [sh("token.name", i, tag(i, "tkname")) for i in n]
    v("admin tokens", "admin", "/admin/tokens").need += [sh("token.name", i, tag(i, "tkname")) for i in n]
    v("admin agencies", "admin", "/admin/agencies").need += [sh("agency.name", i, tag(i, "agname")) for i in n]
    v("admin agency page", "admin", f"/admin/agencies/{th}").need += [
        sh("contact_point.name", i, tag(i, "cpname")) for i in n
    ]
    v("admin users", "admin", "/admin/users").need += [sh("user.display_name", i, tag(i, "udisp")) for i in n]
    dup = v("validate (duplicates)", "th_coord", f"/operations/{slug}/validate")
    dup.need += [sh("case.case_ref", i, tag(i, "ref")) for i in n]
    dup.need += [sh("case.place_name", i, tag(i, "place")) for i in n]
    db_ = v("dashboard", "th_reporter", f"/operations/{slug}/dashboard?phase=2")
    db_.maybe += [sh("case.concealment", i, tag(i, "conc")) for i in n]
    db_.maybe += [sh("item.substance", i, tag(i, "subst")) for i in n]
    rt = v("routes", "th_reporter", f"/operations/{slug}/routes?phase=2")
    rt.maybe += [sh("item.substance", i, tag(i, "subst")) for i in n]
    nw = v("networks", "th_reporter", f"/operations/{slug}/networks")
    nw.maybe += [sh("party.name", i, tag(i, "pname")) for i in n]
    lk = v("links to review", "th_reporter", f"/operations/{slug}/links")
    lk.need += [sh("party.name", i, tag(i, "pname")) for i in n]
    lk.need += [sh("case.case_ref", i, tag(i, "ref")) for i in n]
    return views, {"th": th, **{f"a{i}": a for i, a in enumerate(a_ids)}}


CASE_PAGE_FIELDS = [
    ("case.case_ref", "ref"),
    ("case.place_name", "place"),
    ("case.conveyance_ref", "conv"),
    ("case.concealment", "conc"),
    ("case.description", "desc"),
    ("item.substance_text", "subtx"),
    ("item.substance", "subst"),
    ("party.name", "pname"),
    ("party.id_number", "pid"),
    ("party.phone", "phone"),
    ("party.email", "email"),
    ("status_change.reason", "hreason"),
    ("merge.reason", "merge"),
]
EDIT_FORM_FIELDS = [
    ("case.case_ref", "ref"),
    ("case.place_name", "place"),
    ("case.conveyance_ref", "conv"),
    ("case.concealment", "conc"),
    ("case.description", "desc"),
    ("item.substance_text", "subtx"),
    ("item.goods_description", "goods"),
    ("party.name", "pname"),
    ("party.id_number", "pid"),
    ("party.phone", "phone"),
    ("party.email", "email"),
    ("party.address", "addr"),
]
ALERT_PAGE_FIELDS = [
    ("alert.title", "atitle"),
    ("alert.details", "adetails"),
    ("alert.indicator", "aind"),
    ("alert.identifier", "aident"),
    ("alert.result_note", "anote"),
]
TARGETING_FIELDS = [
    ("targeting.declaration_id", "tdecl"),
    ("targeting.goods_description", "tgoods"),
    ("targeting.importer", "timp"),
    ("targeting.rule_name", "trule"),
    ("targeting.feature_label", "tfeat"),
    ("targeting.feature_value", "tval"),
]


def _xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def xss_world(tmp_path_factory: pytest.TempPathFactory, live_server: str) -> Iterator[XssWorld]:
    """A live server over the seeded operation filled with payloads (its own database and data folder).

    `live_server` is only asked for its check that Chromium exists (skip, or fail in CI) before seeding."""
    assert all(len(p) <= MAX_PAYLOAD and p == p.strip() for p in PAYLOADS), "payloads: at most 48 characters"
    folder = tmp_path_factory.mktemp("xss-live")
    url = f"sqlite:///{folder / 'dragonnet.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        views, ids = seed_payloads(session, folder)
    engine.dispose()
    with serve(url, folder) as base:
        yield XssWorld(base, url, folder, SLUG, views, ids)


# --- the browser side -----------------------------------------------------------------------------------------

TEXT_JS = """() => {
  const parts = [document.title, document.body ? document.body.innerText : ""];
  for (const el of document.querySelectorAll("input, textarea, select")) {
    if (el.type !== "password") { parts.push(el.value); }
  }
  for (const o of document.querySelectorAll("option")) { parts.push(o.text); }
  for (const img of document.querySelectorAll("img[alt]")) { parts.push(img.alt); }
  return parts.join("\\n");
}"""

# Anything here is markup or script that did not come from our templates.
INJECTED_JS = """() => {
  const bad = [];
  const self = location.origin;
  const url = (v) => { try { return new URL(v, location.href); } catch (e) { return null; } };
  // The only htmx elements of the templates: the dashboard filters and the account page's history.
  const TEMPLATE_HX = (el) => (el.tagName === "FORM" && el.id === "dashboard-filters")
    || (el.tagName === "DIV" && el.getAttribute("hx-get") === "/account/history" && el.id === "account-history");
  for (const el of document.querySelectorAll("*")) {
    for (const a of el.attributes) {
      const n = a.name.toLowerCase();
      if (n.startsWith("on")) { bad.push(el.tagName + "[" + n + "]"); }
      if (n.startsWith("hx-on") || n.startsWith("data-hx-on")) { bad.push(el.tagName + "[" + n + "]"); }
      if (n.startsWith("hx-") && !TEMPLATE_HX(el)) { bad.push(el.tagName + "[" + n + "]"); }
      if (["href", "src", "action", "formaction", "data", "xlink:href"].includes(n)
          && /^\\s*(javascript|vbscript|data:text)/i.test(a.value)) {
        bad.push(el.tagName + "[" + n + "=" + a.value + "]");
      }
    }
  }
  for (const s of document.querySelectorAll("script")) {
    const u = s.src ? url(s.src) : null;
    if (!u || u.origin !== self || !u.pathname.startsWith("/static/")) {
      bad.push("script:" + (s.src || s.text.slice(0, 40)));
    }
  }
  for (const img of document.querySelectorAll("img")) {
    const src = img.getAttribute("src") || "";
    const u = url(src);
    if (!(src.startsWith("data:image/") || (u && u.origin === self && u.pathname.startsWith("/static/")))) {
      bad.push("img[src=" + src + "]");
    }
  }
  const foreign = "iframe, frame, object, embed, base, body style, svg[onload], details[ontoggle], meta[http-equiv]";
  for (const el of document.querySelectorAll(foreign)) {
    bad.push(el.tagName.toLowerCase());
  }
  return bad;
}"""

SETTLE_JS = "() => new Promise((resolve) => setTimeout(resolve, 50))"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def csp_problems(headers: dict[str, str]) -> list[str]:
    """What is missing from a page's security headers (S12: CSP without inline scripts, nosniff, framing)."""
    csp = headers.get("content-security-policy")
    if not csp:
        return ["no Content-Security-Policy"]
    directives = {d.split()[0].lower(): d.split()[1:] for d in csp.split(";") if d.strip()}
    script = directives.get("script-src", directives.get("default-src"))
    out = []
    if script is None:
        out.append("no script-src or default-src")
    elif {"'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:"} & set(script):
        out.append(f"script-src too wide: {' '.join(script)}")
    if "frame-ancestors" not in directives:
        out.append("no frame-ancestors")
    if headers.get("x-content-type-options", "").lower() != "nosniff":
        out.append("no X-Content-Type-Options: nosniff")
    return out


class Browsing:
    """One logged-in browser context, its page and what it saw (dialogs, console CSP reports, page errors)."""

    def __init__(self, browser: Any, base: str, username: str, tally: Tally) -> None:
        self.context = browser.new_context(base_url=base)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.username = username
        self.tally = tally
        self.dialogs: list[str] = []
        self.csp: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))
        self.login()

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _console(self, msg: Any) -> None:
        if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text:
            self.csp.append(msg.text)

    def login(self) -> None:
        self.page.goto("/login")
        self.page.fill("#username", self.username)
        self.page.fill("#password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(lambda u: "/login" not in u)

    def close(self) -> None:
        self.context.close()

    def goto(self, url: str) -> Any:
        self.reset()
        response = self.page.goto(url)
        assert response is not None and response.status < 400, f"{self.username} {url}: {response and response.status}"
        return response

    def reset(self) -> None:
        self.dialogs.clear()
        self.csp.clear()
        self.errors.clear()

    def check(self, kind: str, where: str, response: Any | None, ready: str | None = None) -> str:
        """Check the loaded page; returns its visible text (whitespace collapsed)."""
        page, tally = self.page, self.tally
        tally.loads += 1
        tally.kinds.add(kind)
        if ready:
            page.wait_for_selector(ready)
        page.evaluate(SETTLE_JS)
        if response is not None:
            problems = csp_problems({k.lower(): v for k, v in response.all_headers().items()})
            if problems:
                tally.header_problems.append(f"{where}: {problems}")
        marker = page.evaluate("() => typeof window.__xss === 'undefined' ? null : String(window.__xss)")
        injected = page.evaluate(INJECTED_JS)
        if self.dialogs or marker is not None or injected:
            tally.executions.append(
                f"{where} as {self.username}: dialogs={self.dialogs} __xss={marker} injected={injected}"
            )
        for report in self.csp:
            tally.csp_reports.append(f"{where}: {report}")
        tally.page_errors += [f"{where}: {e}" for e in self.errors]
        return _norm(page.evaluate(TEXT_JS))

    def count(self, kind: str, where: str, text: str, need: Sequence[Shown], maybe: Sequence[Shown] = ()) -> None:
        found = 0
        for s in [*need, *maybe]:
            if _norm(s.text) in text:
                self.tally.checked.add((s.field, s.payload, kind))
                self.tally.fields.add(s.field)
                found += 1
            elif s in need:
                self.tally.missing.append(
                    f"{where} as {self.username}: {s.field} of payload {s.payload} ({s.text!r}) not shown"
                )
        if not need and maybe and not found:
            self.tally.missing.append(f"{where} as {self.username}: none of {len(maybe)} possible values shown")

    def visit(self, view: View) -> None:
        texts = []
        for url in view.urls:
            response = self.goto(url)
            texts.append(self.check(view.kind, url, response, view.ready))
        self.count(view.kind, view.urls[0], " \n ".join(texts), view.need, view.maybe)


def _report(tally: Tally, what: str) -> None:
    print(tally.figure(what))
    for line in sorted(set(tally.csp_reports))[:20]:
        print("  CSP report:", line[:300])
    for line in [*tally.executions, *tally.header_problems, *tally.page_errors, *tally.missing][:60]:
        print("  problem:", line[:300])
    assert not tally.executions, "payload executed or injected:\n" + "\n".join(tally.executions[:20])
    assert not tally.page_errors, "JavaScript errors:\n" + "\n".join(tally.page_errors[:20])
    assert not tally.header_problems, "pages without a strict CSP:\n" + "\n".join(tally.header_problems[:20])
    script_reports = [r for r in tally.csp_reports if "script" in r.lower()]
    assert not script_reports, "script CSP violations (markup reached the page):\n" + "\n".join(script_reports[:10])
    assert not tally.missing, "stored values not shown escaped:\n" + "\n".join(tally.missing[:30])


# --- the tests --------------------------------------------------------------------------------------------------


def _networks(world: XssWorld) -> list[View]:
    """One view per network of th_reporter's (each is the pair A/B of one payload), found like the page does."""
    engine = make_engine(world.db_url)
    try:
        with Session(engine) as session:
            actor = _actor(session, "th_reporter")
            op = session.execute(select(Operation).where(Operation.slug == world.slug)).scalar_one()
            _ex, nets = linkage.networks_for(session, actor, operation_id=op.id)
            refs = {i: tag(i, "ref") for i in range(len(PAYLOADS))}
            out = []
            for number, net in enumerate(nets, start=1):
                case_refs = {c.case_ref for c in session.execute(select(Case).where(Case.id.in_(net.cases))).scalars()}
                i = next(i for i, r in refs.items() if r in case_refs)
                view = View(
                    "network page",
                    "th_reporter",
                    [f"/operations/{world.slug}/networks/{number}"],
                    ready="#network-graph[data-ready]",
                )
                # Identifiers are shown as their linkage key (letters and digits only): markup cannot survive.
                key = normalise.identifier("container", tag(i, "ident"))
                assert key is not None
                view.need += [
                    Shown("case.case_ref", i, refs[i]),
                    Shown("party.name", i, tag(i, "pname")),
                    Shown("identifier.value (linkage key)", i, key),
                ]
                out.append(view)
            assert len(out) == len(PAYLOADS), f"{len(out)} networks, expected one per payload"
            return out
    finally:
        engine.dispose()


def _case_list(world: XssWorld, browsing: Browsing) -> View:
    browsing.goto(f"/operations/{world.slug}/cases")
    total = int(browsing.page.inner_text("#case-total"))
    urls = [f"/operations/{world.slug}/cases?page={p}" for p in range(1, math.ceil(total / 25) + 1)]
    view = View("case list", "th_reporter", urls)
    view.need += [Shown("case.case_ref", i, tag(i, "ref")) for i in range(len(PAYLOADS))]
    view.need += [Shown("item.substance", i, tag(i, "subst")) for i in range(len(PAYLOADS))]
    return view


def _debrief(world: XssWorld, browsing: Browsing, tally: Tally) -> None:
    """The debrief HTML is downloaded and opened outside the site, where no CSP applies: load it that way."""
    response = browsing.context.request.get(f"/operations/{world.slug}/reports/debrief.html?phase=2")
    assert response.ok, response.status
    problems = csp_problems({k.lower(): v for k, v in response.headers.items()})
    if problems:
        tally.header_problems.append(f"debrief.html: {problems}")
    browsing.page.goto("about:blank")  # a document of no origin: the site's CSP does not carry over
    browsing.reset()
    browsing.page.set_content(response.text())
    text = browsing.check("debrief report (no CSP)", "debrief.html", None)
    n = range(len(PAYLOADS))
    browsing.count(
        "debrief report (no CSP)",
        "debrief.html",
        text,
        [],
        [Shown("case.concealment", i, tag(i, "conc")) for i in n]
        + [Shown("item.substance", i, tag(i, "subst")) for i in n],
    )


def test_stored_payloads_never_execute(browser: Any, xss_world: XssWorld) -> None:
    tally = Tally()
    views = list(xss_world.views) + _networks(xss_world)
    by_user: dict[str, list[View]] = {}
    for view in views:
        by_user.setdefault(view.user, []).append(view)
    for username, user_views in by_user.items():
        browsing = Browsing(browser, xss_world.base, username, tally)
        try:
            if username == "th_reporter":
                user_views = [_case_list(xss_world, browsing), *user_views]
                _debrief(xss_world, browsing, tally)
            for view in user_views:
                browsing.visit(view)
        finally:
            browsing.close()
    per_kind = Counter(k for _f, _p, k in tally.checked)
    print("renderings per page kind:", dict(sorted(per_kind.items())))
    _report(tally, "stored XSS (seeded)")


# --- through the real forms ---------------------------------------------------------------------------------


def _attachment_names(world: XssWorld, **where: int) -> list[str]:
    engine = make_engine(world.db_url)
    try:
        with Session(engine) as session:
            q = select(Attachment.filename)
            for k, value in where.items():
                q = q.where(getattr(Attachment, k) == value)
            return list(session.execute(q.order_by(Attachment.id)).scalars())
    finally:
        engine.dispose()


def _submit(browsing: Browsing, selector: str) -> Any:
    browsing.reset()
    with browsing.page.expect_navigation() as nav:
        browsing.page.click(selector)
    return nav.value


def test_payloads_through_the_web_forms(browser: Any, xss_world: XssWorld) -> None:
    """The real forms (multipart uploads included) store the payloads as typed; every page shows them escaped."""
    tally = Tally()
    slug = xss_world.slug
    b = Browsing(browser, xss_world.base, "th_reporter", tally)
    try:
        for i in WEB:
            # Watchlist entry on the name the case below will carry (the match reaches the inbox).
            page = b.page
            b.goto("/watchlist")
            page.select_option("select[name=kind]", "person")
            page.fill("input[name=value]", tag(i, "wpname"))
            page.fill("input[name=note]", tag(i, "wnote"))
            response = _submit(b, "form.msg-form button[type=submit]")
            text = b.check("watchlist", "/watchlist (web)", response)
            b.count(
                "watchlist",
                "/watchlist (web)",
                text,
                [Shown("watchlist.value", i, tag(i, "wpname")), Shown("watchlist.note", i, tag(i, "wnote"))],
            )

            # The case form: report, check, edit and save again, check.
            b.goto(f"/operations/{slug}/report")
            values = {
                "case_ref": "wref",
                "place_name": "wplace",
                "conveyance_ref": "wconv",
                "concealment": "wconc",
                "description": "wdesc",
                "item-0-description": "wgoods",
                "party-0-name": "wpname",
                "party-0-id_number": "wpid",
                "party-0-address": "waddr",
            }
            page.fill("#f-seizure_date", "2024-06-14")
            page.fill("#f-place_country", "TH")
            for name, code in values.items():
                page.fill(f"#f-{name}", tag(i, code))
            page.select_option("#f-item-0-commodity_class", "drug")
            page.fill("#f-item-0-substance", "heroin")
            page.fill("#f-item-0-quantity", "2")
            page.select_option("#f-item-0-unit", "kg")
            page.select_option("#f-party-0-role", "courier")
            page.select_option("#f-party-0-kind", "person")
            page.keyboard.press("Escape")
            response = _submit(b, "#save-draft")
            assert re.search(r"/cases/\d+\?saved=\w+$", page.url), f"the case was not saved: {page.url}"
            case_url = page.url.removeprefix(xss_world.base).split("?")[0]
            shown = [
                Shown(f"web {name}", i, tag(i, code))
                for name, code in values.items()
                if name not in ("item-0-description", "party-0-address")
            ]
            text = b.check("case page", f"{case_url} (web)", response)
            b.count("case page", f"{case_url} (web)", text, shown)
            b.goto(case_url + "/edit")
            edit_shown = [Shown(f"web {name}", i, tag(i, code)) for name, code in values.items()]
            text = b.check("case edit form", f"{case_url}/edit (web)", None)
            b.count("case edit form", f"{case_url}/edit (web)", text, edit_shown)
            response = _submit(b, "#save-submit")
            assert page.url.split("?")[0].endswith(case_url), f"the edit was not saved: {page.url}"
            text = b.check("case page", f"{case_url} (web, edited)", response)
            b.count("case page", f"{case_url} (web, edited)", text, shown)

            # A rejected form (422): the typed values come back in the form, escaped.
            b.goto(f"/operations/{slug}/report")
            page.fill("#f-case_ref", tag(i, "wbad"))
            page.fill("#f-seizure_date", "2024-06-14")
            page.fill("#f-place_country", tag(i, "wctry"))
            response = _submit(b, "#save-draft")
            assert response.status == 422, response.status
            text = b.check("case form (rejected)", "report (422)", response)
            b.count(
                "case form (rejected)",
                "report (422)",
                text,
                [Shown("web case_ref", i, tag(i, "wbad")), Shown("web place_country", i, tag(i, "wctry"))],
            )

            # An alert through its form, then a file with a payload name through the attachment form.
            b.goto("/alerts/new")
            page.fill("input[name=title]", tag(i, "watitle"))
            page.fill("textarea[name=details]", tag(i, "wadet"))
            page.fill("input[name=origin]", "TH")
            page.fill("input[name=destination]", "VN")
            page.fill("textarea[name=indicators]", tag(i, "waind"))
            page.select_option("select[name=sharing_level]", "green")
            response = _submit(b, "#alert-form button[type=submit]")
            assert re.search(r"/alerts/\d+\?raised=1$", page.url), f"the alert was not raised: {page.url}"
            alert_url = page.url.removeprefix(xss_world.base).split("?")[0]
            page.set_input_files(
                "#attachment-file",
                files=[{"name": tag(i, "wafile") + ".txt", "mimeType": "text/plain", "buffer": b"notes\n"}],
            )
            response = _submit(b, "form[action$='/attachments'] button[type=submit]")
            assert page.url.split("?")[0].endswith(alert_url), page.url
            names = _attachment_names(xss_world, alert_id=int(alert_url.rsplit("/", 1)[1]))
            assert len(names) == 1, names
            text = b.check("alert page", f"{alert_url} (web)", response)
            b.count(
                "alert page",
                f"{alert_url} (web)",
                text,
                [
                    Shown("web alert.title", i, tag(i, "watitle")),
                    Shown("web alert.details", i, tag(i, "wadet")),
                    Shown("web alert.indicator", i, tag(i, "waind")),
                    Shown("web attachment.filename", i, names[0]),
                ],
            )

            # A bulletin with a file, one multipart form.
            b.goto("/bulletins")
            page.fill("#bulletin-form input[name=title]", tag(i, "wbtitle"))
            page.fill("#bulletin-form textarea[name=body]", tag(i, "wbbody"))
            page.set_input_files(
                "#bulletin-form input[name=file]",
                files=[{"name": tag(i, "wbfile") + ".txt", "mimeType": "text/plain", "buffer": b"trend\n"}],
            )
            response = _submit(b, "#bulletin-form button[type=submit]")
            assert re.search(r"/bulletins/\d+$", page.url), f"the bulletin was not published: {page.url}"
            names = _attachment_names(xss_world, bulletin_id=int(page.url.rsplit("/", 1)[1]))
            assert len(names) == 1, names
            text = b.check("bulletin page", f"{page.url} (web)", response)
            b.count(
                "bulletin page",
                "bulletin (web)",
                text,
                [
                    Shown("web bulletin.title", i, tag(i, "wbtitle")),
                    Shown("web bulletin.body", i, tag(i, "wbbody")),
                    Shown("web attachment.filename", i, names[0]),
                ],
            )

        # The watchlist matches of the web cases reach the page and the inbox.
        response = b.goto("/watchlist")
        text = b.check("watchlist", "/watchlist (matches)", response)
        b.count(
            "watchlist", "/watchlist (matches)", text, [Shown("web watchlist match", i, tag(i, "wpname")) for i in WEB]
        )
        response = b.goto("/inbox")
        text = b.check("inbox", "/inbox (web)", response)
        b.count("inbox", "/inbox (web)", text, [Shown("web watchlist match", i, repr(tag(i, "wpname"))) for i in WEB])
    finally:
        b.close()
    # The audit log shows event details as JSON (htmlsafe: < > & ' as \u escapes), e.g. the case_ref.
    from jinja2.utils import htmlsafe_json_dumps

    admin = Browsing(browser, xss_world.base, "admin", tally)
    try:
        response = admin.goto("/admin/audit?action=case.create")
        text = admin.check("admin audit", "/admin/audit", response)
        admin.count(
            "admin audit",
            "/admin/audit",
            text,
            [Shown("web case_ref (audit detail)", i, str(htmlsafe_json_dumps(tag(i, "wref")))[1:-1]) for i in WEB],
        )
    finally:
        admin.close()
    _report(tally, "stored XSS (web forms)")


# --- the checks themselves ----------------------------------------------------------------------------------

# Payloads that are plain text even when not escaped (no markup, or markup that runs nothing; the templates
# quote every attribute with ", so a ' breakout is inert too): the self-test does not expect them flagged.
INERT = ("javascript:", "{{", "${", "\uff1c", "<scr\u200bipt>", "&lt;", "%3C", "[x]", "\u202e", "' autofocus")


def test_the_checks_catch_an_unescaped_page(browser: Any, xss_world: XssWorld) -> None:
    """Mutation test of the detector: the case page and its edit form served un-escaped and without CSP (as a
    template with `|safe` would be) must be flagged for every payload that is markup."""
    import html

    def unescaped(route: Any) -> None:
        response = route.fetch()
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-security-policy"}
        route.fulfill(status=response.status, headers=headers, body=html.unescape(response.text()))

    b = Browsing(browser, xss_world.base, "th_reporter", Tally())
    b.page.route(re.compile(r".*/cases/\d+(/edit)?$"), unescaped)
    caught, fired = [], Counter[str]()
    try:
        for i in range(len(PAYLOADS)):
            b.tally = Tally()
            for url in (f"/cases/{xss_world.ids[f'a{i}']}", f"/cases/{xss_world.ids[f'a{i}']}/edit"):
                b.check("self-test", url, b.goto(url))
            if b.tally.executions:
                caught.append(i)
                text = " ".join(b.tally.executions)
                fired.update(k for k in ("dialogs=['alert", "__xss=1", "injected=['") if k in text)
    finally:
        b.close()
    dangerous = [i for i, p in enumerate(PAYLOADS) if not p.startswith(INERT)]
    print(
        f"figure: S12 detector self-test: {len([i for i in dangerous if i in caught])} of {len(dangerous)} markup "
        f"payloads caught on an un-escaped page without CSP ({len(PAYLOADS) - len(dangerous)} inert as text); "
        f"signals: {dict(fired)}"
    )
    assert set(dangerous) <= set(caught), f"not caught: {[PAYLOADS[i] for i in set(dangerous) - set(caught)]}"
    assert fired["dialogs=['alert"] and fired["__xss=1"], f"dialog and marker detection never fired: {fired}"
