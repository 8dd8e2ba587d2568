"""What a running operation holds beside its cases, so that every capability shows on first login: alerts of the
current phase and their answers, the risk profiles three agencies keep, and their shipment declarations (a
labelled history and today's batch) with patterns tied to the planted rings. Plain data and files: the
capabilities load them through their own services (`hooks.demo_built`).

The declarations are invented like the cases. Per office, ordinary traffic (many importers, realistic HS codes
and values, a small share inspected) and the rings' shipments: their companies as importer or exporter (spelt
as in the cases), their routes and HS codes of the goods they declare (cashew nuts, tea, logs, solvents), their
reused containers. An inspected ring shipment is usually a seizure; so are a few undervalued or oddly described
ordinary ones. Today's batch holds a few ring shipments among the ordinary ones: the lists rank them high.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from dragonnet.demo import codes
from dragonnet.demo.catalogue import CONTAINER_OWNERS
from dragonnet.demo.people import company_name
from dragonnet.demo.plan import PlantedNetwork
from dragonnet.hooks import DemoAlert, DemoAnswer, DemoDeclarations

# --- alerts of the current phase ----------------------------------------------------------------------------


def alerts(networks: list[PlantedNetwork]) -> tuple[DemoAlert, ...]:
    """Five alerts: answered with a seizure (the sender reads what was found, while the case stays with its
    owner), answered with nothing found, one still unacknowledged past its deadline, a GREEN one every member
    reads and a CLEAR modus-operandi alert partner observers read too."""
    pangolin_container = _container(networks, "nigeria-pangolin", 1)
    tea_container = _container(networks, "tea-ice-au", 2)
    return (
        DemoAlert(
            sender="vn.reporter2", hours_ago=50, urgency="priority", sharing_level="amber",
            title="Pangolin scales behind cashew nuts: Lagos - Singapore - Hai Phong",
            origin="NG", transits=("SG",), destination="VN", transport_mode="sea_container",
            identifiers=(("container", pangolin_container),),
            indicators=("declared as cashew nuts in shell", "consignee Hoang Phat Trading (earlier seizures)"),
            details="Same consignee as two of our earlier pangolin-scale seizures at Hai Phong. The container "
                    "left Apapa (Lagos) and is due for transhipment in Singapore.",
            answers=(
                DemoAnswer("sg.reporter", ack_hours=1.5, result="seizure_made", answer_hours=20,
                           note="Container inspected at transhipment (Pasir Panjang): 84 sacks of scales behind "
                                "the cashew nuts. Consignee and shipper details passed to RILO AP.",
                           found=("wildlife", "pangolin scales", 1260.0, "kg"), seizure_days_ago=1),
                DemoAnswer("rilo.analyst", ack_hours=3),
                DemoAnswer("vn.police.env", ack_hours=14),
            ),
        ),
        DemoAlert(
            sender="th.reporter", hours_ago=120, urgency="immediate", sharing_level="amber",
            title="Methamphetamine in Chinese tea packaging, Laem Chabang to Australia",
            origin="MM", transits=("TH", "MY"), destination="AU", transport_mode="sea_container",
            identifiers=(("container", tea_container),),
            indicators=("declared as oolong tea", "consignee Southern Cross Asian Grocery"),
            answers=(
                DemoAnswer("my.reporter", ack_hours=1, result="inspected_nothing_found", answer_hours=9,
                           note="Transhipment at Port Klang: X-ray and physical examination, nothing found. "
                                "Sent on to Melbourne."),
                DemoAnswer("au.reporter", ack_hours=1.5, result="seizure_made", answer_hours=70,
                           note="Found in the tea bags at Melbourne: 40 kg crystalline methamphetamine.",
                           found=("drug", "methamphetamine", 40.0, "kg"), seizure_days_ago=2),
                DemoAnswer("rilo.analyst", ack_hours=4),
            ),
        ),
        DemoAlert(
            sender="my.reporter", hours_ago=3, urgency="immediate", sharing_level="amber",
            title="Rhino horn couriers: Johannesburg - Doha - Ha Noi",
            subject_kind="person", origin="ZA", transits=("QA",), destination="VN", transport_mode="air_passenger",
            identifiers=(("flight", "QR 976"),),
            indicators=("two passengers travelling together, checked luggage wrapped in foil",),
            details="Same pattern as the couriers we stopped at Kuala Lumpur last month.",
            answers=(DemoAnswer("rilo.analyst2", ack_hours=0.5),),  # Viet Nam's agencies: not yet, overdue
        ),
        DemoAlert(
            sender="cn.reporter", hours_ago=26, urgency="routine", sharing_level="green",
            title="Ephedrine declared as paint thinner, India to Myanmar via Thailand",
            origin="IN", transits=("TH",), destination="MM", transport_mode="sea_container",
            indicators=("declared as paint thinner (HS 3814)", "shipper Shree Ganesh Pharma Chem"),
            answers=(DemoAnswer("th.reporter", ack_hours=5), DemoAnswer("rilo.analyst", ack_hours=6)),
        ),
        DemoAlert(
            sender="rilo.analyst2", hours_ago=72, urgency="routine", sharing_level="clear",
            title="Modus operandi: rosewood logs under cassava loads on the Lao border",
            origin="LA", transits=(), destination="VN", transport_mode="road",
            indicators=("trucks declared as cassava chips", "logs under the top layer"),
            details="A trend seen in several cases of phases IV and V; no case detail in this alert.",
            answers=(DemoAnswer("vn.reporter5", ack_hours=20), DemoAnswer("la.reporter", ack_hours=30)),
        ),
    )  # fmt: skip


def _container(networks: list[PlantedNetwork], ring: str, seed: int) -> str:
    """A container number the ring reused in its cases (a valid one of its own otherwise)."""
    for network in networks:
        if network.key == ring:
            found = sorted(value for kind, value in network.identifiers if kind == "container")
            if found:
                return f"{found[0][:4]} {found[0][4:10]}-{found[0][10]}"
    return codes.container_number(random.Random(seed), "MSCU")  # noqa: S311


# --- stored risk profiles -----------------------------------------------------------------------------------


def profiles(today: dt.date) -> tuple[tuple[str, str], ...]:
    """(the analyst who stores them, the YAML) per owning agency; review dates around today, one already due."""
    soon, later, overdue = today + dt.timedelta(days=20), today + dt.timedelta(days=90), today - dt.timedelta(days=5)
    return (
        ("vn.coordinator", f"""
