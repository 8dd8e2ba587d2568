"""Invented people and companies: name pools per nationality for one-off parties, addresses, e-mail addresses.

All names are common given and family names combined at random; any resemblance to a real person is
coincidental. Company names are invented.
"""

from __future__ import annotations

import datetime as dt
import random

from dragonnet.demo.codes import ascii_fold

# (given names, family names, "family-first" order)
_PERSONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {
    "VN": (("Văn Hùng", "Văn Dũng", "Minh Tuấn", "Văn Hải", "Đức Long", "Thành Nam", "Hữu Phong", "Văn Sơn",
            "Quốc Thắng", "Đức Trung", "Thị Hương", "Thị Lan", "Thị Mai", "Thùy Linh", "Thu Hà", "Thị Trang",
            "Phương Thảo", "Văn Tài", "Ngọc Ánh", "Văn Bình"),
           ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
            "Ngô", "Dương", "Lý"), True),
    "CN": (("Weiqiang", "Zhiming", "Jianhua", "Guodong", "Haitao", "Lijuan", "Xiaoyan", "Junjie", "Wenhui",
            "Zihao", "Yong", "Lei", "Jun", "Fang"),
           ("Chen", "Wang", "Li", "Zhang", "Liu", "Huang", "Lin", "Wu", "Zhou", "Yang", "Zheng", "Liang"), True),
    "HK": (("Tai Man", "Ka Ho", "Wing Kei", "Siu Ming", "Chi Keung", "Mei Ling", "Kwok Wai"),
           ("Chan", "Wong", "Lee", "Cheung", "Lau", "Ng", "Leung"), True),
    "TW": (("Chih-Hao", "Wei-Lun", "Yu-Ting", "Chia-Hung", "Shu-Fen"), ("Chen", "Lin", "Huang", "Chang"), True),
    "TH": (("Somchai", "Somsak", "Prasert", "Anan", "Kittisak", "Niran", "Wichai", "Sompong", "Malee", "Siriporn"),
           ("Srisuk", "Chaiyaporn", "Boonmee", "Saelim", "Thongdee", "Kaewkla", "Rattanakul", "Sukjai"), False),
    "LA": (("Souksavanh", "Phonesavanh", "Khamphone", "Bounmy", "Vilayphone", "Sengphet", "Noy"),
           ("Phommachanh", "Sengdara", "Inthavong", "Keomany", "Sisouphanh", "Vongsa"), False),
    "KH": (("Sophal", "Dara", "Vuthy", "Sokha", "Chanthou", "Rithy", "Bopha"),
           ("Sok", "Chea", "Heng", "Lim", "Pich", "Chhun", "Meas"), True),
    "MM": (("Aung Ko Ko", "Kyaw Zin", "Min Thu", "Zaw Win", "Tun Tun", "Nay Lin", "Hla Myint", "Thida Aye"),
           ("",), False),
    "MY": (("Ahmad", "Mohd Faizal", "Nur Aisyah", "Azman", "Hafiz", "Kumar", "Wei Ming", "Chee Keong"),
           ("bin Ismail", "bin Abdullah", "binti Hassan", "bin Yusof", "a/l Muthu", "Tan", "Lim", "Ong"), False),
    "SG": (("Wei Jie", "Muhammad Hafiz", "Siew Ling", "Rajesh", "Jun Hao"), ("Tan", "Lim", "Ng", "Goh"), False),
    "ID": (("Agus", "Budi", "Dewi", "Rudi", "Eko", "Hendra", "Siti", "Yusuf"),
           ("Santoso", "Hartono", "Lestari", "Hermawan", "Prasetyo", "Wijaya", "Saputra"), False),
    "PH": (("Juan", "Mark", "Jose", "Maria", "Ramon", "Angelica"), ("dela Cruz", "Reyes", "Santos", "Garcia",
                                                                    "Bautista", "Mendoza"), False),
    "KR": (("Min-jun", "Seung-ho", "Ji-hoon", "Hyun-woo", "Seo-yeon"), ("Kim", "Lee", "Park", "Choi", "Jung"), True),
    "JP": (("Takeshi", "Kenji", "Yuki", "Hiroshi"), ("Sato", "Suzuki", "Takahashi", "Tanaka"), False),
    "IN": (("Rahul", "Amit", "Suresh", "Mohammed", "Vikram", "Priya", "Arjun", "Imran"),
           ("Sharma", "Patel", "Kumar", "Singh", "Reddy", "Nair", "Khan", "Shaikh"), False),
    "BD": (("Md. Rafiqul", "Abdul", "Shahidul", "Nasrin", "Kamal"), ("Islam", "Karim", "Hossain", "Rahman"), False),
    "LK": (("Nuwan", "Kasun", "Chaminda", "Dilani"), ("Perera", "Fernando", "Silva", "Jayasinghe"), False),
    "NP": (("Ram Bahadur", "Sunil", "Bikash", "Sita"), ("Thapa", "Shrestha", "Gurung", "Tamang"), False),
    "MN": (("Bat-Erdene", "Enkhbayar", "Ganbold", "Oyunchimeg"), ("Dorj", "Bold", "Batbayar", "Tsogt"), False),
    "AU": (("James", "Daniel", "Michael", "Sarah", "Jack", "Olivia", "Tom"),
           ("Smith", "Nguyen", "Brown", "Wilson", "Taylor", "Jones", "Tran"), False),
    "NZ": (("Liam", "Tane", "Aroha", "Sam", "Grace"), ("Walker", "Ngata", "Harris", "Thompson"), False),
    "NG": (("Chinedu", "Emeka", "Ibrahim", "Abubakar", "Olumide", "Ifeanyi", "Ngozi", "Tunde"),
           ("Okafor", "Okonkwo", "Musa", "Sani", "Adeyemi", "Eze", "Nwosu", "Bello"), False),
    "KE": (("Peter", "John", "Joseph", "Grace", "Daniel"), ("Mwangi", "Otieno", "Kamau", "Wanjiru", "Ochieng"), False),
    "TZ": (("Juma", "Hamisi", "Rehema", "Said"), ("Mwinyi", "Salim", "Msuya", "Mushi"), False),
    "MZ": (("Armando", "Celso", "Lurdes", "Ernesto"), ("Macuácua", "Mabunda", "Sitoe", "Cossa"), False),
    "ZA": (("Sipho", "Johan", "Thabo", "Pieter", "Lerato"), ("Dlamini", "van der Merwe", "Nkosi", "Botha"), False),
    "CM": (("Jean-Pierre", "Samuel", "Blaise"), ("Mbarga", "Nkodo", "Fotso"), False),
    "CD": (("Patrick", "Dieudonné", "Christian"), ("Kabila", "Mukendi", "Ilunga"), False),
    "BR": (("Carlos", "João", "Rafael", "Ana"), ("Silva", "Pereira", "Oliveira", "Souza"), False),
    "PE": (("Luis", "Jorge", "Rosa"), ("Quispe", "Huamán", "Mamani"), False),
    "CO": (("Andrés", "Juan Carlos", "Camila"), ("Gómez", "Rodríguez", "Martínez"), False),
    "MX": (("Miguel", "Alejandro", "Diana"), ("Hernández", "López", "Ramírez"), False),
    "NL": (("Jan", "Pieter", "Sanne"), ("de Vries", "Jansen", "Bakker"), False),
    "DE": (("Lukas", "Jonas", "Anna"), ("Müller", "Schmidt", "Weber"), False),
}  # fmt: skip

