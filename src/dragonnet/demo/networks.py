"""The planted trafficking networks: recurring people, companies, phones, containers and vehicles.

Each ring reappears in cases reported by agencies of several countries over several phases, spelt the way
different officers spell it (diacritics dropped, family name first or last, Hanzi or pinyin, "Co., Ltd" or
not, phones in local or international format). They are the ground truth for link analysis: the database
holds the cases only, `dragonnet.demo.planted_networks()` tells which cases belong together. All invented.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from dragonnet.demo.catalogue import A_C, A_P, DRUG, PED, PRECURSOR, ROAD, S_C, S_O, TIMBER, WILDLIFE


@dataclass(frozen=True)
class MemberDef:
    key: str
    kind: str  # person | company
    role: str
    nationality: str
    variants: tuple[str, ...]  # the first is the spelling in the member's own documents
    birth_date: dt.date | None = None
    id_number: str | None = None  # passport or company registration
    phone: bool = True  # a mobile number of the member's country, drawn from the seed
    email: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class RingDef:
    key: str
    name: str
    klass: str
    commodities: tuple[str, ...]
    agencies: tuple[str, ...]
    phases: tuple[int, ...]
    routes: tuple[tuple[str, tuple[str, ...], str], ...]  # origin, transits, destination
    modes: tuple[str, ...]
    concealments: tuple[str, ...]
    members: tuple[MemberDef, ...]  # the first is the anchor, present in most of the ring's cases
    cases: int
    containers: int = 0  # shared container numbers reused across shipments
    vehicle_country: str | None = None  # a shared vehicle plate


RINGS: tuple[RingDef, ...] = (
    RingDef(
        "tea-ice-au", "Tea-packed ice to Australia", DRUG, ("meth_crystal",),
        ("TH-CUS", "MY-RMCD", "AU-ABF", "NZ-CUS"), (3, 4, 5),
        (("MM", ("TH", "MY"), "AU"), ("MM", ("TH",), "NZ"), ("MM", ("MY",), "AU")),
        (S_C, A_C), ("in Chinese tea packaging among declared tea", "in green tea bags labelled as oolong tea"),
        (
            MemberDef("somchai", "person", "organiser", "TH",
                      ("Somchai Wongsawat", "WONGSAWAT Somchai", "Somchai Wongsawad", "Mr. Somchai Wongsawat"),
                      dt.date(1978, 3, 14), "AA4821937"),
            MemberDef("southern-cross", "company", "consignee", "AU",
                      ("Southern Cross Asian Grocery Pty Ltd", "SOUTHERN CROSS ASIAN GROCERY PTY. LTD.",
                       "Southern Cross Asian Grocery"), id_number="ABN 51 824 753 556",
                      email="orders@southerncross-asiangrocery.com.au", address="4/18 Railway Parade, Cabramatta NSW"),
            MemberDef("sinar-jaya", "company", "consignor", "MY",
                      ("Sinar Jaya Trading Sdn Bhd", "SINAR JAYA TRADING SDN. BHD.", "Sinar Jaya Tradings Sdn Bhd"),
                      id_number="201701023456", phone=True, address="Lot 12, Jalan Pelabuhan, Klang, Selangor"),
        ),
        cases=8, containers=2,
    ),
    RingDef(
        "laos-yaba-vn", "Ya ba over the Lao border", DRUG, ("meth_tablets", "meth_crystal"),
        ("LA-CUS", "VN-CUS", "VN-MPS-C04"), (1, 2, 3, 4),
        (("MM", ("LA",), "VN"), ("LA", (), "VN")),
        (ROAD, PED), ("in a hidden compartment of a truck", "in sacks of dried bamboo shoots on a truck"),
        (
            MemberDef("thang", "person", "driver", "VN",
                      ("Nguyễn Văn Thắng", "Nguyen Van Thang", "NGUYEN VAN THANG", "Thang Nguyen Van"),
                      dt.date(1986, 11, 2), "C4185230"),
            MemberDef("bounmy", "person", "organiser", "LA",
                      ("Bounmy Phommachanh", "PHOMMACHANH Bounmy", "Bounmi Phommachan"), dt.date(1979, 5, 21),
                      "P1864402"),
        ),
        cases=7, vehicle_country="VN",
    ),
    RingDef(
        "ketamine-couriers", "Ketamine air couriers", DRUG, ("ketamine",),
        ("IN-CBIC", "MY-RMCD", "HK-C&ED"), (4, 5),
        (("IN", ("MY",), "HK"), ("IN", (), "MY"), ("MM", ("MY",), "HK")),
        (A_P,), ("in a false bottom of checked suitcase", "in vacuum-sealed bags inside luggage"),
        (
            MemberDef("tan-ck", "person", "organiser", "MY",
                      ("Tan Chee Keong", "TAN CHEE KEONG", "Chee Keong Tan", "Tan Chee Kiong"),
                      dt.date(1982, 8, 9), "A31552789", email="tck.logistics88@gmail.com"),
            MemberDef("irfan", "person", "courier", "IN",
                      ("Mohammed Irfan Shaikh", "Mohd Irfan Shaikh", "SHAIKH Mohammed Irfan", "Mohamed Irfan Sheikh"),
                      dt.date(1995, 1, 30), "K4471823"),
        ),
        cases=6,
    ),
    RingDef(
        "northern-heroin", "Heroin on the northern route", DRUG, ("heroin", "opium"),
        ("LA-CUS", "VN-CUS", "VN-MPS-C04", "CN-GACC"), (2, 3, 4, 5),
        (("MM", ("LA", "VN"), "CN"), ("LA", ("VN",), "CN"), ("MM", ("LA",), "VN")),
        (ROAD, PED), ("in the frame of a motorbike", "carried in backpacks along forest trails"),
        (
            MemberDef("chen-wq", "person", "organiser", "CN",
                      ("陈伟强", "Chen Weiqiang", "CHEN Wei Qiang", "Weiqiang Chen", "Trần Vĩ Cường"),
                      dt.date(1975, 6, 18), "E61830275"),
            MemberDef("lo-phang", "person", "courier", "VN",
                      ("Lò Văn Pháng", "Lo Van Phang", "LO VAN PHANG"), dt.date(1990, 2, 12), "C2964810"),
        ),
        cases=8, vehicle_country="VN",
    ),
    RingDef(
        "fruit-cocaine", "Cocaine in fruit reefers", DRUG, ("cocaine",),
        ("HK-C&ED", "AU-ABF", "CN-GACC"), (3, 4, 5),
        (("BR", (), "HK"), ("PE", ("HK",), "CN"), ("BR", (), "AU")),
        (S_C,), ("in the cooling unit of a refrigerated container", "inside boxes of frozen fruit pulp"),
        (
            MemberDef("wing-fat", "company", "consignee", "HK",
                      ("Wing Fat Fresh Fruit Trading Co., Ltd", "WING FAT FRESH FRUIT TRADING COMPANY LIMITED",
                       "永發鮮果貿易有限公司", "Wing Fat Fresh Fruit Trading"), id_number="CR 2874415",
                      address="Unit 7, 12/F, Fruit Market Building, Yau Ma Tei, Kowloon"),
            MemberDef("frutas-tropicais", "company", "consignor", "BR",
                      ("Frutas Tropicais Exportadora Ltda", "FRUTAS TROPICAIS EXPORTADORA LTDA.",
                       "Frutas Tropicais Export. Ltda"), id_number="12.345.678/0001-95", phone=False,
                      address="Av. Portuária 880, Santos, SP"),
        ),
        cases=6, containers=2,
    ),
    RingDef(
        "nigeria-pangolin", "Pangolin scales from Nigeria", WILDLIFE, ("pangolin_scales", "ivory"),
        ("NG-NCS", "SG-CUS", "MY-RMCD", "VN-CUS", "CN-GACC"), (2, 3, 4, 5),
        (("NG", ("SG",), "VN"), ("NG", ("MY",), "VN"), ("NG", (), "VN"), ("NG", ("VN",), "CN")),
        (S_C, A_C), ("behind sacks of cashew nuts", "behind sacks of ginger", "in bags declared as frozen seafood"),
        (
            MemberDef("hoang-phat", "company", "consignee", "VN",
                      ("Công ty TNHH Thương mại Hoàng Phát", "Hoang Phat Trading Co., Ltd",
                       "HOANG PHAT TRADING COMPANY LIMITED", "Cong ty TNHH TM Hoang Phat"),
                      id_number="0201234567", address="Khu công nghiệp Đình Vũ, Hải Phòng"),
            MemberDef("okonkwo", "person", "organiser", "NG",
                      ("Emeka Okonkwo", "OKONKWO Emeka", "Emeka Okonkow", "Chukwuemeka Okonkwo"),
                      dt.date(1981, 4, 3), "A07715322", email="emekaglobal77@gmail.com"),
            MemberDef("chukwudi", "company", "consignor", "NG",
                      ("Chukwudi Global Ventures Ltd", "CHUKWUDI GLOBAL VENTURES LIMITED",
                       "Chukwudi Global Venture Ltd"),
                      id_number="RC 1456789", address="22 Creek Road, Apapa, Lagos"),
        ),
        cases=8, containers=1,
    ),
    RingDef(
        "mozambique-ivory", "Mozambican ivory via Malaysia", WILDLIFE, ("ivory", "rhino_horn"),
        ("MY-RMCD", "SG-CUS", "VN-CUS", "VN-MPS-C05"), (2, 3, 4),
        (("MZ", ("MY",), "VN"), ("MZ", ("SG", "MY"), "VN"), ("TZ", ("MY",), "VN")),
        (S_C,), ("in wooden crates declared as timber logs", "under bales declared as plastic scrap"),
        (
            MemberDef("jaya-makmur", "company", "consignee", "MY",
                      ("Jaya Makmur Enterprise Sdn Bhd", "JAYA MAKMUR ENTERPRISE SDN. BHD.",
                       "Jaya Makmur Ent. Sdn Bhd"),
                      id_number="200901034567", address="No. 5, Jalan Industri 3, Pasir Gudang, Johor"),
            MemberDef("pham-huong", "person", "owner", "VN",
                      ("Phạm Thị Hương", "Pham Thi Huong", "PHAM THI HUONG", "Huong Pham Thi"),
                      dt.date(1984, 9, 27), "C5527193"),
            MemberDef("nacala-marine", "company", "consignor", "MZ",
                      ("Nacala Marine Products Lda", "NACALA MARINE PRODUCTS, LDA", "Nacala Marine Produtos Lda"),
                      phone=False, address="Rua do Porto 14, Nacala"),
        ),
        cases=6, containers=1,
    ),
    RingDef(
        "rhino-couriers", "Rhino horn air couriers", WILDLIFE, ("rhino_horn",),
        ("VN-CUS", "MY-RMCD", "TH-CUS"), (2, 3, 4, 5),
        (("ZA", ("ET",), "VN"), ("ZA", ("QA",), "MY"), ("MZ", ("ET",), "TH"), ("ZA", ("QA",), "VN")),
        (A_P,), ("wrapped in aluminium foil in checked luggage", "cut into pieces in checked luggage"),
        (
            MemberDef("do-cuong", "person", "courier", "VN",
                      ("Đỗ Mạnh Cường", "Do Manh Cuong", "DO MANH CUONG", "Cuong Do Manh"),
                      dt.date(1991, 7, 15), "C3385120"),
            MemberDef("tran-long", "person", "organiser", "VN",
                      ("Trần Đức Long", "Tran Duc Long", "TRAN DUC LONG", "Long Tran Duc"), dt.date(1977, 12, 1),
                      "B7731904", email="longtran.hn77@gmail.com"),
        ),
        cases=7,
    ),
    RingDef(
        "rosewood-north", "Siamese rosewood through Viet Nam to China", TIMBER,
        ("siamese_rosewood", "burmese_rosewood"),
        ("LA-CUS", "KH-GDCE", "VN-CUS", "CN-GACC"), (2, 3, 4, 5),
        (("LA", ("VN",), "CN"), ("KH", ("VN",), "CN"), ("LA", (), "VN")),
        (ROAD, S_C, S_O), ("logs under a load of cassava", "declared as household furniture"),
        (
            MemberDef("phu-gia", "company", "consignee", "VN",
                      ("Công ty TNHH Lâm sản Phú Gia", "Phu Gia Forest Products Co., Ltd",
                       "PHU GIA FOREST PRODUCTS CO LTD"), id_number="4900876543",
                      address="Khu kinh tế cửa khẩu Đồng Đăng, Lạng Sơn"),
            MemberDef("pingxiang-hongmu", "company", "consignee", "CN",
                      ("凭祥市红木贸易有限公司", "Pingxiang Hongmu Trading Co., Ltd",
                       "PINGXIANG HONGMU TRADING CO LTD"),
                      id_number="91451481MA5K7XQ21P", address="凭祥市红木城, Guangxi"),
            MemberDef("sengdara", "company", "consignor", "LA",
                      ("Sengdara Wood Processing Co., Ltd", "SENGDARA WOOD PROCESSING",
                       "Sengdara Wood Processing Sole Co., Ltd"),
                      address="Ban Nongbone, Savannakhet"),
        ),
        cases=7, vehicle_country="VN",
    ),
    RingDef(
        "precursors-mm", "Precursor chemicals to Myanmar", PRECURSOR, ("ephedrine", "acetic_anhydride", "p2p"),
        ("IN-CBIC", "TH-CUS", "LA-CUS", "CN-GACC", "MM-CUS"), (1, 2, 3, 4),
        (("IN", ("TH",), "MM"), ("CN", ("LA",), "MM"), ("IN", (), "MM"), ("CN", ("TH",), "MM")),
        (S_C, ROAD), ("in drums declared as paint thinner", "mis-declared as industrial solvent"),
        (
            MemberDef("ganesh", "company", "consignor", "IN",
                      ("Shree Ganesh Pharma Chem Pvt Ltd", "SHREE GANESH PHARMACHEM PVT. LTD.",
                       "Sri Ganesh Pharma Chem Private Limited"), id_number="U24230GJ2011PTC065432",
                      address="Plot 118, GIDC Estate, Vapi, Gujarat"),
            MemberDef("hengda", "company", "consignor", "CN",
                      ("广州恒达化工有限公司", "Guangzhou Hengda Chemical Co., Ltd",
                       "GUANGZHOU HENGDA CHEMICALS CO LTD"),
                      id_number="91440101MA59R2LX3K", email="sales@hengda-chem.cn"),
            MemberDef("aung-ko-ko", "person", "consignee", "MM",
                      ("Aung Ko Ko", "U Aung Ko Ko", "AUNG KO KO", "Aung Koko"), dt.date(1973, 10, 8), "MA418275"),
        ),
        cases=6,
    ),
)  # fmt: skip
