"""Figures of the dispositifs (`financement.dispositif`: Contrat de ville, Cités éducatives, PRE, Adultes-relais,
FONJEP, abattement TFPB, Quartiers d'été, AMI…): amounts, financed actions and quartiers per dispositif and
year, the posts (adultes-relais, FONJEP) and the abattement TFPB by bailleur and quartier.

Read-only, aggregated in DuckDB with `?` parameters; actions counted with `queries.financee`.
A funding line without dispositif is shown as `SANS_DISPOSITIF`.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from cdv_core import queries
from cdv_core.filters import Filtres

SANS_DISPOSITIF = "Sans dispositif précisé"
# Posts financed per unit (one action-year = one post), recognised by their dispositif's name.
POSTES = {"Adultes-relais": "%adulte%relais%", "FONJEP": "%fonjep%"}
TFPB = "%tfpb%"


def _norm(expr: str) -> str:
    return f"lower(strip_accents(coalesce({expr}, '')))"


def par_annee(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per year and dispositif: granted amount, financed actions, quartiers reached (by financed actions),
    share (%) of the year's amount. Columns: annee, dispositif, montant_accorde, nb_actions, nb_qpv, part."""
    sql = queries.fact_conditions(f, True)
    sql.add("x.financeur IS NOT NULL")
    df = con.execute(
        f"SELECT x.annee, coalesce(x.dispositif, '{SANS_DISPOSITIF}') AS dispositif, "
        "coalesce(sum(x.montant_accorde), 0) AS montant_accorde, "
        f"count(DISTINCT x.cle) FILTER (WHERE {queries.financee()}) AS nb_actions, "
        f"count(DISTINCT x.code_qpv) FILTER (WHERE {queries.financee()}) AS nb_qpv "
        f"FROM fait_qpv x {sql.where()} GROUP BY ALL ORDER BY x.annee, montant_accorde DESC", sql.params).df()
    tot = df.groupby("annee")["montant_accorde"].transform("sum")
    df["part"] = (100 * df["montant_accorde"] / tot.where(tot > 0)).fillna(0.0)
    return df


def postes(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per year, adultes-relais and FONJEP posts: nb_postes (financed action-years of the dispositif),
    montant_accorde, nb_porteurs. Columns: annee, dispositif, nb_postes, montant_accorde, nb_porteurs."""
    sql = queries.fact_conditions(f, f.split_qpv)
    table = "fait_qpv" if f.split_qpv else "fait"
    cases = " ".join(f"WHEN {_norm('x.dispositif')} LIKE ? THEN '{name}'" for name in POSTES)
    like = " OR ".join(f"{_norm('x.dispositif')} LIKE ?" for _ in POSTES)
    pats = list(POSTES.values())
    return con.execute(
        f"SELECT x.annee, CASE {cases} END AS dispositif, "
        f"count(DISTINCT x.cle) FILTER (WHERE {queries.financee()}) AS nb_postes, "
        "coalesce(sum(x.montant_accorde), 0) AS montant_accorde, "
        f"count(DISTINCT x.porteur) FILTER (WHERE {queries.financee()}) AS nb_porteurs "
        f"FROM {table} x {sql.where()} {'AND' if sql.conditions else 'WHERE'} ({like}) "
        "GROUP BY ALL ORDER BY x.annee, dispositif", [*pats, *sql.params, *pats]).df()


def tfpb(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Abattement TFPB per bailleur (the action's porteur) and quartier: montant_accorde (equal shares per QPV),
    nb_actions. Columns: porteur, code_qpv, nom_qpv, montant_accorde, nb_actions; largest first."""
    sql = queries.fact_conditions(f, True)
    sql.add(f"{_norm('x.dispositif')} LIKE ?", TFPB)
    return con.execute(
        "SELECT x.porteur, x.code_qpv, coalesce(q.nom_qpv, x.code_qpv) AS nom_qpv, "
        "coalesce(sum(x.montant_accorde), 0) AS montant_accorde, "
        f"count(DISTINCT x.cle) FILTER (WHERE {queries.financee()}) AS nb_actions "
        f"FROM fait_qpv x LEFT JOIN qpv q ON q.code_qpv = x.code_qpv {sql.where()} "
        "GROUP BY ALL ORDER BY montant_accorde DESC, x.porteur, x.code_qpv", sql.params).df()
