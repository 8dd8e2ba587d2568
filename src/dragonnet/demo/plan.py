"""The demo operation as plain rows, drawn deterministically from a seed (no database, no clock).

`make_plan(seed)` returns every case, item, party and identifier to insert, in insertion order, plus the
ground truth of the planted networks. The writer (`generator.py`) only maps codes to database ids.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from functools import cache

from dragonnet.demo import codes
from dragonnet.demo.catalogue import (
    A_C,
    A_P,
    AGENCY_BY_CODE,
    AIRLINES,
    COMMODITIES,
    COMMODITY_BY_KEY,
    CONCEALMENT,
    CONTAINER_OWNERS,
    CP,
    CURRENT_TARGETS,
    DECLARED_GOODS,
    DETECTION,
    DRUG,
    EXP,
    LAND_NEIGHBOURS,
    MODES_AT,
    PED,
    PHASES,
    POLICE,
    POST,
    PRECURSOR,
    RAIL,
    ROAD,
    S_C,
    S_O,
    TARGETS,
    USERS,
    VESSEL_NAMES,
    VN_VALIDATED,
    AgencyDef,
    Commodity,
    PhaseDef,
    current_phase,
    reporting_in,
)
from dragonnet.demo.networks import RINGS, MemberDef, RingDef
from dragonnet.demo.people import address, birth_date, company_name, email_for, person_name
from dragonnet.domain.quantity import make_quantity
from dragonnet.domain.vocabulary import CaseStatus, SharingLevel

VALIDATED, SUBMITTED, MERGED, DRAFT, WITHDRAWN = (
    CaseStatus.VALIDATED.value,
    CaseStatus.SUBMITTED.value,
    CaseStatus.MERGED.value,
    CaseStatus.DRAFT.value,
    CaseStatus.WITHDRAWN.value,
)
BULK_MODES = (S_C, S_O, ROAD, RAIL, A_C)
SMALL_MODES = (A_P, PED)
DECIMAL_COMMA = ("VN", "ID", "BR", "MZ", "LA", "KH", "MN")


# --- rows -------------------------------------------------------------------------------------------------


@dataclass
class ItemRow:
    commodity: str
    commodity_class: str
    substance_text: str | None
    substance: str | None
    substance_control: str | None
    taxon_text: str | None
    taxon: str | None
    cites_appendix: str | None
    specimen_type: str | None
    quantity: float
    unit: str
    quantity_text: str
    mass_kg: float | None
    hs_code: str | None
    goods_description: str | None


@dataclass
class IdentRow:
    kind: str
    value: str
    normalised: str


@dataclass
class PartyRow:
    role: str
    kind: str
    name: str
    nationality: str | None
    birth_date: dt.date | None
    id_number: str | None
    phone: str | None
    email: str | None
    address: str | None
    identifiers: list[IdentRow] = field(default_factory=list)
    member: str | None = None  # key of the planted-network member it is


@dataclass
class CaseRow:
    key: int
    phase: int
    agency: str
    status: str
    klass: str
    seizure_date: dt.date
    reported_at: dt.datetime
    submitted_at: dt.datetime | None
    validated_at: dt.datetime | None
    cp: str | None
    place_locode: str | None
    place_name: str | None
    place_country: str
    place_type: str | None
    latitude: float | None
    longitude: float | None
    direction: str
    transport_mode: str
    conveyance_ref: str | None
    detection_method: str
    concealment: str | None
    origin: str | None
    transits: list[str]
    destination: str | None
    arrests: int
    sharing_level: str
    estimated_value_usd: float | None
    description: str
    items: list[ItemRow]
    parties: list[PartyRow]
    identifiers: list[IdentRow]
    created_by: str | None
    validated_by: str | None
    ring: str | None = None
    merged_into: int | None = None
    case_ref: str = ""
    shares: list[tuple[str, bool]] = field(default_factory=list)  # (agency code, nominal)


@dataclass(frozen=True)
class PlantedMember:
    key: str
    kind: str
    role: str
    nationality: str
    name: str
    spellings: tuple[str, ...]  # the spellings that occur in the demo database
    phone: str | None  # E.164
    id_number: str | None
    email: str | None


@dataclass(frozen=True)
class PlantedNetwork:
    """Ground truth of one planted ring (never written to the database)."""

    key: str
    name: str
    commodity_class: str
    countries: tuple[str, ...]  # countries of the agencies that reported its cases
    phases: tuple[int, ...]
    cases: tuple[tuple[str, str], ...]  # (reporting agency code, case_ref), merged duplicates included
    members: tuple[PlantedMember, ...]
    identifiers: tuple[tuple[str, str], ...]  # (kind, normalised value) seen in two cases or more


@dataclass(frozen=True)
class Plan:
    seed: int
    cases: tuple[CaseRow, ...]  # insertion order: every case before its merged duplicates
    networks: tuple[PlantedNetwork, ...]


# --- reference lookups (cached: a few dozen distinct texts) -----------------------------------------------


@cache
def resolve_substance(text: str) -> tuple[str, str]:
    from dragonnet.reference import substances

    match = substances.resolve(text)
    return match.substance.name, match.substance.control


@cache
def resolve_taxon(text: str) -> tuple[str, str | None, str | None]:
    from dragonnet.reference import cites

    match = cites.resolve(text)
    return match.taxon.name, match.taxon.listing, match.specimen_hint


@cache
def place_of(cp: CP, country: str) -> tuple[str | None, str, str | None, float | None, float | None]:
    """(locode, name, reference place type, latitude, longitude) of a contact point's place."""
    from dragonnet.reference import places

    if cp.locode:
        place = places.get(cp.locode)
    else:
        # Look the name up within the country's places (not via resolve(name, country): the country argument
        # goes through countries.resolve, which reads "MY" as the Vietnamese name of the United States).
        named = [p for p in places.for_country(country) if p.name == cp.place_name]
        place = named[0] if named else places.resolve(cp.place_name or cp.name)
    if place is None:
        raise LookupError(f"demo contact point {cp.code}: place {cp.locode or cp.place_name!r} not in reference data")
    return (place.locode or None), place.name, place.place_type, place.latitude, place.longitude


