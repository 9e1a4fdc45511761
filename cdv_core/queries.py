"""Every figure a page shows: parameterised DuckDB queries that take a `Filtres` and return a DataFrame.

Amounts are aggregated in DuckDB. When the result is per QPV (or filtered on QPV or communes), an action
naming several quartiers counts for an equal share in each (`action_qpv.part`), so per-QPV amounts add up
to the total.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from cdv_core import fmt, nomenclatures, runner
from cdv_core.filters import Filtres, Sql, action_conditions, financement_conditions, qpv_conditions
from cdv_core.formats import LIBELLES

# Dimensions an aggregate can be grouped by: name -> column of the fact tables (code as in the upload files).
DIMENSIONS: dict[str, str] = {
    "annee": "x.annee",
    "financeur": "x.financeur",
    "pilier": "x.pilier",
    "thematique": "x.thematique",
    "theme": "x.theme",
    "qpv": "x.code_qpv",
    "commune": "qc.code_insee",
    "porteur": "x.porteur",
    "porteur_type": "x.porteur_type",
    "nature": "x.nature",
    "dispositif": "x.dispositif",
    "section": "x.section",
    "statut": "x.statut",
    "contrat": "x.contrat",
    "nouvelle": "x.nouvelle",
}
FUNDING_DIMENSIONS = {"financeur", "nature", "dispositif", "section"}

# The counting rule, written once (README, glossary): an "action financée" is an action-year whose statut is
# `accordee` or `soldee` with a granted amount > 0 (on the funding lines the filters keep). Files still being
# instructed (`deposee`), refused (`refusee`) and abandoned (`abandonnee`) are counted apart, never as financed.
STATUTS_FINANCES = ("accordee", "soldee")
STATUTS_DOSSIERS = {"deposee": "nb_en_instruction", "refusee": "nb_refusees", "abandonnee": "nb_abandonnees"}


def financee(alias: str = "x") -> str:
    """SQL condition on a fact row (`fait`, `fait_qpv`) that makes its action-year count as financed."""
    statuts = ", ".join(f"'{s}'" for s in STATUTS_FINANCES)
    return f"({alias}.statut IN ({statuts}) AND {alias}.montant_accorde > 0)"

SPLIT_DIMENSIONS = {"qpv", "commune"}


def fact_conditions(f: Filtres, split: bool) -> Sql:
    """Conditions of `f` on a fact table aliased `x` (`fait`, or `fait_qpv` when `split`)."""
    sql = Sql()
    action_conditions(f, sql, "x")
    financement_conditions(f, sql, "x")
    if split:
        qpv_conditions(f, sql, "x")
    return sql


def est_financee(df: pd.DataFrame, statut: str = "statut", montant: str = "montant_accorde") -> pd.Series:
    """The counting rule on a table of action-years already fetched (one row per action-year)."""
    return df[statut].isin(STATUTS_FINANCES) & (df[montant].fillna(0) > 0)


def aggregate(
    con: duckdb.DuckDBPyConnection,
    f: Filtres,
    dims: list[str] | tuple[str, ...] = (),
    extra_where: dict[str, tuple] | None = None,
    porteurs: bool = False,
    actions: bool = True,
    dossiers: bool = True,
) -> pd.DataFrame:
    """Granted amount (`montant_accorde`), requested amount and number of actions per `dims`
    (and of porteurs, `nb_porteurs`, when `porteurs`; without `nb_actions` when not `actions`, which is
    faster on funding dimensions; without `nb_dossiers` when not `dossiers`: each distinct count is about a third of
    the query's time, so the pages ask only for the counts they show).

    `nb_actions` counts financed action-years (`financee`: granted or paid, granted amount > 0);
    `nb_dossiers` counts every action-year of the selection, whatever its statut. `nb_porteurs` counts the
    porteurs of financed actions. Per-QPV (and per-commune) amounts are equal shares of each action.
    `extra_where` narrows on dimensions by code ({"financeur": ("caf",)}).
    """
    dims = list(dims)
    extra = extra_where or {}
    unknown = [d for d in dims + list(extra) if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension(s): {', '.join(unknown)}")
    if not actions and not porteurs and not extra and set(dims) <= set(CUBE_DIMENSIONS) and runner.cached():
        # Sums only, inside the app: read from the cached cube of sums (one scan for every such figure of a page).
        return sommes_de(runner.query(con, sommes, cube_filters(f)), f, dims)
    commune = "commune" in dims or "commune" in extra
    split = f.split_qpv or commune or "qpv" in dims or "qpv" in extra
    sql = fact_conditions(f, split)
    if any(d in FUNDING_DIMENSIONS for d in dims + list(extra)):
        # Actions without funding have no funder: they are not a group of their own.
        sql.add("x.financeur IS NOT NULL")
    for dim, values in extra.items():
        sql.add_in(DIMENSIONS[dim], tuple(values))
    from_ = "FROM fait_qpv x" if split else "FROM fait x"
    amount, demande = "x.montant_accorde", "x.montant_demande"
    if commune:
        from_ += (" JOIN (SELECT code_qpv, code_insee, 1.0 / count(*) OVER (PARTITION BY code_qpv) AS cpart "
                  "FROM qpv_commune) qc ON qc.code_qpv = x.code_qpv")
        amount, demande = f"{amount} * qc.cpart", f"{demande} * qc.cpart"
    select_dims = [f"{DIMENSIONS[d]} AS {d}" for d in dims]
    group = f"GROUP BY {', '.join(DIMENSIONS[d] for d in dims)} ORDER BY {', '.join(dims)}" if dims else ""
    query = (
        f"SELECT {', '.join(select_dims + [''])}"
        f"coalesce(sum({amount}), 0) AS montant_accorde, "
        f"sum({demande}) AS montant_demande, "
        + (f"count(DISTINCT x.cle) FILTER (WHERE {financee()}) AS nb_actions "
           + (", count(DISTINCT x.cle) AS nb_dossiers " if dossiers else "") if actions
           else "count(*) AS nb_lignes ")
        + (f", count(DISTINCT x.porteur) FILTER (WHERE {financee()}) AS nb_porteurs " if porteurs else "")
        + f"{from_} {sql.where()} {group}"
    )
    return con.execute(query, sql.params).df()


# The cube of sums: granted and requested amounts and funding lines per year, funder, pilier, nature and section,
# for every value of these five (the sidebar's year, pilier, funder and nature filters are applied to the cube, so
# that changing them reads the same cube). A few hundred rows at national scale (468 for 200 000 actions, 5 years).
CUBE_DIMENSIONS = ("annee", "financeur", "pilier", "nature", "section")
# The filters applied to the cube's rows rather than in its query: filter -> cube column.
CUBE_FILTERS = {"annees": "annee", "piliers": "pilier", "financeurs": "financeur", "nature": "nature"}


def cube_filters(f: Filtres) -> Filtres:
    """The filters the cube of `f` is computed with (those of CUBE_FILTERS left to `sommes_de`)."""
    return f.with_(**{name: () for name in CUBE_FILTERS})


def sommes(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """The cube of sums of `f` (see CUBE_DIMENSIONS): one row per combination present, with `montant_accorde` and
    `montant_demande` (NULL when no line of the combination has one) and `nb_lignes` (fact lines)."""
    split = f.split_qpv
    sql = fact_conditions(f, split)
    keys = ", ".join(f"{DIMENSIONS[d]} AS {d}" for d in CUBE_DIMENSIONS)
    return con.execute(
        f"SELECT {keys}, sum(x.montant_accorde) AS montant_accorde, sum(x.montant_demande) AS montant_demande, "
        f"count(*) AS nb_lignes FROM {'fait_qpv' if split else 'fait'} x {sql.where()} "
        f"GROUP BY {', '.join(DIMENSIONS[d] for d in CUBE_DIMENSIONS)}", sql.params).df()


def sommes_de(cube: pd.DataFrame, f: Filtres, dims: list[str]) -> pd.DataFrame:
    """`aggregate(f, dims, actions=False)` read from the cube `sommes(cube_filters(f))`: same columns, types, rows
    and order (the amounts may differ from DuckDB's own sums in the last bit, as DuckDB's parallel sums do between
    two runs). The cube holds a few hundred rows: walked as Python lists, a fifth of pandas' groupby time."""
    # Missing values read by pandas once per column (text NULL arrives as NaN): keys as None, amounts as masks.
    keys = [cube[d].astype(object).where(cube[d].notna(), None).tolist() for d in dims]
    wanted = [(cube[col].tolist(), set(getattr(f, name))) for name, col in CUBE_FILTERS.items() if getattr(f, name)]
    # actions without funding (no funder) are not a funder of their own
    funded = (cube["financeur"].notna().tolist() if any(d in FUNDING_DIMENSIONS for d in dims)
              else [True] * len(cube))
    accorde = cube["montant_accorde"].fillna(0.0).tolist()
    demande, demande_connue = cube["montant_demande"].tolist(), cube["montant_demande"].notna().tolist()
    lignes = cube["nb_lignes"].tolist()
    groups: dict[tuple, list] = {}
    for i in range(len(lignes)):
        if not funded[i] or any(col[i] not in values for col, values in wanted):
            continue
        acc = groups.setdefault(tuple(k[i] for k in keys), [0.0, None, 0])
        acc[0] += accorde[i]
        if demande_connue[i]:
            acc[1] = demande[i] if acc[1] is None else acc[1] + demande[i]
        acc[2] += lignes[i]
    if not dims:
        total = groups.get((), [0.0, None, 0])
        return pd.DataFrame({"montant_accorde": [float(total[0])],
                             "montant_demande": [float("nan") if total[1] is None else total[1]],
                             "nb_lignes": [int(total[2])]})
    order = sorted(groups, key=lambda key: tuple((v is None, v if v is not None else 0) for v in key))
    # the cube's types; an empty result has DuckDB's plain objects for text, as its own empty results
    out = {d: pd.array([key[j] for key in order],
                       dtype=object if not order and pd.api.types.is_string_dtype(cube[d]) else cube[d].dtype)
           for j, d in enumerate(dims)}
    return pd.DataFrame({**out,
                         "montant_accorde": pd.array([groups[k][0] for k in order], dtype="float64"),
                         "montant_demande": pd.array([float("nan") if groups[k][1] is None else groups[k][1]
                                                      for k in order], dtype="float64"),
                         "nb_lignes": pd.array([groups[k][2] for k in order], dtype="int64")})


def annees_avec_actions(con: duckdb.DuckDBPyConnection, f: Filtres) -> list[int]:
    """The years with at least one financed action for the filters (`aggregate(f, ["annee"])`'s years whose
    `nb_actions` is not 0, without counting the actions: a tenth of its time at national scale)."""
    split = f.split_qpv
    sql = fact_conditions(f, split)
    rows = con.execute(f"SELECT x.annee FROM {'fait_qpv' if split else 'fait'} x {sql.where()} GROUP BY x.annee "
                       f"HAVING bool_or({financee()}) ORDER BY x.annee", sql.params).fetchall()
    return [int(r[0]) for r in rows]


def total(con: duckdb.DuckDBPyConnection, f: Filtres) -> float:
    """Total granted amount for the filters."""
    return float(aggregate(con, f, actions=False)["montant_accorde"].iloc[0])


def kpis(con: duckdb.DuckDBPyConnection, f: Filtres) -> dict:
    """Headline figures: total granted, financed actions, their porteurs and QPV, crédits spécifiques vs droit
    commun, and the files counted apart (`dossiers`: en instruction, refusées, abandonnées)."""
    head = aggregate(con, f, porteurs=True, dossiers=False).iloc[0]
    nat = aggregate(con, f, ["nature"], actions=False).set_index("nature")["montant_accorde"]
    total_ = float(head["montant_accorde"])
    specifique = float(nat.get("specifique", 0.0))
    droit_commun = float(nat.get("droit_commun", 0.0))
    sql = fact_conditions(f, split=True)
    nb_qpv = con.execute(f"SELECT count(DISTINCT x.code_qpv) FILTER (WHERE {financee()}) FROM fait_qpv x "
                         f"{sql.where()}", sql.params).fetchall()[0][0]
    return {**dossiers(con, f),
        "montant_accorde": total_,
        "nb_actions": int(head["nb_actions"]),
        "nb_porteurs": int(head["nb_porteurs"]),
        "nb_qpv": int(nb_qpv),
        "montant_specifique": specifique,
        "montant_droit_commun": droit_commun,
        "part_specifique": 100 * specifique / total_ if total_ else None,
        "part_droit_commun": 100 * droit_commun / total_ if total_ else None,
    }


def dossiers(con: duckdb.DuckDBPyConnection, f: Filtres) -> dict[str, int]:
    """Action-years of the selection counted apart from the financed ones, by statut: `nb_en_instruction`
    (deposee), `nb_refusees`, `nb_abandonnees`; and `nb_dossiers` (every statut)."""
    sql = fact_conditions(f, f.split_qpv)
    # The statut belongs to the action-year: its distinct (key, statut) pairs are its action-years, counted once
    # each (four distinct counts cost three times as much).
    counts = ", ".join(f"count(*) FILTER (WHERE d.statut = '{s}') AS {name}" for s, name in STATUTS_DOSSIERS.items())
    table = "fait_qpv" if f.split_qpv else "fait"
    row = con.execute(f"SELECT count(*) AS nb_dossiers, {counts} FROM (SELECT DISTINCT x.cle, x.statut FROM {table} x "
                      f"{sql.where()}) d", sql.params).fetchall()[0]
    return dict(zip(["nb_dossiers", *STATUTS_DOSSIERS.values()], (int(v or 0) for v in row), strict=True))


def depots_en_instruction(con: duckdb.DuckDBPyConnection, f: Filtres) -> dict:
    """Files still being instructed (`deposee`) in the latest year of the selection (the year in progress):
    {"annee", "nb", "montant_demande"}; `nb` is 0 when that year has none. Never counted as financed."""
    sql = Sql()
    action_conditions(f.with_(statut=()), sql)
    row = con.execute(f"SELECT max(a.annee) FROM action a {sql.where()}", sql.params).fetchall()[0]
    if row[0] is None:
        return {"annee": None, "nb": 0, "montant_demande": 0.0}
    annee = int(row[0])
    fy = f.with_(annees=(annee,), statut=())
    sql = fact_conditions(fy, fy.split_qpv)
    sql.add("x.statut = 'deposee'")
    table = "fait_qpv" if fy.split_qpv else "fait"
    nb, dem = con.execute(f"SELECT count(DISTINCT x.cle), coalesce(sum(x.montant_demande), 0) FROM {table} x "
                          f"{sql.where()}", sql.params).fetchall()[0]
    return {"annee": annee, "nb": int(nb), "montant_demande": float(dem)}


REGLE_ACTIONS = ("Actions financées : actions accordées ou soldées avec un montant accordé supérieur à 0. "
                 "Les dossiers en cours d'instruction, refusés ou abandonnés sont comptés à part.")


def phrase_hors_financement(k: dict, annee: int, depots: dict) -> str | None:
    """The files not counted as financed, in one French sentence (None when there are none)."""
    parts = []
    apart = [(k.get("nb_refusees", 0), "dossier refusé", "dossiers refusés"),
             (k.get("nb_abandonnees", 0), "dossier abandonné", "dossiers abandonnés"),
             (k.get("nb_en_instruction", 0), "dossier en cours d'instruction", "dossiers en cours d'instruction")]
    listed = [fmt.compte(n, one, many) for n, one, many in apart if n]
    if listed:
        parts.append(f"en {annee}, " + ", ".join(listed))
    if depots.get("nb") and depots.get("annee") != annee:
        parts.append(f"en {depots['annee']}, {fmt.compte(depots['nb'], 'dépôt')} en cours d'instruction "
                     f"({fmt.euros(depots['montant_demande'])} demandés)")
    if not parts:
        return None
    return "Non comptés dans les actions financées : " + " ; ".join(parts) + "."


def annee_decidee(con: duckdb.DuckDBPyConnection, f: Filtres) -> int | None:
    """Last year of the selection whose actions are mostly decided (not `deposee`), else the last year.

    A year still being instructed is not a fair headline; the statut filter is ignored for this choice.
    """
    sql = Sql()
    action_conditions(f.with_(statut=()), sql)
    rows = con.execute(
        "SELECT a.annee, avg(CASE WHEN a.statut <> 'deposee' THEN 1.0 ELSE 0.0 END) AS part_decidee "
        f"FROM action a {sql.where()} GROUP BY a.annee ORDER BY a.annee", sql.params).fetchall()
    if not rows:
        return None
    decided = [int(y) for y, share in rows if share >= 0.5]
    return max(decided) if decided else int(rows[-1][0])


def evolution(con: duckdb.DuckDBPyConnection, f: Filtres, annee: int, annee_ref: int) -> dict:
    """Total granted in `annee` and `annee_ref` (other filters kept) and the change in %."""
    now = total(con, f.with_(annees=(annee,)))
    ref = total(con, f.with_(annees=(annee_ref,)))
    return {"annee": annee, "annee_ref": annee_ref, "montant": now, "montant_ref": ref,
            "evolution_pct": 100 * (now - ref) / ref if ref else None}


def par_annee_financeur(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Granted amount per year and funder, with the funder's label."""
    df = aggregate(con, f, ["annee", "financeur"], actions=False)
    return df.merge(libelles(con, "financeur"), on="financeur", how="left")


def par_pilier(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Granted amount and number of actions per pillar, with label and share of the total (%)."""
    df = aggregate(con, f, ["pilier"], dossiers=False).merge(libelles(con, "pilier"), on="pilier", how="left")
    tot = df["montant_accorde"].sum()
    df["part"] = 100 * df["montant_accorde"] / tot if tot else 0.0
    return df.sort_values("montant_accorde", ascending=False, ignore_index=True)


def par_qpv(con: duckdb.DuckDBPyConnection, f: Filtres) -> pd.DataFrame:
    """Per QPV: granted amount (equal shares), actions, population and amount per inhabitant."""
    df = aggregate(con, f, ["qpv"], dossiers=False).rename(columns={"qpv": "code_qpv"})
    ref = con.execute("SELECT code_qpv, nom_qpv, geographie, population, communes_insee FROM qpv "
                      "WHERE code_qpv IN (SELECT DISTINCT code_qpv FROM action_qpv)").df()
    df = df.merge(ref, on="code_qpv", how="left")
    df["montant_par_habitant"] = df["montant_accorde"] / df["population"].where(df["population"] > 0)
    return df.sort_values("montant_accorde", ascending=False, ignore_index=True)


def libelles(con: duckdb.DuckDBPyConnection, referentiel: str) -> pd.DataFrame:
    """Code → label table of a referential, the code column named after the dimension (read once per data version
    inside the app: the figures of a page join it a dozen times)."""
    return runner.query(con, referentiel_libelles, referentiel)


def referentiel_libelles(con: duckdb.DuckDBPyConnection, referentiel: str) -> pd.DataFrame:
    """`libelles`, read from the database."""
    queries = {
        "financeur": "SELECT code AS financeur, libelle AS financeur_libelle, categorie FROM financeur",
        "pilier": "SELECT code AS pilier, libelle AS pilier_libelle, generation FROM pilier",
        "thematique": "SELECT code AS thematique, libelle AS thematique_libelle, theme_code, theme_libelle "
                      "FROM thematique",
        "qpv": "SELECT code_qpv AS qpv, nom_qpv AS qpv_libelle, geographie, contrat FROM qpv",
        "contrat": "SELECT code_contrat AS contrat, libelle AS contrat_libelle, generation FROM contrat",
        "commune": "SELECT code_insee AS commune, nom AS commune_libelle FROM commune",
    }
    return con.execute(queries[referentiel]).df()


def options(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """What the filter bar offers: only values present in the data."""
    return {
        "annees": con.execute("SELECT DISTINCT annee FROM action ORDER BY annee").df(),
        "contrats": con.execute(
            "SELECT c.code_contrat, c.libelle, c.generation, min(a.annee) AS debut, max(a.annee) AS fin "
            "FROM contrat c JOIN action a ON a.contrat = c.code_contrat "
            "GROUP BY ALL ORDER BY c.generation, c.code_contrat").df(),
        "qpv": con.execute(
            "SELECT q.code_qpv, q.nom_qpv, q.geographie, q.contrat FROM qpv q "
            "WHERE q.code_qpv IN (SELECT DISTINCT code_qpv FROM action_qpv) ORDER BY q.nom_qpv, q.code_qpv").df(),
        "communes": con.execute(
            "SELECT DISTINCT c.code_insee, c.nom FROM commune c JOIN qpv_commune qc USING (code_insee) "
            "WHERE qc.code_qpv IN (SELECT DISTINCT code_qpv FROM action_qpv) ORDER BY c.nom").df(),
        "piliers": con.execute(
            "SELECT code, libelle, generation FROM pilier WHERE code IN (SELECT DISTINCT pilier FROM action) "
            "ORDER BY generation, libelle").df(),
        "thematiques": con.execute(
            "SELECT code, libelle, theme_code, theme_libelle FROM thematique "
            "WHERE code IN (SELECT DISTINCT thematique FROM action) ORDER BY theme_code, code").df(),
        "financeurs": con.execute(
            "SELECT code, libelle, categorie FROM financeur WHERE code IN (SELECT DISTINCT financeur "
            "FROM financement) ORDER BY libelle").df(),
        "statuts": con.execute("SELECT DISTINCT statut FROM action ORDER BY statut").df(),
        "porteur_types": con.execute(
            "SELECT DISTINCT porteur_type FROM action WHERE porteur_type IS NOT NULL ORDER BY 1").df(),
        "dispositifs": con.execute(
            "SELECT DISTINCT dispositif FROM financement WHERE dispositif IS NOT NULL ORDER BY 1").df(),
    }


def resume_filtres(con: duckdb.DuckDBPyConnection, f: Filtres) -> str:
    """The active filters in one French sentence ("Années 2016 à 2022 · Financeurs : CAF")."""
    return resume_filtres_options(options(con), f)


def resume_filtres_options(opts: dict[str, pd.DataFrame], f: Filtres) -> str:
    """`resume_filtres` from the filter bar's options (`options(con)`), without asking the database again."""
    years = [int(y) for y in opts["annees"]["annee"].tolist()]
    # code -> name, for the kinds of filter that are set only (the communes of France are 35 000)
    columns = {"contrat": ("contrats", "code_contrat", "libelle"), "communes": ("communes", "code_insee", "nom"),
               "qpv": ("qpv", "code_qpv", "nom_qpv"), "piliers": ("piliers", "code", "libelle"),
               "thematiques": ("thematiques", "code", "libelle"), "financeurs": ("financeurs", "code", "libelle")}
    names: dict[str, dict] = {}
    for name, (table, code, label) in columns.items():
        if getattr(f, name):
            pairs = zip(opts[table][code].tolist(), opts[table][label].tolist(), strict=True)
            # named by period, as the filter bar names them ("1.2 Santé (2020-2023)"): never the stored "2020-1.2"
            names[name] = ({c: nomenclatures.libelle_periode(c, lib) for c, lib in pairs} if name == "thematiques"
                           else dict(pairs))
    parts = []
    if f.annees and (min(f.annees), max(f.annees)) != ((years[0], years[-1]) if years else (None, None)):
        lo, hi = min(f.annees), max(f.annees)
        parts.append(f"Année {lo}" if lo == hi else f"Années {lo} à {hi}")
    if f.contrat:
        parts.append(f"Contrat : {names['contrat'].get(f.contrat, f.contrat)}")
    titles = {"communes": "Communes", "qpv": "Quartiers", "piliers": "Piliers", "thematiques": "Thématiques",
              "financeurs": "Financeurs", "nature": "Nature", "statut": "Statut", "porteur_type": "Porteurs",
              "dispositifs": "Dispositifs"}
    for name, title in titles.items():
        values = getattr(f, name)
        if values:
            labels = [names.get(name, {}).get(v) or LIBELLES.get(v)
                      or (nomenclatures.libelle_periode(v, None) if name == "thematiques" else v) for v in values]
            shown = ", ".join(labels[:4]) + (f" et {fmt.compte(len(labels) - 4, 'autre')}" if len(labels) > 4 else "")
            parts.append(f"{title} : {shown}")
    if not parts:
        return "Aucun filtre : toutes les données" + (f" {fmt.periode(years[0], years[-1])}" if years else "")
    return " · ".join(parts)


def is_demo(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database holds the bundled demonstration data."""
    row = con.execute("SELECT valeur FROM meta WHERE cle = 'demo'").fetchone()
    return bool(row and row[0] == "oui")


def qpv_with_contour(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Codes of the QPV that have a contour (the geometries themselves are read by `maps`, territory by territory)."""
    return con.execute("SELECT code AS code_qpv FROM contour WHERE niveau = 'qpv'").df()


def commune_contours(con: duckdb.DuckDBPyConnection, codes: list[str] | None = None) -> pd.DataFrame:
    """GeoJSON geometry (text) and name of communes (all, or `codes`)."""
    sql = Sql()
    sql.add("cc.niveau = 'commune'")
    sql.add_in("cc.code", tuple(codes or ()))
    return con.execute(
        "SELECT cc.code AS code_insee, c.nom, cc.geojson FROM contour cc JOIN commune c ON c.code_insee = cc.code "
        f"{sql.where()}", sql.params).df()


def derniere_mise_a_jour(con: duckdb.DuckDBPyConnection) -> pd.Timestamp | None:
    """When the data last changed (last import or undo)."""
    row = con.execute("SELECT max(horodatage) FROM import_journal").fetchone()
    return row[0] if row else None
