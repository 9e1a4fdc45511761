"""Access control: password hashes, the secrets.toml configuration, roles at core level and in the app."""

from __future__ import annotations

import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from cdv_core import auth, gestion, schema
from tests.conftest import REPO_ROOT

PASSWORD = "mot-de-passe-de-test"
GESTIONNAIRE = auth.User("marie", "Marie Dupont", frozenset({auth.GESTIONNAIRE}), "local")
LECTEUR = auth.User("paul", "Paul", frozenset({auth.LECTEUR}), "local")


@pytest.fixture(scope="module")
def password_hash() -> str:
    return auth.hash_password(PASSWORD)


def write_secrets(path, password_hash: str, extra: str = "") -> None:
    path.write_text(f"""
[cdv]
consultation = "libre"
gestionnaires = ["Marie.Dupont@Agglo.fr"]

[cdv.comptes.marie]
nom = "Marie Dupont"
role = "gestionnaire"
mot_de_passe = "{password_hash}"

[cdv.comptes.paul]
nom = "Paul"
role = "lecteur"
mot_de_passe = "{password_hash}"
{extra}
""", encoding="utf-8")


# --------------------------------------------------------------------------- passwords


def test_hash_password_round_trip_and_salt(password_hash):
    assert password_hash.startswith("pbkdf2_sha256$600000$")
    assert auth.verify_password(PASSWORD, password_hash)
    assert not auth.verify_password(PASSWORD + "x", password_hash)
    assert not auth.verify_password("", password_hash)
    # a fresh salt each time: the same password never gives the same hash
    assert auth.hash_password(PASSWORD, iterations=1000) != auth.hash_password(PASSWORD, iterations=1000)


def test_hash_matches_hashlib_by_hand():
    salt = b"0123456789abcdef"
    import base64
    import hashlib

    expected = base64.b64encode(hashlib.pbkdf2_hmac("sha256", b"abc", salt, 1000)).decode()
    assert auth.hash_password("abc", salt=salt, iterations=1000).split("$")[3] == expected


@pytest.mark.parametrize("bad", ["", "plain-text", "md5$1$aa$bb", "pbkdf2_sha256$notanumber$aa$bb",
                                 "pbkdf2_sha256$1000$%%%$bb"])
def test_malformed_hash_never_matches(bad):
    assert auth.verify_password("anything", bad) is False


