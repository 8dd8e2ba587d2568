"""Reading a list to screen: headers by synonyms in several languages, every row accounted for, bad files refused."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from dragonnet.linkage.screening import columns
from dragonnet.linkage.screening.reader import parse_birth_date, read_list
from dragonnet.tabular import ImportRejected

TODAY = dt.date(2026, 1, 1)


def _csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def _xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_columns_file_loads_and_reuses_the_exchange_format_words() -> None:
    names = columns.column_names()
    assert {"name", "family_name", "given_name", "birth_date", "id_number", "address", "postcode"} <= set(names)
    # "họ tên" comes from the exchange format's parties sheet, "passenger name" from the screening file
    assert columns.match_header("Họ tên")[0] == "name"
    assert columns.match_header("Passenger Name")[0] == "name"
    assert columns.match_header("护照号码")[0] == "id_number"
    assert columns.match_header("Adress") == ("address", "fuzzy", pytest.approx(0.923, abs=1e-3))
    assert columns.match_header("Seat")[0] is None


def test_manifest_in_vietnamese_headers_with_a_per_row_report() -> None:
    data = _csv(
        "Họ và tên,Ngày sinh,Quốc tịch,Số hộ chiếu,Email,Điện thoại\n"
        "Nguyễn Văn Thắng,02/11/1986,Việt Nam,C4185230,,\n"
        ",1980-01-01,VN,,,\n"  # no name
        "Le Van Bad,31/02/1980,VN,,,\n"  # impossible date
        "Tran Thi B,1990-01-01,Atlantis,,,\n"  # unknown country
        "Pham C,1990-01-01,VN,,not-an-email,\n"  # e-mail
        "Future Child,2030-01-01,VN,,,\n"  # after today
        "Hoang D,25/12/1970,VN,,,12\n"  # phone unreadable: screened, noted
        "\n"  # blank line: not a row
    )
    report = read_list(data, "manifest.csv", today=TODAY)
    assert report.rows_read == 7
    assert [r.row for r in report.rows] == [2, 8]
    assert report.quarantined_rows == 5
    reasons = {(e.row, e.column) for e in report.quarantined}
    assert reasons == {(3, "name"), (4, "birth_date"), (5, "nationality"), (6, "email"), (7, "birth_date")}
    notes = {(e.row, e.column) for e in report.notes}
    assert notes == {(2, "birth_date"), (8, "phone")}  # 02/11 could be 11 February: said, not hidden
    first = report.rows[0].party
    assert (first.birth_date, first.nationality, first.id_number) == (dt.date(1986, 11, 2), "VN", "C4185230")
    assert report.rows[1].party.birth_date == dt.date(1970, 12, 25)  # unambiguous: no note


def test_split_names_chinese_headers_and_gb18030() -> None:
    header = "姓,名,出生日期,国籍,地址,邮编\n"
    data = _csv(header + "陈,伟强,1975-06-18,中国,云南省昆明市盘龙区北京路88号,650000\n", "gb18030")
    report = read_list(data, "list.csv", today=TODAY)
    assert report.encoding == "gb18030"
    [row] = report.rows
    assert row.name == "陈 伟强" and row.party.nationality == "CN"
    assert row.party.address and row.party.postcode == "650000"


def test_companies_from_xlsx_with_kind_column() -> None:
    data = _xlsx([
        ["Consignee list, week 12"],  # a title row above the header
        ["Company name", "Registration No.", "Registered address", "Entity type"],
        ["Hoang Phat Trading Co., Ltd", "0201234567", "Khu công nghiệp Đình Vũ, Hải Phòng", "company"],
        ["Somchai Wongsawat", None, None, "individual"],
        ["Acme", None, None, "robot"],
    ])  # fmt: skip
    report = read_list(data, "consignees.xlsx", kind="company", today=TODAY)
    assert report.file_format == "xlsx"
    assert [(r.row, r.party.kind) for r in report.rows] == [(3, "company"), (4, "person")]
    assert [(e.row, e.column) for e in report.quarantined] == [(5, "kind")]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "a.csv", "empty"),
        (b"just some words\nand more\n", "a.csv", "no header row"),
        (b"Seat,Gate\n1A,3\n", "a.csv", "no header row"),
        (b"Nationality,DOB\nVN,1980-01-01\n", "a.csv", "no name column"),
        (b"name\n", "a.csv", "no rows"),
        (b"not a zip", "a.xlsx", "not an XLSX"),
        (b"\xd0\xcf\x11\xe0rest", "a.xls", ".xls"),
        (b"PK\x03\x04broken", "a.xlsx", "XLSX"),
        (b"name\nA\x00B\n", "a.csv", "NUL"),
    ],
)
def test_unreadable_files_are_refused_with_one_message(data: bytes, name: str, message: str) -> None:
    with pytest.raises(ImportRejected, match=message):
        read_list(data, name, today=TODAY)


def test_two_headers_for_one_column_are_refused() -> None:
    with pytest.raises(ImportRejected, match="both name"):
        read_list(b"full name,passenger name\nA,B\n", "a.csv", today=TODAY)


@pytest.mark.parametrize(
    ("text", "expected", "ambiguous"),
    [
        ("1986-11-02", dt.date(1986, 11, 2), False),
        ("19861102", dt.date(1986, 11, 2), False),
        ("02.11.1986", dt.date(1986, 11, 2), True),
        ("25/12/1970", dt.date(1970, 12, 25), False),
        ("12/25/1970", dt.date(1970, 12, 25), False),
        ("1986-11-02 00:00:00", dt.date(1986, 11, 2), False),
    ],
)
def test_birth_dates(text: str, expected: dt.date, ambiguous: bool) -> None:
    assert parse_birth_date(text) == (expected, None, ambiguous)


def test_a_year_alone_is_noted_not_guessed() -> None:
    report = read_list(b"name,dob\nA B,1980\n", "a.csv", today=TODAY)
    assert report.rows[0].party.birth_date is None
    assert "year alone" in report.notes[0].reason
