"""Evaluation surveys: response rates, per-question results, free text — with the anonymity rule.

Answers are stored one per row (`enquete_reponse`, FORMATS.md §4). A question's form is detected from its
answers (numbers, a known ordered scale, free text, or single choice); a question with `item`s is a grid.

Anonymity: no figure for a group of fewer than `seuil_anonymat()` respondents (default 5, environment
variable `CDV_SEUIL_ANONYMAT`): such results come back with `masque = True` and no `n`/`pct`. The threshold
applies to each figure shown: to the respondents of the question (not of the survey), of each item of a grid,
and of each respondent type. Complementary suppression stops a masked type from being recomputed by subtraction
("Tous" minus the visible types): per question and item, the types answered by fewer than `seuil` people are
masked together with the next-smallest types until the masked types total at least `seuil` respondents, and a
selection of types is shown only if it holds all of the masked types or none of them (see `masques`). Free
text follows the same rule, on the question's respondents. Respondent ids never leave this module.
"""

from __future__ import annotations

import math
import os
import re
import statistics
import unicodedata
from dataclasses import dataclass

import duckdb
import pandas as pd

from cdv_core import fmt
from cdv_core.filters import Sql

SEUIL_ANONYMAT = 5
ENV_SEUIL = "CDV_SEUIL_ANONYMAT"

# Question forms.
NOMBRE, ECHELLE, CHOIX, TEXTE = "nombre", "echelle", "choix", "texte"
FORMES = {NOMBRE: "Nombre", ECHELLE: "Échelle ordonnée", CHOIX: "Choix unique", TEXTE: "Texte libre"}


@dataclass(frozen=True)
class Echelle:
    """An ordered answer scale, lowest-to-highest or positive-to-negative as people read it."""

    code: str
    libelle: str
    niveaux: tuple[str, ...]
    bipolaire: bool  # agree … disagree (two-sided colours) vs. a one-way intensity (one hue)


# The known scales, in the order they are tried (the first that holds every answer wins): the one place
# where their order is written down.
ECHELLES: tuple[Echelle, ...] = (
    Echelle("cooperation", "Coopération (Havelock & Huberman)",
            ("Relation", "Connexion", "Cohésion", "Connexion dynamique", "Cohésion dynamique"), False),
    Echelle("accord", "Accord",
            ("Tout à fait d'accord", "Plutôt d'accord", "Plutôt pas d'accord", "Pas du tout d'accord"), True),
    Echelle("degre", "Degré", ("Totalement", "En partie", "Un peu", "Pas du tout"), True),
    Echelle("satisfaction", "Satisfaction",
            ("Très satisfait", "Satisfait", "Plutôt satisfait", "En partie", "Peu satisfait", "Pas satisfait",
             "Pas du tout satisfait"), True),
    Echelle("frequence", "Fréquence", ("Toujours", "Souvent", "Parfois", "Rarement", "Jamais"), True),
)
COOPERATION = ECHELLES[0]

# Respondent types: (singular, plural, feminine) for sentences such as "19 communes sollicitées".
TYPES_REPONDANT = {
    "commune": ("commune", "communes", True),
    "association": ("association", "associations", True),
    "conseil_citoyen": ("conseil citoyen", "conseils citoyens", False),
    "partenaire": ("partenaire", "partenaires", False),
    "habitant": ("habitant", "habitants", False),
    "bailleur": ("bailleur", "bailleurs", False),
    "epci": ("intercommunalité", "intercommunalités", True),
}


