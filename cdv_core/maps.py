"""Maps of the quartiers: GeoJSON layers drawn by pydeck (no tiles needed; a basemap is a bonus).

Contours live in the `contour` table (QPV, communes, départements; GeoJSON text in WGS84 with a bounding
box). A map only ever reads and sends the contours of the territory it shows (`territoire`), and frames
that territory.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass, field

import duckdb
import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from cdv_core import fmt

# Sequential, colour-blind-safe (viridis, light to dark reversed so "more" reads darker).
CLASS_COLOURS = [[253, 231, 37], [94, 201, 98], [33, 145, 140], [59, 82, 139], [68, 1, 84]]
NO_DATA = [200, 200, 200]


class Brut:
    """A GeoJSON geometry kept as the text the base stores. The deck's JSON takes it as is: a map of a
    whole country holds millions of coordinates, never parsed nor re-encoded in Python. Reading it like a
    dict (`g["coordinates"]`) parses it, for the rare code that needs the numbers."""

    __slots__ = ("texte",)

    def __init__(self, texte: str) -> None:
        self.texte = texte

    def __getitem__(self, key: str):
        return json.loads(self.texte)[key]


_RAW = re.compile(r'"@@brut:(\d+)@@"')


class Deck(pdk.Deck):
    """A pydeck Deck serialised without indentation by Python's fast JSON encoder, its geometries (`Brut`)
    written in as the stored text."""

    def to_json(self) -> str:
        raws: list[str] = []

        def default(o):
            if isinstance(o, Brut):
                raws.append(o.texte)
                return f"@@brut:{len(raws) - 1}@@"
            return default_serialize(o)

        spec = json.dumps(self, sort_keys=True, default=default)
        return _RAW.sub(lambda m: raws[int(m.group(1))], spec)

    def figee(self) -> DeckJson:
        """The deck serialised once, for a page to cache and hand to `st.pydeck_chart` at every rerun."""
        return DeckJson(self.to_json(), self._tooltip, [layer.id for layer in self.layers])


class DeckJson:
    """A deck already serialised: what `st.pydeck_chart` reads of a pydeck Deck (`to_json()`, its tooltip,
    no mapbox key), cheap to keep in a cache and identical from one rerun to the next (so Streamlit does not
    send it again to a browser that has it)."""

    mapbox_key = None

    def __init__(self, spec: str, tooltip: dict | None, layer_ids: list[str]) -> None:
        self.spec, self._tooltip, self.layer_ids = spec, tooltip, layer_ids

    def to_json(self) -> str:
        return self.spec


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
    etiquette = _h(value_label)
    # Columns as lists first: DuckDB's text columns are Arrow-backed, and walking them row by row cost 15 ms a map.
    for code, nom, geojson, value in zip(merged["code_qpv"].tolist(), merged["nom_qpv"].tolist(),
                                         merged["geojson"].tolist(), merged[value_col].tolist(), strict=True):
        features.append({
            "type": "Feature",
            "geometry": Brut(geojson),
            "properties": {
                "code_qpv": code, "nom": _h(nom), "valeur": _h(formatter(value)),
                "couleur": colour_for(value, bounds), "etiquette": etiquette,
            },
        })
    layers = []
    if communes is not None and not communes.empty:
        layers.append(communes_layer(communes))
    layers.append(pdk.Layer(
        "GeoJsonLayer", {"type": "FeatureCollection", "features": features}, id="qpv",
        stroked=True, filled=True, get_fill_color="properties.couleur", get_line_color=[20, 20, 20],
        line_width_min_pixels=1.5, pickable=True, auto_highlight=True, opacity=0.85))
    if {"xmin", "ymin", "xmax", "ymax"} <= set(merged.columns):
        view = view_for((float(merged["xmin"].min()), float(merged["ymin"].min()), float(merged["xmax"].max()),
                         float(merged["ymax"].max())))
    else:
        view = view_for(_bbox([json.loads(g) for g in merged["geojson"]]))
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


def _h(value: object) -> str:
    """A name for the map's tooltip, which deck.gl inserts into HTML as is: escaped, so that data is text."""
    return html.escape("" if value is None else str(value), quote=True)