_CN_HANZI = {"Chen": "陈", "Wang": "王", "Li": "李", "Zhang": "张", "Liu": "刘", "Huang": "黄", "Lin": "林",
             "Wu": "吴", "Zhou": "周", "Yang": "杨", "Zheng": "郑", "Liang": "梁", "Weiqiang": "伟强",
             "Zhiming": "志明", "Jianhua": "建华", "Guodong": "国栋", "Haitao": "海涛", "Lijuan": "丽娟",
             "Xiaoyan": "晓燕", "Junjie": "俊杰", "Wenhui": "文辉", "Zihao": "子豪", "Yong": "勇", "Lei": "磊",
             "Jun": "军", "Fang": "芳"}  # fmt: skip

_CITIES: dict[str, tuple[str, ...]] = {
    "VN": ("Hà Nội", "TP. Hồ Chí Minh", "Hải Phòng", "Móng Cái, Quảng Ninh", "Lạng Sơn", "Nghệ An", "Đà Nẵng"),
    "CN": ("Guangzhou, Guangdong", "Dongxing, Guangxi", "Pingxiang, Guangxi", "Kunming, Yunnan", "Shenzhen",
           "Xiamen, Fujian", "Shanghai"),
    "HK": ("Kowloon", "Sham Shui Po, Kowloon", "Wan Chai", "Kwai Chung, New Territories"),
    "TH": ("Bangkok", "Chiang Rai", "Chiang Mai", "Nong Khai", "Mae Sai"),
    "LA": ("Vientiane", "Bokeo", "Savannakhet", "Luang Namtha"),
    "KH": ("Phnom Penh", "Sihanoukville", "Svay Rieng"),
    "MM": ("Yangon", "Tachileik, Shan State", "Muse, Shan State", "Mandalay"),
    "MY": ("Klang, Selangor", "Johor Bahru", "Kuala Lumpur", "Penang"),
    "SG": ("Jurong", "Geylang", "Tuas"),
    "ID": ("Jakarta Utara", "Medan", "Batam", "Surabaya"),
    "PH": ("Manila", "Cebu City", "Pasay City"),
    "KR": ("Busan", "Incheon", "Seoul"),
    "IN": ("Mumbai", "Chennai", "Hyderabad", "Kolkata", "Imphal, Manipur", "Vapi, Gujarat"),
    "AU": ("Cabramatta NSW", "Footscray VIC", "Sunnybank QLD", "Perth WA"),
    "NZ": ("Auckland", "Manukau", "Tauranga"),
    "NG": ("Lagos", "Onitsha, Anambra", "Kano", "Apapa, Lagos"),
    "KE": ("Mombasa", "Nairobi"),
    "MZ": ("Nacala", "Maputo", "Pemba"),
    "ZA": ("Johannesburg", "Durban", "Pretoria"),
    "BR": ("Santos, SP", "São Paulo"),
}  # fmt: skip
_STREETS = ("Harbour Road", "Market Street", "Industrial Zone", "Station Road", "Riverside", "Trade Centre",
            "Free Trade Zone", "Warehouse Lane", "Border Road")  # fmt: skip

