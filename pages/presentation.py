"""Mode présentation: the slides of a séance, full width, large type, one finding each.

`/presentation?seance=<nom>&slide=3` opens a saved séance on its 3rd slide; `/presentation?types=piliers,
financeurs` shows those slide types; without either, the default sequence, on the filters given in the URL. Next/previous by button, arrow keys or a presenter's clicker
(PageDown/PageUp).
"""

from __future__ import annotations

import streamlit as st

from cdv_core import queries, slides, vues
from ui import data, layout, require_app, show
from ui.data import q

require_app()

# No sidebar, no toolbar (initial_sidebar_state is app-wide), large high-contrast type.
CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stSidebarNav"], .st-key-pres_clicker { display: none !important; }
.block-container { max-width: 100% !important; padding-left: 2.5rem !important; padding-right: 2.5rem !important; }
.cdv-pres-top { display: flex; justify-content: space-between; font-size: 1.1rem; color: #2b2b2b;
                border-bottom: 2px solid #161616; padding-bottom: .2rem; }
.cdv-banner { font-size: .85rem; padding: 2px 10px; margin-bottom: 0; white-space: nowrap; overflow: hidden;
              text-overflow: ellipsis; }
.st-key-pres_nav button { min-height: 2.1rem; padding-top: 0; padding-bottom: 0; }
</style>
"""


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _go(n: int, total: int) -> None:
    """Button callback: show slide `n` (1-based), kept in the URL so a reload stays on it."""
    st.query_params["slide"] = str(min(max(n, 1), total))


def main() -> None:
    st.markdown(CSS + show.SLIDE_CSS, unsafe_allow_html=True)
    params = st.query_params
    nom = params.get("seance", "")
    seance = None
    if nom:
        con = data.cursor()
        try:
            seance = vues.load_seance(con, nom)
        finally:
            con.close()
        if seance is None:
            st.title("Séance introuvable")
            layout.empty(f"Aucune séance n'est enregistrée sous le nom « {nom} ». Choisissez-en une sur la page "
                         "de préparation des séances.")
            st.page_link("pages/seance.py", label="Préparer une séance", icon=":material/slideshow:")
            return
    if seance is None or not seance.slides:
        chosen = [t for t in params.get("types", "").split(",") if t in slides.CATALOGUE]
        seance = vues.Seance(titre="Présentation", slides=[{"type": t} for t in chosen or slides.DEFAULT_SEQUENCE],
                             filtres_query_string=vues.filters_query_string(params.to_dict()))
    years = [int(y) for y in q(queries.options)["annees"]["annee"]]
    f = vues.filtres_from_query(seance.filtres_query_string, years)
    total = len(seance.slides)
    try:
        n = min(max(int(params.get("slide", "1")), 1), total)
    except ValueError:
        n = 1
    type_, spec = slides.spec_args(seance.slides[n - 1])
    f_slide = slides.filtres_of(seance.slides[n - 1], f, years)
    slide = data.section(type_, f_slide, **spec)

    when = f" — {seance.date.day}/{seance.date.month:02d}/{seance.date.year}" if seance.date else ""
    # Navigation on top, always in view whatever the slide's height.
    nav = st.container(key="pres_nav")
    top, prev_col, next_col, exit_col = nav.columns([6, 1.2, 1.2, 0.8], vertical_alignment="center")
    top.markdown(f'<div class="cdv-pres-top"><span>{_esc(seance.titre)}{when}</span>'
                 f'<span class="cdv-slide-number">{n} / {total}</span></div>', unsafe_allow_html=True)
    prev_col.button("Précédente", icon=":material/arrow_back:", on_click=_go, args=(n - 1, total),
                    disabled=n <= 1, key="pres_prev", shortcut="Left", width="stretch")
    next_col.button("Suivante", icon=":material/arrow_forward:", on_click=_go, args=(n + 1, total),
                    disabled=n >= total, key="pres_next", shortcut="Right", width="stretch", type="primary")
    exit_col.page_link("pages/seance.py", label="Quitter", icon=":material/close:")
    # Presenter clickers send PageDown/PageUp: two more shortcuts, on buttons kept out of sight.
    with st.container(key="pres_clicker"):
        st.button("Suivante (télécommande)", on_click=_go, args=(n + 1, total), key="pres_pgdn",
                  shortcut="PageDown")
        st.button("Précédente (télécommande)", on_click=_go, args=(n - 1, total), key="pres_pgup",
                  shortcut="PageUp")
    show.slide(slide, q(slides.resume_filtres, f_slide))
    # The next slide (and the previous one) built now, while the audience reads this one: going there
    # draws it from the cache.
    for m in (n + 1, n - 1):
        if 1 <= m <= total:
            type_, spec = slides.spec_args(seance.slides[m - 1])
            data.section(type_, slides.filtres_of(seance.slides[m - 1], f, years), **spec)


main()
