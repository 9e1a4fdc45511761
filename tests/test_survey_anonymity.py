"""Issue 15: anonymity that survives arithmetic.

The demo communes survey (EVAL2022-COMMUNES, 19 communes) gets 3 conseils citoyens among its respondents, as in the
adversarial review: « Tous » minus « Communes » gave their exact answers and free texts. Here every figure
that the core functions (what the page, its downloads and the slides draw), the CLI and the page show is
collected for every selection of respondent types, and no difference of two shown figures may fall on a group
of fewer than 5 respondents. Expected group sizes are counted with pandas straight from the CSV files.
"""

from __future__ import annotations

import csv
import io
import itertools
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cdv_core import importer, schema, surveys

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
CODE = "EVAL2022-COMMUNES"
SEUIL = 5
CC_TEXTS = ["Le conseil citoyen de la cité Foch demande un local", "Nous voulons être écoutés au COPIL",
            "Plus de moyens pour la médiation de nuit"]


def _survey_with_conseils() -> tuple[bytes, pd.DataFrame]:
    """The demo communes survey plus 3 conseils citoyens answering every question (free text included)."""
    demo = pd.read_csv(DEMO / "enquete_communes.csv", dtype=str, keep_default_na=False)
    extra = []
    for i, rid in enumerate(("CC1", "CC2", "CC3")):
        first = demo[demo["repondant"] == demo["repondant"].iloc[0]]
        for row in first.to_dict("records"):
            row = dict(row, repondant=rid, type_repondant="conseil_citoyen")
            if row["question"] == "propositions":
                row["reponse"] = CC_TEXTS[i]
            extra.append(row)
        if "propositions" not in set(first["question"]):
            base = demo[demo["question"] == "propositions"].iloc[0].to_dict()
            extra.append(dict(base, repondant=rid, type_repondant="conseil_citoyen", reponse=CC_TEXTS[i]))
    full = pd.concat([demo, pd.DataFrame(extra)], ignore_index=True)
    buf = io.StringIO()
    full.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue().encode("utf-8"), full


@pytest.fixture
def attacked(demo_db):
    data, full = _survey_with_conseils()
    con = schema.connect(demo_db)
    try:
        importer.import_bytes(con, data, "enquete_communes_cc.csv")
    finally:
        con.close()
    return demo_db, full


