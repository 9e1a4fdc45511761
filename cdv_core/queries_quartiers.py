"""Figures of the "Quartiers" page: per-QPV measures, the fiche of one QPV, its indicators, funding and actions.

A geography (`2015`: codes QP…, contracts 2015–2023; `2024`: codes QN…, contracts 2024–2030) is always explicit:
per-QPV results never mix the two. Amounts per QPV are equal shares of each action (`action_qpv.part`).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from cdv_core import fmt, queries
from cdv_core.filters import Filtres, Sql, action_conditions, financement_conditions, qpv_conditions

# Measures offered for the map and the ranking (an indicator is "ind:<code>").
MESURES: dict[str, str] = {
    "montant_par_habitant": "Montant accordé par habitant",
    "montant_accorde": "Montant accordé",
    "nb_actions": "Nombre d'actions",
}
NIVEAUX = ("Quartier", "Commune", "Intercommunalité", "France")


def geographies(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Geographies of the QPV the selected years' actions name: geographie, first and last year, QPV count."""
    sql = Sql()
    sql.add_in("aq.annee", f.annees)
    return con.execute(
        "SELECT q.geographie, min(aq.annee) AS annee_min, max(aq.annee) AS annee_max, "
        "count(DISTINCT q.code_qpv) AS nb_qpv "
        f"FROM action_qpv aq JOIN qpv q USING (code_qpv) {sql.where()} GROUP BY q.geographie ORDER BY 1",
        sql.params).df()


def annees_geographie(con: duckdb.DuckDBPyConnection, f: Filtres, geographie: str) -> tuple[int, ...]:
    """Selected years whose actions use `geographie` (all such years when no year is selected)."""
    sql = Sql()
    sql.add("q.geographie = ?", geographie)
    sql.add_in("aq.annee", f.annees)
    rows = con.execute(
        f"SELECT DISTINCT aq.annee FROM action_qpv aq JOIN qpv q USING (code_qpv) {sql.where()} ORDER BY 1",
        sql.params).fetchall()
    return tuple(int(r[0]) for r in rows)


def indicateurs_disponibles(con: duckdb.DuckDBPyConnection, geographie: str) -> pd.DataFrame:
    """Indicators with at least one value for a QPV of `geographie`: code, libelle, unite, first/last year."""
    return con.execute(
        "SELECT d.code, d.libelle, coalesce(d.unite, any_value(i.unite)) AS unite, "
        "min(i.annee) AS annee_min, max(i.annee) AS annee_max "
        "FROM indicateur i JOIN indicateur_def d ON d.code = i.indicateur "
        "JOIN qpv q ON q.code_qpv = i.territoire WHERE q.geographie = ? "
        "GROUP BY d.code, d.libelle, d.unite ORDER BY d.libelle", [geographie]).df()


def _universe(f: Filtres, geographie: str) -> Sql:
    """QPV of `geographie` named by at least one action (of the selected contract), within the QPV filters."""
    sql = Sql()
    sql.add("q.geographie = ?", geographie)
    contrat = Sql()
    if f.contrat:
        contrat.add("a.contrat = ?", f.contrat)
    sql.add(f"q.code_qpv IN (SELECT DISTINCT a.code_qpv FROM fait_qpv a {contrat.where()})", *contrat.params)
    qpv_conditions(f, sql, "q")
    return sql


