"""Sections of the surveys (enquêtes): the cooperation grid between partners."""

from __future__ import annotations

import pandas as pd

from cdv_core import fmt
from cdv_core.filters import Filtres
from cdv_core.sections.base import Chiffre, Section, empty, query, register, source

# Survey answers carry no year filter, commune, QPV or funder: the sections read none of the filters.
SURVEY_FILTRES: tuple[str, ...] = ()

@register("cooperation", "Enquête : grille de coopération entre partenaires", ("enquete",), slide=True,
          filtres=SURVEY_FILTRES)
def cooperation(con, f: Filtres, enquete: str | None = None, **_) -> Section:
    """The survey's cooperation grid: share of respondents at each level, per partner (filters do not apply)."""
    from cdv_core import survey_charts, surveys

    liste = surveys.enquetes(con)
    grids = []
    for code in liste["enquete"]:
        qs = surveys.questions(con, code)
        grid = qs[(qs["echelle"] == surveys.COOPERATION.code) & qs["grille"]]
        if not grid.empty:
            grids.append((code, grid.iloc[0]))
    if not grids:
        return empty("cooperation", "Coopération entre partenaires",
                      "Aucune enquête ne contient de grille de coopération.", {})
    code, question = next(((c, q_) for c, q_ in grids if c == enquete), grids[0])
    annee = int(liste.loc[liste["enquete"] == code, "annee"].iloc[0])
    seuil = surveys.seuil_anonymat()
    res = surveys.resultats(con, code, question["question"], (), seuil)
    niveaux = list(surveys.COOPERATION.niveaux)
    shown = res[~res["masque"].astype(bool)]
    if shown.empty:
        return empty("cooperation", f"Coopération entre partenaires ({annee})",
                      surveys.phrase_anonymat(seuil, surveys.motif_commun(res), "réponses par partenaire"),
                      {"enquete": code})
    dynamique = (shown[shown["reponse"].isin(niveaux[-2:])].groupby("item", sort=False)["pct"].sum()
                 .astype(float).sort_values(ascending=False))
    top, share = dynamique.index[0], float(dynamique.iloc[0])
    titre = (f"Enquête {annee} : avec « {top or 'tous les partenaires'} », {fmt.pourcent(share, 0)} des répondants décrivent "
             "une coopération dynamique")
    chart = survey_charts.barres_100(res, niveaux, surveys.COOPERATION, seuil, legende="Degré de coopération")
    table = surveys.tableau(res, niveaux, seuil, "Partenaire").rename(columns={n: f"{n} (%)" for n in niveaux})
    nb = surveys.nb_repondants(con, code)
    libelle_enquete = str(liste.loc[liste["enquete"] == code, "libelle"].iloc[0])
    notes = ["Échelle, du plus faible au plus fort : " + " < ".join(niveaux) + ". Coopération dynamique : les "
             "deux derniers degrés. Les filtres du tableau de bord ne s'appliquent pas aux enquêtes.",
             f"Aucun chiffre sous {seuil} réponses (anonymat)."]
    return Section("cooperation", titre, [("Répondants", fmt.nombre(nb)), ("Partenaires", fmt.nombre(len(dynamique)))],
                 chart, table, f"Coopération {code}", f"{libelle_enquete} · " + source(con, ("enquete",), (annee,)),
                 notes, params={"enquete": code})


# --- the Enquêtes page: headline and response rates, the cooperation grid, every question ------------------
# The dashboard's filters do not apply to surveys: the page asks with empty filters (one cache entry per choice).

COMMUNE_NOTE = ("Les réponses ne sont pas rattachées à une commune (le fichier d'enquête ne comporte pas de "
                "colonne commune) : seul le filtre par type de répondant est proposé. Les filtres communs "
                "(années, quartiers, financeurs…) ne s'appliquent pas aux enquêtes.")
SURVEY_PARAMS = ("enquete", "comparer", "types", "seuil")


