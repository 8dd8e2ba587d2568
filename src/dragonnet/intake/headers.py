"""Map a spreadsheet's headers to the exchange-format columns (../shared/design/exchange-format.md).

The exact column names always map. Foreign headers map by synonyms (English variants, French, Spanish,
Vietnamese, Chinese) and then by fuzzy matching; each proposal carries a confidence so a UI can show the
mapping for confirmation. An explicit mapping (header -> column, or header -> None to ignore it) overrides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz, process

from dragonnet.intake.errors import ImportRejected

SheetKind = Literal["items", "parties"]

ITEM_COLUMNS: tuple[str, ...] = (
    "case_ref", "reporting_agency", "seizure_date", "place_locode", "place_name", "place_country", "place_type",
    "direction", "transport_mode", "conveyance_ref", "detection_method", "concealment", "commodity_class",
    "substance", "taxon", "specimen_type", "quantity", "unit", "origin_country", "transit_countries",
    "destination_country", "arrests", "sharing_level", "description",
)  # fmt: skip
ITEM_REQUIRED: tuple[str, ...] = (
    "case_ref", "reporting_agency", "seizure_date", "place_country", "commodity_class", "quantity", "unit",
)  # fmt: skip
PARTY_COLUMNS: tuple[str, ...] = (
    "case_ref", "reporting_agency", "role", "kind", "name", "nationality", "birth_date", "id_number", "phone",
    "email", "address",
)  # fmt: skip
PARTY_REQUIRED: tuple[str, ...] = ("case_ref", "reporting_agency", "name")

FUZZY_CUTOFF = 85.0  # below this a header stays unmapped (the user maps it by hand)

# Synonyms by column. Keys are compared after key(): case, accents, punctuation and spaces folded.
_ITEM_SYNONYMS: dict[str, tuple[str, ...]] = {
    "case_ref": (
        "case ref", "case reference", "case number", "case no", "case id", "case", "reference", "ref", "ref no",
        "file number", "numéro de dossier", "n° de dossier", "référence", "référence du cas", "numéro d'affaire",
        "número de caso", "referencia", "expediente", "số vụ", "mã vụ việc", "số vụ việc", "mã vụ", "vụ việc",
        "案件编号", "案件號碼", "案件号", "案号", "编号",
    ),
    "reporting_agency": (
        "agency", "reporting agency", "agency code", "reported by", "service", "administration",
        "service déclarant", "agence", "organismo", "agencia", "cơ quan", "đơn vị báo cáo", "cơ quan báo cáo",
        "报告机构", "机构", "报告单位", "单位代码",
    ),
    "seizure_date": (
        "date", "seizure date", "date of seizure", "seized on", "date seized", "date de saisie", "date saisie",
        "fecha", "fecha de incautación", "fecha de decomiso", "fecha incautacion", "ngày bắt giữ", "ngày thu giữ",
        "ngày", "查获日期", "缉获日期", "日期", "查獲日期",
    ),
    "place_locode": (
        "locode", "un locode", "unlocode", "location code", "place code", "port code", "code lieu", "code locode",
        "código de lugar", "mã địa điểm", "地点代码", "口岸代码",
    ),
    "place_name": (
        "place", "location", "place of seizure", "seizure place", "port", "lieu", "lieu de saisie", "lugar",
        "lugar de incautación", "địa điểm", "nơi bắt giữ", "địa điểm bắt giữ", "地点", "查获地点", "口岸",
    ),
    "place_country": (
        "country", "seizure country", "country of seizure", "place country", "pays", "pays de saisie", "país",
        "país de incautación", "quốc gia", "nước", "nước bắt giữ", "国家", "查获国家", "国家地区",
    ),
    "place_type": (
        "location type", "type of place", "place type", "type de lieu", "tipo de lugar", "loại địa điểm",
        "地点类型", "口岸类型",
    ),
    "direction": (
        "direction", "flow", "traffic direction", "sens", "sens du trafic", "dirección", "sentido", "hướng",
        "chiều", "方向", "进出口",
    ),
    "transport_mode": (
        "transport mode", "mode of transport", "mode", "transport", "means of transport", "mode de transport",
        "moyen de transport", "modo de transporte", "medio de transporte", "phương thức vận chuyển",
        "phương tiện", "loại hình vận chuyển", "运输方式", "运输工具",
    ),
    "conveyance_ref": (
        "conveyance", "conveyance reference", "conveyance ref", "flight", "vessel", "vehicle", "container",
        "container number", "awb", "bill of lading", "transport document", "moyen de transport référence",
        "référence transport", "conocimiento", "số hiệu phương tiện", "số container", "số vận đơn",
        "运输工具编号", "航班", "集装箱号", "提单号",
    ),
    "detection_method": (
        "detection method", "detection", "how detected", "method of detection", "méthode de détection",
        "mode de détection", "método de detección", "phương pháp phát hiện", "cách phát hiện", "发现方式",
        "查获方式",
    ),
    "concealment": (
        "concealment", "concealment method", "modus operandi", "hidden in", "dissimulation",
        "mode de dissimulation", "ocultación", "método de ocultación", "phương thức cất giấu", "cách cất giấu",
        "藏匿方式", "藏匿手法",
    ),
    "commodity_class": (
        "commodity", "commodity class", "category", "type", "goods type", "class", "catégorie", "type de produit",
        "marchandise", "categoría", "tipo", "mercancía", "tang vật", "loại hàng", "loại tang vật", "nhóm hàng",
        "类别", "货物类别", "物品类别", "种类",
    ),
    "substance": (
        "substance", "drug", "drug type", "drug name", "precursor", "chemical", "substance name", "stupéfiant",
        "sustancia", "droga", "chất", "loại ma túy", "chất ma túy", "tên chất", "毒品", "毒品种类", "物质",
        "化学品",
    ),
    "taxon": (
        "taxon", "species", "species name", "scientific name", "specimen name", "wildlife", "espèce",
        "nom scientifique", "especie", "nombre científico", "loài", "tên loài", "tên khoa học", "物种", "学名",
        "物种名称",
    ),
    "specimen_type": (
        "specimen", "specimen type", "type of specimen", "part", "product", "spécimen", "type de spécimen",
        "espécimen", "tipo de espécimen", "loại mẫu vật", "dạng", "dạng tang vật", "标本类型", "部位", "制品类型",
    ),
    "quantity": (
        "quantity", "qty", "amount", "weight", "net weight", "quantité", "poids", "cantidad", "peso", "số lượng",
        "khối lượng", "trọng lượng", "数量", "重量",
    ),
    "unit": (
        "unit", "units", "uom", "unit of measure", "unité", "unidad", "unidad de medida", "đơn vị",
        "đơn vị tính", "单位", "计量单位",
    ),
    "origin_country": (
        "origin", "country of origin", "origin country", "departure country", "from", "pays d'origine",
        "provenance", "país de origen", "origen", "nước xuất xứ", "xuất xứ", "nước đi", "来源国", "原产国",
        "起运国", "来源地",
    ),
    "transit_countries": (
        "transit", "transit countries", "transit country", "route", "via", "pays de transit", "países de tránsito",
        "tránsito", "nước quá cảnh", "quá cảnh", "过境国", "中转国", "途经国家",
    ),
    "destination_country": (
        "destination", "destination country", "country of destination", "to", "pays de destination",
        "país de destino", "destino", "nước đến", "nước nhận", "điểm đến", "目的国", "目的地",
    ),
    "arrests": (
        "arrests", "arrested", "number of arrests", "persons arrested", "arrestations", "interpellations",
        "detenidos", "arrestos", "số người bị bắt", "số đối tượng bị bắt", "bắt giữ", "逮捕人数", "抓获人数",
    ),
    "sharing_level": (
        "sharing", "sharing level", "tlp", "traffic light protocol", "classification", "niveau de partage",
        "nivel de difusión", "mức chia sẻ", "mức độ chia sẻ", "共享级别", "密级",
    ),
    "description": (
        "description", "remarks", "notes", "comment", "comments", "goods description", "details", "observations",
        "remarques", "descripción", "observaciones", "mô tả", "ghi chú", "描述", "备注", "说明",
    ),
}  # fmt: skip

_PARTY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "case_ref": _ITEM_SYNONYMS["case_ref"],
    "reporting_agency": _ITEM_SYNONYMS["reporting_agency"],
    "role": ("role", "party role", "capacity", "rôle", "rol", "vai trò", "角色", "身份"),
    "kind": ("kind", "type", "person or company", "party type", "type de partie", "tipo", "loại", "类型"),
    "name": (
        "name",
        "full name",
        "party name",
        "person",
        "company",
        "nom",
        "nom complet",
        "nombre",
        "họ tên",
        "tên",
        "họ và tên",
        "姓名",
        "名称",
    ),
    "nationality": ("nationality", "citizenship", "nationalité", "nacionalidad", "quốc tịch", "国籍"),
    "birth_date": (
        "birth date",
        "date of birth",
        "dob",
        "born",
        "date de naissance",
        "fecha de nacimiento",
        "ngày sinh",
        "出生日期",
    ),
    "id_number": (
        "id number",
        "id",
        "passport",
        "passport number",
        "document number",
        "registration number",
        "numéro de passeport",
        "pièce d'identité",
        "número de documento",
        "pasaporte",
        "số hộ chiếu",
        "số cmnd",
        "số cccd",
        "số giấy tờ",
        "证件号码",
        "护照号码",
        "身份证号",
    ),
    "phone": (
        "phone",
        "telephone",
        "phone number",
        "mobile",
        "tel",
        "téléphone",
        "teléfono",
        "số điện thoại",
        "điện thoại",
        "电话",
        "手机",
        "电话号码",
    ),
    "email": ("email", "e-mail", "mail", "courriel", "correo", "correo electrónico", "thư điện tử", "电子邮件", "邮箱"),
    "address": ("address", "adresse", "dirección", "domicilio", "địa chỉ", "地址", "住址"),
}


def key(text: str) -> str:
    """A header's comparison key: "Ngày bắt giữ " -> "ngay bat giu", "Case_Ref" -> "case ref"."""
    text = unicodedata.normalize("NFKC", text).replace("đ", "d").replace("Đ", "d")
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w]+|_", " ", text)
    return " ".join(text.split())


