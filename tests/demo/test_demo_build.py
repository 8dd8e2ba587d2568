"""The demo operation reproduces the published figures, exactly, by independent SQL over what it wrote."""

from __future__ import annotations

import datetime as dt
import re
import string
from collections import defaultdict

import phonenumbers
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dragonnet.demo import DEMO_PASSWORD, build_demo, demo_logins, planted_networks
from dragonnet.errors import ValidationError
from dragonnet.policy import audit
from dragonnet.policy.users import authenticate
from dragonnet.reference import cites, places, substances
from dragonnet.storage.models import Case

from .conftest import DemoDB

COUNTED_B = "('submitted', 'validated', 'merged')"


def scalar(session: Session, sql: str, **params: object) -> int:
    return int(session.execute(text(sql), params).scalar_one())


def per_phase(session: Session, where: str) -> dict[int, int]:
    rows = session.execute(
        text(
            "SELECT p.number, count(*) FROM cases c JOIN phases p ON p.id = c.phase_id "
            "JOIN operations o ON o.id = c.operation_id "
            f"WHERE o.slug = 'mekong-dragon' AND {where} GROUP BY p.number"
        )
    ).all()
    return {int(n): int(k) for n, k in rows}


# --- the published figures ---------------------------------------------------------------------------------


def test_rule_a_validated_cases_per_phase(demo: Session) -> None:
    """The operation's headline rule: validated cases (merged duplicates counted once) by seizure date."""
    counts = per_phase(demo, "c.status = 'validated'")
    assert counts[5] == 1715
    assert counts[4] == 813
    assert round((counts[5] / counts[4] - 1) * 100) == 111  # "+111%"
    assert 0 < counts[1] < counts[2] < counts[3] < counts[4]


def test_rule_a_viet_nam(demo: Session) -> None:
    """Viet Nam: validated cases reported by Viet Nam's agencies (customs, police) - 123, twice phase IV."""
    by_agency = per_phase(
        demo, "c.status = 'validated' AND c.reporting_agency_id IN (SELECT id FROM agencies WHERE country = 'VN')"
    )
    assert by_agency[5] == 123
    assert by_agency[4] in (61, 62)
    assert round(by_agency[5] / by_agency[4]) == 2
    # Validated cases are seized in the reporting agency's own country, so counting by place gives the same.
    assert per_phase(demo, "c.status = 'validated' AND c.place_country = 'VN'") == by_agency


def test_rule_b_reports_to_the_wco_database_phase_iv(demo: Session) -> None:
    """Every submitted report (duplicates not merged): 1,362 = 1,267 drug / 17 precursor / 78 wildlife+timber."""
    assert per_phase(demo, f"c.status IN {COUNTED_B}")[4] == 1362
    rows = demo.execute(
        text(
            "SELECT i.commodity_class, count(DISTINCT c.id) FROM cases c JOIN phases p ON p.id = c.phase_id "
            f"JOIN items i ON i.case_id = c.id WHERE p.number = 4 AND c.status IN {COUNTED_B} "
            "GROUP BY i.commodity_class"
        )
    ).all()
    by_class = {k: int(n) for k, n in rows}
    assert by_class["drug"] == 1267
    assert by_class["precursor"] == 17
    assert by_class.get("wildlife", 0) + by_class.get("timber", 0) == 78
    assert sum(by_class.values()) == 1362  # one commodity class per case: the split is unambiguous


def test_rule_b_wildlife_and_timber_since_2020(demo: Session) -> None:
    """More than 210 endangered-species cases in phases II-IV (wildlife joined the scope in 2020)."""
    n = scalar(
        demo,
        "SELECT count(DISTINCT c.id) FROM cases c JOIN phases p ON p.id = c.phase_id JOIN items i ON i.case_id = c.id "
        f"WHERE p.number BETWEEN 2 AND 4 AND c.status IN {COUNTED_B} AND i.commodity_class IN ('wildlife', 'timber')",
    )
    assert n > 210
    none_before = scalar(
        demo,
        "SELECT count(*) FROM cases c JOIN phases p ON p.id = c.phase_id JOIN items i ON i.case_id = c.id "
        "WHERE p.number = 1 AND i.commodity_class IN ('wildlife', 'timber')",
    )
    assert none_before == 0


