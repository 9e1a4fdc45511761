"""Porteurs: who carries the actions, who is new, renewal, concentration, dependence, and one porteur's fiche
(reachable by URL: `/porteurs?porteur=<SIRET or name>`)."""

from __future__ import annotations

import streamlit as st

from cdv_core import queries_porteurs as qp
from cdv_core.filters import Filtres
from ui import filters, layout, require_app, show
from ui.data import q, section

require_app()

URL_KEY = "porteur"
FICHE_KEY = "po_fiche"


def _seed_from_url(ids: list[str]) -> None:
    """A bookmarked `?porteur=` opens that fiche (SIRET, any spelling of the name, or porteur id)."""
    if st.session_state.get("po_url_read") == st.query_params.get(URL_KEY):
        return
    st.session_state["po_url_read"] = st.query_params.get(URL_KEY)
    pid = q(qp.resoudre, st.query_params.get(URL_KEY)) if st.query_params.get(URL_KEY) else None
    if pid:
        st.session_state[FICHE_KEY] = pid
        if pid not in ids:
            ids.append(pid)


def main() -> None:
    f: Filtres = st.session_state.get("filtres", Filtres())
    liste = section("porteurs_liste", f)
    st.title(show.texte_titre(liste.titre) if not liste.vide else "Porteurs de projet")
    layout.filters_line(filters.summary(f))
    df = q(qp.liste, f)
    ids = list(df["porteur_id"]) if not df.empty else []
    names = dict(zip(df["porteur_id"], df["porteur"], strict=True)) if not df.empty else {}
    _seed_from_url(ids)
    current = st.session_state.get(FICHE_KEY)
    if current and current not in ids:
        ident = q(qp.identite, current)
        if ident:
            ids.append(current)
            names[current] = ident["porteur"]
        else:
            st.session_state[FICHE_KEY] = None
    c1, _ = st.columns([2, 3])
    c1.selectbox("Fiche d'un porteur", ids, key=FICHE_KEY, index=None, format_func=lambda p: names.get(p, p),
                 placeholder="Choisir un porteur (ou taper son nom)…",
                 help="L'adresse de la page garde le porteur choisi : un lien copié rouvre sa fiche.")
    pid = st.session_state.get(FICHE_KEY)
    wanted = qp.cle_url(pid, names.get(pid, "")) if pid else None
    if st.query_params.get(URL_KEY) != wanted:
        if wanted:
            st.query_params[URL_KEY] = wanted
        elif URL_KEY in st.query_params:
            del st.query_params[URL_KEY]
        st.session_state["po_url_read"] = wanted
    if pid:
        fiche(f, pid)
        st.divider()

    if liste.vide:
        layout.empty(liste.vide)
        return
    st.subheader("Les porteurs de la sélection", anchor=False)
    show.chiffres(liste)
    show.section(liste, "po_liste", heading=False, figures=False)
    st.divider()
    left, right = st.columns(2, gap="large")
    with left:
        show.section(section("porteurs_nouveaux", f), "po_nouveaux")
    with right:
        show.section(section("porteurs_renouvellement", f), "po_renouv")
    st.divider()
    left, right = st.columns(2, gap="large")
    with left:
        show.section(section("porteurs_concentration", f), "po_concentration")
    with right:
        show.section(section("porteurs_dependance", f), "po_dependance")
    st.divider()
    show.section(section("beneficiaires", f), "po_benef")


def fiche(f: Filtres, pid: str) -> None:
    key = qp.cle_url(pid, (q(qp.identite, pid) or {}).get("porteur", ""))
    sec = section("fiche_porteur", f, porteur=key)
    st.header(show.texte_titre(sec.titre), anchor=False)
    show.chiffres(sec)
    show.section(sec, "po_fiche_fin", heading=False, figures=False)
    left, right = st.columns(2, gap="large")
    with left:
        show.section(section("porteur_piliers", f, porteur=key), "po_fiche_pil")
    with right:
        show.section(section("porteur_quartiers", f, porteur=key), "po_fiche_qpv")
    show.section(section("porteur_actions", f, porteur=key), "po_fiche_actions", table_height=420)


main()
