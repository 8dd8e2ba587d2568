"""Risk profiles: a small YAML format compiled to vectorised SQL expressions (DuckDB or Spark SQL).

```yaml
lanes: {red_rate: 0.03, yellow_rate: 0.05, random_share: 0.1, seed: 7}
profiles:
  - id: pangolin-scales
    name: Pangolin scales declared as other goods
    owner: VN-CUS                 # the agency that owns the profile
    valid_from: 2024-01-01        # validity period (both optional)
    valid_to: 2025-12-31
    sharing: green                # TLP: red / amber+strict only the owner (+ share_with for red, amber)
    share_with: [TH-CUS]
    weight: 2.0                   # added to the rule score when the profile fires
    match: all                    # all (default) or any of the conditions
    conditions:
      - {field: hs_code, prefix: ["0507", "9601"]}           # eq ne in not_in prefix gt gte lt lte between is_null
      - {field: hs_code, prefix: ["05", "4403.49"]}          # HS 2022 chapters, headings, subheadings (checked)
      - {value_per_kg: {below: p05}}                          # against the HS code's range (p05 p25 p50 p75 p95)
      - {value_per_kg: {ratio_below: 0.2}}                    # or ratio_above: value/kg over the HS median
      - {route: {origin_in: [NG, CD], transit_in: [ET, AE], loading_in: [NGLOS]}}
      - {text: {field: goods_description, any: ["scales", "vảy", "鳞片", "écailles"]}}
      - {party_history: {party: importer, min_seizures: 1}}   # or min_rate + min_inspections, seen_in_case, watchlist
    mandatory: false              # true: an intelligence-led target, always red whatever the score
    responsible: th.analyst       # the analyst who answers for the profile (a username; optional)
    review_by: 2025-06-30         # next review date (the review cycle flags it after that day)
```

The expiry of a profile is `valid_to`: it stops firing after that day. Every condition becomes one SQL
boolean (NULL counts as false); a profile is the AND (or OR) of its conditions and its validity period.
`ProfileSet.rule_score_sql` sums the hand-set weights of fired profiles (the score when no model is trained)
and `mask_sql` packs which ones fired into integers: the lane score (`lanescore`) learns each profile's worth
from them, and the explanations name them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dragonnet.domain.vocabulary import SharingLevel
from dragonnet.errors import ValidationError
from dragonnet.reference import goods
from dragonnet.targeting.declarations import COLUMNS, EXTRA_PREFIX
from dragonnet.targeting.sql import Dialect, number

PARTY_ROLES = {"importer": "imp", "declarant": "decl", "exporter": "exp"}
QUANTILES = ("p05", "p25", "p50", "p75", "p95")
FIELD_OPS = ("eq", "ne", "in", "not_in", "prefix", "gt", "gte", "lt", "lte", "between", "is_null")
DERIVED_FIELDS = ("value_per_kg",)
MASK_BITS = 62
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_PROFILE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Condition:
    kind: str  # field, value_per_kg, route, text, party_history
    spec: dict[str, Any]

    def describe(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.spec.items())
        return f"{self.kind}({inner})"

    def to_mapping(self) -> dict[str, Any]:
        return dict(self.spec) if self.kind == "field" else {self.kind: dict(self.spec)}


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    owner: str
    weight: float
    conditions: tuple[Condition, ...]
    match: str = "all"
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    sharing: str = SharingLevel.AMBER.value
    share_with: tuple[str, ...] = ()
    mandatory: bool = False
    responsible: str | None = None
    review_by: dt.date | None = None

    @property
    def fingerprint(self) -> str:
        """What the profile selects (conditions and match): a learned weight is valid while this is unchanged."""
        body = json.dumps({"match": self.match, "conditions": [c.to_mapping() for c in self.conditions]},
                          sort_keys=True, ensure_ascii=False, default=str)  # fmt: skip
        return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]

    def to_mapping(self) -> dict[str, Any]:
        """The profile in the YAML format (parse_profile_mapping reads it back to an equal Profile)."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "owner": self.owner, "sharing": self.sharing}
        if self.share_with:
            out["share_with"] = list(self.share_with)
        out["weight"] = self.weight
        if self.match != "all":
            out["match"] = self.match
        out["conditions"] = [c.to_mapping() for c in self.conditions]
        for key in ("valid_from", "valid_to", "review_by"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value.isoformat()
        if self.mandatory:
            out["mandatory"] = True
        if self.responsible:
            out["responsible"] = self.responsible
        return out

    def usable_by(self, agency_code: str | None) -> bool:
        """TLP: green/clear for every member; amber and red for the owner and the agencies it names."""
        if agency_code is None or agency_code == self.owner:
            return True
        if self.sharing in (SharingLevel.GREEN.value, SharingLevel.CLEAR.value):
            return True
        if self.sharing in (SharingLevel.AMBER.value, SharingLevel.RED.value):
            return agency_code in self.share_with
        return False

    def sql(self, d: Dialect) -> str:
        parts = [f"COALESCE({condition_sql(c, d)}, FALSE)" for c in self.conditions]
        body = "(" + (" AND " if self.match == "all" else " OR ").join(parts) + ")"
        period = []
        if self.valid_from:
            period.append(f"declaration_date >= {d.date(self.valid_from.isoformat())}")
        if self.valid_to:
            period.append(f"declaration_date <= {d.date(self.valid_to.isoformat())}")
        return "(" + " AND ".join([body, *period]) + ")"


@dataclass(frozen=True)
class LaneConfig:
    red_rate: float = 0.05
    yellow_rate: float = 0.05
    random_share: float = 0.1
    seed: int = 2024


@dataclass(frozen=True)
class ProfileSet:
    profiles: tuple[Profile, ...]
    lanes: LaneConfig = field(default_factory=LaneConfig)

    def for_agency(self, agency_code: str | None) -> ProfileSet:
        return ProfileSet(tuple(p for p in self.profiles if p.usable_by(agency_code)), self.lanes)

    def rule_score_sql(self, d: Dialect) -> str:
        if not self.profiles:
            return number(0.0)
        terms = [f"CASE WHEN {p.sql(d)} THEN {number(p.weight)} ELSE {number(0.0)} END" for p in self.profiles]
        return "(" + " + ".join(terms) + ")"

    def mask_sql(self, d: Dialect) -> list[str]:
        """BIGINT bit masks of fired profiles, MASK_BITS profiles per mask (bit i = profile i of the chunk)."""
        out = []
        for start in range(0, len(self.profiles), MASK_BITS):
            chunk = self.profiles[start : start + MASK_BITS]
            terms = [f"CASE WHEN {p.sql(d)} THEN CAST({1 << i} AS BIGINT) ELSE CAST(0 AS BIGINT) END"
                     for i, p in enumerate(chunk)]  # fmt: skip
            out.append("(" + " + ".join(terms) + ")")
        return out

    def mandatory_bits(self) -> list[int]:
        """Per mask chunk, the bits of the mandatory profiles (a row is mandatory when mask & bits != 0)."""
        out = []
        for start in range(0, len(self.profiles), MASK_BITS):
            chunk = self.profiles[start : start + MASK_BITS]
            out.append(sum(1 << i for i, p in enumerate(chunk) if p.mandatory))
        return out

    def fired(self, masks: list[int]) -> list[Profile]:
        out = []
        for chunk_no, mask in enumerate(masks):
            for i in range(MASK_BITS):
                if mask >> i & 1:
                    out.append(self.profiles[chunk_no * MASK_BITS + i])
        return out


# --- conditions -> SQL --------------------------------------------------------------------------------------


def _literal(value: Any, d: Dialect) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, dt.date):
        return d.date(value.isoformat())
    return d.string(str(value))


