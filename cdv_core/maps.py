"""Maps of the quartiers: GeoJSON layers drawn by pydeck (no tiles needed; a basemap is a bonus)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

# Sequential, colour-blind-safe (viridis, light to dark reversed so "more" reads darker).
CLASS_COLOURS = [[253, 231, 37], [94, 201, 98], [33, 145, 140], [59, 82, 139], [68, 1, 84]]
NO_DATA = [200, 200, 200]


class Deck(pdk.Deck):
    """A pydeck Deck serialised without indentation: Python's fast JSON encoder then does the work
    (contours are hundreds of thousands of numbers; pydeck's indented output takes seconds)."""

    def to_json(self) -> str:
        return json.dumps(self, sort_keys=True, default=default_serialize)


@dataclass
class Legend:
    """Classes of the map's colour scale, for a legend drawn beside it."""

    title: str
    classes: list[tuple[str, list[int]]]


def classes(values: pd.Series, n: int = 5) -> list[float]:
    """Upper bounds of up to `n` quantile classes of the values (distinct, increasing)."""
    clean = values.dropna()
    if clean.empty:
        return []
    bounds = sorted({float(clean.quantile(i / n)) for i in range(1, n + 1)})
    return bounds


def colour_for(value: float | None, bounds: list[float]) -> list[int]:
    if value is None or pd.isna(value) or not bounds:
        return NO_DATA
    for i, b in enumerate(bounds):
        if value <= b:
            return CLASS_COLOURS[min(i + len(CLASS_COLOURS) - len(bounds), len(CLASS_COLOURS) - 1)]
    return CLASS_COLOURS[-1]


def _bbox(geometries: list[dict]) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []

    def walk(coords):
        if coords and isinstance(coords[0], (int, float)):
            xs.append(coords[0])
            ys.append(coords[1])
        else:
            for c in coords:
                walk(c)

    for g in geometries:
        walk(g["coordinates"])
    return min(xs), min(ys), max(xs), max(ys)


def qpv_map(contours: pd.DataFrame, values: pd.DataFrame, value_col: str, value_label: str,
            formatter, communes: pd.DataFrame | None = None, height: int = 560) -> tuple[pdk.Deck, Legend] | None:
    """A map of QPV contours coloured by `value_col` (joined on `code_qpv`), with commune outlines.

    `values` needs `code_qpv`, `nom_qpv` and `value_col`; returns None when no QPV has a contour.
    """
    merged = contours.merge(values, on="code_qpv", how="inner")
    if merged.empty:
        return None
    bounds = classes(merged[value_col])
    features = []
    for row in merged.itertuples(index=False):
        value = getattr(row, value_col)
        features.append({
            "type": "Feature",
            "geometry": json.loads(row.geojson),
            "properties": {
                "code_qpv": row.code_qpv, "nom": row.nom_qpv, "valeur": formatter(value),
                "couleur": colour_for(value, bounds), "etiquette": value_label,
            },
        })
    layers = []
    if communes is not None and not communes.empty:
        commune_features = [{"type": "Feature", "geometry": json.loads(r.geojson),
                             "properties": {"nom": r.nom, "code_qpv": "", "valeur": "", "etiquette": "Commune"}}
                            for r in communes.itertuples(index=False)]
        layers.append(pdk.Layer(
            "GeoJsonLayer", {"type": "FeatureCollection", "features": commune_features}, id="communes",
            stroked=True, filled=True, get_fill_color=[245, 245, 245, 60], get_line_color=[90, 90, 90],
            line_width_min_pixels=1, pickable=False))
    layers.append(pdk.Layer(
        "GeoJsonLayer", {"type": "FeatureCollection", "features": features}, id="qpv",
        stroked=True, filled=True, get_fill_color="properties.couleur", get_line_color=[20, 20, 20],
        line_width_min_pixels=1.5, pickable=True, auto_highlight=True, opacity=0.85))
    x0, y0, x1, y1 = _bbox([f["geometry"] for f in features])
    # Fit the box in about 800 x 500 px: at zoom z the world is 256 * 2**z px wide (latitude stretched ~1.5).
    zx = math.log2(800 * 360 / (256 * max(x1 - x0, 0.005)))
    zy = math.log2(500 * 360 / (256 * max((y1 - y0) * 1.5, 0.005)))
    zoom = max(4.0, min(14.0, min(zx, zy) - 1.5))
    view = pdk.ViewState(longitude=(x0 + x1) / 2, latitude=(y0 + y1) / 2, zoom=zoom, pitch=0)
    deck = Deck(
        layers=layers, initial_view_state=view, map_provider="carto", map_style="light",
        tooltip={"html": "<b>{nom}</b> {code_qpv}<br/>{etiquette} : {valeur}",
                 "style": {"fontSize": "16px", "backgroundColor": "#161616", "color": "white"}},
        height=height,
    )
    shown = []
    lower = None
    for b in bounds:
        label = f"jusqu'à {formatter(b)}" if lower is None else f"{formatter(lower)} – {formatter(b)}"
        shown.append((label, colour_for(b, bounds)))
        lower = b
    return deck, Legend(value_label, shown)


def legend_html(legend: Legend) -> str:
    """HTML swatches for a legend (one line)."""
    items = "".join(
        f'<span style="display:inline-flex;align-items:center;margin-right:18px;font-size:1rem">'
        f'<span style="width:22px;height:16px;background:rgb({c[0]},{c[1]},{c[2]});border:1px solid #333;'
        f'margin-right:6px;display:inline-block"></span>{label}</span>'
        for label, c in legend.classes
    )
    return f'<div style="margin:6px 0 4px 0"><b>{legend.title}</b>&nbsp;: {items}</div>'


def highlight_layer(contours: pd.DataFrame, code_qpv: str) -> pdk.Layer | None:
    """A thick outline around one QPV (the one whose fiche is shown), or None when it has no contour."""
    row = contours[contours["code_qpv"] == code_qpv]
    if row.empty:
        return None
    feature = {"type": "Feature", "geometry": json.loads(row["geojson"].iloc[0]), "properties": {}}
    return pdk.Layer(
        "GeoJsonLayer", {"type": "FeatureCollection", "features": [feature]}, id="qpv_choisi",
        stroked=True, filled=False, get_line_color=[213, 94, 0], line_width_min_pixels=4, pickable=False)
