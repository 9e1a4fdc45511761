"""In chromium: a gestionnaire logs in (local password), uploads a French-Excel file (cp1252, `;`), validates,
sees the overview's headline amount change, then undoes the import from the journal."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from cdv_core import auth, fmt
from tests.e2e.conftest import app_exceptions, goto_app, wait_for_app
from tests.test_import_page import CP1252_FILE, YEAR, expected_diff, year_total

PASSWORD = "mot-de-passe-e2e"


def headline(page) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=f"Montant accordé {YEAR}")
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def nav(page, title: str) -> None:
    page.get_by_role("link", name=title).click()
    wait_for_app(page)


@pytest.mark.e2e
def test_upload_validate_and_undo_in_chromium(streamlit_factory, page, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[cdv.comptes.marie]\nnom = "Marie Dupont"\nrole = "gestionnaire"\n'
                       f'mot_de_passe = "{auth.hash_password(PASSWORD, iterations=10_000)}"\n', encoding="utf-8")
    upload = tmp_path / "financements_export_excel.csv"
    upload.write_bytes(CP1252_FILE)
    server = streamlit_factory("app.py", env={"CDV_SECRETS": str(secrets)}, timeout=120.0)
    before = year_total(YEAR)
    delta = expected_diff()[3]

    goto_app(page, server.url)
    assert headline(page) == fmt.euros(before)
    assert page.get_by_role("link", name="Importer des données").count() == 0  # not logged in: not offered

    page.get_by_text("Connexion (gestionnaires)").click()
    page.get_by_label("Identifiant").fill("marie")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    wait_for_app(page)
    page.get_by_text("Marie Dupont").first.wait_for()

    nav(page, "Importer des données")
    # the upload box in French, with the limit the server is set to (Streamlit writes "Upload", "Limit … MB per
    # file", "file upload" for screen readers)
    config = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"
    limit = tomllib.loads(config.read_text(encoding="utf-8"))["server"]["maxUploadSize"]
    zone = page.locator('[data-testid="stFileUploaderDropzone"]')
    page.wait_for_function("z => /Choisir un fichier/.test(z.innerText) && /Mo au plus/.test(z.innerText)",
                           arg=zone.element_handle(), timeout=30_000)
    text = zone.inner_text()
    assert f"{limit} Mo au plus par fichier" in text and not re.search(r"Upload|Drag|MB|Limit", text), text
    field = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    page.wait_for_function("f => f.getAttribute('aria-label') === 'Choisir un fichier'", arg=field.element_handle(),
                           timeout=30_000)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
    page.get_by_text("aucun problème").wait_for(timeout=60_000)
    wait_for_app(page)
    page.get_by_text("Totaux des années concernées").wait_for()
    page.get_by_role("button", name="Valider l'import").click()
    wait_for_app(page)
    page.get_by_text("Import enregistré").wait_for(timeout=60_000)
    assert app_exceptions(page) == []

    nav(page, "Vue d'ensemble")
    assert headline(page) == fmt.euros(before + delta)

    nav(page, "Journal des imports")
    # the entry proposed for undo is the newest: ours, journaled under the person's name
    choice = page.locator('[data-testid="stSelectbox"]').filter(has_text="Import à annuler")
    shown = " ".join([choice.inner_text(), *(i.input_value() for i in choice.locator("input").all()),
                      *(i.get_attribute("value") or "" for i in choice.locator("[value]").all())])
    assert re.search(r"— financements_export_excel\.csv \(Marie Dupont,", shown), shown
    page.get_by_text(re.compile(r"Je confirme l'annulation de l'import")).click()
    wait_for_app(page)
    page.get_by_role("button", name="Annuler cet import").click()
    wait_for_app(page)
    page.get_by_text(re.compile(r"Import n° \d+ annulé")).wait_for(timeout=60_000)
    assert app_exceptions(page) == []

    nav(page, "Vue d'ensemble")
    assert headline(page) == fmt.euros(before)
