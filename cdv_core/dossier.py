"""Dossier de séance: the slides of a meeting as a PDF (charts drawn by vl-convert, no browser, no network).

Each slide is one A4 landscape page: its title (the finding), the active filters, headline figures, the chart
as a 220 dpi PNG, its table and its source line; every page carries the meeting, the date, page numbers and,
on demonstration data, the "données de démonstration" notice. The font is Bitstream Vera Sans, shipped inside
the reportlab package (French accents and the € sign), so the PDF looks the same on any machine.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdv_core import fmt
from cdv_core.filters import Filtres
from cdv_core.slides import Slide

PPI = 220
FONT, FONT_BOLD = "CDVSans", "CDVSans-Bold"
INK, GREY, BAND = "#161616", "#4a4a4a", "#fff4d6"
MAX_ROWS = 16
DEMO_NOTICE = ("Données de démonstration — territoire de la CA de Lens-Liévin : actions, montants et enquêtes "
               "inventés mais vraisemblables. Ne pas citer.")

_fonts_ready = False


def font_dir() -> Path:
    """Folder of the TTF fonts shipped by reportlab (Vera: accents, €, « »)."""
    import reportlab

    return Path(reportlab.__file__).parent / "fonts"


def _register_fonts() -> None:
    global _fonts_ready
    if _fonts_ready:
        return
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT, str(font_dir() / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(font_dir() / "VeraBd.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)
    import vl_convert as vlc

    vlc.register_font_directory(str(font_dir()))
    _fonts_ready = True


def chart_png(chart, width: int = 900, ppi: int = PPI) -> bytes:
    """PNG of a chart (a Vega-Lite spec dict, or an Altair chart) at `ppi` (vl-convert; remote data refused,
    the export font forced)."""

    import vl_convert as vlc

    from cdv_core import charts
    from cdv_core.charts import LOCALE_FR

    _register_fonts()
    # The builders' charts are valid; validation costs seconds on maps. A cached spec is never modified.
    spec = dict(chart) if isinstance(chart, dict) else charts.spec(chart)
    # No-break spaces (thousands, before € and %) are drawn double-wide by the renderer's fallback: plain
    # spaces in the image (a label never wraps there).
    spec = json.loads(json.dumps(spec).replace("\\u00a0", " ").replace("\\u202f", " "))
    spec["config"] = {**spec.get("config", {}), "font": "Bitstream Vera Sans"}
    if "width" not in spec or spec.get("width") == "container":
        spec["width"] = width
    number = {k: (v.replace("\u00a0", " ") if isinstance(v, str) else [x.replace("\u00a0", " ") for x in v]
                  if isinstance(v, list) and all(isinstance(x, str) for x in v) else v)
              for k, v in LOCALE_FR["number"].items()}
    return vlc.vegalite_to_png(spec, ppi=ppi, allowed_base_urls=[], format_locale=number,
                               time_format_locale=LOCALE_FR["time"])


def _text(value: str) -> str:
    """Safe for a reportlab Paragraph; narrow no-break spaces become no-break spaces (not in the font); French
    typography (`fmt.insecables`): no line of the dossier starts with a colon or a closing guillemet."""
    value = fmt.insecables(str(value)).replace("\u202f", "\u00a0")
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(value: str) -> str:
    """Text drawn as is (a table cell that is not a Paragraph, the page footer): no markup, nothing escaped."""
    return str(value).replace("\u202f", "\u00a0")


def _is_money(col: str) -> bool:
    c = col.lower()
    return "montant" in c or "€" in c or bool(re.fullmatch(r"\d{4}", col))


def format_cell(col: str, value, row: pd.Series | None = None) -> str:
    """French text of a table cell, from its column name (`1 234 €`, `12,5 %`, `1 234`)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, str):
        return value
    if col == "Valeur" and row is not None:
        label = str(row.iloc[0])
        return fmt.euros(value) if "€" in label else fmt.nombre(value)
    if "par habitant" in col.lower():
        return fmt.euros(value, 1)
    if _is_money(col):
        return fmt.euros(value)
    if "part" in col.lower() or "%" in col:
        return fmt.pourcent(value)
    if isinstance(value, float) and not float(value).is_integer():
        return fmt.nombre(value, 1)
    return fmt.nombre(value)