profiles:
  - id: vn-wildlife-route
    name: Wildlife source countries through Singapore or Malaysia to Viet Nam
    owner: VN-CUS
    sharing: green
    weight: 1.5
    review_by: {later}
    responsible: vn.coordinator
    conditions:
      - route: {{origin_in: [NG, CM, CD, MZ, TZ, ZA], transit_in: [SG, MY, ET, AE]}}
  - id: vn-importer-in-case
    name: Importer named in one of our seizure cases
    owner: VN-CUS
    sharing: amber+strict
    weight: 2.0
    review_by: {overdue}
    responsible: vn.coordinator
    conditions:
      - party_history: {{party: importer, seen_in_case: true}}
  - id: vn-timber-by-road
    name: Logs and wooden furniture by road from Laos or Cambodia
    owner: VN-CUS
    sharing: amber
    share_with: [CN-GACC]
    weight: 1.0
    review_by: {soon}
    conditions:
      - {{field: hs_code, prefix: ["4403", "4407", "9403"]}}
      - route: {{origin_in: [LA, KH]}}
"""),
        ("th.coordinator", f"""
profiles:
  - id: th-precursor-chemicals
    name: Precursor chemicals and solvents declared for Myanmar
    owner: TH-CUS
    sharing: green
    weight: 1.5
    mandatory: true
    review_by: {later}
    responsible: th.coordinator
    conditions:
      - {{field: hs_code, prefix: ["2939", "291524", "3814"]}}
  - id: th-undervalued
    name: Value per kg below the HS code's 5th percentile
    owner: TH-CUS
    sharing: green
    weight: 1.0
    review_by: {later}
    conditions:
      - value_per_kg: {{below: p05}}
  - id: th-concealment-words
    name: Wildlife or drug words in the goods description (en, vi, zh)
    owner: TH-CUS
    sharing: green
    weight: 2.0
    review_by: {soon}
    conditions:
      - text: {{field: goods_description, any: ["scales", "vảy", "ivory", "ngà", "象牙", "horn", "crystal", "tablets"]}}
"""),
        ("my.coordinator", f"""
