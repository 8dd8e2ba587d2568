"""The debrief on the demo operation reproduces the published figures, each under its counting rule."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging

import pypdfium2 as pdfium
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from demo.conftest import DemoDB
from dragonnet.cli.report import report_app
from dragonnet.policy.access import Actor
from dragonnet.reporting import render, rules, service
from dragonnet.reporting.extract import ScopeKind, extract, scope_for
from dragonnet.storage import arrow
from dragonnet.storage.models import AuditEvent, Case, Operation, User

SLUG = "mekong-dragon"


def _url(demo_db: DemoDB) -> str:
    return demo_db.engine.url.render_as_string(hide_password=False)


def test_phase_v_headline_rule(demo: Session) -> None:
    d = service.debrief(demo, SLUG, 5, actor=None)
    assert d.rule["key"] == "operation" and d.rule["counted_statuses"] == ["validated"]
    assert (d.headline.cases, d.headline.previous_cases, d.headline.change_abs) == (1715, 813, 902)
    assert d.headline.change_pct == 110.9
    assert render.cell_text(d.headline.change_pct, d.breakdown("by_phase").columns[4]) == "+111%"
    by_country = d.breakdown("by_country")
    assert by_country.lookup("key", "VN", "cases") == 123
    assert by_country.lookup("key", "VN", "previous_cases") == 61
    assert sum(by_country.values("cases")) == 1715
    phases = d.breakdown("by_phase")
    assert phases.values("cases") == [192, 384, 547, 813, 1715]


def test_phase_iv_wco_reported_rule(demo: Session) -> None:
    d = service.debrief(demo, SLUG, 4, actor=None, rule=rules.WCO_REPORTED)
    assert d.headline.cases == 1362
    classes = d.breakdown("by_commodity_class")
    cases = dict(zip(classes.values("commodity_class"), classes.values("cases"), strict=True))
    assert cases["drug"] == 1267 and cases["precursor"] == 17
    assert cases["wildlife"] + cases["timber"] == 78


def test_rule_text_and_custom_rules() -> None:
    assert rules.custom("validated", "once", "seizure_date") is rules.OPERATION
    assert rules.custom("submitted", "every_report", "seizure_date") is rules.WCO_REPORTED
    report_rule = rules.custom("validated", "once", "report_date")
    assert report_rule.key == "custom" and "report date" in report_rule.text
    assert rules.custom("submitted", "once", "seizure_date").counted_statuses == ("submitted", "validated")


def test_report_date_rule_moves_cases(demo: Session) -> None:
    by_seizure = service.debrief(demo, SLUG, 5, actor=None)
    by_report = service.debrief(demo, SLUG, 5, actor=None, rule=rules.custom("validated", "once", "report_date"))
    # Reports arrive 1-10 days after the seizure: some seized at the end of the phase are reported after it.
    assert 0 < by_report.headline.cases is not None and by_report.headline.cases < by_seizure.headline.cases  # type: ignore[operator]


def test_breakdowns_all_present_with_rule(demo: Session) -> None:
    d = service.debrief(demo, SLUG, 5, actor=None)
    keys = {b.key for b in d.breakdowns}
    assert {"by_phase", "by_country", "by_agency", "by_commodity_class", "by_substance_taxon", "quantities",
            "by_transport_mode", "by_place_type", "by_detection_method", "by_concealment", "concealment_texts",
            "routes", "route_legs", "by_seizure_country"} <= keys  # fmt: skip
    data = d.as_dict()
    assert all(b["rule"] == d.rule_text for b in data["breakdowns"].values())
    taxa = d.breakdown("by_substance_taxon").as_dicts()
    assert any(r["cites_appendix"] for r in taxa if r["commodity_class"] == "wildlife")
    assert sum(r["cases"] for r in d.breakdown("by_concealment").as_dicts()) == 1715


def test_scopes_by_role(demo: Session) -> None:
    def actor(name: str) -> Actor:
        return Actor.for_user(demo.execute(select(User).where(User.username == name)).scalar_one())

    coord = service.debrief(demo, SLUG, 5, actor=actor("vn.coordinator"))
    assert coord.scope_kind == ScopeKind.COUNTRY
    assert {r["key"] for r in coord.breakdown("by_country").as_dicts()} == {"VN"}
    assert coord.headline.cases is not None and coord.headline.cases <= 123
    reporter = service.debrief(demo, SLUG, 5, actor=actor("vn.reporter"))
    assert reporter.scope_kind == ScopeKind.AGENCY
    assert {r["agency"] for r in reporter.breakdown("by_agency").as_dicts()} <= {"VN-CUS"}
    observer = service.debrief(demo, SLUG, 5, actor=actor("unodc.observer"))
    assert observer.suppressed and observer.headline.cases == 1715
    assert {b.key for b in observer.breakdowns} == {"by_phase", "by_country", "by_seizure_country",
                                                   "by_commodity_class", "by_transport_mode"}  # fmt: skip
    for b in observer.breakdowns:
        for row in b.as_dicts():
            for col in b.columns:
                if col.kind == "count" and row[col.key] is not None:
                    assert row[col.key] == 0 or row[col.key] >= 5


@pytest.mark.parametrize("who", ["unodc.observer", "vn.reporter", None])
def test_headline_only_is_the_same_headline(demo: Session, who: str | None) -> None:
    """The dashboard quotes the operation's public figure with `headline_only`: the very number the public
    summary shows, under every filter (its cell keys come from the headline's own subset runs)."""
    actor = None if who is None else Actor.for_user(demo.execute(select(User).where(User.username == who)).scalar_one())
    parse = service.Filters.parse
    filters_by_phase = [(5, service.Filters()), (4, parse("drug", None)), (5, parse(None, "VN")),
                        (5, parse("wildlife", "TH"))]  # fmt: skip
    for phase, filters in filters_by_phase:
        for scope in ("public", None):
            full = service.debrief(demo, SLUG, phase, actor=actor, scope=scope, filters=filters)
            alone = service.debrief(demo, SLUG, phase, actor=actor, scope=scope, filters=filters, headline_only=True)
            assert alone.headline == full.headline, (who, phase, filters, scope)
            assert alone.breakdowns == () and full.breakdowns


def test_cli_json_and_audit(demo_db: DemoDB) -> None:
    result = CliRunner().invoke(
        report_app,
        ["debrief", "--operation", SLUG, "--phase", "5", "--format", "json", "--database-url", _url(demo_db)],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["headline"]["cases"] == 1715 and data["headline"]["change_pct"] == 110.9
    assert data["rule"]["key"] == "operation" and "validated" in data["rule"]["text"]
    vn = [r for r in data["breakdowns"]["by_country"]["rows"] if r["key"] == "VN"]
    assert vn[0]["cases"] == 123
    with Session(demo_db.engine) as s:
        events = s.execute(select(AuditEvent).where(AuditEvent.action == "report.generate")).scalars().all()
        assert events and events[-1].detail["phase"] == 5 and events[-1].detail["format"] == "json"
    bad = CliRunner().invoke(report_app, ["debrief", "--operation", SLUG, "--phase", "9",
                                          "--database-url", _url(demo_db)])  # fmt: skip
    assert bad.exit_code == 1 and "no phase 9" in bad.output


def test_xlsx_one_sheet_per_breakdown(demo: Session) -> None:
    d = service.debrief(demo, SLUG, 5, actor=None)
    wb = load_workbook(io.BytesIO(render.to_xlsx(d)))
    assert wb.sheetnames[0] == "rule" and len(wb.sheetnames) == len(d.breakdowns) + 1
    rule = {r[0]: r[1] for r in wb["rule"].iter_rows(values_only=True)}
    assert rule["counting rule"] == "operation" and rule["cases"] == 1715
    rows = list(wb["country"].iter_rows(values_only=True))
    assert ("VN", 123) in [(r[0], r[1]) for r in rows[2:]]


def test_pdf_shows_the_figures(demo: Session, demo_db: DemoDB, tmp_path: object) -> None:
    if demo_db.backend != "sqlite":
        pytest.skip("the PDF is the same on both backends; rendered once")
    d = service.debrief(demo, SLUG, 5, actor=None)
    pdf = render.to_pdf(d)
    assert pdf.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "1,715" in text and "+111%" in text and "Viet Nam (VN)" in text
    assert "123" in text and "Counting rule" in text
    doc = pdfium.PdfDocument(pdf)
    image = doc[0].render(scale=1).to_pil().convert("L")
    width, height = image.size
    assert width > 500 and height > 700
    dark = sum(1 for px in image.getdata() if px < 128)
    assert dark > 0.01 * width * height  # text, charts and the map are drawn: not a blank page
    doc.close()


@pytest.mark.parametrize(("who", "rule"), [(None, rules.OPERATION), (None, rules.WCO_REPORTED),
                                           ("vn.coordinator", rules.OPERATION), ("vn.reporter", rules.OPERATION),
                                           ("rilo.analyst", rules.WCO_REPORTED)])  # fmt: skip
def test_arrow_extract_same_tables_and_figures_as_the_cursor_path(
    demo: Session,
    who: str | None,
    rule: rules.CountingRule,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ADBC (straight into Arrow: PostgreSQL's driver, SQLite's in a child process) and the driver's cursor (rows
    to Arrow) read the same tables, with the same types, so the debrief's figures are the same to the last cell."""
    monkeypatch.setattr(arrow, "SQLITE_CHILD_MIN_BYTES", 0)  # the demo is small: read it by the child all the same
    op = demo.execute(select(Operation).where(Operation.slug == SLUG)).scalar_one()
    user = demo.execute(select(User).where(User.username == who)).scalar_one() if who else None
    scope = scope_for(Actor.for_user(user) if user else None)
    with caplog.at_level(logging.INFO, logger="dragonnet.storage.arrow"):
        arrow_ext = extract(demo, op, rule, scope)
    fallbacks = [r.getMessage() for r in caplog.records if "driver's cursor" in r.getMessage()]
    assert not fallbacks, "ADBC did not run"
    cursor = extract(demo, op, rule, scope, adbc=False)
    assert arrow_ext.cases.num_rows > 0
    for name in ("cases", "items", "transits", "phases"):
        assert getattr(arrow_ext, name).schema == getattr(cursor, name).schema, name
        assert getattr(arrow_ext, name).equals(getattr(cursor, name)), name
    now = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    figures = [
        service.compute_figures(demo, op, 5, scope, rule, now=now, ext=ext).debrief for ext in (arrow_ext, cursor)
    ]
    assert figures[0].headline == figures[1].headline
    # DuckDB's parallel float sums may differ in the last bits from one run to the next, whichever the path.
    assert [_rounded(b.rows) for b in figures[0].breakdowns] == [_rounded(b.rows) for b in figures[1].breakdowns]


def _rounded(rows: tuple[tuple[object, ...], ...]) -> list[tuple[object, ...]]:
    return [tuple(round(v, 6) if isinstance(v, float) else v for v in row) for row in rows]


def test_arrow_extract_sees_the_sessions_uncommitted_writes(
    demo: Session, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second connection (or SQLite's child process) cannot see what the session has not committed: the
    extract then reads on the session's own cursor, and says so."""
    monkeypatch.setattr(arrow, "SQLITE_CHILD_MIN_BYTES", 0)
    op = demo.execute(select(Operation).where(Operation.slug == SLUG)).scalar_one()
    phase5 = next(p.id for p in op.phases if p.number == 5)
    one = demo.execute(select(Case.id).where(Case.phase_id == phase5, Case.status == "validated").limit(1)).scalar()
    demo.execute(update(Case).where(Case.id == one).values(status="draft"))
    with caplog.at_level(logging.INFO, logger="dragonnet.storage.arrow"):
        d = service.compute_debrief(demo, op, 5, scope_for(None), rules.OPERATION)
    assert d.headline.cases == 1714
    assert any("uncommitted writes" in r.getMessage() for r in caplog.records)
    demo.rollback()
    assert service.compute_debrief(demo, op, 5, scope_for(None), rules.OPERATION).headline.cases == 1715
