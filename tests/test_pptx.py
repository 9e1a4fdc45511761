"""The dossier de séance as a PowerPoint deck, opened back with python-pptx: one slide per section after the
cover, the sections' headlines as titles, charts as pictures, numbers written in French."""

from __future__ import annotations

import io
import re

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from cdv_core import fmt, pptx_export, schema, slides, vues
from cdv_core.filters import Filtres
from tests import demo_expect


@pytest.fixture(scope="module")
def deck(demo_db_template):
    con = schema.connect(demo_db_template, read_only=True)
    try:
        seance = vues.Seance(titre="COPIL du 12 décembre 2026", date=None,
                             slides=[{"type": "chiffres_cles", "annee": 2022}, {"type": "financeurs", "annee": 2022},
                                     {"type": "piliers", "annee": 2022, "filtres": "financeurs=caf"}],
                             filtres_query_string="")
        data = pptx_export.seance_pptx(con, seance)
        built = [slides.build(con, Filtres(), "chiffres_cles", annee=2022),
                 slides.build(con, Filtres(), "financeurs", annee=2022),
                 slides.build(con, Filtres(financeurs=("caf",)), "piliers", annee=2022)]
    finally:
        con.close()
    return Presentation(io.BytesIO(data)), built


def _texts(slide) -> str:
    return "\n".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)


def test_one_slide_per_section_after_the_cover(deck):
    prs, built = deck
    assert len(prs.slides) == 1 + len(built)
    assert "COPIL du 12 décembre 2026" in _texts(prs.slides[0])
    for slide, sec in zip(list(prs.slides)[1:], built, strict=True):
        # the same words; the spaces before a colon and inside « » are no-break spaces on the slide
        titles = [sh.text_frame.text.replace("\u00a0", " ") for sh in slide.shapes if sh.name == "Titre"]
        assert titles == [sec.titre.replace("\u00a0", " ")]
        assert sec.source in _texts(slide).replace("\u00a0", " ")


def test_charts_are_pictures_with_their_text_alternative(deck):
    prs, built = deck
    for slide, sec in zip(list(prs.slides)[1:], built, strict=True):
        pictures = [sh for sh in slide.shapes if sh.shape_type == MSO_SHAPE_TYPE.PICTURE]
        assert len(pictures) == (1 if sec.chart is not None else 0), sec.type
        for pic in pictures:
            assert pic.image.content_type == "image/png" and len(pic.image.blob) > 5_000
            assert pic._element.nvPicPr.cNvPr.get("descr") == sec.titre


def test_numbers_are_french_and_filters_per_slide(deck):
    prs, _ = deck
    key = _texts(prs.slides[1])
    assert fmt.euros(demo_expect.total(2022)) in key  # `1 234 567 €`, computed from the demo files
    assert f"{demo_expect.n_actions(2022)}" in key
    whole = "\n".join(_texts(s) for s in prs.slides)
    assert not re.search(r"\d\.\d", whole), "decimal point in an English format"
    assert not re.search(r"\d,\d{3}\b(?!\s*%)", whole.replace("\u00a0", " ")), "English thousands separator"
    # The third slide keeps its own filters (CAF only), the others the séance's.
    assert "CAF" in _texts(prs.slides[3]) and "Aucun filtre" in _texts(prs.slides[2])


def test_titles_keep_french_no_break_spaces():
    """A slide's title never wraps before its colon nor inside its guillemets: those spaces are no-break."""
    from cdv_core.sections.base import Section

    title = "De 2024 à 2026, la CAF a le plus augmenté sa contribution : +12 % devant « Emploi »"
    data = pptx_export.build_pptx([Section("x", title, vide="Rien à montrer.")], "COPIL", None, "", False)
    texts = _texts(Presentation(io.BytesIO(data)).slides[1])
    assert "contribution\u00a0: +12" in texts and "«\u00a0Emploi\u00a0»" in texts
    assert "contribution : " not in texts
