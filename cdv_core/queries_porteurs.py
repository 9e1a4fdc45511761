"""Figures of the "Porteurs" page: who carries the actions, who is new, renewal, concentration, dependence on
crédits spécifiques, the fiche of one porteur, and the beneficiaries declared by porteurs.

Read-only; every function takes `(con, filtres, ...)`, aggregates in DuckDB with `?` parameters, and counts
actions with the one rule of `queries.financee` (granted or paid, granted amount > 0).

Rules written here once (the page and the README repeat them):
- **A porteur** is its SIRET when known: several spellings of one SIRET are one porteur (shown under its most
  recent spelling). A name without SIRET takes the SIRET it carries elsewhere when that is unique, else the
  name itself (case and surrounding spaces ignored).
- **First year** of a porteur: the first year it has a financed action in the whole database (filters ignored),
  so a "new porteur" of year N is one never financed before N. The first year of the data has no "before".
- **Renewal (derived)**: a financed action of year N is *reconduite* when year N-1 holds a financed action with
  the same `action_id`, or, when ids change every year (Dauphin numbers), one of the same porteur whose
  normalised title (lower case, accents and punctuation removed) is close: Levenshtein similarity
  1 - distance / longer length >= 0.8. The previous year is read in the whole database (filters apply to year N).
- **Concentration**: share of the 10 largest porteurs in the year's amount, and the Herfindahl-Hirschman index
  (sum of the squared shares in %, from 0 to 10 000; above 2 500 the money is highly concentrated).
- **Dependence**: share of a porteur's granted amount that is crédits spécifiques (politique de la ville,
  `nature = specifique`); the nature filter is ignored for it.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from cdv_core import queries
from cdv_core.filters import Filtres

SIMILARITE_MIN = 0.8
TOP = 10
CLASSES_DEPENDANCE = ((0, 25, "Moins de 25 %"), (25, 50, "De 25 à 50 %"), (50, 75, "De 50 à 75 %"),
                      (75, 100.0001, "75 % et plus"))

# One identity per porteur (see the module's rules): action-year -> porteur_id, porteur (as written), siret.
IDENT = """
ident_noms AS (
    SELECT lower(trim(porteur)) AS nom, min(porteur_siret) AS siret FROM action
    WHERE porteur_siret IS NOT NULL AND trim(porteur_siret) <> '' GROUP BY 1
    HAVING count(DISTINCT porteur_siret) = 1),
ident AS (
    SELECT a.action_id, a.annee, a.porteur, a.porteur_type,
           coalesce(nullif(trim(a.porteur_siret), ''), n.siret) AS siret,
           coalesce(nullif(trim(a.porteur_siret), ''), n.siret, 'nom:' || lower(trim(a.porteur))) AS porteur_id
    FROM action a LEFT JOIN ident_noms n ON n.nom = lower(trim(a.porteur))),
noms AS (
    SELECT porteur_id, first(porteur ORDER BY annee DESC, porteur) AS porteur, any_value(siret) AS siret,
           first(porteur_type ORDER BY annee DESC) AS porteur_type,
           string_agg(DISTINCT porteur, ' · ' ORDER BY porteur) AS graphies,
           count(DISTINCT porteur) AS nb_graphies
    FROM ident GROUP BY porteur_id),
premiere AS (
    SELECT i.porteur_id, min(x.annee) AS premiere_annee FROM fait x
    JOIN ident i ON i.action_id = x.action_id AND i.annee = x.annee
    WHERE {financee} GROUP BY i.porteur_id)
