"""The roster: an operation's agencies, contact points and users in one file (CSV or XLSX), imported at once.

One row per person, like the case exchange format: the agency's (and contact point's) columns repeat on
each of its people's rows; a row without `username` only declares an agency or a contact point.

| column | meaning |
|---|---|
| agency_code | required: the agency's code, e.g. VN-CUS |
| agency_name, agency_kind, agency_country | needed to create an agency; given for an existing one: update it |
| operation_role | with `--operation`: lead, member, partner or observer (default member) |
| contact_point_code, contact_point_name, contact_point_kind, contact_point_locode | a contact point of the agency |
| username, display_name, email, roles | a user of the agency (and of its contact point); roles separated by `;` |

Rules: every change goes through the administration services (dragonnet.policy.admin, operation.manage) with
the importing actor, so the same rights and the same audit entries apply as one by one. The import is
idempotent: a row that matches the database changes nothing; a differing name, kind, country, e-mail or role
list updates it. Any problem in any row and nothing is written; the report lists every problem with its row,
column, value and reason (as the case import does). New users get a random first password, returned once.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dragonnet.domain.vocabulary import AgencyKind, ContactPointKind, ParticipationRole, Role
from dragonnet.errors import DragonnetError
from dragonnet.operation import manage
from dragonnet.policy import admin, audit
from dragonnet.policy.access import Actor, Hidden, PermissionDenied, audit_actor
from dragonnet.policy.users import UNKNOWN_ROLES
from dragonnet.progress import Progress, no_progress
from dragonnet.reference import countries
from dragonnet.storage.models import Agency, ContactPoint, User
from dragonnet.tabular import MAX_BYTES, ImportRejected, RowError, cell_text, check_zip, decode

AGENCY_COLUMNS = ("agency_code", "agency_name", "agency_kind", "agency_country", "operation_role")
CONTACT_POINT_COLUMNS = ("contact_point_code", "contact_point_name", "contact_point_kind", "contact_point_locode")
USER_COLUMNS = ("username", "display_name", "email", "roles")
COLUMNS = (*AGENCY_COLUMNS, *CONTACT_POINT_COLUMNS, *USER_COLUMNS)
MAX_ROWS = 10_000
HEADER_SCAN_ROWS = 10
SHEET = "roster"
ENUMS: dict[str, list[str]] = {
    "agency_kind": AgencyKind.values(),
    "operation_role": ["lead", "member", "partner", "observer"],
    "contact_point_kind": ContactPointKind.values(),
}


@dataclass
class RosterReport:
    filename: str
    dry_run: bool
    operation: str | None = None
    written: bool = False
    rows_total: int = 0
    rows_rejected: int = 0
    agencies_created: int = 0
    agencies_updated: int = 0
    contact_points_created: int = 0
    contact_points_updated: int = 0
    participants_joined: int = 0
    participants_changed: int = 0
    users_created: int = 0
    users_updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    # (username, agency, first password) of each new user: shown once, never stored in clear.
    new_passwords: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        keys = ("agencies_created", "agencies_updated", "contact_points_created", "contact_points_updated",
                "participants_joined", "participants_changed", "users_created", "users_updated")  # fmt: skip
        return {k: getattr(self, k) for k in keys}

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["errors"] = [e.to_dict() for e in self.errors]
        out.pop("new_passwords")
        out["new_users"] = [u for u, _a, _p in self.new_passwords]
        out["ok"] = self.ok
        return out

    def text(self) -> str:
        verb = "would change" if self.dry_run else "changed"
        done = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in self.counts().items() if n) or "nothing (up to date)"
        return f"{self.filename}: {self.rows_total} row(s); {verb}: {done}"


# --- reading -----------------------------------------------------------------------------------------------------


def _rows_of(table: list[list[Any]], name: str) -> list[tuple[int, dict[str, str]]]:
    """(source row number, {column: text}) of the data rows under the header row."""
    header_index = next(
        (i for i, r in enumerate(table[:HEADER_SCAN_ROWS])
         if sum(1 for c in r if (cell_text(c) or "").strip().lower() in COLUMNS) >= 2),
        None,
    )  # fmt: skip
    if header_index is None:
        raise ImportRejected(f"{name}: no header row found (a row naming roster columns: {', '.join(COLUMNS)})")
    headers = [(cell_text(c) or "").strip().lower() for c in table[header_index]]
    unknown = [h for h in headers if h and h not in COLUMNS]
    if unknown:
        raise ImportRejected(f"{name}: unknown column(s) {', '.join(unknown)}; the roster's columns are "
                             f"{', '.join(COLUMNS)}")  # fmt: skip
    if "agency_code" not in headers:
        raise ImportRejected(f"{name}: the column agency_code is required")
    rows = []
    for n, raw in enumerate(table[header_index + 1 :], start=header_index + 2):
        values = {h: (cell_text(raw[i]) or "").strip() for i, h in enumerate(headers) if h and i < len(raw)}
        if any(values.values()):
            rows.append((n, values))
    if len(rows) > MAX_ROWS:
        raise ImportRejected(f"{name}: more than {MAX_ROWS} rows")
    return rows


def read_roster(data: bytes, filename: str) -> list[tuple[int, dict[str, str]]]:
    """The rows of a roster file (CSV or XLSX; the extension decides, the content must agree)."""
    name = PurePath(filename).name or "roster"
    if not data:
        raise ImportRejected(f"{name}: the file is empty")
    if len(data) > MAX_BYTES:
        raise ImportRejected(f"{name}: file is {len(data) / 1e6:.1f} MB, over the {MAX_BYTES / 1e6:.0f} MB limit")
    ext = PurePath(name).suffix.lower()
    if ext == ".xlsx":
        check_zip(data, name)
        from python_calamine import CalamineWorkbook

        try:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
            sheets = list(workbook.sheet_names)
            chosen = next((s for s in sheets if s.strip().lower() == SHEET), sheets[0])
            table = workbook.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
        except Exception as exc:  # calamine's own hierarchy for damaged files: all mean "unreadable"
            raise ImportRejected(f"{name}: unreadable workbook ({type(exc).__name__})") from None
        return _rows_of(table, name)
    if ext == ".csv":
        if data.startswith(b"PK\x03\x04"):
            raise ImportRejected(f"{name}: this is a zip/XLSX file, not a CSV; save it as .xlsx")
        text, _encoding = decode(data, name, _known_columns)
        text = text.removeprefix("\ufeff")
        sample = text[:4096]
        delimiter = max((",", ";", "\t"), key=sample.count)
        return _rows_of(list(csv.reader(io.StringIO(text), delimiter=delimiter)), name)
    raise ImportRejected(f"{name}: unsupported file type {ext or '(no extension)'!r}; use .csv or .xlsx")


def _known_columns(row: list[str]) -> int:
    """How many cells of a row name roster columns (picks the encoding whose header reads right)."""
    return sum(1 for cell in row if cell.strip().lower() in COLUMNS)


# --- importing ---------------------------------------------------------------------------------------------------


class _RowProblem(Exception):
    def __init__(self, column: str, value: str | None, reason: str, suggestion: str | None = None,
                 denial: audit.AuditNote | None = None) -> None:  # fmt: skip
        super().__init__(reason)
        self.error = (column, value, reason, suggestion)
        self.denial = denial


def _reason(exc: DragonnetError, what: str) -> str:
    if isinstance(exc, (Hidden, PermissionDenied)):
        return f"not allowed for you: {what}"
    return exc.message


def _step(column: str, value: str | None, what: str, call: Callable[[], Any]) -> Any:
    """Run one service call for a row; its refusal becomes that row's problem in `column`."""
    try:
        return call()
    except DragonnetError as exc:
        note = getattr(exc, "denial", None)
        raise _RowProblem(
            column,
            value,
            _reason(exc, what),
            ", ".join(exc.suggestions) or None,
            note if isinstance(note, audit.AuditNote) else None,
        ) from None


