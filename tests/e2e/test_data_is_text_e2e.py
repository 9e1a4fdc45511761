"""Issue 15: labels from files are text. A pillar label made of Markdown, HTML, LaTeX and a spreadsheet formula,
imported through the real importer, is shown literally by the real server in Debian's chromium, and the browser
never asks the image's host for anything."""

from __future__ import annotations

import csv
import io
import re

import pytest

from cdv_core import demo, importer, schema
from tests.e2e.conftest import app_exceptions, free_port, goto_app

pytestmark = pytest.mark.e2e


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def test_hostile_labels_are_shown_literally_and_fetch_nothing(streamlit_factory, page, tmp_path):
    port = free_port()  # nothing listens there: a request would still show in the browser's request events
    host = f"127.0.0.1:{port}"
    label = (f"![x](http://{host}/p.png) **gras** <img src=http://{host}/q.png> $x^2$ "
             f"=HYPERLINK(\"http://{host}/h\") <b>y</b> & <font>")
    db = tmp_path / "demo.duckdb"
    demo.new_database(db, demo=True)
    con = schema.connect(db)
    try:
        codes = [r[0] for r in con.execute("SELECT code FROM pilier ORDER BY code").fetchall()]
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";")
        writer.writerow(["code", "libelle"])
        writer.writerows([c, f"{label} {c}"] for c in codes)
        importer.import_bytes(con, buf.getvalue().encode("utf-8"), "piliers.csv", "piliers")
        # the funders too (Financeurs page, its charts, tables and figures)
        funders = [r[0] for r in con.execute("SELECT code FROM financeur ORDER BY code").fetchall()]
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=";")
        writer.writerow(["code", "libelle"])
        writer.writerows([c, f"{label} {c}"] for c in funders)
        importer.import_bytes(con, buf.getvalue().encode("utf-8"), "financeurs.csv", "financeurs")
        pillar = con.execute("SELECT pilier FROM action WHERE annee = 2025 LIMIT 1").fetchall()[0][0]
    finally:
        con.close()
    server = streamlit_factory(db_path=db)

    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    # the filter summary under each title names the filtered pillar: the label again
    for path in ("/", "/piliers", f"/financeurs?piliers={pillar}", f"/quartiers?piliers={pillar}"):
        goto_app(page, server.url + path, timeout=180_000)
        page.get_by_text("**gras**", exact=False).first.wait_for(timeout=120_000)
        body = _norm(page.locator("body").inner_text(timeout=120_000))
        assert app_exceptions(page) == []
        # the label as written, character for character (no image, no bold, no formula, no LaTeX)
        assert _norm(label) in body, body[:2000]
        assert not page.locator(f"img[src*='{port}']").count()
        assert not page.locator("strong", has_text=re.compile(r"^\s*gras\s*$")).count()  # « **gras** » not bold
        assert not page.locator(".katex").count()
        assert not page.locator("font").count()  # « <font> » and « <b>y</b> » are text, not elements
        assert not page.locator("b", has_text=re.compile(r"^\s*y\s*$")).count()
    assert not [u for u in requests if host in u]
