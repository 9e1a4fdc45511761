"""Piliers: amounts and actions per pillar and thématique, new actions, pillar targets, drill-down to actions
(sections of cdv_core.sections.piliers)."""

from __future__ import annotations

import streamlit as st

from cdv_core import auth, fmt, gestion
from cdv_core import queries_piliers as qp
from cdv_core.errors import CdvError
from cdv_core.filters import Filtres
from cdv_core.sections.piliers import MESURES, TOUTES
from ui import access, annees, data, filters, layout, require_app, show, url
from ui.data import q, section

require_app()


def main() -> None:
    f: Filtres = st.session_state.get("filtres", Filtres())
    choix = annees.choisir(f, "piliers_annees", "pil", reference=False)
    if choix is None:
        return
    head, annee = choix.head, choix.annee
    entete = section("piliers_entete", f, annee=annee)
    show.heading(entete, "title", head)
    layout.filters_line(filters.summary(f))
    show.chiffres(entete)

    st.divider()
    evolution(f, annee)
    st.divider()
    show.section(section("piliers_nouvelles", f, annee=annee), "pil_nouv", source=False)
    st.divider()
    cibles(f, annee)
    st.divider()
    detail(f, annee)


def evolution(f: Filtres, annee: int) -> None:
    head, choice = st.columns([3, 2], vertical_alignment="bottom")
    url.seed("pil_mesure", "mesure", MESURES, "montant_accorde")
    mesure = choice.segmented_control("Afficher", list(MESURES), format_func=MESURES.get,
                                      key="pil_mesure") or "montant_accorde"
    url.keep("mesure", mesure, "montant_accorde")
    sec = section("piliers_evolution", f, annee=annee, mesure=mesure)
    show.heading(sec, "subheader", head)
    show.section(sec, f"pil_evo_{mesure}", heading=False, source=False)


def cibles(f: Filtres, annee: int) -> None:
    sec = section("piliers_cibles", f, annee=annee)
    show.section(sec, "pil_cibles", source=False)
    for i, key in enumerate(sec.params["cibles"]):
        cible = section("piliers_cible", f, annee=annee, cible=key)
        if cible.vide:
            st.markdown(f"**{show.texte_titre(cible.titre)}** — {show.texte_titre(cible.vide)}")
        else:
            show.section(cible, f"pil_cible_{i}", heading="h4", source=False)
    editeur(q(qp.cibles))


def editeur(targets) -> None:
    options = st.session_state.get("flt_options") or {}
    piliers = options.get("piliers") or {}
    if not piliers:
        return
    user = access.current_user()
    if not access.can_manage(user):
        layout.note("Les cibles sont fixées par les gestionnaires des données (connexion dans le panneau de "
                    "gauche).")
        return
    with st.expander("Fixer ou supprimer une cible", icon=":material/flag:"):
        with st.form("pil_cible_form", clear_on_submit=False, border=False):
            c1, c2, c3 = st.columns([3, 2, 1])
            pilier = c1.selectbox("Pilier", list(piliers), format_func=piliers.get, key="pil_cible_pilier")
            nature = c2.selectbox("Part de quels crédits ?", list(qp.NATURES_CIBLE),
                                  format_func=lambda n: qp.NATURES_CIBLE[n].capitalize(), key="pil_cible_nature")
            part = c3.number_input("Cible (%)", min_value=0.5, max_value=100.0, value=20.0, step=0.5,
                                   key="pil_cible_part")
            libelle = st.text_input("Intitulé (facultatif)", placeholder="Ex. : engagement du comité de pilotage 2024",
                                    key="pil_cible_libelle")
            ok = st.form_submit_button("Enregistrer la cible", icon=":material/save:")
        if ok:
            ecrire(gestion.definir_cible, pilier, nature, part, libelle, actor=user)
        if not targets.empty:
            labels = {f"{r.pilier}|{r.nature}": f"{r.pilier_libelle} — {fmt.pourcent(r.part_cible, 0)} des "
                      f"{qp.NATURES_CIBLE.get(r.nature, r.nature)}" for r in targets.itertuples(index=False)}
            c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
            choix = c1.selectbox("Cible à supprimer", list(labels), format_func=labels.get, key="pil_cible_suppr")
            if c2.button("Supprimer", icon=":material/delete:", key="pil_cible_suppr_btn"):
                pilier, nature = choix.split("|", 1)
                ecrire(gestion.supprimer_cible, pilier, nature, actor=user)


def ecrire(fn, *args, actor) -> None:
    """A gestion write (checked against the current access configuration); a refusal is a French message."""
    try:
        fn(data.base(), *args, actor=actor)
    except CdvError as exc:
        st.error(layout.texte(exc.message), icon=":material/lock:" if isinstance(exc, auth.AccessDenied) else ":material/error:")
        return
    st.rerun()


def detail(f: Filtres, annee: int) -> None:
    st.subheader(f"Détail d'un pilier en {annee} : thématiques et actions")
    year = section("piliers_annee", f, annee=annee)
    piliers = dict(year.params["piliers"])
    if not piliers:
        layout.empty(year.vide)
        return
    codes = list(piliers)
    by_label = {v: k for k, v in piliers.items()}
    url.seed("pil_detail", "pilier", codes, codes[0])

    def on_click() -> None:
        event = st.session_state.get("chart_pil_annee") or {}
        points = (event.get("selection") or {}).get("pil_sel") or []
        if points and points[0].get("pilier_libelle") in by_label:
            st.session_state["pil_detail"] = by_label[points[0]["pilier_libelle"]]
            st.session_state.pop("pil_theme", None)
            url.keep("thematique", None)

    left, right = st.columns([1, 1], gap="large")
    with left:
        st.markdown(f"**{show.texte_titre(year.titre)}** — cliquez sur une barre pour la détailler")
        show.section(year, "pil_annee", heading=False, source=False, on_select=on_click)
    with right:
        pilier = st.selectbox("Pilier détaillé", codes, format_func=piliers.get, key="pil_detail")
        url.keep("pilier", pilier, codes[0])
        them = section("piliers_thematiques", f, annee=annee, pilier=pilier)
        if them.vide:
            layout.empty(them.vide)
            return
        show.heading(them, "h4")
    # Full width: thématique labels are long, the bars need the room (1366 px screens).
    st.markdown(f"**Thématiques de « {show.texte_titre(piliers[pilier])} » en {annee}**")
    show.section(them, "pil_them", heading=False, source=False)

    themes = {TOUTES: "Toutes les thématiques", **dict(them.params["themes"])}
    url.seed("pil_theme", "thematique", themes, TOUTES)
    c1, _ = st.columns([2, 3])
    theme = c1.selectbox("Actions de la thématique", list(themes), format_func=themes.get, key="pil_theme")
    url.keep("thematique", theme, TOUTES)
    acts = section("piliers_actions", f, annee=annee, pilier=pilier, thematique=theme)
    if acts.vide:
        layout.empty(acts.vide)
        return
    st.markdown(f"**{show.texte_titre(acts.titre)}**, du plus grand montant au plus petit")
    show.section(acts, "pil_actions", heading=False, source=False, table_height=420)


main()