def test_every_case_has_one_commodity_class(demo: Session) -> None:
    assert scalar(demo, "SELECT count(*) FROM cases WHERE id NOT IN (SELECT case_id FROM items)") == 0
    mixed = scalar(
        demo,
        "SELECT count(*) FROM (SELECT case_id FROM items GROUP BY case_id "
        "HAVING count(DISTINCT commodity_class) > 1) AS t",
    )
    assert mixed == 0


def test_extra_reports_and_uncounted_statuses(demo: Session) -> None:
    for phase in (4, 5):
        merged = per_phase(demo, "c.status = 'merged'")[phase]
        submitted = per_phase(demo, "c.status = 'submitted'")[phase]
        assert merged > 0 and submitted > 0
    assert sum(per_phase(demo, "c.status = 'draft'").values()) > 0
    assert sum(per_phase(demo, "c.status = 'withdrawn'").values()) > 0
    assert scalar(demo, "SELECT count(*) FROM cases WHERE status = 'draft' AND submitted_at IS NOT NULL") == 0


def test_merged_duplicates_point_to_their_validated_twin(demo: Session) -> None:
    rows = demo.execute(
        text(
            "SELECT d.seizure_date, t.seizure_date, d.place_country, t.place_country, "
            "coalesce(d.place_locode, d.place_name), coalesce(t.place_locode, t.place_name), t.status, "
            "d.reporting_agency_id, t.reporting_agency_id, da.country, ta.country, t.origin_country, "
            "t.destination_country, t.id, d.id "
            "FROM cases d JOIN cases t ON t.id = d.merged_into_id "
            "JOIN agencies da ON da.id = d.reporting_agency_id JOIN agencies ta ON ta.id = t.reporting_agency_id "
            "WHERE d.status = 'merged'"
        )
    ).all()
    assert rows
    assert scalar(demo, "SELECT count(*) FROM cases WHERE status = 'merged' AND merged_into_id IS NULL") == 0
    assert scalar(demo, "SELECT count(*) FROM cases WHERE status <> 'merged' AND merged_into_id IS NOT NULL") == 0
    transits: dict[int, set[str]] = defaultdict(set)
    for case_id, country in demo.execute(text("SELECT case_id, country FROM case_transits")).all():
        transits[case_id].add(country)
    classes = dict(demo.execute(text("SELECT case_id, min(commodity_class) FROM items GROUP BY case_id")).all())
    for d_date, t_date, d_pc, t_pc, d_place, t_place, t_status, d_ag, t_ag, d_c, t_c, orig, dest, tid, did in rows:
        assert (d_date, d_pc, d_place) == (t_date, t_pc, t_place)
        assert t_status == "validated"
        assert d_ag != t_ag
        assert classes[did] == classes[tid]
        # Another agency of the same country (customs / police) or one on the route (controlled delivery).
        assert d_c == t_c or d_c in {orig, dest} | transits[tid]


def test_every_case_is_in_the_phase_of_its_seizure_date(demo: Session) -> None:
    rows = demo.execute(
        text(
            "SELECT c.seizure_date, (SELECT p2.id FROM phases p2 WHERE p2.operation_id = c.operation_id "
            "AND c.seizure_date BETWEEN p2.start_date AND p2.end_date), c.phase_id FROM cases c"
        )
    ).all()
    assert len(rows) > 4000
    assert all(expected == actual for _d, expected, actual in rows)


def as_date(value: object) -> dt.date:
    """A DATE/TIMESTAMP column read through text(): SQLite answers ISO strings, PostgreSQL date objects."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def as_aware(value: object) -> dt.datetime:
    """A TIMESTAMP column read through text(), as an aware UTC datetime (SQLite answers ISO strings)."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def test_phases_and_scope(demo: Session) -> None:
    rows = [
        (n, as_date(start), as_date(end), notes)
        for n, start, end, notes in demo.execute(
            text("SELECT number, start_date, end_date, notes FROM phases ORDER BY number")
        ).all()
    ]
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert (rows[4][1], rows[4][2]) == (dt.date(2023, 4, 15), dt.date(2023, 11, 16))
    assert rows[0][1].year == 2018 and rows[0][1].month == 9
    assert rows[1][1].year == 2020 and rows[3][1].year == 2022
    assert all("Published" in r[3] and ("Assumed" in r[3] or r[0] == 5) for r in rows[:5])
    # Phase VI is the running one: it holds today, so that today's seizures can be reported.
    assert rows[5][1] <= dt.date.today() <= rows[5][2]


