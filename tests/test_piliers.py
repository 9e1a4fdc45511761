"""Piliers: queries against pandas on data/demo, pillar targets, chart builders, the page under AppTest."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from cdv_core import auth, charts, fmt, gestion, importer, queries, schema
from cdv_core import queries_piliers as qp
from cdv_core.filters import Filtres
from tests import demo_expect

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
MARIE = auth.User("marie", "Marie Dupont", frozenset({auth.GESTIONNAIRE}), "local")


# --------------------------------------------------------------------------- independent pandas side


@pytest.fixture(scope="module")
def demo() -> dict[str, pd.DataFrame]:
    """data/demo read with pandas, defaults of FORMATS.md applied (statut, nature), equal QPV split."""
    frames = demo_expect.frames()
    prog, fin = frames["prog"], frames["fin"]
    piliers = pd.read_csv(DATA / "referentiels" / "piliers.csv", dtype=str, keep_default_na=False)
    merged = fin.merge(prog[["action_id", "annee", "pilier", "thematique", "nouvelle", "statut"]],
                       on=["action_id", "annee"])
    return {"prog": prog, "fin": fin, "split": frames["split"], "lines": merged,
            "financees": demo_expect.financees(),
            "pilier_libelle": dict(zip(piliers["code"], piliers["libelle"]))}


@pytest.fixture(scope="module")
def con(demo_db_template):
    c = schema.connect(demo_db_template, read_only=True)
    yield c
    c.close()


def close(a, b) -> bool:
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)


def norm(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


# --------------------------------------------------------------------------- queries


def test_share_per_pillar_2022(con, demo):
    lines = demo["lines"][demo["lines"]["annee"] == 2022]
    expected = 100 * lines.groupby("pilier")["montant_accorde"].sum() / lines["montant_accorde"].sum()
    got = qp.par_pilier(con, Filtres(annees=(2022,))).set_index("pilier")["part"]
    assert set(got.index) == set(expected.index)
    for p in expected.index:
        assert close(got[p], expected[p]), p
    by_year = qp.par_annee_pilier(con, Filtres()).query("annee == 2022").set_index("pilier")["part"]
    for p in expected.index:
        assert close(by_year[p], expected[p]), p
    assert close(got.sum(), 100)


def test_actions_and_amounts_per_year_and_pillar(con, demo):
    prog, lines = demo["prog"], demo["lines"]
    got = qp.par_annee_pilier(con, Filtres()).set_index(["annee", "pilier"])
    counts = demo["financees"].groupby(["annee", "pilier"]).size()
    amounts = lines.groupby(["annee", "pilier"])["montant_accorde"].sum()
    assert set(got.index) == set(prog.groupby(["annee", "pilier"]).size().index)
    for key in counts.index:
        assert int(got.loc[key, "nb_actions"]) == counts.get(key, 0), key
        assert close(got.loc[key, "montant_accorde"], amounts.get(key, 0.0)), key


def test_new_vs_renewed_actions(con, demo):
    prog = demo["financees"]
    got = qp.nouvelles_par_annee(con, Filtres(annees=(2022,))).set_index("type")
    n_new = int((prog[prog["annee"] == 2022]["nouvelle"] == "oui").sum())
    n_all = int((prog["annee"] == 2022).sum())
    assert int(got.loc["Nouvelle", "nb_actions"]) == n_new
    assert int(got.loc["Reconduite", "nb_actions"]) == n_all - n_new
    assert close(got.loc["Nouvelle", "part_actions"], 100 * n_new / n_all)
    per_pillar = qp.par_pilier(con, Filtres(annees=(2022,))).set_index("pilier")
    new = prog[(prog["annee"] == 2022) & (prog["nouvelle"] == "oui")].groupby("pilier").size()
    for p, n in new.items():
        assert int(per_pillar.loc[p, "nb_nouvelles"]) == n


def test_thematiques_of_a_pillar(con, demo):
    lines = demo["lines"]
    sel = lines[(lines["annee"] == 2022) & (lines["pilier"] == "inclusion")]
    expected = sel.groupby("thematique")["montant_accorde"].sum()
    got = qp.par_thematique(con, Filtres(annees=(2022,), piliers=("inclusion",))).set_index("thematique")
    assert set(got.index) == set(expected.index)
    for t, v in expected.items():
        assert close(got.loc[t, "montant_accorde"], v), t
    # 2022 codes are read in the 2020-2023 nomenclature: named "1.2 Santé (2020-2023)", never "2020-1.2 Santé"
    for t, lib in got["thematique_libelle"].items():
        assert lib.startswith(t.removeprefix("2020-") + " ") and lib.endswith(" (2020-2023)"), lib


def test_action_list_amounts_and_funders(con, demo):
    prog, fin = demo["prog"], demo["fin"]
    f = Filtres(annees=(2022,), piliers=("inclusion",))
    got = qp.actions(con, f)
    sel = prog[(prog["annee"] == 2022) & (prog["pilier"] == "inclusion")]
    assert len(got) == len(sel)
    fy = fin[fin["annee"] == 2022]
    amounts = fy.groupby("action_id")["montant_accorde"].sum()
    funders = fy[fy["montant_accorde"] > 0].groupby("action_id")["financeur"].nunique()
    for r in got.itertuples(index=False):
        assert close(r.montant_accorde, amounts.get(r.action_id, 0.0)), r.action_id
        assert r.nb_financeurs == funders.get(r.action_id, 0), r.action_id
    assert list(got["montant_accorde"]) == sorted(got["montant_accorde"], reverse=True)


def test_action_list_with_a_quartier_shows_its_share(con, demo):
    split, fin = demo["split"], demo["fin"]
    code = "QP062035"
    f = Filtres(annees=(2022,), qpv=(code,))
    got = qp.actions(con, f).set_index("action_id")["montant_accorde"]
    parts = split[(split["annee"] == 2022) & (split["code_qpv"] == code)].set_index("action_id")["part"]
    amounts = fin[fin["annee"] == 2022].groupby("action_id")["montant_accorde"].sum()
    assert set(got.index) == set(parts.index)
    for a, p in parts.items():
        assert close(got[a], amounts.get(a, 0.0) * p), a


def test_decided_year_is_the_last_mostly_decided_one(con, demo):
    prog = demo["prog"]
    share = (prog["statut"] != "deposee").groupby(prog["annee"]).mean()
    expected = max(y for y, s in share.items() if s >= 0.5)
    assert queries.annee_decidee(con, Filtres()) == expected
    assert queries.annee_decidee(con, Filtres(annees=(2016, 2017))) == 2017
    assert queries.annee_decidee(con, Filtres(contrat="N_EXISTE_PAS")) is None


# --------------------------------------------------------------------------- targets


def test_target_is_stored_journaled_and_measured(demo_db, demo):
    con = schema.connect(demo_db)
    try:
        before = con.execute("SELECT coalesce(max(import_id), 0) FROM import_journal").fetchone()[0]
        gestion.definir_cible(con, "emploi", "specifique", 20, "20 % des crédits spécifiques pour l'emploi",
                         actor=MARIE)
        entry = con.execute("SELECT import_id, type_fichier, utilisateur, nb_ajoutees FROM import_journal "
                            "ORDER BY import_id DESC LIMIT 1").fetchone()
        assert entry[0] > before and entry[1] == "cible_pilier" and entry[2] == "Marie Dupont" and entry[3] == 1
        stored = qp.cibles(con)
        assert stored[["pilier", "nature", "part_cible"]].values.tolist() == [["emploi", "specifique", 20.0]]

        suivi = qp.suivi_cibles(con, Filtres()).set_index("annee")
        lines = demo["lines"]
        spec = lines[lines["nature"] == "specifique"]
        # Only the years of the pillar's generation (2024-2030) are measured.
        assert set(suivi.index) == {y for y in spec["annee"].unique() if 2024 <= y <= 2030}
        s25 = spec[spec["annee"] == 2025]
        expected = 100 * s25.loc[s25["pilier"] == "emploi", "montant_accorde"].sum() / s25["montant_accorde"].sum()
        assert close(suivi.loc[2025, "part"], expected)
        assert close(suivi.loc[2025, "ecart"], expected - 20)

        # Replacing keeps one row; removing empties the table; both are journaled.
        gestion.definir_cible(con, "emploi", "specifique", 25, actor=MARIE)
        assert qp.cibles(con)["part_cible"].tolist() == [25.0]
        gestion.supprimer_cible(con, "emploi", "specifique", actor=MARIE)
        assert qp.cibles(con).empty
        kinds = con.execute("SELECT nb_ajoutees, nb_modifiees, nb_supprimees FROM import_journal "
                            "WHERE type_fichier = 'cible_pilier' ORDER BY import_id").fetchall()
        assert kinds == [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
        assert con.execute("SELECT count(*) FROM journal_cible_pilier").fetchone()[0] == 4

        # Undoing the removal brings the 25 % target back, and undoing that undo removes it again.
        undo = importer.undo_import(con, None, user="Marie Dupont")
        assert qp.cibles(con)[["pilier", "nature", "part_cible"]].values.tolist() == [["emploi", "specifique", 25.0]]
        assert (undo.added, undo.changed, undo.removed) == (1, 0, 0)
    finally:
        con.close()


@pytest.mark.parametrize("args, words", [
    (("n_existe_pas", "specifique", 20), "n'existe pas"),
    (("emploi", "autre", 20), "Nature de crédits inconnue"),
    (("emploi", "tous", 150), "entre 0 et 100"),
    (("emploi", "tous", "vingt"), "doit être un nombre"),
])
def test_invalid_targets_are_refused_in_french(demo_db, args, words):
    con = schema.connect(demo_db)
    try:
        with pytest.raises(qp.CibleInvalide, match=words):
            gestion.definir_cible(con, *args, actor=MARIE)
        assert qp.cibles(con).empty
        with pytest.raises(qp.CibleInvalide, match="Aucune cible"):
            gestion.supprimer_cible(con, "emploi", "tous", actor=MARIE)
    finally:
        con.close()


@pytest.mark.parametrize("actor", [None, auth.ANONYMOUS, auth.User("luc", "Luc", frozenset({auth.LECTEUR}), "local")])
def test_only_gestionnaires_set_targets(demo_db, actor):
    con = schema.connect(demo_db)
    try:
        n = con.execute("SELECT count(*) FROM import_journal").fetchone()[0]
        with pytest.raises(auth.AccessDenied, match="réservée aux gestionnaires"):
            gestion.definir_cible(con, "emploi", "tous", 20, actor=actor)
        gestion.definir_cible(con, "emploi", "tous", 20, actor=MARIE)
        with pytest.raises(auth.AccessDenied):
            gestion.supprimer_cible(con, "emploi", "tous", actor=actor)
        assert qp.cibles(con)["part_cible"].tolist() == [20.0]
        assert con.execute("SELECT count(*) FROM import_journal").fetchone()[0] == n + 1
    finally:
        con.close()


# --------------------------------------------------------------------------- chart builders


def _layers(spec: dict) -> list[dict]:
    return spec.get("layer", [spec])


def test_stacked_columns_spec():
    df = pd.DataFrame({"annee": [2021, 2021, 2022], "pilier_libelle": ["A", "B", "A"],
                       "montant_accorde": [10.0, 40.0, 20.0], "part": [20.0, 80.0, 100.0]})
    spec = charts.stacked_columns(df, "pilier_libelle", "Pilier").to_dict()
    enc = spec["encoding"]
    assert enc["x"]["field"] == "annee" and enc["y"]["field"] == "montant_accorde"
    assert enc["y"]["stack"] == "zero" and enc["color"]["field"] == "pilier_libelle"
    assert enc["color"]["scale"]["domain"] == ["B", "A"]  # largest total first
    norm_spec = charts.stacked_columns(df, "pilier_libelle", "Pilier", normalize=True).to_dict()
    assert norm_spec["encoding"]["y"]["stack"] == "normalize"
    assert norm_spec["encoding"]["y"]["axis"]["format"] == ".0%"
    count = charts.stacked_columns(df.assign(nb_actions=[1, 3, 2]), "pilier_libelle", "Pilier", "nb_actions",
                                   "Actions", kind="nombre", order=["A", "B"]).to_dict()
    assert count["encoding"]["y"]["field"] == "nb_actions" and count["encoding"]["y"]["axis"]["format"] == ",.0f"
    assert count["encoding"]["color"]["scale"]["domain"] == ["A", "B"]


def test_share_vs_target_spec_draws_the_target():
    df = pd.DataFrame({"annee": [2024, 2025], "part": [12.5, 18.0]})
    spec = charts.share_vs_target(df, 20.0).to_dict()
    layers = _layers(spec)
    assert layers[0]["mark"]["type"] == "line" and layers[0]["encoding"]["y"]["field"] == "part_ratio"
    datasets = spec["datasets"].values()
    assert any(row.get("cible") == 0.2 for d in datasets for row in d)
    assert any(row.get("texte") == "Cible 20 %" for d in datasets for row in d)
    assert any(row.get("part_ratio") == 0.125 for d in datasets for row in d)


def test_horizontal_bars_selection_is_named_for_the_drill_down():
    df = pd.DataFrame({"pilier_libelle": ["A", "B"], "montant_accorde": [1.0, 2.0]})
    spec = charts.horizontal_bars(df, "pilier_libelle", "montant_accorde", selection="pil_sel").to_dict()
    params = spec.get("params", []) + [p for layer in _layers(spec) for p in layer.get("params", [])]
    assert any(p["name"] == "pil_sel" and p["select"]["fields"] == ["pilier_libelle"] for p in params)


# --------------------------------------------------------------------------- the page


def _page(session: dict | None = None, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in (session or {}).items():
        at.session_state[k] = v
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/piliers.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_page_title_and_figures_for_2022(demo_app_env, demo):
    at = _page(annees="2022-2022")
    lines = demo["lines"][demo["lines"]["annee"] == 2022]
    shares = (100 * lines.groupby("pilier")["montant_accorde"].sum() / lines["montant_accorde"].sum())
    shares = shares.sort_values(ascending=False)
    top = shares.index[0]
    title = norm(at.title[0].value)
    assert title.startswith(f"En 2022, « {demo['pilier_libelle'][top]} » reçoit "
                            f"{norm(fmt.pourcent(shares.iloc[0], 0))} des financements")
    metrics = {norm(m.label): norm(m.value) for m in at.metric}
    assert metrics["Montant accordé 2022"] == norm(fmt.euros(lines["montant_accorde"].sum()))
    prog22 = demo["financees"][demo["financees"]["annee"] == 2022]
    assert metrics["Actions 2022"] == str(len(prog22))
    assert metrics["Actions nouvelles"] == norm(fmt.pourcent(100 * (prog22["nouvelle"] == "oui").mean(), 0))
    # Drill-down: the first pillar is detailed, with its actions listed.
    detail = [norm(m.value) for m in at.markdown if "première thématique" in m.value]
    assert detail and detail[0].startswith(f"#### « {demo['pilier_libelle'][top]} » : "
                                           f"{norm(fmt.euros(lines.loc[lines['pilier'] == top, 'montant_accorde'].sum()))}")
    assert any(f"{(prog22['pilier'] == top).sum()} actions financées en 2022" in m.value for m in at.markdown)


def test_page_drill_down_to_another_pillar(demo_app_env, demo):
    at = _page(annees="2022-2022")
    at.selectbox(key="pil_detail").select("habitat").run()
    assert not at.exception
    lines = demo["lines"][(demo["lines"]["annee"] == 2022) & (demo["lines"]["pilier"] == "habitat")]
    them = lines.groupby("thematique")["montant_accorde"].sum().sort_values(ascending=False)
    detail = [norm(m.value) for m in at.markdown if "première thématique" in m.value][0]
    assert f"« {demo['pilier_libelle']['habitat']} » : {norm(fmt.euros(lines['montant_accorde'].sum()))}" in detail
    # named as published, with its period (never the stored "2020-3.1")
    assert f"première thématique : {them.index[0].removeprefix('2020-')} " in detail and "(2020-2023)" in detail
    at.selectbox(key="pil_theme").select(them.index[0]).run()
    fin = demo["financees"]  # the counting rule: granted or paid with a granted amount > 0
    n = fin.query("annee == 2022 and pilier == 'habitat' and thematique == @them.index[0]").shape[0]
    assert any(f"{n} actions financées en 2022" in m.value for m in at.markdown)


@pytest.fixture
def manager(demo_app_env, monkeypatch, tmp_path):
    """A gestionnaire's session: a local account in a private secrets file; cached figures forgotten around
    the test (they are keyed on the journal number, which this test moves)."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[cdv.comptes.marie]\nnom = "Marie Dupont"\nrole = "gestionnaire"\n'
                       f'mot_de_passe = "{auth.hash_password("x" * 12, iterations=1000)}"\n', encoding="utf-8")
    monkeypatch.setenv("CDV_SECRETS", str(secrets))
    st.cache_data.clear()
    yield {"cdv_user": MARIE}
    st.cache_data.clear()