def _index(kind: SheetKind) -> dict[str, str]:
    columns = ITEM_COLUMNS if kind == "items" else PARTY_COLUMNS
    synonyms = _ITEM_SYNONYMS if kind == "items" else _PARTY_SYNONYMS
    out: dict[str, str] = {}
    for column, words in synonyms.items():
        for word in words:
            out.setdefault(key(word), column)
    for column in columns:  # the contract's own names always win
        out[key(column)] = column
    return out


_INDEXES: dict[str, dict[str, str]] = {"items": _index("items"), "parties": _index("parties")}


def columns_for(kind: SheetKind) -> tuple[str, ...]:
    return ITEM_COLUMNS if kind == "items" else PARTY_COLUMNS


def required_for(kind: SheetKind) -> tuple[str, ...]:
    return ITEM_REQUIRED if kind == "items" else PARTY_REQUIRED


@dataclass(frozen=True)
class ColumnMatch:
    """One header of the file and the column it is proposed to fill (None: ignored)."""

    index: int
    header: str
    column: str | None
    confidence: float  # 1.0 exact or explicit, 0.95 synonym, the fuzzy score / 100 otherwise
    how: Literal["exact", "synonym", "fuzzy", "explicit", "unmapped"]


@dataclass(frozen=True)
class HeaderMapping:
    kind: SheetKind
    matches: tuple[ColumnMatch, ...]
    missing_required: tuple[str, ...] = field(default=())

    @property
    def columns(self) -> dict[int, str]:
        """Source column index -> exchange-format column, for the mapped headers."""
        return {m.index: m.column for m in self.matches if m.column is not None}

    def as_dict(self) -> dict[str, str | None]:
        """header -> column (None for ignored headers): what a UI shows and what can be passed back."""
        return {m.header: m.column for m in self.matches if m.header}

    def to_json(self) -> list[dict[str, object]]:
        return [
            {"header": m.header, "column": m.column, "confidence": round(m.confidence, 3), "how": m.how}
            for m in self.matches
            if m.header
        ]


