"""Every write is guarded in one place (gestion): role checked against the access configuration as it is at
the time of the write, journaled; imports commit exactly the plan shown; sign-ins are slowed down after
failures; a session token keeps a local sign-in. Core level (the pages are in test_trust_pages.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from cdv_core import auth, gestion, importer, schema, vues
from cdv_core import queries_piliers as qp
from tests.conftest import TEST_PASSWORD, write_secrets

MARIE = auth.User("marie", "Marie Dupont", frozenset({auth.GESTIONNAIRE}), "local")
PAUL = auth.User("paul", "Paul", frozenset({auth.LECTEUR}), "local")
# A session opened while Paul was (wrongly) declared gestionnaire: the core must re-read the configuration.
PAUL_STALE = auth.User("paul", "Paul", frozenset({auth.GESTIONNAIRE}), "local")
OIDC_LECTEUR = auth.User("x@ville.fr", "X", frozenset({auth.GESTIONNAIRE}), "oidc", "x@ville.fr")

QPV_FILE = (b"code_qpv;nom_qpv;communes_insee;geographie;population;contrat\r\n"
            b"QN99999Z;Quartier d'essai;06088;2024;1500;\r\n")
FIN_HEADER = b"action_id;annee;financeur;montant_accorde\r\n"


@pytest.fixture
def con(demo_db):
    c = schema.connect(demo_db)
    yield c
    c.close()


def counts(con) -> dict[str, int]:
    tables = ("seance", "vue_enregistree", "cible_pilier", "qpv", "import_journal")
    out = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    out["journal_acces"] = len(gestion.access_journal(con))
    return out


def a_seance() -> vues.Seance:
    return vues.Seance("COPIL du 12 décembre 2026", dt.date(2026, 12, 12), [{"type": "piliers", "annee": 2022}])


WRITES = {
    "séance": lambda c, who: gestion.save_seance(c, a_seance(), who),
    "suppression de séance": lambda c, who: gestion.delete_seance(c, "copil-du-12-decembre-2026", who),
    "vue": lambda c, who: gestion.save_view(c, "CAF", "vue-ensemble", "financeurs=caf", who),
    "suppression de vue": lambda c, who: gestion.delete_view(c, "CAF", who),
    "cible": lambda c, who: gestion.definir_cible(c, "emploi", "tous", 20, actor=who),
    "suppression de cible": lambda c, who: gestion.supprimer_cible(c, "emploi", "tous", actor=who),
    "référentiel": lambda c, who: gestion.commit_import(c, [gestion.Upload("qpv.csv", QPV_FILE)], who),
    "annulation": lambda c, who: gestion.undo(c, None, who),
}


def _prepare(con) -> None:
    """One of each thing to change or delete, written by a gestionnaire."""
    gestion.save_seance(con, a_seance(), MARIE)
    gestion.save_view(con, "CAF", "vue-ensemble", "financeurs=caf", MARIE)
    gestion.definir_cible(con, "emploi", "tous", 10, actor=MARIE)


@pytest.mark.parametrize("who", [None, auth.ANONYMOUS, PAUL, PAUL_STALE, OIDC_LECTEUR],
                         ids=["personne", "anonyme", "lecteur", "lecteur-role-perime", "oidc-sans-configuration"])
@pytest.mark.parametrize("write", list(WRITES))
def test_no_write_without_the_role(con, who, write):
    _prepare(con)
    before = counts(con)
    seance_before = vues.load_seance(con, "copil-du-12-decembre-2026")
    with pytest.raises(auth.AccessDenied) as refused:
        WRITES[write](con, who)
    assert "gestionnaires" in refused.value.message
    assert counts(con) == before
    assert vues.load_seance(con, "copil-du-12-decembre-2026") == seance_before
    assert qp.cibles(con)["part_cible"].tolist() == [10.0]


@pytest.mark.parametrize("write", list(WRITES))
def test_a_gestionnaire_writes_and_is_journaled(con, write):
    _prepare(con)
    before = counts(con)
    WRITES[write](con, MARIE)
    after = counts(con)
    journaled = after["import_journal"] == before["import_journal"] + 1
    if journaled:
        who = con.execute("SELECT utilisateur FROM import_journal ORDER BY import_id DESC LIMIT 1").fetchone()[0]
    else:
        assert after["journal_acces"] == before["journal_acces"] + 1
        who = gestion.access_journal(con)["Personne"].iloc[0]
    assert who == "Marie Dupont"


def test_a_role_removed_from_the_configuration_stops_the_next_write(con, tmp_path, monkeypatch):
    secrets = write_secrets(tmp_path / "secrets.toml", {"marie": ("Marie Dupont", "gestionnaire")})
    monkeypatch.setenv("CDV_SECRETS", str(secrets))
    gestion.save_view(con, "Première", "vue-ensemble", "", MARIE)  # the open tab writes
    write_secrets(secrets, {"marie": ("Marie Dupont", "lecteur")})  # the administrator withdraws the role
    with pytest.raises(auth.AccessDenied):
        gestion.save_view(con, "Seconde", "vue-ensemble", "", MARIE)  # same session object, next write
    write_secrets(secrets, {})  # the account is removed altogether
    with pytest.raises(auth.AccessDenied, match="plus déclaré"):
        gestion.commit_import(con, [gestion.Upload("qpv.csv", QPV_FILE)], MARIE)
    assert list(vues.list_views(con)["nom"]) == ["Première"]


def test_the_command_line_acts_as_local_administrator_and_says_so(con):
    result = gestion.commit_import(con, [gestion.Upload("qpv.csv", QPV_FILE)], auth.cli_user("camille"))[0]
    who = con.execute("SELECT utilisateur FROM import_journal WHERE import_id = ?", [result.import_id]).fetchone()[0]
    assert who == "camille (ligne de commande, administrateur local)"


# --------------------------------------------------------------------------- imports: all or nothing, as shown


def test_a_multi_file_upload_with_one_bad_file_writes_nothing(con):
    before = counts(con)
    good = gestion.Upload("qpv.csv", QPV_FILE)
    bad = gestion.Upload("financements.csv", FIN_HEADER + b"INCONNUE-1;2022;caf;-5\r\n")
    plan = gestion.plan_import(con, [good, bad])
    assert [f.ok for f in plan.files] == [True, False]
    with pytest.raises(importer.ImportRejected):
        gestion.commit_plan(con, plan, MARIE)
    with pytest.raises(importer.ImportRejected):
        gestion.commit_import(con, [good, bad], MARIE)
    assert counts(con) == before
    assert con.execute("SELECT count(*) FROM qpv WHERE code_qpv = 'QN99999Z'").fetchone()[0] == 0


def test_the_commit_writes_the_plan_shown_or_nothing(con):
    rows = "CALL-2022-0410;2025;caf;{}\r\n"
    mine = gestion.plan_import(con, [gestion.Upload("moi.csv", FIN_HEADER + rows.format(111).encode())])
    theirs = gestion.plan_import(con, [gestion.Upload("autre.csv", FIN_HEADER + rows.format(222).encode())])
    gestion.commit_plan(con, theirs, MARIE)  # the other person validates first
    stored = con.execute("SELECT montant_accorde FROM financement WHERE action_id = 'CALL-2022-0410' "
                         "AND annee = 2025").fetchall()
    with pytest.raises(gestion.StalePlan) as stale:
        gestion.commit_plan(con, mine, MARIE)  # checked before their import: refused, nothing written
    assert "rien n'a été écrit" in stale.value.message
    assert con.execute("SELECT montant_accorde FROM financement WHERE action_id = 'CALL-2022-0410' "
                       "AND annee = 2025").fetchall() == stored == [(222.0,)]
    fresh = gestion.plan_import(con, [gestion.Upload("moi.csv", FIN_HEADER + rows.format(111).encode())])
    assert fresh.version > mine.version
    gestion.commit_plan(con, fresh, MARIE)
    assert con.execute("SELECT montant_accorde FROM financement WHERE action_id = 'CALL-2022-0410' "
                       "AND annee = 2025").fetchall() == [(111.0,)]


# --------------------------------------------------------------------------- sign-in throttle and session token


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_wrong_passwords_slow_the_sixth_attempt(tmp_path):
    cfg = auth.load_config(write_secrets(tmp_path / "s.toml", {"marie": ("Marie", "gestionnaire")}))
    clock = Clock()
    throttle = auth.SignInThrottle(clock=clock)
    for _ in range(5):  # five wrong passwords, each tried as soon as allowed
        clock.now += throttle.wait_time("marie", "10.0.0.1")
        wrong = auth.sign_in(cfg, "marie", "mauvais mot de passe", throttle, "10.0.0.1")
        assert wrong.user is None and "incorrect" in wrong.message
    assert throttle.failures("marie", "10.0.0.1") == 5
    # the sixth attempt, even with the right password, is refused until the delay is over
    sixth = auth.sign_in(cfg, "marie", TEST_PASSWORD, throttle, "10.0.0.1")
    assert sixth.user is None and sixth.wait > 0 and "Trop de tentatives" in sixth.message
    assert throttle.wait_time("marie", "10.0.0.1") == pytest.approx(4.0)  # 1, 2, 4 s after failures 3, 4, 5
    # the same account from another address, and another account from the same address, wait too
    assert throttle.wait_time("marie", "10.0.0.2") > 0 and throttle.wait_time("paul", "10.0.0.1") > 0
    clock.now += 4.0
    assert auth.sign_in(cfg, "marie", TEST_PASSWORD, throttle, "10.0.0.1").user.login == "marie"
    assert throttle.wait_time("marie", "10.0.0.1") == 0  # a success clears the counters


def test_the_delay_grows_and_is_capped():
    throttle = auth.SignInThrottle(free=3, base=1.0, cap=60.0)
    assert [throttle.delay(n) for n in range(1, 10)] == [0, 0, 1, 2, 4, 8, 16, 32, 60]


def test_session_token_keeps_a_sign_in_until_it_expires_or_the_password_changes(tmp_path):
    path = write_secrets(tmp_path / "s.toml", {"marie": ("Marie", "gestionnaire")})
    cfg = auth.load_config(path)
    key = b"k" * 32
    user = auth.authenticate(cfg, "marie", TEST_PASSWORD)
    token = auth.session_token(user, key, now=100.0, ttl=3600, config=cfg)
    assert auth.user_from_token(token, key, 200.0, cfg).login == "marie"
    assert auth.user_from_token(token, key, 100.0 + 3601, cfg) is None  # expired
    assert auth.user_from_token(token, b"x" * 32, 200.0, cfg) is None  # another server key
    assert auth.user_from_token(token[:-1] + ("0" if token[-1] != "0" else "1"), key, 200.0, cfg) is None
    assert auth.user_from_token("n'importe quoi", key, 200.0, cfg) is None
    write_secrets(path, {"marie": ("Marie", "gestionnaire")})  # new hash (new salt): old sessions end
    assert auth.user_from_token(token, key, 200.0, auth.load_config(path)) is None


def test_throttle_messages_round_the_wait_up_to_whole_seconds(tmp_path):
    cfg = auth.load_config(write_secrets(tmp_path / "s.toml", {"marie": ("Marie", "gestionnaire")}))
    clock = Clock()
    throttle = auth.SignInThrottle(free=1, base=2.5, cap=900.0, clock=clock)
    first = auth.sign_in(cfg, "marie", "faux", throttle, "10.0.0.1")  # 1st failure: 2.5 s to wait
    assert (first.user, first.wait) == (None, 2.5)
    assert first.message == "Identifiant ou mot de passe incorrect. Prochaine tentative possible dans 3 secondes."
    clock.now += 0.4  # 2.1 s left: said as 3 s, never as 2 (too early) nor 0
    early = auth.sign_in(cfg, "marie", TEST_PASSWORD, throttle, "10.0.0.1")
    assert early.user is None and early.wait == pytest.approx(2.1)
    assert early.message == "Trop de tentatives de connexion : réessayez dans 3 secondes."
    clock.now += 2.1  # exactly on time: allowed
    assert auth.sign_in(cfg, "marie", TEST_PASSWORD, throttle, "10.0.0.1").user.login == "marie"
    # Below the free attempts, the message says nothing of a delay.
    plain = auth.sign_in(cfg, "marie", "faux", auth.SignInThrottle(free=3, clock=clock), "10.0.0.1")
    assert plain.message == "Identifiant ou mot de passe incorrect." and plain.wait == 0


def test_throttle_counts_per_account_whatever_its_case_and_per_address():
    clock = Clock()
    throttle = auth.SignInThrottle(free=1, base=10.0, clock=clock)  # 10 s after the first failure
    throttle.failed(" Marie ", "10.0.0.1")
    assert throttle.wait_time("marie") == 10.0  # the same account, spelt differently, from anywhere
    assert throttle.wait_time("paul", "10.0.0.1") == 10.0  # another account from the same address
    assert throttle.wait_time("paul", "10.0.0.2") == 0 and throttle.wait_time("paul") == 0
    assert throttle.failures("paul", "10.0.0.1") == 1 and throttle.failures("paul", "10.0.0.2") == 0
    # A success clears the account's counter and the address's counter.
    throttle.succeeded("marie", "10.0.0.1")
    assert throttle.wait_time("paul", "10.0.0.1") == 0 and throttle.failures("paul", "10.0.0.1") == 0
    assert throttle.wait_time("MARIE") == 0 and throttle.failures("marie") == 0
    # Without an address, only the account counts.
    throttle.failed("marie")
    assert throttle.wait_time("paul", None) == 0 and throttle.wait_time("marie", "10.9.9.9") == 10.0


@pytest.mark.parametrize("login", ["a", "ab", "abc", "abcd", "jean-luc_2"])
def test_session_token_of_any_login_length_and_its_exact_expiry(tmp_path, login):
    """The login is base64 without padding in the token (every length of padding is read back); the token
    is valid up to its expiry second included."""
    cfg = auth.load_config(write_secrets(tmp_path / "s.toml", {login: ("Quelqu'un", "gestionnaire")}))
    key = b"k" * 32
    user = auth.authenticate(cfg, login, TEST_PASSWORD)
    token = auth.session_token(user, key, now=100.7, ttl=10, config=cfg)
    encoded, expiry, mac = token.split(".")
    assert "=" not in encoded and expiry == "110" and len(mac) == 64
    assert auth.user_from_token(token, key, 110.0, cfg).login == login
    assert auth.user_from_token(token, key, 110.001, cfg) is None


def test_hash_password_needs_twelve_characters():
    import subprocess
    import sys

    def run(text: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cdv_core", "hash-password"], input=text + "\n",
                              capture_output=True, text=True, timeout=120)

    short = run("a" * 11)
    assert short.returncode == 1 and "12 caractères au moins" in short.stderr and short.stdout == ""
    ok = run("a" * 12)
    assert ok.returncode == 0 and ok.stdout.startswith("pbkdf2_sha256$600000$")
    assert auth.verify_password("a" * 12, ok.stdout.strip())


def test_roles_are_those_of_the_configuration_now(tmp_path):
    path = write_secrets(tmp_path / "s.toml", {"marie": ("Marie Dupont", "gestionnaire"), "paul": ("Paul", "lecteur")})
    path.write_text('[cdv]\ngestionnaires = ["chef@ville.fr"]\n\n' + path.read_text(encoding="utf-8")
                    + '[auth]\nredirect_uri = "http://localhost/oauth2callback"\n', encoding="utf-8")
    cfg = auth.load_config(path)
    assert auth.refresh(PAUL_STALE, cfg).roles == frozenset({auth.LECTEUR})
    assert auth.require_current_role(MARIE, config=cfg).roles == frozenset({auth.GESTIONNAIRE})
    assert auth.require_current_role(auth.cli_user("x"), config=cfg).via == "cli"
    chef = auth.User("chef@ville.fr", "Chef", frozenset(), "oidc", "chef@ville.fr")
    assert auth.require_current_role(chef, config=cfg).has_role(auth.GESTIONNAIRE)
    assert auth.require_current_role(PAUL, auth.LECTEUR, config=cfg).login == "paul"  # a reader may read
    with pytest.raises(auth.AccessDenied, match="n'a pas le rôle"):
        auth.require_current_role(PAUL_STALE, config=cfg)
    with pytest.raises(auth.AccessDenied, match="n'a pas le rôle"):
        auth.require_current_role(OIDC_LECTEUR, config=cfg)
    with pytest.raises(auth.AccessDenied, match="pas connecté"):
        auth.require_current_role(None, config=cfg)
    with pytest.raises(auth.AccessDenied, match="pas connecté"):
        auth.require_current_role(auth.ANONYMOUS, config=cfg)
    gone = auth.User("zoe", "Zoé", frozenset({auth.GESTIONNAIRE}), "local")
    with pytest.raises(auth.AccessDenied, match="plus déclaré"):
        auth.require_current_role(gone, config=cfg)
    assert auth.journal_label(auth.cli_user("camille")) == "camille (ligne de commande, administrateur local)"
    assert auth.journal_label(MARIE) == "Marie Dupont"


def test_role_checks_exactly(tmp_path, monkeypatch):
    """Written against the mutants mutmut left alive in the role checks (docs/MUTATION.md)."""
    assert auth.ANONYMOUS.has_role(auth.LECTEUR) is False  # nobody: no role at all
    assert MARIE.has_role(auth.LECTEUR) is True  # a gestionnaire may also view
    assert PAUL.has_role(auth.GESTIONNAIRE) is False and PAUL.has_role(auth.LECTEUR) is True
    assert auth.cli_user("camille") == auth.User("camille", "camille", frozenset({auth.GESTIONNAIRE}), "cli")
    path = write_secrets(tmp_path / "s.toml", {"paul": ("Paul", "lecteur")})
    path.write_text('[cdv]\ngestionnaires = ["chef@ville.fr"]\n\n' + path.read_text(encoding="utf-8")
                    + '[auth]\nredirect_uri = "http://localhost/oauth2callback"\n', encoding="utf-8")
    cfg = auth.load_config(path)
    assert auth.refresh(PAUL_STALE, cfg) == auth.User("paul", "Paul", frozenset({auth.LECTEUR}), "local")
    chef = auth.User("chef@ville.fr", "Chef", frozenset(), "oidc", None)  # no e-mail claim: the login is it
    assert auth.refresh(chef, cfg) == auth.User("chef@ville.fr", "Chef", frozenset({auth.GESTIONNAIRE}), "oidc",
                                                "chef@ville.fr")
    monkeypatch.setenv("CDV_SECRETS", str(path))  # without `config`, the file is read at the time of the check
    with pytest.raises(auth.AccessDenied) as refused:
        auth.require_current_role(PAUL_STALE)
    assert refused.value.message == ("Le compte « Paul » n'a pas le rôle « gestionnaire » : cette opération est "
                                     "réservée aux gestionnaires des données.")
    with pytest.raises(auth.AccessDenied) as refused:
        auth.require_current_role(None)
    assert refused.value.message == ("Vous n'êtes pas connecté(e) : cette opération est réservée aux "
                                     "gestionnaires des données.")
    with pytest.raises(auth.AccessDenied) as refused:
        auth.require_current_role(MARIE)  # marie is not declared in this file
    assert refused.value.message == ("Le compte « Marie Dupont » n'est plus déclaré dans la configuration des "
                                     "accès : cette opération est réservée aux gestionnaires des données.")
