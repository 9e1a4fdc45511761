"""`cdv_core.vl` writes the Vega-Lite specification Altair would write for the same calls: every chart builder and
every chart of every section of the demo are built twice, once through `vl` and once through Altair itself (the
builders' `alt` swapped for the real module), and the two specifications compared, data included."""

from __future__ import annotations

import json
import re

import altair
import jsonschema
import pandas as pd
import pytest

from cdv_core import charts, schema, sections, survey_charts, vl
from cdv_core.filters import Filtres
from cdv_core.sections import engagements as sections_engagements
from cdv_core.sections import vue_ensemble as sections_vue_ensemble
from tests.test_palette import _builders

BUILDER_MODULES = (charts, survey_charts, sections_engagements, sections_vue_ensemble)


def canonical(spec: dict) -> str:
    """The spec as sorted JSON, layer names numbered in order of appearance (Altair names them with a hash)."""
    text = json.dumps(spec, sort_keys=True, ensure_ascii=False)
    names: dict[str, str] = {}
    return re.sub(r'"view_[0-9a-f]+(?:_\d+)?"', lambda m: names.setdefault(m.group(0), f'"vue-{len(names)}"'), text)


@pytest.fixture
def through_altair(monkeypatch):
    """Make the builders call Altair itself for the rest of the test, its tables written by the data transformer
    the app registered with Altair until now (`charts._values`, checked against Altair's own in
    tests/test_charts_data.py; Altair's leaves NaN, not valid JSON, in some text columns)."""

    def swap():
        for module in BUILDER_MODULES:
            monkeypatch.setattr(module, "alt", altair)
        altair.data_transformers.register("cdv", charts._values)
        altair.data_transformers.enable("cdv")

    before = altair.data_transformers.active
    yield swap
    altair.data_transformers.enable(before)


def test_the_builders_use_vl():
    assert all(module.alt is vl for module in BUILDER_MODULES)


@pytest.mark.parametrize("name", list(_builders()))
def test_each_builder_writes_what_altair_writes(name, through_altair):
    ours = charts.spec(_builders()[name]())
    through_altair()
    theirs = charts.spec(_builders()[name]())
    assert not isinstance(_builders()[name](), vl._Spec)  # Altair was really used
    assert canonical(ours) == canonical(theirs)


def _all_charts(con) -> list[tuple[str, dict]]:
    out = []
    for f in (Filtres(annees=(2022, 2023)), Filtres()):
        for name in sections.CATALOGUE:
            sec = sections.build(con, f, name)
            if isinstance(sec.chart, dict):
                out.append((name, sec.chart))
    return out


def test_every_section_chart_of_the_demo_is_what_altair_writes(demo_db_template, through_altair):
    con = schema.connect_read(demo_db_template)
    # One thread: DuckDB then adds the amounts in the same order at both builds (with several, a sum of cents may
    # differ in its last bit from one run to the next, 4929999.78 or 4929999.780000001).
    con.execute("SET threads = 1")
    try:
        ours = _all_charts(con)
        through_altair()
        theirs = _all_charts(con)
    finally:
        con.execute("RESET threads")  # the setting is the database's, which other connections may share
        con.close()
    assert [n for n, _ in ours] == [n for n, _ in theirs]
    assert len(ours) > 60
    assert any('"geoshape"' in canonical(c) and '"threshold"' in canonical(c) for _, c in ours)  # the map too
    for (name, a), (_, b) in zip(ours, theirs, strict=True):
        assert canonical(a) == canonical(b), name


def test_to_dict_validates_against_the_vega_lite_schema():
    df = pd.DataFrame({"a": ["x"], "v": [1.0]})
    ok = vl.Chart(df).mark_bar().encode(x="v:Q", y="a:N").to_dict()
    assert ok["$schema"] == altair.SCHEMA_URL == vl.SCHEMA_URL
    with pytest.raises(jsonschema.ValidationError):
        vl.Chart(df).mark_bar(colour="red").encode(x="v:Q").to_dict()
    vl.Chart(df).mark_bar(colour="red").encode(x="v:Q").to_dict(validate=False)  # the pages' path: not validated


def test_shorthands_are_read_as_altair_reads_them():
    for text in ("annee:O", "sum(montant_accorde):Q", "mean(x):Q", "count():Q", "nom:N", "t:T"):
        assert vl.shorthand(text) == altair.utils.parse_shorthand(text), text
    with pytest.raises(ValueError, match="type de champ manquant"):
        vl.shorthand("annee")


def test_a_chart_is_never_changed_by_what_is_built_from_it():
    df = pd.DataFrame({"a": ["x", "y"], "v": [1.0, 2.0]})
    base = vl.Chart(df).encode(x="v:Q")
    before = json.dumps(base.to_dict(validate=False), sort_keys=True)
    base.mark_bar().encode(y="a:N").transform_filter("datum.v > 1").properties(height=10)
    vl.layer(base.mark_bar(), base.mark_text()).to_dict(validate=False)
    assert json.dumps(base.to_dict(validate=False), sort_keys=True) == before
