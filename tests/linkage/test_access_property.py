"""Property: whatever the sharing configuration, a user's networks are built only from what the user may see.

Parties of all cases form a chain of proposed links (p1-p2, p2-p3, ...). For random sharing levels, statuses
and named shares, every user's networks must (1) contain only cases the policy shows them, (2) use only
parties the nominal rule shows them, and (3) never join two visible parties through an invisible one.
"""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dragonnet.linkage import service
from dragonnet.linkage.resolve import connected_components
from dragonnet.policy.access import Actor, case_visibility, visible_parties
from dragonnet.storage.linkage_models import LinkageRun, ProposedLink
from dragonnet.storage.models import Case, CaseIdentifier, CaseShare, Party, User
from web.seed import seed

LEVELS = ["clear", "green", "amber", "amber+strict", "red"]
STATUSES = ["validated", "submitted", "draft"]
USERS = ["th_reporter", "th_coord", "vn_reporter", "analyst", "observer", "locky"]


def _setup(session: Session) -> tuple[list[int], dict[str, int]]:
    seeded = seed(session)
    case_ids = sorted(seeded.cases.values())
    parties = []
    for cid in case_ids:
        p = Party(case_id=cid, role="courier", kind="person", name="Nguyen Van Thang", nationality="VN",
                  birth_date=dt.date(1986, 11, 2))  # fmt: skip
        session.add(p)
        parties.append(p)
        session.add(CaseIdentifier(case_id=cid, kind="container", value="SITU 167671-7", normalised="SITU1676717"))
    session.flush()
    run = LinkageRun(backend="duckdb", threshold=0.9, records=len(parties), links=len(parties) - 1, clusters=1)
    session.add(run)
    session.flush()
    for a, b in itertools.pairwise(parties):
        session.add(ProposedLink(run_id=run.id, party_low_id=a.id, party_high_id=b.id, match_probability=0.99,
                                 match_weight=10.0))  # fmt: skip
    session.commit()
    return case_ids, seeded.agencies


config = st.lists(
    st.tuples(
        st.sampled_from(LEVELS), st.sampled_from(STATUSES), st.sets(st.sampled_from(["TH-CUS", "VN-CUS", "UNODC"])),
        st.booleans(),
    ),
    min_size=5, max_size=5,
)  # fmt: skip


def test_networks_respect_random_sharing(session: Session) -> None:
    case_ids, agencies = _setup(session)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(config)
    def check(cfg: list[tuple[str, str, set[str], bool]]) -> None:
        session.execute(delete(CaseShare))
        for cid, (level, status, shares, nominal) in zip(case_ids, cfg, strict=True):
            case = session.get(Case, cid)
            assert case is not None
            case.sharing_level, case.status = level, status
            for code in shares:
                session.add(CaseShare(case_id=cid, agency_id=agencies[code], nominal=nominal))
        session.commit()
        links = [(a, b) for a, b in session.execute(select(ProposedLink.party_low_id, ProposedLink.party_high_id))]
        for username in USERS:
            user = session.execute(select(User).where(User.username == username)).scalar_one()
            actor = Actor.for_user(user)
            cases = set(session.execute(select(Case.id).where(case_visibility(actor))).scalars())
            parties = {p.id: p.case_id for p in session.execute(visible_parties(actor)).scalars()}
            # The clusters a user may know: links with both ends visible, nothing else.
            allowed = connected_components(sorted(parties), [(a, b) for a, b in links if a in parties and b in parties])
            _ex, nets = service.networks_for(session, actor)
            for net in nets:
                assert set(net.cases) <= cases, username
                for e in net.entities:
                    assert set(e.cases) <= cases, username
                    if e.key.startswith("party:"):
                        root = int(e.key.split(":")[1])
                        assert root in parties, username
                        members = {p for p, r in allowed.items() if r == allowed[root]}
                        assert set(e.cases) == {parties[p] for p in members}, username

    check()