def mesures_qpv(con: duckdb.DuckDBPyConnection, f: Filtres, geographie: str,
                indicateur: str | None = None) -> pd.DataFrame:
    """One row per QPV of `geographie` (even when it received nothing) over the selected years of that geography.

    Columns: code_qpv, nom_qpv, communes (names), population, montant_accorde (equal shares), nb_actions,
    montant_par_habitant, and with `indicateur`: indicateur_valeur, indicateur_annee (latest value up to the
    last selected year). Sorted by amount, largest first.
    """
    annees = annees_geographie(con, f, geographie)
    u = _universe(f, geographie)
    money = Sql()
    action_conditions(f.with_(annees=annees or (-1,)), money, "x")
    financement_conditions(f, money, "x")
    ind = Sql()
    indicator_select = "NULL::DOUBLE AS indicateur_valeur, NULL::INTEGER AS indicateur_annee"
    indicator_join = ""
    if indicateur:
        ind.add("i.indicateur = ?", indicateur)
        if f.annees:
            ind.add("i.annee <= ?", max(f.annees))
        indicator_select = "iv.valeur AS indicateur_valeur, iv.annee AS indicateur_annee"
        indicator_join = (
            "LEFT JOIN (SELECT i.territoire, i.valeur, i.annee FROM indicateur i "
            f"{ind.where()} QUALIFY row_number() OVER (PARTITION BY i.territoire ORDER BY i.annee DESC) = 1) iv "
            "ON iv.territoire = u.code_qpv")
    query = f"""
        WITH u AS (SELECT q.code_qpv, q.nom_qpv, q.population FROM qpv q {u.where()}),
        m AS (
            SELECT x.code_qpv, sum(x.montant_accorde) AS montant_accorde,
                   count(DISTINCT x.cle) FILTER (WHERE {queries.financee()}) AS nb_actions
            FROM fait_qpv x {money.where()} GROUP BY x.code_qpv),
        c AS (
            SELECT qc.code_qpv, string_agg(coalesce(co.nom, qc.code_insee), ', ' ORDER BY co.nom) AS communes
            FROM qpv_commune qc LEFT JOIN commune co USING (code_insee) GROUP BY qc.code_qpv)
        SELECT u.code_qpv, u.nom_qpv, c.communes, u.population,
               coalesce(m.montant_accorde, 0) AS montant_accorde, coalesce(m.nb_actions, 0) AS nb_actions,
               CASE WHEN u.population > 0 THEN coalesce(m.montant_accorde, 0) / u.population END
                   AS montant_par_habitant,
               {indicator_select}
        FROM u LEFT JOIN m USING (code_qpv) LEFT JOIN c USING (code_qpv) {indicator_join}
        ORDER BY montant_accorde DESC, u.nom_qpv
    """
    return con.execute(query, u.params + money.params + ind.params).df()


def fiche(con: duckdb.DuckDBPyConnection, code_qpv: str) -> dict | None:
    """Identity of a QPV: code, nom, geographie, population, contrat (+ libellé), communes, EPCI; None if unknown."""
    row = con.execute(
        "SELECT q.code_qpv, q.nom_qpv, q.geographie, q.population, q.contrat, c.libelle AS contrat_libelle "
        "FROM qpv q LEFT JOIN contrat c ON c.code_contrat = q.contrat WHERE q.code_qpv = ?", [code_qpv]).df()
    if row.empty:
        return None
    out = {k: (None if pd.isna(v) else v) for k, v in row.iloc[0].to_dict().items()}
    communes = con.execute(
        "SELECT qc.code_insee, coalesce(co.nom, qc.code_insee) AS nom, co.epci_siren, e.nom AS epci_nom "
        "FROM qpv_commune qc LEFT JOIN commune co USING (code_insee) LEFT JOIN epci e USING (epci_siren) "
        "WHERE qc.code_qpv = ? ORDER BY nom", [code_qpv]).df()
    out["population"] = None if out["population"] is None else int(out["population"])
    out["communes"] = list(zip(communes["code_insee"], communes["nom"], strict=True))
    epci = communes.dropna(subset=["epci_siren"]).drop_duplicates("epci_siren")
    out["epci"] = list(zip(epci["epci_siren"], epci["epci_nom"].fillna(epci["epci_siren"]), strict=True))
    return out