"""


def _with(extra: str = "") -> str:
    return "WITH " + IDENT.format(financee=queries.financee("x")) + ("," + extra if extra else "") + " "


def _scope(f: Filtres) -> tuple[str, list]:
    """FROM + WHERE over the fact table for `f` (per-QPV shares when quartiers or communes are selected),
    joined to the porteur identity `i`."""
    sql = queries.fact_conditions(f, f.split_qpv)
    table = "fait_qpv" if f.split_qpv else "fait"
    return (f"FROM {table} x JOIN ident i ON i.action_id = x.action_id AND i.annee = x.annee {sql.where()}",
            sql.params)


def _financeurs_labels(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT code, libelle FROM financeur").fetchall())


def liste(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """The porteurs of the selection, largest amount first.

    Columns: porteur_id, porteur, siret, porteur_type, graphies, nb_graphies, montant_accorde, nb_actions
    (financed), nb_dossiers, nb_financeurs, financeurs (labels), premiere_annee (first financed year in the
    database), montant_specifique, part_specifique (% of its amount, nature filter ignored).
    """
    from_, params = _scope(f)
    from_dep, params_dep = _scope(f.with_(nature=()))
    df = con.execute(
        _with() +
        "SELECT i.porteur_id, sum(coalesce(x.montant_accorde, 0)) AS montant_accorde, "
        f"count(DISTINCT x.cle) FILTER (WHERE {queries.financee()}) AS nb_actions, "
        "count(DISTINCT x.cle) AS nb_dossiers, "
        "count(DISTINCT x.financeur) FILTER (WHERE x.montant_accorde > 0) AS nb_financeurs, "
        "list(DISTINCT x.financeur) FILTER (WHERE x.montant_accorde > 0) AS codes_financeurs "
        f"{from_} GROUP BY i.porteur_id", params).df()
    if df.empty:
        return df.assign(porteur=[], siret=[], porteur_type=[], graphies=[], nb_graphies=[], financeurs=[],
                         premiere_annee=[], montant_specifique=[], part_specifique=[])
    dep = con.execute(
        _with() + "SELECT i.porteur_id, sum(coalesce(x.montant_accorde, 0)) AS montant_total, "
        "coalesce(sum(x.montant_accorde) FILTER (WHERE x.nature = 'specifique'), 0) AS montant_specifique "
        f"{from_dep} GROUP BY i.porteur_id", params_dep).df()
    ref = con.execute(_with() + "SELECT n.*, p.premiere_annee FROM noms n LEFT JOIN premiere p USING (porteur_id)"
                      ).df()
    df = df.merge(ref, on="porteur_id", how="left").merge(dep, on="porteur_id", how="left")
    df["part_specifique"] = 100 * df["montant_specifique"] / df["montant_total"].where(df["montant_total"] > 0)
    labels = _financeurs_labels(con)
    df["financeurs"] = [", ".join(sorted(str(labels.get(c) or c) for c in codes))
                        if hasattr(codes, "__len__") and not isinstance(codes, str) else ""
                        for codes in df["codes_financeurs"]]
    df = df.drop(columns=["codes_financeurs", "montant_total"])
    return df.sort_values(["montant_accorde", "porteur"], ascending=[False, True], ignore_index=True)


def premieres_annees(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """porteur_id, porteur, premiere_annee: first year each porteur has a financed action (whole database)."""
    return con.execute(_with() + "SELECT p.porteur_id, n.porteur, p.premiere_annee FROM premiere p "
                       "JOIN noms n USING (porteur_id) ORDER BY p.premiere_annee, n.porteur").df()


def nouveaux(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per year: financed porteurs, new ones (first financed year = that year), their money and shares (%).

    Columns: annee, nb_porteurs, nb_nouveaux, montant_accorde, montant_nouveaux, part_nouveaux,
    part_montant_nouveaux, premiere_annee_donnees (True for the first year of the data: everyone is new).
    """
    from_, params = _scope(f)
    df = con.execute(
        _with("per AS (SELECT x.annee, i.porteur_id, sum(coalesce(x.montant_accorde, 0)) AS montant, "
              f"bool_or({queries.financee()}) AS finance {from_} GROUP BY ALL)") +
        "SELECT per.annee, count(*) FILTER (WHERE finance) AS nb_porteurs, "
        "count(*) FILTER (WHERE finance AND p.premiere_annee = per.annee) AS nb_nouveaux, "
        "sum(montant) AS montant_accorde, "
        "coalesce(sum(montant) FILTER (WHERE p.premiere_annee = per.annee), 0) AS montant_nouveaux "
        "FROM per LEFT JOIN premiere p USING (porteur_id) GROUP BY per.annee ORDER BY per.annee", params).df()
    first = con.execute(f"SELECT min(x.annee) FROM fait x WHERE {queries.financee()}").fetchall()[0][0]
    df["part_nouveaux"] = 100 * df["nb_nouveaux"] / df["nb_porteurs"].where(df["nb_porteurs"] > 0)
    df["part_montant_nouveaux"] = (100 * df["montant_nouveaux"]
                                   / df["montant_accorde"].where(df["montant_accorde"] > 0))
    df["premiere_annee_donnees"] = df["annee"] == first
    return df


