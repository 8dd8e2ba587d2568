"""A small operation for web, API and browser tests: three agencies, six users, five cases.

Built with the operation service and create_user; cases and items are inserted directly (the intake
capability is not needed to test the shell). Visible validated cases per user:

| case | agency | phase | status    | sharing      | classes        | th_reporter | vn_reporter | observer |
|------|--------|-------|-----------|--------------|----------------|-------------|-------------|----------|
| TH-1 | TH-CUS | I     | validated | amber+strict | drug           | yes         | no          | no       |
| TH-2 | TH-CUS | I     | validated | green        | wildlife       | yes         | yes         | no       |
| TH-3 | TH-CUS | II    | validated | clear        | drug, timber   | yes         | yes         | yes      |
| TH-4 | TH-CUS | II    | draft     | green        | drug           | (not counted: draft)                |
| VN-1 | VN-CUS | II    | validated | green        | precursor      | yes         | yes         | no       |
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from unittest import mock

from sqlalchemy.orm import Session

from dragonnet.operation.service import (
    PhaseSpec,
    add_agency,
    add_contact_point,
    add_participant,
    create_operation,
    phase_for_date,
)
from dragonnet.policy.passwords import hash_password
from dragonnet.policy.users import create_user
from dragonnet.storage.models import Agency, Case, Item, Operation

PASSWORD = "Correct-horse-battery-7"
SLUG = "test-dragon"
OPERATION_NAME = "Test Dragon"

USERS: dict[str, tuple[str, list[str]]] = {
    "th_reporter": ("TH-CUS", ["reporter"]),
    "th_coord": ("TH-CUS", ["national_coordinator"]),
    "vn_reporter": ("VN-CUS", ["reporter"]),
    "analyst": ("UNODC", ["regional_analyst"]),
    "observer": ("UNODC", ["partner_observer"]),
    "admin": ("TH-CUS", ["administrator"]),
    "locky": ("VN-CUS", ["reporter"]),
}

# Expected overview figures: username -> (phase I cases, phase II cases)
EXPECTED_PHASE_COUNTS: dict[str, tuple[int, int]] = {
    "th_reporter": (2, 2),
    "vn_reporter": (1, 2),
    "observer": (0, 1),
    "analyst": (1, 2),
}


@dataclass
class Seeded:
    slug: str
    operation_id: int
    agencies: dict[str, int] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)


def _case(
    session: Session,
    op: Operation,
    agency: Agency,
    ref: str,
    day: dt.date,
    status: str,
    sharing: str,
    classes: list[str],
) -> Case:
    case = Case(
        operation_id=op.id,
        phase_id=phase_for_date(op, day).id,
        reporting_agency_id=agency.id,
        case_ref=ref,
        status=status,
        sharing_level=sharing,
        seizure_date=day,
        place_country=agency.country or "TH",
        description=f"<script>window.__xss=1</script> case {ref}",
        items=[
            Item(position=i + 1, commodity_class=klass, quantity=1.5, unit="kg", goods_description="{{7*7}}")
            for i, klass in enumerate(classes)
        ],
    )
    session.add(case)
    session.flush()
    return case


def seed(session: Session) -> Seeded:
    op = create_operation(
        session,
        slug=SLUG,
        name=OPERATION_NAME,
        description="A small operation for tests <b>not bold</b>.",
        scope=["drug", "precursor", "wildlife", "timber"],
        phases=[
            PhaseSpec(1, dt.date(2024, 3, 1), dt.date(2024, 3, 31), ("drug", "wildlife")),
            PhaseSpec(2, dt.date(2024, 6, 1), dt.date(2024, 6, 30), ("drug", "precursor", "wildlife", "timber")),
        ],
    )
    th = add_agency(session, code="TH-CUS", name="Thai Customs Department", kind="customs", country="Thailand")
    vn = add_agency(session, code="VN-CUS", name="Viet Nam Customs", kind="customs", country="VN")
    un = add_agency(
        session, code="UNODC", name="UNODC-WCO Container Control Programme", kind="international_organisation",
        country=None,
    )  # fmt: skip
    add_participant(session, op, th, "member")
    add_participant(session, op, vn, "member", since_phase=2)
    add_participant(session, op, un, "observer")
    add_contact_point(session, th, code="BKK", name="Suvarnabhumi Airport", kind="airport", locode="THBKK")
    session.flush()
    # Argon2 is slow on purpose: hash the shared test password once (same salt for all: fine for tests).
    known_hash = hash_password(PASSWORD)
    with mock.patch("dragonnet.policy.users.hash_password", lambda pw: known_hash if pw == PASSWORD else "!"):
        for username, (agency, roles) in USERS.items():
            create_user(
                session,
                username=username,
                password=PASSWORD,
                agency_code=agency,
                roles=roles,
                display_name=username.replace("_", " ").title(),
            )
    seeded = Seeded(slug=op.slug, operation_id=op.id, agencies={"TH-CUS": th.id, "VN-CUS": vn.id, "UNODC": un.id})
    specs = [
        (th, "TH-1", dt.date(2024, 3, 5), "validated", "amber+strict", ["drug"]),
        (th, "TH-2", dt.date(2024, 3, 20), "validated", "green", ["wildlife"]),
        (th, "TH-3", dt.date(2024, 6, 2), "validated", "clear", ["drug", "timber"]),
        (th, "TH-4", dt.date(2024, 6, 3), "draft", "green", ["drug"]),
        (vn, "VN-1", dt.date(2024, 6, 10), "validated", "green", ["precursor"]),
    ]
    for agency, ref, day, status, sharing, classes in specs:
        seeded.cases[ref] = _case(session, op, agency, ref, day, status, sharing, classes).id
    session.flush()
    return seeded
