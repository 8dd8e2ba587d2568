"""Render a debrief as JSON, HTML, PDF (WeasyPrint) or XLSX (openpyxl).

The HTML report is one self-contained file (styles inline, charts as data: URIs); the PDF is that HTML
printed by WeasyPrint with a URL fetcher that refuses everything but data: URIs, so nothing is fetched.
Templates live beside the web pages (`web/templates/report_*.html`) but are rendered by this module's own
Jinja2 environment (autoescaped), so the CLI needs no web application.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from dragonnet import __version__, i18n
from dragonnet.i18n import N_
from dragonnet.reporting.charts import Chart, debrief_charts
from dragonnet.reporting.concealment import LABELS as CONCEALMENT_LABELS
from dragonnet.reporting.figures import Breakdown, Column, Debrief, UnresolvedName
from dragonnet.tabular import neutralise

NOT_STATED = N_("(not stated)")
TEXT_KINDS = ("text", "subject", "code", "country", "concealment")  # left-aligned, "(not stated)" when empty
PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PACKAGE / "web" / "templates"
REPORT_CSS = PACKAGE / "web" / "static" / "report.css"


class Format(StrEnum):
    JSON = "json"
    HTML = "html"
    PDF = "pdf"
    XLSX = "xlsx"


MEDIA_TYPES: dict[Format, str] = {
    Format.JSON: "application/json",
    Format.HTML: "text/html; charset=utf-8",
    Format.PDF: "application/pdf",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def parse_format(text: str) -> Format:
    from dragonnet.errors import ValidationError

    try:
        return Format(text.lower())
    except ValueError:
        raise ValidationError(f"unknown format {text!r}; use {', '.join(f.value for f in Format)}") from None


def country_label(alpha2: str | None) -> str:
    from dragonnet.reference import countries

    if not alpha2:
        return i18n.translate(NOT_STATED)
    try:
        # The name in the locale the report is rendered in (CLDR), the ISO code beside it.
        return f"{i18n.country_name(alpha2, fallback=countries.get(alpha2).name)} ({alpha2})"
    except Exception:
        return alpha2


def subject_label(name: str) -> str:
    """A substance's or taxon's reference name, with its name in the report's language before it where the
    reference data has one ("海洛因 (heroin)", "穿山甲 (Manis)", "Pangolin javanais (Manis javanica)")."""
    from dragonnet.reference import cites, substances

    locale = i18n.current_locale()
    if substances.get(name) is not None:
        local = substances.local_name(name, locale)
    else:
        local = cites.common_name(name, locale)
    return f"{local} ({name})" if local and local != name else name


def cell_text(value: Any, column: Column, suppressed: bool = False) -> str:
    """A figure as shown in tables: '<5' for a suppressed count, '–' for a withheld or undefined value.

    A count is never undefined: None is a small count withheld, in the public summary (`suppressed`) or in a
    table another capability protects (the alert turnaround)."""
    if value is None:
        if column.kind == "count":
            from dragonnet.operation.service import SMALL_CELL

            return f"<{SMALL_CELL}"
        if column.kind in TEXT_KINDS:
            return i18n.translate(NOT_STATED)
        return "–"
    if column.kind == "country":
        return country_label(value)
    if isinstance(value, UnresolvedName):
        return i18n.gettext("(unresolved) %(text)s", text=value.written)
    if column.kind == "subject":
        return subject_label(str(value))
    if column.kind == "code":  # a vocabulary value: its label (a msgid of the vocabularies), translated
        return i18n.translate(str(value).replace("_", " ").capitalize())
    if column.kind == "concealment":
        return i18n.translate(CONCEALMENT_LABELS.get(str(value), str(value)))
    if column.kind == "pct":
        return signed_percent(value)
    # Numbers in the locale the report is rendered in (dragonnet.i18n.use_locale; English outside one).
    if column.kind == "change":
        return ("+" if value >= 0 else "-") + i18n.format_number(abs(value))
    if column.kind == "amount":
        return i18n.format_number(value, 1)
    if column.kind == "count" or isinstance(value, int):
        return i18n.format_number(value)
    return str(value)


def signed_percent(value: float) -> str:
    """A change in percent with its sign, in the locale's form ("+111%"; French "+111 %")."""
    return ("+" if value >= 0 else "-") + i18n.format_percent(abs(value) / 100)


def number_text(value: int | None, suppressed: bool) -> str:
    if value is None:
        from dragonnet.operation.service import SMALL_CELL

        return f"<{SMALL_CELL}" if suppressed else "–"
    return i18n.format_number(value)


