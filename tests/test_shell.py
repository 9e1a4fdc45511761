"""The first HTML page served by serveur.py (ui/shell.py): Streamlit's index.html made French, the server's address
given, the first-drawn code preloaded; nothing else of Streamlit's page lost. Read from the installed Streamlit."""

from __future__ import annotations

import asyncio
import os
import threading
from html.parser import HTMLParser

import pytest
from streamlit import file_util

from ui import shell

STATIC = file_util.get_static_dir()
JS = os.path.join(STATIC, "static", "js")


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of <title>, <noscript> and inline <script>s."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: dict[str, list[str]] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag):
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data):
        for tag in ("title", "noscript", "script"):
            if tag in self._open:
                self.text.setdefault(tag, []).append(data)


def _parse(text: str) -> _Tags:
    p = _Tags()
    p.feed(text)
    return p


def _streamlit_index() -> str:
    with open(os.path.join(STATIC, "index.html"), encoding="utf-8") as f:
        return f.read()


def test_the_page_is_french_and_keeps_all_of_streamlits_own_tags():
    original = _parse(_streamlit_index())
    made = _parse(shell.build(_streamlit_index(), []))
    html_tag = next(a for t, a in made.tags if t == "html")
    assert html_tag["lang"] == "fr"
    assert "".join(made.text["title"]).strip() == shell.TITLE
    noscript = " ".join("".join(made.text["noscript"]).split())
    assert "JavaScript" in noscript and "You need" not in noscript and "activez" in noscript
    # Streamlit's scripts, preloads, styles and font are all still there, in the same order.
    kept = [(t, a) for t, a in made.tags if t in ("script", "link") and a]
    theirs = [(t, a) for t, a in original.tags if t in ("script", "link") and a]
    assert kept == theirs


def test_the_servers_address_is_given_before_streamlits_script_reads_it():
    made = shell.build(_streamlit_index(), [])
    config = made.index("window.__streamlit")
    module = made.index('<script type="module"')
    assert config < module
    assert "BACKEND_BASE_URL: window.location.origin + base + '/'" in made


def test_the_page_says_which_path_the_server_was_asked_for():
    root, piliers = shell.page("/")[0].decode(), shell.page("/piliers")[0].decode()
    assert 'const served = "/";' in root and 'const served = "/piliers";' in piliers
    assert shell.SERVED not in root and root.replace('"/";', '"/piliers";', 1) == piliers
    assert shell.page("/")[1] != shell.page("/piliers")[1]


def test_preloaded_code_is_streamlits_own_files():
    found = shell.chunks(JS)
    # one file per name asked for, named "<name>.<hash>.js": if Streamlit renames them, this test says so
    assert len(found) == len(shell.PRELOAD)
    for name, file in zip(shell.PRELOAD, found, strict=True):
        assert file.startswith(name + ".") and os.path.isfile(os.path.join(JS, file))
    made = _parse(shell.build(_streamlit_index(), found))
    links = [a["href"] for t, a in made.tags if t == "link" and a.get("rel") == "modulepreload"]
    assert links[-len(found):] == [f"./static/js/{f}" for f in found]  # after Streamlit's own


def test_a_name_without_exactly_one_file_is_skipped(tmp_path):
    for f in ("Metric.ab12.js", "Metric.ab12.css", "MetricExtra.cd34.js", "Slider.x1.js", "Slider.y2.js"):
        (tmp_path / f).write_text("")
    assert shell.chunks(str(tmp_path), ("Metric", "Slider", "Absent")) == ["Metric.ab12.js"]


def _get(path: str, headers: list[tuple[bytes, bytes]] | None = None, method: str = "GET",
         root_path: str = "") -> tuple[int, dict, bytes, list]:
    """One request through the middleware (ASGI), in front of an app that records what reaches it."""
    reached: list[str] = []

    async def streamlit(scope, receive, send):
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-app", b"streamlit")]})
        await send({"type": "http.response.body", "body": b"streamlit"})

    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "root_path": root_path, "headers": headers or [],
             "query_string": b"", "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80)}
    # In a thread of its own: in a test process that has run the browser tests, Playwright's synchronous API keeps
    # an event loop running in the main thread, where asyncio.run() refuses to start another one.
    failed: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(shell.ShellMiddleware(streamlit)(scope, receive, send))
        except BaseException as exc:  # noqa: BLE001 - raised again in the test's thread
            failed.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=60)
    if failed:
        raise failed[0]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body, reached


@pytest.mark.parametrize("path", ["/", "/piliers", "/vue-ensemble", "/import-donnees"])
def test_the_root_and_the_pages_get_the_page(path):
    status, headers, body, reached = _get(path)
    assert reached == []
    assert status == 200 and headers["cache-control"] == "no-cache"
    assert body == shell.page(path)[0] and b'<html lang="fr">' in body


@pytest.mark.parametrize("path", ["/favicon.png", "/_stcore/health", "/piliers/_stcore/health", "/static/js/x.js",
                                  "/cdv/session", "/Piliers", "/manifest.json"])
def test_everything_else_goes_to_streamlit(path):
    status, headers, body, reached = _get(path)
    assert reached == [path] and body == b"streamlit"


def test_other_methods_and_a_mounted_app_go_to_streamlit():
    assert _get("/piliers", method="POST")[3] == ["/piliers"]
    assert _get("/piliers", method="HEAD")[3] == ["/piliers"]
    assert _get("/piliers", root_path="/cdv")[3] == ["/piliers"]


def test_a_base_url_path_leaves_the_page_to_streamlit():
    from streamlit import config

    config.set_option("server.baseUrlPath", "tableau")
    try:
        assert _get("/piliers")[3] == ["/piliers"]
    finally:
        config.set_option("server.baseUrlPath", "")
    assert _get("/piliers")[3] == []


def test_a_known_page_is_answered_not_modified():
    etag = shell.page("/piliers")[1]
    status, headers, body, reached = _get("/piliers", headers=[(b"if-none-match", etag.encode())])
    assert (status, body, reached) == (304, b"", [])
    assert _get("/piliers", headers=[(b"if-none-match", b'"autre"')])[0] == 200
