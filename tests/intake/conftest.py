"""An operation "mekong-dragon" with phases IV and V and two member agencies (VN-CUS, TH-CUS)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from dragonnet.operation import service
from dragonnet.storage.models import Operation

from .helpers import PHASES


@pytest.fixture
def operation(session: Session) -> Operation:
    op = service.create_operation(
        session, slug="mekong-dragon", name="Mekong Dragon", description="",
        scope=["drug", "precursor", "wildlife", "timber"], phases=PHASES,
    )  # fmt: skip
    vn = service.add_agency(session, code="VN-CUS", name="Vietnam Customs", kind="customs", country="VN")
    th = service.add_agency(session, code="TH-CUS", name="Thai Customs", kind="customs", country="TH")
    service.add_participant(session, op, vn, "member")
    service.add_participant(session, op, th, "member")
    session.commit()
    return op


from web.webtest import app_client, seeded_db  # noqa: E402, F401 - fixtures for the web and API tests of intake
