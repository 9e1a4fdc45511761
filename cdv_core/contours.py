"""Contours files (FORMATS §5 and §8): GeoJSON (WGS84 or any projection pyproj knows, e.g. Lambert-93
EPSG:2154) or a zipped Shapefile, for QPV of either geography or for communes.

`read` turns the bytes into rows of the `contour` table (GeoJSON text in WGS84, coordinates rounded to
5 decimals, bounding box) and the list of what is wrong; the importer writes them through its journal.
A file with any error writes nothing.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdv_core import fmt
from cdv_core.reading import normalize_name

# Property names (compared ignoring case, accents, `_`, `-`) carrying the code of each level.
CODE_PROPERTIES = {
    "qpv": ("code_qpv", "CODE_QP", "code_quartier", "code_qp", "codeqpv", "cod_qp"),
    "commune": ("code_insee", "INSEE_COM", "insee_com", "codgeo", "code_commune"),
}
NAME_PROPERTIES = ("nom_qpv", "NOM_QP", "lib_qp", "nom_quartier", "nom", "NOM_COM", "libgeo", "libelle")

MAX_BYTES = 60_000_000          # a file (or the unzipped Shapefile) larger than this is refused
MAX_FEATURES = 20_000
MAX_POINTS = 8_000_000
DIGITS = 5                      # about 1 m: plenty for a map

COLUMNS = ["niveau", "code", "nom", "geojson", "xmin", "ymin", "xmax", "ymax", "source"]
QPV_2015 = re.compile(r"^QP\d{6}$")
QPV_2024 = re.compile(r"^QN(\d{3}|02[AB])\d{2}[A-Z]$")


@dataclass
class Problem:
    """One thing wrong (or worth saying) in a contours file."""

    where: str | None       # "entité n° 3" or None for the whole file
    column: str | None
    value: str | None
    message: str
    fix: str = ""
    warning: bool = False


@dataclass
class Result:
    """What `read` found: rows for the `contour` table, problems, and a sentence saying what was read."""

    rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COLUMNS))
    problems: list[Problem] = field(default_factory=list)
    niveau: str | None = None
    n_features: int = 0
    resume: str = ""

    @property
    def ok(self) -> bool:
        return not any(not p.warning for p in self.problems)


# --------------------------------------------------------------------------- detection


def looks_like_contours(data: bytes, file_name: str) -> bool:
    """Whether the bytes are a GeoJSON document or a zip holding a Shapefile."""
    suffix = Path(file_name).suffix.lower()
    if suffix in (".geojson", ".json"):
        return True
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return any(n.lower().endswith(".shp") for n in z.namelist())
        except zipfile.BadZipFile:
            return False
    head = data[:2000].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and b'"type"' in head and (b"Feature" in head or b"features" in head)


# --------------------------------------------------------------------------- geometry helpers


def _rings(geom: dict) -> list[list]:
    if geom["type"] == "Polygon":
        return list(geom["coordinates"])
    return [r for poly in geom["coordinates"] for r in poly]


def bbox(geom: dict) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of a Polygon or MultiPolygon."""
    xs = [p[0] for r in _rings(geom) for p in r]
    ys = [p[1] for r in _rings(geom) for p in r]
    return min(xs), min(ys), max(xs), max(ys)


def _check_geometry(geom) -> str | None:
    """Why the geometry cannot be drawn, or None when it is a valid (Multi)Polygon."""
    if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
        kind = geom.get("type") if isinstance(geom, dict) else None
        return f"géométrie de type « {kind or 'absente'} » : un contour est un polygone (Polygon ou MultiPolygon)"
    coords = geom.get("coordinates")
    polys = [coords] if geom["type"] == "Polygon" else coords
    if not isinstance(polys, list) or not polys:
        return "géométrie vide"
    for poly in polys:
        if not isinstance(poly, list) or not poly:
            return "polygone vide"
        for ring in poly:
            if not isinstance(ring, list) or len(ring) < 4:
                return "anneau de moins de 4 points"
            for p in ring:
                if (not isinstance(p, (list, tuple)) or len(p) < 2
                        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                                   for v in p[:2])):
                    return f"coordonnée illisible ({str(p)[:40]})"
            if list(ring[0][:2]) != list(ring[-1][:2]):
                return "anneau non fermé (le dernier point doit répéter le premier)"
    return None


