"""The menus Streamlit opens on a table speak French: a column's menu (sort, statistics, number formats, width,
pin, hide), its statistics and the list of columns shown. Streamlit writes them in English; the page's script
(ui/layout.py) translates them as they open."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import goto_app

pytestmark = pytest.mark.e2e

# Streamlit's English words in these menus (read in its DataFrame script), written here apart from the app's
# translation table.
ENGLISH = re.compile(
    r"\b(Sort|ascending|descending|Statistics|Autosize|Pin|Unpin|Hide|Copy|column|Automatic|Localized|Plain|"
    r"Percent|Scientific|Accounting|Duration|Calendar|Values|Empty|Distinct|Average|Median|percentile|Standard|"
    r"deviation|Sum|Count|Range|Select all|No data|Based on sample|Vega|visualization|binStart|number|text)\b")

# What a person sees (text) and what a screen reader reads (names of elements not hidden from it).
READ_JS = """
menu => {
  const names = [...menu.querySelectorAll('[aria-label], [title]')]
    .filter(e => !e.closest('[aria-hidden="true"]'))
    .flatMap(e => [e.getAttribute('aria-label'), e.getAttribute('title')]).filter(Boolean);
  return [menu.innerText, ...names].join('\\n');
}
"""


def _english(text: str) -> list[str]:
    # Material icons are ligatures written as words (arrow_upward, visibility_off): not read as text.
    words = [w for w in text.split("\n") if not re.fullmatch(r"[a-z0-9_]+", w.strip())]
    return sorted({m.group(0) for w in words for m in ENGLISH.finditer(w)})


def _menu_icon_x(page, grid, column: int) -> tuple[float, float]:
    """Where the menu button of the `column`-th column (from 1) is: just left of that column's right edge, found
    where the pointer over the header becomes the resize cursor (the grid is drawn on a canvas)."""
    box = grid.bounding_box()
    canvas = grid.locator("canvas").first
    y = box["y"] + 18
    edges, before = [], None
    for dx in range(4, int(box["width"]) - 4, 4):
        page.mouse.move(box["x"] + dx, y)
        cursor = canvas.evaluate("c => c.style.cursor || getComputedStyle(c).cursor")
        if cursor == "col-resize" and before != "col-resize":
            edges.append(box["x"] + dx)
        before = cursor
    assert len(edges) >= column, f"bords de colonnes trouvés : {edges}"
    return edges[column - 1] - 14, y


def test_a_tables_menus_are_in_french(streamlit_server, page):
    goto_app(page, streamlit_server + "/quartiers")
    header = page.locator('[role="columnheader"]', has_text="Montant total de l'action")
    grid = page.locator('[data-testid="stDataFrame"]').filter(has=header)
    grid.scroll_into_view_if_needed()
    column = int(header.get_attribute("aria-colindex"))

    x, y = _menu_icon_x(page, grid, column)
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    menu = page.locator('[data-testid="stDataFrameColumnMenu"]')
    menu.wait_for(timeout=30_000)
    page.wait_for_function("m => /Trier par ordre croissant/.test(m.innerText)", arg=menu.element_handle(),
                           timeout=30_000)
    read = menu.evaluate(READ_JS)
    for french in ("Montant total de l'action", "Trier par ordre croissant", "Trier par ordre décroissant",
                   "Statistiques", "Format", "Ajuster la largeur", "Figer la colonne", "Masquer la colonne",
                   "Menu de la colonne", "Copier le nom de la colonne"):
        assert french in read
    assert _english(read) == []

    menu.locator('[role="menuitem"]', has_text="Format").hover()
    formats = page.locator('[data-testid="stDataFrameColumnFormattingMenu"]')
    formats.wait_for(timeout=30_000)
    page.wait_for_function("m => /Automatique/.test(m.innerText)", arg=formats.element_handle(), timeout=30_000)
    read = formats.evaluate(READ_JS)
    assert "Pourcentage" in read and "Scientifique" in read
    assert _english(read) == []

    menu.locator('[role="menuitem"]', has_text="Statistiques").hover()
    stats = page.locator('[data-testid="stDataFrameStatisticsMenu"]')
    stats.wait_for(timeout=30_000)
    page.wait_for_function("m => /Médiane/.test(m.innerText) && !/Vega/.test(m.querySelector('[aria-label]')"
                           "?.getAttribute('aria-label') || '')", arg=stats.element_handle(), timeout=30_000)
    read = stats.evaluate(READ_JS)
    for french in ("Valeurs", "Moyenne", "Écart type", "Premier quartile", "Médiane", "Somme"):
        assert french in read
    assert _english(read) == []

    page.keyboard.press("Escape")
    menu.wait_for(state="detached", timeout=30_000)
    grid.hover()
    grid.get_by_role("button", name="Afficher ou masquer des colonnes").click()
    shown = page.locator('[data-testid="stDataFrameColumnVisibilityMenu"]')
    shown.wait_for(timeout=30_000)
    page.wait_for_function("m => /Tout sélectionner/.test(m.innerText)", arg=shown.element_handle(),
                           timeout=30_000)
    assert _english(shown.evaluate(READ_JS)) == []