profiles:
  - id: my-repeat-importer
    name: Importer with an earlier seizure
    owner: MY-RMCD
    sharing: green
    weight: 1.2
    review_by: {later}
    conditions:
      - party_history: {{party: importer, min_seizures: 1}}
  - id: my-logs-from-east-africa
    name: Logs and scrap from East Africa (ivory concealment)
    owner: MY-RMCD
    sharing: amber
    share_with: [VN-CUS, SG-CUS]
    weight: 1.3
    review_by: {later}
    conditions:
      - route: {{origin_in: [MZ, TZ, KE]}}
      - {{field: hs_code, prefix: ["4403", "3915"]}}
"""),
    )  # fmt: skip


# --- shipment declarations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Goods:
    hs: str
    text: str
    usd_per_kg: float


ORDINARY = (
    Goods("030389", "frozen fish", 4.0), Goods("071420", "dried cassava chips", 0.4),
    Goods("080132", "cashew nuts, shelled", 7.5), Goods("090111", "green coffee beans", 3.2),
    Goods("090230", "black tea", 4.5), Goods("100630", "milled rice", 0.6), Goods("170199", "white sugar", 0.5),
    Goods("210690", "food preparations", 8.0), Goods("330499", "cosmetics", 25.0),
    Goods("392690", "plastic articles", 6.0), Goods("401110", "car tyres", 5.0),
    Goods("440729", "sawn tropical wood", 0.9), Goods("481910", "cartons", 1.5),
    Goods("610910", "cotton t-shirts", 18.0), Goods("640299", "footwear", 14.0),
    Goods("730890", "steel structures", 2.0), Goods("847130", "laptops", 300.0),
    Goods("851712", "mobile phones", 500.0), Goods("870323", "passenger cars", 12.0),
    Goods("940360", "wooden furniture", 3.0), Goods("950300", "toys", 10.0),
)  # fmt: skip


@dataclass(frozen=True)
class RingShipment:
    """How a ring's shipments look in one agency's declarations."""

    ring: str
    office: str
    mode: str
    importer: tuple[str, ...]  # spellings
    exporter: tuple[str, ...]
    origins: tuple[str, ...]
    transits: tuple[str, ...]
    goods: tuple[Goods, ...]
    per_day: float  # shipments per day on average


@dataclass(frozen=True)
class Office:
    locode: str
    mode: str
    per_day: int


@dataclass(frozen=True)
class AgencyDeclarations:
    agency: str
    offices: tuple[Office, ...]
    origins: tuple[str, ...]
    rings: tuple[RingShipment, ...]


AGENCIES: tuple[AgencyDeclarations, ...] = (
    AgencyDeclarations(
        "VN-CUS", (Office("VNHPH", "sea_container", 9), Office("VNLGS", "road", 5)),
        ("CN", "TH", "KR", "JP", "SG", "MY", "IN", "US", "DE", "LA", "KH", "ID", "NG", "BR"),
        (
            RingShipment("nigeria-pangolin", "VNHPH", "sea_container",
                         ("HOANG PHAT TRADING COMPANY LIMITED", "Hoang Phat Trading Co., Ltd",
                          "Công ty TNHH Thương mại Hoàng Phát"),
                         ("CHUKWUDI GLOBAL VENTURES LIMITED", "Chukwudi Global Ventures Ltd"), ("NG",), ("SG", "MY"),
                         (Goods("080131", "cashew nuts in shell", 1.2), Goods("091011", "fresh ginger", 0.8)), 0.08),
            RingShipment("rosewood-north", "VNLGS", "road",
                         ("PHU GIA FOREST PRODUCTS CO LTD", "Phu Gia Forest Products Co., Ltd"),
                         ("SENGDARA WOOD PROCESSING", "Sengdara Wood Processing Co., Ltd"), ("LA",), (),
                         (Goods("440349", "tropical logs", 0.3), Goods("940360", "wooden furniture", 1.1)), 0.06),
        ),
    ),
    AgencyDeclarations(
        "TH-CUS", (Office("THLCH", "sea_container", 10), Office("THBKK", "air_cargo", 6)),
        ("CN", "JP", "KR", "US", "DE", "IN", "MY", "SG", "VN", "MM", "AU", "FR", "IT"),
        (
            RingShipment("precursors-mm", "THLCH", "sea_container", ("AUNG KO KO", "U Aung Ko Ko"),
                         ("SHREE GANESH PHARMACHEM PVT. LTD.", "Shree Ganesh Pharma Chem Pvt Ltd"), ("IN",), (),
                         (Goods("381400", "paint thinner", 0.9), Goods("293941", "ephedrine hydrochloride", 40.0)),
                         0.06),
            RingShipment("tea-ice-au", "THLCH", "sea_container",
                         ("SOUTHERN CROSS ASIAN GROCERY PTY. LTD.", "Southern Cross Asian Grocery"),
                         ("SINAR JAYA TRADING SDN. BHD.", "Sinar Jaya Trading Sdn Bhd"), ("MM",), ("TH",),
                         (Goods("090230", "oolong tea in tea bags", 1.5),), 0.05),
        ),
    ),
    AgencyDeclarations(
        "MY-RMCD", (Office("MYPKG", "sea_container", 12),),
        ("CN", "JP", "KR", "US", "DE", "IN", "TH", "SG", "VN", "ID", "AU", "MZ", "TZ", "AE"),
        (
            RingShipment("mozambique-ivory", "MYPKG", "sea_container",
                         ("JAYA MAKMUR ENTERPRISE SDN. BHD.", "Jaya Makmur Enterprise Sdn Bhd"),
                         ("NACALA MARINE PRODUCTS, LDA", "Nacala Marine Products Lda"), ("MZ", "TZ"), (),
                         (Goods("440349", "timber logs", 0.25), Goods("391590", "plastic scrap", 0.2)), 0.07),
            RingShipment("tea-ice-au", "MYPKG", "sea_container",
                         ("SOUTHERN CROSS ASIAN GROCERY PTY. LTD.", "Southern Cross Asian Grocery"),
                         ("SINAR JAYA TRADING SDN. BHD.", "Sinar Jaya Tradings Sdn Bhd"), ("MM",), ("TH",),
                         (Goods("090230", "green tea in tea bags", 1.4),), 0.05),
        ),
    ),
)  # fmt: skip

HISTORY_DAYS = 180
INSPECTED = 0.25  # share of ordinary declarations inspected (the others have no outcome)
RING_INSPECTED = 0.6
TODAY_RING_SHIPMENTS = 3  # ring shipments planted among today's declarations of each agency
COLUMNS = (
    "declaration_id", "declaration_date", "office_locode", "mode", "declarant", "importer", "exporter",
    "origin_country", "loading_place", "transit_places", "hs_code", "goods_description", "quantity",
    "gross_weight_kg", "declared_value", "currency", "conveyance_ref", "outcome",
)  # fmt: skip
SCHEMA = pa.schema(
    [(c, pa.date32() if c == "declaration_date" else pa.float64() if c in (
        "quantity", "gross_weight_kg", "declared_value") else pa.int32() if c == "outcome" else pa.string())
     for c in COLUMNS]
)  # fmt: skip


class _Writer:
    def __init__(self, agency: AgencyDeclarations, seed: int, networks: list[PlantedNetwork]) -> None:
        self.rng = random.Random(f"{seed}-{agency.agency}")  # noqa: S311 - reproducible demo data
        self.agency = agency
        self.importers = [company_name(self.rng, self.agency.agency[:2]) for _ in range(160)]
        self.exporters = {c: [company_name(self.rng, c) for _ in range(12)] for c in agency.origins}
        self.declarants = [f"{agency.agency[:2]}-BROKER-{n:03d}" for n in range(40)]
        self.containers = {r.ring: self._ring_containers(r.ring, networks) for r in agency.rings}
        self.rows: list[dict[str, object]] = []

    def _ring_containers(self, ring: str, networks: list[PlantedNetwork]) -> list[str]:
        for network in networks:
            if network.key == ring:
                found = sorted(v for k, v in network.identifiers if k == "container")
                if found:
                    return found
        return [codes.container_number(self.rng, self.rng.choice(CONTAINER_OWNERS)) for _ in range(2)]

    def _container(self) -> str:
        return codes.container_number(self.rng, self.rng.choice(CONTAINER_OWNERS))

    def ordinary(self, day: dt.date, office: Office, n: int, *, labelled: bool) -> None:
        rng = self.rng
        goods = rng.choice(ORDINARY)
        origin = rng.choice(self.agency.origins)
        weight = round(rng.lognormvariate(7.5, 1.1), 1)
        value_per_kg = goods.usd_per_kg * rng.lognormvariate(0.0, 0.3)
        odd = rng.random() < 0.03  # undervalued, or goods described oddly
        if odd:
            value_per_kg /= rng.uniform(8, 20)
        inspected = labelled and rng.random() < (0.6 if odd else INSPECTED)
        seized = inspected and rng.random() < (0.35 if odd else 0.015)
        self._row(day, office, n, goods, origin, (), rng.choice(self.importers), rng.choice(self.exporters[origin]),
                  weight, value_per_kg, self._container() if office.mode == "sea_container" else None,
                  seized if inspected else None)  # fmt: skip

    def ring(self, day: dt.date, office: Office, n: int, ring: RingShipment, *, labelled: bool) -> None:
        rng = self.rng
        goods = rng.choice(ring.goods)
        transits = (rng.choice(ring.transits),) if ring.transits else ()
        container = rng.choice(self.containers[ring.ring]) if rng.random() < 0.6 else self._container()
        inspected = labelled and rng.random() < RING_INSPECTED
        seized = inspected and rng.random() < 0.7
        self._row(day, office, n, goods, rng.choice(ring.origins), transits, rng.choice(ring.importer),
                  rng.choice(ring.exporter), round(rng.uniform(8000, 22000), 1), goods.usd_per_kg * rng.uniform(0.5, 1),
                  container if office.mode == "sea_container" else None, seized if inspected else None)  # fmt: skip

    def _row(self, day: dt.date, office: Office, n: int, goods: Goods, origin: str, transits: tuple[str, ...],
             importer: str, exporter: str, weight: float, value_per_kg: float, container: str | None,
             outcome: bool | None) -> None:  # fmt: skip
        rng = self.rng
        plate = f"{rng.randrange(10, 99)}C-{rng.randrange(10000, 99999)}"
        self.rows.append({
            "declaration_id": f"{office.locode}-{day:%Y%m%d}-{n:04d}", "declaration_date": day,
            "office_locode": office.locode, "mode": office.mode, "declarant": rng.choice(self.declarants),
            "importer": importer, "exporter": exporter, "origin_country": origin, "loading_place": origin,
            "transit_places": ";".join(transits) or None, "hs_code": goods.hs, "goods_description": goods.text,
            "quantity": round(weight * rng.uniform(0.8, 1.2)), "gross_weight_kg": weight,
            "declared_value": round(weight * value_per_kg, 2), "currency": "USD",
            "conveyance_ref": container or (plate if office.mode == "road" else f"{rng.randrange(100, 999)}-"
                                            f"{rng.randrange(10**7, 10**8)}"),
            "outcome": None if outcome is None else int(outcome),
        })  # fmt: skip

    def table(self) -> pa.Table:
        rows, self.rows = self.rows, []
        return pa.Table.from_pylist(rows, schema=SCHEMA)


def write_declarations(folder: Path, seed: int, today: dt.date,
                       networks: list[PlantedNetwork]) -> tuple[DemoDeclarations, ...]:  # fmt: skip
    """Per agency, a labelled history (the last HISTORY_DAYS days) and today's batch, as Parquet files."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for agency in AGENCIES:
        writer = _Writer(agency, seed, networks)
        for back in range(HISTORY_DAYS, 0, -1):
            day = today - dt.timedelta(days=back)
            for office in agency.offices:
                n = 0
                for _ in range(writer.rng.randint(office.per_day // 2, office.per_day * 3 // 2)):
                    n += 1
                    writer.ordinary(day, office, n, labelled=True)
                for ring in agency.rings:
                    if ring.office == office.locode and writer.rng.random() < ring.per_day:
                        n += 1
                        writer.ring(day, office, n, ring, labelled=True)
        history = folder / f"declarations-{agency.agency}-history.parquet"
        pq.write_table(writer.table(), history)
        for office in agency.offices:
            n = 0
            for _ in range(office.per_day * 12):  # today's batch: the morning's declarations of the office
                n += 1
                writer.ordinary(today, office, n, labelled=False)
            for ring in (r for r in agency.rings if r.office == office.locode):
                for _ in range(TODAY_RING_SHIPMENTS):
                    n += 1
                    writer.ring(today, office, n, ring, labelled=False)
        batch = folder / f"declarations-{agency.agency}-{today:%Y%m%d}.parquet"
        pq.write_table(writer.table(), batch)
        out.append(DemoDeclarations(agency.agency, history, batch))
    return tuple(out)
