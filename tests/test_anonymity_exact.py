"""The anonymity rule of `cdv_core.surveys` on a survey written here by hand (no demo database): fast enough for
a mutation run.

The survey `ANSWERS` has 6 communes (C1–C6), 3 conseils citoyens (K1–K3) and 6 partenaires (P1–P6). With the
threshold 5, the masked types of a question answered by all of them are worked out by hand from the rule
(module docstring of `surveys`): the conseils citoyens (3 < 5), then — complementary suppression — the
next-smallest type until the masked ones total 5: communes and partenaires both have 6, the tie goes to the
first code, so {conseil_citoyen, commune} are masked and only selections holding both or neither are shown.
Counts and percentages are computed with pandas / `decimal` from `ANSWERS`, not by the module.
"""

from __future__ import annotations

import unicodedata
from decimal import ROUND_HALF_UP, Decimal

import duckdb
import pandas as pd
import pytest

from cdv_core import schema, surveys
from cdv_core.surveys import MOTIF_DEDUCTION, MOTIF_EFFECTIF

CODE = "S2024-TEST"
COMMUNES = [f"C{i}" for i in range(1, 7)]
CONSEILS = ["K1", "K2", "K3"]
PARTENAIRES = [f"P{i}" for i in range(1, 7)]
TYPE = {**{r: "commune" for r in COMMUNES}, **{r: "conseil_citoyen" for r in CONSEILS},
        **{r: "partenaire" for r in PARTENAIRES}}
EVERYONE = COMMUNES + CONSEILS + PARTENAIRES

AVIS = dict(zip(EVERYONE, "Oui Oui Oui Oui Non Non Oui Non Non Oui Oui Oui Oui Oui Non".split()))
GRILLE = {
    "i1": dict(zip(EVERYONE, "A A B A B A A B B A A A B B A".split())),
    "i2": {"C1": "A", "C2": "B", "C3": "A", "C4": "A", "P1": "B"},   # 5 respondents: exactly the threshold
    "i3": {"C1": "A", "C2": "A", "C3": "B", "C4": "B"},              # 4: below it
}
ETP = dict(zip(EVERYONE, "1 0,5 2 1 3 4 2 5 1 0.5 2 2 6 1 3".split()))
# 6 communes and 6 partenaires answered, but 2 partenaires did not give a number.
ETP_NSP = {**dict(zip(COMMUNES, "1 2 3 4 5 6".split())), **dict(zip(PARTENAIRES, ["1", "2", "NSP", "ne sait pas",
                                                                                  "3", "4"]))}
IDEES = [("C1", "Équipe de médiation renforcée"), ("C2", "ateliers pour les habitants"),
         ("C3", "Plus d'habitants au COPIL"), ("K1", "éclairage public"), ("K2", "Zones de jeux"),
         ("P1", "Bus de nuit"), ("P1", "des locaux"), ("P2", "Un local associatif"), ("P3", "HABITANTS consultés"),
         ("P4", "Espace jeunes")]
# Free text asked per item (a grid of free text): its respondents are counted over the whole question.
IDEES_GRILLE = [("C1", "court", "Réunir les associations"), ("C2", "court", "Un numéro unique"),
                ("C3", "court", "Ouvrir le samedi"), ("K1", "court", "Des bancs"), ("P1", "court", "Former les agents"),
                ("P2", "court", "Mieux informer"), ("C1", "long", "Rénover le centre social"),
                ("P3", "long", "Créer une maison de santé")]


def _rows() -> list[tuple]:
    rows = []
    for r, v in AVIS.items():
        rows.append((r, "avis", "Êtes-vous satisfait ?", None, v))
    for item, answers in GRILLE.items():
        for r, v in answers.items():
            rows.append((r, "grille", "Grille", item, v))
    for r, v in ETP.items():
        rows.append((r, "etp", "Nombre d'ETP", None, v))
    for r, v in ETP_NSP.items():
        rows.append((r, "etp_nsp", "Nombre de bénévoles", None, v))
    for r, v in IDEES:
        rows.append((r, "idees", "Vos idées", None, v))
    for r, item, v in IDEES_GRILLE:
        rows.append((r, "idees_grille", "Vos idées selon l'échéance", item, v))
    return [(CODE, 2024, r, TYPE[r], q, lib, item, v) for r, q, lib, item, v in rows]


