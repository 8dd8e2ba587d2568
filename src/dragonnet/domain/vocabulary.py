"""Controlled vocabularies of the case exchange format and the domain map.

The enum values are the exchange format's accepted values (../shared/design/exchange-format.md): they are a
contract with member agencies' spreadsheets, so they never change spelling. Labels are for display.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum

Extracted = tuple[int, str, str, list[str]]


class LabelledEnum(StrEnum):
    """A StrEnum whose members carry a human label (the value with underscores as spaces by default)."""

    @property
    def label(self) -> str:
        return _LABELS.get(self.value, self.value.replace("_", " ").capitalize())

    @classmethod
    def values(cls) -> list[str]:
        return [m.value for m in cls]

    @classmethod
    def parse(cls, text: str, what: str) -> str:
        """The value `text` names (case aside; a synonym from _SYNONYMS too), or a ValidationError listing them."""
        from dragonnet.errors import ValidationError

        key = text.strip().lower().replace(" ", "_").replace("-", "_")
        key = _SYNONYMS.get(cls.__name__, {}).get(key, key)
        if key in cls.values():
            return key
        accepted = [*cls.values(), *_SYNONYMS.get(cls.__name__, {})]
        raise ValidationError(f"unknown {what} {text!r}; use {', '.join(accepted)}")


class CommodityClass(LabelledEnum):
    DRUG = "drug"
    PRECURSOR = "precursor"
    WILDLIFE = "wildlife"
    TIMBER = "timber"
    OTHER = "other"


class PlaceType(LabelledEnum):
    SEAPORT = "seaport"
    AIRPORT = "airport"
    LAND_BORDER = "land_border"
    INLAND = "inland"
    MAIL_CENTRE = "mail_centre"
    EXPRESS_CENTRE = "express_centre"
    OTHER = "other"


class Direction(LabelledEnum):
    IMPORT = "import"
    EXPORT = "export"
    TRANSIT = "transit"
    DOMESTIC = "domestic"


class TransportMode(LabelledEnum):
    AIR_PASSENGER = "air_passenger"
    AIR_CARGO = "air_cargo"
    SEA_CONTAINER = "sea_container"
    SEA_OTHER = "sea_other"
    ROAD = "road"
    RAIL = "rail"
    POSTAL = "postal"
    EXPRESS_COURIER = "express_courier"
    PEDESTRIAN = "pedestrian"
    OTHER = "other"


class DetectionMethod(LabelledEnum):
    RISK_PROFILING = "risk_profiling"
    INTELLIGENCE = "intelligence"
    ROUTINE_CONTROL = "routine_control"
    RANDOM = "random"
    SCANNER = "scanner"
    DETECTOR_DOG = "detector_dog"
    OTHER = "other"


class SpecimenType(LabelledEnum):
    LIVE = "live"
    DEAD = "dead"
    SKIN = "skin"
    SCALES = "scales"
    IVORY = "ivory"
    HORN = "horn"
    BONE = "bone"
    MEAT = "meat"
    WOOD = "wood"
    DERIVATIVE = "derivative"
    OTHER = "other"


class SharingLevel(LabelledEnum):
    """Traffic Light Protocol 2.0, most restrictive first."""

    RED = "red"
    AMBER_STRICT = "amber+strict"
    AMBER = "amber"
    GREEN = "green"
    CLEAR = "clear"


class Role(LabelledEnum):
    REPORTER = "reporter"
    NATIONAL_COORDINATOR = "national_coordinator"
    REGIONAL_ANALYST = "regional_analyst"
    PARTNER_OBSERVER = "partner_observer"
    ADMINISTRATOR = "administrator"


class CaseStatus(LabelledEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    VALIDATED = "validated"
    MERGED = "merged"
    WITHDRAWN = "withdrawn"


class AgencyKind(LabelledEnum):
    CUSTOMS = "customs"
    POLICE = "police"
    BORDER_GUARD = "border_guard"
    REGIONAL_OFFICE = "regional_office"
    INTERNATIONAL_ORGANISATION = "international_organisation"
    NGO = "ngo"
    OTHER = "other"


class ParticipationRole(LabelledEnum):
    MEMBER = "member"
    PARTNER = "partner"
    OBSERVER = "observer"
    COORDINATOR = "coordinator"


class ContactPointKind(LabelledEnum):
    SEAPORT = "seaport"
    AIRPORT = "airport"
    LAND_BORDER = "land_border"
    MAIL_CENTRE = "mail_centre"
    EXPRESS_CENTRE = "express_centre"
    HEADQUARTERS = "headquarters"
    INLAND = "inland"


class PartyRole(LabelledEnum):
    COURIER = "courier"
    CONSIGNOR = "consignor"
    CONSIGNEE = "consignee"
    OWNER = "owner"
    ORGANISER = "organiser"
    DRIVER = "driver"
    OTHER = "other"


class PartyKind(LabelledEnum):
    PERSON = "person"
    COMPANY = "company"


class IdentifierKind(LabelledEnum):
    """Identifiers linked to cases besides parties: what link analysis resolves."""

    PHONE = "phone"
    EMAIL = "email"
    CONTAINER = "container"
    VEHICLE = "vehicle"
    VESSEL = "vessel"
    BANK_ACCOUNT = "bank_account"
    PASSPORT = "passport"


# Other words for a value, as operators say them (`--kind border`, `--role lead`).
_SYNONYMS: dict[str, dict[str, str]] = {
    "AgencyKind": {"border": "border_guard", "regional": "regional_office", "io": "international_organisation"},
    "ParticipationRole": {"lead": "coordinator"},
}

_LABELS: dict[str, str] = {
    "amber+strict": "Amber+strict",
    "air_cargo": "Air cargo",
    "air_passenger": "Air passenger",
    "sea_container": "Sea container",
    "express_courier": "Express courier",
    "national_coordinator": "National coordinator",
    "regional_analyst": "Regional analyst",
    "partner_observer": "Partner observer",
    "mail_centre": "Mail centre",
    "express_centre": "Express centre",
    "land_border": "Land border",
    "regional_office": "Regional office",
    "international_organisation": "International organisation",
    "ngo": "NGO",
}


def display_labels() -> list[str]:
    """Every label a vocabulary value is shown by: the member's `label` and the pages' `label` filter (the
    value with underscores as spaces, capitalised), without repeats."""
    found: dict[str, None] = {}
    for enum in LabelledEnum.__subclasses__():
        for member in enum:
            found[member.label] = None
            found[member.value.replace("_", " ").capitalize()] = None
    return list(found)


def babel_extract(fileobj: object, keywords: object, comment_tags: object, options: object) -> Iterator[Extracted]:
    """A Babel extraction method (babel.cfg): the vocabularies' display labels are msgids, so the pages can show
    "Sea container" in the reader's language while the stored value stays `sea_container`."""
    for label in display_labels():
        yield 0, "gettext", label, ["a value of the exchange format's vocabularies"]
