"""Vega-Lite specifications written directly as plain dicts, through the few Altair calls the chart builders use.

`from cdv_core import vl as alt` gives a builder the names it used with Altair (`alt.Chart(df).mark_bar()
.encode(x=alt.X("annee:O", axis=alt.Axis(...)))`, `alt.layer`, `alt.condition`, …) and the same specification
in the end, without Altair's schema objects: Altair builds a tree of validated objects per chart, then copies and
walks it to write the dict (about 15 ms a chart, a sixth of a Financeurs filter change at national scale); here
the dict is the chart. `tests/test_vl.py` builds every chart of the demo both ways and compares the specs; a test
calling `.to_dict()` validates the spec against Vega-Lite's JSON schema, as Altair would.

Only what the builders use is here: marks, encodings from shorthands ("sum(montant):Q"), conditions, one point
selection, layers (`alt.layer`, `+`), `transform_calculate`/`transform_filter`, `properties` and the top-level
attributes `_style` sets (height, width, config, usermeta, autosize). Data are DataFrames, written by the data
transformer `cdv_core.charts` registers, and gathered in `datasets` by content, as Altair does.
"""

from __future__ import annotations

import copy as _copy
import hashlib
import json
import re
from collections.abc import Callable
from functools import partialmethod
from typing import Any

# The specification's version: Altair's (tests/test_vl.py checks they are the same).
SCHEMA_URL = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
# Altair's default theme, merged under each chart's own config.
THEME_CONFIG: dict[str, Any] = {"view": {"continuousWidth": 300, "continuousHeight": 300}}
TYPES = {"N": "nominal", "O": "ordinal", "Q": "quantitative", "T": "temporal", "G": "geojson"}
_AGGREGATE = re.compile(r"^(\w+)\((.*)\)$")

# How a DataFrame becomes {"values": [...]}: set by `cdv_core.charts` (its fast, Altair-identical transformer).
data_transformer: Callable[[Any], dict] | None = None


def shorthand(text: str) -> dict[str, Any]:
    """`"sum(montant_accorde):Q"` → {"aggregate": "sum", "field": "montant_accorde", "type": "quantitative"}."""
    out: dict[str, Any] = {}
    field, _, kind = text.rpartition(":") if ":" in text else (text, "", "")
    if kind and kind not in TYPES:  # a colon inside the field's name, no type
        field, kind = text, ""
    match = _AGGREGATE.match(field)
    if match and match.group(1) == "count" and not match.group(2):
        out["aggregate"] = "count"
        out["type"] = TYPES[kind] if kind else "quantitative"
        return out
    if match:
        out["aggregate"], field = match.group(1), match.group(2)
    out["field"] = field
    if not kind:
        raise ValueError(f"type de champ manquant dans {text!r} (écrire par exemple {text}:N)")
    out["type"] = TYPES[kind]
    return out


def _channel(text: str | None = None, **kwargs: Any) -> dict[str, Any]:
    out = shorthand(text) if text is not None else {}
    for key, value in kwargs.items():
        out[key] = value.name if isinstance(value, Parameter) else value
    return out


# Encoding channels and the nested objects the builders write: plain dicts with the keywords given.
X = Y = Color = Tooltip = Text = Order = YOffset = X2 = StrokeWidth = _channel


def Axis(**kwargs: Any) -> dict[str, Any]:  # noqa: N802 (Altair's names)
    return dict(kwargs)


Scale = Legend = Bin = OverlayMarkDef = AutoSizeParams = Axis


def Step(step: int) -> dict[str, int]:  # noqa: N802
    return {"step": step}


def Config(**kwargs: Any) -> dict[str, Any]:  # noqa: N802
    return _copy.deepcopy(kwargs)


class Data:
    """Inline values given as they are (GeoJSON features), not a table to convert."""

    def __init__(self, values: list) -> None:
        self.values = values


def value(v: Any) -> dict[str, Any]:
    return {"value": v}


class Parameter:
    """A selection parameter (`selection_point`): its name in conditions, its definition at the top level."""

    def __init__(self, name: str, select: dict[str, Any]) -> None:
        self.name = name
        self.select = select

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "select": dict(self.select)}


