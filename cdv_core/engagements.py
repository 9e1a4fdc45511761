"""Engagements of the signatories and quartier roadmaps (FORMATS.md §6-7): read-only queries.

Rules written once here:
- an engagement is *in force* in a year when it has started (`debut` empty or ≤ the year);
- an engagement without a follow-up row for a year is `non_renseigne` that year, never `non_engage`;
- it is *late* in a year when its deadline (`echeance`) is before that year and its status that year is
  `non_engage`, `en_cours` or `partiellement_atteint`;
- its *pilot* is the first of its signatories;
- its measured value in a year comes from `indicateur` when its `indicateur` is an indicator code (the single
  QPV it is scoped to, else the population-weighted mean of its quartiers: those listed, or every QPV of its
  contract), else, or when that year has no indicator value, from the follow-up `valeur`;
- money committed over a period is spread evenly over its years (`debut`..`echeance`) to compare with the money
  mobilised each year (`montant_realise`).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from cdv_core import queries_quartiers as qq
from cdv_core.filters import Filtres
from cdv_core.formats import LIBELLES, STATUTS_ENGAGEMENT
from cdv_core.runner import query

NON_RENSEIGNE = "non_renseigne"
STATUTS = (*STATUTS_ENGAGEMENT, NON_RENSEIGNE)
LIBELLE_STATUT = {**{s: LIBELLES[s] for s in STATUTS_ENGAGEMENT}, NON_RENSEIGNE: "Non renseigné"}
# Order in which statuses are shown (best first; "non renseigné" last, apart from the others).
ORDRE = ("atteint", "partiellement_atteint", "en_cours", "non_engage", "abandonne", NON_RENSEIGNE)
EN_MARCHE = ("atteint", "partiellement_atteint", "en_cours")
EN_RETARD = ("non_engage", "en_cours", "partiellement_atteint")
COULEURS = {"atteint": "#009E73", "partiellement_atteint": "#56B4E9", "en_cours": "#0072B2",
            "non_engage": "#E69F00", "abandonne": "#D55E00", NON_RENSEIGNE: "#BDBDBD"}

_COLUMNS = ["engagement_id", "intitule", "signataire", "pilote", "pilote_libelle", "signataires_libelle",
            "contrat", "pilier", "pilier_libelle", "qpv", "debut", "echeance", "indicateur", "indicateur_code",
            "valeur_initiale", "valeur_cible", "unite", "montant_engage", "nature"]


def libelle_statut(code: str | None) -> str:
    """French label of a status code (`non_renseigne` included)."""
    return LIBELLE_STATUT.get(code or NON_RENSEIGNE, code or "")


def _where(f: Filtres, signataire: str | None, alias: str = "e") -> tuple[str, list]:
    conds, params = [], []
    if f.contrat:
        conds.append(f"{alias}.contrat = ?")
        params.append(f.contrat)
    if f.piliers:
        conds.append(f"{alias}.pilier IN ({', '.join('?' for _ in f.piliers)})")
        params.extend(f.piliers)
    qpv = list(f.qpv)
    if f.communes:
        marks = ", ".join("?" for _ in f.communes)
        qpv_sql = (f"SELECT code_qpv FROM qpv_commune WHERE code_insee IN ({marks})"
                   + (f" AND code_qpv IN ({', '.join('?' for _ in qpv)})" if qpv else ""))
        qpv_params = [*f.communes, *qpv]
    elif qpv:
        qpv_sql = f"SELECT unnest([{', '.join('?' for _ in qpv)}]) AS code_qpv"
        qpv_params = qpv
    else:
        qpv_sql = ""
    if qpv_sql:
        # An engagement concerns a quartier when it names it, or covers the whole contract the quartier is in.
        conds.append(
            f"(EXISTS (SELECT 1 FROM ({qpv_sql}) s WHERE list_contains(string_split({alias}.qpv, '|'), s.code_qpv))"
            f" OR ({alias}.qpv = '*' AND {alias}.contrat IN (SELECT q.contrat FROM qpv q WHERE q.code_qpv IN "
            f"({qpv_sql}))))")
        params.extend([*qpv_params, *qpv_params])
    if signataire:
        conds.append(f"list_contains(string_split({alias}.signataire, '|'), ?)")
        params.append(signataire)
    return ("WHERE " + " AND ".join(conds)) if conds else "", params


def engagements(con: duckdb.DuckDBPyConnection, f: Filtres = Filtres(), signataire: str | None = None
                ) -> pd.DataFrame:
    """The engagements under the filters (contract, QPV or communes, pillars) and of `signataire` (any of its
    signatories), with labels: pilote (code of the first signatory), pilote_libelle, signataires_libelle,
    pilier_libelle, indicateur_code (the indicator code when `indicateur` is one, else empty)."""
    where, params = _where(f, signataire)
    # The signatories' labels in one grouped pass (a subquery per engagement cost DuckDB 1 ms a row).
    df = con.execute(f"""
        WITH s AS (
            SELECT engagement_id, unnest(string_split(signataire, '|')) AS code,
                   generate_subscripts(string_split(signataire, '|'), 1) AS rang
            FROM engagement),
        sl AS (
            SELECT s.engagement_id, string_agg(coalesce(fi.libelle, s.code), ', ' ORDER BY s.rang) AS libelle
            FROM s LEFT JOIN financeur fi ON fi.code = s.code GROUP BY s.engagement_id)
        SELECT e.*, split_part(e.signataire, '|', 1) AS pilote,
               coalesce(fp.libelle, split_part(e.signataire, '|', 1)) AS pilote_libelle,
               sl.libelle AS signataires_libelle,
               coalesce(p.libelle, e.pilier) AS pilier_libelle,
               CASE WHEN d.code IS NOT NULL THEN e.indicateur END AS indicateur_code
        FROM engagement e
        LEFT JOIN sl ON sl.engagement_id = e.engagement_id
        LEFT JOIN financeur fp ON fp.code = split_part(e.signataire, '|', 1)
        LEFT JOIN pilier p ON p.code = e.pilier
        LEFT JOIN indicateur_def d ON d.code = e.indicateur
        {where}
        ORDER BY e.engagement_id
    """, params).df()
    return df[_COLUMNS]


def annees(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Years with follow-up rows, oldest first."""
    return [int(r[0]) for r in con.execute("SELECT DISTINCT annee FROM suivi_engagement ORDER BY 1").fetchall()]


