"""Figures of the "Piliers" page: amounts and actions per pillar and thématique, new actions, pillar targets.

Every function takes `(con, filtres, ...)` and returns a DataFrame or a dict; amounts are aggregated in
DuckDB through `queries.aggregate` (equal split per QPV when quartiers or communes are selected).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from cdv_core import nomenclatures, queries
from cdv_core.errors import CdvError
from cdv_core.filters import Filtres, Sql, action_conditions, financement_conditions, qpv_conditions

# `cible_pilier.nature`: the credits a target is a share of.
NATURES_CIBLE = {"specifique": "crédits spécifiques", "droit_commun": "crédits de droit commun",
                 "tous": "financements"}


class CibleInvalide(CdvError, ValueError):
    """A pillar target that cannot be stored; the message is a French sentence for the person."""


def _with_labels(con: duckdb.DuckDBPyConnection, df: pd.DataFrame) -> pd.DataFrame:
    df = df.merge(queries.libelles(con, "pilier"), on="pilier", how="left")
    df["pilier_libelle"] = df["pilier_libelle"].fillna(df["pilier"])
    return df


def par_annee_pilier(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per year and pillar: granted amount, actions, and the pillar's share (%) of the year's amount."""
    df = _with_labels(con, queries.aggregate(con, f, ["annee", "pilier"], dossiers=False))
    year_total = df.groupby("annee")["montant_accorde"].transform("sum")
    df["part"] = (100 * df["montant_accorde"] / year_total.where(year_total > 0)).fillna(0.0)
    return df.sort_values(["annee", "montant_accorde"], ascending=[True, False], ignore_index=True)