def _first_password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters from 64 symbols: 96 bits


class _Importer:
    def __init__(self, session: Session, actor: Actor, report: RosterReport, operation: str | None) -> None:
        self.session, self.actor, self.report, self.operation = session, actor, report, operation
        self.declared: dict[str, tuple[str, str, str | None]] = {}  # agency code -> (name, kind, country) in file

    def row(self, values: dict[str, str]) -> None:
        agency = self.agency(values)
        cp = self.contact_point(values, agency)
        if self.operation:
            self.participation(values, agency)
        if values.get("username"):
            self.user(values, agency, cp)

    def agency(self, v: dict[str, str]) -> Agency:
        code = v.get("agency_code", "").upper()
        if not code:
            raise _RowProblem("agency_code", None, "every row names its agency (agency_code)")
        name, kind, country = v.get("agency_name", ""), v.get("agency_kind", ""), v.get("agency_country", "")
        fields = None
        if name or kind or country:
            if kind:
                kind = _step("agency_kind", kind, "", lambda: AgencyKind.parse(kind, "agency kind"))
            if country:
                country = _step("agency_country", country, "", lambda: countries.resolve(country).alpha2)
            fields = (name, kind, country or None)
            seen = self.declared.setdefault(code, fields)
            if seen != fields:
                raise _RowProblem("agency_name", name, f"agency {code} is described differently in an earlier row")
        found = self.session.execute(select(Agency).where(func.upper(Agency.code) == code)).scalar_one_or_none()
        if found is None:
            if fields is None or not name or not kind:
                raise _RowProblem("agency_code", code, f"unknown agency {code}: give agency_name, agency_kind and "
                                  "agency_country to create it")  # fmt: skip
            created = _step(
                "agency_code",
                code,
                "only a site administrator creates agencies",
                lambda: admin.create_agency(
                    self.session, self.actor, code=code, name=name, kind=kind, country=country or None
                ),
            )
            self.report.agencies_created += 1
            return created
        if (
            fields is not None
            and name
            and kind
            and (found.name, found.kind, found.country) != (name, kind, country or None)
        ):
            _step("agency_name", name, "only a site administrator changes agencies", lambda: admin.update_agency(
                self.session, self.actor, found.id, name=name, kind=kind, country=country or None))  # fmt: skip
            self.report.agencies_updated += 1
        elif fields is not None and (not name or not kind):
            raise _RowProblem("agency_name", name or None, "to change an agency give its name, kind and country")
        return found

    def contact_point(self, v: dict[str, str], agency: Agency) -> ContactPoint | None:
        code = v.get("contact_point_code", "").upper()
        name, kind, locode = v.get("contact_point_name", ""), v.get("contact_point_kind", ""), v.get(
            "contact_point_locode", "")  # fmt: skip
        if not code:
            if name or kind or locode:
                raise _RowProblem("contact_point_code", None, "a contact point needs its code")
            return None
        what = f"contact points of {agency.code}"
        found = _step("contact_point_code", code, what,
                      lambda: admin.get_contact_point(self.session, self.actor, agency.id, code))  # fmt: skip
        if found is None:
            if not name or not kind:
                raise _RowProblem("contact_point_code", code, f"unknown contact point {agency.code}/{code}: give "
                                  "contact_point_name and contact_point_kind to create it")  # fmt: skip
            cp = _step(
                "contact_point_code",
                code,
                what,
                lambda: admin.create_contact_point(
                    self.session, self.actor, agency.id, code=code, name=name, kind=kind, locode=locode or None
                ),
            )
            self.report.contact_points_created += 1
            return cp
        if name and kind:
            changed = _step(
                "contact_point_name",
                name,
                what,
                lambda: admin.update_contact_point(
                    self.session, self.actor, found, name=name, kind=kind, locode=locode or None
                ),
            )
            self.report.contact_points_updated += bool(changed)
        return found

    def participation(self, v: dict[str, str], agency: Agency) -> None:
        role = v.get("operation_role", "") or "member"
        assert self.operation is not None
        role = _step("operation_role", role, "", lambda: ParticipationRole.parse(role, "participation role"))
        _part, what = _step("operation_role", role, "only a site administrator sets participants", lambda: manage.join(
            self.session, self.actor, self.operation or "", agency.code, role))  # fmt: skip
        self.report.participants_joined += what == "joined"
        self.report.participants_changed += what == "role changed"

    def user(self, v: dict[str, str], agency: Agency, cp: ContactPoint | None) -> None:
        username = v["username"]
        roles_text = v.get("roles", "")
        roles = [r.strip().lower().replace(" ", "_") for r in roles_text.replace(",", ";").split(";") if r.strip()]
        unknown = [r for r in roles if r not in Role.values()]
        if unknown:
            raise _RowProblem(
                "roles", roles_text, UNKNOWN_ROLES % {"roles": ", ".join(unknown), "values": ", ".join(Role.values())}
            )
        display, email = v.get("display_name", "") or None, v.get("email", "") or None
        found = self.session.execute(
            select(User).where(func.lower(User.username) == username.strip().lower())
        ).scalar_one_or_none()
        if found is None:
            if not roles:
                raise _RowProblem("roles", None, f"a new user needs at least one role ({', '.join(Role.values())})")
            password = _first_password()
            user = _step("username", username, f"users of {agency.code}", lambda: admin.create_user(
                self.session, self.actor, username=username, password=password, roles=roles, agency_code=agency.code,
                display_name=display, email=email, contact_point_id=cp.id if cp else None))  # fmt: skip
            self.report.users_created += 1
            self.report.new_passwords.append((user.username, agency.code, password))
            return
        if found.agency_id != agency.id:
            raise _RowProblem("username", username, f"user {found.username} exists already in another agency")
        changed = False
        if (
            (display and display != found.display_name)
            or (email and email != found.email)
            or (cp is not None and cp.id != found.contact_point_id)
        ):
            _step("display_name", display, f"users of {agency.code}", lambda: admin.update_user_profile(
                self.session, self.actor, found.id, display_name=display if display != found.display_name else None,
                email=email if email != found.email else None, contact_point_id=cp.id if cp else None))  # fmt: skip
            changed = True
        if roles and set(roles) != found.role_names:
            _step("roles", roles_text, f"roles of {found.username}",
                  lambda: admin.set_user_roles(self.session, self.actor, found.id, roles))  # fmt: skip
            changed = True
        self.report.users_updated += changed