def test_reported_at_follows_the_seizure(demo: Session) -> None:
    rows = demo.execute(text("SELECT seizure_date, reported_at, status FROM cases")).all()
    recent = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=11)
    now = dt.datetime.now(dt.UTC)
    for seizure, reported, status in rows:
        # Reported 1-10 days after the seizure; a merged duplicate up to 20 days after its twin. In the running
        # phase nothing is dated in the future: a seizure of the last days may be reported the same day.
        limit = 31 if status == "merged" else 11
        earliest = as_date(seizure) if as_date(seizure) >= recent else as_date(seizure) + dt.timedelta(days=1)
        assert earliest <= as_date(reported) <= as_date(seizure) + dt.timedelta(days=limit)
        assert as_aware(reported) <= now
    aware = demo.execute(select(Case.reported_at, Case.submitted_at).where(Case.status == "validated").limit(50)).all()
    assert all(r.tzinfo is not None and s is not None and s.utcoffset() == dt.timedelta(0) for r, s in aware)


# --- organisation --------------------------------------------------------------------------------------------


PHASE_V_CUSTOMS = ("AU", "BD", "KH", "CN", "HK", "IN", "ID", "LA", "MY", "MN", "NP", "NZ", "KR", "SG", "LK", "TH", "VN")


def test_agencies_and_contact_points(demo: Session) -> None:
    agencies = {code: (kind, country) for code, kind, country in demo.execute(
        text("SELECT code, kind, country FROM agencies")).all()}  # fmt: skip
    assert 25 <= len(agencies) <= 30
    customs_countries = {c for kind, c in agencies.values() if kind == "customs"}
    assert set(PHASE_V_CUSTOMS) <= customs_countries
    assert agencies["CN-GACC"] == ("customs", "CN")
    assert agencies["HK-C&ED"] == ("customs", "HK")
    assert agencies["MY-RMCD"] == ("customs", "MY")
    assert agencies["VN-MPS-C04"] == ("police", "VN") and agencies["VN-MPS-C05"] == ("police", "VN")
    assert agencies["RILO-AP"] == ("regional_office", None)
    assert agencies["UNODC"][0] == "international_organisation"
    assert agencies["TRAFFIC"][0] == "ngo"
    roles = dict(demo.execute(text(
        "SELECT a.code, p.role FROM participations p JOIN agencies a ON a.id = p.agency_id")).all())  # fmt: skip
    assert roles["RILO-AP"] == "coordinator" and roles["UNODC"] == "partner" and roles["VN-CUS"] == "member"
    vn = dict(demo.execute(text(
        "SELECT a.kind, count(*) FROM contact_points cp JOIN agencies a ON a.id = cp.agency_id "
        "WHERE a.country = 'VN' GROUP BY a.kind")).all())  # fmt: skip
    assert vn == {"customs": 38, "police": 2}


def test_every_place_resolves_in_the_reference_data(demo: Session) -> None:
    rows = demo.execute(
        text(
            "SELECT DISTINCT cp.locode, a.country FROM contact_points cp JOIN agencies a ON a.id = cp.agency_id "
            "WHERE cp.locode IS NOT NULL UNION SELECT DISTINCT place_locode, place_country FROM cases "
            "WHERE place_locode IS NOT NULL"
        )
    ).all()
    assert len(rows) > 60
    for locode, country in rows:
        place = places.get(locode)
        assert place is not None, locode
        assert place.country == country or country is None, locode  # RILO AP and UNODC have no country
    for name, country in demo.execute(
        text("SELECT DISTINCT place_name, place_country FROM cases WHERE place_locode IS NULL")
    ).all():
        assert any(p.name == name for p in places.for_country(country)), (name, country)


def test_users_and_logins(demo: Session) -> None:
    logins = demo_logins()
    assert 40 <= len(logins) <= 60
    stored = dict(demo.execute(text(
        "SELECT u.username, r.role FROM users u JOIN user_roles r ON r.user_id = u.id")).all())  # fmt: skip
    for username, role, _agency in logins:
        assert stored[username] == role
    assert stored["admin"] == "administrator"
    assert stored["vn.reporter"] == "reporter" and stored["vn.coordinator"] == "national_coordinator"
    assert stored["rilo.analyst"] == "regional_analyst" and stored["traffic.observer"] == "partner_observer"
    result = authenticate(demo, "th.reporter", DEMO_PASSWORD)
    assert result.user is not None and result.user.agency.code == "TH-CUS"