class EnqueteErreur(ValueError):
    """Unknown survey or question; `message` is a French sentence for the person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def seuil_anonymat() -> int:
    """The minimum group size for showing a figure: `CDV_SEUIL_ANONYMAT` if a whole number ≥ 1, else 5."""
    raw = os.environ.get(ENV_SEUIL, "").strip()
    try:
        value = int(raw)
    except ValueError:
        return SEUIL_ANONYMAT
    return value if value >= 1 else SEUIL_ANONYMAT


# Why a figure is masked: too few respondents, or (complementary suppression) shown with the figures of the other
# groups it would let a small group be recomputed by difference.
MOTIF_EFFECTIF = "effectif"
MOTIF_DEDUCTION = "deduction"


def message_anonymat(seuil: int, motif: str | None = MOTIF_EFFECTIF) -> str:
    """What a masked cell or row says, true to its reason (`motif`)."""
    if motif == MOTIF_DEDUCTION:
        return "masqué pour qu'on ne puisse pas le déduire des autres groupes"
    return f"moins de {seuil} réponses"


def phrase_anonymat(seuil: int, motif: str | None, quoi: str = "réponses à cette question") -> str:
    """The sentence shown instead of a result masked as a whole, true to its reason (`motif`)."""
    if motif == MOTIF_DEDUCTION:
        return (f"Résultat masqué pour préserver l'anonymat : avec celui de l'ensemble des répondants, il "
                f"permettrait de déduire par différence celui d'un groupe de moins de {seuil} répondants. "
                "Choisissez tous les types de répondants, ou aucun.")
    if motif == MOTIF_EFFECTIF:
        return f"Moins de {seuil} {quoi} pour cette sélection : résultat masqué pour préserver l'anonymat."
    return (f"Moins de {seuil} {quoi} pour cette sélection, ou un résultat qui permettrait de déduire par "
            "différence celui d'un autre groupe : masqué pour préserver l'anonymat.")


def motif_commun(res: pd.DataFrame) -> str | None:
    """The reason shared by every masked row of `resultats` (None when they differ, or none is masked)."""
    motifs = set(res.loc[res["masque"].astype(bool), "motif"].dropna()) if "motif" in res.columns else set()
    return motifs.pop() if len(motifs) == 1 else None


def motif_masque(bases: dict[str, int], types: tuple[str, ...], seuil: int) -> str | None:
    """None when figures over the selected `types` may be shown (see `selection_visible`), else why not:
    MOTIF_EFFECTIF (fewer than `seuil` respondents) or MOTIF_DEDUCTION (complementary suppression)."""
    chosen = {t for t in (types or bases) if bases.get(t, 0) > 0}
    if sum(bases[t] for t in chosen) < seuil:
        return MOTIF_EFFECTIF
    return None if selection_visible(bases, types, seuil) else MOTIF_DEDUCTION


# --- answers → form -------------------------------------------------------------------------------------

def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text).replace("’", "'").replace("\u00a0", " "))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text).strip().casefold()


_NIVEAUX = {e.code: {_norm(n): n for n in e.niveaux} for e in ECHELLES}


def nombre(text: str) -> float | None:
    """`12`, `0.5`, `0,5`, `1 200` → float; anything else → None."""
    clean = re.sub(r"[\s\u00a0\u202f]", "", str(text)).replace(",", ".")
    try:
        value = float(clean)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def detect_forme(reponses: list[str]) -> tuple[str, Echelle | None]:
    """The form of a question from all its answers: (NOMBRE|ECHELLE|CHOIX|TEXTE, scale or None)."""
    values = [str(r).strip() for r in reponses if r is not None and str(r).strip()]
    if not values:
        return CHOIX, None
    if all(nombre(v) is not None for v in values):
        return NOMBRE, None
    distinct = set(values)
    keys = {_norm(v) for v in distinct}
    for echelle in ECHELLES:
        if keys <= set(_NIVEAUX[echelle.code]):
            return ECHELLE, echelle
    # Free text: most answers differ from one another and are sentences rather than labels.
    if len(distinct) >= 3 and len(distinct) >= 0.5 * len(values) and statistics.median(map(len, distinct)) >= 20:
        return TEXTE, None
    return CHOIX, None


def pourcentages(effectifs: list[int], base: int) -> list[float]:
    """Shares of `base` in %, each rounded half up to one decimal (exact integer arithmetic).

    Equal counts always read the same; a row may therefore total 99,9 % or 100,1 % after rounding.
    """
    if base <= 0:
        return [0.0 for _ in effectifs]
    return [((2000 * n + base) // (2 * base)) / 10 for n in effectifs]


# --- surveys --------------------------------------------------------------------------------------------

def serie(code: str, annee: int) -> str:
    """The survey a wave belongs to: its code without the year (`EVAL2022-COMMUNES` → `EVAL-COMMUNES`)."""
    rest = code.replace(str(annee), "") if str(annee) in code else re.sub(r"(19|20)\d\d", "", code)
    return re.sub(r"[-_ .]+", "-", rest).strip("-").upper()


def libelle_type(type_repondant: str, pluriel: bool = False) -> str:
    sing, plur, _ = TYPES_REPONDANT.get(type_repondant, (type_repondant.replace("_", " "),
                                                         type_repondant.replace("_", " ") + "s", False))
    return plur if pluriel else sing


def enquetes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every survey: code, year, respondents, respondent types (comma-separated), series, label."""
    df = con.execute(
        "SELECT enquete, min(annee) AS annee, count(DISTINCT repondant) AS nb_repondants, "
        "count(DISTINCT question) AS nb_questions, string_agg(DISTINCT type_repondant, ',' ORDER BY type_repondant) "
        "AS types FROM enquete_reponse GROUP BY enquete ORDER BY annee DESC, enquete").df()
    df["serie"] = [serie(c, int(a)) for c, a in zip(df["enquete"], df["annee"])]
    df["libelle"] = [
        f"Enquête {int(a)} — {', '.join(libelle_type(t, True) for t in str(ts).split(','))} ({c})"
        for c, a, ts in zip(df["enquete"], df["annee"], df["types"])]
    return df