def match_header(header: str, kind: SheetKind = "items") -> tuple[str | None, float, str]:
    """The column a header most likely means: (column, confidence, how)."""
    index = _INDEXES[kind]
    k = key(header)
    if not k:
        return None, 0.0, "unmapped"
    if k in index:
        exact = k in {key(c) for c in columns_for(kind)}
        return index[k], 1.0 if exact else 0.95, "exact" if exact else "synonym"
    if len(k) < 4:
        return None, 0.0, "unmapped"
    found = process.extractOne(k, list(index), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
    if found is None:
        return None, 0.0, "unmapped"
    return index[found[0]], float(found[1]) / 100.0, "fuzzy"


def count_known(cells: Iterable[object], kind: SheetKind = "items") -> int:
    """How many distinct columns a candidate header row names (exact or synonym only): finds the header row."""
    index = _INDEXES[kind]
    found = {index.get(key(str(c))) for c in cells if c is not None and str(c).strip()}
    found.discard(None)
    return len(found)


def propose_mapping(
    headers: Sequence[str], kind: SheetKind = "items", explicit: Mapping[str, str | None] | None = None
) -> HeaderMapping:
    """Propose a column for every header; `explicit` (header -> column or None) overrides the proposal.

    Raises ImportRejected for duplicate headers, two headers claiming one column, an explicit mapping to an
    unknown column, or required columns left unmapped (named in the message).
    """
    columns = columns_for(kind)
    explicit_keys = {key(h): c for h, c in (explicit or {}).items()}
    seen: dict[str, int] = {}
    matches: list[ColumnMatch] = []
    for i, raw in enumerate(headers):
        header = (raw or "").strip()
        if not header:
            matches.append(ColumnMatch(i, "", None, 0.0, "unmapped"))
            continue
        k = key(header)
        if k in seen:
            raise ImportRejected(f"{kind}: duplicate header {header!r} (columns {seen[k] + 1} and {i + 1})")
        seen[k] = i
        if k in explicit_keys:
            target = explicit_keys[k] or None
            if target is not None and target not in columns:
                raise ImportRejected(f"{kind}: the mapping names an unknown column {target!r} for {header!r}")
            matches.append(ColumnMatch(i, header, target, 1.0, "explicit" if target else "unmapped"))
            continue
        column, confidence, how = match_header(header, kind)
        matches.append(ColumnMatch(i, header, column, confidence, how))  # type: ignore[arg-type]
    # Two headers for one column: the explicit or better one keeps it when it is clearly better; else reject.
    by_column: dict[str, list[ColumnMatch]] = {}
    for m in matches:
        if m.column is not None:
            by_column.setdefault(m.column, []).append(m)
    final = list(matches)
    for column, claims in by_column.items():
        if len(claims) == 1:
            continue
        ranked = sorted(claims, key=lambda m: (m.how == "explicit", m.confidence), reverse=True)
        best, second = ranked[0], ranked[1]
        if best.how != "explicit" and best.confidence - second.confidence < 0.05:
            names = " and ".join(repr(m.header) for m in claims)
            raise ImportRejected(f"{kind}: headers {names} both map to column {column!r}; map one of them explicitly")
        for loser in ranked[1:]:
            final[loser.index] = ColumnMatch(loser.index, loser.header, None, 0.0, "unmapped")
    mapped = {m.column for m in final if m.column is not None}
    missing = tuple(c for c in required_for(kind) if c not in mapped)
    return HeaderMapping(kind, tuple(final), missing)


def require(mapping: HeaderMapping) -> None:
    """Reject the file when required columns are unmapped."""
    if mapping.missing_required:
        raise ImportRejected(
            f"{mapping.kind}: required column(s) missing: {', '.join(mapping.missing_required)}"
            " (map them explicitly if the file names them differently)"
        )
