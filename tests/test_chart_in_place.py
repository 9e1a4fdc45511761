"""A chart keeps the same specification, data set aside, when a filter changes only its data: Streamlit's
browser side then updates the drawn chart in place instead of drawing it anew (it draws again a chart whose
specification apart from the data, its accessible name included, changed). The labels' order lives in the
data, and the name a page gives a chart does not depend on the filters."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from cdv_core import charts, sections
from cdv_core.filters import Filtres
from cdv_core.sections import base
from tests import demo_expect
from tests.chart_spec import axis_order, drawn_again_key

A = pd.DataFrame({"libelle": ["Nord", "Sud", "Est"], "montant": [30.0, 20.0, 10.0], "autre": [1.0, 2.0, 3.0]})
B = pd.DataFrame({"libelle": ["Nord", "Sud", "Est"], "montant": [5.0, 20.0, 40.0], "autre": [3.0, 2.0, 1.0]})
BUILDERS = {
    "horizontal_bars": lambda df: charts.horizontal_bars(df, "libelle", "montant"),
    "change_bars": lambda df: charts.change_bars(df, "libelle", "montant"),
    "measure_bars": lambda df: charts.measure_bars(df, "libelle", "montant", "Nombre"),
    "paired_bars": lambda df: charts.paired_bars(df, "libelle", {"montant": "Montant", "autre": "Autre"}),
    "heatmap": lambda df: charts.heatmap(df.assign(col="x"), "col", "libelle", "montant", "Col", "Libellé"),
}


@pytest.fixture(scope="module")
def demo_con(demo_db_template):
    con = duckdb.connect(str(demo_db_template), read_only=True)
    yield con
    con.close()


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_a_new_order_of_the_same_bars_is_new_data_not_a_new_chart(name):
    first, second = (charts.spec(BUILDERS[name](df)) for df in (A, B))
    assert axis_order(first) == ["Nord", "Sud", "Est"]  # largest first
    assert axis_order(second) == ["Est", "Sud", "Nord"]
    assert first["datasets"] != second["datasets"]
    assert drawn_again_key(first) == drawn_again_key(second)


def test_the_name_of_a_chart_on_a_page_does_not_follow_the_filters(demo_con):
    con = demo_con
    qpv = [r[0] for r in con.execute("SELECT DISTINCT code_qpv FROM action_qpv ORDER BY 1 LIMIT 2").fetchall()]
    pilier = con.execute("SELECT min(pilier) FROM action").fetchone()[0]
    states = [Filtres(), Filtres(qpv=(qpv[0],)), Filtres(qpv=(qpv[1],)), Filtres(piliers=(pilier,))]
    seen = 0
    for name, kind in sorted(base.CATALOGUE.items()):
        built = [sections.build(con, f, name) for f in states]
        if not any(isinstance(s.chart, dict) for s in built):
            continue
        seen += 1
        names = {s.nom_graphique for s in built}
        assert names == {f"Graphique : {kind.graphique or kind.libelle}"}, name
    assert seen >= 20


def test_the_overview_pillar_chart_is_updated_in_place_for_a_quartier(demo_con):
    """On the demo, the overview's pillar bars of the decided year, for all quartiers and for a quartier funded
    under every pillar: the same chart, other data."""
    con = demo_con
    year = demo_expect.decided_year()
    everything = sections.build(con, Filtres(), "ve_piliers", annee=year)
    n = len(everything.table)
    same = []
    for (code,) in con.execute("SELECT DISTINCT code_qpv FROM action_qpv ORDER BY 1").fetchall():
        sec = sections.build(con, Filtres(qpv=(code,)), "ve_piliers", annee=year)
        if sec.table is not None and len(sec.table) == n:
            same.append(sec)
    assert same, "no quartier funded under every pillar in the demo"
    for sec in same:
        assert sec.chart["datasets"] != everything.chart["datasets"]
        assert drawn_again_key(sec.chart) == drawn_again_key(everything.chart)
        assert sec.nom_graphique == everything.nom_graphique and sec.titre != everything.titre


def _bars(n: int, duplicate: bool = False) -> pd.DataFrame:
    labels = [f"Libellé {i}" for i in range(n)]
    if duplicate:
        labels[-1] = labels[0]
    return pd.DataFrame({"libelle": labels, "montant": [float(100 - i) for i in range(n)]})


def test_more_bars_is_new_data_not_a_new_chart():
    five, eight = (charts.spec(charts.horizontal_bars(_bars(n), "libelle", "montant")) for n in (5, 8))
    assert drawn_again_key(five) == drawn_again_key(eight)
    # a few bars keep their minimum height, given in pixels; so does a label drawn twice (one band)
    assert charts.spec(charts.horizontal_bars(_bars(3), "libelle", "montant"))["height"] == 140
    assert charts.spec(charts.change_bars(_bars(3), "libelle", "montant"))["height"] == 160
    assert charts.spec(charts.horizontal_bars(_bars(6, duplicate=True), "libelle", "montant"))["height"] == 6 * 44


@pytest.mark.parametrize("n", [4, 9])
def test_a_height_in_steps_draws_what_the_height_in_pixels_drew(n):
    """The same picture (vl-convert, PNG bytes) as the former spec, whose height was 44 px × bars."""
    from cdv_core import dossier

    for build in (lambda df: charts.horizontal_bars(df, "libelle", "montant"),
                  lambda df: charts.change_bars(df, "libelle", "montant")):
        spec = charts.spec(build(_bars(n)))
        assert spec["height"] == {"step": 44}
        assert dossier.chart_png(spec, ppi=36) == dossier.chart_png({**spec, "height": 44 * n}, ppi=36)
