"""French everywhere, opened cold in chromium: `<html lang="fr">`, a saved link to the overview
(`/vue-ensemble`) opens it without Streamlit's English "Page not found", and a page one may not see says so
in French and offers to sign in."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

_FRENCH = "() => document.documentElement.lang === 'fr'"


def test_vue_ensemble_link_opens_the_overview_in_french(streamlit_server, page):
    page.goto(streamlit_server + "/vue-ensemble?annees=2016-2022", wait_until="domcontentloaded")
    page.wait_for_function(_FRENCH, timeout=90_000)
    page.locator("h1").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1_500)  # Streamlit's dialog, if any, is up by now
    body = page.inner_text("body")
    assert "Page not found" not in body and "Page introuvable" not in body
    assert "Années 2016 à 2022" in body  # the link's filters are kept


def test_a_page_one_may_not_see_says_so_in_french(streamlit_server, page):
    page.goto(streamlit_server + "/import-donnees", wait_until="domcontentloaded")
    page.wait_for_function(_FRENCH, timeout=90_000)
    # the management page is registered for everyone and says, in French, that it is reserved (never
    # Streamlit's English "Page not found")
    page.wait_for_function("() => /Accès réservé/.test(document.body.innerText)", timeout=90_000)
    text = page.locator("body").inner_text()
    assert "réservée aux gestionnaires" in text and "Connectez-vous" in text
    assert "Page not found" not in text and "does not seem" not in text
