"""Vue d'ensemble: the headline figures of the programmation for a COPIL (sections of
cdv_core.sections.vue_ensemble)."""

from __future__ import annotations

import streamlit as st

from cdv_core import maps, queries
from cdv_core.filters import Filtres
from cdv_core.sections import vue_ensemble as sve
from ui import filters, layout, require_app, show, url
from ui.data import q, section

require_app()


def main() -> None:
    f: Filtres = st.session_state.get("filtres", Filtres())
    ctx = section("ve_annees", f)
    if ctx.vide:
        st.title(show.texte_titre(ctx.titre))
        layout.filters_line(filters.summary(f))
        layout.empty(ctx.vide)
        return
    years = ctx.params["annees"]
    head, c1, c2 = st.columns([4, 1, 1], vertical_alignment="bottom")
    url.seed("ve_annee", "annee", years, ctx.params["defaut"], int)
    annee = c1.selectbox("Année affichée", years, key="ve_annee")
    refs = section("ve_annees", f, annee=annee).params
    url.seed("ve_ref", "reference", refs["references"], refs["annee_ref"], int)
    annee_ref = c2.selectbox("Comparer à", refs["references"], key="ve_ref")
    url.keep("annee", annee, ctx.params["defaut"])
    url.keep("reference", annee_ref, refs["annee_ref"])

    entete = section("ve_entete", f, annee=annee, annee_ref=annee_ref)
    show.heading(entete, "title", head)
    layout.filters_line(filters.summary(f))
    show.chiffres(entete)
    k = q(queries.kpis, f.with_(annees=(annee,)))
    apart = queries.phrase_hors_financement(k, annee, q(queries.depots_en_instruction, f))
    if apart:
        layout.note(apart)

    st.divider()
    show.section(section("ve_financeurs", f), "ve_fin", source=False)
    st.divider()
    left, right = st.columns(2, gap="large")
    with left:
        pil = section("ve_piliers", f, annee=annee)
        codes = pil.params.get("codes", {})
        show.section(pil, "ve_pil", source=False, on_select=lambda: filters.narrow_from_chart(
            "chart_ve_pil", pil.params["selection"], "pilier_libelle", codes, "piliers"))
    with right:
        qpv = section("ve_quartiers", f, annee=annee)
        show.heading(qpv)
        if qpv.vide:
            layout.empty(qpv.vide)
        else:
            carte(f, annee)
            show.notes(qpv, source=False)
    if not qpv.vide:
        st.subheader(f"Tous les quartiers en {annee}", anchor=False)
        layout.table(qpv.table, qpv.table_nom, "ve_qpv", show.column_config(qpv), height=560)


def carte(f: Filtres, annee: int) -> None:
    """The map of the quartiers (contours and colours from cdv_core.maps)."""
    built = q(sve.carte_montants, f, annee)
    if built.deck is None:
        layout.empty(built.message or "Aucun contour n'est disponible pour ces quartiers (voir le tableau).")
    else:
        st.pydeck_chart(built.deck, width="stretch", height=560)
        if built.legend is not None:
            st.markdown(maps.legend_html(built.legend), unsafe_allow_html=True)
        if built.message:
            layout.empty(built.message)


main()