def _seuil(seuil: int | None) -> int:
    from cdv_core import surveys

    return int(seuil) if seuil is not None else surveys.seuil_anonymat()


@register("enquetes_entete", "Enquête : taux de réponse", SURVEY_PARAMS, filtres=SURVEY_FILTRES)
def enquetes_entete(con, f: Filtres, enquete: str | None = None, comparer: str | None = None,
                    types: tuple[str, ...] = (), seuil: int | None = None, **_) -> Section:
    """The response rate (or the number of respondents) in the title; one figure per respondent type."""
    from cdv_core import surveys

    seuil = _seuil(seuil)
    liste = query(con, surveys.enquetes)
    if liste.empty or enquete not in set(liste["enquete"]):
        return empty("enquetes_entete", "Enquêtes d'évaluation",
                     "Aucune enquête n'a encore été importée. Importez les réponses (fichier « enquete ») et le "
                     "nombre de personnes sollicitées (fichier « enquete_diffusion »).")
    types = tuple(types or ())
    info = liste.set_index("enquete").loc[enquete]
    annee = int(info["annee"])
    groupe = query(con, surveys.nb_repondants, enquete, types)
    taux = query(con, surveys.taux_reponse, enquete, types)
    vide = None
    if groupe < seuil:
        titre = f"Enquête {annee} : résultats masqués pour préserver l'anonymat"
        vide = (f"Moins de {seuil} répondants correspondent à cette sélection : aucun résultat ni aucune réponse "
                "libre n'est affiché, pour préserver l'anonymat. Élargissez la sélection.")
    elif len(taux) == 1 and pd.notna(taux["taux"].iloc[0]):
        t = taux.iloc[0]
        titre = (f"Enquête {annee} : {fmt.nombre(int(t['nb_repondants']))} "
                 f"{surveys.libelle_type(t['type_repondant'], int(t['nb_repondants']) > 1)} sur "
                 f"{fmt.nombre(int(t['nb_sollicites']))} ont répondu ({fmt.pourcent(t['taux'], 0)})")
    else:
        titre = f"Enquête {annee} : {fmt.compte(groupe, 'répondant')}"
    parts = [str(info["libelle"])]
    if types:
        parts.append("Répondants : " + ", ".join(surveys.libelle_type(t, True) for t in types))
    if comparer:
        parts.append(f"Comparée à {comparer}")
    parts.append(f"Aucun chiffre sous {seuil} réponses")
    chiffres = [] if vide else [
        Chiffre(f"Taux de réponse — {surveys.libelle_type(t.type_repondant, True)}",
                "—" if pd.isna(t.taux) else fmt.pourcent(t.taux, 0), aide=t.phrase)
        for t in taux.itertuples(index=False)]
    return Section("enquetes_entete", titre, chiffres, source=source(con, ("enquete",), (annee,)),
                   notes=[COMMUNE_NOTE], vide=vide,
                   params={"enquete": enquete, "ligne": " · ".join(parts), "masque": vide is not None})


def _resultats(con, enquete: str, ref: str | None, question: str, types: tuple, seuil: int) -> pd.DataFrame:
    from cdv_core import surveys

    if ref:
        return query(con, surveys.comparer, (enquete, ref), question, types, seuil)
    return query(con, surveys.resultats, enquete, question, types, seuil)


def _question_row(con, enquete: str, question: str):
    from cdv_core import surveys

    qs = query(con, surveys.questions, enquete)
    rows = qs[qs["question"] == question]
    return None if rows.empty else rows.iloc[0]


@register("enquetes_grille", "Enquête : degré de coopération avec chaque partenaire",
          ("question", *SURVEY_PARAMS), filtres=SURVEY_FILTRES)
