"""Presentation mode in chromium: walked with the keyboard at 1920×1080, one screenshot per slide."""

from __future__ import annotations

import pytest

from cdv_core import slides
from tests.e2e.conftest import app_exceptions, goto_app, wait_for_app

pytestmark = pytest.mark.e2e

TITLE = ".cdv-pres-title"


def _title(page) -> str:
    return page.locator(TITLE).first.inner_text()


def _press_and_wait(page, key: str, before: str) -> str:
    page.keyboard.press(key)
    wait_for_app(page)
    page.wait_for_function(
        "([sel, old]) => { const el = document.querySelector(sel); return el && el.innerText !== old; }",
        arg=[TITLE, before], timeout=60_000)
    wait_for_app(page)
    return _title(page)


def test_walk_the_presentation_with_the_keyboard(streamlit_server, page, tmp_path):
    goto_app(page, streamlit_server + "/presentation?slide=1")
    page.locator(TITLE).first.wait_for()
    total = len(slides.DEFAULT_SEQUENCE)
    # No sidebar, no toolbar on the projected page.
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert not page.locator('[data-testid="stToolbar"]').first.is_visible()
    titles = [_title(page)]
    page.screenshot(path=str(tmp_path / "slide_1.png"))
    for n in range(2, total + 1):
        key = "ArrowRight" if n % 2 == 0 else "PageDown"  # arrows and a presenter's clicker
        titles.append(_press_and_wait(page, key, titles[-1]))
        assert f"{n} / {total}" in page.locator(".cdv-slide-number").inner_text()
        assert f"slide={n}" in page.url
        page.screenshot(path=str(tmp_path / f"slide_{n}.png"))
    assert len(set(titles)) == total, titles
    assert "Aucun filtre" in page.inner_text("body")  # the active filters are printed on each slide
    back = _press_and_wait(page, "ArrowLeft", titles[-1])
    assert back == titles[-2]
    assert all((tmp_path / f"slide_{n}.png").stat().st_size > 10_000 for n in range(1, total + 1))
    assert app_exceptions(page) == []


def test_presentation_reopens_on_the_slide_of_the_url(streamlit_server, page):
    goto_app(page, streamlit_server + "/presentation?slide=4&annees=2016-2022&financeurs=caf")
    page.locator(TITLE).first.wait_for()
    assert "4 / " in page.locator(".cdv-slide-number").inner_text()
    body = page.inner_text("body").replace("\xa0", " ")  # "Financeurs : CAF" with a no-break space before ":"
    assert "Financeurs : CAF" in body and "Années 2016 à 2022" in body
