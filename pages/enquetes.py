"""Enquêtes: response rates and every question of an evaluation survey, under the anonymity rule (sections of
cdv_core.sections.enquetes)."""

from __future__ import annotations

import streamlit as st

from cdv_core import surveys
from cdv_core.filters import Filtres
from ui import layout, require_app, show, url
from ui.data import q, section

require_app()

NO_FILTER = Filtres()  # the dashboard's filters do not apply to surveys


def _pick_survey(liste) -> str:
    codes = liste["enquete"].tolist()
    labels = dict(zip(liste["enquete"], liste["libelle"]))
    url.seed("enq_code", "enquete", codes, codes[0])
    code = st.selectbox("Enquête", codes, format_func=labels.get, key="enq_code")
    if st.query_params.get("enquete") != code:
        st.query_params["enquete"] = code
    return code


def main() -> None:
    liste = q(surveys.enquetes)
    if liste.empty:
        sec = section("enquetes_entete", NO_FILTER)
        st.title(show.texte_titre(sec.titre))
        layout.empty(sec.vide)
        return
    seuil = surveys.seuil_anonymat()
    head = st.container()
    c1, c2, c3 = st.columns([4, 3, 3], vertical_alignment="bottom")
    with c1:
        code = _pick_survey(liste)
    waves = q(surveys.vagues, code)
    ref = None
    if not waves.empty:
        labels = dict(zip(waves["enquete"], waves["libelle"]))
        url.seed(f"enq_ref_{code}", "comparer", [None, *waves["enquete"]], None)
        ref = c2.selectbox("Comparer avec", [None, *waves["enquete"]], key=f"enq_ref_{code}",
                           format_func=lambda c: "Pas de comparaison" if c is None else labels[c])
    url.keep("comparer", ref)
    types_all = q(surveys.types_repondant, code)
    url.seed_many(f"enq_types_{code}", "repondants", types_all)
    types = tuple(c3.multiselect("Type de répondant", types_all, key=f"enq_types_{code}", placeholder="Tous",
                                 format_func=lambda t: surveys.libelle_type(t, True).capitalize()))
    url.keep("repondants", types)
    choix = {"enquete": code, "comparer": ref, "types": types, "seuil": seuil}

    entete = section("enquetes_entete", NO_FILTER, **choix)
    show.heading(entete, "title", head)
    with head:
        layout.filters_line(entete.params["ligne"])
    show.notes(entete, source=False)
    if entete.vide:
        layout.empty(entete.vide)
        return

    cols = st.columns(max(1, len(entete.chiffres)))
    for col, c in zip(cols, entete.chiffres):
        col.metric(layout.texte(c.libelle), c.valeur, help=layout.texte(c.aide))
        col.markdown(f"**{layout.texte(c.aide)}**")
    st.divider()

    qs = q(surveys.questions, code)
    coop = qs[(qs["echelle"] == surveys.COOPERATION.code) & qs["grille"]]
    for row in coop.itertuples(index=False):
        cooperation(section("enquetes_grille", NO_FILTER, question=row.question, **choix), code)
        st.divider()
    rest = qs[~qs["question"].isin(coop["question"])]
    if not rest.empty:
        st.header("Toutes les questions")
    # Simple questions two by two, grids and free text on the full width.
    pending: list = []
    for row in [*rest.itertuples(index=False), None]:
        wide = row is None or row.grille or row.forme == surveys.TEXTE
        if pending and (wide or len(pending) == 2):
            for col, r in zip(st.columns(2, gap="medium"), pending):
                with col, st.container(border=True):
                    question(r, choix)
            pending = []
        if row is None:
            break
        if wide:
            with st.container(border=True):
                question(row, choix)
        else:
            pending.append(row)


def cooperation(sec, code: str) -> None:
    """The cooperation grid: partner × level chart and table of percentages, both on screen."""
    show.heading(sec)
    for n in sec.intro:
        layout.note(n)
    if sec.vide:
        layout.empty(sec.vide)
        return
    show.chart(sec, "chart_enq_cooperation")
    shown = sec.params["tableau_texte"]
    st.table(layout.textes(shown.set_index(list(shown.columns[:2] if "Année" in shown.columns else shown.columns[:1]))))
    layout.downloads(sec.table, sec.table_nom, "enq_cooperation")


def question(row, choix: dict) -> None:
    sec = section("enquetes_question", NO_FILTER, question=row.question, **choix)
    if row.forme == surveys.TEXTE:
        show.heading(sec)
        textes(row, choix)
        return
    show.section(sec, f"enq_{row.question}", source=False)


def textes(row, choix: dict) -> None:
    recherche = st.text_input("Rechercher dans les réponses", key=f"enq_rech_{row.question}",
                              placeholder="un mot, par exemple « habitants »")
    sec = section("enquetes_textes", NO_FILTER, question=row.question, recherche=recherche,
                  **{k: v for k, v in choix.items() if k != "comparer"})
    if sec.vide:
        layout.empty(sec.vide)
        return
    for n in sec.intro:
        layout.note(n)
    reps = sec.table
    with st.container(height=min(480, 40 + 36 * len(reps)), border=False):
        st.markdown("\n".join(f"- {layout.texte(t)}" for t in reps["Réponse"]))
    layout.downloads(reps, sec.table_nom, f"enq_txt_{row.question}")


main()