def test_page_target_editor_is_for_gestionnaires_only(demo_app_env):
    at = _page(annees="2024-2025")
    assert "Enregistrer la cible" not in [b.label for b in at.button]
    assert any("fixées par les gestionnaires" in m.value for m in at.markdown)


def test_page_target_set_by_staff_is_shown(manager, demo, demo_app_env):
    con = schema.connect(demo_app_env)
    try:  # a target with a label already stored; the one set in the page has none
        gestion.definir_cible(con, "inclusion", "tous", 30, "Engagement du COPIL", actor=MARIE)
    finally:
        con.close()
    at = _page(session=manager, annees="2024-2025")
    at.selectbox(key="pil_cible_pilier").select("emploi")
    at.selectbox(key="pil_cible_nature").select("specifique")
    at.number_input(key="pil_cible_part").set_value(20.0)
    at.button[[b.label for b in at.button].index("Enregistrer la cible")].click().run()
    assert not at.exception, at.exception
    spec = demo["lines"][(demo["lines"]["nature"] == "specifique") & (demo["lines"]["annee"] == 2025)]
    part = 100 * spec.loc[spec["pilier"] == "emploi", "montant_accorde"].sum() / spec["montant_accorde"].sum()
    texts = [norm(m.value) for m in at.markdown]
    assert any(f"En 2025, « Emploi » reçoit {norm(fmt.pourcent(part))} des crédits spécifiques, pour une cible "
               "de 20 %" in t for t in texts), texts
    # The 2015-2023 pillar's target has no year in the selection, and says so.
    assert any("Inclusion sociale et cohésion sociale » : cible de 30 % des financements" in t for t in texts), texts