ROWS = pd.DataFrame(_rows(), columns=["enquete", "annee", "repondant", "type_repondant", "question",
                                      "libelle_question", "item", "reponse"])


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect(":memory:")
    schema.create_schema(c)
    c.executemany("INSERT INTO enquete_reponse VALUES (?, ?, ?, ?, ?, ?, ?, ?)", _rows())
    yield c
    c.close()


@pytest.fixture(autouse=True)
def _default_threshold(monkeypatch):
    monkeypatch.delenv(surveys.ENV_SEUIL, raising=False)


def _pct(n: int, base: int) -> float:
    return float((Decimal(100 * n) / Decimal(base)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _counts(question: str, item: str | None, types: tuple[str, ...]) -> tuple[dict[str, int], int]:
    part = ROWS[(ROWS["question"] == question) & (ROWS["item"].fillna("") == (item or ""))]
    if types:
        part = part[part["type_repondant"].isin(types)]
    return part.groupby("reponse")["repondant"].nunique().to_dict(), part["repondant"].nunique()


def _shown(res: pd.DataFrame, item: str = "") -> dict:
    part = res[res["item"] == item]
    assert res["masque"].dtype == bool
    assert (res["n"].dtype, res["pct"].dtype, res["base"].dtype) == ("Int64", "Float64", "Int64")
    assert not part["masque"].any() and part["motif"].isna().all()
    return {r: (int(n), float(p), int(b)) for r, n, p, b in zip(part["reponse"], part["n"], part["pct"],
                                                                    part["base"])}


def _expected(question: str, item: str | None, types: tuple[str, ...]) -> dict:
    counts, base = _counts(question, item, types)
    return {r: (n, _pct(n, base), base) for r, n in counts.items()}


def _masked(res: pd.DataFrame, item: str = "") -> str:
    part = res[res["item"] == item]
    assert len(part) == 1, part
    assert res["masque"].dtype == bool
    row = part.iloc[0]
    assert bool(row["masque"]) is True
    assert pd.isna(row["reponse"]) and pd.isna(row["n"]) and pd.isna(row["pct"]) and pd.isna(row["base"])
    return row["motif"]


# --- the threshold ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    (None, 5), ("", 5), ("3", 3), (" 7 ", 7), ("1", 1), ("0", 5), ("-2", 5), ("2.5", 5), ("abc", 5), ("12", 12),
])
def test_threshold_from_the_environment(monkeypatch, raw, expected):
    if raw is not None:
        monkeypatch.setenv("CDV_SEUIL_ANONYMAT", raw)
    assert surveys.seuil_anonymat() == expected


def test_default_threshold_is_five():
    assert surveys.SEUIL_ANONYMAT == 5 and surveys.ENV_SEUIL == "CDV_SEUIL_ANONYMAT"


# --- which types are masked, which selections are shown ---------------------------------------------------------

@pytest.mark.parametrize(("bases", "seuil", "expected"), [
    ({}, 5, set()),
    ({"a": 10, "b": 7}, 5, set()),
    ({"a": 5, "b": 9}, 5, set()),                       # exactly the threshold is enough
    ({"a": 3, "b": 10, "c": 7}, 5, {"a", "c"}),         # a, then the next-smallest
    ({"a": 3, "b": 2, "c": 10}, 5, {"a", "b"}),         # together they reach 5: nothing more
    ({"a": 4, "b": 5}, 5, {"a", "b"}),
    ({"a": 0, "b": 3, "c": 9}, 5, {"b", "c"}),          # nobody of type a: nothing to mask there
    ({"a": 1, "b": 20, "c": 6, "d": 8}, 5, {"a", "c"}),
    ({"a": 1, "b": 2}, 5, {"a", "b"}),                  # not enough even together: both stay masked
    ({"a": 1, "c": 6, "b": 6}, 5, {"a", "b"}),          # a tie goes to the first code
    ({"a": 1, "b": 1, "c": 1, "d": 9, "e": 30}, 5, {"a", "b", "c", "d"}),
    ({"a": 6, "b": 6}, 7, {"a", "b"}),
    ({"a": 2, "b": 2}, 1, set()),
])
def test_masques(bases, seuil, expected):
    assert surveys.masques(bases, seuil) == expected


BASES = {"commune": 6, "conseil_citoyen": 3, "partenaire": 6}