def _selections(types: list[str]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [()]
    for k in range(1, len(types) + 1):
        out += list(itertools.combinations(types, k))
    return out


def _sizes(full: pd.DataFrame, question: str, item: str, types: tuple[str, ...]) -> int:
    """Respondents of `types` (all if empty) who answered `question` (and `item`), counted with pandas."""
    part = full[(full["question"] == question) & (full["item"].fillna("") == item)]
    if types:
        part = part[part["type_repondant"].isin(types)]
    return part["repondant"].nunique()


def test_no_difference_of_shown_figures_isolates_a_small_group(attacked, monkeypatch):
    monkeypatch.delenv(surveys.ENV_SEUIL, raising=False)
    db, full = attacked
    types = sorted(full["type_repondant"].unique())
    assert types == ["commune", "conseil_citoyen"]
    con = schema.connect(db, read_only=True)
    try:
        questions = surveys.questions(con, CODE)
        checked = 0
        for q in questions.itertuples(index=False):
            if q.forme == surveys.TEXTE:
                continue
            shown: dict[str, list[tuple[str, ...]]] = {}
            for sel in _selections(types):
                res = surveys.resultats(con, CODE, q.question, sel, SEUIL)
                for item, part in res.groupby("item", sort=False):
                    if not part["masque"].iloc[0]:
                        shown.setdefault(item, []).append(sel)
                if q.forme == surveys.NOMBRE:
                    stats = surveys.statistiques(con, CODE, q.question, sel, SEUIL)
                    for item, masked in zip(stats["item"], stats["masque"]):
                        assert masked == (sel not in shown.get(item, [])), (q.question, item, sel)
            for item, sels in shown.items():
                for a, b in itertools.permutations(sels, 2):
                    sa = set(a or types)
                    sb = set(b or types)
                    if sa < sb:
                        rest = tuple(sorted(sb - sa))
                        assert _sizes(full, q.question, item, rest) >= SEUIL, (q.question, item, a, b)
                        checked += 1
            # the attack of the review: « Tous » is shown, so « Communes » alone is not
            assert ("commune",) not in shown.get("" if not q.grille else q.items[0], []), q.question
        # the 3 conseils citoyens are never shown apart
        for q in questions.itertuples(index=False):
            if q.forme != surveys.TEXTE:
                res = surveys.resultats(con, CODE, q.question, ("conseil_citoyen",), SEUIL)
                assert res["masque"].all()
    finally:
        con.close()



def test_free_text_of_the_small_group_cannot_be_isolated(attacked, monkeypatch):
    monkeypatch.delenv(surveys.ENV_SEUIL, raising=False)
    db, full = attacked
    con = schema.connect(db, read_only=True)
    try:
        tous = surveys.textes_libres(con, CODE, "propositions", (), seuil=SEUIL)
        communes = surveys.textes_libres(con, CODE, "propositions", ("commune",), seuil=SEUIL)
        conseils = surveys.textes_libres(con, CODE, "propositions", ("conseil_citoyen",), seuil=SEUIL)
    finally:
        con.close()
    assert not tous["masque"] and set(CC_TEXTS) <= set(tous["reponses"]["reponse"])
    assert tous["nb_groupe"] == _sizes(full, "propositions", "", ())
    # the communes' own texts alone would let « Tous » minus them give the conseils' texts
    assert communes["masque"] and communes["reponses"].empty
    assert conseils["masque"] and conseils["reponses"].empty


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cdv_core", "survey", "--db", str(db), "--enquete", CODE, *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_cli_does_not_allow_the_subtraction(attacked, monkeypatch):
    monkeypatch.delenv(surveys.ENV_SEUIL, raising=False)
    db, full = attacked
    tous = _cli(db, "--question", "elu_delegue")
    communes = _cli(db, "--question", "elu_delegue", "--type-repondant", "commune")
    assert tous.returncode == 0 and communes.returncode == 0
    rows_tous = list(csv.reader(io.StringIO(tous.stdout)))[1:]
    expected = full[full["question"] == "elu_delegue"]["reponse"].value_counts()
    assert {r[1]: int(r[2]) for r in rows_tous} == expected.to_dict()
    assert list(csv.reader(io.StringIO(communes.stdout)))[1:] == []  # nothing to subtract
    assert "masqué (anonymat)" in communes.stderr


def test_page_does_not_allow_the_subtraction(attacked, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv(surveys.ENV_SEUIL, raising=False)
    db, _ = attacked
    monkeypatch.setenv("CDV_DB", str(db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/enquetes.py")
    at.run()
    at.selectbox(key="enq_code").set_value(CODE).run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    assert all(t in text for t in CC_TEXTS)  # « Tous »: the texts, mixed with the communes'
    at.multiselect(key=f"enq_types_{CODE}").set_value(["commune"]).run()
    assert not at.exception, at.exception
    text = " ".join([m.value for m in at.markdown] + [i.value for i in at.info])
    assert not any(t in text for t in CC_TEXTS)
    # no figure that « Tous » minus it would reveal: no chart, no table
    assert len(at.dataframe) == 0 and len(at.get("vega_lite_chart")) == 0 and len(at.table) == 0
    assert "préserver l'anonymat" in text


def test_free_text_needs_the_threshold_of_the_question_not_of_the_survey(demo_db, monkeypatch):
    """A survey of 9 respondents, one question answered by 3: its free text is masked."""
    monkeypatch.delenv(surveys.ENV_SEUIL, raising=False)
    rows = [["enquete", "annee", "repondant", "type_repondant", "question", "libelle_question", "item", "reponse"]]
    for i in range(1, 10):
        rows.append(["T-Q3", "2024", f"R{i}", "commune", "elu", "Élu délégué ?", "", "Oui"])
    texts = ["Un local pour le conseil citoyen de la cité", "Des permanences le samedi matin en mairie",
             "Plus de moyens humains pour l'équipe projet"]
    for i, t in enumerate(texts, start=1):
        rows.append(["T-Q3", "2024", f"R{i}", "commune", "idee", "Vos idées", "", t])
    buf = io.StringIO()
    csv.writer(buf, delimiter=";").writerows(rows)
    con = schema.connect(demo_db)
    try:
        importer.import_bytes(con, buf.getvalue().encode("utf-8"), "q3.csv")
        assert surveys.nb_repondants(con, "T-Q3") == 9
        out = surveys.textes_libres(con, "T-Q3", "idee", seuil=SEUIL)
    finally:
        con.close()
    assert out["masque"] and out["reponses"].empty and out["nb_groupe"] == 3