def legend_html(legend: Legend) -> str:
    """HTML swatches for a legend (one line)."""
    items = "".join(
        f'<span style="display:inline-flex;align-items:center;margin-right:18px;font-size:1rem">'
        f'<span style="width:22px;height:16px;background:rgb({c[0]},{c[1]},{c[2]});border:1px solid #333;'
        f'margin-right:6px;display:inline-block"></span>{_h(label)}</span>'
        for label, c in legend.classes
    )
    return f'<div style="margin:6px 0 4px 0"><b>{_h(legend.title)}</b>&nbsp;: {items}</div>'


def highlight_layer(contours: pd.DataFrame, code_qpv: str) -> pdk.Layer | None:
    """A thick outline around one QPV (the one whose fiche is shown), or None when it has no contour."""
    row = contours[contours["code_qpv"] == code_qpv]
    if row.empty:
        return None
    feature = {"type": "Feature", "geometry": Brut(row["geojson"].iloc[0]), "properties": {}}
    return pdk.Layer(
        "GeoJsonLayer", {"type": "FeatureCollection", "features": [feature]}, id="qpv_choisi",
        stroked=True, filled=False, get_line_color=[213, 94, 0], line_width_min_pixels=4, pickable=False)


# --------------------------------------------------------------------------- contours of a territory


