"""Vue d'ensemble: the headline figures of the programmation for a COPIL (sections of
cdv_core.sections.vue_ensemble)."""

from __future__ import annotations

import streamlit as st

from cdv_core import maps, queries
from cdv_core.filters import Filtres
from cdv_core.sections import vue_ensemble as sve
from ui import annees, filters, layout, require_app, show
from ui.data import q, section

require_app()


def main() -> None:
    f: Filtres = st.session_state.get("filtres", Filtres())
    choix = annees.choisir(f, "ve_annees", "ve")
    if choix is None:
        return
    head, annee, annee_ref = choix.head, choix.annee, choix.annee_ref

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
        layout.table(qpv.table, qpv.table_nom, "ve_qpv", show.column_config(qpv), height=560, formats=qpv.formats)


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