def test_cli_hash_password_reads_stdin():
    out = subprocess.run([sys.executable, "-m", "cdv_core", "hash-password"], input="un-long-mot-de-passe\n",
                         capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert auth.verify_password("un-long-mot-de-passe", out.stdout.strip())
    short = subprocess.run([sys.executable, "-m", "cdv_core", "hash-password"], input="court\n",
                           capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert short.returncode == 1 and "trop court" in short.stderr


# --------------------------------------------------------------------------- configuration


def test_no_secrets_file_gives_read_only_config(tmp_path, monkeypatch):
    monkeypatch.setenv("CDV_SECRETS", str(tmp_path / "absent.toml"))
    cfg = auth.load_config()
    assert not cfg.management_enabled and not cfg.login_enabled and cfg.problem is None
    assert auth.can_view(cfg, auth.ANONYMOUS)


def test_default_lookup_without_env_does_not_crash(tmp_path, monkeypatch):
    monkeypatch.delenv("CDV_SECRETS", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert auth.secrets_path() is None
    assert not auth.load_config().management_enabled


def test_unreadable_secrets_is_reported_not_raised(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text("[cdv\nconsultation = ", encoding="utf-8")
    cfg = auth.load_config(path)
    assert not cfg.management_enabled and "illisible" in cfg.problem


def test_accounts_and_authentication(tmp_path, password_hash):
    path = tmp_path / "secrets.toml"
    write_secrets(path, password_hash, '[cdv.comptes.bad]\nrole = "chef"\nmot_de_passe = "x"\n')
    cfg = auth.load_config(path)
    assert set(cfg.accounts) == {"marie", "paul"}  # the malformed account is left out, and said so
    assert "bad" in cfg.problem
    assert cfg.management_enabled
    marie = auth.authenticate(cfg, "Marie", PASSWORD)
    assert marie is not None and marie.has_role(auth.GESTIONNAIRE) and marie.label == "Marie Dupont"
    paul = auth.authenticate(cfg, "paul", PASSWORD)
    assert paul is not None and paul.has_role(auth.LECTEUR) and not paul.has_role(auth.GESTIONNAIRE)
    assert auth.authenticate(cfg, "marie", "wrong") is None
    assert auth.authenticate(cfg, "nobody", PASSWORD) is None


def test_oidc_roles_from_emails(tmp_path, password_hash):
    path = tmp_path / "secrets.toml"
    write_secrets(path, password_hash, '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n')
    cfg = auth.load_config(path)
    assert cfg.oidc
    assert auth.user_from_oidc(cfg, "marie.dupont@agglo.FR", "Marie").has_role(auth.GESTIONNAIRE)
    other = auth.user_from_oidc(cfg, "someone@agglo.fr")
    assert other.has_role(auth.LECTEUR) and not other.has_role(auth.GESTIONNAIRE)


def test_protected_consultation(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text('[cdv]\nconsultation = "connexion"\nlecteurs = ["elu@ville.fr"]\ngestionnaires = ["g@ville.fr"]\n'
                    '[auth]\nredirect_uri = "x"\n', encoding="utf-8")
    cfg = auth.load_config(path)
    assert not auth.can_view(cfg, auth.ANONYMOUS)
    assert auth.can_view(cfg, auth.user_from_oidc(cfg, "elu@ville.fr"))
    assert auth.can_view(cfg, auth.user_from_oidc(cfg, "g@ville.fr"))
    assert not auth.can_view(cfg, auth.user_from_oidc(cfg, "intrus@ailleurs.fr"))


# --------------------------------------------------------------------------- core functions refuse


def _snapshot(con) -> tuple:
    return (con.execute("SELECT count(*), sum(montant_accorde) FROM financement").fetchone(),
            con.execute("SELECT count(*) FROM import_journal").fetchone()[0])


FIN = (b"action_id;annee;financeur;montant_accorde\nCALL-2022-0410;2022;caf;3000\n")


@pytest.mark.parametrize("user", [None, auth.ANONYMOUS, LECTEUR])
def test_core_write_functions_refuse_without_role(demo_db, tmp_path, user):
    con = schema.connect(demo_db)
    try:
        before = _snapshot(con)
        with pytest.raises(auth.AccessDenied) as exc:
            gestion.commit_import(con, [gestion.Upload("f.csv", FIN)], user)
        assert "gestionnaires" in exc.value.message
        with pytest.raises(auth.AccessDenied):
            gestion.undo(con, 1, user)
        with pytest.raises(auth.AccessDenied):
            gestion.backup_now(con, demo_db, tmp_path / "bk", user)
        assert _snapshot(con) == before
        assert not (tmp_path / "bk").exists()
        # the gestionnaire may
        results = gestion.commit_import(con, [gestion.Upload("f.csv", FIN)], GESTIONNAIRE)
        assert results[0].import_id > 0
        assert con.execute("SELECT utilisateur FROM import_journal WHERE import_id = ?",
                           [results[0].import_id]).fetchone()[0] == "Marie Dupont"
    finally:
        con.close()


def test_cli_user_is_a_gestionnaire():
    assert auth.cli_user("admin").has_role(auth.GESTIONNAIRE)


# --------------------------------------------------------------------------- in the app


def _app(monkeypatch, secrets_path) -> AppTest:
    monkeypatch.setenv("CDV_SECRETS", str(secrets_path))
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    return at


def _can_open(at: AppTest, script: str) -> bool:
    """Whether `script` is in this person's navigation; if it is, switch to it and check it really shows."""
    try:
        at.switch_page(script)
    except ValueError:  # AppTest: "Could not find a navigation page" = not registered for this session
        return False
    at.run()
    assert not at.exception
    titles = [t.value for t in at.title]
    if "Accès réservé" in titles:  # registered but hidden (a bookmark lands here, not on "Page not found")
        assert not [e for e in at.error if "réservée aux gestionnaires" not in e.value]
        return False
    assert any(t.startswith(("Importer des données", "Journal des imports")) for t in titles), titles
    return True


def _login(at: AppTest, login: str, password: str) -> None:
    at.sidebar.text_input(key="cdv_login_id").input(login)
    at.sidebar.text_input(key="cdv_login_pwd").input(password)
    next(b for b in at.sidebar.button if b.label == "Se connecter").click()
    at.run()


def test_without_configuration_import_is_hidden_and_explained(demo_app_env, monkeypatch, tmp_path):
    at = _app(monkeypatch, tmp_path / "absent.toml")
    at.run()
    assert not at.exception
    notice = " ".join(c.value for c in at.sidebar.caption)
    assert "import de données est désactivé" in notice and "secrets.toml" in notice
    assert not _can_open(at, "pages/import_donnees.py")
    assert not at.exception


def test_direct_page_refused_without_role(demo_app_env, monkeypatch, tmp_path):
    monkeypatch.setenv("CDV_SECRETS", str(tmp_path / "absent.toml"))
    for page in ("pages/import_donnees.py", "pages/journal.py"):
        at = AppTest.from_file(str(REPO_ROOT / page), default_timeout=120)
        at.run()
        assert not at.exception
        assert at.title[0].value == "Accès réservé"
        assert "réservée aux gestionnaires" in at.error[0].value
        assert len(at.get("file_uploader")) == 0 and len(at.button) == 0


def test_local_login_shows_management_pages(demo_app_env, monkeypatch, tmp_path, password_hash):
    path = tmp_path / "secrets.toml"
    write_secrets(path, password_hash)
    at = _app(monkeypatch, path)
    at.run()
    assert not _can_open(at, "pages/import_donnees.py")
    _login(at, "marie", "faux")
    assert "incorrect" in at.sidebar.error[0].value
    assert not _can_open(at, "pages/import_donnees.py")
    _login(at, "marie", PASSWORD)
    assert not at.exception
    assert any("Marie Dupont" in m.value for m in at.sidebar.markdown)
    assert _can_open(at, "pages/import_donnees.py")
    assert _can_open(at, "pages/journal.py")
    at.sidebar.button(key="cdv_logout").click()
    at.run()
    assert not _can_open(at, "pages/journal.py")


def test_reader_account_does_not_get_management(demo_app_env, monkeypatch, tmp_path, password_hash):
    path = tmp_path / "secrets.toml"
    write_secrets(path, password_hash)
    at = _app(monkeypatch, path)
    at.run()
    _login(at, "paul", PASSWORD)
    assert any("Paul" in m.value for m in at.sidebar.markdown)
    assert not _can_open(at, "pages/import_donnees.py")


@pytest.mark.parametrize(("email", "allowed"), [("marie.dupont@agglo.fr", True), ("paul@agglo.fr", False)])
def test_oidc_user_roles_in_app(demo_app_env, monkeypatch, tmp_path, password_hash, email, allowed):
    path = tmp_path / "secrets.toml"
    write_secrets(path, password_hash, '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n'
                  'cookie_secret = "test"\n')
    at = _app(monkeypatch, path)
    at.user = {"is_logged_in": True, "email": email, "name": "Quelqu'un"}
    at.run()
    assert not at.exception
    assert _can_open(at, "pages/import_donnees.py") is allowed


def test_protected_consultation_shows_only_login(demo_app_env, monkeypatch, tmp_path, password_hash):
    path = tmp_path / "secrets.toml"
    write_secrets(path, password_hash)
    path.write_text(path.read_text(encoding="utf-8").replace('consultation = "libre"', 'consultation = "connexion"'),
                    encoding="utf-8")
    at = _app(monkeypatch, path)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Tableau de bord des contrats de ville"
    assert "réservée" in at.info[0].value
    assert len(at.metric) == 0  # no figure shown before logging in
