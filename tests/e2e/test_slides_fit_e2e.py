"""Every slide type fits one screen, at 1366×768 (the laptop) and 1920×1080 (the projector): no scroll bar
anywhere, the chart drawn. One server, one browser, one page per size, the slide types iterated."""

from __future__ import annotations

import pytest

from cdv_core import slides
from tests.e2e.conftest import app_exceptions, goto_app

pytestmark = pytest.mark.e2e

SIZES = [(1366, 768), (1920, 1080)]

_DRAWN_JS = """() => document.querySelector('.cdv-pres-foot')
  && !document.querySelector('[data-testid="stSkeleton"]')
  && [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].every(c => c.querySelector('canvas, svg'))"""

# Any element that scrolls (Streamlit scrolls its main area, not the document) and the document itself.
_OVERFLOW_JS = """() => {
  const out = [];
  const doc = document.scrollingElement;
  if (doc.scrollHeight > innerHeight) out.push('document:' + doc.scrollHeight + '>' + innerHeight);
  for (const e of document.querySelectorAll('*')) {
    const o = getComputedStyle(e).overflowY;
    if ((o === 'auto' || o === 'scroll') && e.scrollHeight > e.clientHeight + 1 && e.clientHeight > 0)
      out.push((e.dataset.testid || e.className) + ':' + e.scrollHeight + '>' + e.clientHeight);
  }
  const r = document.querySelector('.cdv-pres-foot, .cdv-pres-title').getBoundingClientRect();
  if (r.bottom > innerHeight) out.push('foot below the fold');
  return out;
}"""


@pytest.mark.parametrize("width,height", SIZES)
def test_every_slide_type_fits_the_screen(streamlit_server, browser, width, height, tmp_path):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
    context.set_default_timeout(120_000)
    page = context.new_page()
    try:
        problems = {}
        for type_ in slides.CATALOGUE:
            goto_app(page, f"{streamlit_server}/presentation?types={type_}")
            # Drawn: the slide's foot (notes, source) is there, no placeholder left, a chart has its canvas.
            page.wait_for_function(_DRAWN_JS, timeout=60_000, polling=200)
            sec_has_chart = page.locator('[data-testid="stVegaLiteChart"]').count() > 0
            if sec_has_chart:
                page.locator('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'
                             ).first.wait_for()
                box = page.locator('[data-testid="stVegaLiteChart"]').first.bounding_box()
                assert box and box["height"] >= 0.3 * height, (type_, box)  # the chart fills the slide
            page.screenshot(path=str(tmp_path / f"{type_}_{width}.png"))
            over = page.evaluate(_OVERFLOW_JS)
            if over:
                problems[type_] = over
            assert app_exceptions(page) == [], type_
        assert problems == {}, problems
    finally:
        context.close()
