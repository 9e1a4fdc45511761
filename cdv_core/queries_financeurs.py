"""Figures of the "Financeurs" page: contributions, natures, sections, requested vs granted, effet levier,
co-financing and the funder × pillar matrix.

Every function takes `(con, filtres, ...)` and returns a DataFrame or a dict; amounts are aggregated in
DuckDB through `queries.aggregate` (equal split per QPV when quartiers or communes are selected).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from cdv_core import queries, tables
from cdv_core.filters import Filtres, Sql, action_conditions, financement_conditions, qpv_conditions
from cdv_core.formats import LIBELLES

# The ANCT's own credits: the effet levier is measured against them.
BOP147 = "etat_bop147"


def _funder_labels(con: duckdb.DuckDBPyConnection, df: pd.DataFrame) -> pd.DataFrame:
    df = df.merge(queries.libelles(con, "financeur"), on="financeur", how="left")
    df["financeur_libelle"] = df["financeur_libelle"].fillna(df["financeur"])
    return df


def _share(df: pd.DataFrame, by: str | list[str] | None, value: str = "montant_accorde") -> pd.Series:
    total = df.groupby(by)[value].transform("sum") if by else pd.Series(df[value].sum(), index=df.index)
    return (100 * df[value] / total.where(total > 0)).fillna(0.0)


def contributions(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per year and funder: granted amount and the funder's share (%) of the year's total (no count of actions:
    no page shows it, and counting distinct actions is most of the query's time)."""
    df = _funder_labels(con, queries.aggregate(con, f, ["annee", "financeur"], actions=False))
    df["part"] = _share(df, "annee")
    return df.sort_values(["annee", "montant_accorde"], ascending=[True, False], ignore_index=True)


def _by_year_listed(con, f: Filtres, dim: str) -> pd.DataFrame:
    df = queries.aggregate(con, f, ["annee", dim], actions=False)
    df[f"{dim}_libelle"] = df[dim].map(lambda v: LIBELLES.get(v, v)).fillna("Non renseigné")
    df["part"] = _share(df, "annee")
    return df[["annee", dim, f"{dim}_libelle", "montant_accorde", "part"]]