def _map_coords(geom: dict, fn) -> dict:
    polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    out = []
    for poly in polys:
        rings = []
        for ring in poly:
            xs, ys = fn([p[0] for p in ring], [p[1] for p in ring])
            rings.append([[round(float(x), DIGITS), round(float(y), DIGITS)] for x, y in zip(xs, ys, strict=True)])
        out.append(rings)
    return {"type": "MultiPolygon", "coordinates": out}


def _in_wgs84(box) -> bool:
    return -180 <= box[0] <= 180 and -180 <= box[2] <= 180 and -90 <= box[1] <= 90 and -90 <= box[3] <= 90


def _in_lambert93(box) -> bool:
    return -400_000 <= box[0] <= 1_500_000 and 5_900_000 <= box[1] <= 7_300_000


# --------------------------------------------------------------------------- reading the formats


def _crs_of_geojson(doc: dict) -> str | None:
    crs = doc.get("crs")
    if not isinstance(crs, dict):
        return None
    props = crs.get("properties") or {}
    return props.get("name") or props.get("code") or (str(props) if props else None)


def _read_geojson(data: bytes) -> tuple[list[dict], str | None]:
    text = data.decode("utf-8-sig")
    doc = json.loads(text)
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        return [doc], _crs_of_geojson(doc)
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise ValueError("ce document JSON n'est pas une collection d'entités GeoJSON (FeatureCollection)")
    return doc["features"], _crs_of_geojson(doc)


def _read_shapefile(data: bytes) -> tuple[list[dict], str | None]:
    import shapefile  # pyshp

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
        if sum(i.file_size for i in infos) > MAX_BYTES:
            raise ValueError(f"le Shapefile décompressé dépasse {MAX_BYTES // 1_000_000} Mo")
        by_ext: dict[str, list[str]] = {}
        for info in infos:
            name = info.filename
            if name.startswith("__MACOSX/"):
                continue
            by_ext.setdefault(Path(name).suffix.lower(), []).append(name)
        shps = by_ext.get(".shp", [])
        if len(shps) != 1:
            raise ValueError(f"l'archive contient {len(shps)} fichiers .shp : il en faut un seul")
        stem = shps[0][:-4]

        def part(ext: str) -> bytes | None:
            for name in by_ext.get(ext, []):
                if name[:-len(ext)].lower() == stem.lower():
                    return z.read(name)
            return None

        dbf, shx, prj, cpg = part(".dbf"), part(".shx"), part(".prj"), part(".cpg")
        if dbf is None:
            raise ValueError("l'archive n'a pas le fichier .dbf (les attributs, dont le code du quartier)")
        encoding = (cpg.decode("ascii", "ignore").strip() or "utf-8") if cpg else "utf-8"
        if encoding.upper() in ("1252", "ANSI 1252"):
            encoding = "cp1252"
        reader = shapefile.Reader(shp=io.BytesIO(z.read(shps[0])), dbf=io.BytesIO(dbf),
                                  shx=io.BytesIO(shx) if shx else None, encoding=encoding,
                                  encodingErrors="replace")
        features = []
        for sr in reader.iterShapeRecords():
            geom = sr.shape.__geo_interface__ if sr.shape.shapeType != shapefile.NULL else None
            features.append({"type": "Feature", "properties": sr.record.as_dict(), "geometry": geom})
        return features, prj.decode("utf-8", "ignore") if prj else None