def _column(name: str) -> str:
    if name == "value_per_kg":
        return "vpk"
    return name


def _as_list(value: Any, what: str) -> list[Any]:
    if isinstance(value, list | tuple) and value:
        return list(value)
    raise ValidationError(f"{what}: expected a non-empty list")


def _field_sql(spec: dict[str, Any], d: Dialect) -> str:
    col = _column(spec["field"])
    (op,) = [k for k in spec if k != "field"]
    value = spec[op]
    if op == "is_null":
        return f"({col} IS NULL)" if value else f"({col} IS NOT NULL)"
    if op in ("in", "not_in"):
        items = ", ".join(_literal(v, d) for v in _as_list(value, op))
        return f"({col} {'NOT ' if op == 'not_in' else ''}IN ({items}))"
    if op == "prefix":
        prefixes = [str(v) for v in _as_list(value, op)]
        return "(" + " OR ".join(f"substr({col}, 1, {len(p)}) = {d.string(p)}" for p in prefixes) + ")"
    if op == "between":
        lo, hi = _as_list(value, op)
        return f"({col} >= {_literal(lo, d)} AND {col} <= {_literal(hi, d)})"
    sym = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
    return f"({col} {sym} {_literal(value, d)})"


def _value_sql(spec: dict[str, Any]) -> str:
    parts = []
    if "below" in spec:
        parts.append(f"vpk < hs_{spec['below']}")
    if "above" in spec:
        parts.append(f"vpk > hs_{spec['above']}")
    if "ratio_below" in spec:
        parts.append(f"vpk < hs_p50 * {number(spec['ratio_below'])}")
    if "ratio_above" in spec:
        parts.append(f"vpk > hs_p50 * {number(spec['ratio_above'])}")
    return "(" + " AND ".join(parts) + ")"