def import_roster(
    session: Session,
    actor: Actor,
    data: bytes,
    filename: str,
    *,
    operation: str | None = None,
    dry_run: bool = False,
    progress: Progress = no_progress,
) -> RosterReport:
    """Import a roster file for `actor`; with `operation`, its agencies also take part in that operation.

    Raises ImportRejected when the file as a whole cannot be read; row problems are in the report, and then
    nothing is written (nor in a dry run). One `roster.import` audit entry sums up a written import.
    """
    rows = read_roster(data, filename)
    report = RosterReport(filename=PurePath(filename).name, dry_run=dry_run, operation=operation,
                          rows_total=len(rows))  # fmt: skip
    if operation:
        manage.get_operation(session, operation)
    importer = _Importer(session, actor, report, operation)
    bad_rows: set[int] = set()
    denials: list[audit.AuditNote] = []
    savepoint = session.begin_nested()
    try:
        for done, (number, values) in enumerate(rows, start=1):
            inner = session.begin_nested()
            try:
                importer.row(values)
                inner.commit()
            except _RowProblem as problem:
                inner.rollback()
                column, value, reason, suggestion = problem.error
                report.errors.append(RowError(number, column, value, reason, suggestion, SHEET))
                bad_rows.add(number)
                if problem.denial is not None:
                    denials.append(problem.denial)
            progress(done, len(rows), "rows")
        report.rows_rejected = len(bad_rows)
        if report.errors or dry_run:
            savepoint.rollback()
            report.new_passwords = []
            for note in denials:  # a refusal leaves its trace even though nothing else lands
                audit.record_note(session, note)
            return report
        audit.record(session, audit_actor(actor), "roster.import", "roster", report.filename, operation=operation,
                     rows=report.rows_total, **report.counts())  # fmt: skip
        savepoint.commit()
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    report.written = True
    return report