def _norm_sql(expr: str) -> str:
    """Normalised title: lower case, no accents, punctuation as spaces, single spaces."""
    return f"trim(regexp_replace(lower(strip_accents({expr})), '[^a-z0-9]+', ' ', 'g'))"


def actions_reconduites(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """The financed action-years of the selection, each with how it continues an action of the year before.

    Columns: action_id, annee, porteur_id, intitule, nouvelle (declared, may be null), par_id (same action_id
    financed in N-1), par_intitule (else same porteur and a close title in N-1), reconduite (either),
    annee_precedente_connue (N-1 has financed actions in the database).
    """
    from_, params = _scope(f)
    na, nb = _norm_sql("c.intitule"), _norm_sql("p.intitule")
    sim = f"(1.0 - levenshtein({na}, {nb}) / greatest(length({na}), length({nb}), 1))"
    return con.execute(
        _with(
            f"fin AS (SELECT DISTINCT x.action_id, x.annee FROM fait x WHERE {queries.financee()}), "
            "prev AS (SELECT fin.action_id, fin.annee, i.porteur_id, a.intitule FROM fin "
            "JOIN ident i USING (action_id, annee) JOIN action a USING (action_id, annee)), "
            f"cur AS (SELECT DISTINCT x.action_id, x.annee, i.porteur_id {from_} "
            f"{'AND' if 'WHERE' in from_ else 'WHERE'} {queries.financee()}), "
            "c AS (SELECT cur.*, a.intitule, a.nouvelle FROM cur JOIN action a USING (action_id, annee))") +
        "SELECT c.action_id, c.annee, c.porteur_id, c.intitule, c.nouvelle, "
        "EXISTS (SELECT 1 FROM prev p WHERE p.action_id = c.action_id AND p.annee = c.annee - 1) AS par_id, "
        "EXISTS (SELECT 1 FROM prev p WHERE p.annee = c.annee - 1 AND p.porteur_id = c.porteur_id "
        f"AND {sim} >= {SIMILARITE_MIN}) AS par_intitule_brut, "
        "EXISTS (SELECT 1 FROM fin WHERE fin.annee = c.annee - 1) AS annee_precedente_connue "
        "FROM c ORDER BY c.annee, c.action_id", params).df().assign(
        par_intitule=lambda d: ~d["par_id"] & d["par_intitule_brut"],
        reconduite=lambda d: d["par_id"] | d["par_intitule_brut"]).drop(columns="par_intitule_brut")


def renouvellement(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per year: share of financed actions continued from the year before (derived), and the declared one.

    Columns: annee, nb_actions, nb_reconduites, nb_par_id, nb_par_intitule, part_reconduites (% of the year's
    actions; None for a year whose previous year is not in the data), nb_declarees (actions with the
    `nouvelle` flag), nb_declarees_reconduites (flag = non), part_declarees_reconduites, nb_accord (derived and
    declared agree, among flagged actions).
    """
    acts = actions_reconduites(con, f)
    cols = ["annee", "nb_actions", "nb_reconduites", "nb_par_id", "nb_par_intitule", "part_reconduites",
            "nb_declarees", "nb_declarees_reconduites", "part_declarees_reconduites", "nb_accord"]
    if acts.empty:
        return pd.DataFrame(columns=cols)
    flagged = acts["nouvelle"].notna()
    declared_renewed = flagged & (acts["nouvelle"] == False)  # noqa: E712 - nullable boolean column
    acts = acts.assign(flag=flagged, decl=declared_renewed,
                       accord=flagged & (declared_renewed == acts["reconduite"]))
    g = acts.groupby("annee")
    df = pd.DataFrame({
        "nb_actions": g.size(), "nb_reconduites": g["reconduite"].sum(), "nb_par_id": g["par_id"].sum(),
        "nb_par_intitule": g["par_intitule"].sum(), "nb_declarees": g["flag"].sum(),
        "nb_declarees_reconduites": g["decl"].sum(), "nb_accord": g["accord"].sum(),
        "connue": g["annee_precedente_connue"].any()}).reset_index()
    df["part_reconduites"] = (100 * df["nb_reconduites"] / df["nb_actions"]).where(df["connue"])
    df["part_declarees_reconduites"] = 100 * df["nb_declarees_reconduites"] / df["nb_declarees"].where(
        df["nb_declarees"] > 0)
    for c in ("nb_actions", "nb_reconduites", "nb_par_id", "nb_par_intitule", "nb_declarees",
              "nb_declarees_reconduites", "nb_accord"):
        df[c] = df[c].astype(int)
    return df[cols]


def concentration(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per year: amount, porteurs with money, share (%) of the 10 largest, Herfindahl index (0-10 000)."""
    from_, params = _scope(f)
    return con.execute(
        _with(f"per AS (SELECT x.annee, i.porteur_id, sum(x.montant_accorde) AS m {from_} GROUP BY ALL "
              "HAVING sum(x.montant_accorde) > 0), "
              "r AS (SELECT *, row_number() OVER (PARTITION BY annee ORDER BY m DESC, porteur_id) AS rang, "
              "sum(m) OVER (PARTITION BY annee) AS tot FROM per)") +
        "SELECT annee, any_value(tot) AS montant_accorde, count(*) AS nb_porteurs, "
        f"sum(m) FILTER (WHERE rang <= {TOP}) AS montant_top, "
        f"100 * sum(m) FILTER (WHERE rang <= {TOP}) / any_value(tot) AS part_top, "
        "sum(power(100 * m / tot, 2)) AS hhi FROM r GROUP BY annee ORDER BY annee", params).df()


def dependance(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Porteurs by class of dependence on crédits spécifiques: classe, nb_porteurs, part (% of porteurs),
    montant_accorde. Porteurs without any granted amount are left out; the nature filter is ignored."""
    df = liste(con, f.with_(nature=()))
    df = df[df["montant_accorde"] > 0]
    rows = []
    for lo, hi, label in CLASSES_DEPENDANCE:
        sel = df[(df["part_specifique"] >= lo) & (df["part_specifique"] < hi)]
        rows.append({"classe": label, "nb_porteurs": len(sel), "montant_accorde": float(sel["montant_accorde"].sum())})
    out = pd.DataFrame(rows)
    n = out["nb_porteurs"].sum()
    out["part"] = 100 * out["nb_porteurs"] / n if n else 0.0
    return out


def resoudre(con: duckdb.DuckDBPyConnection, cle: str | None) -> str | None:
    """The porteur_id a URL value names: a porteur_id, a SIRET or a name (any spelling, case ignored)."""
    if not cle:
        return None
    cle = cle.strip()
    rows = con.execute(
        _with() + "SELECT porteur_id FROM ident WHERE porteur_id = ? OR siret = ? OR lower(trim(porteur)) = ? "
        "ORDER BY porteur_id = ? DESC LIMIT 1", [cle, cle, cle.lower(), cle]).fetchall()
    return str(rows[0][0]) if rows else None


def cle_url(porteur_id: str, porteur: str) -> str:
    """What `?porteur=` holds for a porteur: its SIRET when known, else its name."""
    return porteur if porteur_id.startswith("nom:") else porteur_id


def identite(con: duckdb.DuckDBPyConnection, porteur_id: str) -> dict | None:
    """Name, SIRET, type, other spellings and first financed year of one porteur (None if unknown)."""
    df = con.execute(_with() + "SELECT n.*, p.premiere_annee FROM noms n LEFT JOIN premiere p USING (porteur_id) "
                     "WHERE n.porteur_id = ?", [porteur_id]).df()
    return None if df.empty else df.iloc[0].to_dict()


def fiche_par(con: duckdb.DuckDBPyConnection, f: Filtres, porteur_id: str, dim: str) -> pd.DataFrame:
    """One porteur's granted amount and financed actions per `dim` (annee, financeur, pilier, qpv)."""
    return fiche_par_dims(con, f, porteur_id, (dim,))


def fiche_par_dims(con: duckdb.DuckDBPyConnection, f: Filtres, porteur_id: str,
                   dims: tuple[str, ...]) -> pd.DataFrame:
    """One porteur's granted amount and financed actions per `dims` (annee, financeur, pilier, qpv), with
    labels."""
    cols = {"annee": "x.annee", "financeur": "x.financeur", "pilier": "x.pilier", "qpv": "x.code_qpv"}
    split = f.split_qpv or "qpv" in dims
    sql = queries.fact_conditions(f, split)
    sql.add("i.porteur_id = ?", porteur_id)
    if "financeur" in dims:
        sql.add("x.financeur IS NOT NULL")
    table = "fait_qpv" if split else "fait"
    select = ", ".join(f"{cols[d]} AS {d}" for d in dims)
    group = ", ".join(str(i + 1) for i in range(len(dims)))
    df = con.execute(
        _with() + f"SELECT {select}, coalesce(sum(x.montant_accorde), 0) AS montant_accorde, "
        f"count(DISTINCT x.cle) FILTER (WHERE {queries.financee()}) AS nb_actions "
        f"FROM {table} x JOIN ident i ON i.action_id = x.action_id AND i.annee = x.annee {sql.where()} "
        f"GROUP BY {group} ORDER BY {group}", sql.params).df()
    for dim in (d for d in dims if d in ("financeur", "pilier", "qpv")):
        df = df.merge(queries.libelles(con, dim)[[dim, f"{dim}_libelle"]], on=dim, how="left")
        df[f"{dim}_libelle"] = df[f"{dim}_libelle"].fillna(df[dim])
    return df


def fiche_actions(con: duckdb.DuckDBPyConnection, f: Filtres, porteur_id: str) -> pd.DataFrame:
    """One porteur's action-years of the selection (every statut), latest first, with the public and the
    number of beneficiaries it declared, and whether each counts as financed."""
    sql = queries.fact_conditions(f, f.split_qpv)
    sql.add("i.porteur_id = ?", porteur_id)
    table = "fait_qpv" if f.split_qpv else "fait"
    df = con.execute(
        _with(f"sel AS (SELECT x.action_id, x.annee, coalesce(sum(x.montant_accorde), 0) AS montant_accorde, "
              "string_agg(DISTINCT x.dispositif, ', ' ORDER BY x.dispositif) AS dispositifs "
              f"FROM {table} x JOIN ident i ON i.action_id = x.action_id AND i.annee = x.annee {sql.where()} "
              "GROUP BY ALL)") +
        "SELECT a.action_id, a.annee, a.intitule, a.pilier, pl.libelle AS pilier_libelle, a.statut, a.nouvelle, "
        "a.public_cible, a.nb_beneficiaires, sel.dispositifs, sel.montant_accorde FROM sel "
        "JOIN action a USING (action_id, annee) LEFT JOIN pilier pl ON pl.code = a.pilier "
        "ORDER BY a.annee DESC, sel.montant_accorde DESC, a.action_id", sql.params).df()
    df["financee"] = queries.est_financee(df)
    return df


def beneficiaires(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per year and pillar, over financed actions: beneficiaries declared (sum), actions declaring a number,
    all financed actions. Figures declared by porteurs, not checked."""
    from_, params = _scope(f)
    df = con.execute(
        _with(f"sel AS (SELECT DISTINCT x.action_id, x.annee {from_} "
              f"{'AND' if 'WHERE' in from_ else 'WHERE'} {queries.financee()})") +
        "SELECT a.annee, a.pilier, coalesce(sum(a.nb_beneficiaires), 0) AS nb_beneficiaires, "
        "count(a.nb_beneficiaires) AS nb_actions_renseignees, count(*) AS nb_actions "
        "FROM sel JOIN action a USING (action_id, annee) GROUP BY ALL ORDER BY a.annee, a.pilier", params).df()
    df = df.merge(queries.libelles(con, "pilier")[["pilier", "pilier_libelle"]], on="pilier", how="left")
    df["pilier_libelle"] = df["pilier_libelle"].fillna(df["pilier"])
    return df


def publics(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Financed actions and declared beneficiaries per public_cible (as written by porteurs), most first."""
    from_, params = _scope(f)
    return con.execute(
        _with(f"sel AS (SELECT DISTINCT x.action_id, x.annee {from_} "
              f"{'AND' if 'WHERE' in from_ else 'WHERE'} {queries.financee()})") +
        "SELECT coalesce(nullif(trim(a.public_cible), ''), 'Non renseigné') AS public_cible, count(*) AS nb_actions, "
        "coalesce(sum(a.nb_beneficiaires), 0) AS nb_beneficiaires FROM sel JOIN action a USING (action_id, annee) "
        "GROUP BY 1 ORDER BY nb_actions DESC, public_cible", params).df()
