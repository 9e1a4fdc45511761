"""Piliers and Financeurs in a real browser: a bookmarked filtered URL shows figures computed from data/demo."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdv_core import fmt
from tests.e2e.conftest import app_exceptions, goto_app

DATA = Path(__file__).resolve().parents[2] / "data"


def _norm(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _expected_growth_title() -> str:
    """The Financeurs title for 2016 → 2022, computed with pandas from the demo files."""
    fin = pd.read_csv(DATA / "demo" / "financements.csv", dtype={"annee": int})
    labels = pd.read_csv(DATA / "referentiels" / "financeurs.csv").set_index("code")["libelle"]
    a = fin[fin["annee"] == 2016].groupby("financeur")["montant_accorde"].sum()
    b = fin[fin["annee"] == 2022].groupby("financeur")["montant_accorde"].sum()
    growth = b.sub(a, fill_value=0).sort_values(ascending=False)
    code, g = growth.index[0], growth.iloc[0]
    return _norm(f"De 2016 à 2022, {labels[code]} a le plus augmenté sa contribution : +{fmt.euros(g)} "
                 f"({fmt.pourcent(100 * g / a[code], 0, signe=True)})")


def _expected_levier_2022() -> str:
    fin = pd.read_csv(DATA / "demo" / "financements.csv", dtype={"annee": int})
    y = fin[fin["annee"] == 2022]
    bop = y.loc[y["financeur"] == "etat_bop147", "montant_accorde"].sum()
    return _norm(fmt.euros((y["montant_accorde"].sum() - bop) / bop, 2))


def _open_bookmark(browser, url: str):
    """A new browser context (as a person opening a bookmark), at 1920x1080."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="fr-FR")
    context.set_default_timeout(120_000)
    pg = context.new_page()
    goto_app(pg, url, timeout=120_000)
    return context, pg


@pytest.mark.e2e
def test_bookmarked_financeurs_url_shows_the_filtered_figures(streamlit_server, browser):
    # Opened directly, as from a bookmark (possibly the very first visit of the server).
    context, pg = _open_bookmark(browser, f"{streamlit_server}/financeurs?annees=2016-2022")
    try:
        title = pg.locator("h1").first
        title.wait_for()
        assert _norm(title.inner_text()) == _expected_growth_title()
        assert pg.get_by_text("Années 2016 à 2022", exact=True).first.is_visible()
        levier = pg.locator('[data-testid="stMetric"]', has_text="Effet levier")
        assert _expected_levier_2022() in _norm(levier.inner_text())
        # The URL keeps the filters (bookmarkable again).
        assert "annees=2016-2022" in pg.url
        assert app_exceptions(pg) == []
    finally:
        context.close()


@pytest.mark.e2e
def test_piliers_page_renders_its_charts(streamlit_server, page):
    goto_app(page, f"{streamlit_server}/piliers?annees=2022-2022", timeout=120_000)
    page.locator("h1").first.wait_for()
    assert _norm(page.locator("h1").first.inner_text()).startswith("En 2022, « ")
    # Vega charts are drawn (canvas or svg) and no exception box is shown.
    page.locator('[data-testid="stVegaLiteChart"]').nth(2).wait_for()  # charts appear as they are drawn
    assert app_exceptions(page) == []


@pytest.mark.e2e
def test_a_table_is_drawn_when_its_tab_is_chosen(streamlit_server, page):
    """A section's table is not sent with the page: choosing its "Tableau" tab draws it, with its downloads."""
    from tests.e2e.conftest import wait_for_app

    goto_app(page, f"{streamlit_server}/piliers?annees=2016-2022")
    tabs = page.get_by_role("tab", name="Tableau")
    assert tabs.count() >= 2
    # every tab panel of the page: none holds a table yet
    with_grid = page.get_by_role("tabpanel", include_hidden=True).filter(
        has=page.locator('[data-testid="stDataFrame"]'))
    assert with_grid.count() == 0
    tabs.first.click()
    wait_for_app(page)
    panel = with_grid.first
    panel.wait_for(timeout=120_000)
    assert with_grid.count() == 1  # the one chosen, not the others
    assert panel.get_by_role("button", name="CSV", exact=True).is_visible()
    assert panel.get_by_role("button", name="Excel", exact=True).is_visible()
    assert app_exceptions(page) == []
