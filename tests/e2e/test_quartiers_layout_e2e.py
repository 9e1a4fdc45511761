"""Quartiers at laptop widths, in Debian's chromium: a link to a fiche (?qpv_fiche=CODE) opens with the fiche in
view, and the ranking draws its bars (not only their labels) at 1366 and 1440 px."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from cdv_core import palette
from tests.demo_expect import DEMO
from tests.e2e.conftest import app_exceptions, goto_app

pytestmark = pytest.mark.e2e


def _a_quartier_2024() -> str:
    """A 2024-geography quartier with actions in the demo (not the first of the ranking: its fiche is below)."""
    prog = pd.read_csv(DEMO / "programmation.csv", dtype=str)
    codes = sorted({c for cell in prog["qpv"].dropna() for c in cell.split("|") if c.startswith("QN")})
    assert codes
    return codes[len(codes) // 2]


def test_a_link_to_a_fiche_opens_with_the_fiche_in_view(streamlit_server, page):
    page.set_viewport_size({"width": 1366, "height": 768})
    code = _a_quartier_2024()
    goto_app(page, f"{streamlit_server}/quartiers?qpv_fiche={code}", timeout=240_000)
    assert app_exceptions(page) == []
    heading = page.get_by_role("heading", name=f"({code})").first
    heading.wait_for()
    # the fiche's heading ends up at the top of the window (the page scrolls to it, also after the charts above)
    page.wait_for_function("""() => { const a = document.getElementById('cdv-fiche');
        if (!a) return false; const top = a.getBoundingClientRect().top;
        return top >= 0 && top < window.innerHeight / 3; }""", timeout=60_000)
    box = heading.bounding_box()
    assert box is not None and 0 <= box["y"] < 768 / 2


def _bar_pixels(png: bytes) -> int:
    from PIL import Image

    target = tuple(int(palette.SERIE[i:i + 2], 16) for i in (1, 3, 5))
    img = Image.open(io.BytesIO(png)).convert("RGB")
    pixels = getattr(img, "get_flattened_data", img.getdata)()  # getdata goes in Pillow 14
    return sum(1 for px in pixels if all(abs(a - b) <= 12 for a, b in zip(px, target, strict=True)))


@pytest.mark.parametrize("width", [1366, 1440])
def test_the_ranking_draws_its_bars(streamlit_server, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    goto_app(page, f"{streamlit_server}/quartiers", timeout=240_000)
    # the ranking is the page's first Vega chart; wait until it has drawn something of its own size
    page.wait_for_function("""() => {
        const el = document.querySelector('[data-testid="stVegaLiteChart"]');
        const g = el && el.querySelector('svg, canvas');
        if (!g) return false;
        el.scrollIntoView({block: 'start'});
        const r = g.getBoundingClientRect();
        return r.width > 250 && r.height > 100;
    }""", timeout=120_000, polling=250)
    page.wait_for_timeout(500)  # the scroll above is applied before the picture is taken
    box = page.evaluate("""() => { const r = document.querySelector('[data-testid="stVegaLiteChart"]')
        .getBoundingClientRect(); return {x: r.x, y: Math.max(0, r.y), width: r.width,
        height: Math.min(r.height, window.innerHeight - Math.max(0, r.y))}; }""")
    assert box["width"] > 250 and box["height"] > 100, box
    shot = page.screenshot(clip=box)
    # bars are drawn in the series colour: a good part of the chart, not a few pixels of a legend swatch
    assert _bar_pixels(shot) > 0.05 * box["width"] * box["height"]