@dataclass
class DossierInfo:
    titre: str
    date: dt.date | None
    filtres: str
    demo: bool
    genere_le: dt.datetime


def build_pdf(slides: list[Slide], titre: str, date: dt.date | None, filtres: str, demo: bool,
              genere_le: dt.datetime | None = None) -> bytes:
    """The dossier: a cover page (meeting, date, filters, contents), then one page per slide."""
    from reportlab import rl_config
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        KeepInFrame,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    rl_config.useA85 = 0  # binary image streams: smaller, and reportlab's pure-Python ASCII85 takes seconds
    _register_fonts()
    info = DossierInfo(titre, date, filtres, demo, genere_le or dt.datetime.now())
    page_w, page_h = landscape(A4)
    margin = 14 * mm
    top = margin + (9 * mm if demo else 0)
    frame_w, frame_h = page_w - 2 * margin, page_h - top - margin - 8 * mm
    st = {
        "titre": ParagraphStyle("titre", fontName=FONT_BOLD, fontSize=19, leading=23, textColor=INK,
                                spaceAfter=4),
        "cover": ParagraphStyle("cover", fontName=FONT_BOLD, fontSize=30, leading=36, textColor=INK,
                                spaceAfter=10),
        "sub": ParagraphStyle("sub", fontName=FONT, fontSize=14, leading=19, textColor=INK, spaceAfter=6),
        "filtres": ParagraphStyle("filtres", fontName=FONT, fontSize=10, leading=13, textColor=GREY,
                                  spaceAfter=6),
        "small": ParagraphStyle("small", fontName=FONT, fontSize=9, leading=12, textColor=GREY),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=8.5, leading=10.5, textColor=INK),
        "head": ParagraphStyle("head", fontName=FONT_BOLD, fontSize=8.5, leading=10.5, textColor=INK),
        "kpi": ParagraphStyle("kpi", fontName=FONT_BOLD, fontSize=17, leading=21, textColor=INK),
        "kpil": ParagraphStyle("kpil", fontName=FONT, fontSize=9.5, leading=12, textColor=GREY),
        "vide": ParagraphStyle("vide", fontName=FONT, fontSize=14, leading=18, textColor=INK),
    }

    def figures(sl: Slide):
        if not sl.chiffres:
            return None
        cells = [[Paragraph(_text(c.valeur), st["kpi"]), Paragraph(_text(c.libelle), st["kpil"])]
                 for c in sl.chiffres]
        t = Table([cells], colWidths=[frame_w / len(cells)] * len(cells))
        t.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f4f6fb")),
                               ("LINEAFTER", (0, 0), (-2, -1), 3, colors.white),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
        return t

    def data_table(df: pd.DataFrame, width: float):
        shown = df.head(MAX_ROWS)
        cols = [str(c) for c in df.columns]
        wide = len(cols) > 6
        head = [f"{c} (€)" if wide and _is_money(c) else c for c in cols]
        rows = [[Paragraph(_text(c), st["head"]) for c in head]]
        for _, r in shown.iterrows():
            cells = []
            for j, (c, v) in enumerate(zip(cols, r, strict=True)):
                text = fmt.nombre(v) if wide and _is_money(c) and not isinstance(v, str) else format_cell(c, v, r)
                # First column wraps (labels); figures stay on one line.
                # (a plain string is drawn as is: no markup to escape, `<` and `&` stay literal)
                cells.append(Paragraph(_text(text), st["cell"]) if j == 0 else _plain(text))
            rows.append(cells)
        # Figure columns as wide as their longest text (≈ 5 pt a character at 8.5 pt), labels take the rest.
        # A header's longest word in bold (≈ 6.3 pt a character) is never split across lines.
        chars = [max([4] + [len(str(row[j])) for row in rows[1:]]) for j in range(1, len(cols))]
        words = [max([0] + [len(w) for w in head[j].split()]) for j in range(1, len(cols))]
        rest_w = [max(5.2 * n, 6.3 * w) + 8 for n, w in zip(chars, words, strict=True)]
        first = max(width - sum(rest_w), width * 0.22)
        scale = (width - first) / sum(rest_w) if rest_w else 1
        t = Table(rows, colWidths=[first] + [w * scale for w in rest_w], repeatRows=1)
        style = [("LINEBELOW", (0, 0), (-1, 0), 1, colors.HexColor(INK)),
                 ("FONT", (1, 1), (-1, -1), FONT, 8.5), ("TEXTCOLOR", (1, 1), (-1, -1), colors.HexColor(INK)),
                 ("ALIGN", (1, 1), (-1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                 ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
        style += [("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f2f2f2")) for i in range(2, len(rows), 2)]
        t.setStyle(TableStyle(style))
        out = [t]
        if len(df) > MAX_ROWS:
            out.append(Paragraph(_text(f"… et {len(df) - MAX_ROWS} autres lignes (voir l'export Excel)."),
                                 st["small"]))
        return out

    def image(png: bytes, max_w: float, max_h: float):
        from PIL import Image as PILImage

        w_px, h_px = PILImage.open(io.BytesIO(png)).size
        # Points at the rendering resolution, shrunk to the box: never enlarged (stays ≥ PPI dpi).
        w, h = w_px * 72 / PPI, h_px * 72 / PPI
        k = min(1.0, max_w / w, max_h / h)
        return Image(io.BytesIO(png), width=w * k, height=h * k)

    pngs: dict[tuple[int, int], bytes] = {}

    def png(i: int, sl: Slide, width: int) -> bytes:
        if (i, width) not in pngs:
            pngs[(i, width)] = chart_png(sl.chart, width=width)
        return pngs[(i, width)]

    def make_story() -> list:
        story = [Paragraph("Dossier de séance", st["sub"]), Paragraph(_text(titre), st["cover"])]
        if date:
            story.append(Paragraph(_text(f"Séance du {fmt.date_fr(date)}"), st["sub"]))
        story.append(Paragraph(_text(f"Filtres : {filtres}"), st["filtres"]))
        story.append(Spacer(1, 8))
        story.append(Paragraph("Sommaire", st["sub"]))
        for i, sl in enumerate(slides, start=1):
            story.append(Paragraph(_text(f"{i}. {sl.titre} (page {i + 1})"), st["filtres"]))
        if demo:
            story += [Spacer(1, 10), Paragraph(_text(DEMO_NOTICE), st["sub"])]

        for i, sl in enumerate(slides):
            story.append(PageBreak())
            body = [Paragraph(_text(sl.titre), st["titre"]), Paragraph(_text(filtres), st["filtres"])]
            fig = figures(sl)
            if fig is not None:
                body += [fig, Spacer(1, 8)]
            if sl.vide:
                body.append(Paragraph(_text(sl.vide), st["vide"]))
            table = sl.table if sl.table is not None and not sl.table.empty else None
            wide = table is not None and len(table.columns) > 6
            if sl.chart is not None and not sl.vide:
                if table is None or wide:
                    img = image(png(i, sl, int(frame_w) - 120), frame_w, 290 if wide else 360)
                    body += [img, Spacer(1, 6)]
                    if table is not None:
                        body += data_table(table, frame_w)
                else:
                    share = 0.56 if len(table.columns) <= 4 else 0.44
                    left_w, right_w = frame_w * share, frame_w * (1 - share) - 10
                    img = image(png(i, sl, int(left_w) - 110), left_w, 360)
                    side = Table([[img, data_table(table, right_w)]], colWidths=[left_w + 10, right_w])
                    side.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                              ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
                    body.append(side)
            elif table is not None and not sl.vide:
                body += data_table(table, min(frame_w, 520))
            body.append(Spacer(1, 6))
            body += [Paragraph(_text(n), st["small"]) for n in sl.notes]
            if sl.source:
                body.append(Paragraph(_text(sl.source), st["small"]))
            story.append(KeepInFrame(frame_w, frame_h, body, mode="shrink"))
        return story

    def decorate(canvas, doc):
        canvas.saveState()
        if info.demo:
            canvas.setFillColor(colors.HexColor(BAND))
            canvas.rect(margin, page_h - margin - 7 * mm, frame_w, 7 * mm, stroke=0, fill=1)
            canvas.setFillColor(colors.HexColor("#b34000"))
            canvas.rect(margin, page_h - margin - 7 * mm, 2 * mm, 7 * mm, stroke=0, fill=1)
            canvas.setFillColor(colors.HexColor(INK))
            canvas.setFont(FONT, 9)
            canvas.drawString(margin + 4 * mm, page_h - margin - 4.6 * mm, DEMO_NOTICE)
        canvas.setFont(FONT, 9)
        canvas.setFillColor(colors.HexColor(GREY))
        left = info.titre + (f" — séance du {fmt.date_fr(info.date)}" if info.date else "")
        canvas.drawString(margin, margin - 2 * mm,
                          f"{left} — dossier établi le {fmt.date_fr(info.genere_le)}".replace("\u202f", "\u00a0"))
        canvas.drawRightString(page_w - margin, margin - 2 * mm, f"Page {doc.page} / {info_pages[0]}")
        canvas.restoreState()

    def render(total: int) -> tuple[bytes, int]:
        info_pages[0] = total
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=margin, rightMargin=margin,
                                topMargin=top, bottomMargin=margin + 6 * mm, title=titre,
                                author="Tableau de bord des contrats de ville", subject="Dossier de séance")
        doc.build(make_story(), onFirstPage=decorate, onLaterPages=decorate)
        return buffer.getvalue(), doc.page

    info_pages = [0]
    # Each slide is shrunk to one page, so the count is known; a second pass only if the cover overflowed.
    pdf, pages = render(len(slides) + 1)
    if pages != len(slides) + 1:
        pdf, _ = render(pages)
    return pdf


def seance_slides(con, seance) -> tuple[Filtres, list[Slide]]:
    """The filters and the built slides of a saved séance (`vues.Seance`)."""
    from cdv_core import queries, slides, vues

    years = [int(y) for y in queries.options(con)["annees"]["annee"]]
    f = vues.filtres_from_query(seance.filtres_query_string, years)
    built = []
    for spec in seance.slides:
        type_, params = slides.spec_args(spec)
        built.append(slides.build(con, slides.filtres_of(spec, f, years), type_, **params))
    return f, built


def seance_pdf(con, seance, genere_le: dt.datetime | None = None) -> bytes:
    """The dossier de séance of a saved séance, as PDF bytes."""
    from cdv_core import queries, slides

    f, built = seance_slides(con, seance)
    return build_pdf(built, seance.titre, seance.date, slides.resume_filtres(con, f), queries.is_demo(con),
                     genere_le)


def slides_xlsx(built: list[Slide], filtres: str = "") -> bytes:
    """Every table of the slides in one workbook, one sheet per table (numbered in the séance's order), each
    sheet headed by the slide's finding, the filters and the source."""
    from cdv_core import exports

    sheets, entetes, formats = {}, {}, {}
    for i, sl in enumerate(built, start=1):
        if sl.table is None or sl.table.empty:
            continue
        name = f"{i} {sl.table_nom or sl.titre}"
        sheets[name] = sl.table
        entetes[name] = [sl.titre, f"Filtres : {filtres}" if filtres else "", sl.source]
        formats[name] = sl.formats
    if not sheets:
        sheets = {"Aucune donnée": pd.DataFrame({"Message": ["Aucun tableau pour ces filtres."]})}
    return exports.to_xlsx_bytes(sheets, entetes, formats)


def _seance(titre: str, date_iso: str | None, slides_json: str, filtres_qs: str):
    import json

    from cdv_core import vues

    return vues.Seance(titre=titre, date=dt.date.fromisoformat(date_iso) if date_iso else None,
                       slides=json.loads(slides_json), filtres_query_string=filtres_qs)


def pdf_for(con, titre: str, date_iso: str | None, slides_json: str, filtres_qs: str) -> bytes:
    """`seance_pdf` from hashable arguments (a cached call from a page)."""
    return seance_pdf(con, _seance(titre, date_iso, slides_json, filtres_qs))


def xlsx_for(con, slides_json: str, filtres_qs: str) -> bytes:
    """Every table of a séance's slides in one workbook, from hashable arguments."""
    from cdv_core import slides

    f, built = seance_slides(con, _seance("", None, slides_json, filtres_qs))
    return slides_xlsx(built, slides.resume_filtres(con, f))