# The quartier, its commune(s), its EPCI(s) and France as (niveau, rang, territoire, nom): the territories a
# quartier is compared with. Takes the QPV code three times as `?` parameters.
TERRITOIRES_DU_QPV = """
            SELECT 'Quartier' AS niveau, 1 AS rang, q.code_qpv AS territoire, q.nom_qpv AS nom
            FROM qpv q WHERE q.code_qpv = ?
            UNION ALL
            SELECT 'Commune', 2, qc.code_insee, coalesce(co.nom, qc.code_insee)
            FROM qpv_commune qc LEFT JOIN commune co USING (code_insee) WHERE qc.code_qpv = ?
            UNION ALL
            SELECT DISTINCT 'Intercommunalité', 3, co.epci_siren, coalesce(e.nom, co.epci_siren)
            FROM qpv_commune qc JOIN commune co USING (code_insee) LEFT JOIN epci e USING (epci_siren)
            WHERE qc.code_qpv = ? AND co.epci_siren IS NOT NULL
            UNION ALL
            SELECT 'France', 4, 'FR', 'France'"""


def comparaison_indicateurs(con: duckdb.DuckDBPyConnection, code_qpv: str, annee_max: int | None = None
                            ) -> pd.DataFrame:
    """The QPV's indicators next to its commune(s), EPCI(s) and France: latest value up to `annee_max`.

    Long format: indicateur, libelle, unite, niveau (Quartier, Commune, Intercommunalité, France), territoire,
    nom, annee, valeur. Only indicators the QPV has; other territories may lack a value (no row).
    """
    cond = "AND i.annee <= ?" if annee_max is not None else ""
    params = [code_qpv] * 3 + ([annee_max] if annee_max is not None else []) + [code_qpv]
    return con.execute(f"""
        WITH t AS (
{TERRITOIRES_DU_QPV}),
        v AS (
            SELECT i.territoire, i.indicateur, i.annee, i.valeur, i.unite FROM indicateur i
            WHERE i.territoire IN (SELECT territoire FROM t) {cond}
            QUALIFY row_number() OVER (PARTITION BY i.territoire, i.indicateur ORDER BY i.annee DESC) = 1)
        SELECT v.indicateur, coalesce(d.libelle, v.indicateur) AS libelle, coalesce(d.unite, v.unite) AS unite,
               t.niveau, t.territoire, t.nom, v.annee, v.valeur
        FROM v JOIN t USING (territoire) LEFT JOIN indicateur_def d ON d.code = v.indicateur
        WHERE v.indicateur IN (SELECT indicateur FROM indicateur WHERE territoire = ?)
        ORDER BY libelle, t.rang, t.nom
    """, params).df()


def financements_qpv(con: duckdb.DuckDBPyConnection, f: Filtres, code_qpv: str, par: str) -> pd.DataFrame:
    """The QPV's share of granted amounts per year and `par` (financeur or pilier), with the label (`libelle`)."""
    if par not in ("financeur", "pilier"):
        raise ValueError(f"par must be financeur or pilier, not {par!r}")
    df = queries.aggregate(con, f.with_(qpv=(code_qpv,), communes=()), ["annee", par], actions=False)
    df = df[df["montant_accorde"] > 0]
    labels = queries.libelles(con, par)[[par, f"{par}_libelle"]].rename(columns={f"{par}_libelle": "libelle"})
    df = df.merge(labels, on=par, how="left")
    df["libelle"] = df["libelle"].fillna(df[par])
    return df.reset_index(drop=True)


