"""Reading a Vega-Lite spec as the browser draws it, for tests: the order of an axis, and what makes Streamlit's
browser side draw a chart anew."""

from __future__ import annotations

import json
import re


def encoding(spec: dict, layer: int = 0) -> dict:
    """Encoding of one layer of a spec, with what the layers share."""
    layers = spec.get("layer", [spec])
    return {**spec.get("encoding", {}), **layers[layer].get("encoding", {})}


def axis_order(spec: dict, layer: int = 0, channel: str = "y") -> list:
    """The labels of an axis in the order the chart draws them: its explicit list, or the order of the field it
    sorts by (min per label, ascending, as Vega-Lite reads {"field", "op": "min"}) in the chart's data."""
    sort = encoding(spec, layer)[channel]["sort"]
    if isinstance(sort, list):
        return sort
    assert sort.get("op") == "min" and sort.get("order", "ascending") == "ascending", sort
    label = encoding(spec, layer)[channel]["field"]
    rows = spec["datasets"][spec["data"]["name"]]
    first: dict = {}
    for r in rows:
        first[r[label]] = min(first.get(r[label], r[sort["field"]]), r[sort["field"]])
    return sorted(first, key=first.__getitem__)


def drawn_again_key(spec: dict) -> str:
    """What the browser compares to decide whether to draw a chart anew: the spec without its data (data sets are
    matched by position, not by their content-derived names)."""
    rest = {k: v for k, v in spec.items() if k not in ("datasets", "width")}
    return re.sub(r'"data-[0-9a-f]{32}"', '"D"', json.dumps(rest, sort_keys=True))
