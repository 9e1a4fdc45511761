"""Enquêtes: response rates and every question of an evaluation survey, under the anonymity rule."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cdv_core import fmt, survey_charts, surveys
from ui import layout, require_app
from ui.data import q

require_app()

COMMUNE_NOTE = ("Les réponses ne sont pas rattachées à une commune (le fichier d'enquête ne comporte pas de "
                "colonne commune) : seul le filtre par type de répondant est proposé. Les filtres communs "
                "(années, quartiers, financeurs…) ne s'appliquent pas aux enquêtes.")


def _pick_survey(liste: pd.DataFrame) -> str:
    codes = liste["enquete"].tolist()
    labels = dict(zip(liste["enquete"], liste["libelle"]))
    wanted = st.query_params.get("enquete")
    if "enq_code" not in st.session_state or st.session_state["enq_code"] not in codes:
        st.session_state["enq_code"] = wanted if wanted in codes else codes[0]
    code = st.selectbox("Enquête", codes, format_func=labels.get, key="enq_code")
    if st.query_params.get("enquete") != code:
        st.query_params["enquete"] = code
    return code


def main() -> None:
    liste = q(surveys.enquetes)
    if liste.empty:
        st.title("Enquêtes d'évaluation")
        layout.empty("Aucune enquête n'a encore été importée. Importez les réponses (fichier « enquete ») et le "
                     "nombre de personnes sollicitées (fichier « enquete_diffusion »).")
        return
    seuil = surveys.seuil_anonymat()
    head = st.container()
    c1, c2, c3 = st.columns([4, 3, 3], vertical_alignment="bottom")
    with c1:
        code = _pick_survey(liste)
    waves = q(surveys.vagues, code)
    ref = None
    if not waves.empty:
        ref = c2.selectbox("Comparer avec", [None, *waves["enquete"]], key=f"enq_ref_{code}",
                           format_func=lambda c: "Pas de comparaison" if c is None else
                           dict(zip(waves["enquete"], waves["libelle"]))[c])
    types_all = q(surveys.types_repondant, code)
    types = tuple(c3.multiselect("Type de répondant", types_all, key=f"enq_types_{code}", placeholder="Tous",
                                 format_func=lambda t: surveys.libelle_type(t, True).capitalize()))
    info = liste.set_index("enquete").loc[code]
    groupe = q(surveys.nb_repondants, code, types)
    taux = q(surveys.taux_reponse, code, types)

    with head:
        if groupe < seuil:
            st.title(f"Enquête {int(info['annee'])} : résultats masqués pour préserver l'anonymat")
        elif len(taux) == 1 and pd.notna(taux["taux"].iloc[0]):
            t = taux.iloc[0]
            st.title(f"Enquête {int(info['annee'])} : {fmt.nombre(int(t['nb_repondants']))} "
                     f"{layout.texte(surveys.libelle_type(t['type_repondant'], int(t['nb_repondants']) > 1))} sur "
                     f"{fmt.nombre(int(t['nb_sollicites']))} ont répondu ({fmt.pourcent(t['taux'], 0)})")
        else:
            st.title(f"Enquête {int(info['annee'])} : {fmt.nombre(groupe)} répondants")
        parts = [str(info["libelle"])]
        if types:
            parts.append("Répondants : " + ", ".join(surveys.libelle_type(t, True) for t in types))
        if ref:
            parts.append(f"Comparée à {ref}")
        parts.append(f"Aucun chiffre sous {seuil} réponses")
        layout.filters_line(" · ".join(parts))
    layout.note(COMMUNE_NOTE)

    if groupe < seuil:
        layout.empty(f"Moins de {seuil} répondants correspondent à cette sélection : aucun résultat ni aucune "
                     "réponse libre n'est affiché, pour préserver l'anonymat. Élargissez la sélection.")
        return

    cols = st.columns(max(1, len(taux)))
    for col, t in zip(cols, taux.itertuples(index=False)):
        col.metric(f"Taux de réponse — {layout.texte(surveys.libelle_type(t.type_repondant, True))}",
                   "—" if pd.isna(t.taux) else fmt.pourcent(t.taux, 0), help=t.phrase)
        col.markdown(f"**{layout.texte(t.phrase)}**")
    st.divider()

    qs = q(surveys.questions, code)
    coop = qs[(qs["echelle"] == surveys.COOPERATION.code) & qs["grille"]]
    for row in coop.itertuples(index=False):
        cooperation(code, ref, row, types, seuil)
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
                    question(code, ref, r, types, seuil)
            pending = []
        if row is None:
            break
        if wide:
            with st.container(border=True):
                question(code, ref, row, types, seuil)
        else:
            pending.append(row)


def _resultats(code: str, ref: str | None, question_code: str, types: tuple, seuil: int) -> pd.DataFrame:
    if ref:
        return q(surveys.comparer, (code, ref), question_code, types, seuil)
    return q(surveys.resultats, code, question_code, types, seuil)


def _niveaux(res: pd.DataFrame, echelle) -> list[str]:
    if echelle is not None:
        return list(echelle.niveaux)
    return list(dict.fromkeys(res.loc[~res["masque"].astype(bool), "reponse"].dropna()))


def _echelle(code: str | None):
    return next((e for e in surveys.ECHELLES if e.code == code), None)


def cooperation(code: str, ref: str | None, row, types: tuple, seuil: int) -> None:
    """The cooperation grid: partner × level chart and table of percentages, both on screen."""
    res = _resultats(code, ref, row.question, types, seuil)
    st.subheader(f"{layout.texte(row.libelle_question)} : part des répondants à chaque degré de coopération")
    layout.note("Échelle, du plus faible au plus fort : " + " < ".join(surveys.COOPERATION.niveaux)
                + ". Pourcentages calculés sur les répondants ayant qualifié chaque partenaire.")
    if res.empty:
        layout.empty("Aucune réponse à cette question pour cette sélection.")
        return
    if res["masque"].astype(bool).all():
        layout.empty(f"Moins de {seuil} réponses par partenaire pour cette sélection, ou un autre type de répondant "
                     "serait déductible par différence : résultat masqué pour préserver l'anonymat.")
        return
    niveaux = list(surveys.COOPERATION.niveaux)
    chart = survey_charts.barres_100(res, niveaux, surveys.COOPERATION, seuil, legende="Degré de coopération")
    layout.vega(chart, key="chart_enq_cooperation")
    shown = surveys.tableau(res, niveaux, seuil, "Partenaire", texte=True)
    st.table(layout.textes(shown.set_index(list(shown.columns[:2] if "Année" in shown.columns else shown.columns[:1]))))
    layout.downloads(surveys.tableau(res, niveaux, seuil, "Partenaire"), f"Coopération {code}",
                     "enq_cooperation")


def question(code: str, ref: str | None, row, types: tuple, seuil: int) -> None:
    st.subheader(layout.texte(row.libelle_question))
    echelle = _echelle(row.echelle)
    key = f"enq_{row.question}"
    if row.forme == surveys.TEXTE:
        textes(code, row, types, seuil)
        return
    res = _resultats(code, ref, row.question, types, seuil)
    if res.empty:
        layout.empty("Aucune réponse à cette question pour cette sélection.")
        return
    if res["masque"].astype(bool).all():
        layout.empty(f"Moins de {seuil} réponses à cette question pour cette sélection : résultat masqué "
                     "pour préserver l'anonymat.")
        return
    if row.forme == surveys.NOMBRE:
        nombres(code, ref, row, types, seuil, res)
        return
    niveaux = _niveaux(res, echelle)
    table = surveys.tableau(res, niveaux, seuil, "Item" if row.grille else "Ligne")
    config = {lvl: st.column_config.NumberColumn(lvl, format="%.1f %%") for lvl in niveaux}
    multi_rows = row.grille or ref is not None
    if echelle is not None or multi_rows:
        chart = survey_charts.barres_100(res, niveaux, echelle, seuil)
    else:
        chart = survey_charts.barres_choix(res)
    if not multi_rows:
        table = res[["reponse", "n", "pct"]].rename(columns={"reponse": "Réponse", "n": "Réponses",
                                                             "pct": "Part (%)"})
        config = {"Part (%)": st.column_config.NumberColumn("Part (%)", format="%.1f %%")}
    layout.chart_and_table(chart, table, row.libelle_question[:60], key, config)
    bases = res.dropna(subset=["base"]).drop_duplicates(["item"] + (["annee"] if ref else []))
    if not row.grille and len(bases) == 1:
        layout.note(f"{fmt.nombre(int(bases['base'].iloc[0]))} réponses.")


def nombres(code: str, ref: str | None, row, types: tuple, seuil: int, res: pd.DataFrame) -> None:
    if ref or row.grille:
        stats = (q(surveys.comparer_statistiques, (code, ref), row.question, types, seuil).drop(columns=["enquete"])
                 if ref else q(surveys.statistiques, code, row.question, types, seuil))
        chart = survey_charts.boites(stats)
    else:
        stats = q(surveys.statistiques, code, row.question, types, seuil)
        chart = survey_charts.histogramme(res)
    table = stats.rename(columns={"item": "Item", "n": "Réponses", "minimum": "Minimum", "q1": "1er quartile",
                                  "mediane": "Médiane", "moyenne": "Moyenne", "q3": "3e quartile",
                                  "maximum": "Maximum", "annee": "Année"}).drop(columns=["masque"])
    table["Item"] = table["Item"].replace("", "Ensemble")
    if not row.grille:
        table = table.drop(columns=["Item"])
    layout.chart_and_table(chart, table, row.libelle_question[:60], f"enq_{row.question}")
    first = stats[~stats["masque"].astype(bool)]
    if len(first) and not row.grille and not ref:
        s = first.iloc[0]
        layout.note(f"Médiane : {fmt.nombre(s['mediane'], 1)} · moyenne : {fmt.nombre(s['moyenne'], 1)} · "
                    f"de {fmt.nombre(s['minimum'], 1)} à {fmt.nombre(s['maximum'], 1)} "
                    f"({fmt.nombre(int(s['n']))} réponses).")


def textes(code: str, row, types: tuple, seuil: int) -> None:
    recherche = st.text_input("Rechercher dans les réponses", key=f"enq_rech_{row.question}",
                              placeholder="un mot, par exemple « habitants »")
    out = q(surveys.textes_libres, code, row.question, types, recherche, seuil)
    if out["masque"]:
        layout.empty(f"Moins de {seuil} répondants pour cette sélection : les réponses libres ne sont pas "
                     "affichées, pour préserver l'anonymat.")
        return
    reps = out["reponses"]
    if reps.empty:
        layout.empty("Aucune réponse ne contient ce texte." if recherche.strip() else
                     "Aucune réponse libre à cette question.")
        return
    layout.note(f"{fmt.nombre(len(reps))} réponse(s)"
                + (f" sur {fmt.nombre(out['nb_total'])} contenant « {recherche.strip()} »" if recherche.strip()
                   else "") + ", dans l'ordre alphabétique.")
    with st.container(height=min(480, 40 + 36 * len(reps)), border=False):
        st.markdown("\n".join(f"- {layout.texte(t)}" for t in reps["reponse"]))
    layout.downloads(reps.rename(columns={"reponse": "Réponse"}), f"{row.question} {code}",
                     f"enq_txt_{row.question}")


main()
