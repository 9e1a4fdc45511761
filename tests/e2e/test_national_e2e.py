"""In chromium: a gestionnaire of a contract outside the Pas-de-Calais (CA d'Arles-Crau-Camargue-Montagnette,
Quartiers 2030 contract CN01301I) imports the files the State publishes for it, as they come (ANCT grants with a
département-scale row, INSEE Filosofi figures with secrecy markers), then its Quartiers page shows its map."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdv_core import auth
from tests.e2e.conftest import app_exceptions, goto_app, wait_for_app

PASSWORD = "mot-de-passe-e2e"
ROOT = Path(__file__).resolve().parents[2]
CONTRAT = "CN01301I"


def quartiers_of_contract() -> list[str]:
    qpv = pd.read_csv(ROOT / "data" / "referentiels" / "qpv.csv", dtype=str, keep_default_na=False)
    return sorted(qpv.loc[qpv["contrat"] == CONTRAT, "code_qpv"])


def files(tmp_path: Path) -> list[Path]:
    anct = tmp_path / "subventions-politique-de-la-ville-2024.csv"
    rows = ["annee;code_tiers;raison_sociale;lib_action;objectif;montant;theme;sous_theme;echelle;code_cv;insee_dep;"
            "insee_reg",
            f"2024;77568390300014;Centre social Griffeuille;Accompagnement à la scolarité;Réussite;12 000;1;1.2;cdv;"
            f"{CONTRAT};13;93",
            f"2024;77568390300014;Centre social Griffeuille;Santé des familles;Prévention;6 500;2;2.1;cdv;{CONTRAT};"
            "13;93",
            f"2025;77568390300014;Centre social Griffeuille;Accompagnement à la scolarité;Réussite;12 500;1;1.2;cdv;"
            f"{CONTRAT};13;93",
            "2024;77568390300014;Association départementale;Appui aux acteurs;Appui;30 000;6;6.1;dep;;13;93"]
    anct.write_text("\r\n".join(rows) + "\r\n", encoding="cp1252")
    insee = tmp_path / "filosofi_qpv_2021.csv"
    lines = ["CODGEO;LIBGEO;DISP_MED_A21;DISP_TP60_A21"]
    for i, code in enumerate(quartiers_of_contract()):
        lines.append(f"{code};Quartier {i};{11000 + 500 * i};{'s' if i == 0 else 40 - i}")
    insee.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [anct, insee]


@pytest.mark.e2e
def test_contract_outside_pas_de_calais_imports_public_files_and_gets_its_map(streamlit_factory, page, tmp_path,
                                                                              demo_db):
    page.set_default_timeout(120_000)  # a loaded 2-core machine: generous bounds, no timing asserted
    codes = quartiers_of_contract()
    assert codes  # the contract's quartiers are in the shipped referential
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[cdv.comptes.lea]\nnom = "Léa Martin"\nrole = "gestionnaire"\n'
                       f'mot_de_passe = "{auth.hash_password(PASSWORD, iterations=10_000)}"\n', encoding="utf-8")
    # a private copy of the demo database, built before the server starts (the first page stays quick)
    server = streamlit_factory("app.py", db_path=demo_db, env={"CDV_SECRETS": str(secrets)}, timeout=120.0)

    goto_app(page, server.url, timeout=180_000)
    # the sign-in expander of the sidebar (its summary: the label's text may sit under another element)
    page.locator('[data-testid="stSidebar"] summary').filter(has_text="Connexion (gestionnaires)").click()
    page.get_by_label("Identifiant").fill("lea")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    wait_for_app(page)
    page.get_by_text("Léa Martin").first.wait_for()

    page.get_by_role("link", name="Importer des données").click()
    wait_for_app(page, timeout=120_000)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files([str(p) for p in files(tmp_path)])
    page.get_by_text("3 subventions de contrats de ville importées, 1 subvention nationale, régionale ou "
                     "départementale ignorée").wait_for(timeout=90_000)
    page.get_by_text("cellule sans valeur").first.wait_for()
    wait_for_app(page)
    page.get_by_role("button", name="Valider l'import").click()
    wait_for_app(page)
    page.get_by_text("Import enregistré").wait_for(timeout=90_000)
    assert app_exceptions(page) == []

    goto_app(page, f"{server.url}/quartiers?contrat={CONTRAT}&annees=2024-2025", timeout=180_000)
    page.get_by_text("Carte :").first.wait_for(timeout=60_000)
    wait_for_app(page)
    deck = page.locator('[data-testid="stDeckGlJsonChart"]')
    deck.first.wait_for(timeout=60_000)
    assert deck.count() == 1
    body = page.locator("body").inner_text()
    assert "n'a de contour" not in body and "Sans contour" not in body
    assert app_exceptions(page) == []
