"""The exchange-format templates in every shipped language (issue 17): headers from the format file's synonyms,
notes and sheets from the catalogues, and the importer reads each one back unchanged (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet import i18n
from dragonnet.domain.exchange import FORMAT, SHEETS, header_language, key
from dragonnet.errors import ValidationError
from dragonnet.intake import templates
from dragonnet.intake.headers import ITEM_COLUMNS, PARTY_COLUMNS
from dragonnet.intake.importer import ImportReport, import_cases
from dragonnet.storage.models import Case, Operation, Party, Phase

from .helpers import VN_ACTOR

# Locales whose headers the format file names for every column; Khmer and Lao keep the English names.
TRANSLATED_HEADERS = ("zh_Hans", "vi", "th", "fr")


def _load(session: Session, content: bytes, name: str) -> ImportReport:
    report = import_cases(session, operation_slug="mekong-dragon", agency_code="VN-CUS", actor=VN_ACTOR,
                          data=content, filename=name, today=dt.date(2024, 6, 1))  # fmt: skip
    session.commit()
    return report


def _written_over(xlsx: bytes, case_ref: str) -> bytes:
    """The XLSX template with its example case renamed on both sheets: what an officer fills in."""
    wb = load_workbook(io.BytesIO(xlsx))
    wb["items"]["A2"] = wb["parties"]["A2"] = case_ref
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_a_template_in_each_language_imports_back_unchanged(
    session: Session, operation: Operation, locale: str
) -> None:
    session.add(Phase(operation_id=operation.id, number=6, name="Phase VI", start_date=dt.date(2024, 1, 1),
                      end_date=dt.date(2024, 12, 31)))  # fmt: skip
    session.commit()
    xlsx = templates.xlsx_template(locale)

    as_downloaded = _load(session, xlsx, "t.xlsx")  # the translated example label is still the example
    assert (as_downloaded.rows_total, as_downloaded.cases_created, as_downloaded.errors) == (0, 0, [])

    ref = f"T-{locale}"
    filled = _load(session, _written_over(xlsx, ref), "t.xlsx")
    assert filled.ok and filled.cases_created == 1 and filled.parties_imported == 1, filled.errors
    assert filled.mapping == dict(zip(templates.headers("items", locale), ITEM_COLUMNS, strict=True))
    assert filled.parties_mapping == dict(zip(templates.headers("parties", locale), PARTY_COLUMNS, strict=True))
    case = session.execute(select(Case).where(Case.case_ref == ref)).scalar_one()
    assert case.items[0].taxon_text == "pangolin scales" and case.transit_countries == ["SG", "MY"]
    party = session.execute(select(Party).where(Party.case_id == case.id)).scalar_one()
    assert party.name == "Example Trading Co., Ltd"

    csv = _load(session, templates.csv_template(locale).replace(b"EXAMPLE-0001", f"C-{locale}".encode()), "t.csv")
    assert csv.ok and csv.cases_created == 1 and set(csv.mapping.values()) == set(ITEM_COLUMNS), csv.errors


@pytest.mark.parametrize("locale", TRANSLATED_HEADERS)
def test_every_header_is_translated_where_the_format_names_it(locale: str) -> None:
    language = header_language(locale)
    for sheet in SHEETS:
        for column, written in zip(FORMAT.columns[sheet], templates.headers(sheet, locale), strict=True):
            assert written in column.headers[language], (sheet, column.name, written)  # a word of that language


def test_the_chinese_workbook() -> None:
    wb = load_workbook(io.BytesIO(templates.xlsx_template("zh")))  # "zh" is Simplified Chinese
    assert wb.sheetnames == ["items", "parties", "允许的值", "列说明"]  # items/parties: the format's sheet names
    items = wb["items"]
    assert [c.value for c in items[1]][:4] == ["案件编号", "报告机构", "查获日期", "地点代码"]
    assert items["A1"].comment.text.endswith("交换格式列：case_ref。")
    assert "允许的值：drug, precursor" in items["M1"].comment.text  # values stay the format's own
    assert items["Y2"].value.startswith("示例行")  # the example row's label
    validated = {str(dv.sqref).split(":")[0]: dv for dv in items.data_validations.dataValidation}
    assert validated["M2"].formula1.startswith("='允许的值'!") and validated["M2"].prompt.startswith("以下之一")
    columns = wb["列说明"]
    assert [c.value for c in columns[1]] == ["工作表", "列标题", "交换格式列", "必填", "内容", "示例"]
    assert [c.value for c in columns[2]][:4] == ["items", "案件编号", "case_ref", "是"]


def test_khmer_keeps_the_english_headers_and_says_why() -> None:
    wb = load_workbook(io.BytesIO(templates.xlsx_template("km")))
    items = wb["items"]
    assert [c.value for c in items[1]] == list(ITEM_COLUMNS)
    assert "(case_ref)" in items["A1"].comment.text and "ក្បាលជួរឈរនេះនៅតែជាភាសាអង់គ្លេស" in items["A1"].comment.text


def test_english_is_the_default_and_an_unknown_language_is_refused() -> None:
    assert templates.csv_template() == templates.csv_template("en")
    assert templates.csv_template().startswith(b"case_ref,reporting_agency,")
    with pytest.raises(ValidationError, match="unknown language 'xx'"):
        templates.csv_template("xx")


def test_thai_headers_keep_their_vowel_and_tone_marks() -> None:
    """Thai marks are part of the word: two headers differing by a mark stay two keys (Latin accents fold)."""
    assert key("วันที่ตรวจยึด") == "วันที่ตรวจยึด"
    assert key("ใหม่") != key("ใหม")
    assert key(" Ngày bắt giữ ") == "ngay bat giu" and key("Case_Ref") == "case ref"
