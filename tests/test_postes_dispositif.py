"""Issue 11: a posts file (open data ANCT, FORMATS §8) whose ids and name do not tell adultes-relais from FONJEP:
the person says which dispositif it is at upload (page), or with `--dispositif` (CLI). Expected rows come from
the test's own file; the dispositif labels are the ones FORMATS §8 names (`Adultes-relais`, `FONJEP`)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from cdv_core import auth, importer, public_files, schema
from tests.conftest import REPO_ROOT

HEADER = ["id_poste", "code_tiers", "raison_sociale", "annee", "montant", "code_cv", "insee_dep", "insee_reg"]
# ids of neither pattern (an export renumbered by a département), name that says nothing either
ROWS = [["P-0001", "", "CENTRE SOCIAL DU MARAIS", "2024", "7164", "CN06202I", "62", "32"],
        ["P-0002", "", "ASSOCIATION DES JEUNES", "2024", "7164", "CN06202I", "62", "32"]]
NAME = "postes_2024.csv"


def posts(rows=ROWS, header=HEADER) -> bytes:
    return ("\r\n".join(";".join(r) for r in [header, *rows]) + "\r\n").encode("utf-8")


def funding(con) -> set[tuple]:
    return set(con.execute("SELECT action_id, dispositif, montant_accorde FROM financement "
                           "WHERE action_id LIKE '%P-000%'").fetchall())


@pytest.fixture
def con(demo_db):
    c = schema.connect(demo_db)
    yield c
    c.close()


def test_without_a_choice_the_file_is_refused_with_the_way_out(con):
    report = importer.check_file(con, posts(), NAME)
    assert report.kind.code == "postes_anct" and not report.ok
    assert [(i.line, i.column) for i in report.errors] == [(2, "id_poste"), (3, "id_poste")]
    assert "--dispositif" in report.errors[0].fix and "au dépôt" in report.errors[0].fix
    assert report.resume == []  # no "0 poste … importés" beside the errors


@pytest.mark.parametrize(("choice", "prefix", "label"), [("fonjep", "FONJEP-", "FONJEP"),
                                                         ("adultes-relais", "AR-", "Adultes-relais")])
def test_chosen_dispositif_is_imported_idempotent_and_undoable(con, choice, prefix, label):
    before = funding(con)
    with public_files.dispositifs_choisis({NAME: choice}):
        report = importer.check_file(con, posts(), NAME)
        assert report.ok, [i.message for i in report.errors]
        assert f"dispositif choisi au dépôt : {label}" in report.resume[0]
        result = importer.import_bytes(con, posts(), NAME, user="test")
        again = importer.import_bytes(con, posts(), NAME, user="test")
    assert funding(con) == {(prefix + r[0], label, float(r[4])) for r in ROWS}
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    importer.undo_import(con, again.import_id)
    importer.undo_import(con, result.import_id)
    assert funding(con) == before


def test_choice_applies_to_its_file_only(con):
    with public_files.dispositifs_choisis({"autre.csv": "fonjep"}):
        assert not importer.check_file(con, posts(), NAME).ok


def test_choice_contradicting_the_dispositif_column_is_an_error(con):
    rows = [[*ROWS[0], "adulte-relais"], [*ROWS[1], "fonjep"]]
    with public_files.dispositifs_choisis({NAME: "fonjep"}):
        report = importer.check_file(con, posts(rows, [*HEADER, "dispositif"]), NAME)
    assert [(i.line, i.column) for i in report.errors] == [(2, "dispositif")]
    assert "Adultes-relais" in report.errors[0].message and "FONJEP" in report.errors[0].message


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cdv_core", *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=300)


def test_cli_option(demo_db, tmp_path):
    path = tmp_path / NAME
    path.write_bytes(posts())
    refused = _cli("check", "--db", str(demo_db), str(path))
    assert refused.returncode == 1 and "Impossible de savoir si ce poste" in refused.stderr
    ok = _cli("import", "--db", str(demo_db), "--dispositif", "fonjep", str(path))
    assert ok.returncode == 0, ok.stderr
    c = schema.connect(demo_db, read_only=True)
    try:
        assert funding(c) == {("FONJEP-" + r[0], "FONJEP", float(r[4])) for r in ROWS}
    finally:
        c.close()


def test_upload_page_offers_the_choice(demo_app_env, monkeypatch, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[cdv.comptes.marie]\nnom = "Marie"\nrole = "gestionnaire"\n'
                       f'mot_de_passe = "{auth.hash_password("x" * 12, iterations=1000)}"\n', encoding="utf-8")
    monkeypatch.setenv("CDV_SECRETS", str(secrets))
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=240)
    at.session_state["cdv_user"] = auth.User("marie", "Marie", frozenset({auth.GESTIONNAIRE}), "local")
    at.run()
    at.switch_page("pages/import_donnees.py")
    at.run()
    at.file_uploader[0].set_value((NAME, posts(), "text/csv"))
    at.run()
    assert not at.exception
    assert "2 erreurs à corriger" in at.error[0].value
    at.selectbox(key=f"imp_disp_{NAME}").set_value("adultes_relais").run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("dispositif choisi au dépôt : Adultes-relais" in m.value.replace("\\", "") for m in at.markdown)
    at.button(key="imp_commit").click().run()
    assert not at.exception
    assert "Import enregistré" in at.success[0].value
    c = schema.connect(demo_app_env, read_only=True)
    try:
        assert funding(c) == {("AR-" + r[0], "Adultes-relais", float(r[4])) for r in ROWS}
    finally:
        c.close()
