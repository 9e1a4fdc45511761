"""Accessibility of every page, checked by axe-core (bundled with axe-playwright-python: nothing downloaded) in
Debian's chromium against the real server, at 1366×768 (the laptop that drives the projector).

One server for the module: the suite's shared `serveur.py` (``streamlit_app``), so the pages built here are warm
for the modules that follow. A page passes when axe finds no *serious* or *critical* violation outside the
exceptions below, each one an element Streamlit draws itself, with the Streamlit issue it comes from (listed in
docs/ACCESSIBILITE.md). Beyond axe: the map's buttons are named in French, keyboard focus is visible, and the
navigation never lists the raw file names of ``pages/`` while the app starts.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.conftest import app_exceptions, goto_app, track_runs

pytestmark = pytest.mark.e2e

# Every page of app.py's navigation a visitor can open (url_path; the overview is the main page, at "/"), and the
# two gestionnaire pages, which show « Accès réservé » and the sign-in box to a visitor.
PAGES = ["", "quartiers", "piliers", "financeurs", "engagements", "porteurs", "enquetes", "a-propos",
         "seance", "presentation", "import-donnees", "journal-imports"]

# The titles app.py gives its pages; a raw `pages/*.py` name (Streamlit's legacy folder mode) is none of them.
RAW_NAMES = ["vue ensemble", "import donnees", "journal", "presentation", "seance", "a propos", "enquetes"]

BLOCKING = {"serious", "critical"}
# (rule, CSS selector of the node as axe reports it, contained) -> why it is Streamlit's and where it is tracked.
# Empty today: the sidebar menu's list structure (rules `list` and `listitem`, Streamlit nests each section's links
# in a div inside one list) is repaired by ui/layout.py's page script; see docs/ACCESSIBILITE.md.
EXCEPTIONS: dict[tuple[str, str], str] = {}

# Names Streamlit gives its own controls in English (read aloud by screen readers): the page script renames them.
ENGLISH_NAMES = ["Sidebar", "Collapse sidebar", "Expand sidebar", "App pages", "Link to heading", "Show/hide columns",
                 "Download as CSV", "Search", "Fullscreen", "Zoom In", "Zoom Out", "Toggle attribution", "Map"]

AXE_OPTIONS = {"resultTypes": ["violations"],
               "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                    "best-practice"]}}


def _excepted(rule: str, node: dict) -> bool:
    target = " ".join(str(t) for t in node.get("target", []))
    html = node.get("html", "")
    return any(rule == r and (sel in target or sel in html) for (r, sel) in EXCEPTIONS)


def blocking_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as shown, outside the documented exceptions."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS).response
    found = []
    for v in results["violations"]:
        if v.get("impact") not in BLOCKING:
            continue
        nodes = [n for n in v["nodes"] if not _excepted(v["id"], n)]
        for n in nodes[:3]:
            found.append(f"{v['id']} ({v['impact']}): {v['help']} — {n['target']} {n['html'][:140]}")
    return found


@pytest.fixture(scope="module")
def a11y_page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="fr-FR",
                                  timezone_id="Europe/Paris")
    context.set_default_timeout(90_000)  # a loaded 2-core machine: generous bounds, nothing timed
    pg = context.new_page()
    track_runs(pg)
    try:
        yield pg
    finally:
        context.close()


def test_the_navigation_never_lists_raw_file_names(streamlit_app, a11y_page):
    """From the first paint (this module opens the suite's shared server first: a cold start), the sidebar shows
    app.py's titles or nothing, never `pages/*.py` names such as « import donnees »."""
    page = a11y_page
    page.goto(streamlit_app.url + "/", wait_until="commit", timeout=180_000)
    seen: list[str] = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        text = page.evaluate("() => { const n = document.querySelector('[data-testid=\"stSidebarNav\"]');"
                             " return n ? n.innerText : '' }")
        if text and text not in seen:
            seen.append(text)
        if "Vue d'ensemble" in text:
            break
        page.wait_for_timeout(25)
    assert seen and "Vue d'ensemble" in seen[-1], seen
    for text in seen:
        lowered = text.lower()
        assert not [raw for raw in RAW_NAMES if raw in lowered.split("\n")], text
        assert "import donnees" not in lowered and "\napp\n" not in f"\n{lowered}\n", text


@pytest.mark.parametrize("path", PAGES, ids=[p or "vue-ensemble" for p in PAGES])
def test_no_serious_or_critical_violation(streamlit_app, a11y_page, path):
    page = a11y_page
    goto_app(page, f"{streamlit_app.url}/{path}", timeout=240_000)
    assert app_exceptions(page) == []
    # the page script (ui/layout.py) runs once Streamlit has drawn its element, just after the run ends
    page.wait_for_function("() => document.documentElement.lang === 'fr'")
    if path == "quartiers":
        # the map's own buttons (mapbox) carry English titles until the page script names them in French
        zoom_in = page.locator("button.mapboxgl-ctrl-zoom-in").first
        zoom_in.wait_for(state="attached", timeout=120_000)
        page.wait_for_function("() => document.querySelector('button.mapboxgl-ctrl-zoom-in')"
                               ".getAttribute('aria-label') === 'Zoomer sur la carte'")
        assert page.locator("button.mapboxgl-ctrl-zoom-out").first.get_attribute("aria-label") == "Dézoomer la carte"
    assert blocking_violations(page) == []
    names = page.evaluate("() => [...document.querySelectorAll('[aria-label]')].map(e => e.getAttribute('aria-label'))")
    assert sorted(set(names) & set(ENGLISH_NAMES)) == []
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
        .every(c => c.querySelector('svg.marks, canvas'))""")
    # Charts: none of Vega's own English ARIA texts ("X-axis for a discrete scale…", "rect mark container")
    # reaches a screen reader.
    spoken = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"] [aria-label],'
        + '[data-testid="stVegaLiteChart"] [aria-roledescription]')].filter(e => !e.closest('[aria-hidden="true"]'))
        .map(e => (e.getAttribute('aria-label') || '') + ' ' + (e.getAttribute('aria-roledescription') || ''))""")
    assert [t for t in spoken if re.search(r"axis|scale|container|mark|legend|Sum of", t)] == []
    assert page.locator('[data-testid="stSkipToContent"]').inner_text() == "Aller au contenu principal"


def test_keyboard_focus_is_visible(streamlit_app, a11y_page):
    """Tabbing to a link of the menu draws a visible outline (WCAG 2.4.7), not Streamlit's faint default."""
    page = a11y_page
    goto_app(page, f"{streamlit_app.url}/a-propos", timeout=240_000)
    outline = None
    for _ in range(40):
        page.keyboard.press("Tab")
        outline = page.evaluate("""() => {
            const el = document.activeElement;
            if (!el || !el.matches('[data-testid="stSidebarNavLink"], a, button')) return null;
            const s = getComputedStyle(el);
            return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor,
                    text: (el.innerText || el.getAttribute('aria-label') || '').trim()};
        }""")
        if outline:
            break
    assert outline is not None, "no link or button reached with the Tab key"
    assert outline["style"] != "none" and outline["width"] >= 2, outline