def enquetes_grille(con, f: Filtres, enquete: str | None = None, question: str | None = None,
                    comparer: str | None = None, types: tuple[str, ...] = (), seuil: int | None = None,
                    **_) -> Section:
    """A cooperation grid of the page: share of respondents at each level, per partner (chart and table)."""
    from cdv_core import survey_charts, surveys

    seuil, types = _seuil(seuil), tuple(types or ())
    row = _question_row(con, enquete, question) if enquete and question else None
    if row is None or enquete is None or question is None:
        return empty("enquetes_grille", "Coopération entre partenaires", "Cette question n'existe pas.")
    res = _resultats(con, enquete, comparer, question, types, seuil)
    titre = f"{row['libelle_question']} : part des répondants à chaque degré de coopération"
    intro = ["Échelle, du plus faible au plus fort : " + " < ".join(surveys.COOPERATION.niveaux)
             + ". Pourcentages calculés sur les répondants ayant qualifié chaque partenaire."]
    if res.empty:
        return Section("enquetes_grille", titre, intro=intro,
                       vide="Aucune réponse à cette question pour cette sélection.")
    if res["masque"].astype(bool).all():
        return Section("enquetes_grille", titre, intro=intro, vide=surveys.phrase_anonymat(
            seuil, surveys.motif_commun(res), "réponses par partenaire"))
    niveaux = list(surveys.COOPERATION.niveaux)
    chart = survey_charts.barres_100(res, niveaux, surveys.COOPERATION, seuil, legende="Degré de coopération")
    texte = surveys.tableau(res, niveaux, seuil, "Partenaire", texte=True)
    return Section("enquetes_grille", titre, chart=chart, table=surveys.tableau(res, niveaux, seuil, "Partenaire"),
                   table_nom=f"Coopération {enquete}", intro=intro,
                   params={"tableau_texte": texte, "question": question})


@register("enquetes_question", "Enquête : une question", ("question", *SURVEY_PARAMS), filtres=SURVEY_FILTRES)
def enquetes_question(con, f: Filtres, enquete: str | None = None, question: str | None = None,
                      comparer: str | None = None, types: tuple[str, ...] = (), seuil: int | None = None,
                      **_) -> Section:
    """One question in the form that suits it: shares per answer or level, or the distribution of numbers."""
    from cdv_core import survey_charts, surveys

    seuil, types = _seuil(seuil), tuple(types or ())
    row = _question_row(con, enquete, question) if enquete and question else None
    if row is None or enquete is None or question is None:
        return empty("enquetes_question", "Question", "Cette question n'existe pas.")
    titre = row["libelle_question"]
    params = {"question": question, "forme": row["forme"]}
    if row["forme"] == surveys.TEXTE:
        return Section("enquetes_question", titre, params=params)
    res = _resultats(con, enquete, comparer, question, types, seuil)
    if res.empty:
        return empty("enquetes_question", titre, "Aucune réponse à cette question pour cette sélection.", params)
    if res["masque"].astype(bool).all():
        return empty("enquetes_question", titre, surveys.phrase_anonymat(seuil, surveys.motif_commun(res)), params)
    nom = titre[:60]
    if row["forme"] == surveys.NOMBRE:
        if comparer or row["grille"]:
            stats = (query(con, surveys.comparer_statistiques, (enquete, comparer), question, types, seuil)
                     .drop(columns=["enquete"]) if comparer
                     else query(con, surveys.statistiques, enquete, question, types, seuil))
            chart = survey_charts.boites(stats)
        else:
            stats = query(con, surveys.statistiques, enquete, question, types, seuil)
            chart = survey_charts.histogramme(res)
        table = stats.rename(columns={"item": "Item", "n": "Réponses", "minimum": "Minimum", "q1": "1er quartile",
                                      "mediane": "Médiane", "moyenne": "Moyenne", "q3": "3e quartile",
                                      "maximum": "Maximum", "annee": "Année"}).drop(columns=["masque"])
        table["Item"] = table["Item"].replace("", "Ensemble")
        if not row["grille"]:
            table = table.drop(columns=["Item"])
        notes = []
        first = stats[~stats["masque"].astype(bool)]
        if len(first) and not row["grille"] and not comparer:
            s = first.iloc[0]
            notes.append(f"Médiane : {fmt.nombre(s['mediane'], 1)} · moyenne : {fmt.nombre(s['moyenne'], 1)} · "
                         f"de {fmt.nombre(s['minimum'], 1)} à {fmt.nombre(s['maximum'], 1)} "
                         f"({fmt.compte(int(s['n']), 'réponse')}).")
        return Section("enquetes_question", titre, chart=chart, table=table, table_nom=nom, notes=notes,
                       formats={c: "texte" for c in table.columns}, params=params)
    echelle = next((e for e in surveys.ECHELLES if e.code == row["echelle"]), None)
    niveaux = (list(echelle.niveaux) if echelle is not None
               else list(dict.fromkeys(res.loc[~res["masque"].astype(bool), "reponse"].dropna())))
    table = surveys.tableau(res, niveaux, seuil, "Item" if row["grille"] else "Ligne")
    formats = {c: "texte" for c in table.columns}
    formats.update({lvl: "pourcent" for lvl in niveaux})
    multi_rows = bool(row["grille"]) or comparer is not None
    if echelle is not None or multi_rows:
        chart = survey_charts.barres_100(res, niveaux, echelle, seuil)
    else:
        chart = survey_charts.barres_choix(res)
    if not multi_rows:
        table = res[["reponse", "n", "pct"]].rename(columns={"reponse": "Réponse", "n": "Réponses", "pct": "Part (%)"})
        formats = {"Réponse": "texte", "Réponses": "texte", "Part (%)": "pourcent"}
    notes = []
    bases = res.dropna(subset=["base"]).drop_duplicates(["item"] + (["annee"] if comparer else []))
    if not row["grille"] and len(bases) == 1:
        notes.append(f"{fmt.compte(int(bases['base'].iloc[0]), 'réponse')}.")
    return Section("enquetes_question", titre, chart=chart, table=table, table_nom=nom, notes=notes, formats=formats,
                   params=params)


