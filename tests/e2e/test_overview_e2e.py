"""The overview, served by a real `streamlit run`, opened in Debian's chromium."""

from __future__ import annotations

import pytest

from cdv_core import fmt
from tests import demo_expect
from tests.e2e.conftest import app_exceptions, goto_app

pytestmark = pytest.mark.e2e


def _norm(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def test_overview_shows_the_headline_total(streamlit_server, page):
    goto_app(page, streamlit_server + "/")
    year = demo_expect.decided_year()
    expected = _norm(fmt.euros(demo_expect.total(year)))
    page.get_by_text("Montant accordé", exact=False).first.wait_for()
    body = _norm(page.inner_text("body"))
    assert expected in body
    assert "Données de démonstration" in body
    assert app_exceptions(page) == []


def test_bookmarked_filtered_url_reopens_the_same_view(streamlit_server, page):
    goto_app(page, streamlit_server + "/?annees=2016-2022&financeurs=caf")
    expected = _norm(fmt.euros(demo_expect.total(2022, "caf")))
    page.get_by_text("Montant accordé 2022", exact=False).first.wait_for()
    body = _norm(page.inner_text("body"))
    assert expected in body
    assert "Financeurs : CAF" in body
    # The URL keeps the filters so the link can be sent on.
    assert "financeurs=caf" in page.url and "annees=2016-2022" in page.url