def par_pilier(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per pillar: granted amount, actions, share (%) of the total, share of new actions (%); largest first."""
    df = _with_labels(con, queries.aggregate(con, f, ["pilier"], dossiers=False))
    new = queries.aggregate(con, f, ["pilier", "nouvelle"], dossiers=False)
    new = new[new["nouvelle"].fillna(False).astype(bool)].set_index("pilier")["nb_actions"]
    tot = df["montant_accorde"].sum()
    df["part"] = 100 * df["montant_accorde"] / tot if tot else 0.0
    df["nb_nouvelles"] = df["pilier"].map(new).fillna(0).astype(int)
    df["part_nouvelles"] = 100 * df["nb_nouvelles"] / df["nb_actions"].where(df["nb_actions"] > 0)
    return df.sort_values("montant_accorde", ascending=False, ignore_index=True)


def par_thematique(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per thématique (sub-theme): granted amount, actions, share (%) of the selection; largest first."""
    df = queries.aggregate(con, f, ["thematique"], dossiers=False)
    df = df.merge(queries.libelles(con, "thematique"), on="thematique", how="left")
    df["thematique_libelle"] = df["thematique_libelle"].fillna(df["thematique"]).fillna("Non renseignée")
    # named by period ("1.2 Santé (2020-2023)"), as the filter bar names them: never the stored "2020-1.2"
    df["thematique_libelle"] = [lib if code is None or pd.isna(code) else nomenclatures.libelle_periode(code, lib)
                                for code, lib in zip(df["thematique"], df["thematique_libelle"])]
    tot = df["montant_accorde"].sum()
    df["part"] = 100 * df["montant_accorde"] / tot if tot else 0.0
    return df.sort_values("montant_accorde", ascending=False, ignore_index=True)


def nouvelles_par_annee(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per year: actions new / renewed / not stated (`type`), their number, amount and share (%) of the year."""
    df = queries.aggregate(con, f, ["annee", "nouvelle"], dossiers=False)
    df["type"] = df["nouvelle"].map({True: "Nouvelle", False: "Reconduite"}).fillna("Non renseigné")
    per_year = df.groupby("annee")["nb_actions"].transform("sum")
    df["part_actions"] = 100 * df["nb_actions"] / per_year.where(per_year > 0)
    return df[["annee", "type", "nb_actions", "montant_accorde", "part_actions"]].sort_values(
        ["annee", "type"], ignore_index=True)


def actions(con: duckdb.DuckDBPyConnection, f: Filtres, limit: int = 2000) -> pd.DataFrame:
    """The actions of the selection, largest amount first: one row per action-year.

    `montant_accorde` sums the funding lines kept by the filters (funder, nature); with quartiers or communes
    selected it is the selected quartiers' equal share, as everywhere else. `nb_financeurs` counts funders
    with a granted amount > 0 on the whole action.
    """
    # The amounts come from the fact table; only the `limit` largest action-years are then looked up.
    sql = Sql()
    action_conditions(f, sql, "x")
    financement_conditions(f, sql, "x")
    part_join, part_expr = "", "1.0"
    params: list = []
    if f.split_qpv:
        qs = Sql()
        qpv_conditions(f, qs)
        part_join = (" JOIN (SELECT action_id, annee, sum(part) AS part FROM action_qpv q "
                     f"{qs.where()} GROUP BY ALL) p ON p.action_id = x.action_id AND p.annee = x.annee")
        part_expr = "any_value(p.part)"
        params += qs.params
    query = (
        "WITH sel AS ("
        f"SELECT x.action_id, x.annee, coalesce(sum(x.montant_accorde), 0) * {part_expr} AS montant_accorde "
        f"FROM fait x {part_join} {sql.where()} GROUP BY x.action_id, x.annee "
        "ORDER BY montant_accorde DESC, x.annee, x.action_id LIMIT ?) "
        "SELECT a.action_id, a.annee, a.intitule, a.porteur, a.pilier, pl.libelle AS pilier_libelle, "
        "a.thematique, t.libelle AS thematique_libelle, a.statut, a.nouvelle, a.public_cible, a.nb_beneficiaires, "
        "sel.montant_accorde, "
        "coalesce(n.nb_financeurs, 0) AS nb_financeurs "
        "FROM sel JOIN action a ON a.action_id = sel.action_id AND a.annee = sel.annee "
        "LEFT JOIN (SELECT f.action_id, f.annee, count(DISTINCT f.financeur) AS nb_financeurs FROM financement f "
        "SEMI JOIN sel ON sel.action_id = f.action_id AND sel.annee = f.annee WHERE f.montant_accorde > 0 "
        "GROUP BY ALL) n ON n.action_id = a.action_id AND n.annee = a.annee "
        "LEFT JOIN pilier pl ON pl.code = a.pilier LEFT JOIN thematique t ON t.code = a.thematique "
        "ORDER BY sel.montant_accorde DESC, a.annee, a.action_id"
    )
    return con.execute(query, [*params, *sql.params, int(limit)]).df()


# --------------------------------------------------------------------------- pillar targets


def cibles(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The pillar targets stored, with the pillar's label and generation (`libelle` None when not given)."""
    df = con.execute(
        "SELECT c.pilier, coalesce(p.libelle, c.pilier) AS pilier_libelle, p.generation, c.nature, "
        "c.part_cible, c.libelle FROM cible_pilier c LEFT JOIN pilier p ON p.code = c.pilier "
        "ORDER BY p.generation, pilier_libelle, c.nature").df()
    df["libelle"] = df["libelle"].astype(object).where(df["libelle"].notna(), None)
    return df


def cible_row(con: duckdb.DuckDBPyConnection, pilier: str, nature: str, part_cible: float,
              libelle: str | None = None) -> tuple[str, str, float, str | None]:
    """The checked row (pilier, nature, part, libellé) of a target "`part_cible` % of the `nature` credits go
    to `pilier`"; CibleInvalide with a French message for an unknown pillar or nature or a share outside 0–100.

    Storing it is done by `gestion.definir_cible` (gestionnaires only); this module never writes.
    """
    if con.execute("SELECT 1 FROM pilier WHERE code = ?", [pilier]).fetchone() is None:
        raise CibleInvalide(f"Le pilier « {pilier} » n'existe pas dans le référentiel des piliers.")
    if nature not in NATURES_CIBLE:
        raise CibleInvalide(f"Nature de crédits inconnue : « {nature} » (attendu : crédits spécifiques, "
                            "droit commun ou tous les financements).")
    try:
        part = float(part_cible)
    except (TypeError, ValueError):
        raise CibleInvalide(f"La part cible doit être un nombre entre 0 et 100 (reçu : « {part_cible} »).") from None
    if not 0 < part <= 100:
        raise CibleInvalide(f"La part cible doit être comprise entre 0 et 100 % (reçu : {part:g}).")
    return pilier, nature, part, (libelle or "").strip() or None


def cible_existe(con: duckdb.DuckDBPyConnection, pilier: str, nature: str) -> bool:
    return con.execute("SELECT 1 FROM cible_pilier WHERE pilier = ? AND nature = ?",
                       [pilier, nature]).fetchone() is not None


def _generation_years(generation: str | None) -> tuple[int, int] | None:
    try:
        lo, hi = (int(p) for p in str(generation).split("-"))
        return lo, hi
    except (TypeError, ValueError):
        return None


def suivi_cibles(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Each target against the programmation, per year of the pillar's generation present in the selection.

    Columns: pilier, pilier_libelle, nature, part_cible, libelle, annee, montant_pilier, montant_total,
    part (%, the pillar's share of the year's credits of that nature), ecart (percentage points).
    The pillar and nature filters are ignored: a target is a share of all the pillars' credits.
    """
    targets = cibles(con)
    cols = ["pilier", "pilier_libelle", "nature", "part_cible", "libelle", "annee", "montant_pilier",
            "montant_total", "part", "ecart"]
    if targets.empty:
        return pd.DataFrame(columns=cols)
    base = f.with_(piliers=(), nature=())
    by_nature = queries.aggregate(con, base, ["annee", "pilier", "nature"], actions=False)
    out = []
    for t in targets.itertuples(index=False):
        rows = by_nature if t.nature == "tous" else by_nature[by_nature["nature"] == t.nature]
        totals = rows.groupby("annee")["montant_accorde"].sum()
        pil = rows[rows["pilier"] == t.pilier].groupby("annee")["montant_accorde"].sum()
        span = _generation_years(t.generation)
        for annee, tot in totals.items():
            if span and not span[0] <= int(annee) <= span[1]:
                continue
            m = float(pil.get(annee, 0.0))
            part = 100 * m / tot if tot else None
            out.append((t.pilier, t.pilier_libelle, t.nature, float(t.part_cible), t.libelle, int(annee), m,
                        float(tot), part, None if part is None else part - float(t.part_cible)))
    return pd.DataFrame(out, columns=cols)