# --- the planner ------------------------------------------------------------------------------------------


@dataclass
class _Slot:
    phase: PhaseDef
    agency: AgencyDef
    klass: str
    status: str
    ring: RingDef | None = None


@dataclass
class _MemberState:
    member: MemberDef
    phone: codes.PhoneNumber | None
    spellings: list[str] = field(default_factory=list)


class _Planner:
    def __init__(
        self, seed: int, phases: tuple[PhaseDef, ...] = PHASES,
        targets: dict[int, dict[str, dict[str, int]]] | None = None, key_offset: int = 0,
    ) -> None:  # fmt: skip
        self.rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
        self.seed = seed
        self.phases = phases
        self.targets = TARGETS if targets is None else targets
        self.key_offset = key_offset  # keys of a second plan follow the first one's
        self.cases: list[CaseRow] = []
        self.members: dict[str, _MemberState] = {}
        self.ring_containers: dict[str, list[str]] = {}
        self.ring_vehicles: dict[str, str] = {}
        self.reporters: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        self.coordinators: dict[str, str] = {}
        for u in USERS:
            if "reporter" in u.roles:
                self.reporters[u.agency].append((u.username, u.cp))
            if "national_coordinator" in u.roles:
                self.coordinators[AGENCY_BY_CODE[u.agency].country or ""] = u.username

    # slots ----------------------------------------------------------------------------------------------

    def slots(self) -> list[_Slot]:
        rng = self.rng
        out: list[_Slot] = []
        for phase in self.phases:
            agencies = reporting_in(phase.number)
            for status, by_class in self.targets[phase.number].items():
                if status == MERGED:
                    continue
                chosen: list[_Slot] = []
                for klass, n in by_class.items():
                    weights = [a.weights.get(klass, 0.0) for a in agencies]
                    for agency in rng.choices(agencies, weights, k=n):
                        chosen.append(_Slot(phase, agency, klass, CaseStatus(status).value))
                if status == VALIDATED and phase.number in VN_VALIDATED:
                    self._adjust_vn(chosen, VN_VALIDATED[phase.number], agencies)
                out.extend(chosen)
        return out

    def _adjust_vn(self, slots: list[_Slot], target: int, agencies: list[AgencyDef]) -> None:
        """Move drug cases between Viet Nam's customs and other members until Viet Nam has `target`."""
        vn_customs = AGENCY_BY_CODE["VN-CUS"]
        others = [a for a in agencies if a.country != "VN"]
        count = sum(1 for s in slots if s.agency.country == "VN")
        drug = [s for s in slots if s.klass == DRUG]
        while count < target:
            s = self.rng.choice([s for s in drug if s.agency.country != "VN"])
            s.agency = vn_customs
            count += 1
        while count > target:
            s = self.rng.choice([s for s in drug if s.agency.code == "VN-CUS"])
            s.agency = self.rng.choices(others, [a.weights[DRUG] for a in others])[0]
            count -= 1

    def assign_rings(self, slots: list[_Slot]) -> None:
        rng = self.rng
        for ring in RINGS:
            used_countries: Counter[str] = Counter()
            for i in range(ring.cases):
                phase = ring.phases[i % len(ring.phases)]
                free = [
                    s for s in slots
                    if s.ring is None and s.phase.number == phase and s.klass == ring.klass
                    and s.status in (VALIDATED, SUBMITTED) and s.agency.code in ring.agencies
                ]  # fmt: skip
                if not free:
                    continue
                least = min(used_countries[s.agency.country or ""] for s in free)
                preferred = [s for s in free if used_countries[s.agency.country or ""] == least]
                slot = rng.choice(preferred)
                slot.ring = ring
                used_countries[slot.agency.country or ""] += 1
            if len(used_countries) < 2:
                raise RuntimeError(f"planted network {ring.key} spans fewer than two countries")

    # cases ----------------------------------------------------------------------------------------------

    def case_for(self, slot: _Slot) -> CaseRow:
        rng = self.rng
        agency, ring = slot.agency, slot.ring
        country = agency.country or ""
        if ring is not None:
            commodity = COMMODITY_BY_KEY[rng.choice(ring.commodities)]
            route = self._ring_route(ring, country)
        else:
            commodity = self._pick_commodity(slot.klass, country)
            route = self._route(commodity, country)
        origin, transits, destination, direction = route
        cp, mode = self._pick_cp_mode(agency, commodity, ring.modes if ring else None)
        if agency.kind == POLICE:
            direction = "domestic"
        locode, place_name, _ref_type, lat, lon = place_of(cp, country)
        seizure = slot.phase.start + dt.timedelta(days=rng.randrange((slot.phase.end - slot.phase.start).days + 1))
        reported = dt.datetime.combine(
            seizure + dt.timedelta(days=rng.randint(1, 10)), dt.time(rng.randint(1, 10), rng.randrange(60)), dt.UTC
        )
        status = slot.status
        submitted = None if status == DRAFT else reported
        validated = (
            reported + dt.timedelta(days=rng.randint(1, 14), hours=rng.randint(0, 8)) if status == VALIDATED else None
        )
        items = [self._item(commodity, mode, country)]
        if rng.random() < 0.12:
            second = self._pick_commodity(slot.klass, country, exclude=commodity.key)
            items.append(self._item(second, mode, country))
        conveyance, idents = self._conveyance(mode, origin, transits, country, ring, cp.kind)
        concealment = (
            rng.choice(ring.concealments) if ring else rng.choice(CONCEALMENT.get((slot.klass, mode), (None,)))
        )
        if ring is not None:
            parties = self._ring_parties(ring, mode, origin, destination, country)
            sharing = rng.choices(["amber", "red", "amber+strict", "green"], [50, 25, 10, 15])[0]
        else:
            parties = self._one_off_parties(mode, origin, transits, destination, country)
            sharing = rng.choices(["amber", "green", "clear", "red", "amber+strict"], [52, 30, 6, 6, 6])[0]
        value = sum(commodity.usd_per_unit * it.quantity for it in items[:1]) or None
        reporter = self._reporter(agency.code, cp.code)
        return CaseRow(
            key=len(self.cases) + self.key_offset, phase=slot.phase.number, agency=agency.code, status=status,
            klass=slot.klass,
            seizure_date=seizure, reported_at=reported, submitted_at=submitted, validated_at=validated,
            cp=cp.code, place_locode=locode, place_name=place_name, place_country=country,
            place_type=_place_type(cp.kind), latitude=lat, longitude=lon, direction=direction,
            transport_mode=mode, conveyance_ref=conveyance,
            detection_method=rng.choices(list(DETECTION[mode]), list(DETECTION[mode].values()))[0],
            concealment=concealment, origin=origin, transits=transits, destination=destination,
            arrests=self._arrests(mode), sharing_level=sharing,
            estimated_value_usd=round(value, -2) if value else None,
            description=_describe(items, place_name, concealment),
            items=items, parties=parties, identifiers=idents, created_by=reporter,
            validated_by=self.coordinators.get(country) if status == VALIDATED else None,
            ring=ring.key if ring else None,
        )  # fmt: skip

    def _reporter(self, agency: str, cp: str | None) -> str | None:
        options = self.reporters.get(agency, [])
        for username, user_cp in options:
            if user_cp == cp:
                return username
        return options[0][0] if options else None

    def _pick_commodity(self, klass: str, country: str, exclude: str | None = None) -> Commodity:
        cands = [c for c in COMMODITIES if c.klass == klass and c.key != exclude]
        weights = [
            c.weight * (3.0 if country in c.sources or country in c.hubs or country in c.destinations else 0.3)
            for c in cands
        ]
        return self.rng.choices(cands, weights)[0]

    def _hub(self, c: Commodity, *exclude: str) -> list[str]:
        hubs = [h for h in c.hubs if h not in exclude]
        return [self.rng.choice(hubs)] if hubs and self.rng.random() < 0.45 else []

    def _route(self, c: Commodity, country: str) -> tuple[str, list[str], str, str]:
        rng = self.rng
        if country in c.destinations and (country not in c.sources or rng.random() < 0.5):
            origin = rng.choice([s for s in c.sources if s != country] or list(c.sources))
            return origin, self._hub(c, origin, country), country, "import"
        if country in c.sources:
            dest = rng.choice([d for d in c.destinations if d != country])
            return country, self._hub(c, country, dest), dest, "export"
        if country in c.hubs:
            origin = rng.choice([s for s in c.sources if s != country])
            dest = rng.choice([d for d in c.destinations if d != country])
            return origin, [country], dest, "transit"
        origin = rng.choice(c.sources)
        return origin, self._hub(c, origin, country), country, "import"

    def _ring_route(self, ring: RingDef, country: str) -> tuple[str, list[str], str, str]:
        fitting = [r for r in ring.routes if country == r[0] or country == r[2] or country in r[1]]
        origin, transits, dest = self.rng.choice(fitting) if fitting else (ring.routes[0][0], (), country)
        if country == origin:
            direction = "export"
        elif country == dest:
            direction = "import"
        else:
            direction = "transit"
        return origin, list(transits), dest, direction

    def _pick_cp_mode(self, agency: AgencyDef, c: Commodity, allowed: tuple[str, ...] | None) -> tuple[CP, str]:
        options: list[tuple[CP, str]] = []
        weights: list[float] = []
        for cp in agency.cps:
            for mode in MODES_AT[cp.kind]:
                w = c.modes.get(mode, 0.0)
                if allowed is not None:
                    w = (w or 0.5) if mode in allowed else 0.0
                if w > 0:
                    options.append((cp, mode))
                    weights.append(w)
        if not options:
            cp = self.rng.choice(agency.cps)
            return cp, MODES_AT[cp.kind][0]
        return self.rng.choices(options, weights)[0]

    def _item(self, c: Commodity, mode: str, country: str) -> ItemRow:
        rng = self.rng
        lo, hi = c.bulk if mode in BULK_MODES else c.small if mode in SMALL_MODES else c.parcel
        q = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        if c.unit == "tablets":
            q = float(round(q, -2) if q > 1000 else max(10, round(q)))
        elif c.unit in ("pieces", "l"):
            q = float(max(1, round(q)))
        else:
            q = round(q, 2 if q < 10 else 1)
        quantity = make_quantity(q, c.unit)
        text = self._text(c, country)
        substance: str | None = None
        control: str | None = None
        taxon: str | None = None
        appendix: str | None = None
        specimen: str | None = None
        if c.klass in (DRUG, PRECURSOR):
            substance, control = resolve_substance(text)
        else:
            taxon, appendix, hint = resolve_taxon(text)
            specimen = c.specimen or hint
        goods = rng.choice(DECLARED_GOODS[c.klass]) if mode in (S_C, A_C, EXP) and rng.random() < 0.7 else None
        return ItemRow(
            commodity=c.key, commodity_class=c.klass,
            substance_text=text if substance else None, substance=substance, substance_control=control,
            taxon_text=text if taxon else None, taxon=taxon, cites_appendix=appendix, specimen_type=specimen,
            quantity=quantity.value, unit=quantity.unit.value, quantity_text=_quantity_text(q, c.unit, country),
            mass_kg=quantity.mass_kg, hs_code=goods[1] if goods else None,
            goods_description=goods[0] if goods else None,
        )  # fmt: skip

    def _text(self, c: Commodity, country: str, avoid: str | None = None) -> str:
        """The substance or taxon as this officer writes it (Vietnamese or Chinese by preference at home)."""
        rng = self.rng
        texts = [t for t in c.texts if t != avoid] or list(c.texts)
        local = [
            t for t in texts if (country == "VN" and _is_vietnamese(t)) or (country in ("CN", "HK") and _has_cjk(t))
        ]
        if local and rng.random() < 0.5:
            return rng.choice(local)
        if texts[0] == c.texts[0] and rng.random() < 0.4:
            return texts[0]
        return rng.choice([t for t in texts if not _has_cjk(t) and not _is_vietnamese(t)] or texts)

    def _conveyance(
        self, mode: str, origin: str | None, transits: list[str], country: str, ring: RingDef | None, place_type: str
    ) -> tuple[str | None, list[IdentRow]]:
        rng = self.rng
        idents: list[IdentRow] = []
        last_hop = transits[-1] if transits else origin or country
        if mode == S_C:
            pool = self.ring_containers.get(ring.key, []) if ring else []
            number = (
                rng.choice(pool)
                if pool and rng.random() < 0.75
                else codes.container_number(rng, rng.choice(CONTAINER_OWNERS))
            )
            written = codes.container_variant(number, rng)
            idents.append(IdentRow("container", written, number))
            if rng.random() < 0.6:
                vessel = f"MV {rng.choice(VESSEL_NAMES)}"
                idents.append(IdentRow("vessel", vessel, codes.normalise_identifier("vessel", vessel)))
            return written, idents
        if mode == S_O:
            if country == "VN" or rng.random() < 0.4:
                vessel = f"{rng.choice(['KG', 'BV', 'QN', 'HP'])}-{rng.randrange(10000, 99999)}-TS"
            else:
                vessel = f"MV {rng.choice(VESSEL_NAMES)}"
            idents.append(IdentRow("vessel", vessel, codes.normalise_identifier("vessel", vessel)))
            return vessel, idents
        if mode == A_P:
            airline = AIRLINES.get(last_hop) or AIRLINES.get(country) or ("ZZ", "000")
            return f"{airline[0]}{rng.randrange(10, 990)}", idents
        if mode == A_C:
            airline = AIRLINES.get(last_hop) or AIRLINES.get(country) or ("ZZ", "000")
            return codes.awb_number(rng, airline[1]), idents
        if mode == ROAD:
            if ring is not None and ring.vehicle_country and rng.random() < 0.7:
                plate = self.ring_vehicles[ring.key]
            else:
                # A foreign plate only on a vehicle that crossed from a neighbouring country.
                neighbours = [c for c in (origin, *transits) if c in LAND_NEIGHBOURS.get(country, ())]
                at_border = place_type == "land_border"
                plate_country = neighbours[-1] if neighbours and at_border and rng.random() < 0.5 else country
                plate = codes.vehicle_plate(rng, plate_country)
            idents.append(IdentRow("vehicle", plate, codes.normalise_identifier("vehicle", plate)))
            return plate, idents
        if mode == RAIL:
            return f"Train {rng.choice(['MR', 'SP', 'T'])}{rng.randrange(1, 99)}", idents
        if mode == POST:
            return codes.s10_number(rng, origin or country, rng.choice(["RR", "EE", "CP", "LX"])), idents
        if mode == EXP:
            return f"{rng.randrange(10**9, 10**10)}", idents
        return None, idents

    def _arrests(self, mode: str) -> int:
        options = {A_P: (1, 1, 1, 2), PED: (1, 1, 2, 0), ROAD: (0, 1, 1, 2, 3), S_O: (0, 1, 2, 3)}
        return self.rng.choice(options.get(mode, (0, 0, 0, 1, 2) if mode in (S_C, A_C) else (0, 0, 0, 1)))

    # parties --------------------------------------------------------------------------------------------

    def _person(self, role: str, country: str) -> PartyRow:
        rng = self.rng
        name = person_name(rng, country)
        party = PartyRow(
            role=role, kind="person", name=name, nationality=country,
            birth_date=birth_date(rng) if rng.random() < 0.8 else None,
            id_number=codes.passport_number(rng, country) if rng.random() < 0.7 else None,
            phone=None, email=email_for(rng, name, country) if rng.random() < 0.2 else None,
            address=address(rng, country) if rng.random() < 0.4 else None,
        )  # fmt: skip
        if rng.random() < 0.5:
            self._add_phone(party, country)
        self._party_idents(party)
        return party

    def _company(self, role: str, country: str) -> PartyRow:
        rng = self.rng
        name = company_name(rng, country)
        party = PartyRow(
            role=role, kind="company", name=name, nationality=country,
            birth_date=None, id_number=f"{rng.randrange(10**8, 10**10)}" if rng.random() < 0.4 else None,
            phone=None, email=email_for(rng, name, country) if rng.random() < 0.4 else None,
            address=address(rng, country) if rng.random() < 0.8 else None,
        )  # fmt: skip
        if rng.random() < 0.4:
            self._add_phone(party, country)
        self._party_idents(party)
        return party

    def _add_phone(self, party: PartyRow, region: str, number: codes.PhoneNumber | None = None) -> None:
        number = number or codes.mobile_number(self.rng, region)
        if number is None:
            return
        party.phone = codes.phone_text(number, self.rng.choice(["e164", "intl", "local"]))
        party.identifiers.append(IdentRow("phone", party.phone, codes.e164(number)))

    def _party_idents(self, party: PartyRow) -> None:
        if party.email:
            party.identifiers.append(IdentRow("email", party.email, codes.normalise_identifier("email", party.email)))
        if party.kind == "person" and party.id_number:
            party.identifiers.append(
                IdentRow("passport", party.id_number, codes.normalise_identifier("passport", party.id_number))
            )

    def _one_off_parties(
        self, mode: str, origin: str | None, transits: list[str], dest: str | None, country: str
    ) -> list[PartyRow]:
        rng = self.rng
        if rng.random() < 0.2:
            return []
        origin, dest = origin or country, dest or country
        if mode in (A_P, PED, RAIL):
            nat = rng.choices([origin, country, dest, *transits], [3, 3, 2] + [1] * len(transits))[0]
            return [self._person("courier", nat)]
        if mode == ROAD:
            out = [self._person("driver", rng.choice([country, country, origin]))]
            if rng.random() < 0.4:
                out.append(self._person("owner", country) if rng.random() < 0.5 else self._company("owner", country))
            return out
        if mode in (S_C, A_C):
            out = [self._company("consignor", origin)]
            if rng.random() < 0.8:
                out.append(self._company("consignee", dest) if rng.random() < 0.6 else self._person("consignee", dest))
            return out
        if mode in (POST, EXP):
            out = [self._person("consignee", dest)]
            if rng.random() < 0.5:
                out.append(self._person("consignor", origin))
            return out
        return [self._person("owner", country)]

    def _member(self, m: MemberDef) -> _MemberState:
        state = self.members.get(m.key)
        if state is None:
            state = _MemberState(m, codes.mobile_number(self.rng, m.nationality) if m.phone else None)
            self.members[m.key] = state
        return state

    def _member_party(self, m: MemberDef, *, avoid: str | None = None) -> PartyRow:
        rng = self.rng
        state = self._member(m)
        choices = [v for v in m.variants if v != avoid] or list(m.variants)
        name = choices[0] if rng.random() < 0.35 else rng.choice(choices)
        state.spellings.append(name)
        id_number = m.id_number
        if id_number and m.kind == "person" and rng.random() < 0.3:
            id_number = f"{id_number[:1]} {id_number[1:]}"
        party = PartyRow(
            role=m.role, kind=m.kind, name=name, nationality=m.nationality, birth_date=m.birth_date,
            id_number=id_number if rng.random() < 0.8 else None, phone=None,
            email=m.email if m.email and rng.random() < 0.6 else None,
            address=m.address if m.address and rng.random() < 0.7 else None, member=m.key,
        )  # fmt: skip
        if state.phone is not None and rng.random() < 0.85:
            self._add_phone(party, m.nationality, state.phone)
        self._party_idents(party)
        return party

    def _ring_parties(self, ring: RingDef, mode: str, origin: str, dest: str, country: str) -> list[PartyRow]:
        rng = self.rng
        members = list(ring.members)
        chosen: list[MemberDef] = []
        if rng.random() < 0.8:
            chosen.append(members[0])
        others = members[1:]
        rng.shuffle(others)
        chosen.extend(others[: rng.randint(0 if chosen else 1, len(others))])
        parties = [self._member_party(m) for m in chosen]
        if mode in (A_P, PED) and not any(p.role == "courier" for p in parties):
            parties.append(self._person("courier", rng.choice([origin, dest, country])))
        elif mode == ROAD and not any(p.role == "driver" for p in parties):
            parties.append(self._person("driver", country))
        return parties

    # merged duplicates ----------------------------------------------------------------------------------

    def duplicate_agency(self, twin: CaseRow) -> AgencyDef | None:
        """Who else reported the same seizure: Viet Nam's police (joint customs-police cases) or the customs
        of another country on the route (controlled deliveries, notifications of origin and destination)."""
        active = reporting_in(twin.phase)
        if twin.place_country == "VN":
            if twin.agency == "VN-CUS":
                code = "VN-MPS-C04" if twin.klass in (DRUG, PRECURSOR) else "VN-MPS-C05"
            else:
                code = "VN-CUS"
            found = [a for a in active if a.code == code]
            return found[0] if found else None
        route = [twin.origin, *twin.transits, twin.destination]
        cands = [a for a in active if a.kind != POLICE and a.country in route and a.country != twin.place_country]
        return self.rng.choice(cands) if cands else None

    def duplicate(self, twin: CaseRow, agency: AgencyDef) -> CaseRow:
        rng = self.rng
        reported = twin.reported_at + dt.timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 5))
        items = []
        for it in twin.items:
            c = COMMODITY_BY_KEY[it.commodity]
            text = it.substance_text or it.taxon_text or ""
            alt = self._text(c, agency.country or "", avoid=text) if rng.random() < 0.5 else text
            if it.substance and resolve_substance(alt)[0] != it.substance:
                alt = text
            if it.taxon and resolve_taxon(alt)[0] != it.taxon:
                alt = text
            items.append(
                replace(it, substance_text=alt if it.substance else None, taxon_text=alt if it.taxon else None)
            )
        parties: list[PartyRow] = []
        for p in twin.parties:
            if p.member is not None:
                member = next(m for r in RINGS for m in r.members if m.key == p.member)
                copy = self._member_party(member, avoid=p.name)
                copy.role = p.role
            else:
                name = codes.ascii_fold(p.name) if rng.random() < 0.5 else p.name
                copy = replace(p, name=name, identifiers=list(p.identifiers))
            parties.append(copy)
        cp = agency.cps[0].code if agency.kind == POLICE else None
        return replace(
            twin, key=len(self.cases) + self.key_offset, agency=agency.code, status=MERGED, reported_at=reported,
            submitted_at=reported, validated_at=None, cp=cp, items=items, parties=parties,
            identifiers=list(twin.identifiers), created_by=self._reporter(agency.code, cp), validated_by=None,
            merged_into=twin.key, shares=[],
            description=f"{twin.description} Joint case / notification of the seizure reported by {twin.agency}.",
        )  # fmt: skip

    # sharing --------------------------------------------------------------------------------------------

    def shares(self, case: CaseRow) -> None:
        rng = self.rng
        route = {case.origin, *case.transits, case.destination} - {None, case.place_country}
        recipients = sorted(a.code for a in reporting_in(case.phase) if a.country in route and a.code != case.agency)
        if case.sharing_level == SharingLevel.RED.value:
            if not recipients:
                case.sharing_level = SharingLevel.AMBER_STRICT.value
                return
            for code in rng.sample(recipients, min(2, len(recipients))):
                case.shares.append((code, rng.random() < (0.6 if case.ring else 0.4)))
        elif case.sharing_level == SharingLevel.AMBER.value and recipients and rng.random() < 0.3:
            for code in rng.sample(recipients, min(2, len(recipients))):
                case.shares.append((code, rng.random() < (0.6 if case.ring else 0.2)))

    # the whole plan -------------------------------------------------------------------------------------

    def run(self) -> Plan:
        rng = self.rng
        for ring in RINGS:
            self.ring_containers[ring.key] = [
                codes.container_number(rng, rng.choice(CONTAINER_OWNERS)) for _ in range(ring.containers)
            ]
            if ring.vehicle_country:
                self.ring_vehicles[ring.key] = codes.vehicle_plate(rng, ring.vehicle_country)
        slots = self.slots()
        self.assign_rings(slots)
        for slot in slots:
            self.cases.append(self.case_for(slot))
        self._merged_duplicates()
        for case in self.cases:
            if case.merged_into is None:
                self.shares(case)
            else:
                case.sharing_level = self._case(case.merged_into).sharing_level
        self._case_refs()
        self._ensure_variants()
        ordered = sorted(self.cases, key=lambda c: (c.merged_into is not None, c.seizure_date, c.agency, c.case_ref))
        return Plan(self.seed, tuple(ordered), tuple(self._networks()))

    def run_current(self, now: dt.datetime) -> Plan:
        """The current phase's cases so far (no planted ring recurs in it): seized before `now`, and reported,
        submitted and validated no later than `now`."""
        for slot in self.slots():
            self.cases.append(self.case_for(slot))
        self._merged_duplicates()
        for case in self.cases:
            if case.merged_into is None:
                self.shares(case)
            else:
                case.sharing_level = self._case(case.merged_into).sharing_level
        for case in self.cases:
            self._not_after(case, now)
        self._case_refs()
        ordered = sorted(self.cases, key=lambda c: (c.merged_into is not None, c.seizure_date, c.agency, c.case_ref))
        return Plan(self.seed, tuple(ordered), ())

    def _not_after(self, case: CaseRow, now: dt.datetime) -> None:
        """Nothing of a running phase is dated in the future: report, submission and validation times that
        would be are brought back to the last hours before `now` (in their order)."""
        latest = now - dt.timedelta(minutes=self.rng.randint(20, 600))
        for name in ("reported_at", "submitted_at", "validated_at"):
            value = getattr(case, name)
            if value is not None and value > latest:
                setattr(case, name, latest)
            if value is not None:
                latest = max(getattr(case, name), latest)
        # Not before the seizure's day (noon, or `now` when the seizure is today and it is not noon yet).
        floor = min(dt.datetime.combine(case.seizure_date, dt.time(12), dt.UTC), now)
        for name in ("reported_at", "submitted_at", "validated_at"):
            if getattr(case, name) is not None and getattr(case, name) < floor:
                setattr(case, name, floor)

    def _case(self, key: int) -> CaseRow:
        return self.cases[key - self.key_offset]

    def _merged_duplicates(self) -> None:
        rng = self.rng
        originals = [c for c in self.cases if c.merged_into is None]
        for phase in self.phases:
            for klass, n in self.targets[phase.number].get(MERGED, {}).items():
                pool = [c for c in originals if c.phase == phase.number and c.klass == klass and c.status == VALIDATED]
                rng.shuffle(pool)
                made = 0
                for twin in pool:
                    if made == n:
                        break
                    agency = self.duplicate_agency(twin)
                    if agency is None:
                        continue
                    self.cases.append(self.duplicate(twin, agency))
                    made += 1
                if made < n:
                    raise RuntimeError(f"phase {phase.number}: only {made} of {n} merged {klass} duplicates possible")

    def _case_refs(self) -> None:
        by_agency: dict[str, list[CaseRow]] = defaultdict(list)
        for c in self.cases:
            by_agency[c.agency].append(c)
        for code, cases in by_agency.items():
            prefix = AGENCY_BY_CODE[code].ref_prefix or code
            counters: Counter[int] = Counter()
            for c in sorted(cases, key=lambda c: (c.seizure_date, c.reported_at, c.key)):
                year = c.seizure_date.year
                counters[year] += 1
                c.case_ref = f"{prefix}-{year}-{counters[year]:05d}"

    def _ensure_variants(self) -> None:
        """Every ring shows at least one member under two spellings (else respell its last appearance)."""
        for ring in RINGS:
            parties = [p for c in self.cases if c.ring == ring.key for p in c.parties if p.member]
            if any(len({p.name for p in parties if p.member == m.key}) > 1 for m in ring.members):
                continue
            for p in reversed(parties):
                if sum(1 for q in parties if q.member == p.member) > 1:
                    member = next(m for m in ring.members if m.key == p.member)
                    p.name = next(v for v in member.variants if v != p.name)
                    self.members[member.key].spellings.append(p.name)
                    break
            else:
                raise RuntimeError(f"planted network {ring.key}: no member appears twice")

    def _networks(self) -> list[PlantedNetwork]:
        out: list[PlantedNetwork] = []
        for ring in RINGS:
            cases = [c for c in self.cases if c.ring == ring.key]
            seen: Counter[tuple[str, str]] = Counter()
            for c in cases:
                keys = {(i.kind, i.normalised) for i in c.identifiers}
                keys |= {(i.kind, i.normalised) for p in c.parties if p.member for i in p.identifiers}
                seen.update(keys)
            members = []
            for m in ring.members:
                spellings = tuple(sorted({p.name for c in cases for p in c.parties if p.member == m.key}))
                if not spellings:
                    continue
                state = self.members[m.key]
                members.append(
                    PlantedMember(
                        m.key, m.kind, m.role, m.nationality, m.variants[0], spellings,
                        codes.e164(state.phone) if state.phone else None, m.id_number, m.email,
                    )
                )  # fmt: skip
            out.append(
                PlantedNetwork(
                    key=ring.key,
                    name=ring.name,
                    commodity_class=ring.klass,
                    countries=tuple(sorted({AGENCY_BY_CODE[c.agency].country or "" for c in cases})),
                    phases=tuple(sorted({c.phase for c in cases})),
                    cases=tuple(sorted((c.agency, c.case_ref) for c in cases)),
                    members=tuple(members),
                    identifiers=tuple(sorted(k for k, n in seen.items() if n >= 2)),
                )
            )
        return out