def _exige_enquete(con, enquete: str) -> None:
    if not con.execute("SELECT 1 FROM enquete_reponse WHERE enquete = ? LIMIT 1", [enquete]).fetchone():
        known = [r[0] for r in con.execute("SELECT DISTINCT enquete FROM enquete_reponse ORDER BY 1").fetchall()]
        raise EnqueteErreur(f"Enquête inconnue : « {enquete} ». Enquêtes disponibles : "
                            + (", ".join(known) if known else "aucune (importez d'abord une enquête)") + ".")


def vagues(con: duckdb.DuckDBPyConnection, enquete: str) -> pd.DataFrame:
    """Other waves of the same survey (same series, other years), most recent first."""
    df = enquetes(con)
    row = df[df["enquete"] == enquete]
    if row.empty:
        return df.iloc[0:0]
    r = row.iloc[0]
    return df[(df["serie"] == r["serie"]) & (df["annee"] != r["annee"])].reset_index(drop=True)


def _types_sql(sql: Sql, types: tuple[str, ...], alias: str = "") -> None:
    sql.add_in(f"{alias}type_repondant", tuple(types))


def types_repondant(con: duckdb.DuckDBPyConnection, enquete: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT DISTINCT type_repondant FROM enquete_reponse WHERE enquete = ? ORDER BY 1", [enquete]).fetchall()]


def nb_repondants(con: duckdb.DuckDBPyConnection, enquete: str, types: tuple[str, ...] = ()) -> int:
    """Size of the selected group: respondents of the survey (of the given types)."""
    sql = Sql()
    sql.add("enquete = ?", enquete)
    _types_sql(sql, types)
    return int(con.execute(f"SELECT count(DISTINCT repondant) FROM enquete_reponse {sql.where()}",
                           sql.params).fetchall()[0][0])


def phrase_taux(type_repondant: str, nb_sollicites: int | None, nb_repondants: int, taux: float | None) -> str:
    """`19 communes sollicitées, 19 répondantes — 100 %`."""
    sing, plur, fem = TYPES_REPONDANT.get(type_repondant, (libelle_type(type_repondant),
                                                           libelle_type(type_repondant, True), False))
    e = "e" if fem else ""
    noun = plur if (nb_sollicites or nb_repondants) > 1 else sing
    if nb_sollicites is None or pd.isna(nb_sollicites):
        return f"{fmt.nombre(nb_repondants)} {noun if nb_repondants > 1 else sing} répondant{e}" \
               f"{'s' if nb_repondants > 1 else ''} (nombre de sollicité{e}s inconnu)"
    s = "s" if nb_sollicites > 1 else ""
    r = "s" if nb_repondants > 1 else ""
    return (f"{fmt.nombre(nb_sollicites)} {noun} sollicité{e}{s}, {fmt.nombre(nb_repondants)} répondant{e}{r} — "
            f"{fmt.pourcent(taux, 0)}")


def taux_reponse(con: duckdb.DuckDBPyConnection, enquete: str, types: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per respondent type: asked (`enquete_diffusion`), answered, response rate in % (None if unknown)."""
    sql = Sql()
    sql.add("r.enquete = ?", enquete)
    _types_sql(sql, types, "r.")
    dsql = Sql()
    dsql.add("d.enquete = ?", enquete)
    _types_sql(dsql, types, "d.")
    df = con.execute(
        "WITH rep AS (SELECT type_repondant, count(DISTINCT repondant) AS nb_repondants FROM enquete_reponse r "
        f"{sql.where()} GROUP BY 1), dif AS (SELECT type_repondant, nb_sollicites FROM enquete_diffusion d "
        f"{dsql.where()}) SELECT type_repondant, dif.nb_sollicites, coalesce(rep.nb_repondants, 0) AS nb_repondants, "
        "CASE WHEN dif.nb_sollicites > 0 THEN 100.0 * coalesce(rep.nb_repondants, 0) / dif.nb_sollicites END "
        "AS taux FROM rep FULL JOIN dif USING (type_repondant) ORDER BY type_repondant",
        sql.params + dsql.params).df()
    df["phrase"] = [phrase_taux(t, None if pd.isna(s) else int(s), int(n), None if pd.isna(x) else float(x))
                    for t, s, n, x in zip(df["type_repondant"], df["nb_sollicites"], df["nb_repondants"],
                                          df["taux"])]
    return df


# --- questions ------------------------------------------------------------------------------------------

def questions(con: duckdb.DuckDBPyConnection, enquete: str) -> pd.DataFrame:
    """The questions of a survey in file order: code, text, form, scale, items (tuple), respondents."""
    _exige_enquete(con, enquete)
    df = con.execute(
        "SELECT question, any_value(libelle_question) AS libelle_question, count(DISTINCT repondant) AS "
        "nb_repondants, list(DISTINCT reponse) AS reponses, min(rowid) AS rang FROM enquete_reponse "
        "WHERE enquete = ? GROUP BY question ORDER BY rang", [enquete]).df()
    items = con.execute(
        "SELECT question, item, min(rowid) AS rang FROM enquete_reponse WHERE enquete = ? AND item IS NOT NULL "
        "AND trim(item) <> '' GROUP BY question, item ORDER BY question, rang", [enquete]).df()
    formes = [detect_forme(list(r)) for r in df["reponses"]]
    df["forme"] = [f for f, _ in formes]
    df["echelle"] = [e.code if e else None for _, e in formes]
    df["items"] = [tuple(items.loc[items["question"] == q, "item"]) for q in df["question"]]
    df["grille"] = df["items"].map(bool)
    return df.drop(columns=["reponses", "rang"]).reset_index(drop=True)


def question_info(con: duckdb.DuckDBPyConnection, enquete: str, question: str) -> dict:
    """One question's code, text, form, scale (`Echelle` or None), items and whether it is a grid."""
    qs = questions(con, enquete)
    row = qs[qs["question"] == question]
    if row.empty:
        raise EnqueteErreur(f"Question inconnue dans l'enquête {enquete} : « {question} ». Questions : "
                            + ", ".join(qs["question"]) + ".")
    r = row.iloc[0]
    echelle = next((e for e in ECHELLES if e.code == r["echelle"]), None)
    return {"question": question, "libelle_question": r["libelle_question"], "forme": r["forme"],
            "echelle": echelle, "items": tuple(r["items"]), "grille": bool(r["grille"])}


def _comptes(con, enquete: str, question: str, types: tuple[str, ...]) -> pd.DataFrame:
    """Respondents per (item, answer) and per item, aggregated in DuckDB."""
    sql = Sql()
    sql.add("enquete = ?", enquete)
    sql.add("question = ?", question)
    _types_sql(sql, types)
    return con.execute(
        "WITH r AS (SELECT coalesce(nullif(trim(item), ''), '') AS item, trim(reponse) AS reponse, repondant, "
        f"rowid AS rid FROM enquete_reponse {sql.where()}) "
        "SELECT c.item, c.reponse, c.n, b.base, b.rang FROM "
        "(SELECT item, reponse, count(DISTINCT repondant) AS n FROM r GROUP BY item, reponse) c "
        "JOIN (SELECT item, count(DISTINCT repondant) AS base, min(rid) AS rang FROM r GROUP BY item) b "
        "USING (item) ORDER BY b.rang, c.reponse", sql.params).df()


def _bases_par_type(con, enquete: str, question: str, par_item: bool = True) -> dict[str, dict[str, int]]:
    """Respondents of a question per item ('' without items, or for the whole question) and respondent type."""
    item = "coalesce(nullif(trim(item), ''), '')" if par_item else "''"
    rows = con.execute(
        f"SELECT {item} AS item, type_repondant, count(DISTINCT repondant) FROM enquete_reponse "
        "WHERE enquete = ? AND question = ? GROUP BY 1, 2", [enquete, question]).fetchall()
    out: dict[str, dict[str, int]] = {}
    for it, t, n in rows:
        out.setdefault(it, {})[t] = int(n)
    return out


def masques(bases: dict[str, int], seuil: int) -> set[str]:
    """The respondent types whose figures are never shown apart, from their numbers of respondents.

    Types answered by fewer than `seuil` people, plus (complementary suppression) the next-smallest types until the
    masked ones total at least `seuil`: what "all types" minus the visible types reveals is then a group of at
    least `seuil` respondents, never one of the small types.
    """
    masked = {t for t, n in bases.items() if 0 < n < seuil}
    rest = sorted((n, t) for t, n in bases.items() if n > 0 and t not in masked)
    while masked and sum(bases[t] for t in masked) < seuil and rest:
        masked.add(rest.pop(0)[1])
    return masked


def selection_visible(bases: dict[str, int], types: tuple[str, ...], seuil: int) -> bool:
    """Whether figures over the selected types (all if empty) may be shown for a question or item whose
    respondents per type are `bases`: at least `seuil` respondents, and all of the masked types or none."""
    chosen = {t for t in (types or bases) if bases.get(t, 0) > 0}
    if sum(bases[t] for t in chosen) < seuil:
        return False
    hidden = masques(bases, seuil)
    return not (chosen & hidden) or hidden <= chosen


def resultats(con: duckdb.DuckDBPyConnection, enquete: str, question: str, types: tuple[str, ...] = (),
              seuil: int | None = None) -> pd.DataFrame:
    """Answers of one question: `item, reponse, n, pct, base, masque, motif`, one row per item and answer.

    `item` is '' for a question without items. `pct` (one decimal, rounded half up) is over `base`,
    the respondents (of `types`) who answered that item. Scale questions list every level of the scale in its
    order (0 for a level nobody chose); choices are sorted by count; numbers by value. An item answered by
    fewer than `seuil` respondents, or whose selection of types would let a masked type be recomputed by
    subtraction (`selection_visible`), is masked: `n` and `pct` are None, `masque` is True, and its answers are
    not listed (one row, `reponse` None); `motif` says why (MOTIF_EFFECTIF or MOTIF_DEDUCTION).
    """
    seuil = seuil_anonymat() if seuil is None else seuil
    info = question_info(con, enquete, question)
    raw = _comptes(con, enquete, question, tuple(types))
    par_type = _bases_par_type(con, enquete, question)
    rows: list[dict] = []
    items = list(dict.fromkeys(raw["item"]))
    if info["grille"]:
        items = [i for i in info["items"] if i in items] + [i for i in items if i not in info["items"]]
    for item in items:
        part = raw[raw["item"] == item]
        base = int(part["base"].iloc[0])
        motif = (MOTIF_EFFECTIF if base < seuil
                 else motif_masque(par_type.get(item, {}), tuple(types), seuil))
        if motif:
            rows.append({"item": item, "reponse": None, "n": None, "pct": None, "base": None, "masque": True,
                         "motif": motif})
            continue
        counts = _ordonner(part, info)
        pcts = pourcentages([n for _, n in counts], base)
        rows += [{"item": item, "reponse": rep, "n": n, "pct": p, "base": base, "masque": False, "motif": None}
                 for (rep, n), p in zip(counts, pcts)]
    df = pd.DataFrame(rows, columns=["item", "reponse", "n", "pct", "base", "masque", "motif"])
    df["n"] = df["n"].astype("Int64")
    df["base"] = df["base"].astype("Int64")
    df["pct"] = df["pct"].astype("Float64")
    return df


def _ordonner(part: pd.DataFrame, info: dict) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    if info["forme"] == ECHELLE:
        canon = _NIVEAUX[info["echelle"].code]
        for rep, n in zip(part["reponse"], part["n"]):
            key = canon.get(_norm(rep), rep)
            counts[key] = counts.get(key, 0) + int(n)
        return [(lvl, counts.get(lvl, 0)) for lvl in info["echelle"].niveaux]
    if info["forme"] == NOMBRE:
        values: dict[float, int] = {}
        for rep, n in zip(part["reponse"], part["n"]):
            v = nombre(rep)
            if v is None:  # not a number: nothing to count
                continue
            values[v] = values.get(v, 0) + int(n)
        return [(f"{v:g}", n) for v, n in sorted(values.items())]
    for rep, n in zip(part["reponse"], part["n"]):
        counts[rep] = counts.get(rep, 0) + int(n)
    return sorted(counts.items(), key=lambda kv: (-kv[1], _norm(kv[0])))


def comparer(con: duckdb.DuckDBPyConnection, enquetes_: tuple[str, ...], question: str,
             types: tuple[str, ...] = (), seuil: int | None = None) -> pd.DataFrame:
    """`resultats` of the same question in several waves, with `enquete` and `annee` columns (waves lacking
    the question are left out)."""
    frames = []
    for code in enquetes_:
        try:
            res = resultats(con, code, question, types, seuil)
        except EnqueteErreur:
            continue
        annee = con.execute("SELECT min(annee) FROM enquete_reponse WHERE enquete = ?", [code]).fetchall()[0][0]
        frames.append(res.assign(enquete=code, annee=int(annee)))
    if not frames:
        return pd.DataFrame(columns=["item", "reponse", "n", "pct", "base", "masque", "motif", "enquete", "annee"])
    out = pd.concat(frames, ignore_index=True)
    # Each item's waves side by side, oldest first.
    rank = {item: i for i, item in enumerate(dict.fromkeys(out["item"]))}
    return (out.assign(_rang=out["item"].map(rank)).sort_values(["_rang", "annee"], kind="stable")
            .drop(columns="_rang").reset_index(drop=True))


def statistiques(con: duckdb.DuckDBPyConnection, enquete: str, question: str, types: tuple[str, ...] = (),
                 seuil: int | None = None) -> pd.DataFrame:
    """Numeric question: per item, `n, minimum, q1, mediane, moyenne, q3, maximum` (None when masked)."""
    seuil = seuil_anonymat() if seuil is None else seuil
    question_info(con, enquete, question)
    sql = Sql()
    sql.add("enquete = ?", enquete)
    sql.add("question = ?", question)
    _types_sql(sql, tuple(types))
    value = ("try_cast(replace(regexp_replace(reponse, '[\\s\\x{00a0}\\x{202f}]', '', 'g'), ',', '.') "
             "AS DOUBLE)")
    df = con.execute(
        f"WITH r AS (SELECT coalesce(nullif(trim(item), ''), '') AS item, {value} AS v, rowid AS rid "
        f"FROM enquete_reponse {sql.where()}) SELECT item, count(v) AS n, min(v) AS minimum, "
        "quantile_cont(v, 0.25) AS q1, median(v) AS mediane, avg(v) AS moyenne, quantile_cont(v, 0.75) AS q3, "
        "max(v) AS maximum FROM r GROUP BY item ORDER BY min(rid)", sql.params).df()
    par_type = _bases_par_type(con, enquete, question)
    df["masque"] = [bool(n < seuil) or not selection_visible(par_type.get(it, {}), tuple(types), seuil)
                    for it, n in zip(df["item"], df["n"])]
    stats = ["minimum", "q1", "mediane", "moyenne", "q3", "maximum"]
    df[stats] = df[stats].astype("Float64")
    df.loc[df["masque"], stats] = pd.NA
    df["n"] = df["n"].astype("Int64")
    df.loc[df["masque"], "n"] = pd.NA
    return df


def comparer_statistiques(con: duckdb.DuckDBPyConnection, enquetes_: tuple[str, ...], question: str,
                          types: tuple[str, ...] = (), seuil: int | None = None) -> pd.DataFrame:
    """`statistiques` of the same numeric question in several waves, with `enquete` and `annee` columns."""
    frames = []
    for code in enquetes_:
        try:
            stats = statistiques(con, code, question, types, seuil)
        except EnqueteErreur:
            continue
        annee = con.execute("SELECT min(annee) FROM enquete_reponse WHERE enquete = ?", [code]).fetchall()[0][0]
        frames.append(stats.assign(enquete=code, annee=int(annee)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def textes_libres(con: duckdb.DuckDBPyConnection, enquete: str, question: str, types: tuple[str, ...] = (),
                  recherche: str = "", seuil: int | None = None) -> dict:
    """Free-text answers (sorted, without respondent ids) matching `recherche` (case and accents ignored).

    `masque` is True — and `reponses` empty — when fewer than `seuil` respondents of the selected group answered
    this question, or when the selection would let a masked type be recomputed (`selection_visible`).
    Returns {"masque", "nb_groupe", "nb_total", "reponses": DataFrame[reponse]}; `nb_groupe` counts the
    respondents of the selection who answered the question.
    """
    seuil = seuil_anonymat() if seuil is None else seuil
    question_info(con, enquete, question)
    par_type = _bases_par_type(con, enquete, question, par_item=False).get("", {})
    groupe = sum(n for t, n in par_type.items() if not types or t in types)
    empty = pd.DataFrame({"reponse": pd.Series([], dtype="object")})
    motif = MOTIF_EFFECTIF if groupe < seuil else motif_masque(par_type, tuple(types), seuil)
    if motif:
        return {"masque": True, "motif": motif, "nb_groupe": groupe, "nb_total": None, "reponses": empty}
    sql = Sql()
    sql.add("enquete = ?", enquete)
    sql.add("question = ?", question)
    _types_sql(sql, tuple(types))
    total = int(con.execute(f"SELECT count(*) FROM enquete_reponse {sql.where()}", sql.params).fetchall()[0][0])
    if recherche.strip():
        sql.add("contains(strip_accents(lower(reponse)), strip_accents(lower(?)))", recherche.strip())
    df = con.execute(f"SELECT trim(reponse) AS reponse FROM enquete_reponse {sql.where()} "
                     "ORDER BY strip_accents(lower(reponse))", sql.params).df()
    return {"masque": False, "motif": None, "nb_groupe": groupe, "nb_total": total, "reponses": df}


def tableau(res: pd.DataFrame, niveaux: list[str] | tuple[str, ...], seuil: int, libelle_item: str = "Item",
            texte: bool = False) -> pd.DataFrame:
    """An item × answer table of percentages from `resultats` (one row per item, or per item and year when
    an `annee` column is present) with the number of respondents; a masked row says why ("moins de N réponses", or masked so that it cannot be
    deduced from the other groups).

    With `texte`, cells are French strings (`12,5 %`) for display; otherwise numbers (masked cells empty).
    """
    keys = ["item", "annee"] if "annee" in res.columns and res["annee"].nunique() > 1 else ["item"]
    rows = []
    for key, part in res.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = {libelle_item: key[0] or "Ensemble"}
        if len(keys) > 1:
            row["Année"] = str(key[1])
        masked = bool(part["masque"].iloc[0])
        pct = dict(zip(part["reponse"], part["pct"]))
        for lvl in niveaux:
            value = None if masked else float(pct.get(lvl, 0.0) if pd.notna(pct.get(lvl, 0.0)) else 0.0)
            row[lvl] = ("" if value is None else fmt.pourcent(value, 1)) if texte else value
        base = part["base"].iloc[0]
        motif = part["motif"].iloc[0] if "motif" in part.columns else MOTIF_EFFECTIF
        row["Réponses"] = message_anonymat(seuil, motif) if masked else (fmt.nombre(int(base)) if texte else int(base))
        rows.append(row)
    return pd.DataFrame(rows)
