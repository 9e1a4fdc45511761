"""Issue 15: labels from files are text in every output — the PDF dossier (reportlab reads `<b>`, `<font>` and
`&` as markup), the PPTX deck, the Excel workbook, the map's tooltips and legend (deck.gl and an HTML block).

A pillar label full of Markdown, HTML, LaTeX and reportlab markup is imported into the demo base through the real
importer, then a séance of the default slides, filtered on that pillar and titled with the same text, is exported:
the label must come out character for character (and the PDF must be produced at all).
"""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pandas as pd
import pytest
from pptx import Presentation
from pypdf import PdfReader

from cdv_core import dossier, importer, maps, pptx_export, schema, slides, vues
from cdv_core.sections import Chiffre, Section

LABEL = "**x** <b>y</b> $z$ ![i](http://h/p.png) & <font> a<b"


def _squeeze(text: str) -> str:
    """Text without any whitespace (a PDF's extracted text wraps lines wherever the layout did)."""
    return re.sub(r"\s+", "", text.replace("\u00a0", " ").replace("\u202f", " "))


@pytest.fixture(scope="module")
def hostile(demo_db_template, tmp_path_factory):
    """The demo base whose 2024-2030 pillars are all named with LABEL (plus their code, to keep them apart)."""
    import shutil

    path = tmp_path_factory.mktemp("hostile") / "demo.duckdb"
    shutil.copy(demo_db_template, path)
    con = schema.connect(path)
    codes = [r[0] for r in con.execute("SELECT code FROM pilier WHERE generation = '2024-2030' ORDER BY code")
             .fetchall()]
    rows = "code;libelle\r\n" + "".join(f"{c};{LABEL} {c}\r\n" for c in codes)
    importer.import_bytes(con, rows.encode("utf-8"), "piliers.csv", "piliers")
    yield con, codes
    con.close()


@pytest.fixture(scope="module")
def seance(hostile):
    _, codes = hostile
    return vues.Seance(LABEL, dt.date(2026, 12, 12), [{"type": t, "annee": 2025} for t in slides.DEFAULT_SEQUENCE],
                       f"piliers={codes[0]}")


def test_pdf_prints_the_label_literally(hostile, seance):
    con, codes = hostile
    pdf = PdfReader(io.BytesIO(dossier.seance_pdf(con, seance, dt.datetime(2026, 12, 1, 9, 30))))
    text = _squeeze(" ".join(p.extract_text() for p in pdf.pages))
    assert _squeeze(LABEL) in text  # the title (a Paragraph) and the filters line
    assert _squeeze(f"{LABEL} {codes[0]}") in text  # the pillar, in the filters and the tables
    assert "&amp;" not in text and "&lt;" not in text


def test_pdf_table_cells_in_every_column_are_literal():
    """A label in the first column (a Paragraph) and in the others (drawn as is) of a table, in figures and notes."""
    table = pd.DataFrame({"Libellé": [LABEL], "Porteur": [LABEL], "Montant accordé": [1000.0]})
    sec = Section("test", LABEL, [Chiffre(LABEL, "1 000 €")], table=table, table_nom="t",
                  source=LABEL, notes=[LABEL])
    pdf = PdfReader(io.BytesIO(dossier.build_pdf([sec], LABEL, None, LABEL, False, dt.datetime(2026, 12, 1))))
    text = _squeeze(" ".join(p.extract_text() for p in pdf.pages))
    assert text.count(_squeeze(LABEL)) >= 6, text  # cover title, filters ×2, slide title, figure, 2 cells…
    assert "&amp;" not in text and "&lt;" not in text


def test_pptx_writes_the_label_literally(hostile, seance):
    con, codes = hostile
    deck = Presentation(io.BytesIO(pptx_export.seance_pptx(con, seance, dt.datetime(2026, 12, 1, 9, 30))))
    texts = []
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if shape.has_table:
                texts += [c.text for row in shape.table.rows for c in row.cells]
    joined = "\n".join(texts).replace("\u00a0", " ")  # no-break spaces before « ! » (French typography)
    assert LABEL in joined and f"{LABEL} {codes[0]}" in joined


def test_excel_keeps_the_label_as_text(hostile, seance):
    con, codes = hostile
    wb = openpyxl.load_workbook(io.BytesIO(dossier.xlsx_for(con, '[{"type": "piliers", "annee": 2025}]',
                                                              seance.filtres_query_string)))
    cells = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(f"{LABEL} {codes[0]}" in v for v in cells), cells[:20]
    assert not [v for v in cells if v.startswith("=")]


def test_map_tooltip_and_legend_escape_names():
    """deck.gl writes a tooltip's `{nom}` into HTML as is; the legend is an HTML block: names are escaped."""
    square = '{"type": "Polygon", "coordinates": [[[2.0, 48.0], [2.1, 48.0], [2.1, 48.1], [2.0, 48.0]]]}'
    contours = pd.DataFrame({"code_qpv": ["QN0750001"], "geojson": [square]})
    values = pd.DataFrame({"code_qpv": ["QN0750001"], "nom_qpv": [LABEL], "v": [1.0]})
    deck, legend = maps.qpv_map(contours, values, "v", LABEL, str)
    props = deck.layers[-1].data["features"][0]["properties"]
    assert "<" not in props["nom"] and props["nom"].replace("&lt;", "<").replace("&gt;", ">") \
        .replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&") == LABEL
    html = maps.legend_html(legend)
    assert "<b>y</b>" not in html and "<font>" not in html and "&lt;b&gt;y&lt;/b&gt;" in html
