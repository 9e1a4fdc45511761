"""Draw a `Section` (cdv_core.sections) in Streamlit: as a block of a page, or full screen as a slide.

A section arrives finished (headline, figures, Vega-Lite spec, table): drawing it builds nothing, so an
unchanged section costs no chart building on a rerun.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from cdv_core.sections import Section
from ui import layout


def _esc(text: str) -> str:
    return html.escape(str(text), quote=False)


def column_config(sec: Section, df: pd.DataFrame | None = None) -> dict:
    """Streamlit column formats of a section's table, from its `formats` (else guessed from the names)."""
    df = sec.table if df is None else df
    if df is None:
        return {}
    config = {}
    for col in df.columns:
        name = str(col)
        kind = sec.formats.get(name) or _guess(name)
        if kind == "euros":
            config[name] = st.column_config.NumberColumn(name, format="euro")
        elif kind == "euros2":
            config[name] = st.column_config.NumberColumn(name, format="%.2f €")
        elif kind == "pourcent":
            config[name] = st.column_config.NumberColumn(name, format="%.1f %%")
        elif kind == "nombre":
            config[name] = st.column_config.NumberColumn(name, format="localized")
        elif kind == "decimal":
            config[name] = st.column_config.NumberColumn(name, format="%.1f")
        elif kind == "annee":
            config[name] = st.column_config.NumberColumn(name, format="%d")
    return config


def _guess(name: str) -> str | None:
    lower = name.lower()
    if "par habitant" in lower:
        return "euros2"
    if "montant" in lower or name.isdigit() or "(€)" in name:
        return "euros"
    if "part" in lower or "(%)" in lower:
        return "pourcent"
    if lower in ("population", "actions", "valeur", "nombre"):
        return "nombre"
    return None


def chiffres(sec: Section, container=None) -> None:
    """The section's key figures, side by side."""
    if not sec.chiffres:
        return
    where = container or st
    for col, c in zip(where.columns(len(sec.chiffres)), sec.chiffres, strict=True):
        col.metric(c.libelle, c.valeur, delta=c.delta, help=c.aide)


def chart(sec: Section, key: str, on_select=None, height: int | None = None):
    """The section's chart from its Vega-Lite spec (nothing rebuilt), with its headline as text alternative."""
    if sec.chart is None:
        return None
    spec = sec.chart if height is None else {**sec.chart, "height": height}
    spec = {**spec, "description": sec.texte_alternatif}
    if on_select:
        return st.vega_lite_chart(spec, width="stretch", key=key, on_select=on_select)
    st.vega_lite_chart(spec, width="stretch", key=key)
    return None


def notes(sec: Section) -> None:
    for n in sec.notes:
        layout.note(n)
    if sec.source:
        layout.note(sec.source)


def section(sec: Section, key: str, *, heading: bool = True, figures: bool = True, on_select=None,
            column_config_: dict | None = None, table_height: int | None = None):
    """A page block: headline (subheader), key figures, chart with its table one tab away, notes and source.

    Returns the chart's selection event when `on_select` is given.
    """
    if heading:
        st.subheader(sec.titre, anchor=False)
    if figures:
        chiffres(sec)
    event = None
    if sec.vide:
        layout.empty(sec.vide)
    elif sec.chart is not None:
        if sec.table is not None:
            t1, t2 = st.tabs([":material/bar_chart: Graphique", ":material/table: Tableau"])
            with t1:
                event = chart(sec, f"chart_{key}", on_select=on_select)
            with t2:
                layout.table(sec.table, sec.table_nom or sec.titre, key,
                             column_config_ or column_config(sec), height=table_height)
        else:
            event = chart(sec, f"chart_{key}", on_select=on_select)
    elif sec.table is not None:
        layout.table(sec.table, sec.table_nom or sec.titre, key, column_config_ or column_config(sec),
                     height=table_height)
    notes(sec)
    return event


SLIDE_CSS = """
<style>
.cdv-pres-title { font-size: clamp(2.2rem, 2.9vw, 3.4rem); font-weight: 800; line-height: 1.15; color: #000;
                  margin: .2rem 0 .4rem 0; }
.cdv-pres-filters { font-size: 1.25rem; color: #2b2b2b; margin-bottom: .8rem; }
.cdv-pres-source { font-size: 1.1rem; color: #2b2b2b; margin-top: .5rem; }
.cdv-pres-note { font-size: 1.05rem; color: #2b2b2b; }
</style>
"""


def slide(sec: Section, filtres_text: str, key: str = "pres") -> None:
    """A slide: the finding as title, the filters, big figures, the chart (or its table when there is none)."""
    st.markdown(f'<div class="cdv-pres-title" role="heading" aria-level="1">{_esc(sec.titre)}</div>',
                unsafe_allow_html=True)
    st.markdown(f'<div class="cdv-pres-filters">{_esc(filtres_text)}</div>', unsafe_allow_html=True)
    chiffres(sec)
    if sec.vide:
        layout.empty(sec.vide)
    elif sec.chart is not None:
        table = sec.table
        if table is None or len(table.columns) > 6:
            chart(sec, f"{key}_chart")
        else:
            left, right = st.columns([3, 2], gap="large")
            with left:
                chart(sec, f"{key}_chart")
            with right:
                st.dataframe(table, hide_index=True, width="stretch", height=min(600, 36 * (len(table) + 1) + 4),
                             column_config=column_config(sec), key=f"{key}_table")
    elif sec.table is not None and sec.type != "chiffres_cles":  # the figures already say it all
        st.dataframe(sec.table, hide_index=True, width=1100, column_config=column_config(sec),
                     key=f"{key}_table")
    for n in sec.notes:
        st.markdown(f'<div class="cdv-pres-note">{_esc(n)}</div>', unsafe_allow_html=True)
    if sec.source:
        st.markdown(f'<div class="cdv-pres-source">{_esc(sec.source)}</div>', unsafe_allow_html=True)
