"""Sections of the Quartiers page: the geography and measure shown, the headline, the ranking of the QPV (the page
draws the map from cdv_core.maps), and the fiche of one quartier (identity, indicators, funding, actions)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cdv_core import charts, fmt, maps, queries
from cdv_core import queries_quartiers as qq
from cdv_core.filters import Filtres
from cdv_core.formats import LIBELLES
from cdv_core.sections.base import (
    FUNDING_SOURCES,
    SPLIT_NOTE,
    Chiffre,
    Section,
    empty,
    pivot_by_year,
    query,
    register,
    source,
)

MAX_BARS = 25
GEO_LABELS = {"2015": "Quartiers 2015 (contrats 2015–2023)", "2024": "Quartiers 2024 (contrats 2024–2030)"}
TWO_GEOGRAPHIES = ("Les années choisies couvrent les deux géographies prioritaires : les quartiers de 2015 (codes "
                   "QP…) et ceux de 2024 (codes QN…) ne se comparent pas, la page en montre une à la fois.")


def periode(annees: tuple[int, ...]) -> str:
    if not annees:
        return "Sur la période"
    lo, hi = min(annees), max(annees)
    return f"En {lo}" if lo == hi else f"De {lo} à {hi}"


def _lower(label: str) -> str:
    return label.lower() if not label.startswith("Taux") else label


@register("quartiers_geographies", "Géographies des quartiers", ("qpv",))
def geographies(con, f: Filtres, qpv: str | None = None, **_) -> Section:
    """The geographies the selected years' actions use; by default that of the quartier `qpv` (a link to its
    fiche), else that of the latest year."""
    geos = query(con, qq.geographies, f)
    if geos.empty:
        return empty("quartiers_geographies", "Quartiers prioritaires",
                     "Aucune action ne concerne un quartier pour les années choisies. Élargissez la sélection ou "
                     "réinitialisez les filtres.")
    codes = list(geos["geographie"])
    latest = str(geos.sort_values("annee_max")["geographie"].iloc[-1])
    linked = query(con, qq.fiche, qpv) if qpv else None
    default = linked["geographie"] if linked and linked["geographie"] in codes else latest
    return Section("quartiers_geographies", "Quartiers prioritaires",
                   notes=[TWO_GEOGRAPHIES] if len(codes) > 1 else [],
                   params={"geographies": codes, "defaut": default, "libelles": GEO_LABELS})


def _mesures(con, geo: str) -> tuple[dict[str, str], dict[str, str]]:
    inds = query(con, qq.indicateurs_disponibles, geo)
    mesures = {**qq.MESURES, **{f"ind:{c}": lib for c, lib in zip(inds["code"], inds["libelle"], strict=True)}}
    return mesures, dict(zip(inds["code"], inds["unite"], strict=True))


@register("quartiers_mesures", "Mesures d'une géographie", ("geographie",), filtres=())
def mesures(con, f: Filtres, geographie: str = "2024", **_) -> Section:
    """The measures offered for the map and the ranking (amounts, actions, the indicators of that geography)."""
    options, _ = _mesures(con, geographie)
    return Section("quartiers_mesures", "Mesures", params={"mesures": options, "geographie": geographie})


def _ranking(con, f: Filtres, geo: str, mesure: str):
    options, unites = _mesures(con, geo)
    mesure = mesure if mesure in options else next(iter(options))
    indicateur = mesure[4:] if mesure.startswith("ind:") else None
    df = query(con, qq.mesures_qpv, f, geo, indicateur)
    col = "indicateur_valeur" if indicateur else mesure
    if not df.empty:
        dup = df["nom_qpv"].duplicated(keep=False)
        df = df.assign(libelle=df["nom_qpv"].where(~dup, df["nom_qpv"] + " (" + df["code_qpv"] + ")"))
    ranked = (df.dropna(subset=[col]).sort_values([col, "nom_qpv"], ascending=[False, True], ignore_index=True)
              if not df.empty else df)
    return df, ranked, mesure, indicateur, col, options[mesure], unites.get(indicateur or "")


@register("quartiers_entete", "Quartiers : le premier sur une mesure", ("geographie", "mesure"))
def entete(con, f: Filtres, geographie: str = "2024", mesure: str = "montant_par_habitant", **_) -> Section:
    """The quartier first on the measure in the title; the quartiers (codes and names) for the fiche choice."""
    df, ranked, mesure, indicateur, col, label, unite = _ranking(con, f, geographie, mesure)
    annees = query(con, qq.annees_geographie, f, geographie)
    per = periode(annees)
    if df.empty:
        return empty("quartiers_entete", "Quartiers prioritaires",
                     "Aucun quartier ne correspond aux filtres choisis (contrat, communes, quartiers).",
                     {"geographie": geographie, "mesure": mesure, "codes": []})
    fmt_value = qq.formateur(mesure, unite)
    if ranked.empty or (not indicateur and ranked[col].max() == 0):
        titre = (f"{per}, aucun montant pour ces quartiers" if not indicateur else
                 f"« {label} » n'est pas disponible pour ces quartiers")
    else:
        top = ranked.iloc[0]
        verbe = {"montant_par_habitant": "reçoit le plus par habitant", "montant_accorde": "reçoit le plus",
                 "nb_actions": "compte le plus d'actions"}.get(mesure)
        if verbe:
            titre = f"{per}, {top['nom_qpv']} {verbe} : {fmt_value(top[col])}"
        else:
            titre = (f"{top['nom_qpv']} a la valeur la plus élevée de « {label} » : {fmt_value(top[col])}"
                     f" ({int(top['indicateur_annee'])})")
    contours = set(query(con, queries.qpv_with_contour)["code_qpv"].tolist())
    without = df[~df["code_qpv"].isin(contours)]
    if len(without) == len(df):
        carte_vide = (f"Les contours des quartiers de la géographie 2015 ne sont pas disponibles : la carte ne peut "
                      f"pas être dessinée. Les {len(df)} quartiers figurent dans le classement ci-contre."
                      if geographie == "2015" else
                      "Aucun contour n'est disponible pour ces quartiers : la carte ne peut pas être dessinée (voir "
                      "le classement).")
    else:
        carte_vide = None
    notes_carte = []
    if not without.empty and carte_vide is None:
        notes_carte.append(f"Sans contour sur la carte ({len(without)}) : "
                           + ", ".join(f"{n} ({c})" for n, c in zip(without["nom_qpv"], without["code_qpv"],
                                                                     strict=True)) + ".")
    notes_carte.append("Le quartier dont la fiche est affichée est entouré en orange. Survolez un quartier pour sa "
                       "valeur ; cliquez pour ouvrir sa fiche.")
    return Section("quartiers_entete", titre, source=source(con, FUNDING_SOURCES, annees), notes=[SPLIT_NOTE],
                   params={"geographie": geographie, "mesure": mesure, "libelle": label, "unite": unite,
                           "periode": per,
                           "codes": df["code_qpv"].tolist(),
                           "noms": dict(zip(df["code_qpv"].tolist(), (df["libelle"] + " — " + df["code_qpv"]).tolist(),
                                            strict=True)),
                           "premier": str(ranked["code_qpv"].iloc[0] if not ranked.empty else df["code_qpv"].iloc[0]),
                           "titre_carte": f"Carte : {_lower(label)}", "carte_vide": carte_vide,
                           "notes_carte": notes_carte})


@register("quartiers_classement", "Classement des quartiers", ("geographie", "mesure"), slide=True)
def classement(con, f: Filtres, geographie: str = "2024", mesure: str = "montant_par_habitant", **_) -> Section:
    """The quartiers ranked on the measure (the first ones in the chart, all in the table)."""
    df, ranked, mesure, indicateur, col, label, unite = _ranking(con, f, geographie, mesure)
    annees = query(con, qq.annees_geographie, f, geographie)
    per = periode(annees)
    titre = f"Classement des quartiers : {_lower(label)}"
    params: dict[str, Any] = {"geographie": geographie, "mesure": mesure, "codes": [], "par_libelle": {}}
    if ranked.empty:
        return empty("quartiers_classement", titre, f"Aucune valeur de « {label} » n'est disponible pour ces "
                     "quartiers jusqu'aux années choisies.", params)
    euros = col in ("montant_accorde", "montant_par_habitant") or unite == "€"
    value_title = label + (f" ({unite})" if unite and unite not in ("€",) else "")
    # A bar chart stays readable up to a few dozen quartiers; the table keeps them all.
    shown = ranked.head(MAX_BARS)
    chart = charts.horizontal_bars(shown, "libelle", col, value_title=value_title, euros=euros,
                                   height=max(160, 30 * len(shown) + 50), selection="qp_bar")
    table = ranked[["libelle", "code_qpv", "communes", "population", "montant_accorde", "nb_actions",
                    "montant_par_habitant"]].rename(columns={
        "libelle": "Quartier", "code_qpv": "Code", "communes": "Communes", "population": "Population",
        "montant_accorde": "Montant accordé", "nb_actions": "Actions", "montant_par_habitant": "€ par habitant"})
    formats = {"Montant accordé": "euros", "€ par habitant": "euros1", "Population": "nombre", "Actions": "texte"}
    if indicateur:
        table[label] = ranked["indicateur_valeur"]
        table["Année de l'indicateur"] = ranked["indicateur_annee"].astype("Int64").astype(str)
        formats[label] = "%.1f" + (f" {unite}" if unite else "")
        formats["Année de l'indicateur"] = "texte"
    notes = []
    missing = df[df[col].isna()]
    if not missing.empty:
        notes.append(f"Sans valeur ({len(missing)}) : " + ", ".join(missing["nom_qpv"]) + ".")
    notes.append("Cliquez sur une barre ou une ligne du tableau pour ouvrir la fiche du quartier.")
    params.update({"codes": ranked["code_qpv"].tolist(),
                   "par_libelle": dict(zip(ranked["libelle"].tolist(), ranked["code_qpv"].tolist(), strict=True)),
                   "note_graphique": (f"Les {len(shown)} premiers des {len(ranked)} quartiers ; tous sont dans "
                                      "l'onglet Tableau." if len(ranked) > len(shown) else None)})
    return Section("quartiers_classement", titre, chart=chart, table=table, table_nom=f"Quartiers {label} {per}",
                   source=source(con, FUNDING_SOURCES, annees), notes=notes, formats=formats, params=params)


def _annees(con, f: Filtres, geo: str) -> tuple[int, ...]:
    return query(con, qq.annees_geographie, f, geo)


@register("quartiers_fiche", "Fiche d'un quartier : identité et chiffres", ("geographie", "qpv"))
def fiche(con, f: Filtres, geographie: str = "2024", qpv: str | None = None, **_) -> Section:
    """A quartier's identity (geography, contract, communes, EPCI) and its figures over the selected years."""
    ident = query(con, qq.fiche, qpv) if qpv else None
    if ident is None:
        return empty("quartiers_fiche", "Fiche du quartier", "Ce quartier n'existe pas dans le référentiel.",
                     {"qpv": qpv})
    code = ident["code_qpv"]
    annees = _annees(con, f, geographie)
    per = periode(annees)
    df = query(con, qq.mesures_qpv, f, geographie, None)
    rows = df[df["code_qpv"] == code]
    row = rows.iloc[0] if not rows.empty else pd.Series({"montant_accorde": 0.0, "nb_actions": 0,
                                                         "montant_par_habitant": None})
    communes = ", ".join(n for _, n in ident["communes"]) or "—"
    epci = ", ".join(n for _, n in ident["epci"]) or "—"
    contrat = (f"{ident['contrat_libelle']} ({ident['contrat']})" if ident["contrat_libelle"]
               else (ident["contrat"] or "—"))
    identite = {"geographie": ident["geographie"], "contrat": contrat, "communes": communes, "epci": epci,
                "n_communes": len(ident["communes"])}
    chiffres = [
        Chiffre("Population", fmt.nombre(ident["population"])),
        Chiffre(f"Montant accordé ({per.lower()})", fmt.euros(row["montant_accorde"]),
                aide="Part du quartier : une action menée dans plusieurs quartiers compte à parts égales."),
        Chiffre("Actions", fmt.nombre(row["nb_actions"])),
        Chiffre("Par habitant", fmt.euros(row["montant_par_habitant"])),
    ]
    return Section("quartiers_fiche", f"Fiche du quartier {ident['nom_qpv']} ({code})", chiffres,
                   source=source(con, FUNDING_SOURCES, annees),
                   params={"qpv": code, "geographie": geographie, "identite": identite, "periode": per})


