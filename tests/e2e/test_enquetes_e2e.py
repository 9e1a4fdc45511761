"""The Enquêtes page in Debian's chromium: the cooperation chart is drawn and its table shows the core's figures."""

from __future__ import annotations

import pytest

from cdv_core import schema, surveys
from tests.e2e.conftest import app_exceptions, goto_app

pytestmark = pytest.mark.e2e

LEVELS = list(surveys.COOPERATION.niveaux)


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def test_cooperation_chart_is_visible_and_its_table_matches_the_core(streamlit_server, page, demo_db, tmp_path):
    # Expected figures from the core function, on the same demo data (the server holds its own file open).
    con = schema.connect(demo_db, read_only=True)
    try:
        res = surveys.resultats(con, "EVAL2022-COMMUNES", "cooperation", seuil=surveys.SEUIL_ANONYMAT)
    finally:
        con.close()
    expected = surveys.tableau(res, LEVELS, surveys.SEUIL_ANONYMAT, "Partenaire", texte=True)

    goto_app(page, streamlit_server + "/")  # let app.py register its navigation first
    goto_app(page, streamlit_server + "/enquetes?enquete=EVAL2022-COMMUNES")
    page.get_by_text("Degré de coopération avec chaque partenaire", exact=False).first.wait_for()
    assert app_exceptions(page) == []
    assert "19 communes sollicitées, 19 répondantes — 100 %" in _norm(page.inner_text("body"))

    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.scroll_into_view_if_needed()
    chart.locator("canvas, svg").first.wait_for(state="visible")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 250
    shot = tmp_path / "enquetes_cooperation.png"
    chart.screenshot(path=str(shot))
    assert shot.stat().st_size > 5_000  # a drawn chart, not a blank box
    table = page.locator('[data-testid="stTable"] table').first
    table.scroll_into_view_if_needed()
    header = [_norm(t) for t in table.locator("thead th").all_inner_texts()]
    assert header[-len(LEVELS) - 1:] == [*LEVELS, "Réponses"]
    shown = [[_norm(c) for c in tr.locator("th, td").all_inner_texts()] for tr in table.locator("tbody tr").all()]
    want = [[_norm(str(v)) for v in row] for row in expected.values.tolist()]
    assert shown == want
    page.screenshot(path=str(tmp_path / "enquetes_page.png"), full_page=True)