@pytest.mark.parametrize(("types", "motif"), [
    ((), None),
    (("commune", "conseil_citoyen", "partenaire"), None),
    (("partenaire",), None),
    (("commune", "conseil_citoyen"), None),
    (("commune",), MOTIF_DEDUCTION),
    (("commune", "partenaire"), MOTIF_DEDUCTION),
    (("conseil_citoyen", "partenaire"), MOTIF_DEDUCTION),
    (("conseil_citoyen",), MOTIF_EFFECTIF),
    (("habitant",), MOTIF_EFFECTIF),                  # a type nobody of which answered
    (("habitant", "partenaire"), None),
])
def test_motif_masque_and_selection_visible(types, motif):
    assert surveys.masques(BASES, 5) == {"conseil_citoyen", "commune"}
    assert surveys.motif_masque(BASES, types, 5) == motif
    assert surveys.selection_visible(BASES, types, 5) is (motif is None)


def test_selection_at_exactly_the_threshold_is_shown():
    assert surveys.selection_visible({"a": 5}, (), 5) is True
    assert surveys.motif_masque({"a": 5}, (), 5) is None
    assert surveys.selection_visible({"a": 4}, (), 5) is False
    assert surveys.motif_masque({"a": 4}, (), 5) == MOTIF_EFFECTIF
    assert surveys.motif_masque({"a": 4, "b": 0}, ("a", "b"), 5) == MOTIF_EFFECTIF
    assert surveys.motif_masque({}, (), 1) == MOTIF_EFFECTIF


def test_motif_commun():
    def frame(masque, motif):
        return pd.DataFrame({"masque": masque, "motif": motif})

    assert surveys.motif_commun(frame([True, True], [MOTIF_EFFECTIF, MOTIF_EFFECTIF])) == MOTIF_EFFECTIF
    assert surveys.motif_commun(frame([True, False], [MOTIF_DEDUCTION, None])) == MOTIF_DEDUCTION
    assert surveys.motif_commun(frame([True, True], [MOTIF_DEDUCTION, MOTIF_EFFECTIF])) is None
    assert surveys.motif_commun(frame([False, False], [None, None])) is None
    # The reason of an unmasked row does not count.
    assert surveys.motif_commun(frame([True, False], [MOTIF_EFFECTIF, MOTIF_DEDUCTION])) == MOTIF_EFFECTIF
    assert surveys.motif_commun(pd.DataFrame({"masque": [True]})) is None


# --- results of a question ----------------------------------------------------------------------------------------

def test_bases_par_type(con):
    assert surveys._bases_par_type(con, CODE, "avis") == {"": BASES}
    assert surveys._bases_par_type(con, CODE, "grille") == {
        "i1": BASES, "i2": {"commune": 4, "partenaire": 1}, "i3": {"commune": 4}}
    assert surveys._bases_par_type(con, CODE, "grille", par_item=False) == {"": BASES}
    assert surveys._bases_par_type(con, CODE, "idees", par_item=False) == {
        "": {"commune": 3, "conseil_citoyen": 2, "partenaire": 4}}


@pytest.mark.parametrize("types", [(), ("partenaire",), ("commune", "conseil_citoyen"),
                                   ("commune", "conseil_citoyen", "partenaire")])
def test_shown_selection_has_its_exact_counts(con, types):
    res = surveys.resultats(con, CODE, "avis", types, seuil=5)
    assert _shown(res) == _expected("avis", None, types)
    # Single choice: most frequent first.
    assert list(res["n"]) == sorted(res["n"], reverse=True)
    assert list(res.columns) == ["item", "reponse", "n", "pct", "base", "masque", "motif"]


@pytest.mark.parametrize(("types", "motif"), [
    (("commune",), MOTIF_DEDUCTION), (("commune", "partenaire"), MOTIF_DEDUCTION),
    (("conseil_citoyen",), MOTIF_EFFECTIF), (("habitant",), None),
])
def test_masked_selection_gives_no_figure(con, types, motif):
    res = surveys.resultats(con, CODE, "avis", types, seuil=5)
    if motif is None:  # nobody of that type: no row at all
        assert res.empty
    else:
        assert _masked(res) == motif
        assert surveys.motif_commun(res) == motif