def test_page_empty_selection_says_so(demo_app_env):
    at = _page(annees="2025-2026", piliers="inclusion")
    assert any("Aucune action ne correspond" in i.value for i in at.info)


def test_pillar_actions_show_the_declared_public_and_beneficiaries(con):
    from cdv_core import sections

    prog = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "demo" / "programmation.csv",
                       dtype={"action_id": str})
    year = prog[prog["annee"] == 2022]
    pilier = year["pilier"].value_counts().index[0]
    sec = sections.build(con, Filtres(), "piliers_actions", annee=2022, pilier=pilier)
    shown = sec.table.set_index("N° dossier")
    expected = year[year["pilier"] == pilier].set_index("action_id")
    common = shown.index.intersection(expected.index)
    assert len(common) > 0
    for action_id in common[:50]:
        exp_n, exp_p = expected.at[action_id, "nb_beneficiaires"], expected.at[action_id, "public_cible"]
        got_n, got_p = shown.at[action_id, "Bénéficiaires (déclarés)"], shown.at[action_id, "Public visé"]
        assert (pd.isna(exp_n) and pd.isna(got_n)) or int(exp_n) == int(got_n)
        assert (pd.isna(exp_p) and pd.isna(got_p)) or exp_p == got_p
    assert any("déclarés par les porteurs" in n for n in sec.notes)
