"""Draw a `Section` (cdv_core.sections) in Streamlit: as a block of a page, or full screen as a slide.

A section arrives finished (headline, figures, Vega-Lite spec, table): drawing it builds nothing, so an
unchanged section costs no chart building on a rerun.
"""

from __future__ import annotations

import html
import threading
import weakref
from collections import OrderedDict

import pandas as pd
import streamlit as st

from cdv_core import fmt, tables
from cdv_core.sections import Section
from ui import layout


def _esc(text: str) -> str:
    """Text for HTML: escaped, on one line, no line starting with a colon or a closing guillemet (`fmt.insecables`)."""
    return fmt.insecables(html.escape(" ".join(str(text).split("\n")), quote=False))


def column_config(sec: Section, df: pd.DataFrame | None = None) -> dict:
    """Streamlit column settings of a section's table: only widths here; the numbers' French text comes from
    `french` (a format given here would override it), so that sorting a column still sorts the numbers."""
    df = sec.table if df is None else df
    if df is None:
        return {}
    return {str(col): st.column_config.TextColumn(str(col), width="large") for col in df.columns
            if tables.kind(str(col), sec.formats) == "texte_large"}


# Beyond this many cells a table is shown with the browser's own number format (pandas' Styler formats every cell
# in Python at each drawing: affordable for the pages' tables, not for a list of thousands of actions).
FRENCH_MAX_CELLS = 60_000