def _places_sql(column: str, places: list[Any], d: Dialect) -> str:
    # `;A;B;` contains `;XX` for a country XX (every place of that country) or `;XXXXX;` for a LOCODE.
    padded = f"concat(';', COALESCE({column}, ''), ';')"
    tests = []
    for place in places:
        code = str(place).upper()
        needle = f";{code}" if len(code) == 2 else f";{code};"
        tests.append(f"instr({padded}, {d.string(needle)}) > 0")
    return "(" + " OR ".join(tests) + ")"


def _route_sql(spec: dict[str, Any], d: Dialect) -> str:
    parts = []
    if "origin_in" in spec:
        items = ", ".join(d.string(str(c).upper()) for c in _as_list(spec["origin_in"], "origin_in"))
        parts.append(f"(origin_country IN ({items}))")
    if "loading_in" in spec:
        parts.append(_places_sql("loading_place", _as_list(spec["loading_in"], "loading_in"), d))
    if "transit_in" in spec:
        parts.append(_places_sql("transit_places", _as_list(spec["transit_in"], "transit_in"), d))
    joiner = " OR " if spec.get("match") == "any" else " AND "
    return "(" + joiner.join(parts) + ")"


def _text_sql(spec: dict[str, Any], d: Dialect) -> str:
    col = f"lower(COALESCE({spec.get('field', 'goods_description')}, ''))"
    tests = [f"instr({col}, {d.string(str(t).lower())}) > 0" for t in spec.get("any", [])]
    if "regex" in spec:
        tests.append(d.regex(col, str(spec["regex"])))
    return "(" + " OR ".join(tests) + ")"


def _party_sql(spec: dict[str, Any], d: Dialect) -> str:
    role = PARTY_ROLES[spec["party"]]
    parts = []
    if "min_seizures" in spec:
        parts.append(f"{role}_pos >= {number(spec['min_seizures'])}")
    if "min_rate" in spec:
        n_min = max(1, int(spec.get("min_inspections", 1)))
        parts.append(f"{role}_n >= {number(n_min)} AND {role}_pos >= {role}_n * {number(spec['min_rate'])}")
    if spec.get("seen_in_case"):
        parts.append(f"{role}_flagged = 1")
    if "watchlist" in spec:
        items = ", ".join(d.string(str(v)) for v in _as_list(spec["watchlist"], "watchlist"))
        parts.append(f"{spec['party']} IN ({items})")
    return "(" + " AND ".join(parts) + ")"


def condition_sql(c: Condition, d: Dialect) -> str:
    if c.kind == "field":
        return _field_sql(c.spec, d)
    if c.kind == "value_per_kg":
        return _value_sql(c.spec)
    if c.kind == "route":
        return _route_sql(c.spec, d)
    if c.kind == "text":
        return _text_sql(c.spec, d)
    if c.kind == "party_history":
        return _party_sql(c.spec, d)
    raise ValidationError(f"unknown condition {c.kind!r}")


# --- parsing and validation ---------------------------------------------------------------------------------


MAX_LIST = 1000
MAX_TEXT = 1000
_SCALARS = (str, int, float, bool, dt.date)


def _check_values(spec: dict[str, Any], where: str) -> None:
    """Condition values are scalars or flat lists of scalars, of bounded size (profiles come from users)."""
    for key, value in spec.items():
        items = value if isinstance(value, list | tuple) else [value]
        if len(items) > MAX_LIST:
            raise ValidationError(f"{where}: {key} has more than {MAX_LIST} values")
        for item in items:
            if not isinstance(item, _SCALARS) or (isinstance(item, str) and len(item) > MAX_TEXT):
                raise ValidationError(f"{where}: {key} takes plain values (text up to {MAX_TEXT} characters)")


