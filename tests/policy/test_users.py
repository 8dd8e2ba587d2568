"""Users: password policy, Argon2id hashes, lock-out after repeated failures, audited logins."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dragonnet.errors import Conflict, NotFound, ValidationError
from dragonnet.policy import audit, passwords
from dragonnet.policy.passwords import check_policy, hash_password, needs_rehash, verify_password
from dragonnet.policy.users import (
    MAX_FAILED_LOGINS,
    authenticate,
    close_session,
    create_user,
    open_session,
    reset_password,
    resolve_session,
)
from dragonnet.storage.models import Agency, AuditEvent

GOOD = "correct horse battery staple"


@pytest.fixture
def agency(session: Session) -> Agency:
    a = Agency(code="VN-CUS", name="Viet Nam Customs", kind="customs", country="VN")
    session.add(a)
    session.flush()
    return a


@pytest.mark.parametrize("pw", ["short", "aaaaaaaaaaaaaaaa", "vn.reporter-secret", "password1234"])
def test_password_policy_rejects(pw: str) -> None:
    with pytest.raises(ValidationError):
        check_policy(pw, username="vn.reporter")


def test_create_user_hashes_with_argon2id(session: Session, agency: Agency) -> None:
    user = create_user(session, username="vn.reporter", password=GOOD, agency_code="VN-CUS", roles=["reporter"])
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD not in user.password_hash
    with pytest.raises(Conflict):
        create_user(session, username="VN.Reporter", password=GOOD, agency_code="VN-CUS", roles=["reporter"])
    with pytest.raises(NotFound, match="unknown agency"):
        create_user(session, username="x1", password=GOOD, agency_code="XX-NONE", roles=["reporter"])
    with pytest.raises(ValidationError, match="unknown role"):
        create_user(session, username="x2", password=GOOD, agency_code="VN-CUS", roles=["god"])


def test_lockout_after_repeated_failures(session: Session, agency: Agency) -> None:
    create_user(session, username="vn.reporter", password=GOOD, agency_code="VN-CUS", roles=["reporter"])
    for _ in range(MAX_FAILED_LOGINS):
        assert authenticate(session, "vn.reporter", "wrong password!!").user is None
    locked = authenticate(session, "vn.reporter", GOOD)
    assert locked.user is None and locked.reason == "locked"
    # An administrator's reset unlocks the account.
    reset_password(session, "vn.reporter", "another long passphrase")
    assert authenticate(session, "vn.reporter", "another long passphrase").user is not None
    session.commit()  # the entries are staged in the transaction and in the chain once it commits
    actions = dict(session.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action)).all())
    assert actions["auth.login_failed"] == MAX_FAILED_LOGINS + 1
    assert actions["auth.locked"] == 1 and actions["auth.login"] == 1
    assert audit.verify(session).ok


def test_unknown_user_is_audited_and_answers_like_a_wrong_password(session: Session, agency: Agency) -> None:
    result = authenticate(session, "nobody\n\x1b[31m", "whatever password")
    assert result.user is None and result.reason == "invalid"
    session.commit()
    event = session.execute(select(AuditEvent).order_by(AuditEvent.seq.desc())).scalars().first()
    assert event is not None and event.action == "auth.login_failed"


def test_the_unknown_users_hash_costs_what_a_users_does() -> None:
    """The stored stand-in hash has the hasher's parameters (same memory, time and parallelism cost as a real
    user's): were the hasher's defaults to change, it would need rehashing, and this fails. The shipped values,
    not the test processes' cheaper ones (tests/cheap_passwords.py); and the cheaper ones agree the same way."""
    from cheap_passwords import SHIPPED_DUMMY_HASH, SHIPPED_HASHER, STAND_IN

    shipped_cost = SHIPPED_HASHER.hash("any-password-at-all").split("$")[1:4]
    assert shipped_cost == ["argon2id", "v=19", "m=65536,t=3,p=4"]  # argon2-cffi's RFC 9106 low-memory profile
    assert not SHIPPED_HASHER.check_needs_rehash(SHIPPED_DUMMY_HASH)
    assert SHIPPED_DUMMY_HASH.split("$")[1:4] == shipped_cost
    assert SHIPPED_HASHER.verify(SHIPPED_DUMMY_HASH, STAND_IN)
    # in this process: the stand-in the unknown user is checked against costs what a user's hash does
    assert not needs_rehash(passwords.DUMMY_HASH)
    assert passwords.DUMMY_HASH.split("$")[1:4] == hash_password("any-password-at-all").split("$")[1:4]
    assert verify_password(passwords.DUMMY_HASH, STAND_IN)


def test_sessions_end_on_logout_and_password_reset(session: Session, agency: Agency) -> None:
    user = create_user(session, username="vn.reporter", password=GOOD, agency_code="VN-CUS", roles=["reporter"])
    token, web = open_session(session, user, hours=8)
    assert token not in web.token_hash
    assert resolve_session(session, token) is not None
    close_session(session, token)
    assert resolve_session(session, token) is None
    token2, _ = open_session(session, user, hours=8)
    reset_password(session, "vn.reporter", "a brand new passphrase")
    assert resolve_session(session, token2) is None
    token3, _ = open_session(session, user, hours=8)
    user.is_active = False
    session.flush()
    assert resolve_session(session, token3) is None