def contours(con: duckdb.DuckDBPyConnection, niveau: str, codes: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """Contours of level `niveau` ('qpv', 'commune', 'departement') among `codes`: code, nom, geojson, bbox."""
    codes = sorted({str(c) for c in codes if c})
    if not codes:
        return pd.DataFrame(columns=["code", "nom", "geojson", "xmin", "ymin", "xmax", "ymax"])
    # One list parameter (thousands of `?` in an IN list cost DuckDB far more than the query itself).
    return con.execute(
        "SELECT code, nom, geojson, xmin, ymin, xmax, ymax FROM contour "
        "WHERE niveau = ? AND code IN (SELECT unnest(?::VARCHAR[])) ORDER BY code", [niveau, codes]).df()


def qpv_contours(con: duckdb.DuckDBPyConnection, codes: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """`code_qpv`, `geojson` of the QPV among `codes` that have a contour (the shape the map builders take)."""
    df = contours(con, "qpv", codes)
    return df.rename(columns={"code": "code_qpv"})[["code_qpv", "geojson", "xmin", "ymin", "xmax", "ymax"]]


def commune_contours(con: duckdb.DuckDBPyConnection, codes: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """`code_insee`, `nom`, `geojson` of the communes among `codes` that have a contour (name from the COG)."""
    df = contours(con, "commune", codes)
    if df.empty:
        return pd.DataFrame(columns=["code_insee", "nom", "geojson"])
    names = dict(con.execute("SELECT code_insee, nom FROM commune WHERE code_insee IN (SELECT unnest(?::VARCHAR[]))",
                             [df["code"].tolist()]).fetchall())
    df["nom"] = [names.get(c) or n or c for c, n in zip(df["code"].tolist(), df["nom"].tolist(), strict=True)]
    return df.rename(columns={"code": "code_insee"})[["code_insee", "nom", "geojson"]]


@dataclass
class Territoire:
    """What a map of some quartiers needs: their contours, their communes' outlines, what has no contour."""

    qpv: pd.DataFrame        # code_qpv, geojson, bbox of the quartiers that have a contour
    communes: pd.DataFrame   # code_insee, nom, geojson of the communes they lie in
    manquants: pd.DataFrame  # code_qpv, nom_qpv of the quartiers without a contour
    bbox: tuple[float, float, float, float] | None  # lon/lat box framing the quartiers (or their communes)
    departements: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["code", "nom", "geojson"]))


def communes_of(con: duckdb.DuckDBPyConnection, qpv_codes: list[str] | tuple[str, ...]) -> list[str]:
    """INSEE codes of the communes the quartiers lie in."""
    codes = sorted(set(qpv_codes))
    if not codes:
        return []
    return [r[0] for r in con.execute(
        "SELECT DISTINCT code_insee FROM qpv_commune WHERE code_qpv IN (SELECT unnest(?::VARCHAR[])) ORDER BY 1",
        [codes]).fetchall()]


def territoire(con: duckdb.DuckDBPyConnection, qpv_codes: list[str] | tuple[str, ...]) -> Territoire:
    """The contours of the quartiers `qpv_codes` and of their communes, and the quartiers without a contour."""
    codes = sorted({c for c in qpv_codes if c})
    qpv = qpv_contours(con, codes)
    communes = commune_contours(con, communes_of(con, codes))
    drawn = set(qpv["code_qpv"].tolist())
    missing = [c for c in codes if c not in drawn]
    names = {}
    if missing:
        names = dict(con.execute("SELECT code_qpv, nom_qpv FROM qpv WHERE code_qpv IN (SELECT unnest(?::VARCHAR[]))",
                                 [missing]).fetchall())
    manquants = pd.DataFrame({"code_qpv": missing, "nom_qpv": [names.get(c, c) for c in missing]})
    if not qpv.empty:
        bbox = (float(qpv["xmin"].min()), float(qpv["ymin"].min()), float(qpv["xmax"].max()),
                float(qpv["ymax"].max()))
    elif not communes.empty:  # the communes' stored boxes (parsing their outlines took 70 ms for France)
        row = con.execute("SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM contour WHERE niveau = 'commune' "
                          "AND code IN (SELECT unnest(?::VARCHAR[]))", [list(communes["code_insee"])]).fetchone()
        bbox = tuple(float(v) for v in row) if row and row[0] is not None else None  # type: ignore[assignment]
    else:
        bbox = None
    return Territoire(qpv, communes, manquants, bbox, departements_around(con, bbox))


# A map wider than this (degrees of longitude or latitude) shows the départements as landmarks.
WIDE = 1.5


def departements_around(con: duckdb.DuckDBPyConnection, bbox) -> pd.DataFrame:
    """Outlines of the départements a wide map spans (none for a map of one city or agglomeration)."""
    if bbox is None or max(bbox[2] - bbox[0], bbox[3] - bbox[1]) < WIDE:
        return pd.DataFrame(columns=["code", "nom", "geojson"])
    x0, y0, x1, y1 = bbox
    return con.execute(
        "SELECT code, nom, geojson FROM contour WHERE niveau = 'departement' AND xmax >= ? AND xmin <= ? "
        "AND ymax >= ? AND ymin <= ? ORDER BY code", [x0, x1, y0, y1]).df()


def _dots_layer(layers: list, contours: pd.DataFrame) -> pdk.Layer:
    """A dot on each quartier (same colour, same tooltip), so that quartiers stay visible at national scale."""
    qpv = next(lay for lay in layers if lay.id == "qpv")
    boxes = dict(zip(contours["code_qpv"].tolist(), zip(contours["xmin"].tolist(), contours["ymin"].tolist(),
                                                        contours["xmax"].tolist(), contours["ymax"].tolist(),
                                                        strict=True), strict=True))
    dots = []
    for f in qpv.data["features"]:
        x0, y0, x1, y1 = boxes[f["properties"]["code_qpv"]]
        dots.append({"position": [(x0 + x1) / 2, (y0 + y1) / 2], **f["properties"]})
    return pdk.Layer("ScatterplotLayer", dots, id="qpv_points", get_position="position", get_fill_color="couleur",
                     get_line_color=[20, 20, 20], stroked=True, line_width_min_pixels=1, radius_min_pixels=5,
                     radius_max_pixels=9, get_radius=300, pickable=True)


def _outlines_layer(df: pd.DataFrame, layer_id: str, etiquette: str, fill: list[int], line: list[int],
                    width: float) -> pdk.Layer:
    """Outlines of named areas (communes, départements) under the quartiers: not pickable, named in tooltips."""
    features = [{"type": "Feature", "geometry": Brut(geojson),
                 "properties": {"nom": _h(nom), "code_qpv": "", "valeur": "", "etiquette": etiquette}}
                for nom, geojson in zip(df["nom"].tolist(), df["geojson"].tolist(), strict=True)]
    return pdk.Layer(
        "GeoJsonLayer", {"type": "FeatureCollection", "features": features}, id=layer_id,
        stroked=True, filled=True, get_fill_color=fill, get_line_color=line, line_width_min_pixels=width,
        pickable=False)


def departements_layer(departements: pd.DataFrame) -> pdk.Layer:
    """Thin outlines of départements (landmarks of a map at national scale)."""
    return _outlines_layer(departements, "departements", "Département", [250, 250, 250, 40], [150, 150, 150], 0.8)


def message_manquants(manquants: pd.DataFrame, total: int) -> str | None:
    """The sentence naming the quartiers the map cannot draw (None when every quartier has its contour)."""
    if manquants is None or manquants.empty:
        return None
    n = len(manquants)
    shown = ", ".join(f"{nom} ({code})" for code, nom in
                      zip(manquants["code_qpv"].head(12), manquants["nom_qpv"].head(12), strict=True))
    more = f" et {fmt.compte(n - 12, 'autre')}" if n > 12 else ""
    if n == total:
        head = (f"Aucun des {n} quartiers n'a de contour : la carte ne montre que leurs communes"
                if n > 1 else "Ce quartier n'a pas de contour : la carte ne montre que sa commune")
    else:
        head = f"Sans contour sur la carte ({n} sur {total})"
    return (f"{head} : {shown}{more}. Importez leurs contours (GeoJSON ou Shapefile zippé, page Import) pour "
            "les dessiner.")


def view_for(bbox: tuple[float, float, float, float]) -> pdk.ViewState:
    """A view framing the lon/lat box `bbox` in about 800 x 500 px."""
    x0, y0, x1, y1 = bbox
    # At zoom z the world is 256 * 2**z px wide (latitude stretched ~1.5).
    zx = math.log2(800 * 360 / (256 * max(x1 - x0, 0.005)))
    zy = math.log2(500 * 360 / (256 * max((y1 - y0) * 1.5, 0.005)))
    zoom = max(3.0, min(14.0, min(zx, zy) - 1.5))
    return pdk.ViewState(longitude=(x0 + x1) / 2, latitude=(y0 + y1) / 2, zoom=zoom, pitch=0)


def communes_layer(communes: pd.DataFrame) -> pdk.Layer:
    """Grey outlines of communes."""
    return _outlines_layer(communes, "communes", "Commune", [245, 245, 245, 60], [90, 90, 90], 1)


@dataclass
class Carte:
    """A map of quartiers ready to draw: the deck (None when nothing at all can be drawn), its legend and
    the sentence naming the quartiers without a contour."""

    deck: pdk.Deck | DeckJson | None
    legend: Legend | None
    message: str | None
    manquants: pd.DataFrame


def carte_quartiers(con: duckdb.DuckDBPyConnection, values: pd.DataFrame, value_col: str, value_label: str,
                    formatter, height: int = 560, selected: str | None = None) -> Carte:
    """The map of the quartiers of `values` (`code_qpv`, `nom_qpv`, `value_col`), framed on them, with only
    their contours and their communes'; the quartiers without a contour are named, the map stays a map."""
    return carte_territoire(territoire(con, tuple(values["code_qpv"].tolist())), values, value_col, value_label,
                            formatter, height, selected)


def carte_territoire(terr: Territoire, values: pd.DataFrame, value_col: str, value_label: str, formatter,
                     height: int = 560, selected: str | None = None) -> Carte:
    """`carte_quartiers` from an already read `territoire(con, codes)` (which pages cache)."""
    message = message_manquants(terr.manquants, len(set(values["code_qpv"].tolist())))
    built = qpv_map(terr.qpv, values, value_col, value_label, formatter, communes=terr.communes, height=height)
    if built is not None:
        deck, legend = built
        if not terr.departements.empty:  # national scale: départements as landmarks, quartiers as dots too
            deck.layers.insert(0, departements_layer(terr.departements))
            deck.layers.append(_dots_layer(deck.layers, terr.qpv))
        if selected:
            mark = highlight_layer(terr.qpv, selected)
            if mark is not None:
                deck.layers.append(mark)
        return Carte(deck, legend, message, terr.manquants)
    if terr.bbox is None:
        return Carte(None, None, message, terr.manquants)
    layers = [departements_layer(terr.departements)] if not terr.departements.empty else []
    deck = Deck(layers=[*layers, communes_layer(terr.communes)], initial_view_state=view_for(terr.bbox),
                map_provider="carto", map_style="light",
                tooltip={"html": "<b>{nom}</b>", "style": {"fontSize": "16px", "backgroundColor": "#161616",
                                                           "color": "white"}},
                height=height)
    return Carte(deck, None, message, terr.manquants)


def figee(carte: Carte) -> Carte:
    """The same map with its deck serialised once (`DeckJson`): what a page caches and draws at every rerun."""
    if isinstance(carte.deck, Deck):
        return Carte(carte.deck.figee(), carte.legend, carte.message, carte.manquants)
    return carte
