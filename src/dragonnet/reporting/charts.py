"""Charts and maps as SVG: Vega-Lite specs rendered server-side by vl-convert (no JavaScript, no network).

Maps use Natural Earth 1:110m country boundaries from the npm package world-atlas@2 shipped in
`reporting/data/world-atlas/` (ISC licence, see its LICENSE.md); their ISO 3166 numeric ids are mapped to
alpha-2 codes with the reference country list (pycountry). Countries too small for 1:110m (Hong Kong,
Singapore...) have no shape: they appear in the tables and, on the route map, as a point.

SVG is embedded as `<img src="data:image/svg+xml;base64,...">`: an image context never runs scripts, and
the page's CSP allows `img-src data:`.
"""

from __future__ import annotations

import base64
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vl_convert as vlc

from dragonnet.i18n import N_, country_name, translate
from dragonnet.reference import countries
from dragonnet.reporting.figures import Breakdown, Debrief

WORLD_ATLAS = Path(__file__).parent / "data" / "world-atlas" / "countries-110m.json"
COLOR = "#0f4c5c"
PREVIOUS_COLOR = "#9bb7bf"
FONT = "sans-serif"
CASES = N_("cases")  # the axis of every chart
NOT_STATED = N_("(not stated)")


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    svg: str
    alt: str

    @property
    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode("utf-8")).decode("ascii")


@functools.cache
def world() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(WORLD_ATLAS.read_text(encoding="utf-8"))
    return data


@functools.cache
def numeric_to_alpha2() -> dict[str, str]:
    return {c.numeric: c.alpha2 for c in countries.all_countries() if c.numeric}


def _country_name(alpha2: str | None) -> str:
    """A country's name in the locale the chart is drawn in (CLDR; the reference's English name outside one)."""
    if not alpha2:
        return translate(NOT_STATED)
    try:
        return country_name(alpha2, fallback=str(countries.get(alpha2)))
    except Exception:
        return alpha2


@functools.cache
def centroids() -> dict[str, tuple[float, float]]:
    """(lon, lat) per alpha-2: the centre of the bounding box of each country's largest ring (1:110m)."""
    topo = world()
    scale, translate = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs: list[list[tuple[float, float]]] = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            pts.append((x * scale[0] + translate[0], y * scale[1] + translate[1]))
        arcs.append(pts)
    to_alpha2 = numeric_to_alpha2()
    out: dict[str, tuple[float, float]] = {}
    for geom in topo["objects"]["countries"]["geometries"]:
        alpha2 = to_alpha2.get(str(geom.get("id", "")))
        if not alpha2 or not geom.get("arcs"):
            continue
        polygons = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
        best: list[tuple[float, float]] = []
        for polygon in polygons:
            ring: list[tuple[float, float]] = []
            for index in polygon[0]:
                ring.extend(arcs[index] if index >= 0 else list(reversed(arcs[~index])))
            if len(ring) > len(best):
                best = ring
        xs, ys = [p[0] for p in best], [p[1] for p in best]
        out[alpha2] = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
    return out


def point_of(alpha2: str) -> tuple[float, float] | None:
    """A map point for a country: its shape's centre, else the mean of its airports (small territories)."""
    found = centroids().get(alpha2)
    if found:
        return found
    return _airport_point(alpha2)


@functools.cache
def _airport_point(alpha2: str) -> tuple[float, float] | None:
    import airportsdata

    airports = [a for a in airportsdata.load("IATA").values() if a["country"] == alpha2]
    if not airports:
        return None
    return (sum(a["lon"] for a in airports) / len(airports), sum(a["lat"] for a in airports) / len(airports))


@functools.lru_cache(maxsize=128)
def _render(spec_json: str) -> str:
    svg: str = vlc.vegalite_to_svg(json.loads(spec_json))
    return svg


def render_svg(spec: dict[str, Any]) -> str:
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "config": {"font": FONT, "view": {"stroke": None}, "axis": {"labelFontSize": 11, "titleFontSize": 11}},
        **spec,
    }
    return _render(json.dumps(spec, sort_keys=True, default=str))


def _bar(b: Breakdown, label_kind: str, *, limit: int = 15, value: str = "cases") -> list[dict[str, Any]]:
    key = b.columns[0].key
    rows = []
    for row in b.as_dicts()[:limit]:
        n = row.get(value)
        if n is None or n == 0:
            continue
        k = row[key]
        name = _country_name(k) if label_kind == "country" else _code_label(k)
        rows.append({"label": name, "value": n})
    return rows


def _code_label(value: object) -> str:
    """A vocabulary value as the pages show it (its label, translated); "(not stated)" for none."""
    if not value:
        return translate(NOT_STATED)
    return translate(str(value).replace("_", " ").capitalize())


def bar_chart(key: str, title: str, rows: list[dict[str, Any]], *, x_title: str = CASES) -> Chart:
    title, x_title = translate(title), translate(x_title)
    spec = {
        "width": 420,
        "height": {"step": 18},
        "data": {"values": rows},
        "mark": {"type": "bar", "color": COLOR},
        "encoding": {
            "y": {"field": "label", "type": "nominal", "sort": "-x", "title": None},
            "x": {"field": "value", "type": "quantitative", "title": x_title},
            "tooltip": None,
        },
    }
    alt = f"{title}: " + "; ".join(f"{r['label']} {r['value']}" for r in rows)
    return Chart(key, title, render_svg(spec) if rows else "", alt)