def _hs_prefixes(value: Any, where: str) -> list[str]:
    """HS chapters, headings and subheadings selected by a profile, as the digits declarations carry ("0507.10" ->
    "050710"): each must be in the HS 2022 nomenclature (a national 8- or 10-digit line, at its subheading), so that
    a mistyped code is an error rather than a profile that never fires."""
    out = []
    for item in _as_list(value, "prefix"):
        digits = goods.normalise_code(str(item))
        if digits is None or len(digits) not in (2, 4, 6, 8, 10) or goods.get(digits[:6]) is None:
            raise ValidationError(f"{where}: hs_code prefix {str(item)!r} is not an HS 2022 chapter, heading or "
                                  "subheading (05, 0507, 0507.10)")  # fmt: skip
        out.append(digits)
    return out


def _check_condition(raw: Any, where: str) -> Condition:
    if not isinstance(raw, dict) or not raw:
        raise ValidationError(f"{where}: a condition is a mapping")
    inner = raw if "field" in raw or len(raw) != 1 else next(iter(raw.values()))
    if isinstance(inner, dict):
        _check_values(inner, where)
    if "field" in raw:
        name = raw["field"]
        if not isinstance(name, str) or not (
            name in COLUMNS or name in DERIVED_FIELDS or (name.startswith(EXTRA_PREFIX) and _IDENT.match(name))
        ):
            raise ValidationError(f"{where}: unknown field {name!r}")
        ops = [k for k in raw if k != "field"]
        if len(ops) != 1 or ops[0] not in FIELD_OPS:
            raise ValidationError(f"{where}: a field condition has one operator of {', '.join(FIELD_OPS)}")
        if name == "hs_code" and ops[0] == "prefix":
            return Condition("field", {"field": name, "prefix": _hs_prefixes(raw["prefix"], where)})
        return Condition("field", dict(raw))
    if len(raw) != 1:
        raise ValidationError(f"{where}: one condition per list entry")
    ((kind, spec),) = raw.items()
    if not isinstance(spec, dict):
        raise ValidationError(f"{where}: {kind} takes a mapping")
    if kind == "value_per_kg":
        keys = {"below", "above", "ratio_below", "ratio_above"}
        if not spec or set(spec) - keys:
            raise ValidationError(f"{where}: value_per_kg takes {', '.join(sorted(keys))}")
        for key in ("below", "above"):
            if key in spec and spec[key] not in QUANTILES:
                raise ValidationError(f"{where}: value_per_kg {key} is one of {', '.join(QUANTILES)}")
    elif kind == "route":
        keys = {"origin_in", "transit_in", "loading_in", "match"}
        if not (set(spec) - {"match"}) or set(spec) - keys:
            raise ValidationError(f"{where}: route takes origin_in, transit_in, loading_in (and match: any)")
    elif kind == "text":
        target = spec.get("field", "goods_description")
        if not isinstance(target, str) or not (
            target in COLUMNS or (target.startswith(EXTRA_PREFIX) and _IDENT.match(target))
        ):
            raise ValidationError(f"{where}: text field {target!r}")
        if not spec.get("any") and not spec.get("regex"):
            raise ValidationError(f"{where}: text needs `any: [terms]` or `regex`")
    elif kind == "party_history":
        if spec.get("party") not in PARTY_ROLES:
            raise ValidationError(f"{where}: party is one of {', '.join(PARTY_ROLES)}")
        if not set(spec) & {"min_seizures", "min_rate", "seen_in_case", "watchlist"}:
            raise ValidationError(f"{where}: party_history needs min_seizures, min_rate, seen_in_case or watchlist")
    else:
        raise ValidationError(f"{where}: unknown condition {kind!r}")
    return Condition(kind, dict(spec))