def _transformer(crs_text: str | None, boxes: list[tuple]) -> tuple[object | None, str | None, str | None]:
    """(function lon/lat from x/y or None for WGS84, label of the projection read, error)."""
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    if crs_text:
        try:
            crs = CRS.from_user_input(crs_text)
        except CRSError:
            return None, None, f"projection « {crs_text[:80]} » inconnue"
        if crs.is_geographic and crs.to_epsg() in (4326, 4171, 4258, None) and all(_in_wgs84(b) for b in boxes):
            return None, "WGS84 (longitude, latitude)", None
        try:
            t = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        except CRSError:
            return None, None, f"projection « {crs.name} » impossible à convertir en WGS84"
        epsg = crs.to_epsg()
        return t.transform, f"{crs.name}" + (f" (EPSG:{epsg})" if epsg else ""), None
    if all(_in_wgs84(b) for b in boxes):
        return None, "WGS84 (longitude, latitude)", None
    if all(_in_lambert93(b) for b in boxes):
        t = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
        return t.transform, "Lambert-93 (EPSG:2154), reconnue d'après les coordonnées", None
    return None, None, ("projection inconnue : le fichier ne la déclare pas et ses coordonnées ne sont ni des "
                        "longitudes/latitudes (WGS84) ni du Lambert-93")


def _code_property(features: list[dict]) -> tuple[str | None, str | None]:
    """(niveau, property name) of the first recognised code property, looking at every feature's keys."""
    keys: list[str] = []
    for f in features:
        for k in (f.get("properties") or {}):
            if k not in keys:
                keys.append(k)
    for niveau, names in CODE_PROPERTIES.items():
        wanted = {normalize_name(n) for n in names}
        for k in keys:
            if normalize_name(k) in wanted:
                return niveau, k
    return None, None


def _name_property(features: list[dict]) -> str | None:
    wanted = [normalize_name(n) for n in NAME_PROPERTIES]
    keys = {normalize_name(k): k for f in features[:50] for k in (f.get("properties") or {})}
    for w in wanted:
        if w in keys:
            return keys[w]
    return None