def test_audit_records_the_build(demo: Session) -> None:
    events = demo.execute(text("SELECT action, detail FROM audit_events ORDER BY seq")).all()
    actions = [a for a, _ in events]
    assert actions.count("demo.build") == 1
    assert actions.count("user.create") == len(demo_logins())
    assert audit.verify(demo).ok


def test_refuses_a_database_that_is_not_empty(demo: Session) -> None:
    with pytest.raises(ValidationError, match="empty database"):
        build_demo(demo)


# --- items, identifiers, parties ---------------------------------------------------------------------------


def test_substance_and_taxon_texts_resolve(demo: Session) -> None:
    drugs = demo.execute(text(
        "SELECT DISTINCT substance_text, substance, substance_control FROM items WHERE substance_text IS NOT NULL"
    )).all()  # fmt: skip
    assert len(drugs) > 30
    for written, name, control in drugs:
        match = substances.resolve(written)
        assert (match.substance.name, match.substance.control) == (name, control)
    taxa = demo.execute(text(
        "SELECT DISTINCT taxon_text, taxon, cites_appendix FROM items WHERE taxon_text IS NOT NULL")).all()  # fmt: skip
    assert len(taxa) > 20
    for written, name, appendix in taxa:
        match = cites.resolve(written)
        assert (match.taxon.name, match.taxon.listing) == (name, appendix)
    assert scalar(demo, "SELECT count(*) FROM items WHERE commodity_class IN ('drug', 'precursor') "
                  "AND substance IS NULL") == 0  # fmt: skip
    assert scalar(demo, "SELECT count(*) FROM items WHERE commodity_class IN ('wildlife', 'timber') "
                  "AND taxon IS NULL") == 0  # fmt: skip


def test_mass_only_for_mass_units(demo: Session) -> None:
    assert scalar(demo, "SELECT count(*) FROM items WHERE unit IN ('kg', 'g', 't') AND mass_kg IS NULL") == 0
    assert scalar(demo, "SELECT count(*) FROM items WHERE unit NOT IN ('kg', 'g', 't') AND mass_kg IS NOT NULL") == 0
    units = {u for (u,) in demo.execute(text("SELECT DISTINCT unit FROM items")).all()}
    assert {"kg", "tablets", "pieces", "m3"} <= units


_ISO6346 = dict(zip(string.ascii_uppercase, [v for v in range(10, 39) if v % 11], strict=True))


def iso6346_valid(number: str) -> bool:
    """Independent check of an ISO 6346 container number."""
    code = re.sub(r"[^A-Z0-9]", "", number.upper())
    if not re.fullmatch(r"[A-Z]{3}U\d{7}", code):
        return False
    values = [_ISO6346[ch] for ch in code[:4]] + [int(d) for d in code[4:10]]
    return sum(v * 2**i for i, v in enumerate(values)) % 11 % 10 == int(code[10])


def test_iso6346_reference_example() -> None:
    assert iso6346_valid("CSQU3054383") and not iso6346_valid("CSQU3054384")


def test_container_numbers_have_valid_check_digits(demo: Session) -> None:
    containers = demo.execute(text("SELECT value, normalised FROM case_identifiers WHERE kind = 'container'")).all()
    assert len(containers) > 500
    assert all(iso6346_valid(v) and iso6346_valid(n) for v, n in containers)
    refs = demo.execute(text("SELECT conveyance_ref FROM cases WHERE transport_mode = 'sea_container'")).scalars()
    assert all(iso6346_valid(r) for r in refs)


def test_phone_numbers_are_valid(demo: Session) -> None:
    rows = demo.execute(text("SELECT phone, nationality FROM parties WHERE phone IS NOT NULL")).all()
    assert len(rows) > 1000
    formats = {"local": 0, "international": 0}
    for phone, nationality in rows:
        number = phonenumbers.parse(phone, nationality)
        assert phonenumbers.is_valid_number(number), (phone, nationality)
        formats["international" if phone.startswith("+") else "local"] += 1
    assert all(formats.values())
    for (normalised,) in demo.execute(text("SELECT normalised FROM case_identifiers WHERE kind = 'phone'")).all():
        assert normalised.startswith("+") and phonenumbers.is_valid_number(phonenumbers.parse(normalised))