def selection_point(name: str, fields: list[str] | None = None, on: str | None = None) -> Parameter:
    select: dict[str, Any] = {"type": "point"}
    if fields is not None:
        select["fields"] = list(fields)
    if on is not None:
        select["on"] = on
    return Parameter(name, select)


def condition(predicate: str | Parameter, if_true: dict[str, Any], if_false: dict[str, Any]) -> dict[str, Any]:
    """`{"condition": {"test": …, "value": …}, "value": …}` (`"param"` for a selection)."""
    test = {"param": predicate.name} if isinstance(predicate, Parameter) else {"test": predicate}
    return {"condition": {**test, **if_true}, **if_false}


# Channels whose definition takes no type (a shorthand's is dropped, as Altair does).
_UNTYPED = ("x2", "y2", "latitude2", "longitude2", "theta2", "radius2", "xError", "yError")
_TOP_LEVEL = ("height", "width", "config", "usermeta", "autosize", "projection")


class _Spec:
    """What a chart and a layer share: data, top-level attributes, `properties`, `+`, `to_dict`."""

    def __init__(self, data: Any = None) -> None:
        self.data = data
        self.top: dict[str, Any] = {}

    def __setattr__(self, name: str, val: Any) -> None:
        if name in _TOP_LEVEL:
            self.top[name] = val
        else:
            object.__setattr__(self, name, val)

    def properties(self, **kwargs: Any) -> Any:
        out = self.copy()
        out.top.update(kwargs)
        return out

    def copy(self) -> Any:
        out = _copy.copy(self)
        object.__setattr__(out, "top", dict(self.top))
        return out

    def __add__(self, other: Chart | LayerChart) -> LayerChart:
        return LayerChart([self, other])

    def project(self, type: str) -> Any:  # noqa: A002 (Altair's keyword)
        return self.properties(projection={"type": type})

    def configure(self, **kwargs: Any) -> Any:
        out = self.copy()
        out.top["config"] = {**out.top.get("config", {}), **_copy.deepcopy(kwargs)}
        return out

    def configure_view(self, **kwargs: Any) -> Any:
        out = self.copy()
        out.top["config"] = {**out.top.get("config", {}), "view": dict(kwargs)}
        return out

    def to_dict(self, validate: bool = True) -> dict[str, Any]:
        """The whole specification: this chart, its datasets, Altair's default theme and the schema URL."""
        datasets: dict[str, list] = {}
        spec = self._body(datasets, top=True)
        config = _merge(THEME_CONFIG, spec.get("config", {}))
        spec["config"] = config
        spec["$schema"] = SCHEMA_URL
        if datasets:
            spec["datasets"] = datasets
        if validate:
            _validate(spec)
        return spec

    def _body(self, datasets: dict[str, list], top: bool = False) -> dict[str, Any]:
        raise NotImplementedError

    def _data(self, out: dict[str, Any], datasets: dict[str, list]) -> None:
        if self.data is None:
            return
        if isinstance(self.data, Data):  # written in place, as Altair does (Streamlit leaves GeoJSON there)
            out["data"] = {"values": self.data.values}
            return
        values = data_transformer(self.data)["values"] if data_transformer else _records(self.data)
        name = _dataset_name(values)
        datasets[name] = values
        out["data"] = {"name": name}


