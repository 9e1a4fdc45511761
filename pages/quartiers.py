"""Quartiers: map and ranking of the QPV on a chosen measure, and the fiche of one quartier (sections of
cdv_core.sections.quartiers; the map from cdv_core.maps)."""

from __future__ import annotations

import streamlit as st

from cdv_core import maps
from cdv_core.filters import Filtres
from cdv_core.sections import quartiers as sq
from cdv_core.sections.engagements import indicateurs_en_serie
from ui import filters, layout, require_app, show, url
from ui.data import q, section

require_app()

FICHE_KEY = "qp_fiche"  # selectbox holding the QPV whose fiche is shown
URL_KEY = "qpv_fiche"  # its mirror in the URL (the shared filters' `qpv` is another thing)
GEO_KEY = "qp_geo"


def choose(code: str | None) -> None:
    """Show the fiche of `code` (from a click on the map, a bar or a table row)."""
    if code:
        st.session_state[FICHE_KEY] = code


def main() -> None:
    f: Filtres = st.session_state.get("filtres", Filtres())
    linked = st.query_params.get(URL_KEY) or None
    geos = section("quartiers_geographies", f, qpv=linked)
    if geos.vide:
        st.title(show.texte_titre(geos.titre))
        layout.filters_line(filters.summary(f))
        layout.empty(geos.vide)
        return
    geo_codes = geos.params["geographies"]
    # A shared link to a fiche opens the fiche's geography; otherwise that of the latest selected year.
    url.seed(GEO_KEY, "geographie", geo_codes, geos.params["defaut"])

    head = st.container()
    c_geo, c_mes = st.columns([3, 2], vertical_alignment="bottom")
    with c_geo:
        if len(geo_codes) > 1:
            st.segmented_control("Géographie", geo_codes, key=GEO_KEY, format_func=geos.params["libelles"].get,
                                 required=True)
            show.notes(geos)
    geo = st.session_state[GEO_KEY]
    url.keep("geographie", geo, geos.params["defaut"])
    mesures = section("quartiers_mesures", f, geographie=geo).params["mesures"]
    with c_mes:
        url.seed("qp_mesure", "mesure", mesures, next(iter(mesures)))
        mesure = st.selectbox("Mesure affichée sur la carte et le classement", list(mesures),
                              format_func=mesures.get, key="qp_mesure")
    url.keep("mesure", mesure, next(iter(mesures)))

    entete = section("quartiers_entete", f, geographie=geo, mesure=mesure)
    show.heading(entete, "title", head)
    if entete.vide:
        with head:
            layout.filters_line(filters.summary(f))
        layout.empty(entete.vide)
        return
    with head:
        layout.filters_line(filters.summary(f) + f" · Géographie {geo}")

    codes = entete.params["codes"]
    if st.session_state.get(FICHE_KEY) not in codes:
        st.session_state[FICHE_KEY] = linked if linked in codes else entete.params["premier"]
    selected = st.session_state[FICHE_KEY]

    left, right = st.columns([1, 1], gap="large")
    with left:
        carte(f, entete, selected)
    with right:
        classement(section("quartiers_classement", f, geographie=geo, mesure=mesure))
    show.notes(entete, source=False)

    st.divider()
    names = entete.params["noms"]
    st.selectbox("Quartier affiché dans la fiche", sorted(codes, key=lambda c: names[c]), key=FICHE_KEY,
                 format_func=names.get,
                 help="Cliquez aussi sur un quartier de la carte, une barre ou une ligne du classement.")
    code = st.session_state[FICHE_KEY]
    if st.query_params.get(URL_KEY) != code:
        st.query_params[URL_KEY] = code
    # A link to a fiche (?qpv_fiche=CODE), or a click on the map, a bar or a row, shows the fiche: scrolled to.
    shown_before = st.session_state.get("qp_fiche_vue")
    st.session_state["qp_fiche_vue"] = code
    layout.anchor("cdv-fiche")
    if (shown_before is None and linked == code) or (shown_before is not None and shown_before != code):
        layout.scroll_to("cdv-fiche", code)
    fiche(f, geo, code)