def annee_par_defaut(con: duckdb.DuckDBPyConnection) -> int | None:
    """The latest year with follow-up rows (None when there is no follow-up at all)."""
    years = annees(con)
    return years[-1] if years else None


def _valeurs_indicateur(con, eng: pd.DataFrame) -> pd.DataFrame:
    """engagement_id, annee, valeur from `indicateur` for engagements whose indicateur is an indicator code."""
    coded = eng[eng["indicateur_code"].notna()][["engagement_id", "indicateur_code", "qpv", "contrat"]]
    if coded.empty:
        return pd.DataFrame(columns=["engagement_id", "annee", "valeur"])
    con.register("_eng_coded", coded)
    try:
        return con.execute("""
            WITH t AS (
                SELECT c.engagement_id, c.indicateur_code, unnest(string_split(c.qpv, '|')) AS code_qpv
                FROM _eng_coded c WHERE c.qpv <> '*'
                UNION ALL
                SELECT c.engagement_id, c.indicateur_code, q.code_qpv
                FROM _eng_coded c JOIN qpv q ON q.contrat = c.contrat WHERE c.qpv = '*')
            SELECT t.engagement_id, i.annee,
                   sum(i.valeur * coalesce(q.population, 1)) / sum(coalesce(q.population, 1)) AS valeur
            FROM t JOIN indicateur i ON i.territoire = t.code_qpv AND i.indicateur = t.indicateur_code
            LEFT JOIN qpv q ON q.code_qpv = t.code_qpv
            GROUP BY ALL ORDER BY 1, 2
        """).df()
    finally:
        con.unregister("_eng_coded")


def _suivi(con, ids: list[str]) -> pd.DataFrame:
    if not ids:
        return pd.DataFrame(columns=["engagement_id", "annee", "statut", "valeur", "montant_realise",
                                     "commentaire", "source"])
    con.register("_eng_ids", pd.DataFrame({"engagement_id": ids}))
    try:
        return con.execute("SELECT s.* FROM suivi_engagement s SEMI JOIN _eng_ids USING (engagement_id) "
                           "ORDER BY engagement_id, annee").df()
    finally:
        con.unregister("_eng_ids")


