"""Financeurs: each funder's contribution, natures and sections, requested vs granted, effet levier,
co-financing and the funder × pillar matrix (sections of cdv_core.sections.financeurs)."""

from __future__ import annotations

import dataclasses

import streamlit as st

from cdv_core.filters import Filtres
from ui import annees, filters, layout, require_app, show, url
from ui.data import section

require_app()

MODES = {"montants": "Montants", "parts": "Parts de l'année (%)"}
MODES_MATRICE = {"montants": "Montants", "parts": "Part du budget du financeur (%)"}


def main() -> None:
    f: Filtres = st.session_state.get("filtres", Filtres())
    choix = annees.choisir(f, "financeurs_annees", "fin")
    if choix is None:
        return
    head, annee, annee_ref = choix.head, choix.annee, choix.annee_ref

    entete = section("financeurs_entete", f, annee=annee, annee_ref=annee_ref)
    show.heading(entete, "title", head)
    layout.filters_line(filters.summary(f))
    show.chiffres(entete)

    st.divider()
    contributions(f, annee)
    st.divider()
    if annee_ref != annee:
        show.section(section("financeurs_croissance", f, annee=annee, annee_ref=annee_ref), "fin_growth",
                     source=False)
        st.divider()
    left, right = st.columns(2, gap="large")
    with left:
        show.section(section("financeurs_natures", f, annee=annee), "fin_nature", source=False)
    with right:
        show.section(section("financeurs_sections", f, annee=annee), "fin_section", source=False)
    st.divider()
    show.section(section("financeurs_demandes", f), "fin_demande", source=False)
    st.divider()
    effet_levier(f, annee)
    st.divider()
    cofinancement(f, annee)
    st.divider()
    matrice(f, annee)
    # Dispositifs (sections of cdv_core.sections.dispositifs)
    for type_ in ("dispositifs", "dispositifs_postes", "dispositifs_tfpb"):
        st.divider()
        show.section(section(type_, f, annee=annee), f"fin_{type_}")


def contributions(f: Filtres, annee: int) -> None:
    head = st.container()
    url.seed("fin_contrib_mode", "contributions", MODES, "montants")
    mode = st.segmented_control("Afficher", list(MODES), format_func=MODES.get,
                                key="fin_contrib_mode") or "montants"
    url.keep("contributions", mode, "montants")
    sec = section("financeurs_contributions", f, annee=annee, mode=mode)
    show.heading(sec, "subheader", head)
    show.section(sec, "fin_parts" if mode == "parts" else "fin_contrib", heading=False, source=False)


def effet_levier(f: Filtres, annee: int) -> None:
    sec = section("financeurs_levier", f, annee=annee)
    show.heading(sec)
    if sec.vide:
        layout.empty(sec.vide)
    show.notes(sec, source=False)
    if sec.chart is None:
        return
    st.markdown("**Par année**")
    show.section(dataclasses.replace(sec, vide=None, notes=[]), "fin_levier_annee", heading=False, source=False)
    with st.container():
        st.markdown(f"**Par pilier, en {annee}**")
        show.section(section("financeurs_levier_pilier", f, annee=annee), "fin_levier_pilier", heading=False,
                     source=False)
    with st.container():
        st.markdown(f"**Par quartier, en {annee}**")
        show.section(section("financeurs_levier_qpv", f, annee=annee), "fin_levier_qpv", heading=False,
                     source=False)


def cofinancement(f: Filtres, annee: int) -> None:
    sec = section("financeurs_cofinancement", f, annee=annee)
    if sec.vide:
        show.section(sec, "fin_distribution", source=False)
        return
    show.heading(sec)
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown("**Nombre d'actions cofinancées par chaque financeur**")
        show.section(section("financeurs_actions", f, annee=annee), "fin_nb_actions", heading=False, source=False)
    with right:
        st.markdown("**Combien de financeurs par action ?**")
        show.section(sec, "fin_distribution", heading=False, source=False)


def matrice(f: Filtres, annee: int) -> None:
    head = st.container()
    first = section("financeurs_matrice", f, annee=annee)
    if first.vide:
        show.section(first, "fin_matrice", source=False)
        return
    url.seed("fin_matrice_mode", "matrice", MODES_MATRICE, "montants")
    mode = st.segmented_control("Afficher", list(MODES_MATRICE), format_func=MODES_MATRICE.get,
                                key="fin_matrice_mode") or "montants"
    url.keep("matrice", mode, "montants")
    sec = first if mode == "montants" else section("financeurs_matrice", f, annee=annee, mode=mode)
    show.heading(sec, "subheader", head)
    show.section(sec, f"fin_matrice_{sec.params['valeur']}", heading=False, source=False)


main()