def par_nature(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per year: crédits spécifiques vs droit commun (amount, share % of the year)."""
    return _by_year_listed(con, f, "nature")


def par_section(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per year: fonctionnement vs investissement (amount, share % of the year)."""
    return _by_year_listed(con, f, "section")


def croissance(con: duckdb.DuckDBPyConnection, f: Filtres, annee_ref: int, annee: int) -> pd.DataFrame:
    """Per funder: amount in `annee_ref` and `annee`, change in € and in % (None when absent in `annee_ref`).

    Sorted by change in €, largest increase first.
    """
    df = queries.aggregate(con, f.with_(annees=tuple(sorted({annee_ref, annee}))), ["annee", "financeur"],
                           actions=False)
    wide = tables.pivot_sum(df, "financeur", "annee", "montant_accorde")
    out = pd.DataFrame({
        "financeur": wide.index,
        "montant_ref": wide[annee_ref].to_numpy() if annee_ref in wide else 0.0,
        "montant": wide[annee].to_numpy() if annee in wide else 0.0,
    })
    out["evolution"] = out["montant"] - out["montant_ref"]
    out["evolution_pct"] = (100 * out["evolution"] / out["montant_ref"].where(out["montant_ref"] > 0))
    out["evolution_pct"] = out["evolution_pct"].astype(object).where(out["evolution_pct"].notna(), None)
    out = _funder_labels(con, out)
    out["annee_ref"], out["annee"] = annee_ref, annee
    return out.sort_values(["evolution", "financeur"], ascending=[False, True], ignore_index=True)


def plus_forte_croissance(con: duckdb.DuckDBPyConnection, f: Filtres, annee_ref: int, annee: int) -> dict | None:
    """The funder whose granted amount grew most in € between `annee_ref` and `annee` (None if no data)."""
    return plus_forte_de(croissance(con, f, annee_ref, annee), annee_ref, annee)


def plus_forte_de(df: pd.DataFrame, annee_ref: int, annee: int) -> dict | None:
    """`plus_forte_croissance` from the table `croissance` already gave (a page that shows both asks once)."""
    if df.empty or (df["montant"].sum() == 0 and df["montant_ref"].sum() == 0):
        return None
    top = df.iloc[0]
    total_ref, total = float(df["montant_ref"].sum()), float(df["montant"].sum())
    return {
        "financeur": top["financeur"], "financeur_libelle": top["financeur_libelle"],
        "montant_ref": float(top["montant_ref"]), "montant": float(top["montant"]),
        "evolution": float(top["evolution"]), "evolution_pct": top["evolution_pct"],
        "annee_ref": annee_ref, "annee": annee, "total_ref": total_ref, "total": total,
        "total_evolution_pct": 100 * (total - total_ref) / total_ref if total_ref else None,
    }


def demande_accorde(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per funder, on funding lines whose requested amount is known: requested, granted, rate (%).

    Also `nb_lignes_connues` / `nb_lignes` (how many lines state what was requested).
    """
    split = f.split_qpv
    sql = queries.fact_conditions(f, split)
    sql.add("x.financeur IS NOT NULL")
    # A funding line stands once in `fait`, once per quartier of its action in `fait_qpv`.
    line = "(x.cle, x.financeur, x.dispositif, x.section, x.nature)"
    known = "x.montant_demande IS NOT NULL"
    df = con.execute(
        "SELECT x.financeur, sum(x.montant_demande) AS montant_demande, "
        f"sum(x.montant_accorde) FILTER (WHERE {known}) AS montant_accorde, "
        + (f"count(DISTINCT {line}) FILTER (WHERE {known}) AS nb_lignes_connues, count(DISTINCT {line}) AS nb_lignes "
           if split else f"count(*) FILTER (WHERE {known}) AS nb_lignes_connues, count(*) AS nb_lignes ")
        + f"FROM {'fait_qpv' if split else 'fait'} x {sql.where()} GROUP BY x.financeur", sql.params).df()
    df = _funder_labels(con, df[df["nb_lignes_connues"] > 0].copy())
    df["taux"] = 100 * df["montant_accorde"] / df["montant_demande"].where(df["montant_demande"] > 0)
    return df.sort_values("montant_demande", ascending=False, ignore_index=True)


LEVIER_DIMENSIONS = {"annee": "annee", "pilier": "pilier", "qpv": "qpv"}


def effet_levier(con: duckdb.DuckDBPyConnection, f: Filtres, par: str = "annee") -> pd.DataFrame:
    """Euros from the other funders per euro of ANCT crédits (BOP 147), per `par` (annee, pilier or qpv).

    Columns: `par`, its label, montant_total, montant_bop147, montant_autres, levier (None without BOP 147).
    Per QPV, amounts are equal shares of each action. The funder and nature filters are ignored: the levier
    compares every funder with the BOP 147.
    """
    if par not in LEVIER_DIMENSIONS:
        raise ValueError(f"unknown dimension: {par}")
    base = f.with_(financeurs=(), nature=())
    if par == "qpv":
        # Thousands of quartiers: both sums in one pass, not one row per quartier and funder (27 → 10 ms).
        sql = queries.fact_conditions(base, True)
        sql.add("x.financeur IS NOT NULL")
        out = con.execute(
            "SELECT x.code_qpv AS qpv, coalesce(sum(x.montant_accorde), 0) AS montant_total, "
            f"coalesce(sum(x.montant_accorde) FILTER (WHERE x.financeur = '{BOP147}'), 0) AS montant_bop147 "
            f"FROM fait_qpv x {sql.where()} GROUP BY x.code_qpv ORDER BY qpv", sql.params).df()
    else:
        df = queries.aggregate(con, base, [par, "financeur"], actions=False)
        df["bop"] = df["montant_accorde"].where(df["financeur"] == BOP147, 0.0)
        out = df.groupby(par, as_index=False).agg(montant_total=("montant_accorde", "sum"),
                                                  montant_bop147=("bop", "sum"))
    out["montant_autres"] = out["montant_total"] - out["montant_bop147"]
    out["levier"] = out["montant_autres"] / out["montant_bop147"].where(out["montant_bop147"] > 0)
    if par == "pilier":
        out = out.merge(queries.libelles(con, "pilier")[["pilier", "pilier_libelle"]], on="pilier", how="left")
        out["pilier_libelle"] = out["pilier_libelle"].fillna(out["pilier"])
    elif par == "qpv":
        out = out.merge(queries.libelles(con, "qpv")[["qpv", "qpv_libelle"]], on="qpv", how="left")
        out["qpv_libelle"] = out["qpv_libelle"].fillna(out["qpv"]) + " (" + out["qpv"] + ")"
    else:
        out["annee"] = out["annee"].astype(int)
    out = out[out["montant_total"] > 0]
    return out.sort_values(par if par == "annee" else "levier", ascending=par == "annee",
                           ignore_index=True, na_position="last")


def levier_global(con: duckdb.DuckDBPyConnection, f: Filtres) -> dict:
    """Effet levier over the whole selection: totals and euros from others per euro of BOP 147."""
    df = queries.aggregate(con, f.with_(financeurs=(), nature=()), ["financeur"], actions=False)
    total = float(df["montant_accorde"].sum())
    bop = float(df.loc[df["financeur"] == BOP147, "montant_accorde"].sum())
    return {"montant_total": total, "montant_bop147": bop, "montant_autres": total - bop,
            "levier": (total - bop) / bop if bop else None}


def _statuts_finances() -> str:
    return ", ".join(f"'{s}'" for s in queries.STATUTS_FINANCES)


def _financed_scope(f: Filtres) -> Sql:
    """Conditions on the fact table `fait x` selecting the lines of financed action-years (statut accordée or
    soldée) under the action filters and, when quartiers are chosen, naming one of them (any share)."""
    sql = Sql()
    action_conditions(f, sql, "x")
    if f.split_qpv:
        qs = Sql()
        qpv_conditions(f, qs)
        sql.add("EXISTS (SELECT 1 FROM action_qpv q WHERE q.action_id = x.action_id AND q.annee = x.annee AND "
                + " AND ".join(qs.conditions) + ")", *qs.params)
    sql.add(f"x.statut IN ({_statuts_finances()})")
    return sql


def actions_par_financeur(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per funder: number of financed action-years it co-finances (granted amount > 0) and how many have other
    funders. With a funder, nature or dispositif filter, a funder counts the action-years where it has such a line;
    every funder of an action-year counts in "other funders".

    One pass over the fact table, an action-year by its key (`cle`): the former version joined actions and
    funding lines and counted distinct (action, year) pairs, 80 ms at national scale (and failed with a
    dispositif filter)."""
    sql = _financed_scope(f)
    sql.add("x.montant_accorde > 0")
    fs = Sql()
    financement_conditions(f, fs, alias="x")
    kept = " AND ".join(fs.conditions) if fs.conditions else "TRUE"
    df = con.execute(
        f"WITH l AS (SELECT x.cle, x.financeur, bool_or({kept}) AS retenue FROM fait x {sql.where()} "
        "GROUP BY x.cle, x.financeur), "
        "n AS (SELECT cle, count(*) AS nb FROM l GROUP BY cle) "
        "SELECT l.financeur, count(*) AS nb_actions, count(*) FILTER (WHERE n.nb > 1) AS nb_cofinancees "
        "FROM l JOIN n USING (cle) WHERE l.retenue GROUP BY l.financeur",
        [*fs.params, *sql.params]).df()
    df = _funder_labels(con, df)
    return df.sort_values(["nb_actions", "financeur"], ascending=[False, True], ignore_index=True)


def distribution_nb_financeurs(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """How many funders (granted amount > 0) each financed action-year has: nb_financeurs → nb_actions, part (%).

    With a funder or nature filter, the actions are those with such a line, and all their funders count.
    Only financed actions count (`queries.financee`): pending, refused or abandoned files have no funder.
    """
    # One pass over the fact table: per action-year, its funders with a granted amount.
    sql = _financed_scope(f)
    having = Sql()
    having.add("count(*) FILTER (WHERE x.montant_accorde > 0) > 0")
    if f.financeurs or f.nature or f.dispositifs:
        fs = Sql()
        financement_conditions(f, fs, alias="x")
        having.add("count(*) FILTER (WHERE x.montant_accorde > 0 AND " + " AND ".join(fs.conditions) + ") > 0",
                   *fs.params)
    df = con.execute(
        "SELECT nb AS nb_financeurs, count(*) AS nb_actions FROM ("
        "SELECT x.cle, count(DISTINCT x.financeur) FILTER (WHERE x.montant_accorde > 0) AS nb "
        f"FROM fait x {sql.where()} GROUP BY x.cle "
        + (f"HAVING {' AND '.join(having.conditions)}" if having.conditions else "")
        + ") GROUP BY ALL ORDER BY nb_financeurs", [*sql.params, *having.params]).df()
    df["part"] = _share(df, None, "nb_actions")
    return df


def matrice_pilier(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Funder × pillar: granted amount and the pillar's share (%) of the funder's total."""
    df = _funder_labels(con, queries.aggregate(con, f, ["financeur", "pilier"], actions=False))
    df = df.merge(queries.libelles(con, "pilier")[["pilier", "pilier_libelle"]], on="pilier", how="left")
    df["pilier_libelle"] = df["pilier_libelle"].fillna(df["pilier"])
    df["part_financeur"] = _share(df, "financeur")
    return df.sort_values(["financeur_libelle", "pilier_libelle"], ignore_index=True)


def taux_accord(con: duckdb.DuckDBPyConnection, f: Filtres) -> dict:
    """Over lines whose requested amount is known: requested, granted, granted/requested (%), lines known/all."""
    return taux_de(demande_accorde(con, f))


def taux_de(df: pd.DataFrame) -> dict:
    """`taux_accord` from the table `demande_accorde` already gave (a page that shows both asks once)."""
    dem, acc = float(df["montant_demande"].sum()), float(df["montant_accorde"].sum())
    return {"montant_demande": dem, "montant_accorde": acc, "taux": 100 * acc / dem if dem else None,
            "nb_lignes_connues": int(df["nb_lignes_connues"].sum()), "nb_lignes": int(df["nb_lignes"].sum())}


def resume_cofinancement(con: duckdb.DuckDBPyConnection, f: Filtres) -> dict:
    """Action-years of the selection, those with at least two funders, and their share (%)."""
    return resume_de(distribution_nb_financeurs(con, f))


def resume_de(dist: pd.DataFrame) -> dict:
    """`resume_cofinancement` from the table `distribution_nb_financeurs` already gave."""
    n = int(dist["nb_actions"].sum())
    multi = int(dist.loc[dist["nb_financeurs"] >= 2, "nb_actions"].sum())
    sans = int(dist.loc[dist["nb_financeurs"] == 0, "nb_actions"].sum())
    return {"nb_actions": n, "nb_multi": multi, "part_multi": 100 * multi / n if n else None, "nb_sans": sans}
