"""Offline at runtime: a page asks nothing of another site (a visitor's address is given to no one, and a
COPIL room without internet sees the same page), except the optional basemap under the Quartiers map."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import goto_app

pytestmark = pytest.mark.e2e

# The basemap under the pydeck maps (Carto's light style): a bonus drawn when the internet answers; the quartiers,
# communes and départements are the app's own GeoJSON layers.
BASEMAP = ("basemaps.cartocdn.com", "tiles.basemaps.cartocdn.com")


PAGES = ["/", "/quartiers", "/piliers", "/financeurs", "/engagements", "/porteurs", "/enquetes", "/a-propos",
         "/presentation?slide=1"]


def test_no_page_asks_anything_of_another_site(streamlit_server, page):
    elsewhere: list[tuple[str, str]] = []
    current = [""]

    def seen(request) -> None:
        url = urlparse(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in ("127.0.0.1", "localhost") \
                and not (url.hostname or "").endswith(BASEMAP):
            elsewhere.append((current[0], request.url))

    page.on("request", seen)
    for path in PAGES:
        current[0] = path
        goto_app(page, streamlit_server + path)
        page.wait_for_timeout(1000)  # icons, fonts and map layers asked for once the page is drawn
    assert elsewhere == []
