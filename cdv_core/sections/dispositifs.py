"""Sections of the dispositifs (Financeurs page and COPIL slide): amount, actions and quartiers per dispositif
and year, adultes-relais and FONJEP posts, the abattement TFPB by bailleur and quartier."""

from __future__ import annotations

import pandas as pd

from cdv_core import charts, fmt, queries
from cdv_core import queries_dispositifs as qd
from cdv_core.filters import Filtres
from cdv_core.sections.base import (
    FUNDING_SOURCES,
    NO_ACTION,
    SPLIT_NOTE,
    Section,
    annee_affichee,
    empty,
    register,
    section,
    source,
)

NOTE_DISPOSITIF = ("Dispositif : la colonne « dispositif » des financements. Une action financée par plusieurs "
                   "dispositifs compte dans chacun ; les lignes sans dispositif sont regroupées sous "
                   f"« {qd.SANS_DISPOSITIF} ».")


@register("dispositifs", "Ce qu'apporte chaque dispositif", ("annee",), slide=True)
def dispositifs(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """Amount, financed actions and quartiers per dispositif and year; the headline year's ranking."""
    df = qd.par_annee(con, f)
    df = df[df["montant_accorde"] > 0]
    if df.empty:
        return empty("dispositifs", "Les dispositifs", NO_ACTION)
    annee = annee_affichee(con, f, annee)
    year = df[df["annee"] == annee].sort_values("montant_accorde", ascending=False)
    if year.empty:
        annee = int(df["annee"].max())
        year = df[df["annee"] == annee].sort_values("montant_accorde", ascending=False)
    named = year[year["dispositif"] != qd.SANS_DISPOSITIF]
    top = (named if not named.empty else year).iloc[0]
    identifies = fmt.compte(len(named), "dispositif identifié", "dispositifs identifiés")
    titre = (f"En {annee}, {identifies} ; « {top['dispositif']} » apporte "
             f"{fmt.euros(top['montant_accorde'])} ({fmt.pourcent(top['part'], 0)} des financements)")
    chart = charts.stacked_by_year(df, "dispositif", "Dispositif", height=460)
    years = tuple(int(y) for y in sorted(df["annee"].unique()))
    table = df[["annee", "dispositif", "montant_accorde", "part", "nb_actions", "nb_qpv"]].rename(columns={
        "annee": "Année", "dispositif": "Dispositif", "montant_accorde": "Montant accordé",
        "part": "Part de l'année (%)", "nb_actions": "Actions financées", "nb_qpv": "Quartiers"}).sort_values(
        ["Année", "Montant accordé"], ascending=[False, False], ignore_index=True)
    chiffres = [(f"Dispositifs {annee}", fmt.nombre(len(named))),
                (f"{top['dispositif']}", fmt.euros(top["montant_accorde"])),
                ("Actions financées", fmt.nombre(int(top["nb_actions"]))),
                ("Quartiers", fmt.nombre(int(top["nb_qpv"])))]
    return section("dispositifs", titre, chiffres, chart, table, "Dispositifs par année",
                   source(con, FUNDING_SOURCES, years), [NOTE_DISPOSITIF, SPLIT_NOTE, queries.REGLE_ACTIONS],
                   params={"annee": annee},
                   formats={"Année": "annee", "Actions financées": "nombre", "Quartiers": "nombre"})


@register("dispositifs_postes", "Postes adultes-relais et FONJEP", ("annee",))
def dispositifs_postes(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """Adultes-relais and FONJEP posts per year: count, amount, porteurs."""
    df = qd.postes(con, f)
    df = df[df["nb_postes"] > 0]
    if df.empty:
        return empty("dispositifs_postes", "Postes adultes-relais et FONJEP",
                     "Aucun poste adultes-relais ou FONJEP dans la sélection.")
    annee = annee_affichee(con, f, annee)
    year = df[df["annee"] == annee]
    if year.empty:
        annee = int(df["annee"].max())
        year = df[df["annee"] == annee]
    parts = [f"{fmt.compte(int(r.nb_postes), 'poste')} {r.dispositif} ({fmt.euros(r.montant_accorde)}, "
             f"{fmt.compte(int(r.nb_porteurs), 'porteur')})" for r in year.itertuples(index=False)]
    titre = f"En {annee} : " + " ; ".join(parts)
    chart = charts.stacked_columns(df, "dispositif", "Dispositif", "nb_postes", "Postes", kind="nombre", height=360)
    table = df.rename(columns={"annee": "Année", "dispositif": "Dispositif", "nb_postes": "Postes",
                               "montant_accorde": "Montant accordé", "nb_porteurs": "Porteurs"})
    chiffres = [(f"Postes {r.dispositif} {annee}", fmt.nombre(int(r.nb_postes))) for r in year.itertuples(index=False)]
    return section("dispositifs_postes", titre, chiffres, chart, table, "Postes adultes-relais et FONJEP",
                   source(con, FUNDING_SOURCES, tuple(int(y) for y in df["annee"].unique())),
                   ["Un poste = une action financée de ce dispositif pour l'année (un financement de poste)."],
                   params={"annee": annee}, formats={"Année": "annee", "Postes": "nombre", "Porteurs": "nombre"})


@register("dispositifs_tfpb", "Abattement TFPB par bailleur et quartier", ("annee",))
def dispositifs_tfpb(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """Abattement TFPB of one year by bailleur and quartier (equal shares per quartier)."""
    annee = annee_affichee(con, f, annee)
    df = qd.tfpb(con, f.with_(annees=(annee,))) if annee else pd.DataFrame()
    if annee is None or df.empty or df["montant_accorde"].sum() == 0:
        return empty("dispositifs_tfpb", "Abattement TFPB",
                     "Aucune contrepartie d'abattement TFPB dans la sélection pour cette année.")
    by = df.groupby("porteur", as_index=False)["montant_accorde"].sum().sort_values("montant_accorde",
                                                                                     ascending=False)
    tot = by["montant_accorde"].sum()
    top = by.iloc[0]
    titre = (f"En {annee}, {fmt.euros(tot)} d'abattement TFPB valorisés par {fmt.compte(len(by), 'bailleur')} "
             f"dans {fmt.compte(df['code_qpv'].nunique(), 'quartier')} ; {top['porteur']} en porte "
             f"{fmt.pourcent(100 * top['montant_accorde'] / tot, 0)}")
    heat = df.assign(quartier=df["nom_qpv"] + " (" + df["code_qpv"] + ")")
    chart = charts.heatmap(heat, "porteur", "quartier", "montant_accorde", "Bailleur", "Quartier",
                           height=max(200, 40 * heat["quartier"].nunique()))
    table = df.rename(columns={"porteur": "Bailleur", "nom_qpv": "Quartier", "code_qpv": "Code",
                               "montant_accorde": "Montant accordé", "nb_actions": "Actions financées"})
    table = table[["Bailleur", "Quartier", "Code", "Montant accordé", "Actions financées"]]
    return section("dispositifs_tfpb", titre, [(f"Abattement TFPB {annee}", fmt.euros(tot)),
                                               ("Bailleurs", fmt.nombre(len(by)))], chart, table,
                   f"Abattement TFPB {annee}", source(con, FUNDING_SOURCES, (annee,)), [SPLIT_NOTE],
                   params={"annee": annee}, formats={"Actions financées": "nombre", "Code": "texte"})