# --- templates and outputs ---------------------------------------------------------------------------------------

EXAMPLE = (
    {"agency_code": "VN-CUS", "agency_name": "General Department of Viet Nam Customs", "agency_kind": "customs",
     "agency_country": "VN", "operation_role": "member", "contact_point_code": "HAN-AIR",
     "contact_point_name": "Noi Bai International Airport", "contact_point_kind": "airport",
     "contact_point_locode": "VNHAN", "username": "vn.coordinator", "display_name": "Viet Nam national coordinator",
     "email": "", "roles": "national_coordinator"},
)  # fmt: skip


def csv_template() -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    return buf.getvalue().encode("utf-8")


def xlsx_template() -> bytes:
    """A `roster` sheet with the header row and drop-down lists, and a hidden `lists` sheet."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    ws.append(list(COLUMNS))
    ws.freeze_panes = "A2"
    lists = wb.create_sheet("lists")
    lists.sheet_state = "hidden"
    for n, (column, values) in enumerate(ENUMS.items(), start=1):
        letter = get_column_letter(n)
        lists.cell(row=1, column=n, value=column)
        for i, value in enumerate(values, start=2):
            lists.cell(row=i, column=n, value=value)
        target = get_column_letter(COLUMNS.index(column) + 1)
        dv = DataValidation(type="list", formula1=f"=lists!${letter}$2:${letter}${len(values) + 1}", allow_blank=True)
        dv.error = f"use one of: {', '.join(values)}"
        ws.add_data_validation(dv)
        dv.add(f"{target}2:{target}10000")
    for i, column in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(12, len(column) + 2)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def write_templates(directory: Path) -> tuple[Path, Path]:
    csv_path, xlsx_path = directory / "roster-template.csv", directory / "roster-template.xlsx"
    csv_path.write_bytes(csv_template())
    xlsx_path.write_bytes(xlsx_template())
    return csv_path, xlsx_path


def passwords_csv(new_passwords: list[tuple[str, str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["username", "agency", "first_password"])
    writer.writerows(new_passwords)
    return buf.getvalue().encode("utf-8")


__all__ = ["COLUMNS", "RosterReport", "import_roster", "passwords_csv", "read_roster", "write_templates"]