def test_threshold_seven_from_the_environment(con, monkeypatch):
    monkeypatch.setenv("CDV_SEUIL_ANONYMAT", "7")
    # Every type has fewer than 7: all are masked, only all types together are shown.
    assert _masked(surveys.resultats(con, CODE, "avis", ("partenaire",))) == MOTIF_EFFECTIF
    assert _masked(surveys.resultats(con, CODE, "avis", ("commune", "partenaire"))) == MOTIF_DEDUCTION
    assert _shown(surveys.resultats(con, CODE, "avis")) == _expected("avis", None, ())
    # The argument wins over the environment.
    assert _shown(surveys.resultats(con, CODE, "avis", ("partenaire",), seuil=6)) \
        == _expected("avis", None, ("partenaire",))


def test_grid_each_item_on_its_own_respondents(con):
    res = surveys.resultats(con, CODE, "grille", seuil=5)
    assert list(dict.fromkeys(res["item"])) == ["i1", "i2", "i3"]
    assert _shown(res, "i1") == _expected("grille", "i1", ())
    assert _shown(res, "i2") == _expected("grille", "i2", ())   # 5 respondents: shown
    assert _masked(res, "i3") == MOTIF_EFFECTIF                  # 4: masked

    res = surveys.resultats(con, CODE, "grille", ("partenaire",), seuil=5)
    assert list(dict.fromkeys(res["item"])) == ["i1", "i2"]      # no partenaire answered i3
    assert _shown(res, "i1") == _expected("grille", "i1", ("partenaire",))
    assert _masked(res, "i2") == MOTIF_EFFECTIF

    res = surveys.resultats(con, CODE, "grille", ("commune",), seuil=5)
    assert _masked(res, "i1") == MOTIF_DEDUCTION
    assert _masked(res, "i2") == MOTIF_EFFECTIF                  # 4 communes
    assert _masked(res, "i3") == MOTIF_EFFECTIF


def test_grid_item_shown_for_one_selection_masked_by_deduction_for_another(con):
    # i2: 4 communes and 1 partenaire, both masked (4 < 5, 1 < 5): all types together are shown (5)...
    assert _shown(surveys.resultats(con, CODE, "grille", ("commune", "partenaire"), seuil=5), "i2") \
        == _expected("grille", "i2", ())
    # ...at threshold 4, the communes alone are enough, the partenaire is masked with them.
    res = surveys.resultats(con, CODE, "grille", ("commune",), seuil=4)
    assert _masked(res, "i2") == MOTIF_DEDUCTION
    assert _shown(res, "i3") == _expected("grille", "i3", ("commune",))


# --- numbers --------------------------------------------------------------------------------------------------

def _stats(types: tuple[str, ...], question: str = "etp") -> dict:
    part = ROWS[ROWS["question"] == question]
    if types:
        part = part[part["type_repondant"].isin(types)]
    v = pd.to_numeric(part["reponse"].str.replace(",", "."), errors="coerce").dropna()
    return {"n": len(v), "minimum": v.min(), "q1": v.quantile(0.25), "mediane": v.median(), "moyenne": v.mean(),
            "q3": v.quantile(0.75), "maximum": v.max()}


STATS = ["n", "minimum", "q1", "mediane", "moyenne", "q3", "maximum"]


@pytest.mark.parametrize(("types", "seuil", "masque"), [
    ((), 5, False), (("partenaire",), 5, False), (("partenaire",), 6, False), (("commune", "conseil_citoyen"), 5, False),
    (("commune",), 5, True), (("conseil_citoyen",), 5, True), (("partenaire",), 7, True),
    (("commune", "partenaire"), 5, True),
])
def test_statistiques(con, types, seuil, masque):
    df = surveys.statistiques(con, CODE, "etp", types, seuil=seuil)
    assert list(df.columns) == ["item", *STATS, "masque"]
    assert df["n"].dtype == "Int64" and all(df[c].dtype == "Float64" for c in STATS[1:])
    assert list(df["item"]) == [""]
    row = df.iloc[0]
    assert bool(row["masque"]) is masque
    if masque:
        assert all(pd.isna(row[c]) for c in STATS)
    else:
        expected = _stats(types)
        assert int(row["n"]) == expected["n"]
        for c in STATS[1:]:
            assert float(row[c]) == pytest.approx(expected[c]), c


def test_statistiques_count_the_numbers_given(con):
    # 6 partenaires answered, 4 with a number: fewer than 5 figures, masked; all 10 numbers together are shown.
    df = surveys.statistiques(con, CODE, "etp_nsp", ("partenaire",), seuil=5)
    assert bool(df["masque"].iloc[0]) is True and pd.isna(df["n"].iloc[0]) and pd.isna(df["moyenne"].iloc[0])
    df = surveys.statistiques(con, CODE, "etp_nsp", (), seuil=5)
    expected = _stats((), "etp_nsp")
    assert bool(df["masque"].iloc[0]) is False and int(df["n"].iloc[0]) == expected["n"] == 10
    for c in STATS[1:]:
        assert float(df[c].iloc[0]) == pytest.approx(expected[c]), c