@register("enquetes_textes", "Enquête : réponses libres", ("question", "recherche", "enquete", "types", "seuil"),
          filtres=SURVEY_FILTRES)
def enquetes_textes(con, f: Filtres, enquete: str | None = None, question: str | None = None,
                    types: tuple[str, ...] = (), recherche: str = "", seuil: int | None = None, **_) -> Section:
    """The free answers to a question (searchable), never under the anonymity threshold."""
    from cdv_core import surveys

    seuil, types = _seuil(seuil), tuple(types or ())
    titre = "Réponses libres"
    if not enquete or not question or _question_row(con, enquete, question) is None:
        return empty("enquetes_textes", titre, "Cette question n'existe pas.")
    out = query(con, surveys.textes_libres, enquete, question, types, recherche or "", seuil)
    if out["masque"]:
        if out.get("motif") == surveys.MOTIF_DEDUCTION:
            return empty("enquetes_textes", titre, "Réponses libres masquées pour préserver l'anonymat : avec celles "
                         "de l'ensemble des répondants, elles permettraient de retrouver celles d'un groupe de moins "
                         f"de {seuil} répondants. Choisissez tous les types de répondants, ou aucun.")
        return empty("enquetes_textes", titre, f"Moins de {seuil} répondants pour cette sélection : les réponses "
                     "libres ne sont pas affichées, pour préserver l'anonymat.")
    reps = out["reponses"]
    if reps.empty:
        return empty("enquetes_textes", titre, "Aucune réponse ne contient ce texte." if (recherche or "").strip() else
                     "Aucune réponse libre à cette question.")
    intro = [f"{fmt.compte(len(reps), 'réponse')}"
             + (f" sur {fmt.nombre(out['nb_total'])} contenant « {recherche.strip()} »" if (recherche or "").strip()
                else "") + ", dans l'ordre alphabétique."]
    return Section("enquetes_textes", titre, table=reps.rename(columns={"reponse": "Réponse"}),
                   table_nom=f"{question} {enquete}", intro=intro)
