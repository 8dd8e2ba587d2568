"""Build the place tables of dragonnet.reference: the full UN/LOCODE list and the curated places of the operation.

Run: .venv/bin/python scripts/build_places.py [--unlocode FILE[,FILE...]] [--subdivisions FILE] [--version TEXT]
(offline; defaults read ../shared/data/unlocode/ and the installed `airportsdata` package)

Writes, in src/dragonnet/reference/data/:
- `unlocode.csv.gz`: the UN/LOCODE code list compacted by `dragonnet.reference.unlocode.compact_rows` (one row
  per code, decimal coordinates, aliases from bilingual duplicates and "=" reference rows, successors of
  removed codes). Source: UNECE's UN/LOCODE (free to use), 2018-1 edition as curated by OpenTravelData
  (CC-BY 4.0). A newer edition in the same columns can be given with --unlocode (UNECE ships it in three
  parts: pass them comma-separated) or, without rebuilding, at run time with DRAGONNET_UNLOCODE_FILE.
- `unlocode-subdivisions.csv.gz`: ISO 3166-2 subdivision names as UNECE lists them (2022-2).
- `places.csv`: the curated places below, which overlay the code list: the function most relevant to the
  operation (`place_type`), aliases in the region's languages and spellings officers use, coordinates where
  the code list has none, and land-border crossings with no UN/LOCODE (they resolve by name only). Each
  curated code is checked against the code list (`locode_status` = `listed` / `unlisted`; the script prints
  the unlisted ones). Airports take their coordinates from `airportsdata` (source `airportsdata`); seaports,
  land borders and inland places carry coordinates curated by the dragonnet developers from public maps, good
  to about 0.1 degree (source `curated`).

One curated row per place. Where one UN/LOCODE covers both a port and an airport (e.g. SGSIN, HKHKG), the
row's place_type is the function most relevant to the operation, `iata` names the airport serving it and the
coordinates are those of that function.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import os
import sys
from pathlib import Path

import airportsdata

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dragonnet.reference import unlocode  # noqa: E402
from dragonnet.reference._text import norm  # noqa: E402

DATA = ROOT / "src" / "dragonnet" / "reference" / "data"
OUT = DATA / "places.csv"
SHARED = ROOT.parent / "shared" / "data" / "unlocode"
DEFAULT_UNLOCODE = SHARED / "unlocode-code-list-2018-1.csv.bz2"
DEFAULT_SUBDIVISIONS = SHARED / "unece-subdivision-codes-2022-2.csv"
SOURCE = "UNECE UN/LOCODE, via OpenTravelData data/unlocode (CC-BY 4.0)"

S, A, L, INL = "seaport", "airport", "land_border", "inland"

# (locode or "", name, country, place_type, lat, lon, iata, aliases separated by "|")
# lat/lon None for airports: taken from airportsdata by IATA code.
CURATED: list[tuple[str, str, str, str, float | None, float | None, str, str]] = [
    # --- China (mainland)
    ("CNSHA", "Shanghai", "CN", S, 31.35, 121.55, "", "Waigaoqiao|Yangshan|上海|Thượng Hải|Shanghai port"),
    ("CNPVG", "Shanghai Pudong International Airport", "CN", A, None, None, "PVG", "Pudong|浦东机场|上海浦东"),
    ("CNYTN", "Yantian", "CN", S, 22.57, 114.27, "", "Shenzhen Yantian|Shenzhen-Yantian|盐田"),
    ("CNSHK", "Shekou", "CN", S, 22.48, 113.91, "", "Shenzhen Shekou|蛇口"),
    ("CNCWN", "Chiwan", "CN", S, 22.47, 113.88, "", "Shenzhen Chiwan|赤湾"),
    ("CNSZX", "Shenzhen Bao'an International Airport", "CN", A, None, None, "SZX", "Shenzhen|深圳|Thâm Quyến"),
    ("CNNSA", "Nansha", "CN", S, 22.70, 113.63, "", "Guangzhou Nansha|南沙"),
    ("CNHUA", "Huangpu", "CN", S, 23.09, 113.43, "", "Guangzhou Huangpu|黄埔"),
    (
        "CNCAN",
        "Guangzhou Baiyun International Airport",
        "CN",
        A,
        None,
        None,
        "CAN",
        "Guangzhou|Canton|广州|Quảng Châu|Baiyun",
    ),
    ("CNXMN", "Xiamen", "CN", S, 24.48, 118.08, "XMN", "Amoy|厦门|Hạ Môn"),
    ("CNNGB", "Ningbo", "CN", S, 29.93, 121.85, "NGB", "Ningbo-Zhoushan|Beilun|宁波"),
    ("CNTAO", "Qingdao", "CN", S, 36.07, 120.30, "TAO", "Tsingtao|青岛"),
    ("CNTXG", "Tianjin Xingang", "CN", S, 38.98, 117.75, "", "Tianjin|Xingang|天津"),
    ("CNDLC", "Dalian", "CN", S, 38.93, 121.65, "DLC", "大连"),
    ("CNFOC", "Fuzhou", "CN", S, 26.00, 119.45, "FOC", "Mawei|福州"),
    ("CNSWA", "Shantou", "CN", S, 23.35, 116.68, "", "汕头"),
    ("CNZUH", "Zhuhai", "CN", S, 22.27, 113.58, "", "珠海"),
    ("CNZNG", "Zhanjiang", "CN", S, 21.20, 110.40, "", "湛江"),
    ("CNFAN", "Fangchenggang", "CN", S, 21.60, 108.35, "", "Fangcheng|防城港"),
    ("CNQZH", "Qinzhou", "CN", S, 21.68, 108.62, "", "钦州"),
    ("CNBHY", "Beihai", "CN", S, 21.48, 109.10, "BHY", "北海"),
    ("CNHAK", "Haikou", "CN", S, 20.02, 110.28, "HAK", "海口|Hainan"),
    ("CNLYG", "Lianyungang", "CN", S, 34.74, 119.45, "", "连云港"),
    ("CNPEK", "Beijing Capital International Airport", "CN", A, None, None, "PEK", "Beijing|Peking|北京|Bắc Kinh"),
    ("CNKMG", "Kunming", "CN", A, None, None, "KMG", "Kunming Changshui|昆明|Côn Minh"),
    ("CNNNG", "Nanning", "CN", A, None, None, "NNG", "南宁|Nam Ninh"),
    ("CNCTU", "Chengdu", "CN", A, None, None, "CTU", "Chengdu Shuangliu|成都"),
    ("CNCKG", "Chongqing", "CN", A, None, None, "CKG", "Chungking|重庆"),
    ("CNHGH", "Hangzhou", "CN", A, None, None, "HGH", "杭州"),
    ("CNURC", "Urumqi", "CN", A, None, None, "URC", "Ürümqi|乌鲁木齐"),
    ("CNWUH", "Wuhan", "CN", A, None, None, "WUH", "武汉"),
    ("CNCSX", "Changsha", "CN", A, None, None, "CSX", "长沙"),
    ("CNSYX", "Sanya", "CN", A, None, None, "SYX", "三亚"),
    ("CNDOX", "Dongxing", "CN", L, 21.54, 107.97, "", "东兴|Đông Hưng|Dongxing-Mong Cai"),
    ("", "Hekou", "CN", L, 22.51, 103.96, "", "河口|Hà Khẩu|Hekou-Lao Cai"),
    ("CNYYG", "Youyiguan", "CN", L, 22.01, 106.73, "", "Friendship Pass|友谊关|Hữu Nghị Quan|Pingxiang Youyiguan"),
    ("CNPIN", "Pingxiang", "CN", L, 22.10, 106.75, "", "凭祥|Bằng Tường"),
    ("CNMHN", "Mohan", "CN", L, 21.18, 101.69, "", "磨憨|Mohan-Boten"),
    ("CNRUI", "Ruili", "CN", L, 24.01, 97.85, "", "瑞丽|Ruili-Muse"),
    ("CNWAN", "Wanding", "CN", L, 24.08, 98.07, "", "畹町"),
    ("CNJOG", "Jinghong", "CN", INL, 22.01, 100.80, "", "景洪|Xishuangbanna"),
    ("CNRLC", "Erenhot", "CN", L, 43.65, 111.98, "", "Erlian|Erlianhot|二连浩特"),
    ("CNMLX", "Manzhouli", "CN", L, 49.60, 117.43, "", "满洲里"),
    ("CNHRS", "Horgos", "CN", L, 44.21, 80.41, "", "Khorgos|霍尔果斯"),
    ("CNHUG", "Huanggang", "CN", L, 22.52, 114.07, "", "Huanggang port|皇岗|Lok Ma Chau-Huanggang"),
    ("CNGBP", "Gongbei", "CN", L, 22.22, 113.55, "", "拱北|Gongbei port|Zhuhai Gongbei"),
    ("CNSZW", "Shenzhen Bay", "CN", L, 22.50, 113.95, "", "Shenzhenwan|深圳湾"),
    # --- Hong Kong SAR, Macao SAR
    (
        "HKHKG",
        "Hong Kong",
        "HK",
        S,
        22.34,
        114.12,
        "HKG",
        "Kwai Tsing|Kwai Chung|Chek Lap Kok|香港|Hồng Kông|Hong Kong SAR|HKIA",
    ),
    ("", "Lok Ma Chau Control Point", "HK", L, 22.51, 114.07, "", "Lok Ma Chau|落马洲|Lok Ma Chau Spur Line"),
    ("", "Lo Wu Control Point", "HK", L, 22.53, 114.11, "", "Lo Wu|罗湖|Luohu"),
    ("", "Hong Kong-Zhuhai-Macao Bridge Hong Kong Port", "HK", L, 22.30, 113.94, "", "HZMB|港珠澳大桥"),
    ("", "Hong Kong Air Mail Centre", "HK", "mail_centre", 22.31, 113.93, "", "AMC|Air Mail Centre"),
    ("MOMFM", "Macao", "MO", A, None, None, "MFM", "Macau|澳门|Ma Cao|Macau International Airport"),
    ("", "Portas do Cerco", "MO", L, 22.22, 113.55, "", "Border Gate|关闸|Macau Border Gate"),
    # --- Viet Nam
    ("VNHPH", "Hai Phong", "VN", S, 20.86, 106.68, "HPH", "Haiphong|Hải Phòng|Cat Bi|Dinh Vu|Lach Huyen|海防"),
    ("VNHAN", "Hanoi", "VN", A, None, None, "HAN", "Noi Bai|Nội Bài|Ha Noi|Hà Nội|河内"),
    ("VNSGN", "Ho Chi Minh City", "VN", A, None, None, "SGN", "Tan Son Nhat|Tân Sơn Nhất|Saigon|Sài Gòn|HCMC|胡志明市"),
    ("VNCLI", "Cat Lai", "VN", S, 10.76, 106.79, "", "Cát Lái|Tan Cang Cat Lai|Saigon New Port"),
    ("VNCMT", "Cai Mep", "VN", S, 10.53, 107.03, "", "Cái Mép|Cai Mep-Thi Vai|Cai Mep International Terminal"),
    ("VNVUT", "Vung Tau", "VN", S, 10.35, 107.07, "", "Vũng Tàu"),
    ("VNDAD", "Da Nang", "VN", A, None, None, "DAD", "Đà Nẵng|Danang|Tien Sa|岘港"),
    ("VNCLN", "Cai Lan", "VN", S, 20.97, 107.05, "", "Cái Lân|Quang Ninh port|Ha Long"),
    ("VNUIH", "Quy Nhon", "VN", S, 13.77, 109.23, "", "Qui Nhon|Quy Nhơn"),
    ("VNDQT", "Dung Quat", "VN", S, 15.40, 108.80, "", "Dung Quất"),
    ("VNCXR", "Cam Ranh", "VN", A, None, None, "CXR", "Nha Trang|Cam Ranh airport"),
    ("VNPQC", "Phu Quoc", "VN", A, None, None, "PQC", "Phú Quốc"),
    ("VNVCA", "Can Tho", "VN", A, None, None, "VCA", "Cần Thơ"),
    ("VNVNH", "Vinh", "VN", A, None, None, "VII", "Nghe An"),
    ("", "Mong Cai", "VN", L, 21.53, 107.96, "", "Móng Cái|Bac Luan|芒街|Mong Cai-Dongxing"),
    ("VNLCA", "Lao Cai", "VN", L, 22.50, 103.97, "", "Lào Cai|老街|Lao Cai-Hekou"),
    ("", "Huu Nghi", "VN", L, 21.99, 106.72, "", "Hữu Nghị|Huu Nghi border gate|Dong Dang|Đồng Đăng|Friendship Gate"),
    ("VNLGS", "Lang Son", "VN", INL, 21.85, 106.76, "", "Lạng Sơn|谅山"),
    ("", "Moc Bai", "VN", L, 11.07, 106.17, "", "Mộc Bài|Moc Bai-Bavet"),
    ("", "Lao Bao", "VN", L, 16.62, 106.60, "", "Lao Bảo|Lao Bao-Dansavanh"),
    ("", "Cau Treo", "VN", L, 18.39, 105.16, "", "Cầu Treo|Cau Treo-Nam Phao"),
    ("", "Tinh Bien", "VN", L, 10.59, 104.95, "", "Tịnh Biên"),
    ("", "Bo Y", "VN", L, 14.72, 107.56, "", "Bờ Y"),
    # --- Lao PDR
    ("LAVTE", "Vientiane", "LA", A, None, None, "VTE", "Wattay|Viêng Chăn|万象"),
    ("LALPQ", "Luang Prabang", "LA", A, None, None, "LPQ", "Luang Phabang|Luông Pha Bang"),
    ("LAPKZ", "Pakse", "LA", A, None, None, "PKZ", "Pakxe"),
    ("", "Boten", "LA", L, 21.18, 101.67, "", "Boten-Mohan|磨丁"),
    ("", "Thanaleng", "LA", L, 17.88, 102.72, "", "Friendship Bridge|Thai-Lao Friendship Bridge|Thanaleng-Nong Khai"),
    ("", "Savannakhet", "LA", L, 16.60, 104.75, "", "Second Friendship Bridge|Kaysone Phomvihane"),
    ("", "Houayxay", "LA", L, 20.27, 100.43, "", "Huay Xai|Houay Xay|Fourth Friendship Bridge"),
    ("", "Ton Pheung", "LA", INL, 20.35, 100.10, "", "Golden Triangle Special Economic Zone|Kings Romans"),
    # --- Cambodia
    ("KHKOS", "Sihanoukville", "KH", S, 10.64, 103.50, "KOS", "Kampong Saom|Kompong Som|Preah Sihanouk|西哈努克"),
    ("KHPNH", "Phnom Penh", "KH", A, None, None, "KTI", "Techo|Phnom Penh airport|金边|Phnôm Pênh"),
    ("KHREP", "Siem Reap", "KH", A, None, None, "SAI", "Siem Reap Angkor"),
    ("KHBVT", "Bavet", "KH", L, 11.07, 106.14, "", "Bavet-Moc Bai"),
    ("", "Poipet", "KH", L, 13.66, 102.56, "", "Poipet-Aranyaprathet"),
    ("", "Cham Yeam", "KH", L, 11.65, 102.91, "", "Koh Kong|Cham Yeam-Hat Lek"),
    # --- Thailand
    ("THLCH", "Laem Chabang", "TH", S, 13.08, 100.88, "", "แหลมฉบัง|林查班"),
    (
        "THBKK",
        "Bangkok",
        "TH",
        A,
        None,
        None,
        "BKK",
        "Suvarnabhumi|Krung Thep|曼谷|Băng Cốc|Khlong Toei|Bangkok Port|Klong Toey",
    ),
    ("THDMK", "Don Mueang", "TH", A, None, None, "DMK", "Don Muang"),
    ("THHKT", "Phuket", "TH", A, None, None, "HKT", ""),
    ("THCNX", "Chiang Mai", "TH", A, None, None, "CNX", ""),
    ("THCEI", "Chiang Rai", "TH", A, None, None, "CEI", ""),
    ("THHDY", "Hat Yai", "TH", A, None, None, "HDY", ""),
    ("THSGZ", "Songkhla", "TH", S, 7.21, 100.59, "", ""),
    ("", "Ranong", "TH", S, 9.96, 98.63, "", "Ranong-Kawthaung"),
    ("", "Mae Sai", "TH", L, 20.43, 99.88, "", "Mae Sai-Tachileik|แม่สาย"),
    ("", "Chiang Khong", "TH", L, 20.26, 100.41, "", "Chiang Khong-Houayxay"),
    ("THQJX", "Nong Khai", "TH", L, 17.87, 102.74, "", "Nong Khai-Thanaleng"),
    ("THMDN", "Mukdahan", "TH", L, 16.54, 104.72, "", "Mukdahan-Savannakhet"),
    ("", "Aranyaprathet", "TH", L, 13.66, 102.55, "", "Khlong Luek|Aranyaprathet-Poipet"),
    ("", "Sadao", "TH", L, 6.52, 100.42, "", "Dannok|Dan Nok|Sadao-Bukit Kayu Hitam"),
    ("", "Padang Besar", "TH", L, 6.69, 100.32, "", "Padang Besar (Thailand)"),
    ("", "Mae Sot", "TH", L, 16.71, 98.57, "", "Mae Sot-Myawaddy|Friendship Bridge Mae Sot"),
    ("", "Sungai Kolok", "TH", L, 6.03, 101.97, "", "Su-ngai Kolok"),
    # --- Myanmar
    ("MMRGN", "Yangon", "MM", A, None, None, "RGN", "Rangoon|仰光|Yangon port"),
    ("MMMDL", "Mandalay", "MM", A, None, None, "MDL", "曼德勒"),
    ("", "Tachileik", "MM", L, 20.45, 99.88, "", "Tachilek|大其力"),
    ("", "Muse", "MM", L, 23.98, 97.90, "", "木姐|Muse-Ruili"),
    ("", "Myawaddy", "MM", L, 16.69, 98.51, "", "Myawadi"),
    ("", "Kawthaung", "MM", L, 9.98, 98.55, "", "Kawthoung|Victoria Point"),
    ("", "Tamu", "MM", L, 24.22, 94.31, "", "Tamu-Moreh"),
    # --- Malaysia
    ("MYPKG", "Port Klang", "MY", S, 3.00, 101.39, "", "Pelabuhan Klang|Klang|巴生港|Westport|Northport"),
    ("MYTPP", "Tanjung Pelepas", "MY", S, 1.36, 103.55, "", "PTP|Port of Tanjung Pelepas"),
    ("MYPGU", "Pasir Gudang", "MY", S, 1.46, 103.90, "", "Johor Port"),
    ("MYKUL", "Kuala Lumpur", "MY", A, None, None, "KUL", "KLIA|Sepang|吉隆坡"),
    ("MYPEN", "Penang", "MY", S, 5.41, 100.35, "PEN", "Pulau Pinang|George Town|槟城"),
    ("MYBKI", "Kota Kinabalu", "MY", A, None, None, "BKI", ""),
    ("MYKCH", "Kuching", "MY", A, None, None, "KCH", ""),
    ("MYJHB", "Johor Bahru", "MY", L, 1.46, 103.76, "JHB", "Bangunan Sultan Iskandar|Johor Causeway|Senai|新山"),
    ("MYSDK", "Sandakan", "MY", S, 5.84, 118.12, "", ""),
    ("", "Bukit Kayu Hitam", "MY", L, 6.51, 100.42, "", "Bukit Kayu Hitam-Sadao"),
    ("", "Padang Besar", "MY", L, 6.66, 100.32, "", "Padang Besar (Malaysia)"),
    ("", "Rantau Panjang", "MY", L, 6.02, 101.98, "", "Rantau Panjang-Sungai Kolok"),
    # --- Singapore
    ("SGSIN", "Singapore", "SG", S, 1.26, 103.84, "SIN", "Changi|Pasir Panjang|Tanjong Pagar|新加坡|Xin-ga-po"),
    ("", "Woodlands Checkpoint", "SG", L, 1.45, 103.77, "", "Woodlands"),
    ("", "Tuas Checkpoint", "SG", L, 1.35, 103.64, "", "Tuas Second Link"),
    # --- Indonesia
    ("IDTPP", "Tanjung Priok", "ID", S, -6.10, 106.88, "", "Jakarta port|Tanjung Priuk"),
    ("IDJKT", "Jakarta", "ID", A, None, None, "CGK", "Soekarno-Hatta|雅加达"),
    ("IDSUB", "Surabaya", "ID", S, -7.20, 112.73, "SUB", "Tanjung Perak|Juanda"),
    ("IDBLW", "Belawan", "ID", S, 3.78, 98.69, "", "Medan port"),
    ("IDKNO", "Kualanamu", "ID", A, None, None, "KNO", "Medan|Kuala Namu"),
    ("IDDPS", "Denpasar", "ID", A, None, None, "DPS", "Bali|Ngurah Rai"),
    ("IDBTH", "Batam", "ID", S, 1.16, 104.01, "BTH", "Batu Ampar|Hang Nadim"),
    ("IDUPG", "Makassar", "ID", S, -5.13, 119.41, "UPG", "Ujung Pandang|Hasanuddin"),
    ("IDDUM", "Dumai", "ID", S, 1.68, 101.45, "", ""),
    # --- Philippines
    (
        "PHMNL",
        "Manila",
        "PH",
        S,
        14.59,
        120.96,
        "MNL",
        "Manila South Harbor|Manila International Container Terminal|MICT|Ninoy Aquino|NAIA|马尼拉",
    ),
    ("PHCEB", "Cebu", "PH", S, 10.30, 123.90, "CEB", "Mactan|Mactan-Cebu"),
    ("PHDVO", "Davao", "PH", S, 7.07, 125.63, "DVO", ""),
    ("PHSFS", "Subic Bay", "PH", S, 14.80, 120.28, "", "Subic"),
    ("PHBTG", "Batangas", "PH", S, 13.75, 121.05, "", ""),
    ("PHCRK", "Clark", "PH", A, None, None, "CRK", "Diosdado Macapagal|Clark International"),
    ("PHZAM", "Zamboanga", "PH", S, 6.90, 122.07, "ZAM", ""),
    # --- Bangladesh
    ("BDCGP", "Chittagong", "BD", S, 22.31, 91.80, "CGP", "Chattogram"),
    ("BDDAC", "Dhaka", "BD", A, None, None, "DAC", "Hazrat Shahjalal|Dacca"),
    ("BDMGL", "Mongla", "BD", S, 22.48, 89.60, "", "Mongla port"),
    ("", "Benapole", "BD", L, 23.04, 88.89, "", "Benapole-Petrapole"),
    # --- India
    ("INNSA", "Nhava Sheva", "IN", S, 18.95, 72.95, "", "Jawaharlal Nehru Port|JNPT|JNPA"),
    ("INBOM", "Mumbai", "IN", A, None, None, "BOM", "Bombay|Chhatrapati Shivaji"),
    ("INDEL", "Delhi", "IN", A, None, None, "DEL", "New Delhi|Indira Gandhi"),
    ("INMAA", "Chennai", "IN", S, 13.10, 80.30, "MAA", "Madras"),
    ("INCCU", "Kolkata", "IN", S, 22.54, 88.31, "CCU", "Calcutta"),
    ("INMUN", "Mundra", "IN", S, 22.74, 69.70, "", ""),
    ("INIXY", "Kandla", "IN", S, 23.00, 70.22, "", "Deendayal Port"),
    ("INCOK", "Cochin", "IN", S, 9.97, 76.27, "COK", "Kochi"),
    ("INVTZ", "Visakhapatnam", "IN", S, 17.69, 83.29, "", "Vizag"),
    ("INTUT", "Tuticorin", "IN", S, 8.76, 78.19, "", "Thoothukudi|V.O. Chidambaranar"),
    ("INBLR", "Bengaluru", "IN", A, None, None, "BLR", "Bangalore|Kempegowda|Kempegowda International Airport"),
    ("INHYD", "Hyderabad", "IN", A, None, None, "HYD", ""),
    ("INATT", "Attari", "IN", L, 31.60, 74.59, "", "Attari-Wagah|Attari Road"),
    ("INPTP", "Petrapole", "IN", L, 23.04, 88.88, "", "Petrapole Road|Petrapole-Benapole"),
    ("INRXL", "Raxaul", "IN", L, 26.98, 84.85, "", "Raxaul-Birgunj"),
    ("INMRE", "Moreh", "IN", L, 24.25, 94.30, "", "Moreh-Tamu"),
    # --- Nepal
    ("NPKTM", "Kathmandu", "NP", A, None, None, "KTM", "Tribhuvan"),
    ("", "Birgunj", "NP", L, 27.00, 84.87, "", "Birganj|Birgunj-Raxaul"),
    ("", "Bhairahawa", "NP", L, 27.47, 83.46, "", "Sunauli|Belahiya"),
    ("", "Tatopani", "NP", L, 27.96, 85.95, "", "Kodari|Zhangmu|Kodari-Zhangmu"),
    # --- Sri Lanka
    ("LKCMB", "Colombo", "LK", S, 6.95, 79.84, "CMB", "Bandaranaike|Katunayake|科伦坡"),
    ("LKHBA", "Hambantota", "LK", S, 6.12, 81.11, "", "Hambantota port|Magampura"),
    # --- Mongolia
    ("MNULN", "Ulaanbaatar", "MN", A, None, None, "UBN", "Ulan Bator|Chinggis Khaan|乌兰巴托"),
    ("", "Zamiin-Uud", "MN", L, 43.72, 111.90, "", "Zamyn-Uud|Zamiin Uud"),
    # --- Korea
    ("KRPUS", "Busan", "KR", S, 35.10, 129.04, "PUS", "Pusan|Gimhae|釜山"),
    ("KRINC", "Incheon", "KR", S, 37.45, 126.60, "ICN", "Inchon|仁川"),
    ("KRSEL", "Seoul", "KR", A, None, None, "GMP", "Gimpo|首尔"),
    ("KRKAN", "Gwangyang", "KR", S, 34.90, 127.70, "", "Kwangyang"),
    ("KRPTK", "Pyeongtaek", "KR", S, 36.97, 126.83, "", "Pyongtaek"),
    ("KRUSN", "Ulsan", "KR", S, 35.50, 129.38, "", ""),
    # --- Japan
    ("JPTYO", "Tokyo", "JP", S, 35.62, 139.78, "HND", "Haneda|東京|东京"),
    ("JPNRT", "Narita", "JP", A, None, None, "NRT", "Narita International"),
    ("JPYOK", "Yokohama", "JP", S, 35.45, 139.65, "", ""),
    ("JPOSA", "Osaka", "JP", S, 34.65, 135.43, "", "大阪"),
    ("JPKIX", "Kansai International Airport", "JP", A, None, None, "KIX", "Kansai"),
    ("JPUKB", "Kobe", "JP", S, 34.68, 135.20, "", ""),
    ("JPNGO", "Nagoya", "JP", S, 35.05, 136.88, "NGO", "Chubu Centrair"),
    ("JPFUK", "Fukuoka", "JP", S, 33.61, 130.40, "FUK", "Hakata"),
    ("JPOKA", "Naha", "JP", A, None, None, "OKA", "Okinawa"),
    # --- Australia, New Zealand
    ("AUSYD", "Sydney", "AU", S, -33.97, 151.22, "SYD", "Port Botany|Botany Bay"),
    ("AUMEL", "Melbourne", "AU", S, -37.83, 144.92, "MEL", ""),
    ("AUBNE", "Brisbane", "AU", S, -27.38, 153.17, "BNE", ""),
    ("AUFRE", "Fremantle", "AU", S, -32.05, 115.74, "", "Perth port"),
    ("AUPER", "Perth", "AU", A, None, None, "PER", ""),
    ("AUDRW", "Darwin", "AU", S, -12.47, 130.85, "DRW", ""),
    ("NZAKL", "Auckland", "NZ", S, -36.84, 174.78, "AKL", ""),
    ("NZTRG", "Tauranga", "NZ", S, -37.64, 176.18, "", ""),
    ("NZCHC", "Christchurch", "NZ", A, None, None, "CHC", ""),
    ("NZLYT", "Lyttelton", "NZ", S, -43.61, 172.72, "", ""),
    # --- Africa
    ("NGAPP", "Apapa", "NG", S, 6.44, 3.36, "", "Lagos port|Apapa-Lagos|Lagos Apapa"),
    ("NGTIN", "Tin Can Island", "NG", S, 6.43, 3.34, "", "Tincan"),
    ("NGLOS", "Lagos", "NG", A, None, None, "LOS", "Murtala Muhammed|Ikeja"),
    ("NGONN", "Onne", "NG", S, 4.72, 7.15, "", "Port Harcourt Onne"),
    ("NGABV", "Abuja", "NG", A, None, None, "ABV", "Nnamdi Azikiwe"),
    ("NGKAN", "Kano", "NG", A, None, None, "KAN", ""),
    ("KEMBA", "Mombasa", "KE", S, -4.06, 39.65, "MBA", "Kilindini"),
    ("KENBO", "Nairobi", "KE", A, None, None, "NBO", "Jomo Kenyatta|JKIA"),
    ("TZDAR", "Dar es Salaam", "TZ", S, -6.83, 39.29, "DAR", "Dar-es-Salaam|Julius Nyerere"),
    ("TZZNZ", "Zanzibar", "TZ", S, -6.16, 39.19, "ZNZ", ""),
    ("TZTGT", "Tanga", "TZ", S, -5.07, 39.11, "", ""),
    ("MZMPM", "Maputo", "MZ", S, -25.97, 32.57, "MPM", "Lourenco Marques"),
    ("MZBEW", "Beira", "MZ", S, -19.83, 34.84, "", ""),
    ("MZMNC", "Nacala", "MZ", S, -14.54, 40.67, "", ""),
    ("MZPOL", "Pemba", "MZ", S, -12.97, 40.50, "", "Porto Amelia"),
    ("ZADUR", "Durban", "ZA", S, -29.87, 31.03, "DUR", "King Shaka"),
    ("ZAJNB", "Johannesburg", "ZA", A, None, None, "JNB", "O. R. Tambo|OR Tambo"),
    ("ZACPT", "Cape Town", "ZA", S, -33.91, 18.43, "CPT", ""),
    ("CDMAT", "Matadi", "CD", S, -5.82, 13.45, "", ""),
    ("CDFIH", "Kinshasa", "CD", A, None, None, "FIH", "N'djili|Ndjili"),
    ("CMDLA", "Douala", "CM", S, 4.05, 9.69, "DLA", ""),
    ("CMKBI", "Kribi", "CM", S, 2.94, 9.91, "", ""),
    ("UGEBB", "Entebbe", "UG", A, None, None, "EBB", ""),
    ("UGKLA", "Kampala", "UG", INL, 0.31, 32.58, "", ""),
    ("AOLAD", "Luanda", "AO", S, -8.80, 13.23, "LAD", ""),
    ("ETADD", "Addis Ababa", "ET", A, None, None, "ADD", "Bole"),
    # --- Middle East
    ("AEJEA", "Jebel Ali", "AE", S, 25.01, 55.06, "", "Dubai Jebel Ali|杰贝阿里"),
    ("AEDXB", "Dubai", "AE", A, None, None, "DXB", "迪拜"),
    ("AEDWC", "Dubai World Central", "AE", A, None, None, "DWC", "Al Maktoum"),
    ("AEAUH", "Abu Dhabi", "AE", A, None, None, "AUH", ""),
    ("AESHJ", "Sharjah", "AE", A, None, None, "SHJ", ""),
    ("AEKLF", "Khor Fakkan", "AE", S, 25.35, 56.36, "", "Khorfakkan"),
    ("QADOH", "Doha", "QA", A, None, None, "DOH", "Hamad"),
    ("TRIST", "Istanbul", "TR", A, None, None, "IST", "İstanbul"),
    ("TRAMB", "Ambarli", "TR", S, 40.97, 28.68, "", "Ambarlı"),
    ("TRMER", "Mersin", "TR", S, 36.80, 34.63, "", ""),
    ("IRBND", "Bandar Abbas", "IR", S, 27.10, 56.06, "", "Shahid Rajaee"),
    ("IRTHR", "Tehran", "IR", A, None, None, "IKA", "Imam Khomeini"),
    ("IRZBR", "Chabahar", "IR", S, 25.30, 60.62, "", "Chah Bahar"),
    # --- Pakistan, Afghanistan
    ("PKKHI", "Karachi", "PK", S, 24.84, 66.98, "KHI", "Jinnah"),
    ("PKBQM", "Port Qasim", "PK", S, 24.78, 67.35, "", "Muhammad Bin Qasim"),
    ("PKLHE", "Lahore", "PK", A, None, None, "LHE", ""),
    ("PKISB", "Islamabad", "PK", A, None, None, "ISB", ""),
    ("PKWGH", "Wagah", "PK", L, 31.60, 74.57, "", "Wagah-Attari"),
    ("PKTOR", "Torkham", "PK", L, 34.11, 71.09, "", "Khyber"),
    ("PKCMN", "Chaman", "PK", L, 30.92, 66.45, "", "Chaman-Spin Boldak"),
    ("PKTFT", "Taftan", "PK", L, 28.97, 61.59, "", ""),
    ("AFKBL", "Kabul", "AF", A, None, None, "KBL", ""),
    ("", "Islam Qala", "AF", L, 34.66, 61.07, "", "Islam Qala-Dogharoun"),
    # --- Europe
    ("DEHAM", "Hamburg", "DE", S, 53.54, 9.97, "", ""),
    ("DEBRV", "Bremerhaven", "DE", S, 53.56, 8.55, "", ""),
    ("DEFRA", "Frankfurt am Main", "DE", A, None, None, "FRA", "Frankfurt"),
    ("DEMUC", "Munich", "DE", A, None, None, "MUC", "München"),
    ("NLRTM", "Rotterdam", "NL", S, 51.95, 4.13, "", "Maasvlakte|Europoort"),
    ("NLAMS", "Amsterdam", "NL", A, None, None, "AMS", "Schiphol"),
    ("BEANR", "Antwerp", "BE", S, 51.28, 4.30, "", "Antwerpen|Anvers"),
    ("BEBRU", "Brussels", "BE", A, None, None, "BRU", "Zaventem|Bruxelles"),
    ("BELGG", "Liège", "BE", A, None, None, "LGG", "Liege|Bierset"),
    ("FRCDG", "Paris-Charles de Gaulle", "FR", A, None, None, "CDG", "Roissy|Charles de Gaulle"),
    ("FRLEH", "Le Havre", "FR", S, 49.48, 0.15, "", ""),
    ("FRMRS", "Marseille", "FR", S, 43.31, 5.36, "", "Fos|Marseille-Fos"),
    ("GBLHR", "London Heathrow", "GB", A, None, None, "LHR", "Heathrow"),
    ("GBFXT", "Felixstowe", "GB", S, 51.96, 1.31, "", ""),
    ("GBSOU", "Southampton", "GB", S, 50.90, -1.42, "", ""),
    ("GBLGP", "London Gateway", "GB", S, 51.50, 0.48, "", "DP World London Gateway"),
    # --- Americas
    ("USLAX", "Los Angeles", "US", S, 33.74, -118.27, "LAX", ""),
    ("USLGB", "Long Beach", "US", S, 33.75, -118.21, "", ""),
    ("USNYC", "New York", "US", A, None, None, "JFK", "John F Kennedy|JFK"),
    ("USMIA", "Miami", "US", A, None, None, "MIA", ""),
    ("USSFO", "San Francisco", "US", A, None, None, "SFO", ""),
    ("USCHI", "Chicago", "US", A, None, None, "ORD", "O'Hare"),
    ("CAVAN", "Vancouver", "CA", S, 49.29, -123.10, "YVR", ""),
    ("CATOR", "Toronto", "CA", A, None, None, "YYZ", "Pearson"),
    ("CAMTR", "Montreal", "CA", S, 45.55, -73.53, "YUL", "Montréal"),
    ("BRSSZ", "Santos", "BR", S, -23.96, -46.30, "", ""),
    ("BRGRU", "Guarulhos", "BR", A, None, None, "GRU", "São Paulo|Sao Paulo"),
    ("BRRIO", "Rio de Janeiro", "BR", S, -22.89, -43.19, "GIG", "Galeão"),
    ("MXZLO", "Manzanillo", "MX", S, 19.05, -104.31, "", ""),
    ("MXLZC", "Lázaro Cárdenas", "MX", S, 17.94, -102.18, "", "Lazaro Cardenas"),
    ("MXENS", "Ensenada", "MX", S, 31.86, -116.62, "", ""),
    ("MXMEX", "Mexico City", "MX", A, None, None, "MEX", "Ciudad de México|Benito Juárez"),
    ("TWTPE", "Taipei", "TW", A, None, None, "TPE", "Taoyuan|台北"),
    ("TWKHH", "Kaohsiung", "TW", S, 22.61, 120.28, "", "高雄"),
]


def build_unlocode(paths: list[Path], version: str) -> list[dict[str, str]]:
    rows = unlocode.read_raw(paths)
    out = DATA / "unlocode.csv.gz"
    n = unlocode.write_compact(rows, out, version=version, source=SOURCE)
    with_coords = sum(1 for r in rows if r["latitude"])
    print(f"wrote {n} locations to {out} ({out.stat().st_size} bytes), {with_coords} with coordinates")
    return rows


def codes_by_name(rows: list[dict[str, str]]) -> dict[tuple[str, str], list[str]]:
    """(country, normalised name) -> the codes of that name, for curated crossings written without a code."""
    out: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        for name in {r["name"], r["name_ascii"]}:
            if name:
                out.setdefault((r["country"], norm(name)), []).append(r["locode"])
    return out


def build_subdivisions(path: Path) -> None:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    out = DATA / "unlocode-subdivisions.csv.gz"
    tmp = out.with_suffix(".tmp")
    n = 0
    with (
        tmp.open("wb") as fh,
        gzip.GzipFile(filename="", mode="wb", fileobj=fh, compresslevel=9, mtime=0) as gz,
        io.TextIOWrapper(gz, encoding="utf-8", newline="") as textfh,
    ):
        writer = csv.writer(textfh, lineterminator="\n")
        writer.writerow(["country", "code", "name", "type"])
        for row in csv.reader(io.StringIO(text)):
            if len(row) >= 3 and row[0].strip() and row[1].strip():
                writer.writerow(
                    [row[0].strip(), row[1].strip(), row[2].strip(), (row[3] if len(row) > 3 else "").strip()]
                )
                n += 1
    os.replace(tmp, out)
    print(f"wrote {n} subdivisions to {out}")


def build_curated(code_rows: list[dict[str, str]]) -> int:
    known = {r["locode"] for r in code_rows}
    named = codes_by_name(code_rows)
    taken = {c[0] for c in CURATED if c[0]}
    matched: list[str] = []
    airports = airportsdata.load("IATA")
    rows: list[dict[str, str]] = []
    unlisted: list[str] = []
    problems: list[str] = []
    seen: set[str] = set()
    for code, name, country, ptype, lat, lon, iata, aliases in CURATED:
        if code:
            if code in seen:
                problems.append(f"duplicate {code}")
            seen.add(code)
            if not code.startswith(country):
                problems.append(f"{code} not in {country}")
        source = "curated"
        status = "" if not code else ("listed" if code in known else "unlisted")
        if not code:
            # A crossing written without a code takes the code of the one location of that name in its country
            # (UN/LOCODE codes name the location, whatever its function there).
            same = [c for c in dict.fromkeys(named.get((country, norm(name)), [])) if c not in taken]
            if len(same) == 1:
                code, status = same[0], "matched by name"
                taken.add(code)
                matched.append(f"{name} -> {code}")
        if lat is None or lon is None:
            ap = airports.get(iata)
            if ap is None:
                problems.append(f"{code or name}: IATA {iata} not in airportsdata")
                continue
            if ap["country"] != country:
                problems.append(f"{code}: IATA {iata} is in {ap['country']}")
            lat, lon = float(ap["lat"]), float(ap["lon"])
            source = "airportsdata"
            extra = ap["name"]
            if extra and extra.lower() != name.lower():
                aliases = "|".join(a for a in (aliases, extra) if a)
        if code and status == "unlisted":
            unlisted.append(code)
        rows.append(
            {
                "locode": code,
                "name": name,
                "country": country,
                "place_type": ptype,
                "latitude": f"{lat:.4f}",
                "longitude": f"{lon:.4f}",
                "iata": iata,
                "source": source,
                "locode_status": status,
                "aliases": aliases,
            }
        )
    if problems:
        print("PROBLEMS:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    tmp = OUT.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, OUT)
    no_code = sum(1 for r in rows if not r["locode"])
    print(f"wrote {len(rows)} curated places to {OUT} ({OUT.stat().st_size} bytes)")
    print(f"  with a UN/LOCODE: {len(rows) - no_code}; name-only (no confirmed LOCODE): {no_code}")
    print(f"  name-only crossings given the code of their location: {len(matched)}: " + ", ".join(matched))
    print(f"  curated LOCODEs not in the code list: {len(unlisted)}")
    if unlisted:
        print("   ", " ".join(unlisted))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--unlocode", default=str(DEFAULT_UNLOCODE), help="UNECE CSV file(s), comma-separated")
    parser.add_argument("--subdivisions", default=str(DEFAULT_SUBDIVISIONS))
    parser.add_argument("--version", default=None, help='e.g. "UN/LOCODE 2024-1" (default: from the file name)')
    args = parser.parse_args(argv)
    paths = [Path(p) for p in args.unlocode.split(",") if p]
    for path in [*paths, Path(args.subdivisions)]:
        if not path.is_file():
            print(f"error: {path} not found", file=sys.stderr)
            return 1
    version = args.version or unlocode._version_for(paths, None)
    code_rows = build_unlocode(paths, version)
    build_subdivisions(Path(args.subdivisions))
    return build_curated(code_rows)


if __name__ == "__main__":
    raise SystemExit(main())
