"""Offline, versioned reference data with fast lookups: countries, places, CITES taxa, controlled substances, goods.

Everything loads lazily on first use (functools.cache) from files shipped in this package; nothing is
downloaded at run time. datasets() lists each dataset with its source, version and licence; see
data/README.md for sources, licences and attribution.
"""

from __future__ import annotations

from dataclasses import dataclass

from dragonnet.i18n import N_


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    version: str
    source: str
    licence: str
    records: int
    attribution: str = ""
    title: str = ""  # what pages call it (a catalogue msgid, translated where shown)


def datasets() -> list[DatasetInfo]:
    """Metadata of every reference dataset (loads each one to count its records)."""
    from dragonnet.reference import cites, countries, goods, places, substances, unlocode

    return [
        DatasetInfo(
            name="countries",
            title=N_("Countries"),
            version=f"ISO 3166-1 via {countries.version()}",
            source="pycountry (ISO 3166-1 and its gettext translations from Debian iso-codes); "
            "aliases curated by the dragonnet developers",
            licence="LGPL-2.1 (pycountry, iso-codes data)",
            records=countries.record_count(),
        ),
        DatasetInfo(
            name="places",
            title=N_("Places"),
            version=places.version(),
            source="UN/LOCODE code list (UNECE, via OpenTravelData): locations with function flags, subdivisions "
            "and coordinates; airports (IATA/ICAO) from airportsdata; curated places, aliases and border crossings "
            "of the operation's countries by the dragonnet developers",
            licence="UN/LOCODE: UNECE, free to use; OpenTravelData curation: CC-BY 4.0; airportsdata: MIT; "
            "curated table: Apache-2.0",
            records=places.record_count(),
            attribution=unlocode.ATTRIBUTION,
        ),
        DatasetInfo(
            name="cites",
            title=N_("CITES species"),
            version=cites.version(),
            source="Species+ Index of CITES Species (UNEP-WCMC for the CITES Secretariat), compacted, with the "
            "classes, orders, families and genera above its records; group, vernacular, Chinese, Vietnamese and "
            "trade names curated by the dragonnet developers",
            licence="Species+ terms of use: non-commercial use with attribution",
            records=cites.record_count(),
            attribution=cites.ATTRIBUTION,
        ),
        DatasetInfo(
            name="substances",
            title=N_("Controlled substances"),
            version=substances.version(),
            source="Curated by the dragonnet developers from the INCB Yellow List (1961 Convention), "
            "Green List (1971 Convention) and Red List (1988 Convention, Tables I and II)",
            licence="Apache-2.0 (curated table); the INCB lists are public documents",
            records=substances.record_count(),
        ),
        DatasetInfo(
            name="goods",
            title=N_("Goods"),
            version=goods.version(),
            source="Harmonized System nomenclature (chapters, headings, subheadings) from the datasets/"
            "harmonized-system files built from UN Comtrade",
            licence="ODC-PDDL 1.0 (public domain)",
            records=goods.record_count(),
        ),
    ]


__all__ = ["DatasetInfo", "datasets"]