def actions_qpv(con: duckdb.DuckDBPyConnection, f: Filtres, code_qpv: str) -> pd.DataFrame:
    """The actions naming the QPV in the selected years: annee, action_id, porteur, intitule, pilier (label),
    statut, montant_qpv (the QPV's equal share), montant_total (the action's total), nb_qpv (quartiers sharing it).

    With a funder or nature filter, amounts count only the matching funding lines.
    """
    # The QPV's rows of the fact table first; the actions' details only for those.
    sql = Sql()
    action_conditions(f, sql, "x")
    financement_conditions(f, sql, "x")
    sql.add("x.code_qpv = ?", code_qpv)
    fin = Sql()
    financement_conditions(f, fin, "x")
    fin_where = ("AND " + " AND ".join(fin.conditions)) if fin.conditions else ""
    return con.execute(f"""
        WITH sel AS (
            SELECT x.action_id, x.annee, sum(x.montant_accorde) AS montant_qpv FROM fait_qpv x
            {sql.where()} GROUP BY ALL),
        tot AS (
            SELECT x.action_id, x.annee, sum(x.montant_accorde) AS montant_total FROM fait x
            SEMI JOIN sel ON sel.action_id = x.action_id AND sel.annee = x.annee
            WHERE TRUE {fin_where} GROUP BY ALL),
        n AS (
            SELECT q.action_id, q.annee, count(*) AS nb_qpv FROM action_qpv q
            SEMI JOIN sel ON sel.action_id = q.action_id AND sel.annee = q.annee GROUP BY ALL)
        SELECT a.annee, a.action_id, a.porteur, a.intitule, coalesce(p.libelle, a.pilier) AS pilier, a.statut,
               coalesce(sel.montant_qpv, 0) AS montant_qpv, coalesce(tot.montant_total, 0) AS montant_total,
               n.nb_qpv
        FROM sel JOIN action a ON a.action_id = sel.action_id AND a.annee = sel.annee
        JOIN n ON n.action_id = a.action_id AND n.annee = a.annee
        LEFT JOIN tot ON tot.action_id = a.action_id AND tot.annee = a.annee
        LEFT JOIN pilier p ON p.code = a.pilier
        ORDER BY a.annee DESC, montant_qpv DESC, a.intitule, a.action_id
    """, sql.params + fin.params).df()


def formateur(mesure: str, unite: str | None = None):
    """French formatter of a measure's values (`40 €`, `12`, `40,9 %`)."""
    if mesure in ("montant_accorde", "montant_par_habitant") or unite == "€":
        return fmt.euros
    if mesure == "nb_actions":
        return fmt.nombre
    if unite == "%":
        return fmt.pourcent
    return lambda v: fmt.nombre(v, 0 if _missing(v) or float(v).is_integer() else 1)


def _missing(v) -> bool:
    return v is None or pd.isna(v)


def tableau_indicateurs(long: pd.DataFrame) -> pd.DataFrame:
    """The comparison as a table to read: one row per indicator, one column per territory, formatted values.

    A value from another year than the quartier's carries that year in brackets.
    """
    if long.empty:
        return pd.DataFrame(columns=["Indicateur", "Année"])
    suffix = {"Quartier": "quartier", "Commune": "commune", "Intercommunalité": "EPCI", "France": ""}
    long = long.assign(colonne=[f"{n} ({suffix[v]})" if suffix[v] else n for n, v in zip(long["nom"], long["niveau"],
                                                                                          strict=True)])
    columns = list(dict.fromkeys(long.sort_values("niveau", key=lambda s: s.map(NIVEAUX.index), kind="stable")
                                 ["colonne"]))
    rows = []
    for (_, libelle), g in long.groupby(["indicateur", "libelle"], sort=False):
        unite = g["unite"].dropna().iloc[0] if g["unite"].notna().any() else None
        f = formateur("indicateur", unite)
        own = g[g["niveau"] == "Quartier"]
        annee = int(own["annee"].iloc[0]) if not own.empty else None
        row = {"Indicateur": libelle, "Année": str(annee) if annee else "—"}
        for r in g.itertuples(index=False):
            text = f(r.valeur)
            row[r.colonne] = text if annee is None or int(r.annee) == annee else f"{text} ({int(r.annee)})"
        rows.append(row)
    out = pd.DataFrame(rows)
    return out.reindex(columns=["Indicateur", *columns, "Année"]).fillna("—")


def communes_des_qpv(con: duckdb.DuckDBPyConnection, codes: tuple[str, ...]) -> list[str]:
    """INSEE codes of the communes the QPV `codes` lie in (for the map's commune outlines)."""
    sql = Sql()
    sql.add_in("code_qpv", tuple(codes) or ("",))
    return [r[0] for r in con.execute(f"SELECT DISTINCT code_insee FROM qpv_commune {sql.where()} ORDER BY 1",
                                      sql.params).fetchall()]
