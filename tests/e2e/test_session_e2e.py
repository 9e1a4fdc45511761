"""A signed-in gestionnaire stays signed in across a reload and a new tab (HTTP-only session cookie set by the
route of serveur.py), and signing out ends it. Real server, Debian chromium."""

from __future__ import annotations

import pytest

from cdv_core import auth
from tests.e2e.conftest import app_exceptions, goto_app, wait_for_app

PASSWORD = "un-mot-de-passe-assez-long"


def signed_in_as(page, name: str) -> bool:
    return page.locator('[data-testid="stSidebar"]').get_by_text(name).count() > 0


@pytest.mark.e2e
def test_a_reload_and_a_new_tab_keep_the_gestionnaire_signed_in(streamlit_factory, browser, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[cdv]\nduree_session_heures = 2\n\n[cdv.comptes.marie]\nnom = "Marie Dupont"\n'
                       f'role = "gestionnaire"\nmot_de_passe = "{auth.hash_password(PASSWORD, iterations=10_000)}"\n',
                       encoding="utf-8")
    server = streamlit_factory("serveur.py", env={"CDV_SECRETS": str(secrets)}, timeout=120.0)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="fr-FR")
    context.set_default_timeout(90_000)  # a loaded machine
    try:
        page = context.new_page()
        # a bookmark to a management page, not signed in: « Accès réservé » (not an English "page not found")
        goto_app(page, server.url + "/import-donnees", timeout=180_000)  # a fresh server builds its base first
        assert page.get_by_role("heading", name="Accès réservé").count() == 1
        page.get_by_text("Connexion (gestionnaires)").click()
        page.get_by_label("Identifiant").fill("marie")
        page.get_by_label("Mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        wait_for_app(page)
        page.get_by_role("heading", name="Importer des données").wait_for()
        # the hidden component exchanges its one-time code for the cookie
        cookies: dict = {}
        for _ in range(300):
            cookies = {c["name"]: c for c in context.cookies()}
            if "cdv_session" in cookies:
                break
            page.wait_for_timeout(100)
        cookie = cookies["cdv_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert PASSWORD not in cookie["value"] and "cdv_session" not in page.url

        page.reload()
        wait_for_app(page)
        assert signed_in_as(page, "Marie Dupont")
        assert page.get_by_role("heading", name="Importer des données").count() == 1

        other = context.new_page()  # a new tab, straight to the other management page
        goto_app(other, server.url + "/journal-imports")
        assert other.get_by_role("heading", name="Accès réservé").count() == 0
        assert signed_in_as(other, "Marie Dupont")
        assert app_exceptions(other) == []
        other.close()

        page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Se déconnecter").click()
        wait_for_app(page)
        for _ in range(300):  # the component asks the route to delete the cookie
            if "cdv_session" not in {c["name"] for c in context.cookies()}:
                break
            page.wait_for_timeout(100)
        page.reload()
        wait_for_app(page)
        assert not signed_in_as(page, "Marie Dupont")
        assert page.get_by_role("heading", name="Accès réservé").count() == 1
        assert app_exceptions(page) == []
    finally:
        context.close()