def carte(f: Filtres, entete, selected: str) -> None:
    st.subheader(show.texte_titre(entete.params["titre_carte"]), anchor=False)
    # only the contours of these quartiers (and their communes), framed on them; those without one are named
    built = q(sq.carte_mesure, f, entete.params["geographie"], entete.params["mesure"], entete.params["libelle"],
              entete.params["unite"], selected or None, 620)
    if built.deck is None:
        layout.empty(built.message or entete.params["carte_vide"] or "Aucun contour n'est disponible pour ces "
                     "quartiers (voir le classement).")
        return

    def on_map() -> None:
        objects = st.session_state["qp_map"].selection.get("objects", {}).get("qpv", [])
        if objects:
            choose((objects[0].get("properties") or {}).get("code_qpv"))

    st.pydeck_chart(built.deck, width="stretch", height=620, key="qp_map", on_select=on_map,
                    selection_mode="single-object")
    if built.legend is not None:
        st.markdown(maps.legend_html(built.legend), unsafe_allow_html=True)
    if built.message:
        layout.empty(built.message)
    if built.legend is not None:  # some quartiers drawn
        for note in entete.params["notes_carte"]:
            if not note.startswith("Sans contour"):  # said above, with the way to add them
                layout.note(note)


def classement(sec) -> None:
    show.heading(sec)
    if sec.vide:
        layout.empty(sec.vide)
        return
    by_label, codes = sec.params["par_libelle"], sec.params["codes"]

    def on_bar() -> None:
        points = st.session_state["qp_bars"].selection.get("qp_bar") or []
        if points:
            choose(by_label.get(points[0].get("libelle")))

    def on_row() -> None:
        rows = st.session_state["df_qp_rank"].selection.get("rows") or []
        if rows:
            choose(codes[rows[0]])

    t1, t2, table_open = layout.chart_tabs("qp_rank")
    with t1:
        show.chart(sec, "qp_bars", on_select=on_bar)
        if sec.params["note_graphique"]:
            layout.note(sec.params["note_graphique"])
    if table_open:
        with t2:
            layout.table(sec.table, sec.table_nom, "qp_rank", show.column_config(sec), formats=sec.formats,
                         on_select=on_row, selection_mode="single-row")
    show.notes(sec, source=False)


def fiche(f: Filtres, geo: str, code: str) -> None:
    sec = section("quartiers_fiche", f, geographie=geo, qpv=code)
    if sec.vide:
        layout.empty(sec.vide)
        return
    show.heading(sec, "header")
    ident = sec.params["identite"]
    st.markdown(f"**Géographie {ident['geographie']}** · Contrat de ville : {layout.texte(ident['contrat'])} · "
                f"Commune{'s' if ident['n_communes'] > 1 else ''} : {layout.texte(ident['communes'])} · "
                f"Intercommunalité : {layout.texte(ident['epci'])}")
    show.chiffres(sec)

    show.section(section("quartiers_indicateurs", f, geographie=geo, qpv=code), "qp_ind", source=False)

    cols = st.columns(2, gap="large")
    for column, par in ((cols[0], "financeur"), (cols[1], "pilier")):
        with column:
            show.section(section("quartiers_financements", f, geographie=geo, qpv=code, par=par), f"qp_fin_{par}",
                         source=False)

    actions = section("quartiers_actions", f, geographie=geo, qpv=code)
    show.section(actions, "qp_actions", source=False, table_height=actions.params.get("hauteur"))

    # Engagements (issue 10): the quartier's roadmap, its indicators over time and whether the gaps narrow.
    show.section(section("feuille_de_route", f, qpv=code), key="qp_fdr")
    for ind in q(indicateurs_en_serie, code):
        show.section(section("quartier_serie", f, qpv=code, indicateur=ind), key=f"qp_serie_{ind}")
    show.section(section("quartier_rattrapage", f, qpv=code), key="qp_ratt")


main()