def _place_type(cp_kind: str) -> str:
    return {"headquarters": "inland"}.get(cp_kind, cp_kind)


def _is_vietnamese(text: str) -> bool:
    return any(ch in "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹàáèéìíòóùúýõã" for ch in text.lower())


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


_LOCAL_UNITS = {
    "VN": {"tablets": "viên", "pieces": "con", "kg": "kg", "l": "lít", "m3": "m3"},
    "CN": {"tablets": "粒", "pieces": "只", "kg": "公斤", "l": "升", "m3": "立方米"},
}


def _quantity_text(value: float, unit: str, country: str) -> str:
    number = f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    if country in DECIMAL_COMMA:
        number = number.replace(".", ",")
    return f"{number} {_LOCAL_UNITS.get(country, {}).get(unit, unit)}"


def _describe(items: list[ItemRow], place: str, concealment: str | None) -> str:
    what = "; ".join(f"{it.quantity_text} {it.substance_text or it.taxon_text}" for it in items)
    hidden = f", {concealment}" if concealment else ""
    return f"Seizure of {what} at {place}{hidden}."


@cache
def make_plan(seed: int = 2023) -> Plan:
    """The deterministic demo plan for `seed` (cached: the same object for the same seed)."""
    return _Planner(seed).run()


def make_current_plan(seed: int, today: dt.date, now: dt.datetime, key_offset: int) -> Plan:
    """The current phase's cases so far, for a demo built on `today` (deterministic for the seed and the day):
    seized from the phase's start to yesterday, reported no later than `now`."""
    phase = current_phase(today)
    drawn = replace(phase, end=max(phase.start, today - dt.timedelta(days=1)))
    planner = _Planner(seed * 7919 + phase.number, (drawn,), {phase.number: CURRENT_TARGETS}, key_offset)
    return planner.run_current(now)
