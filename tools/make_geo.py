"""Build the national contours shipped in data/geo/ from the shared reference folder (standard library only).

- `qpv2024_france.geojson`: the 1 584 QPV 2024 (properties `code_qpv`, `nom_qpv`), coordinates as in the source
  (4 decimals), consecutive duplicate points dropped.
- `communes_qpv2024_france.geojson`: the communes hosting a QPV 2024 (`code_insee`, `nom`), rounded to 4
  decimals (about 10 m), consecutive duplicate points dropped.
- `departements_france.geojson`: the départements (`code`, `nom`), simplified (Douglas-Peucker, 0.003°, about
  300 m) and rounded to 3 decimals: they are only the background of a map.

Deterministic: re-running it gives the same files.  Usage: python tools/make_geo.py [SOURCE_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent.parent / "shared" / "data" / "reference" / "geo"
OUT = ROOT / "data" / "geo"


def _dp(points: list[list[float]], tol: float) -> list[list[float]]:
    """Douglas-Peucker simplification of a polyline (iterative)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (x1, y1), (x2, y2) = points[a][:2], points[b][:2]
        dx, dy = x2 - x1, y2 - y1
        norm = (dx * dx + dy * dy) ** 0.5
        best, index = -1.0, -1
        for i in range(a + 1, b):
            x, y = points[i][:2]
            d = abs(dy * x - dx * y + x2 * y1 - y2 * x1) / norm if norm else ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
            if d > best:
                best, index = d, i
        if best > tol:
            keep[index] = True
            stack.extend([(a, index), (index, b)])
    return [p for p, k in zip(points, keep, strict=True) if k]


def _ring(ring: list, digits: int, tol: float) -> list | None:
    pts = _dp(ring, tol) if tol else ring
    out: list[list[float]] = []
    for p in pts:
        q = [round(p[0], digits), round(p[1], digits)]
        if not out or out[-1] != q:
            out.append(q)
    if out[0] != out[-1]:
        out.append(out[0])
    return out if len(out) >= 4 else None


def _geometry(geom: dict, digits: int, tol: float) -> dict | None:
    polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
    out = []
    for poly in polys:
        rings = [_ring(r, digits, tol) for r in poly]
        if rings[0] is None:
            continue
        out.append([rings[0], *[r for r in rings[1:] if r is not None]])
    if not out:
        return None
    return {"type": "MultiPolygon", "coordinates": out}


def build(name: str, out_name: str, props: tuple[str, ...], digits: int, tol: float) -> None:
    src = json.loads((SOURCE / name).read_text(encoding="utf-8"))
    features = []
    for f in src["features"]:
        geom = _geometry(f["geometry"], digits, tol) if f.get("geometry") else None
        if geom is None:
            continue
        features.append({"type": "Feature", "properties": {p: f["properties"].get(p) for p in props},
                         "geometry": geom})
    features.sort(key=lambda f: str(f["properties"][props[0]]))
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                      separators=(",", ":"))
    (OUT / out_name).write_text(text + "\n", encoding="utf-8")
    print(f"{out_name}: {len(features)} contours, {len(text) / 1e6:.1f} Mo")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    build("qpv2024_france.geojson", "qpv2024_france.geojson", ("code_qpv", "nom_qpv"), 4, 0)
    build("communes_qpv2024_france.geojson", "communes_qpv2024_france.geojson", ("code_insee", "nom"), 4, 0)
    build("departements_france.geojson", "departements_france.geojson", ("code", "nom"), 3, 0.003)


if __name__ == "__main__":
    main()
