"""The first HTML page a browser loads: Streamlit's `index.html` made for this app, served by `serveur.py`.

Streamlit's page is an empty shell that its JavaScript fills. As shipped, for this app it:
- says `<html lang="en">`, `<title>Streamlit</title>` and, without JavaScript, English sentences, until the script
  has run (screen readers and bookmarks see them);
- on a link to a page (`/piliers`), first looks for the server under that page's address
  (`/piliers/_stcore/health`, a 404) before trying the site's root: a round trip and a pause on every link opened;
- fetches the code that draws the banner's HTML, the filters and the charts only when the first of them arrives.

The page served here is Streamlit's own file with: the language and title in French, a French `<noscript>`, the
server's address given to Streamlit (`window.__streamlit.BACKEND_BASE_URL`: the browser's address without the page
asked for, so the site's root, or a reverse proxy's prefix such as `/cdv/`; no guess), and
`modulepreload` links to the code every dashboard page draws first (fetched while the app connects). Nothing else
changes. Only the site's root and its pages' addresses are answered so (`/`, `/piliers`, …), and only when the app
is served at the root (`server.baseUrlPath` empty); any other request goes to Streamlit as before.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import threading

TITLE = "Contrats de ville — tableau de bord"
NOSCRIPT = "Ce tableau de bord a besoin de JavaScript : activez-le dans votre navigateur, puis rechargez la page."

# Streamlit's code for what every dashboard page draws first: the HTML of the banner and the filters line (rehype-raw,
# Html, purify), the filters (Slider, Selectbox, Multiselect and their list), key figures (Metric), charts
# (ArrowVegaLiteChart). Measured (browser, alternated deep links): 0.1 to 0.3 s earlier. The heavy modules (the
# charts' engine, the map, the data grid) are left out: preloaded, they delay the page's own start.
PRELOAD = ("rehype-raw", "Html", "purify.es", "Slider", "Selectbox", "Multiselect", "useSyncComboBoxEnterTargetFocus",
           "Metric", "ArrowVegaLiteChart")

# The site's root and its pages' addresses (`st.Page(url_path=…)`: lowercase words and hyphens); not a file
# (no dot), not Streamlit's own routes (`_stcore`).
PAGE_PATH = re.compile(r"/(?:[a-z0-9][a-z0-9-]*)?")

# Where the path the server was asked for goes in the page (a JavaScript string).
SERVED = "__CDV_SERVED_PATH__"

_lock = threading.Lock()
_page: str | None = None


def chunks(js_dir: str, names: tuple[str, ...] = PRELOAD) -> list[str]:
    """Streamlit's module files `<name>.<hash>.js` for `names`, in that order (a name Streamlit no longer has is
    skipped)."""
    files = sorted(os.listdir(js_dir))
    found = []
    for name in names:
        match = [f for f in files if f.startswith(name + ".") and f.endswith(".js")
                 and f[len(name) + 1:-3].count(".") == 0]
        if len(match) == 1:
            found.append(match[0])
    return found


def build(index: str, preload: list[str]) -> str:
    """Streamlit's `index.html` text, made for this app (see the module's docstring)."""
    out = index.replace('<html lang="en">', '<html lang="fr">', 1)
    out = re.sub(r"<title>.*?</title>", f"<title>{html.escape(TITLE)}</title>", out, count=1, flags=re.S)
    out = re.sub(r"<noscript>.*?</noscript>", f"<noscript><p>{html.escape(NOSCRIPT)}</p></noscript>", out, count=1,
                 flags=re.S)
    # Read by Streamlit's script when it starts: so it runs before it. The server's root is the browser's address
    # without the page the server was asked for (`SERVED`, written in at each request): "/" here, or the prefix
    # of a reverse proxy that serves the app under "/cdv/" and strips it.
    config = ("<script>(() => { const served = " + SERVED + "; "
              "let base = window.location.pathname.replace(/\\/+$/, ''); "
              "if (served !== '/' && base.endsWith(served)) base = base.slice(0, base.length - served.length); "
              "window.__streamlit = Object.assign({}, window.__streamlit, "
              "{BACKEND_BASE_URL: window.location.origin + base + '/'}); })();</script>\n    ")
    out = out.replace('<script type="module"', config + '<script type="module"', 1)
    links = "".join(f'    <link rel="modulepreload" crossorigin href="./static/js/{name}">\n' for name in preload)
    return out.replace("</head>", links + "  </head>", 1)


def page(path: str = "/") -> tuple[bytes, str]:
    """The page's bytes and its ETag for a request of `path` (the site's root or a page's address, `PAGE_PATH`),
    from the installed Streamlit's files read once per process."""
    global _page
    with _lock:
        if _page is None:
            from streamlit import file_util

            static = file_util.get_static_dir()
            with open(os.path.join(static, "index.html"), encoding="utf-8") as f:
                _page = build(f.read(), chunks(os.path.join(static, "static", "js")))
        template = _page
    body = template.replace(SERVED, json.dumps(path), 1).encode("utf-8")
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class ShellMiddleware:
    """ASGI middleware: answers GET of the site's root and pages with `page()`; everything else goes on."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if (scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path")
                and PAGE_PATH.fullmatch(scope["path"]) and not _base_url_path()):
            from starlette.responses import Response

            body, etag = page(scope["path"])
            headers = {"Cache-Control": "no-cache", "ETag": etag}
            sent = dict(scope["headers"]).get(b"if-none-match", b"").decode("latin-1")
            if etag in [tag.strip() for tag in sent.split(",")]:
                response = Response(status_code=304, headers=headers)
            else:
                response = Response(body, media_type="text/html; charset=utf-8", headers=headers)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _base_url_path() -> str:
    from streamlit import config

    return str(config.get_option("server.baseUrlPath") or "").strip("/")
