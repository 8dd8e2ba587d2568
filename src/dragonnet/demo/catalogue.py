"""Static data of the demo operation: phases, agencies, contact points, commodities, routes, modus operandi.

Everything here is plain data; `plan.py` draws from it with a seeded random generator. Place codes are
UN/LOCODEs of `dragonnet.reference.places`; crossings without a confirmed code carry the reference name
instead (`locode=None`, `place_name=...`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from dragonnet.domain.vocabulary import (
    AgencyKind,
    CaseStatus,
    CommodityClass,
    ContactPointKind,
    ParticipationRole,
    TransportMode,
)

DRUG, PRECURSOR, WILDLIFE, TIMBER = (
    CommodityClass.DRUG.value,
    CommodityClass.PRECURSOR.value,
    CommodityClass.WILDLIFE.value,
    CommodityClass.TIMBER.value,
)
CLASSES = (DRUG, PRECURSOR, WILDLIFE, TIMBER)

OPERATION_SLUG = "mekong-dragon"
OPERATION_NAME = "Mekong Dragon"
OPERATION_DESCRIPTION = (
    "Joint operation of Asia-Pacific customs and law-enforcement agencies against the smuggling of drugs, "
    "drug precursors and CITES-listed wildlife and timber, launched in September 2018 by the customs of China "
    "and Viet Nam with the support of WCO RILO AP and UNODC. DEMO DATA: the agencies are real, every case, "
    "person, company, phone number and container in this database is invented."
)


# --- phases -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseDef:
    number: int
    start: dt.date
    end: dt.date
    scope: tuple[str, ...]
    notes: str


PHASES: tuple[PhaseDef, ...] = (
    PhaseDef(
        1, dt.date(2018, 9, 10), dt.date(2019, 3, 31), (DRUG, PRECURSOR),
        "Published: launched in September 2018 by the customs of China and Viet Nam with RILO AP and UNODC, six "
        "Mekong sub-region customs administrations. Assumed for the demo: the exact dates (10 Sep 2018 - 31 Mar "
        "2019) and all case counts.",
    ),
    PhaseDef(
        2, dt.date(2020, 6, 1), dt.date(2020, 12, 15), (DRUG, PRECURSOR, WILDLIFE, TIMBER),
        "Published: wildlife (CITES species, timber) joined the scope in 2020. Assumed for the demo: the dates "
        "(1 Jun - 15 Dec 2020) and all case counts.",
    ),
    PhaseDef(
        3, dt.date(2021, 5, 1), dt.date(2021, 11, 30), (DRUG, PRECURSOR, WILDLIFE, TIMBER),
        "Assumed for the demo: the dates (1 May - 30 Nov 2021) and all case counts. Published: phases II-IV "
        "together handled more than 210 endangered-species cases.",
    ),
    PhaseDef(
        4, dt.date(2022, 4, 1), dt.date(2022, 10, 31), (DRUG, PRECURSOR, WILDLIFE, TIMBER),
        "Published: the year (2022), 29 law-enforcement agencies incl. some from Africa, 1,362 cases reported to "
        "the WCO database (1,267 drug, 17 precursor, 78 wildlife and timber). Assumed for the demo: the dates "
        "(1 Apr - 31 Oct 2022); 813 validated cases, implied by the +111% published for phase V.",
    ),
    PhaseDef(
        5, dt.date(2023, 4, 15), dt.date(2023, 11, 16), (DRUG, PRECURSOR, WILDLIFE, TIMBER),
        "Published: 15 April - 16 November 2023 (first announced as April-September); briefing 11-13 April 2023 "
        "in Shanghai, debriefing 21-22 November 2023 in Hanoi; 1,715 cases (+111% over phase IV), Viet Nam 123 "
        "cases (twice the previous phase); customs of 17 countries/regions.",
    ),
)  # fmt: skip

# The operation is running: phase VI is open and holds today, so that today's seizures, alerts and declarations
# have a phase (as in a running operation). Its dates follow the day the demo is built: it began on the first
# day of the month two months before, and runs seven months.
CURRENT_PHASE_NUMBER = 6
CURRENT_PHASE_MONTHS = 7


def current_phase(today: dt.date) -> PhaseDef:
    """Phase VI of the demo: open, holding `today` (the build day), with its invented figures so far."""
    year, month = (today.year, today.month - 2) if today.month > 2 else (today.year - 1, today.month + 10)
    start = dt.date(year, month, 1)
    end_year, end_month = divmod(month - 1 + CURRENT_PHASE_MONTHS, 12)
    end = dt.date(year + end_year, end_month + 1, 1) - dt.timedelta(days=1)
    return PhaseDef(
        CURRENT_PHASE_NUMBER, start, end, (DRUG, PRECURSOR, WILDLIFE, TIMBER),
        f"The current phase of the demo ({start} - {end}): its dates follow the day the demo was built "
        f"({today}), so that today's seizures, alerts and declarations fall in it. Running: its figures are "
        "counts so far. Invented, like every demo case.",
    )  # fmt: skip


# Phase VI so far (two months of a running phase): per status and commodity class, as TARGETS.
CURRENT_TARGETS: dict[str, dict[str, int]] = {
    CaseStatus.VALIDATED: {DRUG: 150, PRECURSOR: 3, WILDLIFE: 12, TIMBER: 4},
    CaseStatus.MERGED: {DRUG: 10, WILDLIFE: 1},
    CaseStatus.SUBMITTED: {DRUG: 45, PRECURSOR: 1, WILDLIFE: 6, TIMBER: 2},
    CaseStatus.DRAFT: {DRUG: 6, WILDLIFE: 1},
    CaseStatus.WITHDRAWN: {DRUG: 2},
}

# Case counts per phase, status and commodity class. See README.md for the rules these reproduce:
#   rule A (validated only)            phase V 1,715 / phase IV 813
#   rule B (submitted+validated+merged) phase IV 1,362 = 1,267 drug / 17 precursor / 78 wildlife+timber
TARGETS: dict[int, dict[str, dict[str, int]]] = {
    1: {
        CaseStatus.VALIDATED: {DRUG: 180, PRECURSOR: 12},
        CaseStatus.MERGED: {DRUG: 20, PRECURSOR: 1},
        CaseStatus.SUBMITTED: {DRUG: 30, PRECURSOR: 2},
        CaseStatus.DRAFT: {DRUG: 3},
        CaseStatus.WITHDRAWN: {DRUG: 2},
    },
    2: {
        CaseStatus.VALIDATED: {DRUG: 330, PRECURSOR: 9, WILDLIFE: 36, TIMBER: 9},
        CaseStatus.MERGED: {DRUG: 40, PRECURSOR: 1, WILDLIFE: 5, TIMBER: 1},
        CaseStatus.SUBMITTED: {DRUG: 55, PRECURSOR: 2, WILDLIFE: 5, TIMBER: 2},
        CaseStatus.DRAFT: {DRUG: 4, WILDLIFE: 1},
        CaseStatus.WITHDRAWN: {DRUG: 3},
    },
    3: {
        CaseStatus.VALIDATED: {DRUG: 470, PRECURSOR: 11, WILDLIFE: 52, TIMBER: 14},
        CaseStatus.MERGED: {DRUG: 70, PRECURSOR: 1, WILDLIFE: 6, TIMBER: 2},
        CaseStatus.SUBMITTED: {DRUG: 85, PRECURSOR: 2, WILDLIFE: 8, TIMBER: 2},
        CaseStatus.DRAFT: {DRUG: 5, TIMBER: 1},
        CaseStatus.WITHDRAWN: {DRUG: 4, WILDLIFE: 1},
    },
    4: {
        CaseStatus.VALIDATED: {DRUG: 757, PRECURSOR: 10, WILDLIFE: 36, TIMBER: 10},
        CaseStatus.MERGED: {DRUG: 250, PRECURSOR: 4, WILDLIFE: 12, TIMBER: 4},
        CaseStatus.SUBMITTED: {DRUG: 260, PRECURSOR: 3, WILDLIFE: 14, TIMBER: 2},
        CaseStatus.DRAFT: {DRUG: 8, WILDLIFE: 1},
        CaseStatus.WITHDRAWN: {DRUG: 6, PRECURSOR: 1},
    },
    5: {
        CaseStatus.VALIDATED: {DRUG: 1580, PRECURSOR: 20, WILDLIFE: 90, TIMBER: 25},
        CaseStatus.MERGED: {DRUG: 110, PRECURSOR: 2, WILDLIFE: 8, TIMBER: 3},
        CaseStatus.SUBMITTED: {DRUG: 140, PRECURSOR: 3, WILDLIFE: 10, TIMBER: 3},
        CaseStatus.DRAFT: {DRUG: 12, WILDLIFE: 2},
        CaseStatus.WITHDRAWN: {DRUG: 8, TIMBER: 1},
    },
}

# Validated cases reported by Viet Nam's agencies (customs and the two police departments).
VN_VALIDATED: dict[int, int] = {4: 61, 5: 123}


# --- agencies and contact points --------------------------------------------------------------------------


@dataclass(frozen=True)
class CP:
    code: str
    name: str
    kind: str
    locode: str | None
    place_name: str | None = None  # the reference place name where there is no LOCODE


@dataclass(frozen=True)
class AgencyDef:
    code: str
    name: str
    kind: str
    country: str | None
    role: str
    since: int
    until: int = 5
    ref_prefix: str = ""
    weights: dict[str, float] = field(default_factory=dict)  # share of cases per commodity class
    cps: tuple[CP, ...] = ()


SEA, AIR, LAND, MAIL, EXPRESS, HQ, INLAND = (
    ContactPointKind.SEAPORT.value,
    ContactPointKind.AIRPORT.value,
    ContactPointKind.LAND_BORDER.value,
    ContactPointKind.MAIL_CENTRE.value,
    ContactPointKind.EXPRESS_CENTRE.value,
    ContactPointKind.HEADQUARTERS.value,
    ContactPointKind.INLAND.value,
)
CUSTOMS, POLICE = AgencyKind.CUSTOMS.value, AgencyKind.POLICE.value
MEMBER, PARTNER, OBSERVER, COORDINATOR = (
    ParticipationRole.MEMBER.value,
    ParticipationRole.PARTNER.value,
    ParticipationRole.OBSERVER.value,
    ParticipationRole.COORDINATOR.value,
)


def _w(drug: float, precursor: float = 0.0, wildlife: float = 0.0, timber: float = 0.0) -> dict[str, float]:
    return {DRUG: drug, PRECURSOR: precursor, WILDLIFE: wildlife, TIMBER: timber}


# Viet Nam customs: 38 national contact points in phase V (provincial departments' border-gate, port,
# airport, post and express branches).
VN_CUSTOMS_CPS: tuple[CP, ...] = (
    CP("QN-MONGCAI", "Quang Ninh Customs - Mong Cai International Border Gate Branch", LAND, None, "Mong Cai"),
    CP("QN-CAILAN", "Quang Ninh Customs - Cai Lan Port Branch", SEA, "VNCLN"),
    CP("QN-HONGAI", "Quang Ninh Customs - Hon Gai Port Branch", SEA, "VNCLN"),
    CP("LS-HUUNGHI", "Lang Son Customs - Huu Nghi International Border Gate Branch", LAND, None, "Huu Nghi"),
    CP("LS-TANTHANH", "Lang Son Customs - Tan Thanh Border Gate Branch", LAND, "VNLGS"),
    CP("LS-DONGDANG", "Lang Son Customs - Dong Dang Railway Station Branch", LAND, "VNLGS"),
    CP("LC-BORDER", "Lao Cai Customs - Lao Cai International Border Gate Branch", LAND, "VNLCA"),
    CP("LC-RAIL", "Lao Cai Customs - Lao Cai Railway Station Branch", LAND, "VNLCA"),
    CP("HP-PORT1", "Hai Phong Customs - Hai Phong Port Region I Branch", SEA, "VNHPH"),
    CP("HP-PORT2", "Hai Phong Customs - Hai Phong Port Region II Branch", SEA, "VNHPH"),
    CP("HP-PORT3", "Hai Phong Customs - Hai Phong Port Region III Branch", SEA, "VNHPH"),
    CP("HP-DINHVU", "Hai Phong Customs - Dinh Vu Port Branch", SEA, "VNHPH"),
    CP("HP-ENF", "Hai Phong Customs - Anti-Smuggling Team", INLAND, "VNHPH"),
    CP("HN-NOIBAI", "Ha Noi Customs - Noi Bai International Airport Branch", AIR, "VNHAN"),
    CP("HN-NBEXP", "Ha Noi Customs - Noi Bai Express Branch", EXPRESS, "VNHAN"),
    CP("HN-POST", "Ha Noi Customs - Ha Noi Post Office Branch", MAIL, "VNHAN"),
    CP("HN-GIATHUY", "Ha Noi Customs - Gia Thuy Branch (inland clearance)", INLAND, "VNHAN"),
    CP("HCM-TSN", "Ho Chi Minh City Customs - Tan Son Nhat International Airport Branch", AIR, "VNSGN"),
    CP("HCM-TSNEXP", "Ho Chi Minh City Customs - Express Branch", EXPRESS, "VNSGN"),
    CP("HCM-POST", "Ho Chi Minh City Customs - Post Office Branch", MAIL, "VNSGN"),
    CP("HCM-CATLAI", "Ho Chi Minh City Customs - Saigon Port Region I Branch (Cat Lai)", SEA, "VNCLI"),
    CP("HCM-PORT2", "Ho Chi Minh City Customs - Saigon Port Region II Branch", SEA, "VNSGN"),
    CP("HCM-PORT3", "Ho Chi Minh City Customs - Saigon Port Region III Branch", SEA, "VNSGN"),
    CP("VT-CAIMEP", "Ba Ria-Vung Tau Customs - Cai Mep Port Branch", SEA, "VNCMT"),
    CP("VT-PORT", "Ba Ria-Vung Tau Customs - Vung Tau Port Branch", SEA, "VNVUT"),
    CP("DN-AIRPORT", "Da Nang Customs - Da Nang International Airport Branch", AIR, "VNDAD"),
    CP("DN-PORT", "Da Nang Customs - Da Nang Port Branch", SEA, "VNDAD"),
    CP("HT-CAUTREO", "Ha Tinh Customs - Cau Treo International Border Gate Branch", LAND, None, "Cau Treo"),
    CP("QT-LAOBAO", "Quang Tri Customs - Lao Bao International Border Gate Branch", LAND, None, "Lao Bao"),
    CP("TN-MOCBAI", "Tay Ninh Customs - Moc Bai International Border Gate Branch", LAND, None, "Moc Bai"),
    CP("AG-TINHBIEN", "An Giang Customs - Tinh Bien International Border Gate Branch", LAND, None, "Tinh Bien"),
    CP("KT-BOY", "Kon Tum Customs - Bo Y International Border Gate Branch", LAND, None, "Bo Y"),
    CP("NA-VINH", "Nghe An Customs - Vinh Port and Airport Branch", AIR, "VNVNH"),
    CP("BD-QUYNHON", "Binh Dinh Customs - Quy Nhon Port Branch", SEA, "VNUIH"),
    CP("QNG-DUNGQUAT", "Quang Ngai Customs - Dung Quat Port Branch", SEA, "VNDQT"),
    CP("KH-CAMRANH", "Khanh Hoa Customs - Cam Ranh International Airport Branch", AIR, "VNCXR"),
    CP("KG-PHUQUOC", "Kien Giang Customs - Phu Quoc International Airport Branch", AIR, "VNPQC"),
    CP("CT-CANTHO", "Can Tho Customs - Can Tho Airport and Port Branch", AIR, "VNVCA"),
)  # fmt: skip

AGENCIES: tuple[AgencyDef, ...] = (
    # The six Mekong sub-region customs of phase I.
    AgencyDef("CN-GACC", "General Administration of Customs of China", CUSTOMS, "CN", MEMBER, 1,
              ref_prefix="GACC", weights=_w(150, 3, 10, 5), cps=(
        CP("SHA-PORT", "Shanghai Customs - Yangshan/Waigaoqiao Port", SEA, "CNSHA"),
        CP("PVG-AIR", "Shanghai Pudong Airport Customs", AIR, "CNPVG"),
        CP("SZ-YANTIAN", "Shenzhen Customs - Yantian Port", SEA, "CNYTN"),
        CP("SZ-AIR", "Shenzhen Customs - Bao'an Airport", AIR, "CNSZX"),
        CP("GZ-NANSHA", "Guangzhou Customs - Nansha Port", SEA, "CNNSA"),
        CP("GZ-BAIYUN", "Guangzhou Customs - Baiyun Airport", AIR, "CNCAN"),
        CP("XM-PORT", "Xiamen Customs - Xiamen Port", SEA, "CNXMN"),
        CP("NN-DONGXING", "Nanning Customs - Dongxing Border Port", LAND, "CNDOX"),
        CP("NN-YOUYIGUAN", "Nanning Customs - Youyiguan Border Port", LAND, "CNYYG"),
        CP("KM-MOHAN", "Kunming Customs - Mohan Border Port", LAND, "CNMHN"),
        CP("KM-RUILI", "Kunming Customs - Ruili Border Port", LAND, "CNRUI"),
        CP("KM-AIR", "Kunming Customs - Changshui Airport", AIR, "CNKMG"),
    )),
    AgencyDef("VN-CUS", "General Department of Viet Nam Customs", CUSTOMS, "VN", MEMBER, 1,
              ref_prefix="HQVN", weights=_w(60, 1, 9, 4), cps=VN_CUSTOMS_CPS),
    AgencyDef("LA-CUS", "Lao Customs Department", CUSTOMS, "LA", MEMBER, 1,
              ref_prefix="LCD", weights=_w(30, 1, 2, 3), cps=(
        CP("VTE-AIR", "Wattay International Airport Customs", AIR, "LAVTE"),
        CP("THANALENG", "Thanaleng (Friendship Bridge I) Customs Checkpoint", LAND, None, "Thanaleng"),
        CP("BOTEN", "Boten International Checkpoint", LAND, None, "Boten"),
        CP("HOUAYXAY", "Houayxay (Friendship Bridge IV) Checkpoint", LAND, None, "Houayxay"),
        CP("SAVANNAKHET", "Savannakhet (Friendship Bridge II) Checkpoint", LAND, None, "Savannakhet"),
    )),
    AgencyDef("KH-GDCE", "General Department of Customs and Excise of Cambodia", CUSTOMS, "KH", MEMBER, 1,
              ref_prefix="GDCE", weights=_w(18, 1, 2, 2), cps=(
        CP("KOS-PORT", "Sihanoukville Autonomous Port Customs", SEA, "KHKOS"),
        CP("PNH-AIR", "Phnom Penh International Airport Customs", AIR, "KHPNH"),
        CP("BAVET", "Bavet International Border Checkpoint", LAND, "KHBVT"),
        CP("POIPET", "Poipet International Border Checkpoint", LAND, None, "Poipet"),
    )),
    AgencyDef("TH-CUS", "Thai Customs Department", CUSTOMS, "TH", MEMBER, 1,
              ref_prefix="THC", weights=_w(120, 2, 5, 2), cps=(
        CP("LCB-PORT", "Laem Chabang Port Customs Bureau", SEA, "THLCH"),
        CP("BKK-AIR", "Suvarnabhumi Airport Customs Bureau", AIR, "THBKK"),
        CP("BKK-POST", "Bangkok Postal Customs Office", MAIL, "THBKK"),
        CP("MAESAI", "Mae Sai Customs House", LAND, None, "Mae Sai"),
        CP("NONGKHAI", "Nong Khai Customs House", LAND, "THQJX"),
        CP("CHIANGKHONG", "Chiang Khong Customs House", LAND, None, "Chiang Khong"),
    )),
    AgencyDef("MM-CUS", "Myanmar Customs Department", CUSTOMS, "MM", MEMBER, 1, until=4,
              ref_prefix="MCD", weights=_w(25, 3, 1, 2), cps=(
        CP("RGN-AIR", "Yangon International Airport Customs", AIR, "MMRGN"),
        CP("TACHILEIK", "Tachileik Border Trade Customs", LAND, None, "Tachileik"),
        CP("MUSE", "Muse 105th Mile Border Trade Customs", LAND, None, "Muse"),
        CP("MYAWADDY", "Myawaddy Border Trade Customs", LAND, None, "Myawaddy"),
    )),
    # Joined in later phases.
    AgencyDef("HK-C&ED", "Hong Kong Customs and Excise Department", CUSTOMS, "HK", MEMBER, 2,
              ref_prefix="CED", weights=_w(110, 1, 7, 1), cps=(
        CP("KWAI-CHUNG", "Kwai Chung Customhouse (container terminals)", SEA, "HKHKG"),
        CP("HKIA", "Hong Kong International Airport Command", AIR, "HKHKG"),
        CP("AMC", "Air Mail Centre", MAIL, None, "Hong Kong Air Mail Centre"),
        CP("LMC", "Lok Ma Chau Control Point", LAND, None, "Lok Ma Chau Control Point"),
    )),
    AgencyDef("MY-RMCD", "Royal Malaysian Customs Department", CUSTOMS, "MY", MEMBER, 2,
              ref_prefix="JKDM", weights=_w(110, 2, 7, 1), cps=(
        CP("PKG-PORT", "Port Klang Customs", SEA, "MYPKG"),
        CP("TPP-PORT", "Tanjung Pelepas Customs", SEA, "MYTPP"),
        CP("KLIA", "KLIA Customs (Kuala Lumpur International Airport)", AIR, "MYKUL"),
        CP("PEN-PORT", "Penang Port Customs", SEA, "MYPEN"),
        CP("BKH", "Bukit Kayu Hitam Customs Complex", LAND, None, "Bukit Kayu Hitam"),
    )),
    AgencyDef("SG-CUS", "Singapore Customs", CUSTOMS, "SG", MEMBER, 2,
              ref_prefix="SGC", weights=_w(35, 1, 4, 1), cps=(
        CP("SIN-PORT", "Pasir Panjang / Tanjong Pagar Port Checkpoint", SEA, "SGSIN"),
        CP("CHANGI", "Changi Airfreight Centre", AIR, "SGSIN"),
        CP("WOODLANDS", "Woodlands Checkpoint", LAND, None, "Woodlands Checkpoint"),
    )),
    AgencyDef("ID-DJBC", "Directorate General of Customs and Excise of Indonesia", CUSTOMS, "ID", MEMBER, 2,
              ref_prefix="DJBC", weights=_w(90, 1, 4, 0.5), cps=(
        CP("TPP-PORT", "Tanjung Priok Customs", SEA, "IDTPP"),
        CP("CGK-AIR", "Soekarno-Hatta Airport Customs", AIR, "IDJKT"),
        CP("BLW-PORT", "Belawan Customs", SEA, "IDBLW"),
        CP("DPS-AIR", "Ngurah Rai Airport Customs", AIR, "IDDPS"),
        CP("BTH-PORT", "Batam Customs", SEA, "IDBTH"),
    )),
    AgencyDef("PH-BOC", "Bureau of Customs of the Philippines", CUSTOMS, "PH", MEMBER, 2, until=4,
              ref_prefix="BOC", weights=_w(40, 0.5, 2, 0), cps=(
        CP("MNL-PORT", "Port of Manila", SEA, "PHMNL"),
        CP("NAIA", "NAIA Customs (Manila)", AIR, "PHMNL"),
        CP("CEB-PORT", "Port of Cebu", SEA, "PHCEB"),
        CP("CRK-AIR", "Port of Clark", AIR, "PHCRK"),
    )),
    AgencyDef("KR-KCS", "Korea Customs Service", CUSTOMS, "KR", MEMBER, 2,
              ref_prefix="KCS", weights=_w(70, 1, 0.5, 0), cps=(
        CP("PUS-PORT", "Busan Main Customs", SEA, "KRPUS"),
        CP("ICN-AIR", "Incheon Airport Customs", AIR, "KRSEL"),
        CP("ICN-EXP", "Incheon Express Cargo Customs", EXPRESS, "KRINC"),
        CP("ICN-POST", "International Mail Customs Centre", MAIL, "KRINC"),
    )),
    AgencyDef("VN-MPS-C04", "Viet Nam Ministry of Public Security - Drug Crime Investigation Police Department (C04)",
              POLICE, "VN", MEMBER, 2, ref_prefix="C04", weights=_w(6, 0.2), cps=(
        CP("C04-HQ", "Drug Crime Investigation Police Department (C04), Ha Noi", INLAND, "VNHAN"),
    )),
    AgencyDef("VN-MPS-C05", "Viet Nam Ministry of Public Security - Environmental Crime Police Department (C05)",
              POLICE, "VN", MEMBER, 2, ref_prefix="C05", weights=_w(0, 0, 2, 1), cps=(
        CP("C05-HQ", "Environmental Crime Police Department (C05), Ha Noi", INLAND, "VNHAN"),
    )),
    AgencyDef("AU-ABF", "Australian Border Force", CUSTOMS, "AU", MEMBER, 3,
              ref_prefix="ABF", weights=_w(95, 1.5, 1, 0), cps=(
        CP("SYD-PORT", "Port Botany Container Examination Facility", SEA, "AUSYD"),
        CP("MEL-PORT", "Melbourne Container Examination Facility", SEA, "AUMEL"),
        CP("SYD-GATEWAY", "Sydney Gateway Facility (international mail)", MAIL, "AUSYD"),
        CP("PER-AIR", "Perth International Airport", AIR, "AUPER"),
        CP("BNE-PORT", "Port of Brisbane", SEA, "AUBNE"),
    )),
    AgencyDef("NZ-CUS", "New Zealand Customs Service", CUSTOMS, "NZ", MEMBER, 3,
              ref_prefix="NZCS", weights=_w(35, 0.5, 0.5, 0), cps=(
        CP("AKL-PORT", "Ports of Auckland", SEA, "NZAKL"),
        CP("AKL-MAIL", "Auckland International Mail Centre", MAIL, "NZAKL"),
        CP("TRG-PORT", "Port of Tauranga", SEA, "NZTRG"),
    )),
    AgencyDef("IN-CBIC", "Central Board of Indirect Taxes and Customs of India", CUSTOMS, "IN", MEMBER, 3,
              ref_prefix="CBIC", weights=_w(70, 5, 3, 2), cps=(
        CP("NHAVA-SHEVA", "Jawaharlal Nehru Custom House, Nhava Sheva", SEA, "INNSA"),
        CP("BOM-AIR", "Chhatrapati Shivaji Maharaj International Airport Customs", AIR, "INBOM"),
        CP("DEL-AIR", "Indira Gandhi International Airport Customs", AIR, "INDEL"),
        CP("MAA-PORT", "Chennai Custom House", SEA, "INMAA"),
        CP("MOREH", "Moreh Land Customs Station", LAND, "INMRE"),
    )),
    AgencyDef("BD-CUS", "Bangladesh Customs", CUSTOMS, "BD", MEMBER, 4,
              ref_prefix="BDC", weights=_w(30, 0.5, 1, 0), cps=(
        CP("CGP-PORT", "Chittagong Custom House", SEA, "BDCGP"),
        CP("DAC-AIR", "Dhaka Custom House (Hazrat Shahjalal Airport)", AIR, "BDDAC"),
        CP("BENAPOLE", "Benapole Custom House", LAND, None, "Benapole"),
    )),
    AgencyDef("LK-CUS", "Sri Lanka Customs", CUSTOMS, "LK", MEMBER, 4,
              ref_prefix="SLC", weights=_w(25, 0.5, 0.5, 0), cps=(
        CP("CMB-PORT", "Port of Colombo", SEA, "LKCMB"),
        CP("CMB-AIR", "Bandaranaike International Airport", AIR, "LKCMB"),
    )),
    AgencyDef("MN-CUS", "Mongolia Customs General Administration", CUSTOMS, "MN", MEMBER, 4,
              ref_prefix="MCGA", weights=_w(5, 0.3, 0.5, 0), cps=(
        CP("ULN-AIR", "Chinggis Khaan International Airport Customs", AIR, "MNULN"),
        CP("ZAMIINUUD", "Zamiin-Uud Border Customs", LAND, None, "Zamiin-Uud"),
    )),
    AgencyDef("NP-CUS", "Department of Customs of Nepal", CUSTOMS, "NP", MEMBER, 4,
              ref_prefix="DOC", weights=_w(8, 0.3, 1, 0.5), cps=(
        CP("KTM-AIR", "Tribhuvan International Airport Customs Office", AIR, "NPKTM"),
        CP("BIRGUNJ", "Birgunj Customs Office", LAND, None, "Birgunj"),
        CP("TATOPANI", "Tatopani Customs Office", LAND, None, "Tatopani"),
    )),
    AgencyDef("NG-NCS", "Nigeria Customs Service", CUSTOMS, "NG", MEMBER, 4, until=4,
              ref_prefix="NCS", weights=_w(10, 0, 4, 1), cps=(
        CP("APAPA", "Apapa Area Command", SEA, "NGAPP"),
        CP("TINCAN", "Tin Can Island Port Command", SEA, "NGTIN"),
        CP("LOS-AIR", "Murtala Muhammed International Airport Command", AIR, "NGLOS"),
        CP("ONNE", "Onne Area Command", SEA, "NGONN"),
    )),
    AgencyDef("KE-KRA", "Kenya Revenue Authority - Customs and Border Control", CUSTOMS, "KE", MEMBER, 4, until=4,
              ref_prefix="KRA", weights=_w(6, 0, 3, 0), cps=(
        CP("MBA-PORT", "Port of Mombasa Customs", SEA, "KEMBA"),
        CP("NBO-AIR", "Jomo Kenyatta International Airport Customs", AIR, "KENBO"),
    )),
    # Coordinators, partners and observers (no cases of their own).
    AgencyDef("RILO-AP", "WCO Regional Intelligence Liaison Office for Asia and the Pacific",
              "regional_office", None, COORDINATOR, 1, cps=(
        CP("RILO-HQ", "RILO AP office, Seoul", HQ, "KRSEL"),
    )),
    AgencyDef("UNODC", "United Nations Office on Drugs and Crime", "international_organisation", None, PARTNER, 1,
              cps=(CP("UNODC-ROSEAP", "UNODC Regional Office for Southeast Asia and the Pacific, Bangkok", HQ,
                      "THBKK"),)),
    AgencyDef("WCO", "World Customs Organization - Environment Programme", "international_organisation", None,
              PARTNER, 2),
    AgencyDef("TRAFFIC", "TRAFFIC", "ngo", None, OBSERVER, 2),
    AgencyDef("WCS", "Wildlife Conservation Society", "ngo", None, OBSERVER, 2),
    AgencyDef("IFAW", "International Fund for Animal Welfare", "ngo", None, OBSERVER, 3),
)  # fmt: skip

AGENCY_BY_CODE: dict[str, AgencyDef] = {a.code: a for a in AGENCIES}
REPORTING_AGENCIES: tuple[AgencyDef, ...] = tuple(a for a in AGENCIES if a.role == MEMBER)
VN_AGENCIES = ("VN-CUS", "VN-MPS-C04", "VN-MPS-C05")


def reporting_in(phase: int) -> list[AgencyDef]:
    """The agencies reporting in a phase; in the current phase (VI), those of the last published one (V)."""
    phase = min(phase, PHASES[-1].number)
    return [a for a in REPORTING_AGENCIES if a.since <= phase <= a.until]


# --- users ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserDef:
    username: str
    display_name: str
    agency: str
    roles: tuple[str, ...]
    cp: str | None = None  # contact point code within the agency


def _member_users() -> list[UserDef]:
    users: list[UserDef] = []
    extra_reporters = {
        "VN-CUS": ["HP-PORT1", "HCM-TSN", "QN-MONGCAI", "LS-HUUNGHI"],
        "CN-GACC": ["SZ-YANTIAN", "KM-RUILI"],
    }
    for a in REPORTING_AGENCIES:
        assert a.country is not None
        cc = a.country.lower()
        if a.kind == POLICE:
            suffix = "drugs" if a.code.endswith("C04") else "env"
            users.append(UserDef(f"{cc}.police.{suffix}", f"{a.code} officer", a.code, ("reporter",), a.cps[0].code))
            continue
        users.append(UserDef(f"{cc}.reporter", f"{a.code} reporter ({a.cps[0].name})", a.code, ("reporter",),
                             a.cps[0].code))  # fmt: skip
        for i, cp in enumerate(extra_reporters.get(a.code, []), start=2):
            users.append(UserDef(f"{cc}.reporter{i}", f"{a.code} reporter ({cp})", a.code, ("reporter",), cp))
        users.append(UserDef(f"{cc}.coordinator", f"{a.code} national coordinator", a.code, ("national_coordinator",)))
    return users


USERS: tuple[UserDef, ...] = (
    UserDef("admin", "Demo administrator", "RILO-AP", ("administrator",)),
    UserDef("rilo.analyst", "RILO AP intelligence analyst", "RILO-AP", ("regional_analyst",), "RILO-HQ"),
    UserDef("rilo.analyst2", "RILO AP intelligence analyst (wildlife)", "RILO-AP", ("regional_analyst",), "RILO-HQ"),
    UserDef("unodc.observer", "UNODC programme officer", "UNODC", ("partner_observer",)),
    UserDef("wco.observer", "WCO environment programme officer", "WCO", ("partner_observer",)),
    UserDef("traffic.observer", "TRAFFIC analyst", "TRAFFIC", ("partner_observer",)),
    UserDef("wcs.observer", "WCS counter-wildlife-trafficking officer", "WCS", ("partner_observer",)),
    UserDef("ifaw.observer", "IFAW programme officer", "IFAW", ("partner_observer",)),
    *_member_users(),
)


# --- commodities, routes, modus operandi -------------------------------------------------------------------


@dataclass(frozen=True)
class Commodity:
    key: str
    klass: str
    texts: tuple[str, ...]  # as officers write them; the first is the most common
    unit: str
    bulk: tuple[float, float]  # quantity range for cargo, road and vessels
    small: tuple[float, float]  # passengers, pedestrians
    parcel: tuple[float, float]  # post and express
    sources: tuple[str, ...]
    hubs: tuple[str, ...]
    destinations: tuple[str, ...]
    modes: dict[str, float]
    specimen: str | None = None
    weight: float = 1.0
    usd_per_unit: float = 0.0


TM = TransportMode
A_P, A_C, S_C, S_O, ROAD, RAIL, POST, EXP, PED = (
    TM.AIR_PASSENGER.value, TM.AIR_CARGO.value, TM.SEA_CONTAINER.value, TM.SEA_OTHER.value, TM.ROAD.value,
    TM.RAIL.value, TM.POSTAL.value, TM.EXPRESS_COURIER.value, TM.PEDESTRIAN.value,
)  # fmt: skip

COMMODITIES: tuple[Commodity, ...] = (
    Commodity("meth_crystal", DRUG,
              ("methamphetamine", "crystal meth", "ice", "crystal methamphetamine", "ma túy đá", "冰毒", "shabu"),
              "kg", (5, 600), (0.3, 6), (0.05, 2),
              ("MM", "MM", "MM", "LA", "MX", "IR"), ("LA", "TH", "VN", "KH", "MY", "SG", "HK"),
              ("AU", "NZ", "KR", "JP", "MY", "ID", "PH", "VN", "TH", "HK", "CN", "TW", "LK", "BD"),
              {S_C: 3, A_P: 3, A_C: 1, POST: 2, EXP: 2, ROAD: 3, PED: 0.5, S_O: 1}, weight=4, usd_per_unit=15000),
    Commodity("meth_tablets", DRUG,
              ("ya ba", "yaba", "methamphetamine tablets", "hồng phiến", "麻古"),
              "tablets", (20000, 2000000), (200, 20000), (100, 5000),
              ("MM",), ("LA", "TH"), ("TH", "LA", "VN", "BD", "MY", "KH", "IN"),
              {ROAD: 5, PED: 1.5, S_O: 1, POST: 0.5, EXP: 0.5, S_C: 0.5, A_P: 0.5}, weight=3, usd_per_unit=2),
    Commodity("heroin", DRUG,
              ("heroin", "heroin No.4", "heroin no. 4", "bạch phiến", "heroin hydrochloride", "海洛因"),
              "kg", (2, 120), (0.2, 3), (0.02, 0.5),
              ("MM", "MM", "LA", "AF", "PK"), ("LA", "VN", "TH", "MY", "IN", "AE", "KE"),
              ("CN", "VN", "MY", "AU", "HK", "SG", "LK", "ID"),
              {ROAD: 4, PED: 1, A_P: 2, S_C: 1, POST: 1, EXP: 1}, weight=2, usd_per_unit=30000),
    Commodity("ketamine", DRUG,
              ("ketamine", "ketamine HCl", "ketamine hydrochloride", "氯胺酮"),
              "kg", (5, 400), (0.3, 5), (0.05, 1),
              ("MM", "IN", "CN"), ("MY", "TH", "KH", "VN", "HK"), ("TW", "HK", "MY", "AU", "KR", "VN", "CN", "SG"),
              {S_C: 2, A_P: 2, POST: 1, EXP: 2, ROAD: 2, A_C: 1}, weight=1.5, usd_per_unit=12000),
    Commodity("cocaine", DRUG,
              ("cocaine", "cocaine HCl", "cocaine hydrochloride", "可卡因"),
              "kg", (10, 800), (0.5, 5), (0.05, 1),
              ("BR", "PE", "CO", "EC", "BO"), ("ET", "QA", "AE", "BR"),
              ("HK", "AU", "CN", "NZ", "KR", "PH", "MY", "ID", "SG", "IN"),
              {S_C: 4, A_P: 3, POST: 1, EXP: 1, A_C: 1}, weight=1.2, usd_per_unit=60000),
    Commodity("cannabis", DRUG,
              ("cannabis", "marijuana", "cần sa", "ganja", "大麻"),
              "kg", (10, 800), (0.5, 10), (0.05, 3),
              ("TH", "LA", "US", "CA", "NP", "IN"), ("TH", "MY"),
              ("KR", "JP", "HK", "NZ", "VN", "CN", "MY", "SG", "AU", "LK", "BD"),
              {POST: 3, EXP: 2, ROAD: 2, A_P: 2, S_C: 1}, weight=1.5, usd_per_unit=3000),
    Commodity("mdma", DRUG,
              ("MDMA", "ecstasy", "ecstasy tablets", "thuốc lắc", "摇头丸"),
              "tablets", (5000, 400000), (100, 5000), (50, 3000),
              ("NL", "DE", "BE"), ("AE", "SG"), ("AU", "NZ", "VN", "HK", "KR", "MY", "ID", "SG"),
              {POST: 3, EXP: 3, A_P: 1, S_C: 1, A_C: 1}, weight=0.8, usd_per_unit=25),
    Commodity("opium", DRUG,
              ("opium", "raw opium", "thuốc phiện", "鸦片"),
              "kg", (2, 80), (0.5, 5), (0.1, 1),
              ("MM", "LA", "AF"), ("LA",), ("VN", "CN", "TH", "IN"),
              {ROAD: 3, PED: 2}, weight=0.4, usd_per_unit=5000),
    Commodity("ephedrine", PRECURSOR,
              ("ephedrine", "ephedrine hydrochloride", "pseudoephedrine", "麻黄碱"),
              "kg", (50, 2000), (1, 10), (0.1, 2),
              ("IN", "CN"), ("TH", "LA", "KH"), ("MM", "LA", "MY"),
              {S_C: 2, ROAD: 2, A_C: 1, EXP: 1}, weight=2),
    Commodity("p2p", PRECURSOR,
              ("P2P", "phenylacetone", "1-phenyl-2-propanone", "BMK"),
              "kg", (100, 5000), (1, 10), (0.5, 5),
              ("CN",), ("TH", "LA"), ("MM",), {S_C: 3, ROAD: 2}, weight=1),
    Commodity("acetic_anhydride", PRECURSOR,
              ("acetic anhydride", "anhydride acetic"),
              "l", (200, 20000), (5, 20), (1, 5),
              ("CN", "IN", "KR"), ("TH", "LA"), ("MM",), {S_C: 3, ROAD: 2}, weight=1),
    Commodity("safrole", PRECURSOR,
              ("safrole", "safrole-rich oil", "sassafras oil"),
              "l", (50, 2000), (2, 10), (1, 5),
              ("KH",), ("VN",), ("TH", "VN", "CN"), {ROAD: 3, S_O: 1}, weight=0.5),
    Commodity("pmk", PRECURSOR,
              ("PMK glycidate", "PMK-glycidate"),
              "kg", (25, 2000), (1, 10), (0.5, 5),
              ("CN",), ("MY",), ("AU", "MM"), {S_C: 3, A_C: 1}, weight=0.7),
    Commodity("pangolin_scales", WILDLIFE,
              ("pangolin scales", "vảy tê tê", "穿山甲鳞片", "Manis spp. scales"),
              "kg", (100, 8000), (2, 40), (0.5, 5),
              ("NG", "NG", "CM", "CD", "UG"), ("ET", "AE", "TR", "MY", "SG", "LA", "KH"), ("VN", "CN", "HK", "LA"),
              {S_C: 4, A_P: 2, A_C: 2, POST: 0.5, ROAD: 1}, specimen="scales", weight=3, usd_per_unit=800),
    Commodity("pangolin_live", WILDLIFE,
              ("Manis javanica", "Sunda pangolin", "tê tê", "live pangolins"),
              "pieces", (5, 120), (1, 10), (1, 3),
              ("ID", "MY", "MM", "LA", "TH"), ("LA", "TH"), ("VN", "CN"),
              {ROAD: 4, S_O: 2, PED: 1}, specimen="live", weight=1),
    Commodity("ivory", WILDLIFE,
              ("ivory", "elephant tusks", "ngà voi", "象牙", "Loxodonta africana", "elephant ivory"),
              "kg", (50, 3500), (1, 30), (0.1, 3),
              ("MZ", "TZ", "KE", "NG", "CD", "CM", "UG", "AO"), ("ET", "AE", "MY", "SG", "KE", "TR", "LA"),
              ("VN", "CN", "HK", "MY", "LA", "KH", "TH"),
              {S_C: 4, A_P: 2, A_C: 2, POST: 1, ROAD: 1}, specimen="ivory", weight=2, usd_per_unit=700),
    Commodity("rhino_horn", WILDLIFE,
              ("rhino horn", "rhinoceros horn", "sừng tê giác", "犀牛角", "Ceratotherium simum"),
              "kg", (5, 150), (0.5, 15), (0.1, 2),
              ("ZA", "ZA", "MZ", "KE"), ("ET", "QA", "AE", "MY", "TR"), ("VN", "CN", "MY", "LA", "TH", "HK"),
              {A_P: 4, A_C: 2, S_C: 1, POST: 0.5}, specimen="horn", weight=1.2, usd_per_unit=40000),
    Commodity("tiger", WILDLIFE,
              ("tiger bones", "Panthera tigris", "xương hổ"),
              "kg", (2, 60), (0.5, 5), (0.1, 1),
              ("LA", "MM", "TH"), ("LA",), ("VN", "CN"),
              {ROAD: 3, PED: 1, POST: 1}, specimen="bone", weight=0.5),
    Commodity("tortoise", WILDLIFE,
              ("Indian star tortoise", "Geochelone elegans"),
              "pieces", (50, 1500), (5, 300), (1, 20),
              ("IN", "BD", "LK"), ("MY", "TH"), ("MY", "TH", "HK", "CN", "ID"),
              {A_P: 3, A_C: 2, ROAD: 1}, specimen="live", weight=0.8),
    Commodity("hornbill", WILDLIFE,
              ("hornbill casque", "Rhinoplax vigil", "helmeted hornbill"),
              "pieces", (10, 80), (1, 20), (1, 5),
              ("ID",), ("MY",), ("HK", "CN", "LA"), {A_P: 3, POST: 1}, specimen="derivative", weight=0.4),
    Commodity("seahorse", WILDLIFE,
              ("Hippocampus spp.", "海马", "seahorse"),
              "kg", (20, 500), (2, 15), (0.5, 5),
              ("PE", "TH", "ID", "PH", "IN"), ("HK",), ("HK", "CN", "TW"),
              {A_C: 2, S_C: 1, A_P: 1, POST: 1}, specimen="dead", weight=0.6),
    Commodity("siamese_rosewood", TIMBER,
              ("Dalbergia cochinchinensis", "Siamese rosewood", "gỗ trắc", "Thailand rosewood"),
              "m3", (1, 120), (0.2, 1), (0.1, 0.5),
              ("LA", "KH", "TH"), ("VN", "LA"), ("CN", "VN", "HK"),
              {ROAD: 4, S_C: 2, S_O: 1}, specimen="wood", weight=3),
    Commodity("burmese_rosewood", TIMBER,
              ("Dalbergia oliveri", "Burmese rosewood", "gỗ cẩm lai"),
              "m3", (1, 60), (0.2, 1), (0.1, 0.5),
              ("MM", "LA", "KH"), ("LA",), ("CN", "VN", "TH"), {ROAD: 3, S_C: 1}, specimen="wood", weight=1.5),
    Commodity("kosso", TIMBER,
              ("Pterocarpus erinaceus", "kosso", "African rosewood"),
              "m3", (20, 600), (1, 2), (0.1, 0.5),
              ("NG", "GM", "SN", "ML", "GH"), ("MY",), ("VN", "CN", "HK"), {S_C: 5}, specimen="wood", weight=1.5),
    Commodity("red_sanders", TIMBER,
              ("red sanders", "Pterocarpus santalinus", "red sandalwood"),
              "kg", (200, 20000), (5, 50), (1, 10),
              ("IN",), ("MY", "AE", "SG", "NP"), ("CN", "HK", "MY"), {S_C: 4, ROAD: 1}, specimen="wood", weight=1.5),
)  # fmt: skip

COMMODITY_BY_KEY: dict[str, Commodity] = {c.key: c for c in COMMODITIES}

# Which contact-point kinds handle which transport modes.
MODES_AT: dict[str, tuple[str, ...]] = {
    SEA: (S_C, S_O),
    AIR: (A_P, A_C),
    LAND: (ROAD, PED, RAIL),
    MAIL: (POST,),
    EXPRESS: (EXP,),
    INLAND: (ROAD,),
    HQ: (ROAD,),
}

DETECTION: dict[str, dict[str, float]] = {
    A_P: {"risk_profiling": 4, "detector_dog": 2, "scanner": 3, "intelligence": 2, "routine_control": 1},
    A_C: {"risk_profiling": 4, "scanner": 3, "intelligence": 2, "detector_dog": 1},
    S_C: {"risk_profiling": 5, "scanner": 3, "intelligence": 3, "random": 1},
    S_O: {"intelligence": 4, "routine_control": 2, "random": 1},
    ROAD: {"routine_control": 3, "intelligence": 4, "scanner": 1, "detector_dog": 1},
    RAIL: {"routine_control": 3, "scanner": 1},
    POST: {"scanner": 5, "detector_dog": 2, "risk_profiling": 2, "random": 1},
    EXP: {"scanner": 4, "risk_profiling": 3, "detector_dog": 1, "intelligence": 1},
    PED: {"routine_control": 3, "intelligence": 3},
}

CONCEALMENT: dict[tuple[str, str], tuple[str, ...]] = {
    (DRUG, S_C): ("in Chinese tea packaging among declared tea", "inside hollowed-out granite slabs",
                  "in the cooling unit of a refrigerated container", "mixed with cartons of frozen fish",
                  "in a false floor of the container", "in cartons of frozen durian",
                  "inside industrial rollers declared as machine parts", "in bags of animal feed"),
    (DRUG, A_P): ("in a false bottom of checked suitcase", "body-packed (swallowed pellets)",
                  "strapped to the body under clothing", "in vacuum-sealed bags inside luggage",
                  "inside shoe soles", "in packets of instant coffee in luggage"),
    (DRUG, A_C): ("inside auto spare parts", "in cartons of dried fruit", "inside electric motors",
                  "in a consignment of garments"),
    (DRUG, POST): ("in greeting cards", "inside hollowed-out books", "in cosmetics bottles", "in toy packaging",
                   "in tea packets declared as gifts"),
    (DRUG, EXP): ("inside printer toner cartridges", "in vitamin bottles", "in clothing parcels",
                  "inside loudspeaker boxes", "in candles"),
    (DRUG, ROAD): ("in a hidden compartment of a truck", "under a load of fruit on a truck", "in the fuel tank",
                   "in the frame of a motorbike", "in a car's spare tyre", "in sacks of rice on a pick-up"),
    (DRUG, PED): ("carried in backpacks along forest trails", "strapped to the body"),
    (DRUG, S_O): ("in the hold of a fishing boat under ice", "in the hold of a cargo barge",
                  "dropped at sea for a fishing boat to pick up"),
    (DRUG, RAIL): ("in a hidden compartment of a freight wagon", "in passenger luggage on the train"),
    (WILDLIFE, S_C): ("behind sacks of cashew nuts", "in bags declared as frozen seafood",
                      "behind sacks of ginger", "under bales declared as plastic scrap",
                      "in wooden crates declared as timber logs"),
    (WILDLIFE, A_P): ("wrapped in aluminium foil in checked luggage", "cut into pieces in checked luggage",
                      "in suitcases declared as personal effects"),
    (WILDLIFE, A_C): ("in cartons declared as handicrafts", "in cartons declared as dried seafood",
                      "mis-declared as animal bones for fertiliser"),
    (WILDLIFE, POST): ("in parcels declared as clothing", "in parcels declared as samples"),
    (WILDLIFE, ROAD): ("in a truck with a false compartment", "in the boot of a passenger car",
                       "in cages hidden under vegetables"),
    (WILDLIFE, S_O): ("in the hold of a fishing boat", "under the deck of a cargo boat"),
    (WILDLIFE, PED): ("carried across the border on foot in bags",),
    (TIMBER, ROAD): ("logs under a load of cassava", "declared as household furniture",
                     "sawn timber under a load of construction sand"),
    (TIMBER, S_C): ("logs declared as wood chips", "declared as Pterocarpus tinctorius",
                    "declared as teak lumber", "sawn timber declared as plywood"),
    (TIMBER, S_O): ("logs on a river barge",),
    (PRECURSOR, S_C): ("mis-declared as industrial solvent", "in drums declared as paint thinner",
                       "in drums declared as caustic soda", "in drums labelled as lubricant oil"),
    (PRECURSOR, ROAD): ("in drums on a truck declared as chemical fertiliser",),
    (PRECURSOR, A_C): ("in drums declared as pharmaceutical raw material",),
    (PRECURSOR, EXP): ("sample bottles declared as laboratory reagents",),
}  # fmt: skip

DECLARED_GOODS: dict[str, tuple[tuple[str, str], ...]] = {
    DRUG: (("Tea", "0902.30"), ("Granite slabs", "6802.93"), ("Frozen fish", "0303.89"),
           ("Frozen durian", "0811.90"), ("Machine parts", "8483.90"), ("Animal feed", "2309.90"),
           ("Auto spare parts", "8708.99"), ("Garments", "6109.10")),
    PRECURSOR: (("Industrial solvent", "3814.00"), ("Paint thinner", "3814.00"), ("Caustic soda", "2815.12"),
                ("Lubricant oil", "2710.19")),
    WILDLIFE: (("Cashew nuts", "0801.32"), ("Frozen seafood", "0306.17"), ("Ginger", "0910.11"),
               ("Plastic scrap", "3915.90"), ("Handicrafts", "4420.10")),
    TIMBER: (("Wood chips", "4401.22"), ("Plywood", "4412.31"), ("Household furniture", "9403.60"),
             ("Sawn timber", "4407.29")),
}  # fmt: skip

# Carriers by country (for flight numbers, AWB prefixes and vessel names).
AIRLINES: dict[str, tuple[str, str]] = {
    "VN": ("VN", "738"), "CN": ("CZ", "784"), "HK": ("CX", "160"), "TH": ("TG", "217"), "MY": ("MH", "232"),
    "SG": ("SQ", "618"), "ID": ("GA", "126"), "PH": ("PR", "079"), "KR": ("KE", "180"), "AU": ("QF", "081"),
    "NZ": ("NZ", "086"), "IN": ("AI", "098"), "BD": ("BG", "997"), "LK": ("UL", "603"), "MN": ("OM", "289"),
    "NP": ("RA", "285"), "LA": ("QV", "627"), "KH": ("K6", "188"), "MM": ("8M", "599"), "ET": ("ET", "071"),
    "QA": ("QR", "157"), "AE": ("EK", "176"), "TR": ("TK", "235"), "KE": ("KQ", "706"), "NG": ("P4", "409"),
    "ZA": ("SA", "083"), "JP": ("NH", "205"), "TW": ("CI", "297"),
}  # fmt: skip
CONTAINER_OWNERS = ("MSCU", "MAEU", "MSKU", "CMAU", "OOLU", "EGHU", "HLXU", "ONEU", "CSNU", "TGHU", "TCLU",
                    "SEGU", "WHLU", "YMLU", "HDMU", "ZIMU", "TEMU", "TRLU", "CAIU", "FCIU", "BMOU", "SITU")  # fmt: skip
VESSEL_NAMES = ("JADE HORIZON", "PACIFIC LOTUS", "ORIENT BRIGHT", "GOLDEN CRANE", "SEA PHOENIX", "MEKONG STAR",
                "EASTERN PEARL", "SILVER BAY", "HAI LONG 08", "BLUE MERIDIAN", "OCEAN JASMINE", "SUNRISE GLORY",
                "CORAL EXPRESS", "NAM PHAT 27", "LUCKY HARVEST", "SOUTHERN BREEZE", "ASIAN TRADER",
                "RED DRAGON 9")  # fmt: skip

# Land neighbours: whose vehicles cross at whose land borders.
LAND_NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "VN": ("CN", "LA", "KH"), "CN": ("VN", "LA", "MM", "MN", "NP", "IN", "HK"), "LA": ("VN", "TH", "CN", "MM", "KH"),
    "KH": ("VN", "TH", "LA"), "TH": ("LA", "MM", "KH", "MY"), "MM": ("TH", "CN", "LA", "IN", "BD"),
    "MY": ("TH", "SG"), "SG": ("MY",), "IN": ("NP", "BD", "MM", "CN"), "BD": ("IN", "MM"), "NP": ("IN", "CN"),
    "MN": ("CN",), "HK": ("CN",),
}  # fmt: skip
