"""Dossier de séance (PDF) and the séance's Excel export, generated from the demo; figures from the CSV files."""

from __future__ import annotations

import datetime as dt
import io
import shutil

import openpyxl
import pytest
from pypdf import PdfReader

from cdv_core import auth, dossier, fmt, gestion, schema, slides, vues
from tests import demo_expect

SEQUENCE = [{"type": "chiffres_cles", "annee": 2022}, {"type": "evolution", "annee": 2022, "annee_ref": 2016},
            {"type": "financeurs", "annee": 2022}, {"type": "piliers", "annee": 2022},
            {"type": "quartiers", "annee": 2025}, {"type": "fiche_qpv", "annee": 2025}, {"type": "cooperation"}]

EDITOR = auth.User("marie", "Marie Dupont", frozenset({auth.GESTIONNAIRE}), "local")  # declared in tests/conftest.py


def _n(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


@pytest.fixture(scope="module")
def con(demo_db_template, tmp_path_factory):
    path = tmp_path_factory.mktemp("dossier") / "demo.duckdb"
    shutil.copy(demo_db_template, path)
    c = schema.connect(path)
    yield c
    c.close()


@pytest.fixture(scope="module")
def seance(con, _test_secrets):
    s = vues.Seance("COPIL du 12 décembre 2026", dt.date(2026, 12, 12), SEQUENCE, "")
    # a module fixture runs before the per-test access configuration: declare the test accounts for this write
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CDV_SECRETS", str(_test_secrets))
        gestion.save_seance(con, s, EDITOR, set(slides.CATALOGUE))
    return vues.load_seance(con, "copil-du-12-decembre-2026")


@pytest.fixture(scope="module")
def pdf(con, seance):
    return PdfReader(io.BytesIO(dossier.seance_pdf(con, seance, dt.datetime(2026, 12, 1, 9, 30))))


def test_one_cover_page_then_one_page_per_slide_numbered(pdf):
    assert len(pdf.pages) == 1 + len(SEQUENCE)
    for i, page in enumerate(pdf.pages, start=1):
        text = _n(page.extract_text())
        assert f"Page {i} / {len(SEQUENCE) + 1}" in text
        assert "COPIL du 12 décembre 2026" in text and "dossier établi le 1 décembre 2026" in text
        assert "Données de démonstration" in text


def test_pages_carry_the_headline_figures_of_the_data(pdf):
    fin = demo_expect.financements()
    total_2022 = demo_expect.total(2022)
    first = _n(pdf.pages[1].extract_text())
    assert _n(fmt.euros(total_2022)) in first
    assert f"{demo_expect.n_actions(2022)} actions" in first
    assert "Aucun filtre" in first
    assert "Source : programmation et financements 2022, import du" in first
    evo = _n(pdf.pages[2].extract_text())
    ref = demo_expect.total(2016)
    assert _n(fmt.pourcent(abs(100 * (total_2022 - ref) / ref), 0)) in evo
    funders = _n(pdf.pages[3].extract_text())
    top = fin[fin["annee"] == 2022].groupby("financeur")["montant_accorde"].sum().sort_values().iloc[-1]
    assert _n(fmt.euros(top)) in funders
    assert "€" in funders and "é" in funders  # the embedded font has accents and the euro sign


def test_cover_lists_the_slides(pdf):
    cover = _n(pdf.pages[0].extract_text())
    assert "Dossier de séance" in cover and "Séance du 12 décembre 2026" in cover
    assert "6. Quartier" in cover


def test_charts_are_images_of_at_least_200_dpi(pdf, con):
    assert pdf.pages[3].images, "the chart should be embedded as an image"
    # A chart is drawn at most at width_px * 72 / PPI points (never enlarged): check the pixels per point.
    from PIL import Image

    chart = slides.build(con, slides.Filtres(), "piliers", annee=2022).chart
    png = Image.open(io.BytesIO(dossier.chart_png(chart, width=500)))
    assert dossier.PPI >= 200
    assert png.width >= 500 * dossier.PPI / 72  # the plot is 500 pt wide, axes and labels come on top


def test_excel_export_holds_every_table_with_the_figures(con, seance):
    _, built = dossier.seance_slides(con, seance)
    wb = openpyxl.load_workbook(io.BytesIO(dossier.slides_xlsx(built, "Aucun filtre")))
    assert len(wb.sheetnames) == len(SEQUENCE)
    ws = wb[wb.sheetnames[2]]  # funders 2022
    # Each sheet says what it shows: the finding, the filters, the source; then the table.
    assert ws["A1"].value == built[2].titre
    assert ws["A2"].value == "Filtres : Aucun filtre"
    assert ws["A3"].value == built[2].source
    assert ws.freeze_panes == "A6"
    header = [c.value for c in ws[5]]
    col = header.index("Montant accordé")
    values = [row[col] for row in ws.iter_rows(min_row=6, values_only=True)]
    assert sum(values) == pytest.approx(demo_expect.total(2022))
    assert ws.cell(row=6, column=col + 1).number_format == '#,##0 "€"'
    assert ws.cell(row=6, column=header.index("Part (%)") + 1).number_format == '0.0 "%"'
    evo = wb[wb.sheetnames[1]]
    header = [c.value for c in evo[5]]
    col_2016 = header.index("2016")
    assert sum(r[col_2016] for r in evo.iter_rows(min_row=6, values_only=True)) == \
        pytest.approx(demo_expect.total(2016))
    # Readable sheet names: the slide's number and its table's name.
    assert wb.sheetnames[2].startswith("3 Financements par financeur")


def test_cell_formats_are_french():
    assert _n(dossier.format_cell("Montant accordé", 1234567.4)) == "1 234 567 €"
    assert _n(dossier.format_cell("Part (%)", 12.54)) == "12,5 %"
    assert _n(dossier.format_cell("€ par habitant", 87.66)) == "87,7 €"
    assert dossier.format_cell("Actions", 68) == "68"
    assert dossier.format_cell("Population", None) == "—"


def test_no_line_of_the_dossier_starts_with_a_colon_or_a_closing_guillemet():
    """French typography in the PDF as on the pages: the space before « : » and those inside « » never break.
    Headlines of every length, so that some would wrap just before the colon or the guillemet."""
    from cdv_core.sections.base import Section

    built = [Section("x", f"{'mot ' * k}{'x' * j} a augmenté sa contribution : +1 254 050 € devant « Emploi » (15 %)",
                     vide="Rien à montrer.")
             for k in range(14, 26) for j in range(0, 9, 2)]
    reader = PdfReader(io.BytesIO(dossier.build_pdf(built, "COPIL", None, "Aucun filtre", False,
                                                    dt.datetime(2026, 12, 1, 9, 30))))
    lines = [line.strip() for page in reader.pages for line in page.extract_text().split("\n")]
    assert sum("contribution" in line for line in lines) >= 2 * len(built)  # each headline, in the contents too
    assert [line for line in lines if line.startswith((":", "»")) or line.endswith("«")] == []
