"""Engagements: where the signatories' commitments stand, who is late, what changed, each engagement's
trajectory and the droit commun mobilised. Year, signataire and engagement are in the URL."""

from __future__ import annotations

import streamlit as st

from cdv_core import engagements as eng
from cdv_core.filters import Filtres
from ui import filters, layout, require_app, show
from ui.data import q, section

require_app()

TOUS = ""


def _from_url(key: str, url_key: str, choices: list, default, cast=str) -> None:
    """Seed the widget `key` from the URL (a bookmarked link reopens the same view); a stale value is ignored."""
    if key in st.session_state and st.session_state[key] in choices:
        return
    raw = st.query_params.get(url_key)
    try:
        wanted = cast(raw) if raw not in (None, "") else None
    except ValueError:
        wanted = None
    st.session_state[key] = wanted if wanted in choices else default


def _to_url(url_key: str, value, default) -> None:
    if value in (None, "", default):
        if url_key in st.query_params:
            del st.query_params[url_key]
    elif st.query_params.get(url_key) != str(value):
        st.query_params[url_key] = str(value)


def main() -> None:
    f: Filtres = st.session_state.get("filtres", Filtres())
    years = q(eng.annees)
    if not years:
        st.title("Engagements")
        layout.filters_line(filters.summary(f))
        layout.empty("Aucun suivi d'engagement n'a encore été importé. Importez les engagements des signataires "
                     "(fichier « engagements ») et leur suivi annuel (fichier « suivi_engagements »).")
        return
    sign = q(eng.signataires)
    names = dict(zip(sign["code"], sign["libelle"], strict=True))
    head = st.container()
    c1, c2, _ = st.columns([1, 2, 3], vertical_alignment="bottom")
    _from_url("eng_annee", "annee", years, years[-1], int)
    annee = c1.selectbox("Année du suivi", years, key="eng_annee")
    _from_url("eng_signataire", "signataire", [TOUS, *names], TOUS)
    signataire = c2.selectbox("Signataire", [TOUS, *names], key="eng_signataire",
                              format_func=lambda c: "Tous les signataires" if c == TOUS else names.get(c, c))
    _to_url("annee", annee, None)
    _to_url("signataire", signataire, TOUS)
    signataire = signataire or None

    statuts = section("engagements_statuts", f, annee=annee, signataire=signataire)
    with head:
        st.title(show.texte_titre(statuts.titre))
        layout.filters_line(filters.summary(f) + (f" · Signataire : {names.get(signataire, signataire)}"
                                                  if signataire else ""))
    show.section(statuts, key="eng_statuts", heading=False)

    show.section(section("engagements_signataires", f, annee=annee, signataire=signataire), key="eng_sign")
    show.section(section("engagements_retard", f, annee=annee, signataire=signataire), key="eng_retard")
    show.section(section("engagements_changements", f, annee=annee, signataire=signataire), key="eng_chg")

    st.header("Trajectoire d'un engagement", anchor=False)
    liste = q(eng.engagements, f, signataire)
    if liste.empty:
        layout.empty("Aucun engagement pour cette sélection.")
    else:
        ids = liste["engagement_id"].tolist()
        labels = dict(zip(ids, liste["engagement_id"] + " — " + liste["intitule"], strict=True))
        en_vigueur = liste[liste["debut"].isna() | (liste["debut"] <= annee)]["engagement_id"].tolist()
        _from_url("eng_engagement", "engagement", ids, (en_vigueur or ids)[0])
        choisi = st.selectbox("Engagement", ids, key="eng_engagement", format_func=labels.get)
        _to_url("engagement", choisi, None)
        show.section(section("engagement_trajectoire", f, engagement=choisi), key="eng_traj")

    st.header("Droit commun mobilisé", anchor=False)
    show.section(section("engagements_droit_commun", f, annee=annee, signataire=signataire), key="eng_dc")
    show.section(section("engagements_droit_commun_annees", f, signataire=signataire), key="eng_dc_annees")


main()
