"""Dossier de séance as a PowerPoint deck (python-pptx): the same slides as the PDF, for members who circulate
decks. Each slide: its finding as title, the filters, the key figures, the chart as a PNG drawn offline
(vl-convert, as the PDF) or its table, the notes and the source; a cover slide with the meeting, the date, the
filters and, on demonstration data, the notice. Text in French (`1 234 567 €`, `12,5 %`)."""

from __future__ import annotations

import datetime as dt
import io

from cdv_core import charts, fmt, palette, tables
from cdv_core.sections import Section

SLIDE_W, SLIDE_H = 13.333, 7.5  # inches, 16:9
MAX_ROWS = 12


def _rgb(hex_colour: str):
    from pptx.dml.color import RGBColor

    return RGBColor.from_string(hex_colour.lstrip("#").upper())


def _text_box(slide, left, top, width, height, text: str, size: int, bold: bool = False,
              colour: str = palette.INK):
    from pptx.util import Inches, Pt

    box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    frame = box.text_frame
    frame.word_wrap = True
    para = frame.paragraphs[0]
    run = para.add_run()
    run.text = fmt.insecables(text)  # no line of a slide starts with a colon or a closing guillemet
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.color.rgb = _rgb(colour)
    return box


def build_pptx(built: list[Section], titre: str, date: dt.date | None, filtres: str, demo: bool,
               filtres_par_slide: list[str] | None = None, genere_le: dt.datetime | None = None) -> bytes:
    """The deck: a cover slide, then one slide per section (same order as the PDF)."""
    from pptx import Presentation
    from pptx.util import Inches, Pt

    from cdv_core.dossier import DEMO_NOTICE, chart_png

    genere_le = genere_le or dt.datetime.now()
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(SLIDE_W), Inches(SLIDE_H)
    blank = prs.slide_layouts[6]
    prs.core_properties.title = titre
    prs.core_properties.language = "fr-FR"
    prs.core_properties.author = "Tableau de bord des contrats de ville"

    def footer(slide, n: int | None) -> None:
        left = titre + (f" — séance du {fmt.date_fr(date)}" if date else "")
        text = f"{left} — dossier établi le {fmt.date_fr(genere_le)}"
        if n is not None:
            text += f" — {n} / {len(built) + 1}"
        _text_box(slide, 0.5, SLIDE_H - 0.45, SLIDE_W - 1, 0.35, text, 10, colour=palette.TEXTE_DISCRET)
        if demo:
            _text_box(slide, 0.5, 0.08, SLIDE_W - 1, 0.3, DEMO_NOTICE, 10, colour="#7A2E00")

    # Cover
    cover = prs.slides.add_slide(blank)
    _text_box(cover, 0.8, 1.0, SLIDE_W - 1.6, 0.5, "Dossier de séance", 20, colour=palette.TEXTE_DISCRET)
    cover_title = cover.shapes.title if cover.shapes.title is not None else None
    box = _text_box(cover, 0.8, 1.6, SLIDE_W - 1.6, 1.4, titre, 40, bold=True)
    box.name = "Titre"
    del cover_title
    if date:
        _text_box(cover, 0.8, 3.1, SLIDE_W - 1.6, 0.5, f"Séance du {fmt.date_fr(date)}", 22)
    _text_box(cover, 0.8, 3.7, SLIDE_W - 1.6, 0.6, f"Filtres : {filtres}", 16, colour=palette.TEXTE_DISCRET)
    sommaire = "\n".join(f"{i}. {sec.titre}" for i, sec in enumerate(built, start=1))
    _text_box(cover, 0.8, 4.4, SLIDE_W - 1.6, 2.5, sommaire, 14)
    footer(cover, 1)

    for i, sec in enumerate(built, start=1):
        slide = prs.slides.add_slide(blank)
        top = 0.45 if demo else 0.3
        title = _text_box(slide, 0.5, top, SLIDE_W - 1, 1.0, sec.titre, 28, bold=True)
        title.name = "Titre"
        sub = (filtres_par_slide[i - 1] if filtres_par_slide else filtres) or filtres
        _text_box(slide, 0.5, top + 1.05, SLIDE_W - 1, 0.4, sub, 14, colour=palette.TEXTE_DISCRET)
        y = top + 1.5
        if sec.chiffres:
            n = len(sec.chiffres)
            w = (SLIDE_W - 1) / n
            big = sec.chart is None
            for j, c in enumerate(sec.chiffres):
                _text_box(slide, 0.5 + j * w, y, w - 0.1, 0.7, c.valeur, 36 if big else 26, bold=True)
                _text_box(slide, 0.5 + j * w, y + (0.75 if big else 0.6), w - 0.1, 0.5, c.libelle, 14,
                          colour=palette.TEXTE_DISCRET)
            y += 1.35 if big else 1.1
        foot = [*sec.notes, *([sec.source] if sec.source else [])]
        foot_h = 0.28 * len(foot) + 0.1
        room = SLIDE_H - 0.55 - foot_h - y
        if sec.vide:
            _text_box(slide, 0.5, y, SLIDE_W - 1, 1.0, sec.vide, 20)
        elif sec.chart is not None:
            spec = charts.projection(sec.chart, font=18)
            png = chart_png({**spec, "height": int(room * 96) - 40}, width=int((SLIDE_W - 1) * 96) - 40, ppi=150)
            from PIL import Image as PILImage

            w_px, h_px = PILImage.open(io.BytesIO(png)).size
            ratio = w_px / h_px
            width, height = SLIDE_W - 1, (SLIDE_W - 1) / ratio
            if height > room:
                height, width = room, room * ratio
            pic = slide.shapes.add_picture(io.BytesIO(png), Inches(0.5 + (SLIDE_W - 1 - width) / 2), Inches(y),
                                           Inches(width), Inches(height))
            pic.name = "Graphique"
            # The chart's text alternative (its headline) for screen readers.
            pic._element.nvPicPr.cNvPr.set("descr", sec.texte_alternatif)
        elif sec.table is not None and not sec.table.empty:
            df = tables.formatted(sec.table.head(MAX_ROWS), sec.formats)
            rows, cols = len(df) + 1, len(df.columns)
            height = min(room, 0.36 * rows)
            shape = slide.shapes.add_table(rows, cols, Inches(0.5), Inches(y), Inches(SLIDE_W - 1), Inches(height))
            shape.name = "Tableau"
            tbl = shape.table
            for c, name in enumerate(df.columns):
                tbl.cell(0, c).text = str(name)
            for r, values in enumerate(df.itertuples(index=False), start=1):
                for c, v in enumerate(values):
                    tbl.cell(r, c).text = str(v)
            for r in range(rows):
                for c in range(cols):
                    for p in tbl.cell(r, c).text_frame.paragraphs:
                        for run in p.runs:
                            run.font.size = Pt(14)
            if len(sec.table) > MAX_ROWS:
                foot.insert(0, f"… et {len(sec.table) - MAX_ROWS} autres lignes (voir l'export Excel).")
        if foot:
            _text_box(slide, 0.5, SLIDE_H - 0.5 - foot_h, SLIDE_W - 1, foot_h, "\n".join(foot), 11,
                      colour=palette.TEXTE_DISCRET)
        footer(slide, i + 1)
        slide.notes_slide.notes_text_frame.text = sec.titre

    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def seance_pptx(con, seance, genere_le: dt.datetime | None = None) -> bytes:
    """The deck of a séance (`vues.Seance`), same slides as its PDF dossier."""
    from cdv_core import dossier, queries, slides

    f, built = dossier.seance_slides(con, seance)
    years = [int(y) for y in queries.options(con)["annees"]["annee"]]
    per_slide = [slides.resume_filtres(con, slides.filtres_of(spec, f, years)) for spec in seance.slides]
    return build_pptx(built, seance.titre, seance.date, slides.resume_filtres(con, f), queries.is_demo(con),
                      per_slide, genere_le)


def pptx_for(con, titre: str, date_iso: str | None, slides_json: str, filtres_qs: str) -> bytes:
    """`seance_pptx` from hashable arguments (a cached call from a page)."""
    from cdv_core import dossier

    return seance_pptx(con, dossier._seance(titre, date_iso, slides_json, filtres_qs))