def _date(value: Any, where: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(f"{where}: not a date {value!r}") from None


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ValidationError(f"{where}: expected true or false, not {value!r}")


def parse_profile_mapping(raw: Any, where: str) -> Profile:
    """One profile of the YAML format (a mapping), validated."""
    if not isinstance(raw, dict):
        raise ValidationError(f"{where}: a profile is a mapping")
    pid = str(raw.get("id", ""))
    if not _PROFILE_ID.match(pid):
        raise ValidationError(f"{where}: missing or invalid id {pid!r}")
    sharing = str(raw.get("sharing", SharingLevel.AMBER.value)).lower()
    if sharing not in SharingLevel.values():
        raise ValidationError(f"{where}: sharing is one of {', '.join(SharingLevel.values())}")
    conditions = raw.get("conditions") or []
    if not isinstance(conditions, list) or not conditions:
        raise ValidationError(f"{where}: needs at least one condition")
    match = str(raw.get("match", "all"))
    if match not in ("all", "any"):
        raise ValidationError(f"{where}: match is all or any")
    try:
        weight = float(raw.get("weight", 1.0))
    except (TypeError, ValueError):
        raise ValidationError(f"{where}: weight must be a number") from None
    if not weight > 0:
        raise ValidationError(f"{where}: weight must be positive")
    if not raw.get("owner"):
        raise ValidationError(f"{where}: owner (an agency code) is required")
    responsible = raw.get("responsible")
    if responsible is not None and not (isinstance(responsible, str) and 0 < len(responsible.strip()) <= 100):
        raise ValidationError(f"{where}: responsible is a username")
    profile = Profile(
        id=pid,
        name=str(raw.get("name", pid))[:300],
        owner=str(raw["owner"]),
        weight=weight,
        conditions=tuple(_check_condition(c, f"{where} ({pid})") for c in conditions),
        match=match,
        valid_from=_date(raw.get("valid_from"), where),
        valid_to=_date(raw.get("valid_to"), where),
        sharing=sharing,
        share_with=tuple(str(a) for a in raw.get("share_with") or ()),
        mandatory=_bool(raw.get("mandatory", False), f"{where}: mandatory"),
        responsible=responsible.strip() if responsible else None,
        review_by=_date(raw.get("review_by"), where),
    )
    if profile.valid_from and profile.valid_to and profile.valid_to < profile.valid_from:
        raise ValidationError(f"{where}: valid_to (the expiry) lies before valid_from")
    return profile


class _NoAliasLoader(yaml.SafeLoader):
    """YAML's safe loader refusing aliases (*name): no document may expand to something far larger than itself."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise ValidationError("YAML aliases (*name) are not accepted in risk profiles")
        return super().compose_node(parent, index)


def _safe_load_without_aliases(text: str) -> Any:
    loader = _NoAliasLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def parse_profiles(text: str, source: str = "profiles") -> ProfileSet:
    try:
        doc = _safe_load_without_aliases(text) or {}
    except yaml.YAMLError as exc:
        raise ValidationError(f"{source}: not YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict):
        raise ValidationError(f"{source}: expected a mapping with `profiles:`")
    lanes_raw = doc.get("lanes") or {}
    lanes = LaneConfig(
        **{k: lanes_raw[k] for k in ("red_rate", "yellow_rate", "random_share", "seed") if k in lanes_raw}
    )
    check_lanes(lanes, source)
    out: list[Profile] = []
    seen: set[str] = set()
    raw_profiles = doc.get("profiles") or []
    if not isinstance(raw_profiles, list):
        raise ValidationError(f"{source}: `profiles:` is a list")
    for i, raw in enumerate(raw_profiles):
        profile = parse_profile_mapping(raw, f"{source}: profile {i + 1}")
        if profile.id in seen:
            raise ValidationError(f"{source}: profile {i + 1}: repeated id {profile.id!r}")
        seen.add(profile.id)
        out.append(profile)
    return ProfileSet(tuple(out), lanes)


def check_lanes(lanes: LaneConfig, source: str) -> None:
    if not (0 < lanes.red_rate <= 1 and 0 <= lanes.yellow_rate <= 1 and 0 <= lanes.random_share <= 1):
        raise ValidationError(f"{source}: lane rates must lie in [0, 1] (red_rate > 0)")


def dump_profile(profile: Profile) -> str:
    """One profile as YAML (its mapping, the format of a `profiles:` entry)."""
    return yaml.safe_dump(profile.to_mapping(), allow_unicode=True, sort_keys=False, width=110)


def dump_profiles(profiles: ProfileSet) -> str:
    """The YAML text of a profile set (lanes and profiles), readable by parse_profiles."""
    lanes = {"red_rate": profiles.lanes.red_rate, "yellow_rate": profiles.lanes.yellow_rate,
             "random_share": profiles.lanes.random_share, "seed": profiles.lanes.seed}  # fmt: skip
    doc = {"lanes": lanes, "profiles": [p.to_mapping() for p in profiles.profiles]}
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=110)


def load_profiles(path: Path) -> ProfileSet:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot read profiles {path}: {exc.strerror}") from None
    return parse_profiles(text, path.name)


DATA_DIR = Path(__file__).parent / "data"


def builtin_profiles(name: str = "default") -> ProfileSet:
    return load_profiles(DATA_DIR / f"profiles-{name}.yaml")