def test_statistiques_threshold_from_the_environment(con, monkeypatch):
    monkeypatch.setenv("CDV_SEUIL_ANONYMAT", "7")
    assert bool(surveys.statistiques(con, CODE, "etp", ("partenaire",))["masque"].iloc[0]) is True
    assert bool(surveys.statistiques(con, CODE, "etp", ())["masque"].iloc[0]) is False


# --- free text ---------------------------------------------------------------------------------------------

def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def _texts(types: tuple[str, ...], search: str = "") -> list[str]:
    texts = [t for r, t in IDEES if not types or TYPE[r] in types]
    return sorted((t for t in texts if _fold(search.strip()) in _fold(t)), key=_fold)


@pytest.mark.parametrize(("types", "motif", "groupe"), [
    ((), None, 9),
    (("commune", "conseil_citoyen", "partenaire"), None, 9),
    (("commune", "partenaire"), MOTIF_DEDUCTION, 7),   # every type has fewer than 5: only all of them together
    (("conseil_citoyen", "partenaire"), MOTIF_DEDUCTION, 6),
    (("partenaire",), MOTIF_EFFECTIF, 4),
    (("commune",), MOTIF_EFFECTIF, 3),
    (("habitant",), MOTIF_EFFECTIF, 0),
])
def test_textes_libres_masking(con, types, motif, groupe):
    out = surveys.textes_libres(con, CODE, "idees", types, seuil=5)
    assert out["masque"] is (motif is not None)
    assert out["motif"] == motif
    assert out["nb_groupe"] == groupe
    if motif:
        assert out["nb_total"] is None and out["reponses"].empty and list(out["reponses"].columns) == ["reponse"]
    else:
        assert out["nb_total"] == len(_texts(types)) == 10  # P1 wrote two answers
        assert list(out["reponses"]["reponse"]) == _texts(types)


@pytest.mark.parametrize("search", ["habitant", "  HABITANTS ", "equipe", "LOCA", "zzz"])
def test_textes_libres_search_ignores_case_accents_and_spaces(con, search):
    out = surveys.textes_libres(con, CODE, "idees", recherche=search, seuil=5)
    assert list(out["reponses"]["reponse"]) == _texts((), search)
    assert out["nb_total"] == 10  # the total does not depend on the search


def test_textes_libres_of_a_grid_count_the_respondents_of_the_whole_question(con):
    # 7 respondents in all (3 communes, 1 conseil citoyen, 3 partenaires): no item has 5, the question has.
    out = surveys.textes_libres(con, CODE, "idees_grille", seuil=5)
    assert out["masque"] is False and out["nb_groupe"] == 7 and out["nb_total"] == 8
    assert list(out["reponses"]["reponse"]) == sorted((t for _, _, t in IDEES_GRILLE), key=_fold)
    out = surveys.textes_libres(con, CODE, "idees_grille", ("commune", "partenaire"), seuil=5)
    assert out["masque"] is True and out["motif"] == MOTIF_DEDUCTION and out["nb_groupe"] == 6


def test_textes_libres_threshold_from_the_environment(con, monkeypatch):
    assert surveys.textes_libres(con, CODE, "idees")["masque"] is False
    monkeypatch.setenv("CDV_SEUIL_ANONYMAT", "10")
    out = surveys.textes_libres(con, CODE, "idees")
    assert out["masque"] is True and out["motif"] == MOTIF_EFFECTIF and out["nb_groupe"] == 9
    assert surveys.textes_libres(con, CODE, "idees", seuil=9)["masque"] is False  # exactly the threshold


def test_no_respondent_id_leaves_the_module(con):
    ids = set(EVERYONE)
    frames = [surveys.resultats(con, CODE, q, seuil=5) for q in ("avis", "grille")]
    frames.append(surveys.statistiques(con, CODE, "etp", seuil=5))
    frames.append(surveys.textes_libres(con, CODE, "idees", seuil=5)["reponses"])
    for df in frames:
        assert not ids & set(df.astype(str).to_numpy().ravel())
