"""The first HTML page as `scripts/run.sh` serves it (serveur.py, ui/shell.py), in Debian's chromium: a link to a
page asks the server's root at once (no probe under the page's address), the preloaded code is fetched, the page is
French before the script runs and draws as before."""

from __future__ import annotations

import re
import urllib.request
from urllib.parse import urlparse

import pytest

from tests.e2e.conftest import app_exceptions, goto_app

pytestmark = pytest.mark.e2e


def test_a_link_to_a_page_asks_the_servers_root_at_once(streamlit_server, page):
    asked: list[str] = []
    page.on("request", lambda request: asked.append(urlparse(request.url).path))
    goto_app(page, streamlit_server + "/piliers")
    page.get_by_role("heading", level=1).first.wait_for()
    assert "/_stcore/health" in asked
    assert [p for p in asked if p.startswith("/piliers/")] == []  # Streamlit's own page probes /piliers/_stcore/…
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert app_exceptions(page) == []


def test_the_first_page_is_french_and_its_preloaded_code_is_served(streamlit_server, page):
    with urllib.request.urlopen(streamlit_server + "/financeurs", timeout=60) as r:
        text = r.read().decode("utf-8")
    assert '<html lang="fr">' in text
    assert "<title>Contrats de ville — tableau de bord</title>" in text
    assert "You need to enable JavaScript" not in text
    preloaded = re.findall(r'<link rel="modulepreload" crossorigin href="\./static/js/((?:Metric|Slider)\.[^"]+)"',
                           text)
    assert len(preloaded) == 2
    fetched: list[str] = []
    page.on("requestfinished", lambda request: fetched.append(urlparse(request.url).path.rsplit("/", 1)[-1])
            if request.response() and request.response().status == 200 else None)
    goto_app(page, streamlit_server + "/financeurs")
    page.get_by_role("heading", level=1).first.wait_for()
    assert set(preloaded) <= set(fetched)
    assert app_exceptions(page) == []


@pytest.mark.parametrize(("url", "asked", "root"), [
    ("http://proxy.test/cdv/piliers", "/piliers", "http://proxy.test/cdv/"),  # a proxy serving the app under /cdv/
    ("http://proxy.test/cdv/", "/", "http://proxy.test/cdv/"),
    ("http://proxy.test/piliers", "/piliers", "http://proxy.test/"),
    ("http://proxy.test/", "/", "http://proxy.test/"),
])
def test_the_servers_root_is_the_address_without_the_page(browser, url, asked, root):
    """The page's own script, run by chromium at an address where a reverse proxy would serve it (the proxy strips
    its prefix: the server is asked for `asked`); Streamlit's scripts are not loaded."""
    from ui import shell

    ctx = browser.new_context()
    try:
        pg = ctx.new_page()
        body = shell.page(asked)[0]
        pg.route("**/*", lambda route: route.fulfill(status=200, body=body, content_type="text/html")
                 if route.request.url == url else route.abort())
        pg.goto(url)
        assert pg.evaluate("window.__streamlit.BACKEND_BASE_URL") == root
    finally:
        ctx.close()
