"""Issue 15: a survey result masked by complementary suppression says so truly.

With 19 communes and 3 conseils citoyens (the attack of the review, fixture of test_survey_anonymity), the
communes alone are masked although they are many more than 5: their result would let « Tous » minus them give the
conseils' answers. The page, the table (its downloads), the chart and the CLI must not say "moins de 5 réponses"
for them, but that the result is masked so that another group cannot be deduced. The conseils citoyens alone are
masked because they are fewer than 5, and say so. Group sizes are counted with pandas from the CSV.
"""

from __future__ import annotations

import json

import pytest

from cdv_core import schema, survey_charts, surveys
from cdv_core.filters import Filtres
from cdv_core.sections import build
from tests.test_survey_anonymity import CODE, ROOT, SEUIL, _cli, _sizes
from tests.test_survey_anonymity import attacked as attacked  # noqa: F401, F811  (the fixture)

GROUP_MSG = "moins de 5 réponses"


@pytest.fixture
def con_attacked(attacked, monkeypatch):
    monkeypatch.delenv(surveys.ENV_SEUIL, raising=False)
    db, full = attacked
    con = schema.connect(db, read_only=True)
    yield con, full
    con.close()


def _scale_question(con) -> tuple[str, str]:
    """A question with a scale (not free text, not numbers), and its first item ('' without items)."""
    qs = surveys.questions(con, CODE)
    q = qs[(qs["forme"] != surveys.TEXTE) & (qs["forme"] != surveys.NOMBRE)].iloc[0]
    return q["question"], (q["items"][0] if q["grille"] else "")


def test_complementary_masking_is_not_called_a_small_group(con_attacked):
    con, full = con_attacked
    question, item = _scale_question(con)
    communes = _sizes(full, question, item, ("commune",))
    conseils = _sizes(full, question, item, ("conseil_citoyen",))
    assert communes >= SEUIL > conseils  # the premise, counted with pandas

    res = surveys.resultats(con, CODE, question, ("commune",), SEUIL)
    assert res["masque"].all()
    assert set(res["motif"]) == {surveys.MOTIF_DEDUCTION}
    table = surveys.tableau(res, ["x"], SEUIL, texte=True)
    for cell in table["Réponses"]:
        assert GROUP_MSG not in cell and "déduire" in cell, cell

    small = surveys.resultats(con, CODE, question, ("conseil_citoyen",), SEUIL)
    assert set(small["motif"]) == {surveys.MOTIF_EFFECTIF}
    assert set(surveys.tableau(small, ["x"], SEUIL, texte=True)["Réponses"]) == {GROUP_MSG}

    shown = surveys.resultats(con, CODE, question, (), SEUIL)  # « Tous »: shown
    assert not shown["masque"].any() and shown["motif"].isna().all()


def test_chart_label_of_a_complementary_masked_row(con_attacked):
    con, _ = con_attacked
    qs = surveys.questions(con, CODE)
    q = qs[qs["echelle"].notna() & (qs["forme"] != surveys.TEXTE) & (qs["forme"] != surveys.NOMBRE)].iloc[0]
    echelle = next(e for e in surveys.ECHELLES if e.code == q["echelle"])
    res = surveys.resultats(con, CODE, q["question"], ("commune",), SEUIL)
    spec = json.dumps(survey_charts.barres_100(res, list(echelle.niveaux), echelle, SEUIL).to_dict(), ensure_ascii=False)
    assert surveys.message_anonymat(SEUIL, surveys.MOTIF_DEDUCTION) in spec
    assert GROUP_MSG not in spec


def test_sections_say_why(con_attacked):
    con, full = con_attacked
    question, _ = _scale_question(con)
    communes = build(con, Filtres(), "enquetes_question", enquete=CODE, question=question, types=("commune",))
    assert communes.vide and "déduire par différence" in communes.vide and "Moins de" not in communes.vide
    conseils = build(con, Filtres(), "enquetes_question", enquete=CODE, question=question,
                     types=("conseil_citoyen",))
    assert conseils.vide and conseils.vide.startswith(f"Moins de {SEUIL} réponses")

    assert _sizes(full, "propositions", "", ("commune",)) >= SEUIL
    txt = build(con, Filtres(), "enquetes_textes", enquete=CODE, question="propositions", types=("commune",))
    assert txt.vide and "retrouver celles d'un groupe" in txt.vide and "Moins de" not in txt.vide
    txt_cc = build(con, Filtres(), "enquetes_textes", enquete=CODE, question="propositions",
                   types=("conseil_citoyen",))
    assert txt_cc.vide and txt_cc.vide.startswith(f"Moins de {SEUIL} répondants")


def test_cli_says_why(attacked, monkeypatch):
    monkeypatch.delenv(surveys.ENV_SEUIL, raising=False)
    db, _ = attacked
    communes = _cli(db, "--question", "elu_delegue", "--type-repondant", "commune")
    assert communes.returncode == 0
    assert "déduire des autres groupes" in communes.stderr and GROUP_MSG not in communes.stderr
    conseils = _cli(db, "--question", "elu_delegue", "--type-repondant", "conseil_citoyen")
    assert GROUP_MSG in conseils.stderr


def test_page_says_why(attacked, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv(surveys.ENV_SEUIL, raising=False)
    db, _ = attacked
    monkeypatch.setenv("CDV_DB", str(db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/enquetes.py")
    at.run()
    at.selectbox(key="enq_code").set_value(CODE).run()
    at.multiselect(key=f"enq_types_{CODE}").set_value(["commune"]).run()
    assert not at.exception, at.exception
    text = " ".join([m.value for m in at.markdown] + [i.value for i in at.info]).replace("\\", "")
    assert "déduire par différence" in text
    assert f"Moins de {SEUIL} réponses à cette question" not in text