def statuts(con: duckdb.DuckDBPyConnection, f: Filtres, annee: int, signataire: str | None = None,
            en_vigueur: bool = True) -> pd.DataFrame:
    """One row per engagement (in force in `annee` unless `en_vigueur` is False): its columns of
    `engagements` plus statut (`non_renseigne` without a follow-up row), statut_libelle, valeur (measured
    that year, see the module's rules), commentaire, montant_realise (that year), montant_realise_cumule (up to
    that year; empty when no amount was reported), statut_precedent (previous year), en_retard."""
    eng = query(con, engagements, f, signataire)
    if en_vigueur:
        eng = eng[eng["debut"].isna() | (eng["debut"] <= annee)]
    eng = eng.reset_index(drop=True)
    suivi = _suivi(con, eng["engagement_id"].tolist())
    this = suivi[suivi["annee"] == annee].set_index("engagement_id")
    prev = suivi[suivi["annee"] == annee - 1].set_index("engagement_id")
    upto = suivi[suivi["annee"] <= annee]
    cumul = upto.groupby("engagement_id")["montant_realise"].sum(min_count=1)
    ind = _valeurs_indicateur(con, eng)
    ind = ind[ind["annee"] == annee].set_index("engagement_id")["valeur"]
    out = eng.copy()
    out["statut"] = out["engagement_id"].map(this["statut"]).astype(object).fillna(NON_RENSEIGNE)
    out["statut_libelle"] = out["statut"].map(libelle_statut)
    suivi_valeur = out["engagement_id"].map(this["valeur"])
    out["valeur"] = out["engagement_id"].map(ind).astype("float64").fillna(suivi_valeur.astype("float64"))
    out["commentaire"] = out["engagement_id"].map(this["commentaire"])
    out["montant_realise"] = out["engagement_id"].map(this["montant_realise"]).astype("float64")
    out["montant_realise_cumule"] = out["engagement_id"].map(cumul).astype("float64")
    out["statut_precedent"] = out["engagement_id"].map(prev["statut"]).astype(object).fillna(NON_RENSEIGNE)
    out["en_retard"] = out["echeance"].notna() & (out["echeance"] < annee) & out["statut"].isin(EN_RETARD)
    return out


def comptes(df: pd.DataFrame) -> pd.DataFrame:
    """statut, statut_libelle, nb for every status (zeros included), in display order."""
    counts = df["statut"].value_counts() if len(df) else pd.Series(dtype=int)
    return pd.DataFrame({"statut": list(ORDRE), "statut_libelle": [libelle_statut(s) for s in ORDRE],
                         "nb": [int(counts.get(s, 0)) for s in ORDRE]})


def phrase_statuts(df: pd.DataFrame, annee: int) -> str:
    """"En 2022, 9 engagements sur 14 sont atteints ou en cours ; 2 n'ont pas démarré" (+ the others)."""
    n = len(df)
    if n == 0:
        return f"Aucun engagement en vigueur en {annee} pour cette sélection."
    c = comptes(df).set_index("statut")["nb"]
    marche = int(sum(c[s] for s in EN_MARCHE))
    parts = [f"En {annee}, {marche} engagement{'s' if marche > 1 else ''} sur {n} "
             f"{'sont atteints ou en cours' if marche > 1 else 'est atteint ou en cours'}"]
    if c["non_engage"]:
        parts.append(f"{c['non_engage']} n'{'ont' if c['non_engage'] > 1 else 'a'} pas démarré")
    if c["abandonne"]:
        parts.append(f"{c['abandonne']} {'ont' if c['abandonne'] > 1 else 'a'} été abandonné"
                     f"{'s' if c['abandonne'] > 1 else ''}")
    if c[NON_RENSEIGNE]:
        verbe = "ne sont pas renseignés" if c[NON_RENSEIGNE] > 1 else "n'est pas renseigné"
        parts.append(f"{c[NON_RENSEIGNE]} {verbe}")
    return " ; ".join(parts) + "."


def signataire_statut(df: pd.DataFrame) -> pd.DataFrame:
    """Counts per pilot signatory and status: pilote, pilote_libelle, statut, statut_libelle, nb (no zero)."""
    if df.empty:
        return pd.DataFrame(columns=["pilote", "pilote_libelle", "statut", "statut_libelle", "nb"])
    out = df.groupby(["pilote", "pilote_libelle", "statut"], as_index=False).size().rename(columns={"size": "nb"})
    out["statut_libelle"] = out["statut"].map(libelle_statut)
    out["rang"] = out["statut"].map({s: i for i, s in enumerate(ORDRE)})
    return out.sort_values(["pilote_libelle", "rang"]).drop(columns="rang").reset_index(drop=True)


def changements(df: pd.DataFrame) -> pd.DataFrame:
    """The engagements whose status differs from the previous year's."""
    return df[df["statut"] != df["statut_precedent"]].reset_index(drop=True)


