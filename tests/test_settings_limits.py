"""Issue 15: the reading limits and the implausible-amount ceiling are settings (environment variables
`CDV_LIMITE_<CHAMP>` and `CDV_PLAFOND_MONTANT`), with the shipped values as defaults, and the import page states
the figures in force."""

from __future__ import annotations

import dataclasses

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from cdv_core import auth, importer, reading
from tests.conftest import REPO_ROOT


def csv_rows(n: int, width: int = 3) -> bytes:
    header = ";".join(f"c{i}" for i in range(width))
    body = "".join(";".join(f"v{r}_{i}" for i in range(width)) + "\r\n" for r in range(n))
    return (header + "\r\n" + body).encode("utf-8")


def test_defaults_are_the_shipped_values(monkeypatch):
    for f in dataclasses.fields(reading.Limites):
        monkeypatch.delenv(reading.ENV_PREFIX + f.name.upper(), raising=False)
    assert reading.limites_en_vigueur() == reading.Limites()
    # 12 rows, well within the default 200 000
    assert len(reading.read_table(csv_rows(12), "f.csv").rows) == 12


def test_row_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv("CDV_LIMITE_LIGNES", "10")
    assert reading.limites_en_vigueur().lignes == 10
    with pytest.raises(reading.UnreadableFile) as exc:
        reading.read_table(csv_rows(12), "f.csv")
    assert "trop grand" in exc.value.message and "f.csv" in exc.value.message
    assert len(reading.read_table(csv_rows(9), "f.csv").rows) == 9  # 10 lines with the header


def test_column_and_cell_limits_from_the_environment(monkeypatch):
    monkeypatch.setenv("CDV_LIMITE_COLONNES", "4")
    with pytest.raises(reading.UnreadableFile):
        reading.read_table(csv_rows(2, width=6), "large.csv")
    assert reading.read_table(csv_rows(2, width=4), "large.csv").header == ["c0", "c1", "c2", "c3"]
    monkeypatch.setenv("CDV_LIMITE_CELLULE", "50")
    with pytest.raises(reading.UnreadableFile):
        reading.read_table(b"a;b\r\n" + b"x" * 51 + b";y\r\n", "cell.csv")
    assert reading.read_table(b"a;b\r\n" + b"x" * 50 + b";y\r\n", "cell.csv").rows[0][1][0] == "x" * 50


@pytest.mark.parametrize("bad", ["", "abc", "0", "-5", "1.5"])
def test_an_invalid_setting_keeps_the_default(monkeypatch, bad):
    monkeypatch.setenv("CDV_LIMITE_LIGNES", bad)
    assert reading.limites_en_vigueur().lignes == reading.Limites().lignes


def test_separators_are_allowed(monkeypatch):
    monkeypatch.setenv("CDV_LIMITE_LIGNES", "500_000")
    assert reading.limites_en_vigueur().lignes == 500_000
    monkeypatch.setenv("CDV_LIMITE_LIGNES", "1 000 000")
    assert reading.limites_en_vigueur().lignes == 1_000_000


def test_ceiling_from_the_environment(monkeypatch):
    monkeypatch.delenv(importer.ENV_PLAFOND, raising=False)
    assert importer.plafond_montant() == 10_000_000
    monkeypatch.setenv(importer.ENV_PLAFOND, "2500000")
    assert importer.plafond_montant() == 2_500_000


def test_import_page_states_the_limits_in_force(demo_app_env, monkeypatch, tmp_path):
    monkeypatch.setenv("CDV_LIMITE_LIGNES", "123456")
    monkeypatch.setenv("CDV_LIMITE_COLONNES", "77")
    monkeypatch.setenv(importer.ENV_PLAFOND, "2500000")
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[cdv.comptes.marie]\nnom = "Marie"\nrole = "gestionnaire"\n'
                       f'mot_de_passe = "{auth.hash_password("x" * 12, iterations=1000)}"\n', encoding="utf-8")
    monkeypatch.setenv("CDV_SECRETS", str(secrets))
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=180)
    at.session_state["cdv_user"] = auth.User("marie", "Marie", frozenset({auth.GESTIONNAIRE}), "local")
    at.run()
    at.switch_page("pages/import_donnees.py")
    at.run()
    assert not at.exception
    text = " ".join(c.value for c in at.caption).replace("\u202f", " ").replace("\u00a0", " ")
    assert "123 456 lignes" in text and "77 colonnes" in text, text
    assert "2 500 000 €" in text, text