def test_sharing_levels_and_nominal_data(demo: Session) -> None:
    levels = dict(demo.execute(text("SELECT sharing_level, count(*) FROM cases GROUP BY sharing_level")).all())
    assert set(levels) == {"red", "amber+strict", "amber", "green", "clear"}
    assert levels["amber"] + levels["green"] > 0.7 * sum(levels.values())
    unshared_red = scalar(
        demo, "SELECT count(*) FROM cases c WHERE sharing_level = 'red' AND status <> 'merged' "
        "AND NOT EXISTS (SELECT 1 FROM case_shares s WHERE s.case_id = c.id)",
    )  # fmt: skip
    assert unshared_red == 0
    roles = {r for (r,) in demo.execute(text("SELECT DISTINCT role FROM parties")).all()}
    assert {"courier", "consignee", "consignor", "owner", "organiser", "driver"} <= roles
    kinds = {k for (k,) in demo.execute(text("SELECT DISTINCT kind FROM case_identifiers")).all()}
    assert {"container", "vessel", "vehicle", "phone", "email", "passport"} <= kinds


# --- planted networks --------------------------------------------------------------------------------------


def test_planted_networks_recur_across_countries(demo: Session) -> None:
    networks = planted_networks(2023)
    assert 8 <= len(networks) <= 12
    case_by_ref = {
        (code, ref): (cid, country)
        for cid, code, ref, country in demo.execute(
            text(
                "SELECT c.id, a.code, c.case_ref, a.country FROM cases c "
                "JOIN agencies a ON a.id = c.reporting_agency_id"
            )
        ).all()
    }
    for net in networks:
        found = [case_by_ref[key] for key in net.cases]  # every ground-truth case exists
        countries = {country for _id, country in found}
        assert len(countries) >= 2, net.key
        assert len(set(net.phases)) >= 2, net.key
        ids = [cid for cid, _ in found]
        # A shared identifier (phone, container, vehicle, passport, e-mail) really recurs across countries.
        marks = ", ".join(f":i{i}" for i in range(len(ids)))
        rows = demo.execute(
            text(
                "SELECT ci.kind, ci.normalised, count(DISTINCT a.country) FROM case_identifiers ci "
                "JOIN cases c ON c.id = ci.case_id JOIN agencies a ON a.id = c.reporting_agency_id "
                f"WHERE ci.case_id IN ({marks}) GROUP BY ci.kind, ci.normalised"
            ),
            {f"i{i}": cid for i, cid in enumerate(ids)},
        ).all()
        across = {(kind, value) for kind, value, n in rows if n >= 2}
        assert across & set(net.identifiers), net.key
        # At least one member appears under two spellings.
        names = defaultdict(set)
        party_rows = demo.execute(
            text(f"SELECT name FROM parties WHERE case_id IN ({marks})"), {f"i{i}": cid for i, cid in enumerate(ids)}
        ).scalars()
        stored = set(party_rows)
        for member in net.members:
            names[member.key] = {s for s in member.spellings if s in stored}
            assert names[member.key] == set(member.spellings), (net.key, member.key)
        assert any(len(v) >= 2 for v in names.values()), net.key


def test_ground_truth_is_not_in_the_database(demo: Session) -> None:
    keys = [n.key for n in planted_networks(2023)]
    for table, column in (("cases", "description"), ("cases", "concealment"), ("parties", "address")):
        values = demo.execute(text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")).scalars()
        joined = "\n".join(values)
        assert not any(k in joined for k in keys)


def test_summary_matches_the_database(demo_db: DemoDB, demo: Session) -> None:
    s = demo_db.summary
    assert s.cases == scalar(demo, "SELECT count(*) FROM cases")
    assert s.items == scalar(demo, "SELECT count(*) FROM items")
    assert s.parties == scalar(demo, "SELECT count(*) FROM parties")
    assert s.users == scalar(demo, "SELECT count(*) FROM users")
    assert s.agencies == scalar(demo, "SELECT count(*) FROM agencies")
    assert s.contact_points == scalar(demo, "SELECT count(*) FROM contact_points")
    assert s.cases_by_phase["V"]["validated"] == 1715
    assert any("1715" in line or "validated 1715" in line for line in s.lines())