def trajectoire(con: duckdb.DuckDBPyConnection, engagement_id: str) -> pd.DataFrame:
    """The engagement's years: annee, valeur (see the module's rules), origine ("indicateur" or "suivi"),
    statut (`non_renseigne` when the year has no follow-up row), statut_libelle, commentaire, source,
    montant_realise. Years are those of the follow-up and, for an indicator code, of the indicator."""
    eng = con.execute("SELECT engagement_id FROM engagement WHERE engagement_id = ?", [engagement_id]).fetchall()
    cols = ["annee", "valeur", "origine", "statut", "statut_libelle", "commentaire", "source", "montant_realise"]
    if not eng:
        return pd.DataFrame(columns=cols)
    row = engagements(con).query("engagement_id == @engagement_id")
    suivi = _suivi(con, [engagement_id]).set_index("annee")
    ind = _valeurs_indicateur(con, row).set_index("annee")["valeur"]
    years = sorted(set(suivi.index.astype(int)) | set(ind.index.astype(int)))
    out = pd.DataFrame({"annee": years})
    out["valeur_indicateur"] = out["annee"].map(ind).astype("float64")
    out["valeur_suivi"] = out["annee"].map(suivi["valeur"]).astype("float64")
    out["valeur"] = out["valeur_indicateur"].fillna(out["valeur_suivi"])
    out["origine"] = out["valeur_indicateur"].notna().map({True: "indicateur", False: "suivi"})
    out.loc[out["valeur"].isna(), "origine"] = None
    out["statut"] = out["annee"].map(suivi["statut"]).astype(object).fillna(NON_RENSEIGNE)
    out["statut_libelle"] = out["statut"].map(libelle_statut)
    out["commentaire"] = out["annee"].map(suivi["commentaire"])
    out["source"] = out["annee"].map(suivi["source"])
    out["montant_realise"] = out["annee"].map(suivi["montant_realise"]).astype("float64")
    return out[cols]


def droit_commun(con: duckdb.DuckDBPyConnection, f: Filtres, signataire: str | None = None) -> pd.DataFrame:
    """Droit commun engagements per pilot signatory and year: pilote, pilote_libelle, annee, engage (the
    committed amount spread evenly over the engagement's years), mobilise (montant_realise of the year),
    mobilise_cumule (since the first year), engage_total (committed over the whole period)."""
    eng = engagements(con, f, signataire)
    eng = eng[(eng["nature"] == "droit_commun")]
    cols = ["pilote", "pilote_libelle", "annee", "engage", "mobilise", "mobilise_cumule", "engage_total"]
    suivi = _suivi(con, eng["engagement_id"].tolist())
    # only engagements that carry money (a promised amount or an amount mobilised)
    money = set(suivi.loc[suivi["montant_realise"].notna(), "engagement_id"])
    eng = eng[eng["montant_engage"].notna() | eng["engagement_id"].isin(money)]
    if eng.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for e in eng.itertuples(index=False):
        s = suivi[suivi["engagement_id"] == e.engagement_id]
        years = set(s["annee"].astype(int))
        start = int(e.debut) if pd.notna(e.debut) else (min(years) if years else None)
        end = int(e.echeance) if pd.notna(e.echeance) else start
        period = set(range(start, end + 1)) if start is not None and end is not None else set()
        years |= period
        for y in sorted(years):
            engage = float(e.montant_engage) / len(period) if pd.notna(e.montant_engage) and y in period else 0.0
            got = s.loc[s["annee"] == y, "montant_realise"]
            rows.append({"pilote": e.pilote, "pilote_libelle": e.pilote_libelle, "annee": y, "engage": engage,
                         "mobilise": float(got.sum()) if got.notna().any() else 0.0,
                         "engage_total": float(e.montant_engage) if pd.notna(e.montant_engage) else 0.0,
                         "engagement_id": e.engagement_id})
    df = pd.DataFrame(rows)
    totals = df.drop_duplicates("engagement_id").groupby(["pilote", "pilote_libelle"])["engage_total"].sum()
    out = df.groupby(["pilote", "pilote_libelle", "annee"], as_index=False)[["engage", "mobilise"]].sum()
    out = out.sort_values(["pilote_libelle", "annee"])
    out["mobilise_cumule"] = out.groupby("pilote")["mobilise"].cumsum()
    out["engage_total"] = [totals[(p, lib)] for p, lib in zip(out["pilote"], out["pilote_libelle"], strict=True)]
    return out[cols].reset_index(drop=True)


