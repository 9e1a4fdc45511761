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


def test_an_unknown_address_says_so_in_french(streamlit_server, page):
    page.goto(streamlit_server + "/nimporte-quoi", wait_until="domcontentloaded")
    page.wait_for_function(_FRENCH, timeout=90_000)
    dialog = page.locator('[role="dialog"]')
    page.wait_for_function("() => /Page introuvable/.test(document.querySelector('[role=\"dialog\"]')?.innerText)",
                           timeout=90_000)
    assert "aucune page que vous pouvez ouvrir" in dialog.inner_text()
    assert "Page not found" not in dialog.inner_text()
    page.wait_for_function("() => !!document.querySelector('[role=\"dialog\"] button[aria-label=\"Fermer\"]')",
                           timeout=30_000)
    assert not dialog.locator('[aria-label="Close"]').count()


def test_a_page_one_may_not_see_says_so_in_french(streamlit_server, page):
    page.goto(streamlit_server + "/import-donnees", wait_until="domcontentloaded")
    page.wait_for_function(_FRENCH, timeout=90_000)
    # the management page is registered for everyone and says, in French, that it is reserved (never
    # Streamlit's English "Page not found")
    page.wait_for_function("() => /Accès réservé/.test(document.body.innerText)", timeout=90_000)
    text = page.locator("body").inner_text()
    assert "réservée aux gestionnaires" in text and "Connectez-vous" in text
    assert "Page not found" not in text and "does not seem" not in text


# What Streamlit 1.67 writes in English in its own controls (names for screen readers, placeholders, tooltips).
STREAMLIT_ENGLISH = {"Show data", "Download as PNG", "Copy Vega-Lite spec", "Show/hide columns", "Download as CSV",
                     "Search", "Open", "Clear all", "Selected values", "Dismiss", "Choose an option",
                     "Choose options", "No results"}
_NAMES = """() => [...document.querySelectorAll('[aria-label], input[placeholder]')]
  .flatMap(e => [e.getAttribute('aria-label'), e.getAttribute('placeholder')]).filter(Boolean)"""