def read(data: bytes, file_name: str, known_qpv: set[str], known_communes: set[str]) -> Result:
    """Check a contours file whole and return the rows to write (nothing when any error is found)."""
    res = Result()

    def error(message: str, fix: str = "", where=None, column=None, value=None) -> None:
        res.problems.append(Problem(where, column, value, message, fix))

    if len(data) > MAX_BYTES:
        error(f"Fichier de contours trop gros ({len(data) / 1e6:.0f} Mo, au plus {MAX_BYTES // 1_000_000} Mo).",
              "Simplifiez les géométries ou découpez le fichier (un département par fichier).")
        return res
    try:
        if data[:4] == b"PK\x03\x04":
            features, crs_text = _read_shapefile(data)
        else:
            features, crs_text = _read_geojson(data)
    except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, RecursionError) as exc:
        message = str(exc) if isinstance(exc, ValueError) and not isinstance(exc, json.JSONDecodeError) \
            else "fichier illisible"
        error(f"Contours illisibles : {message}.",
              "Fournissez un GeoJSON (FeatureCollection) ou un Shapefile zippé (.shp, .shx, .dbf, .prj).")
        return res
    except Exception as exc:  # noqa: BLE001 - pyshp raises its own errors on broken files
        error(f"Shapefile illisible ({type(exc).__name__}).",
              "Ré-exportez la couche en Shapefile depuis votre logiciel SIG, ou en GeoJSON.")
        return res
    res.n_features = len(features)
    if not features:
        error("Le fichier ne contient aucun contour.", "Vérifiez l'export de la couche.")
        return res
    if len(features) > MAX_FEATURES:
        error(f"Trop de contours ({len(features)}, au plus {MAX_FEATURES}).", "Découpez le fichier.")
        return res
    niveau, prop = _code_property(features)
    if niveau is None:
        keys = sorted({k for f in features for k in (f.get("properties") or {})})
        error("Aucune propriété ne donne le code du quartier ou de la commune (propriétés lues : "
              f"{', '.join(keys[:15]) or 'aucune'}).",
              "Nommez-la code_qpv (ou CODE_QP, code_quartier) pour des quartiers, code_insee (ou INSEE_COM) "
              "pour des communes.")
        return res
    res.niveau = niveau
    name_prop = _name_property(features)
    known = known_qpv if niveau == "qpv" else known_communes
    total_points = 0
    good: list[tuple[int, str, str | None, dict]] = []
    seen: dict[str, int] = {}
    for i, f in enumerate(features, start=1):
        where = f"entité n° {i}"
        props = f.get("properties") or {}
        raw = props.get(prop)
        code = str(raw).strip().upper() if raw is not None else ""
        if niveau == "commune" and code.isdigit():
            code = code.zfill(5)
        if not code:
            error(f"Contour sans code ({prop} vide).", "Renseignez le code de chaque entité.", where, prop, "")
            continue
        if code not in known:
            if niveau == "qpv":
                shape = "n'est pas un code QPV (QPdddnnn ou QNdddnnX)" if not (
                    QPV_2015.match(code) or QPV_2024.match(code)) else "n'est pas un QPV connu du référentiel"
            else:
                shape = "n'est pas une commune connue (code INSEE)"
            error(f"« {code} » {shape}.", "Importez d'abord le référentiel des quartiers, ou corrigez le code.",
                  where, prop, code)
            continue
        why = _check_geometry(f.get("geometry"))
        if why:
            error(f"Géométrie inutilisable pour {code} : {why}.",
                  "Corrigez la géométrie dans votre logiciel SIG (outil « réparer les géométries »).",
                  where, prop, code)
            continue
        total_points += sum(len(r) for r in _rings(f["geometry"]))
        if total_points > MAX_POINTS:
            error(f"Géométries trop détaillées (plus de {MAX_POINTS:,} points).".replace(",", " "),
                  "Simplifiez les géométries avant l'import.")
            return res
        if code in seen:
            res.problems.append(Problem(where, prop, code, f"{code} a plusieurs entités (dont l'entité n° "
                                        f"{seen[code]}) : elles forment un seul contour.", warning=True))
        else:
            seen[code] = i
        name = props.get(name_prop) if name_prop else None
        good.append((i, code, str(name).strip() if name not in (None, "") else None, f["geometry"]))
    if not res.ok:
        return res
    boxes = [bbox(g) for _, _, _, g in good]
    fn, crs_label, crs_error = _transformer(crs_text, boxes)
    if crs_error:
        error(f"Contours non importés : {crs_error}.",
              "Exportez la couche en WGS84 (EPSG:4326) ou en Lambert-93 (EPSG:2154) avec son fichier .prj.")
        return res
    merged: dict[str, dict] = {}
    for i, code, name, geom in good:
        out = _map_coords(geom, fn) if fn else _map_coords(geom, lambda xs, ys: (xs, ys))
        box = bbox(out)
        if not _in_wgs84(box):
            error(f"Contour de {code} hors des coordonnées terrestres après conversion ({crs_label}).",
                  "Vérifiez la projection déclarée.", f"entité n° {i}", prop, code)
            continue
        if code in merged:
            merged[code]["geom"]["coordinates"].extend(out["coordinates"])
        else:
            merged[code] = {"nom": name, "geom": out}
    if not res.ok:
        return res
    rows = []
    for code, item in merged.items():
        x0, y0, x1, y1 = bbox(item["geom"])
        rows.append({"niveau": niveau, "code": code, "nom": item["nom"],
                     "geojson": json.dumps(item["geom"], separators=(",", ":")),
                     "xmin": x0, "ymin": y0, "xmax": x1, "ymax": y1, "source": Path(file_name).name})
    res.rows = pd.DataFrame(rows, columns=COLUMNS)
    what = "quartier" if niveau == "qpv" else "commune"
    res.resume = (fmt.compte(len(rows), f"contour de {what} lu", f"contours de {what}s lus") + f" ({crs_label}"
                  + (f", {fmt.accord(len(rows), 'converti')} en WGS84" if fn else "") + ").")
    return res


def shipped_frame(path: Path, niveau: str, key: str, name_key: str | None, source: str) -> pd.DataFrame:
    """Rows of the `contour` table from a shipped GeoJSON file (WGS84, already valid)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for f in doc["features"]:
        code = (f.get("properties") or {}).get(key)
        geom = f.get("geometry")
        if not code or not geom:
            continue
        x0, y0, x1, y1 = bbox(geom)
        rows.append((niveau, str(code), f["properties"].get(name_key) if name_key else None,
                     json.dumps(geom, separators=(",", ":")), x0, y0, x1, y1, source))
    return pd.DataFrame(rows, columns=COLUMNS)
