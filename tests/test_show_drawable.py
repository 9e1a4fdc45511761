"""A chart is handed to Streamlit with its tables already in Arrow, made once per cached spec: Streamlit sends the
same rows and the same spec as it would have made of the spec itself, and the cached spec is never changed."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pyarrow as pa
from streamlit.elements.vega_charts import _marshall_chart_data
from streamlit.proto.VegaLiteChart_pb2 import VegaLiteChart

from cdv_core import charts
from ui import show


def _sent(spec: dict) -> tuple[list, str]:
    """What Streamlit puts in its message for a spec: the datasets (name, Arrow bytes) and the rest of the spec."""
    proto = VegaLiteChart()
    spec = dict(spec)
    _marshall_chart_data(proto, spec)
    return [(d.name, d.data.data) for d in proto.datasets], json.dumps(spec, sort_keys=True)


def _rows(sent: tuple[list, str]) -> tuple[list, str]:
    """The same, each dataset read back from its Arrow bytes as rows (what the browser reads)."""
    datasets, rest = sent
    return [(name, pa.ipc.open_stream(data).read_all().to_pylist()) for name, data in datasets], rest


def _spec() -> dict:
    df = pd.DataFrame({"libelle": ["Été", "Hiver", None], "montant_accorde": [1.5, None, 3.0], "annee": [2022, 2023, 2024]})
    return charts.spec(charts.horizontal_bars(df.dropna(subset=["libelle"]), "libelle", "montant_accorde"))


def test_streamlit_sends_what_it_would_have_made_of_the_spec():
    spec = _spec()
    kept = copy.deepcopy(spec)
    drawn = show.drawable(spec, None, "Titre")
    ours, theirs = _rows(_sent(drawn)), _rows(_sent({**spec, "description": "Titre"}))
    assert ours == theirs
    assert [rows for _name, rows in ours[0]] == list(spec["datasets"].values())  # the spec's rows, None kept
    assert all(isinstance(v, bytes) for v in drawn["datasets"].values())
    assert spec == kept  # the cached spec is untouched


def test_made_once_per_spec_height_and_description():
    spec = _spec()
    first = show.drawable(spec, None, "Titre")
    assert show.drawable(spec, None, "Titre") is first
    taller = show.drawable(spec, 500, "Titre")
    assert taller is not first and taller["height"] == 500 and first["height"] == spec["height"]
    assert show.drawable(spec, None, "Autre titre")["description"] == "Autre titre"
    other = _spec()  # an equal spec, another object (another cached section): not mistaken for the first
    assert show.drawable(other, None, "Titre") is not first


def test_missing_values_stay_missing_and_columns_keep_their_type():
    rows = [{"libelle": "Été", "montant": 1.5, "annee": 2022, "ok": True},
            {"libelle": None, "montant": None, "annee": 2023, "ok": None}]
    table = pa.ipc.open_stream(show._arrow(rows)).read_all()
    assert table.to_pylist() == rows
    assert [str(t) for t in table.schema.types] == ["string", "double", "int64", "bool"]


def test_a_column_mixing_text_and_numbers_goes_streamlits_way():
    from streamlit import dataframe_util

    rows = [{"code": 1, "libelle": "a"}, {"code": "2A", "libelle": "b"}]
    assert show._arrow(rows) == dataframe_util.convert_anything_to_arrow_bytes(rows)


def test_geojson_is_left_in_the_spec():
    rows = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.3, 48.8]}, "properties": {}}]
    drawn = show.drawable({"mark": "geoshape", "datasets": {"geo": rows}}, None, "Carte")
    assert drawn["datasets"]["geo"] == rows


def test_the_cache_forgets_the_oldest(monkeypatch):
    monkeypatch.setattr(show, "DRAWABLE_MAX", 3)
    specs = [_spec() for _ in range(5)]
    for s in specs:
        show.drawable(s, None, "t")
    assert len(show._DRAWABLE) == 3
    assert all(v[0] is not specs[0] for v in show._DRAWABLE.values())