class Chart(_Spec):
    """One mark, its encodings and transforms (`alt.Chart(df).mark_bar(...).encode(...)`)."""

    def __init__(self, data: Any = None) -> None:
        super().__init__(data)
        self.mark: dict[str, Any] | None = None
        self.encoding: dict[str, Any] = {}
        self.transform: list[dict[str, Any]] = []
        self.params: list[Parameter] = []

    def copy(self) -> Chart:
        out = super().copy()
        object.__setattr__(out, "encoding", dict(self.encoding))
        object.__setattr__(out, "transform", list(self.transform))
        object.__setattr__(out, "params", list(self.params))
        return out

    def _mark(self, kind: str, **kwargs: Any) -> Chart:
        out = self.copy()
        out.mark = {"type": kind, **kwargs}
        return out

    mark_bar = partialmethod(_mark, "bar")
    mark_text = partialmethod(_mark, "text")
    mark_line = partialmethod(_mark, "line")
    mark_rule = partialmethod(_mark, "rule")
    mark_rect = partialmethod(_mark, "rect")
    mark_tick = partialmethod(_mark, "tick")
    mark_geoshape = partialmethod(_mark, "geoshape")

    def encode(self, **channels: Any) -> Chart:
        out = self.copy()
        for name, definition in channels.items():
            if isinstance(definition, str):
                definition = shorthand(definition)
                if name in _UNTYPED:
                    definition.pop("type", None)
            elif isinstance(definition, list):
                definition = [shorthand(d) if isinstance(d, str) else d for d in definition]
            out.encoding[name] = definition
        return out

    def transform_calculate(self, **fields: str) -> Chart:
        out = self.copy()
        out.transform.extend({"calculate": expr, "as": name} for name, expr in fields.items())
        return out

    def transform_filter(self, predicate: str) -> Chart:
        out = self.copy()
        out.transform.append({"filter": predicate})
        return out

    def add_params(self, *params: Parameter) -> Chart:
        out = self.copy()
        out.params.extend(params)
        return out

    def _body(self, datasets: dict[str, list], top: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.mark is not None:
            out["mark"] = dict(self.mark)
        if self.encoding:
            out["encoding"] = dict(self.encoding)
        if self.transform:
            out["transform"] = list(self.transform)
        if self.params and top:
            out["params"] = [p.to_dict() for p in self.params]
        self._data(out, datasets)
        out.update(_copy.deepcopy(self.top) if top else self.top)
        return out


class LayerChart(_Spec):
    """Charts drawn on top of each other, sharing the layer's data when they have none of their own."""

    def __init__(self, layers: list[Any], data: Any = None) -> None:
        super().__init__(data)
        self.data, self.layer = _combine_data(data, layers)

    def __add__(self, other: Chart | LayerChart) -> LayerChart:
        """`a + b + c`: one layer of three, as with Altair (the layer's data shared again if it can be)."""
        return LayerChart([*self.layer, other], self.data).properties(**self.top)

    def copy(self) -> LayerChart:
        out = super().copy()
        object.__setattr__(out, "layer", list(self.layer))
        return out

    def _body(self, datasets: dict[str, list], top: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {}
        layers: list[dict[str, Any]] = []
        params: list[dict[str, Any]] = []
        for i, sub in enumerate(self.layer):
            body = sub._body(datasets)
            if isinstance(sub, Chart) and sub.params:
                # As Altair does: a selection made in one layer is declared at the top, naming that layer.
                view = f"view_{i}"
                body["name"] = view
                params.extend({**p.to_dict(), "views": [view]} for p in sub.params)
            layers.append(body)
        out["layer"] = layers
        self._data(out, datasets)
        if params:
            out["params"] = params
        out.update(_copy.deepcopy(self.top) if top else self.top)
        return out


def layer(*charts: Chart | LayerChart, data: Any = None) -> LayerChart:
    """`alt.layer(a, b, data=df)`."""
    return LayerChart(list(charts), data)


def _combine_data(data: Any, subs: list[Any]) -> tuple[Any, list[Any]]:
    """Altair's rule: the layers' data go up to the layer when they all have the very same table (or none, when
    the layer has one); otherwise each layer keeps its own."""
    if subs and data is None:
        first = subs[0].data
        if first is not None and all(c.data is first for c in subs):
            return first, [_without_data(c) for c in subs]
    elif subs and all(c.data is None or c.data is data for c in subs):
        return data, [_without_data(c) for c in subs]
    return data, subs


def _without_data(chart: Any) -> Any:
    if chart.data is None:
        return chart
    out = chart.copy()
    out.data = None
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = _copy.deepcopy(base)
    for key, val in over.items():
        out[key] = _merge(out[key], val) if isinstance(val, dict) and isinstance(out.get(key), dict) else val
    return out


def _records(data: Any) -> list:
    return data.to_dict("records") if hasattr(data, "to_dict") else list(data)


def _dataset_name(values: list) -> str:
    """Altair's name for inline data: a hash of its content."""
    if values == [{}]:
        return "empty"
    text = json.dumps(values, sort_keys=True, default=str)
    return "data-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _validate(spec: dict[str, Any]) -> None:
    """Check the spec against Vega-Lite's JSON schema (the one Altair ships); raises on the first error."""
    from altair.utils.schemapi import validate_jsonschema
    from altair.vegalite.v6.schema import core

    schema = core.load_schema()
    validate_jsonschema(spec, schema, rootschema=schema)