def feuille_de_route(con: duckdb.DuckDBPyConnection, code_qpv: str, annee: int | None = None) -> pd.DataFrame:
    """The quartier's roadmap: engagements naming `code_qpv`, with their status, value and comment in `annee`
    (default: the latest year of their follow-up)."""
    # Every engagement and their statuses, the same for every quartier: in the app, read once per data version.
    eng = query(con, engagements, Filtres())
    # A boolean mask even when there is no engagement at all (an empty object Series would select columns).
    names_it = eng["qpv"].fillna("").str.split("|").map(lambda codes: code_qpv in codes).astype(bool)
    eng = eng.loc[names_it]
    if annee is None:
        years = _suivi(con, eng["engagement_id"].tolist())["annee"]
        annee = int(years.max()) if len(years) else 0
    st = query(con, statuts, Filtres(), annee, en_vigueur=False)
    return st[st["engagement_id"].isin(eng["engagement_id"])].reset_index(drop=True).assign(annee=annee)


def series_quartier(con: duckdb.DuckDBPyConnection, code_qpv: str) -> pd.DataFrame:
    """Every indicator of the quartier, every year, beside its communes, EPCI(s) and France: indicateur,
    libelle, unite, niveau (Quartier, Commune, Intercommunalité, France), rang, territoire, nom, annee, valeur."""
    return con.execute(f"""
        WITH t AS (
{qq.TERRITOIRES_DU_QPV})
        SELECT i.indicateur, coalesce(d.libelle, i.indicateur) AS libelle, coalesce(d.unite, i.unite) AS unite,
               t.niveau, t.rang, t.territoire, t.nom, i.annee, i.valeur
        FROM indicateur i JOIN t ON t.territoire = i.territoire LEFT JOIN indicateur_def d ON d.code = i.indicateur
        WHERE i.indicateur IN (SELECT indicateur FROM indicateur WHERE territoire = ?)
        ORDER BY libelle, t.rang, t.nom, i.annee
    """, [code_qpv] * 4).df()


def rattrapage(series: pd.DataFrame) -> pd.DataFrame:
    """For each indicator and reference territory: the gap with the quartier (reference − quartier) in the first
    and last years both have a value, and whether it narrows: indicateur, libelle, unite, niveau, nom,
    annee_debut, annee_fin, ecart_debut, ecart_fin, se_reduit (None with fewer than two common years)."""
    cols = ["indicateur", "libelle", "unite", "niveau", "nom", "annee_debut", "annee_fin", "ecart_debut",
            "ecart_fin", "se_reduit"]
    rows = []
    for code, g in series.groupby("indicateur", sort=False):
        quartier = g[g["niveau"] == "Quartier"].set_index("annee")["valeur"]
        for (niveau, nom), ref in g[g["niveau"] != "Quartier"].groupby(["niveau", "nom"], sort=False):
            ref = ref.set_index("annee")["valeur"]
            common = sorted(set(ref.index) & set(quartier.index))
            if not common:
                continue
            a, b = common[0], common[-1]
            d0, d1 = float(ref[a] - quartier[a]), float(ref[b] - quartier[b])
            rows.append({"indicateur": code, "libelle": g["libelle"].iloc[0], "unite": g["unite"].iloc[0],
                         "niveau": niveau, "nom": nom, "annee_debut": int(a), "annee_fin": int(b),
                         "ecart_debut": d0, "ecart_fin": d1,
                         "se_reduit": (abs(d1) < abs(d0)) if len(common) > 1 else None})
    return pd.DataFrame(rows, columns=cols)


def _num(v) -> str:
    if v is None or pd.isna(v):
        return ""
    return f"{float(v):.2f}".rstrip("0").rstrip(".")


def lignes_cli(con: duckdb.DuckDBPyConnection, annee: int) -> list[list[str]]:
    """Rows of `python -m cdv_core engagements`: engagement_id, signataire (pilot code), statut (that year's, or
    non_renseigne), valeur, valeur_cible, montant_engage, montant_realise_cumule; every engagement."""
    df = statuts(con, Filtres(), annee, en_vigueur=False)
    return [[r.engagement_id, r.pilote, r.statut, _num(r.valeur), _num(r.valeur_cible), _num(r.montant_engage),
             _num(r.montant_realise_cumule)] for r in df.itertuples(index=False)]


def signataires(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """code, libelle of every funder that signed at least one engagement, by label."""
    return con.execute("""
        SELECT DISTINCT s.code, coalesce(fi.libelle, s.code) AS libelle
        FROM (SELECT unnest(string_split(signataire, '|')) AS code FROM engagement) s
        LEFT JOIN financeur fi ON fi.code = s.code ORDER BY libelle
    """).df()
