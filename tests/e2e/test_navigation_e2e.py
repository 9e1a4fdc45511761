"""Navigation in a real browser: deep links on a fresh server, filters kept across clicks and pages."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import app_exceptions, goto_app, wait_for_app

pytestmark = pytest.mark.e2e


def _norm(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def test_first_request_deep_link_runs_the_whole_app(streamlit_factory, page):
    # A fresh server on no base at all: its very first page request builds the demo base, then runs the whole app.
    server = streamlit_factory("app.py", timeout=120, fresh_db=True)
    goto_app(page, server.url + "/quartiers?annees=2022-2022")
    page.get_by_text("Filtres", exact=True).first.wait_for()
    body = _norm(page.inner_text("body"))
    assert "Données de démonstration" in body
    assert "Année 2022" in body
    assert app_exceptions(page) == []


def test_filters_survive_a_click_and_a_page_change(streamlit_server, page):
    goto_app(page, streamlit_server + "/?annees=2016-2022&financeurs=caf")
    page.get_by_text("Montant accordé 2022", exact=False).first.wait_for()
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text="Année affichée")
    box.click()
    page.get_by_role("option", name="2019", exact=True).click()
    wait_for_app(page)
    page.get_by_text("Montant accordé 2019", exact=False).first.wait_for()
    body = _norm(page.inner_text("body"))
    assert "Années 2016 à 2022" in body and "Financeurs : CAF" in body
    assert "annees=2016-2022" in page.url
    # Another page through the navigation keeps the same filters (and writes them back into its URL).
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Piliers").click()
    wait_for_app(page)
    page.wait_for_url("**/piliers**")
    body = _norm(page.inner_text("body"))
    assert "Années 2016 à 2022" in body and "Financeurs : CAF" in body
    assert "financeurs=caf" in page.url
    assert app_exceptions(page) == []


def test_clicking_a_pillar_bar_narrows_the_whole_dashboard(streamlit_server, page):
    import pandas as pd

    from tests import demo_expect

    year = demo_expect.decided_year()
    lines = demo_expect.financements().merge(demo_expect.programmation()[["action_id", "annee", "pilier"]],
                                             on=["action_id", "annee"])
    top = lines[lines["annee"] == year].groupby("pilier")["montant_accorde"].sum().idxmax()
    labels = pd.read_csv(demo_expect.DEMO.parent / "referentiels" / "piliers.csv").set_index("code")["libelle"]
    goto_app(page, streamlit_server + "/")
    page.get_by_text("Cliquez sur un pilier", exact=False).first.wait_for()
    chart = page.locator('[data-testid="stVegaLiteChart"]').nth(1)
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    box = chart.bounding_box()
    # The bars are sorted, largest first: click inside the top one.
    page.mouse.click(box["x"] + box["width"] * 0.35, box["y"] + 18)
    page.wait_for_url(f"**piliers={top}**")
    wait_for_app(page)
    body = _norm(page.inner_text("body"))
    assert f"Piliers : {labels[top]}" in body
    assert app_exceptions(page) == []