COMPANY_SUFFIX: dict[str, str] = {
    "VN": "Co., Ltd", "CN": "Co., Ltd", "HK": "Co., Limited", "TH": "Co., Ltd", "LA": "Sole Co., Ltd",
    "KH": "Co., Ltd", "MM": "Co., Ltd", "MY": "Sdn Bhd", "SG": "Pte Ltd", "ID": "PT", "PH": "Inc.",
    "KR": "Co., Ltd", "IN": "Pvt Ltd", "AU": "Pty Ltd", "NZ": "Limited", "NG": "Ltd", "KE": "Ltd",
    "MZ": "Lda", "ZA": "(Pty) Ltd", "BR": "Ltda", "BD": "Ltd", "LK": "(Pvt) Ltd", "TW": "Co., Ltd",
}  # fmt: skip
_COMPANY_WORDS = ("Golden", "Asia", "Pacific", "Sun", "Star", "Prosperity", "Green", "Ocean", "Phoenix", "Unity",
                  "Rising", "Silver", "Harmony", "Lotus", "Eastern", "Royal", "Bright", "Global")  # fmt: skip
_COMPANY_TRADES = ("Trading", "Import Export", "Logistics", "Food", "Seafood", "Agricultural Products",
                   "Chemicals", "Timber", "Handicraft", "Freight Forwarding", "General Merchandise")  # fmt: skip
_MAIL_DOMAINS: dict[str, tuple[str, ...]] = {
    "VN": ("gmail.com", "yahoo.com.vn"), "CN": ("qq.com", "163.com", "126.com"), "HK": ("gmail.com", "yahoo.com.hk"),
    "KR": ("naver.com", "gmail.com"), "TH": ("gmail.com", "hotmail.com"), "NG": ("gmail.com", "yahoo.com"),
}  # fmt: skip


def person_name(rng: random.Random, country: str) -> str:
    given, family, family_first = _PERSONS.get(country, _PERSONS["AU"])
    g, f = rng.choice(given), rng.choice(family)
    if not f:
        return g
    if country == "CN" and rng.random() < 0.3:
        return _CN_HANZI.get(f, f) + _CN_HANZI.get(g, g)
    if country == "VN" and rng.random() < 0.4:
        return ascii_fold(f"{f} {g}")
    return f"{f} {g}" if family_first else f"{g} {f}"


def company_name(rng: random.Random, country: str) -> str:
    suffix = COMPANY_SUFFIX.get(country, "Ltd")
    core = f"{rng.choice(_COMPANY_WORDS)} {rng.choice(_COMPANY_WORDS)} {rng.choice(_COMPANY_TRADES)}"
    return f"PT {core}" if suffix == "PT" else f"{core} {suffix}"


def address(rng: random.Random, country: str) -> str:
    city = rng.choice(_CITIES.get(country, ("City centre",)))
    return f"{rng.randrange(1, 400)} {rng.choice(_STREETS)}, {city}, {country}"


def email_for(rng: random.Random, name: str, country: str) -> str:
    base = "".join(ch for ch in ascii_fold(name).lower() if ch.isalnum() or ch == " ").split()
    if not base or (country == "CN" and rng.random() < 0.6):
        return f"{rng.randrange(10**7, 10**10)}@qq.com"
    local = ".".join(base[:2]) if rng.random() < 0.5 else "".join(base[:3]) + str(rng.randrange(10, 99))
    return f"{local}@{rng.choice(_MAIL_DOMAINS.get(country, ('gmail.com', 'outlook.com', 'yahoo.com')))}"


def birth_date(rng: random.Random) -> dt.date:
    return dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(365 * 43))