def test_streamlit_controls_tooltips_and_lists_speak_french(streamlit_server, page):
    """A chart's toolbar (its buttons' names, the tooltip a pointer shows, no raw "show data"), the help icons, the years slider's
    handles, the filters' lists (their "select every match" line, "no results", a chosen value's remove button)
    were English."""
    from tests.e2e.conftest import goto_app, wait_for_app

    goto_app(page, streamlit_server + "/financeurs")
    page.locator('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg').first.wait_for()
    names = page.evaluate(_NAMES)
    assert not STREAMLIT_ENGLISH & set(names), sorted(STREAMLIT_ENGLISH & set(names))
    assert not [n for n in names if n.startswith(("Help for ", "Remove "))]
    assert "Télécharger en image (PNG)" in names and any(n.startswith("Aide : ") for n in names)
    page.wait_for_function("() => document.querySelectorAll('input[type=range][aria-label^=Années]').length == 2",
                           timeout=30_000)
    handles = page.locator('input[type="range"][aria-label^="Années"]')
    assert {handles.nth(i).get_attribute("aria-label") for i in range(2)} == {"Années — début", "Années — fin"}

    # The tooltip a pointer on the chart's first toolbar button shows; the toolbar keeps only "download as image"
    # and "full screen" (Streamlit's raw "show data" and "copy the spec" hidden: the « Tableau » tab has the data).
    chart = page.locator('[data-testid="stVegaLiteChart"]:visible').first
    chart.scroll_into_view_if_needed()
    chart.hover()
    toolbar = page.locator('[data-testid="stElementToolbar"]:visible').first
    toolbar.wait_for()
    shown = [b.get_attribute("aria-label") for b in toolbar.locator("button:visible").all()]
    assert shown == ["Télécharger en image (PNG)", "Plein écran"], shown
    toolbar.locator('button[aria-label="Télécharger en image (PNG)"]').hover()
    page.locator('[data-testid="stTooltipContent"]:visible').first.wait_for()
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stTooltipContent\"]')]"
                           ".some(t => t.innerText.trim() === 'Télécharger en image (PNG)')", timeout=10_000)
    toolbar.locator('button[aria-label="Plein écran"]').hover()  # its name was French, its tooltip English
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stTooltipContent\"]')]"
                           ".some(t => t.innerText.trim() === 'Plein écran')", timeout=10_000)

    # The funders' list: a text matching several funders offers them all at once, in French.
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]', has_text="Financeurs")
    box.locator("input").click()
    page.keyboard.type("CAF")
    options = page.locator('[role="listbox"] [role="option"]')
    options.first.wait_for()
    texts = [t.strip() for t in options.all_inner_texts()]
    funders = [t for t in texts if not t.startswith("Sélectionner")]
    assert "CAF" in funders and len(funders) >= 2, texts
    page.wait_for_function("n => [...document.querySelectorAll('[role=\"listbox\"] [role=\"option\"]')]"
                           ".some(o => o.innerText.trim() === `Sélectionner les ${n} résultats`)",
                           arg=len(funders), timeout=10_000)
    assert not [t for t in options.all_inner_texts() if t.strip().startswith("Select ")]
    page.keyboard.type("zzzz")
    page.wait_for_function("() => /Aucun résultat/.test(document.querySelector('[role=\"listbox\"]').innerText)",
                           timeout=10_000)
    assert "No results" not in page.locator('[role="listbox"]').first.inner_text()

    # One funder chosen: its remove button and the list's clear button are named in French.
    page.keyboard.press("Escape")
    box.locator("input").fill("")
    box.locator("input").click()
    page.keyboard.type("CAF")
    page.locator('[role="option"]', has_text="CAF").filter(has_not_text="Sélectionner").first.click()
    wait_for_app(page)
    page.keyboard.press("Escape")
    page.wait_for_function("() => !!document.querySelector('[aria-label=\"Retirer CAF\"]')", timeout=30_000)
    names = page.evaluate(_NAMES)
    assert "Tout effacer" in names and not STREAMLIT_ENGLISH & set(names)
    assert not [n for n in names if n.startswith(("Help for ", "Remove "))]


def test_date_field_slider_and_shortcuts_named_in_french(streamlit_server, page):
    """The séance's date (its fields, its calendar) and the slides' keyboard shortcuts were named in English for
    screen readers ("month, …", "12 – December", "Shortcut PageDown")."""
    from tests.e2e.conftest import goto_app

    goto_app(page, streamlit_server + "/seance")
    field = page.locator('[data-testid="stDateInput"]').first
    field.wait_for()
    page.wait_for_function("() => !!document.querySelector('[aria-label=\"mois, Date de la séance\"]')",
                           timeout=30_000)
    month = int(page.locator('[aria-label="mois, Date de la séance"]').get_attribute("aria-valuenow"))
    mois = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
            "novembre", "décembre"][month - 1]
    assert page.locator('[aria-label="mois, Date de la séance"]').get_attribute("aria-valuetext") == f"{month} – {mois}"
    field.locator("button").first.click()
    calendar = page.locator('[data-testid="stDateInputCalendar"]')
    calendar.wait_for()
    page.wait_for_function("() => /Flèches pour changer de jour/.test("
                           "document.querySelector('[data-testid=\"stDateInputCalendar\"]').innerText)", timeout=10_000)
    names = page.evaluate(_NAMES) + [calendar.inner_text()]
    english = [n for n in names if any(w in n for w in ("month", "Month", "Choose", "Use arrow", " – December"))]
    assert not english, english
    page.keyboard.press("Escape")

    goto_app(page, streamlit_server + "/presentation?slide=2")
    page.locator(".cdv-slide-number").wait_for()
    page.wait_for_function("() => !!document.querySelector('kbd[aria-label^=\"Raccourci\"]')", timeout=30_000)
    assert not page.locator('kbd[aria-label^="Shortcut"]').count()
