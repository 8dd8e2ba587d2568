"""Countries and territories (ISO 3166-1) from pycountry, with names in en/zh/vi/fr/es and common aliases.

Hong Kong SAR (HK), Macao SAR (MO) and Taiwan (TW) are their own entries, as in ISO 3166-1 and in the
operation's membership. "China" resolves to CN (the mainland customs territory).

    >>> resolve("Lao PDR").alpha2
    'LA'
    >>> resolve("越南").common_name
    'Vietnam'
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata

import pycountry

from dragonnet.errors import ReferenceLookupError
from dragonnet.reference._text import compact, norm, suggest

LANGUAGES: dict[str, str] = {"zh": "zh_CN", "vi": "vi", "fr": "fr", "es": "es"}
"""names() keys -> the pycountry gettext catalogue each comes from (plus "en", the ISO short name)."""

_EXTRA_CATALOGUES = ("zh_TW", "zh_HK")  # indexed for resolution only

# Short names as users write them, where the ISO short name is long or inverted.
_COMMON_NAMES: dict[str, str] = {
    "VN": "Vietnam",
    "LA": "Laos",
    "KR": "South Korea",
    "KP": "North Korea",
    "TW": "Taiwan",
    "RU": "Russia",
    "IR": "Iran",
    "SY": "Syria",
    "TZ": "Tanzania",
    "BO": "Bolivia",
    "VE": "Venezuela",
    "MD": "Moldova",
    "CD": "DR Congo",
    "CG": "Republic of the Congo",
    "BN": "Brunei",
    "FM": "Micronesia",
    "PS": "Palestine",
    "VA": "Vatican City",
    "MO": "Macao",
    "HK": "Hong Kong",
    "GB": "United Kingdom",
    "US": "United States",
    "CZ": "Czechia",
    "TR": "Türkiye",
    "CV": "Cabo Verde",
    "SZ": "Eswatini",
    "MK": "North Macedonia",
    "TL": "Timor-Leste",
}

# Aliases (any language) -> alpha-2. They win over translated names when both claim a key.
_ALIASES: dict[str, tuple[str, ...]] = {
    "VN": ("Viet Nam", "Vietnam", "Việt Nam", "SR Vietnam", "越南", "Socialist Republic of Vietnam"),
    "LA": ("Laos", "Lao PDR", "Lao", "Lào", "老挝", "寮國", "Lao People's Democratic Republic"),
    "KR": (
        "South Korea",
        "Korea",
        "Republic of Korea",
        "Korea (South)",
        "ROK",
        "Hàn Quốc",
        "Nam Hàn",
        "韩国",
        "南韩",
        "韓國",
        "Corée du Sud",
        "Corea del Sur",
    ),
    "KP": ("North Korea", "DPRK", "DPR Korea", "Korea (North)", "Triều Tiên", "Bắc Hàn", "朝鲜", "北韩", "北韓"),
    "HK": (
        "Hong Kong",
        "Hong Kong SAR",
        "Hong Kong, China",
        "Hong Kong SAR, China",
        "HKSAR",
        "Hongkong",
        "Hồng Kông",
        "Hong Kong (China)",
        "中国香港",
        "香港特别行政区",
        "香港特區",
    ),
    "MO": ("Macau", "Macao", "Macao SAR", "Macau SAR", "Macao, China", "Macau, China", "Ma Cao", "中国澳门", "澳門"),
    "CN": (
        "China",
        "Chinese mainland",
        "Mainland China",
        "China mainland",
        "PRC",
        "P.R. China",
        "PR China",
        "People's Republic of China",
        "China, People's Republic of",
        "Trung Quốc",
        "Trung Quốc đại lục",
        "中国大陆",
        "中国内地",
        "中华人民共和国",
        "中國大陸",
    ),
    "TW": (
        "Taiwan",
        "Taiwan, China",
        "Chinese Taipei",
        "Taiwan Province of China",
        "Republic of China",
        "Đài Loan",
        "台湾",
        "台灣",
        "中国台湾",
    ),
    "MM": ("Burma", "Myanmar", "Miến Điện", "Mianma", "缅甸"),
    "KH": ("Cambodia", "Kampuchea", "Campuchia", "柬埔寨"),
    "TH": ("Thailand", "Siam", "Thái Lan", "泰国"),
    "MY": ("Malaysia", "Ma-lai-xi-a", "Malaixia", "马来西亚"),
    "SG": ("Singapore", "Xin-ga-po", "Singapo", "新加坡"),
    "ID": ("Indonesia", "In-đô-nê-xi-a", "Indonexia", "印度尼西亚", "印尼"),
    "PH": ("Philippines", "Phi-líp-pin", "Philippin", "菲律宾"),
    "AE": ("UAE", "U.A.E.", "Emirates", "United Arab Emirates", "阿联酋", "Các Tiểu vương quốc Ả Rập Thống nhất"),
    "GB": (
        "UK",
        "U.K.",
        "United Kingdom",
        "Great Britain",
        "Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
        "Anh",
        "Vương quốc Anh",
        "英国",
    ),
    "US": (
        "USA",
        "U.S.A.",
        "US",
        "U.S.",
        "United States",
        "United States of America",
        "America",
        "Hoa Kỳ",
        "Mỹ",
        "美国",
        "Estados Unidos",
        "États-Unis",
    ),
    "RU": ("Russia", "Russian Federation", "Nga", "Liên bang Nga", "俄罗斯", "Russie"),
    "CI": ("Côte d'Ivoire", "Cote d'Ivoire", "Ivory Coast", "Bờ Biển Ngà", "科特迪瓦", "Costa de Marfil"),
    "CD": (
        "DRC",
        "DR Congo",
        "D.R. Congo",
        "Democratic Republic of the Congo",
        "Democratic Republic of Congo",
        "Congo-Kinshasa",
        "Congo (Kinshasa)",
        "Zaire",
        "RDC",
        "République démocratique du Congo",
        "刚果（金）",
    ),
    "CG": ("Congo-Brazzaville", "Congo (Brazzaville)", "Republic of Congo", "Republic of the Congo", "刚果（布）"),
    "TR": ("Turkey", "Türkiye", "Turkiye", "Thổ Nhĩ Kỳ", "土耳其"),
    "IR": ("Iran", "Persia", "Islamic Republic of Iran", "伊朗"),
    "SY": ("Syria",),
    "TZ": ("Tanzania", "United Republic of Tanzania", "Tan-da-ni-a", "坦桑尼亚"),
    "NL": ("Netherlands", "Holland", "The Netherlands", "Hà Lan", "荷兰"),
    "DE": ("Germany", "Đức", "德国", "Allemagne", "Alemania", "Deutschland"),
    "FR": ("France", "Pháp", "法国"),
    "BE": ("Belgium", "Bỉ", "比利时"),
    "JP": ("Japan", "Nhật Bản", "Nhật", "日本"),
    "IN": ("India", "Ấn Độ", "印度"),
    "CZ": ("Czech Republic", "Czechia"),
    "SZ": ("Swaziland", "Eswatini"),
    "MK": ("Macedonia", "North Macedonia"),
    "CV": ("Cape Verde", "Cabo Verde"),
    "TL": ("East Timor", "Timor-Leste", "Timor Leste"),
    "BN": ("Brunei", "Brunei Darussalam"),
    "VA": ("Vatican", "Holy See", "Vatican City"),
    "PS": ("Palestine", "State of Palestine"),
    "BO": ("Bolivia",),
    "VE": ("Venezuela",),
    "MD": ("Moldova",),
    "FM": ("Micronesia",),
    "NZ": ("New Zealand", "Aotearoa", "新西兰"),
    "AU": ("Australia", "Úc", "澳大利亚", "澳洲"),
    "ZA": ("South Africa", "RSA", "Nam Phi", "南非"),
    "NG": ("Nigeria", "尼日利亚"),
    "KE": ("Kenya", "肯尼亚"),
    "MZ": ("Mozambique", "莫桑比克"),
}


@dataclass(frozen=True)
class Country:
    alpha2: str
    alpha3: str
    name: str  # the ISO 3166-1 short name in English, e.g. "Viet Nam", "Korea, Republic of"
    common_name: str = field(default="", compare=False)  # as users write it: "Vietnam", "South Korea"
    numeric: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.common_name or self.name


@dataclass(frozen=True)
class _Index:
    by_alpha2: dict[str, Country]
    keys: dict[str, str]  # normalised name/alias/code -> alpha2
    names: dict[str, dict[str, str]]  # alpha2 -> lang -> name
    labels: list[str]  # every spelling, for did-you-mean


def _catalogue(lang: str) -> gettext.NullTranslations:
    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
    except OSError:  # pragma: no cover - a pycountry build without that catalogue
        return gettext.NullTranslations()


@cache
def _index() -> _Index:
    by_alpha2: dict[str, Country] = {}
    keys: dict[str, str] = {}
    names: dict[str, dict[str, str]] = {}
    labels: list[str] = []
    catalogues = {lang: _catalogue(cat) for lang, cat in LANGUAGES.items()}
    extra = [_catalogue(cat) for cat in _EXTRA_CATALOGUES]

    def add(text: str, alpha2: str, *, override: bool = False) -> None:
        key = norm(text)
        if not key:
            return
        for k in {key, compact(key)}:
            if override or k not in keys:
                keys[k] = alpha2
        labels.append(text)

    for rec in pycountry.countries:
        a2 = rec.alpha_2
        english = [rec.name, getattr(rec, "official_name", None), getattr(rec, "common_name", None)]
        common = _COMMON_NAMES.get(a2) or getattr(rec, "common_name", None) or rec.name
        country = Country(alpha2=a2, alpha3=rec.alpha_3, name=rec.name, common_name=common, numeric=rec.numeric)
        by_alpha2[a2] = country
        names[a2] = {"en": rec.name}
        for lang, cat in catalogues.items():
            names[a2][lang] = cat.gettext(rec.name)
        for text in english:
            if text:
                add(text, a2)
                for cat in [*catalogues.values(), *extra]:
                    add(cat.gettext(text), a2)
        add(common, a2)
    # Codes: exact, never overridden by names (and never fuzzily matched).
    for c in by_alpha2.values():
        for code in (c.alpha2, c.alpha3, c.numeric, c.numeric.lstrip("0")):
            keys[norm(code)] = c.alpha2
    for a2, aliases in _ALIASES.items():
        for alias in aliases:
            add(alias, a2, override=True)
    return _Index(by_alpha2, keys, names, labels)


def all_countries() -> list[Country]:
    """Every ISO 3166-1 entry, ordered by alpha-2 code."""
    return sorted(_index().by_alpha2.values(), key=lambda c: c.alpha2)


def get(alpha2: str) -> Country:
    """The country with this ISO alpha-2 code (any case); ReferenceLookupError if there is none."""
    country = _index().by_alpha2.get(alpha2.strip().upper())
    if country is None:
        raise ReferenceLookupError(f"unknown country code {alpha2!r}", suggestions=_suggest(alpha2))
    return country


def _find(text: str) -> Country | None:
    """The country a text names (codes, names, aliases), or None."""
    idx = _index()
    raw = text.strip()
    # Codes win over names that fold to the same letters ("MY" is Malaysia, not "Mỹ", the USA in Vietnamese).
    if raw.isascii() and raw.isalpha() and len(raw) == 2 and raw.upper() in idx.by_alpha2:
        return idx.by_alpha2[raw.upper()]
    if raw.isascii() and raw.isalpha() and len(raw) == 3:
        by_alpha3 = {c.alpha3: c for c in idx.by_alpha2.values()}
        if raw.upper() in by_alpha3:
            return by_alpha3[raw.upper()]
    key = norm(text)
    a2 = idx.keys.get(key) or idx.keys.get(compact(key))
    return idx.by_alpha2[a2] if a2 is not None else None


def resolve(text: str) -> Country:
    """A country from an alpha-2/alpha-3/numeric code or a name or alias in en/zh/vi/fr/es.

    Case-, accent-, punctuation- and whitespace-insensitive. Raises ReferenceLookupError with did-you-mean
    suggestions when nothing matches exactly.
    """
    country = _find(text)
    if country is None:
        raise ReferenceLookupError(f"unknown country {text.strip()!r}", suggestions=_suggest(text))
    return country


def try_resolve(text: str | None) -> Country | None:
    """resolve() that answers None instead of raising (empty input included; no suggestions computed)."""
    if not text or not text.strip():
        return None
    return _find(text)


def names(alpha2: str) -> dict[str, str]:
    """The country's names by language: {"en": ..., "zh": ..., "vi": ..., "fr": ..., "es": ...}."""
    country = get(alpha2)
    return dict(_index().names[country.alpha2])


def _suggest(text: str) -> list[str]:
    idx = _index()
    out: list[str] = []
    for label in suggest(text, idx.labels, limit=10, cutoff=75):
        a2 = idx.keys.get(norm(label))
        if a2 is None:
            continue
        name = f"{idx.by_alpha2[a2].common_name} ({a2})"
        if name not in out:
            out.append(name)
        if len(out) == 5:
            break
    return out


def record_count() -> int:
    return len(_index().by_alpha2)


def version() -> str:
    """The pycountry release the data comes from, e.g. "pycountry 26.2.16"."""
    try:
        return f"pycountry {metadata.version('pycountry')}"
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "pycountry"