@register("quartiers_indicateurs", "Indicateurs d'un quartier et de son territoire", ("geographie", "qpv"))
def indicateurs(con, f: Filtres, geographie: str = "2024", qpv: str | None = None, **_) -> Section:
    """The quartier's indicators next to those of its communes, EPCI and France (latest value up to the last
    selected year)."""
    annees = _annees(con, f, geographie)
    long = query(con, qq.comparaison_indicateurs, qpv, max(annees) if annees else None)
    titre = "Indicateurs du quartier et de son territoire"
    if long.empty:
        return empty("quartiers_indicateurs", titre, "Aucun indicateur n'est disponible pour ce quartier.",
                     {"qpv": qpv})
    return Section("quartiers_indicateurs", titre, table=qq.tableau_indicateurs(long), table_nom=f"Indicateurs {qpv}",
                   source=source(con, ("indicateurs",)),
                   notes=["Valeur la plus récente jusqu'à la dernière année choisie ; entre parenthèses, l'année "
                          "d'une valeur qui n'est pas celle du quartier. « — » : pas de donnée."],
                   formats={"Année": "texte"}, params={"qpv": qpv})


@register("quartiers_financements", "Financements d'un quartier par année", ("geographie", "qpv", "par"), slide=True)
def financements(con, f: Filtres, geographie: str = "2024", qpv: str | None = None, par: str = "financeur",
                 **_) -> Section:
    """The quartier's share of the granted amounts per year and funder (or pillar)."""
    par = par if par in ("financeur", "pilier") else "financeur"
    title = par.capitalize()
    annees = _annees(con, f, geographie)
    if not qpv:  # a slide without a quartier chosen: the one that receives the most
        df = query(con, qq.mesures_qpv, f, geographie, None)
        qpv = str(df["code_qpv"].iloc[0]) if not df.empty else None
    per = periode(annees)
    fq = f.with_(annees=annees or f.annees)
    titre = f"Financements du quartier par année et par {par}"
    fin = query(con, qq.financements_qpv, fq, qpv, par)
    params = {"qpv": qpv, "par": par, "geographie": geographie}
    if fin.empty:
        return empty("quartiers_financements", titre,
                     f"Aucun financement accordé à ce quartier {per.lower()} pour ces filtres.", params)
    chart = charts.stacked_by_year(fin, "libelle", title)
    table = pivot_by_year(fin, "libelle", title)
    return Section("quartiers_financements", titre, chart=chart, table=table,
                   table_nom=f"Financements {qpv} par {par}", source=source(con, FUNDING_SOURCES, annees),
                   formats={c: "euros" for c in table.columns if c != title}, params=params)