def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    i18n.install(env)
    return env


def template_context(d: Debrief, charts: list[Chart]) -> dict[str, Any]:
    """What report_* templates need (also used by the dashboard page)."""
    cell: Callable[[Any, Column], str] = lambda v, c: cell_text(v, c, d.suppressed)  # noqa: E731
    return {
        "d": d,
        "charts": charts,
        "cell": cell,
        "num": lambda v: number_text(v, d.suppressed),
        "pct": lambda v: "–" if v is None else signed_percent(v),
        "version": __version__,
    }


def to_json(d: Debrief) -> bytes:
    return json.dumps(d.as_dict(), ensure_ascii=False, indent=2, default=str).encode("utf-8")


def to_html(d: Debrief, charts: list[Chart] | None = None) -> str:
    charts = debrief_charts(d) if charts is None else charts
    ctx = template_context(d, charts)
    ctx["css"] = REPORT_CSS.read_text(encoding="utf-8")
    return _env().get_template("report_debrief.html").render(ctx)


def to_pdf(d: Debrief, charts: list[Chart] | None = None) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # data: URIs only (the charts): the report never fetches anything, whatever its text holds.
    fetcher = URLFetcher(allowed_protocols=["data"], fail_on_errors=True)
    pdf: bytes = HTML(string=to_html(d, charts), url_fetcher=fetcher).write_pdf()
    return pdf


def _sheet_title(b: Breakdown, used: set[str]) -> str:
    title = b.key.replace("by_", "")[:31]
    n = 2
    while title in used:
        title = f"{b.key[:28]}_{n}"
        n += 1
    used.add(title)
    return title


def to_xlsx(d: Debrief) -> bytes:
    """One sheet per breakdown plus a "rule" sheet. Text cells are neutralised against formula injection."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    rule = wb.create_sheet("rule")
    _ = i18n.gettext  # the labels of the rule sheet, in the locale the debrief is rendered in
    rule.append([_("field"), _("value")])
    meta: list[tuple[str, Any]] = [
        (_("operation"), d.operation_slug),
        (_("phase"), d.phase.number),
        (_("previous phase"), d.previous_phase.number if d.previous_phase else None),
        (_("counting rule"), d.rule["key"]),
        (_("rule text"), d.rule_text_translated),
        (_("statuses counted"), ", ".join(d.rule["counted_statuses"])),
        (_("duplicates"), d.rule["duplicates"]),
        (_("date basis"), d.rule["date_basis"]),
        (_("scope"), d.scope_kind),
        (_("scope label"), i18n.translate(d.scope_label)),
        (_("generated by"), d.generated_by),
        (_("generated at"), d.generated_at.isoformat()),
        (_("filters"), json.dumps(d.filters)),
        (_("small cells suppressed"), _("below %(n)s", n=d.small_cell) if d.suppressed else _("no")),
        (_("counts perturbed"), _("yes (cell-key method)") if d.perturbed else _("no")),
        (_("cases"), d.headline.cases),
        (_("cases, previous phase"), d.headline.previous_cases),
        (_("change"), d.headline.change_abs),
        (_("change %"), d.headline.change_pct),
        *((_("note"), i18n.translate(n)) for n in d.notes),
    ]
    for k, v in meta:
        rule.append([neutralise(k), neutralise(v)])
    used = {"rule"}
    for b in d.breakdowns:
        ws = wb.create_sheet(_sheet_title(b, used))
        title, note = i18n.translate(b.title), i18n.translate(b.note)
        ws.append([neutralise(f"{title} — {d.rule_text_translated}" + (f"; {note}" if note else ""))])
        ws.append([neutralise(i18n.translate(c.label)) for c in b.columns])
        for row in b.rows:
            ws.append([neutralise(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render(d: Debrief, fmt: Format, locale: str | None = None) -> bytes:
    """The debrief in `fmt`; HTML, PDF and XLSX in `locale` (titles, labels, numbers and dates; None: English).
    JSON is data: its keys and labels stay English whatever the locale."""
    if fmt is Format.JSON:
        return to_json(d)
    with i18n.use_locale(locale or i18n.DEFAULT_LOCALE):
        if fmt is Format.HTML:
            return to_html(d).encode("utf-8")
        if fmt is Format.PDF:
            return to_pdf(d)
        return to_xlsx(d)


def filename(d: Debrief, fmt: Format) -> str:
    from dragonnet.reporting.exports import safe_filename

    kind = "public-summary" if d.suppressed else "debrief"
    return safe_filename(f"{d.operation_slug}-phase-{d.phase.number}-{kind}.{fmt.value}")
