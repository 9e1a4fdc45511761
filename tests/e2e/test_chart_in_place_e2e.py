"""A filter change that changes a chart's data but not its specification updates the drawn chart in place (the
same SVG element, new bars), while a chart whose specification changed is drawn anew: checked in Debian's
chromium on the overview, the quartier chosen being one where the pillar chart keeps its four bars."""

from __future__ import annotations

import duckdb
import pytest

from cdv_core import sections
from cdv_core.filters import Filtres
from tests import demo_expect
from tests.chart_spec import drawn_again_key
from tests.e2e.conftest import app_exceptions, goto_app, wait_for_app

pytestmark = pytest.mark.e2e

CHARTS = '[data-testid="stMain"] [data-testid="stVegaLiteChart"]'
TAG = f"""() => [...document.querySelectorAll('{CHARTS}')].map((c, i) => {{
    const el = c.querySelector('svg.marks, canvas'); if (el) el.__cdvTag = 'graphique ' + i; return !!el; }})"""
TAGS = f"""() => [...document.querySelectorAll('{CHARTS}')].map(c => {{
    const el = c.querySelector('svg.marks, canvas'); return el ? (el.__cdvTag || 'nouveau') : null; }})"""


def _drawn_labels(page, index: int, labels: list[str]) -> list[str]:
    """The texts of chart `index` that are one of `labels`, from top to bottom as drawn (by their place on the
    screen: Vega moves a label it keeps, the order of the elements in the page is not the order shown)."""
    return page.evaluate(f"""labels => [...[...document.querySelectorAll('{CHARTS}')][{index}]
        .querySelectorAll('svg.marks text')].filter(t => labels.includes(t.textContent))
        .map(t => [t.getBoundingClientRect().top, t.textContent]).sort((a, b) => a[0] - b[0]).map(p => p[1])""",
                         labels)


def _quartier(db) -> tuple[str, str, list[str]]:
    """A quartier for which the overview's pillar chart (decided year) is the same chart with other data, and
    its funders chart another chart (other funders in its legend), its pillars ranked in another order than for
    all quartiers; and that order, largest amount first."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        year = demo_expect.decided_year()
        pil, fin = (sections.build(con, Filtres(), "ve_piliers", annee=year),
                    sections.build(con, Filtres(), "ve_financeurs"))
        for code, nom in con.execute("SELECT DISTINCT a.code_qpv, q.nom_qpv FROM action_qpv a "
                                     "JOIN qpv q USING (code_qpv) ORDER BY 1").fetchall():
            f = Filtres(qpv=(code,))
            p2, f2 = sections.build(con, f, "ve_piliers", annee=year), sections.build(con, f, "ve_financeurs")
            if (drawn_again_key(p2.chart) == drawn_again_key(pil.chart) and p2.chart["datasets"] != pil.chart["datasets"]
                    and drawn_again_key(f2.chart) != drawn_again_key(fin.chart)):
                order = p2.table.sort_values("Montant accordé", ascending=False)["Pilier"].tolist()
                if order != pil.table.sort_values("Montant accordé", ascending=False)["Pilier"].tolist():
                    return code, nom, order
    finally:
        con.close()
    raise AssertionError("no such quartier in the demo")


def test_a_chart_with_new_data_only_is_updated_in_place(streamlit_server, page, demo_db_template):
    code, nom, order = _quartier(demo_db_template)
    goto_app(page, streamlit_server + "/")
    page.wait_for_function(f"() => document.querySelectorAll('{CHARTS}').length >= 2 && "
                           f"[...document.querySelectorAll('{CHARTS}')].slice(0, 2)"
                           ".every(c => c.querySelector('svg.marks, canvas'))")
    assert page.evaluate(TAG)[:2] == [True, True]

    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]', has_text="Quartiers")
    box.locator("input").click()
    page.keyboard.type(nom)
    page.locator('[role="option"]', has_text=code).first.click()
    page.keyboard.press("Escape")
    wait_for_app(page)
    page.wait_for_function(f"() => [...document.querySelectorAll('{CHARTS}')].slice(0, 2)"
                           ".every(c => c.querySelector('svg.marks, canvas'))")
    assert code in page.url
    tags = page.evaluate(TAGS)[:2]
    assert tags == ["nouveau", "graphique 1"]  # funders: drawn anew (legend changed); pillars: same element
    # the bars updated in place are in the quartier's order, largest first, as a fresh drawing would put them
    drawn = _drawn_labels(page, 1, order)
    assert drawn == order, (drawn, order)
    assert app_exceptions(page) == []