def french(df: pd.DataFrame, formats: dict[str, str] | None = None):
    """The table for st.dataframe, its numbers written in French (`87,70 €`, `12,5 %`, `1 234`) by the one rule of
    the slides, the PDF and the PPTX (cdv_core.tables), while the cells keep their numbers: sorting a column by
    amount still sorts by amount. A pandas Styler; the table itself when too large (see FRENCH_MAX_CELLS).

    The Styler is made once per table (a cached section returns the same table at every rerun) and carries its
    French texts already written: Streamlit asks a Styler for its display values through `_compute` and
    `_translate`, which would otherwise format and lay out every cell again at each rerun (17 ms for a table of
    four rows, 180 ms for the quartiers of France)."""
    numeric = [c for c in df.columns
               if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
    if not numeric or df.size > FRENCH_MAX_CELLS or not df.columns.is_unique:
        return df
    key = tuple(sorted((formats or {}).items()))
    hit = _STYLERS.get(id(df))
    if hit is not None and hit[0]() is df and hit[1] == key:
        return hit[2]
    styler = _written(df, formats, numeric)
    ident = id(df)
    _STYLERS[ident] = (weakref.ref(df, lambda _r, i=ident: _STYLERS.pop(i, None)), key, styler)
    return styler


# id(table) -> (weak reference to the table, formats, its Styler): a Styler lives as long as its table.
_STYLERS: dict[int, tuple[weakref.ref, tuple, object]] = {}


def french_texts(df: pd.DataFrame, formats: dict[str, str] | None, numeric: list) -> dict[int, list[str]]:
    """Column position -> the French text of each cell, for the numeric columns (the slides' rule, `tables.cell`;
    a `Valeur` column is in euros on the rows whose first cell says so)."""
    first = df.columns[0]
    labels = [str(v) for v in df[first].tolist()]
    texts: dict[int, list[str]] = {}
    for pos, col in enumerate(df.columns):
        if col not in numeric:
            continue
        kind = tables.kind(str(col), formats)
        values = df[col].tolist()
        if kind == "nombre" and col != first and any("€" in lab for lab in labels):
            texts[pos] = [tables.cell(v, kind, "€" if "€" in lab else "") for v, lab in zip(values, labels,
                                                                                          strict=True)]
        else:
            texts[pos] = [tables.cell(v, kind) for v in values]
    return texts


def _written(df: pd.DataFrame, formats: dict[str, str] | None, numeric: list):
    """A Styler of the table whose display values are the French texts, written once."""
    data = df.reset_index(drop=True)
    styler = data.style
    texts = french_texts(data, formats, numeric)
    body = [[{"id": f"row{r}_col{c}", "display_value": col_texts[r]} for c, col_texts in texts.items()]
            for r in range(len(data))]
    translated = {"body": body, "table_styles": [], "cellstyle": []}
    styler._compute = lambda: styler  # type: ignore[method-assign]
    styler._translate = lambda *_a, **_k: translated  # type: ignore[method-assign]
    return styler


def chiffres(sec: Section, container=None) -> None:
    """The section's key figures, side by side."""
    if not sec.chiffres:
        return
    where = container or st
    # A figure with a long change (« +43,8 % par rapport à 2016 ») gets more room: at 1366 px, among five equal
    # columns, its pill wrapped on three lines. A short one (« +80,0 % ») fits as it is.
    long = [bool(c.delta) and len(c.delta) > 12 for c in sec.chiffres]
    widths = [1.6 if w else 1 for w in long] if any(long) else len(sec.chiffres)
    for col, c in zip(where.columns(widths), sec.chiffres, strict=True):
        col.metric(layout.texte(c.libelle), c.valeur, delta=c.delta,
                   help=layout.texte(c.aide) if c.aide else None)


def chart(sec: Section, key: str, on_select=None, height: int | None = None):
    """The section's chart from its Vega-Lite spec (nothing rebuilt), named by what it shows (its headline is the
    heading above it)."""
    if sec.chart is None:
        return None
    spec = drawable(sec.chart, height, sec.nom_graphique)
    if on_select:
        return st.vega_lite_chart(spec, width="stretch", key=key, on_select=on_select)
    st.vega_lite_chart(spec, width="stretch", key=key)
    return None


def drawable(spec: dict, height: int | None, description: str) -> dict:
    """The spec as `st.vega_lite_chart` takes it, its tables already in Arrow (what Streamlit makes of them at each
    drawing, 15 ms a rerun for the Financeurs page): made once per cached spec, height and description."""
    key = (id(spec), height, description)
    with _DRAWABLE_LOCK:
        hit = _DRAWABLE.get(key)
        if hit is not None and hit[0] is spec:
            _DRAWABLE.move_to_end(key)
            return hit[1]
    out = {**spec, "description": description}
    if height is not None:
        out["height"] = height
    if isinstance(spec.get("datasets"), dict):
        out["datasets"] = {name: _arrow(rows) for name, rows in spec["datasets"].items()}
    with _DRAWABLE_LOCK:
        _DRAWABLE[key] = (spec, out)
        while len(_DRAWABLE) > DRAWABLE_MAX:
            _DRAWABLE.popitem(last=False)
    return out


def _arrow(rows):
    """A table of the spec as Arrow bytes for Streamlit (GeoJSON left as it is, as Streamlit does).

    The rows (dicts of plain values, from `charts._values`) become an Arrow table column by column, which Streamlit
    takes as it is: a tenth of the cost of Streamlit's own way, through a pandas DataFrame (15 ms a filter change
    on the Financeurs page at national scale). Rows Arrow cannot type (a column mixing text and numbers) go
    Streamlit's way."""
    import pyarrow as pa
    from streamlit import dataframe_util

    if not isinstance(rows, list) or (rows and isinstance(rows[0], dict) and rows[0].get("type") == "Feature"):
        return rows
    if all(isinstance(row, dict) for row in rows):
        names = list(dict.fromkeys(name for row in rows for name in row))
        try:
            table = pa.Table.from_pydict({name: [row.get(name) for row in rows] for name in names})
        except (*dataframe_util.get_arrow_conversion_errors(), TypeError):
            pass
        else:
            return dataframe_util.convert_arrow_table_to_arrow_bytes(table)
    return dataframe_util.convert_anything_to_arrow_bytes(rows)


# (id(spec), height, description) -> (the spec, kept so that its id is not reused; what is drawn). Sections are
# cached, so a page drawn again finds its charts here; the oldest are forgotten.
DRAWABLE_MAX = 400
_DRAWABLE: OrderedDict[tuple, tuple[dict, dict]] = OrderedDict()
_DRAWABLE_LOCK = threading.Lock()


def notes(sec: Section, source: bool = True) -> None:
    for n in sec.notes:
        layout.note(n)
    if sec.source and source:
        layout.note(sec.source)


# In a headline sentence, the characters that would turn data (a name, a label) into markup: emphasis, code, links,
# HTML, LaTeX, tables. Punctuation of the sentence itself (parentheses, +, :, .) stays as written.
_MARKUP = "\\`*_[]<#|~$"


def texte_titre(text: str) -> str:
    """A headline built from data, shown literally without escaping the sentence's own punctuation."""
    text = fmt.insecables(" ".join(str(text).split("\n")))  # no line starting with a colon or a »
    # `>` is shown with its backslash by Streamlit's Markdown: escaped only where it would start a quote
    text = "".join("\\" + ch if ch in _MARKUP else ch for ch in text)
    return "\\" + text if text.lstrip().startswith(">") else text


def heading(sec: Section, level: str | bool = "subheader", container=None) -> None:
    """The section's headline as a page title, header, subheader, small heading (`h4`) or bold line (`gras`)."""
    where = container or st
    titre = texte_titre(sec.titre)  # data (names, labels) in the sentence shown literally
    if level in (True, "subheader"):
        where.subheader(titre, anchor=False)
    elif level == "title":  # page titles and fiche headers keep their anchor, as before the section model
        where.title(titre)
    elif level == "header":
        where.header(titre)
    elif level == "h4":
        where.markdown(f"#### {titre}")
    elif level == "gras":
        where.markdown(f"**{titre}**")


def section(sec: Section, key: str, *, heading: bool | str = True, figures: bool = True, on_select=None,
            column_config_: dict | None = None, table_height: int | None = None, source: bool = True,
            chart_key: str | None = None, **table_kwargs):
    """A page block: headline (subheader, or the `heading` level), key figures, the intro notes, the chart with
    its table one tab away, notes and source (`source=False`: not repeated on a page that has it elsewhere).

    Returns the chart's selection event when `on_select` is given.
    """
    _heading(sec, heading)
    if figures:
        chiffres(sec)
    for n in sec.intro:
        layout.note(n)
    event = None
    if sec.vide:
        layout.empty(sec.vide)
    elif sec.chart is not None:
        if sec.table is not None:
            t1, t2, table_open = layout.chart_tabs(key)
            with t1:
                event = chart(sec, chart_key or f"chart_{key}", on_select=on_select)
            if table_open:
                with t2:
                    layout.table(sec.table, sec.table_nom or sec.titre, key,
                                 column_config_ or column_config(sec), height=table_height, formats=sec.formats,
                                 **table_kwargs)
        else:
            event = chart(sec, chart_key or f"chart_{key}", on_select=on_select)
    elif sec.table is not None:
        layout.table(sec.table, sec.table_nom or sec.titre, key, column_config_ or column_config(sec),
                     height=table_height, formats=sec.formats, **table_kwargs)
    notes(sec, source)
    return event


def _heading(sec: Section, level: str | bool) -> None:
    if level:
        heading(sec, level)


SLIDE_CSS = """
<style>
/* A slide is one screen: a column as tall as the window, the chart takes what the text leaves. */
[data-testid="stMainBlockContainer"] { height: 100vh; box-sizing: border-box; padding-top: .5rem !important;
  padding-bottom: .5rem !important; }
[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] { height: 100%; gap: .45rem; }
[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > * { flex-shrink: 0; }
[data-testid="stAppIframeResizerAnchor"] { display: none; }
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] { margin-bottom: 0 !important; }
[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > .stVegaLiteChart,
[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > [data-testid="stElementContainer"]:has(.stVegaLiteChart) {
  flex: 1 1 0; min-height: 0; overflow: hidden; }
[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > [data-testid="stElementContainer"]:has(style),
[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] > [data-testid="stElementContainer"]:has(.cdv-hidden) {
  display: none; }
/* Going to the next slide never greys the screen: the previous slide stays as it is until replaced. */
[data-stale="true"], [data-stale="true"] * { opacity: 1 !important; transition: none !important; filter: none !important; }
.cdv-pres-title { font-size: clamp(2rem, 2.7vw, 3.4rem); font-weight: 800; line-height: 1.12; color: #000;
                  margin: 0; }
.cdv-pres-filters { font-size: clamp(1.1rem, 1.25vw, 1.5rem); color: #2b2b2b; }
.cdv-pres-foot { font-size: clamp(.95rem, 1vw, 1.25rem); color: #2b2b2b; line-height: 1.3; }
.cdv-pres-foot p { margin: 0; }
.cdv-figs { display: grid; gap: 12px; grid-template-columns: repeat(var(--n), minmax(0, 1fr)); }
.cdv-fig { background: #f4f6fb; border-radius: 10px; padding: 6px 16px; border-left: 6px solid #000091; }
.cdv-fig-v { font-size: clamp(2rem, 2.7vw, 3.4rem); font-weight: 800; color: #000; line-height: 1.15;
             white-space: nowrap; }
.cdv-fig-l { font-size: clamp(1.1rem, 1.3vw, 1.6rem); color: #1a1a1a; line-height: 1.2; }
.cdv-fig-d { font-size: clamp(1.1rem, 1.3vw, 1.6rem); color: #1a1a1a; font-weight: 700; }
/* A slide of figures only: a few very large figures, readable from the back of the room. */
.cdv-figs.cdv-big { grid-template-columns: repeat(var(--cols), minmax(0, 1fr)); gap: 2.2vh 2vw; margin-top: 2vh; }
.cdv-big .cdv-fig { padding: 2.2vh 1.6vw; }
.cdv-big .cdv-fig-v { font-size: clamp(3rem, 4.6vw, 6rem); }
.cdv-big .cdv-fig-l { font-size: clamp(1.4rem, 1.9vw, 2.4rem); }
.cdv-slide-table { border-collapse: collapse; font-size: clamp(1.2rem, 1.45vw, 1.8rem); color: #000; }
.cdv-slide-table th { text-align: left; border-bottom: 3px solid #161616; padding: 4px 18px 4px 0; }
.cdv-slide-table td { padding: 3px 18px 3px 0; border-bottom: 1px solid #d0d0d0; }
.cdv-slide-table td.num, .cdv-slide-table th.num { text-align: right; }
</style>
"""

# Rows of a table shown alone on a slide (beyond, the dossier has them all).
SLIDE_ROWS = {768: 6, 1080: 10}


def figures_html(sec: Section, big: bool) -> str:
    """The key figures as large cards (HTML): readable from 10 m on a slide."""
    cards = []
    for c in sec.chiffres:
        delta = f'<div class="cdv-fig-d">{_esc(c.delta)}</div>' if c.delta else ""
        cards.append(f'<div class="cdv-fig"><div class="cdv-fig-v">{_esc(c.valeur)}</div>'
                     f'<div class="cdv-fig-l">{_esc(c.libelle)}</div>{delta}</div>')
    n = len(cards)
    cols = n if n <= 3 else (2 if n == 4 else 3)
    cls = "cdv-figs cdv-big" if big else "cdv-figs"
    return f'<div class="{cls}" style="--n:{n};--cols:{cols}">{"".join(cards)}</div>'


def table_html(sec: Section, rows: int) -> str:
    """A table alone on a slide, formatted in French, its first `rows` rows (the dossier has them all)."""
    df = sec.table
    shown = tables.formatted(df.head(rows), sec.formats)
    numeric = [not pd.api.types.is_string_dtype(df[c]) and pd.api.types.is_numeric_dtype(df[c])
               for c in df.columns]
    head = "".join(f'<th class="{"num" if n else ""}" scope="col">{_esc(c)}</th>'
                   for c, n in zip(df.columns, numeric, strict=True))
    body = "".join("<tr>" + "".join(f'<td class="{"num" if n else ""}">{_esc(v)}</td>'
                                    for v, n in zip(r, numeric, strict=True)) + "</tr>"
                   for r in shown.itertuples(index=False))
    more = (f'<p class="cdv-pres-foot">… et {len(df) - rows} autres lignes dans le dossier de séance.</p>'
            if len(df) > rows else "")
    return f'<table class="cdv-slide-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}'


def slide(sec: Section, filtres_text: str, key: str = "pres") -> None:
    """A slide, one screen: the finding as title, the filters, large figures, the chart filling the rest
    (text at 24 px and more, legend beside it), the notes and the source. No table beside a chart: the
    table is in the dossier de séance."""
    from cdv_core import charts

    st.markdown(f'<div class="cdv-pres-title" role="heading" aria-level="1">{_esc(sec.titre)}</div>',
                unsafe_allow_html=True)
    st.markdown(f'<div class="cdv-pres-filters">{_esc(filtres_text)}</div>', unsafe_allow_html=True)
    has_chart = sec.chart is not None and not sec.vide
    has_table = not has_chart and sec.table is not None and not sec.table.empty and sec.type != "chiffres_cles"
    if sec.chiffres:
        st.markdown(figures_html(sec, big=not has_chart and not has_table), unsafe_allow_html=True)
    if sec.vide:
        layout.empty(sec.vide)
    elif has_chart:
        st.vega_lite_chart(charts.projection(sec.chart), width="stretch", height="stretch", key=f"{key}_chart",
                           alt=sec.texte_alternatif)
    elif has_table:
        st.markdown(table_html(sec, SLIDE_ROWS[768]), unsafe_allow_html=True)
    foot = [*sec.notes, *([sec.source] if sec.source else [])]
    if foot:
        st.markdown('<div class="cdv-pres-foot">' + "".join(f"<p>{_esc(n)}</p>" for n in foot) + "</div>",
                    unsafe_allow_html=True)