def phase_chart(b: Breakdown) -> Chart:
    rows = [{"label": r["name"], "value": r["cases"]} for r in b.as_dicts() if r["cases"] is not None]
    spec = {
        "width": 420,
        "height": 200,
        "data": {"values": rows},
        "mark": {"type": "bar", "color": COLOR},
        "encoding": {
            "x": {"field": "label", "type": "ordinal", "sort": None, "title": None, "axis": {"labelAngle": 0}},
            "y": {"field": "value", "type": "quantitative", "title": translate(CASES)},
        },
    }
    title = translate(N_("Cases by phase"))
    alt = f"{title}: " + "; ".join(f"{r['label']} {r['value']}" for r in rows)
    return Chart("by_phase", title, render_svg(spec), alt)


def _background() -> dict[str, Any]:
    return {
        "data": {"values": world(), "format": {"type": "topojson", "feature": "countries"}},
        "mark": {"type": "geoshape", "fill": "#e8ecee", "stroke": "#ffffff", "strokeWidth": 0.5},
    }


def choropleth(b: Breakdown, title: str) -> Chart:
    title = translate(title)
    alpha_to_num = {v: k for k, v in numeric_to_alpha2().items()}
    values = [
        {"id": alpha_to_num[r["key"]], "cases": r["cases"], "name": _country_name(r["key"])}
        for r in b.as_dicts()
        if r["key"] in alpha_to_num and r["cases"]
    ]
    spec = {
        "width": 640,
        "height": 330,
        "projection": {"type": "equalEarth"},
        "layer": [
            _background(),
            {
                "data": {"values": world(), "format": {"type": "topojson", "feature": "countries"}},
                "transform": [
                    {"lookup": "id", "from": {"data": {"values": values}, "key": "id", "fields": ["cases", "name"]}}
                ],
                "mark": {"type": "geoshape", "stroke": "#ffffff", "strokeWidth": 0.5},
                "encoding": {
                    "color": {
                        "field": "cases",
                        "type": "quantitative",
                        "scale": {"scheme": "blues"},
                        "title": translate(CASES),
                    },
                },
            },
        ],
    }
    alt = f"{title}: " + "; ".join(f"{v['name']} {v['cases']}" for v in values)
    return Chart("choropleth", title, render_svg(spec), alt)


def route_map(b: Breakdown, *, limit: int = 60) -> Chart:
    """The route map of a debrief's route-legs breakdown."""
    return route_map_of_legs([(r["from"], r["to"], r["cases"]) for r in b.as_dicts()[:limit]])


def route_map_of_legs(rows: list[tuple[str, str, int]]) -> Chart:
    """Lines between country points, as thick as their case counts (legs: from, to, cases)."""
    legs = []
    nodes: dict[str, tuple[float, float]] = {}
    for a, z, n in rows:
        pa_, pz = point_of(a), point_of(z)
        if not pa_ or not pz or not n:
            continue
        nodes[a], nodes[z] = pa_, pz
        legs.append(
            {
                "lon": pa_[0],
                "lat": pa_[1],
                "lon2": pz[0],
                "lat2": pz[1],
                "cases": n,
                "leg": f"{_country_name(a)} to {_country_name(z)}",
            }
        )
    points = [{"lon": p[0], "lat": p[1], "code": k} for k, p in nodes.items()]
    spec = {
        "width": 640,
        "height": 330,
        "projection": {"type": "equalEarth"},
        "layer": [
            _background(),
            {
                "data": {"values": legs},
                "mark": {"type": "rule", "color": "#c0392b", "opacity": 0.6, "strokeCap": "round"},
                "encoding": {
                    "longitude": {"field": "lon", "type": "quantitative"},
                    "latitude": {"field": "lat", "type": "quantitative"},
                    "longitude2": {"field": "lon2"},
                    "latitude2": {"field": "lat2"},
                    "strokeWidth": {
                        "field": "cases",
                        "type": "quantitative",
                        "scale": {"range": [0.5, 6]},
                        "title": translate(CASES),
                    },
                },
            },
            {
                "data": {"values": points},
                "mark": {"type": "circle", "color": COLOR, "size": 18},
                "encoding": {
                    "longitude": {"field": "lon", "type": "quantitative"},
                    "latitude": {"field": "lat", "type": "quantitative"},
                },
            },
        ],
    }
    alt = translate(N_("Route map (origin, transit, destination legs)")) + ": "
    alt += "; ".join(f"{x['leg']} {x['cases']}" for x in legs)
    return Chart("route_map", translate(N_("Routes: flows between countries")), render_svg(spec), alt)


def debrief_charts(d: Debrief) -> list[Chart]:
    """The charts of a debrief (only those whose breakdown it holds: the public summary has fewer)."""
    keys = {b.key for b in d.breakdowns}
    out: list[Chart] = []
    if "by_phase" in keys:
        out.append(phase_chart(d.breakdown("by_phase")))
    if "by_seizure_country" in keys:
        out.append(choropleth(d.breakdown("by_seizure_country"), N_("Cases by country of seizure")))
    if "route_legs" in keys:
        out.append(route_map(d.breakdown("route_legs")))
    for key, title, kind in (
        ("by_country", N_("Cases by reporting country"), "country"),
        ("by_commodity_class", N_("Cases by commodity class"), "code"),
        ("by_transport_mode", N_("Cases by mode of transport"), "code"),
        ("by_detection_method", N_("Cases by detection method"), "code"),
        ("by_concealment", N_("Cases by concealment category"), "code"),
    ):
        if key in keys:
            chart = bar_chart(key, title, _bar(d.breakdown(key), kind))
            if chart.svg:
                out.append(chart)
    return out
