"""The pages (AppTest) show write buttons only to gestionnaires, follow the configuration of the moment, write
an upload all or nothing, and refuse to commit a preview made stale by another session (showing a fresh one).

Expected amounts come from the files the tests upload, not from cdv_core.
"""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from cdv_core import auth, vues
from tests.conftest import REPO_ROOT, write_secrets
from ui import data

MARIE = auth.User("marie", "Marie Dupont", frozenset({auth.GESTIONNAIRE}), "local")
PAUL = auth.User("paul", "Paul", frozenset({auth.LECTEUR}), "local")
ACTION, YEAR = "CALL-2022-0410", 2025
FIN_HEADER = b"action_id;annee;financeur;montant_accorde\r\n"


def fin_file(amount: int) -> bytes:
    return FIN_HEADER + f"{ACTION};{YEAR};caf;{amount}\r\n".encode()


def app(user: auth.User | None) -> AppTest:
    st.cache_data.clear()  # cached figures are keyed on the journal number, not on the database file
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=180)
    if user is not None:
        at.session_state["cdv_user"] = user
    at.run()
    assert not at.exception
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def stored(path, sql: str) -> list[tuple]:
    con = data._connection(str(path)).cursor()  # the app (same process) holds the base read-only
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def keys(at: AppTest) -> set[str]:
    return {b.key for b in at.button if b.key}


@pytest.fixture
def saved(demo_app_env):
    """A séance and a view saved by a gestionnaire, through the app's own base."""
    base = data._connection(str(demo_app_env))
    from cdv_core import gestion

    gestion.save_seance(base, vues.Seance("COPIL de juin", None, [{"type": "piliers", "annee": 2022}]), MARIE)
    gestion.save_view(base, "Vue CAF", "vue-ensemble", "financeurs=caf", MARIE)
    return demo_app_env


@pytest.mark.parametrize("user", [None, PAUL], ids=["anonyme", "lecteur"])
def test_without_the_role_no_write_button_and_no_management_page(saved, user):
    at = open_page(app(user), "pages/seance.py")
    shown = keys(at)
    assert "se_edit_copil-de-juin" in shown  # the saved séance is listed, can be taken up and presented
    assert not {"se_save", "vu_save", "se_del_copil-de-juin", "vu_del_Vue CAF"} & shown
    assert not [i for i in at.text_input if i.key == "vu_nom"]
    at = open_page(app(user), "pages/piliers.py")
    assert "Enregistrer la cible" not in [b.label for b in at.button]
    assert "pil_cible_suppr_btn" not in keys(at)
    for page in ("pages/import_donnees.py", "pages/journal.py"):
        at = app(user)
        at.switch_page(page)
        at.run()
        assert at.title[0].value == "Accès réservé"
        assert not [f for f in at.get("file_uploader")] and "jr_undo" not in keys(at)
    assert stored(saved, "SELECT nom FROM seance") == [("copil-de-juin",)]
    assert stored(saved, "SELECT nom FROM vue_enregistree") == [("Vue CAF",)]


def test_a_gestionnaire_deletes_and_the_journal_names_her(saved):
    at = open_page(app(MARIE), "pages/seance.py")
    assert {"se_save", "vu_save", "se_del_copil-de-juin", "vu_del_Vue CAF"} <= keys(at)
    at.button(key="se_del_copil-de-juin").click().run()
    assert not at.exception
    assert stored(saved, "SELECT nom FROM seance") == []
    assert stored(saved, "SELECT utilisateur, action FROM journal_acces ORDER BY horodatage DESC LIMIT 1") == \
        [("Marie Dupont", "séance supprimée")]


def test_a_role_removed_from_the_configuration_stops_the_open_tab(saved, tmp_path, monkeypatch):
    secrets = write_secrets(tmp_path / "secrets.toml", {"marie": ("Marie Dupont", "gestionnaire")})
    monkeypatch.setenv("CDV_SECRETS", str(secrets))
    at = open_page(app(MARIE), "pages/seance.py")
    assert "se_del_copil-de-juin" in keys(at)  # the tab shows the button
    write_secrets(secrets, {"marie": ("Marie Dupont", "lecteur")})  # the administrator withdraws the role
    at.button(key="se_del_copil-de-juin").click().run()  # the person clicks in the tab opened before
    assert not at.exception
    assert stored(saved, "SELECT nom FROM seance") == [("copil-de-juin",)]
    assert "se_del_copil-de-juin" not in keys(at)
    at.switch_page("pages/import_donnees.py")
    at.run()
    assert at.title[0].value == "Accès réservé"


QPV_OK = (b"code_qpv;nom_qpv;communes_insee;geographie;population;contrat\r\n"
          b"QN99999Z;Quartier d'essai;06088;2024;1500;\r\n")


def test_a_multi_file_upload_with_one_bad_file_writes_nothing(demo_app_env):
    before = stored(demo_app_env, "SELECT count(*), max(import_id) FROM import_journal")
    at = open_page(app(MARIE), "pages/import_donnees.py")
    at.file_uploader[0].set_value([("qpv.csv", QPV_OK, "text/csv"),
                                   ("financements.csv", FIN_HEADER + b"INCONNUE-1;2022;caf;-5\r\n", "text/csv")])
    at.run()
    assert not at.exception
    assert any("qpv.csv" in s.value.replace("\\", "") and "aucun problème" in s.value for s in at.success)
    assert any("financements.csv" in e.value.replace("\\", "") and "erreur" in e.value for e in at.error)
    assert "imp_commit" not in keys(at)
    assert stored(demo_app_env, "SELECT count(*) FROM qpv WHERE code_qpv = 'QN99999Z'") == [(0,)]
    assert stored(demo_app_env, "SELECT count(*), max(import_id) FROM import_journal") == before


def test_two_sessions_validating_the_same_rows_the_second_is_refused_with_a_fresh_preview(demo_app_env):
    amounts = f"SELECT montant_accorde FROM financement WHERE action_id = '{ACTION}' AND annee = {YEAR}"
    first, second = (open_page(app(MARIE), "pages/import_donnees.py") for _ in range(2))
    first.file_uploader[0].set_value(("premier.csv", fin_file(111), "text/csv"))
    first.run()
    second.file_uploader[0].set_value(("second.csv", fin_file(222), "text/csv"))
    second.run()
    assert "imp_commit" in keys(first) and "imp_commit" in keys(second)  # both read their preview

    first.button(key="imp_commit").click().run()
    assert any("Import enregistré" in s.value for s in first.success)
    assert stored(demo_app_env, amounts) == [(111.0,)]

    second.button(key="imp_commit").click().run()
    assert not second.exception
    assert any("rien n'a été écrit" in w.value for w in second.warning)
    assert stored(demo_app_env, amounts) == [(111.0,)]  # the first person's import stands
    # the fresh preview compares with the data as they are now: 111 becomes 222 (one changed row)
    counts = second.table[0].value
    assert counts.iloc[0][["Fichier", "Ajoutées", "Modifiées", "Supprimées"]].tolist() == ["second.csv", 0, 1, 0]
    assert "imp_commit" in keys(second)
    second.button(key="imp_commit").click().run()  # validated again, knowingly
    assert any("Import enregistré" in s.value for s in second.success)
    assert stored(demo_app_env, amounts) == [(222.0,)]
