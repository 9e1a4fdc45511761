"""Sections of the surveys (enquêtes): the cooperation grid between partners."""

from __future__ import annotations

from cdv_core import fmt
from cdv_core.filters import Filtres
from cdv_core.sections.base import Section, empty, register, source


@register("cooperation", "Enquête : grille de coopération entre partenaires", ("enquete",), slide=True)
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
                      surveys.message_anonymat(seuil), {"enquete": code})
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