@register("quartiers_actions", "Actions menées dans un quartier", ("geographie", "qpv"))
def actions(con, f: Filtres, geographie: str = "2024", qpv: str | None = None, **_) -> Section:
    """The actions naming the quartier in the selected years, with its share of each."""
    annees = _annees(con, f, geographie)
    per = periode(annees)
    acts = query(con, qq.actions_qpv, f.with_(annees=annees or f.annees), qpv)
    titre = f"Actions menées dans le quartier ({fmt.nombre(len(acts))})"
    if acts.empty:
        return empty("quartiers_actions", titre,
                     f"Aucune action ne concerne ce quartier {per.lower()} pour ces filtres.", {"qpv": qpv})
    table = acts.assign(statut=acts["statut"].map(lambda s: LIBELLES.get(s, s)))[
        ["annee", "porteur", "intitule", "pilier", "montant_qpv", "montant_total", "nb_qpv", "statut"]].rename(
        columns={"annee": "Année", "porteur": "Porteur", "intitule": "Intitulé", "pilier": "Pilier",
                 "montant_qpv": "Part du quartier", "montant_total": "Montant total de l'action",
                 "nb_qpv": "Quartiers concernés", "statut": "Statut"})
    return Section("quartiers_actions", titre, table=table, table_nom=f"Actions {qpv}",
                   source=source(con, FUNDING_SOURCES, annees),
                   notes=["Cliquez sur un en-tête de colonne pour trier. " + SPLIT_NOTE],
                   formats={"Année": "annee", "Part du quartier": "euros", "Montant total de l'action": "euros",
                            "Intitulé": "texte_large", "Quartiers concernés": "texte"},
                   params={"qpv": qpv, "hauteur": min(600, 38 + 35 * len(table))})


def carte_mesure(con, f: Filtres, geographie: str, mesure: str, libelle: str, unite: str | None,
                 selected: str | None = None, height: int = 620) -> maps.Carte:
    """The Quartiers page's map of one measure (amounts, actions or an indicator), only the contours of the
    quartiers shown, the one whose fiche is open outlined; serialised once (the page caches it)."""
    indicateur = mesure[4:] if mesure.startswith("ind:") else None
    df = query(con, qq.mesures_qpv, f, geographie, indicateur)
    col = "indicateur_valeur" if indicateur else mesure
    terr = query(con, maps.territoire, tuple(sorted(df["code_qpv"])))
    return maps.figee(maps.carte_territoire(terr, df, col, libelle, qq.formateur(mesure, unite), height=height,
                                            selected=selected))
