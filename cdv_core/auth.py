"""Who may do what: roles, the access configuration (secrets.toml) and local password hashes.

Viewing the dashboard can be open or protected; importing, undoing and editing referentials need the
`gestionnaire` role. People are identified either by an OpenID Connect provider (Streamlit's `st.login`,
roles mapped from a list of e-mails) or by a local account whose PBKDF2-SHA256 password hash is in
secrets.toml. This module never imports streamlit: the app reads the identity, this module decides.

Configuration (`[cdv]` of secrets.toml; see .streamlit/secrets.toml.example):

    [cdv]
    consultation = "libre"            # "libre": anyone may view; "connexion": log in to view
    gestionnaires = ["a@ville.fr"]    # OIDC e-mails given the gestionnaire role
    lecteurs = []                     # with consultation = "connexion": e-mails allowed to view (empty: all)

    [cdv.comptes.marie]               # a local account (identifiant "marie")
    nom = "Marie Dupont"
    role = "gestionnaire"             # or "lecteur"
    mot_de_passe = "pbkdf2_sha256$600000$…$…"   # python -m cdv_core hash-password
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets as _secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from cdv_core import fmt
from cdv_core.errors import CdvError

GESTIONNAIRE = "gestionnaire"
LECTEUR = "lecteur"
ROLES = (GESTIONNAIRE, LECTEUR)
ROLE_LABELS = {GESTIONNAIRE: "gestionnaire des données", LECTEUR: "consultation"}

PBKDF2_ITERATIONS = 600_000
MIN_PASSWORD = 12  # characters, enforced by `python -m cdv_core hash-password`
_SCHEME = "pbkdf2_sha256"


class AccessDenied(CdvError, PermissionError):
    """The person lacks the role an operation needs; `.message` says so in French."""


@dataclass(frozen=True)
class User:
    """A person using the app (or the command line) and the roles they hold."""

    login: str
    name: str
    roles: frozenset[str] = frozenset()
    via: str = "anonyme"  # "anonyme", "local" (password), "oidc", "cli"
    email: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.via != "anonyme"

    def has_role(self, role: str) -> bool:
        # a gestionnaire may also view
        return role in self.roles or (role == LECTEUR and GESTIONNAIRE in self.roles)

    @property
    def label(self) -> str:
        """Name shown on screen and written to the import journal."""
        return self.name or self.login


ANONYMOUS = User(login="", name="", roles=frozenset(), via="anonyme")


def cli_user(name: str | None = None) -> User:
    """The person at the command line: a trusted local administrator (whoever can open the file)."""
    from cdv_core.importer import default_user

    login = name or default_user()
    return User(login=login, name=login, roles=frozenset({GESTIONNAIRE}), via="cli")


def journal_label(user: User) -> str:
    """Who did it, as written to the journals (the command line says it acts as local administrator)."""
    if user.via == "cli":
        return f"{user.label} (ligne de commande, administrateur local)"
    return user.label


def refresh(user: User | None, config: AccessConfig | None = None) -> User:
    """`user` with the roles the configuration gives them *now* (re-read from secrets.toml by default).

    A role removed from the file, or an account deleted, is withdrawn at once from an open session; the
    command line keeps its local administrator role (whoever can open the file can write it anyway).
    """
    if user is None or not user.authenticated:
        return ANONYMOUS
    if user.via == "cli":
        return user
    cfg = config if config is not None else load_config()
    if user.via == "local":
        account = cfg.accounts.get(user.login)
        if account is None:
            return ANONYMOUS
        return User(login=account.login, name=account.name, roles=frozenset({account.role}), via="local")
    if user.via == "oidc":
        if not cfg.oidc:
            return ANONYMOUS
        return user_from_oidc(cfg, user.email or user.login, user.name)
    return ANONYMOUS


def require_current_role(user: User | None, role: str = GESTIONNAIRE, config: AccessConfig | None = None) -> User:
    """At the time of a write: `user` as the current configuration sees them, or AccessDenied."""
    fresh = refresh(user, config)
    if user is not None and user.authenticated and not fresh.authenticated:
        raise AccessDenied(f"Le compte « {user.label} » n'est plus déclaré dans la configuration des accès : "
                           "cette opération est réservée aux gestionnaires des données.")
    require_role(fresh, role)
    return fresh


def require_role(user: User | None, role: str = GESTIONNAIRE) -> None:
    """Raise AccessDenied unless `user` holds `role`."""
    if user is None or not user.has_role(role):
        who = "Vous n'êtes pas connecté(e)" if user is None or not user.authenticated else \
            f"Le compte « {user.label} » n'a pas le rôle « {role} »"
        raise AccessDenied(f"{who} : cette opération est réservée aux gestionnaires des données.")


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Account:
    """A local account of secrets.toml."""

    login: str
    name: str
    role: str
    password_hash: str


@dataclass(frozen=True)
class AccessConfig:
    """What secrets.toml says about access (an empty config when there is no file)."""

    path: Path | None = None
    consultation_protegee: bool = False
    gestionnaires: frozenset[str] = frozenset()
    lecteurs: frozenset[str] = frozenset()
    accounts: dict[str, Account] = field(default_factory=dict)
    oidc: bool = False  # an [auth] section is present: st.login can be used
    oidc_provider: str | None = None  # name of an [auth.<provider>] section, if several
    problem: str | None = None  # a French sentence when the file exists but cannot be used
    session_key: str | None = None  # [cdv] cle_session: signs the session cookies (else one key per process)
    session_hours: float = 8.0  # [cdv] duree_session_heures: how long a local sign-in lasts

    @property
    def management_enabled(self) -> bool:
        """Whether anyone at all can obtain the gestionnaire role through the app."""
        return bool(self.accounts and any(a.role == GESTIONNAIRE for a in self.accounts.values())) or (
            self.oidc and bool(self.gestionnaires))

    @property
    def login_enabled(self) -> bool:
        return bool(self.accounts) or self.oidc


def secrets_path() -> Path | None:
    """The secrets file the access configuration is read from.

    `CDV_SECRETS` when set (tests, several instances), else `.streamlit/secrets.toml` in the current
    directory, else `~/.streamlit/secrets.toml` (the places Streamlit itself reads); None if none exists.
    """
    env = os.environ.get("CDV_SECRETS")
    if env:
        return Path(env)
    for candidate in (Path.cwd() / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"):
        if candidate.is_file():
            return candidate
    return None


def _emails(values) -> frozenset[str]:
    if isinstance(values, str):
        values = [values]
    return frozenset(str(v).strip().lower() for v in (values or []) if str(v).strip())


def load_config(path: Path | str | None = None) -> AccessConfig:
    """The access configuration; never raises (a missing or unreadable file gives a read-only config)."""
    path = Path(path) if path is not None else secrets_path()
    if path is None or not path.is_file():
        return AccessConfig(path=path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return AccessConfig(path=path, problem=f"Le fichier de configuration {path.name} est illisible ({exc}) : "
                            "l'application reste en consultation seule.")
    cdv = data.get("cdv") or {}
    if not isinstance(cdv, dict):
        cdv = {}
    accounts: dict[str, Account] = {}
    problems: list[str] = []
    raw_accounts = cdv.get("comptes") or {}
    if isinstance(raw_accounts, dict):
        for login, spec in raw_accounts.items():
            if not isinstance(spec, dict):
                continue
            role = str(spec.get("role", LECTEUR)).strip().lower()
            pwd = str(spec.get("mot_de_passe", "")).strip()
            if role not in ROLES:
                problems.append(f"compte « {login} » : rôle « {role} » inconnu (gestionnaire ou lecteur)")
                continue
            if not pwd.startswith(_SCHEME + "$"):
                problems.append(f"compte « {login} » : mot_de_passe doit être une empreinte produite par "
                                "« python -m cdv_core hash-password »")
                continue
            accounts[str(login).strip().lower()] = Account(str(login).strip().lower(),
                                                           str(spec.get("nom") or login), role, pwd)
    auth = data.get("auth")
    provider = cdv.get("fournisseur") or None
    consultation = str(cdv.get("consultation", "libre")).strip().lower()
    return AccessConfig(
        path=path,
        consultation_protegee=consultation in ("connexion", "protegee", "protégée"),
        gestionnaires=_emails(cdv.get("gestionnaires")),
        lecteurs=_emails(cdv.get("lecteurs")),
        accounts=accounts,
        oidc=isinstance(auth, dict) and bool(auth),
        oidc_provider=str(provider) if provider else None,
        problem=("Configuration des accès : " + " ; ".join(problems) + ".") if problems else None,
        session_key=str(cdv["cle_session"]) if cdv.get("cle_session") else None,
        session_hours=_hours(cdv.get("duree_session_heures")),
    )


def _hours(value: object) -> float:
    try:
        hours = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 8.0
    return hours if 0 < hours <= 24 * 90 else 8.0


# --------------------------------------------------------------------------- identities


def user_from_oidc(config: AccessConfig, email: str | None, name: str | None = None) -> User:
    """The user behind an identity-provider login: gestionnaire if the e-mail is listed, else lecteur.

    With a protected consultation and a non-empty `lecteurs` list, an unlisted e-mail gets no role at all.
    """
    mail = (email or "").strip().lower()
    roles: set[str] = set()
    if mail and mail in config.gestionnaires:
        roles.add(GESTIONNAIRE)
    elif not (config.consultation_protegee and config.lecteurs) or mail in config.lecteurs:
        roles.add(LECTEUR)
    return User(login=mail, name=name or mail, roles=frozenset(roles), via="oidc", email=mail or None)


def authenticate(config: AccessConfig, login: str, password: str) -> User | None:
    """The local account `login` if `password` matches its hash, else None."""
    account = config.accounts.get((login or "").strip().lower())
    if account is None:
        # same work as a real check, so a wrong login is not faster than a wrong password
        verify_password(password or "", _dummy_hash())
        return None
    if not verify_password(password or "", account.password_hash):
        return None
    return User(login=account.login, name=account.name, roles=frozenset({account.role}), via="local")


def can_view(config: AccessConfig, user: User) -> bool:
    """Whether `user` may see the dashboard."""
    return not config.consultation_protegee or user.has_role(LECTEUR)


# --------------------------------------------------------------------------- passwords


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """`pbkdf2_sha256$<iterations>$<salt>$<hash>` (base64), for secrets.toml."""
    if not password:
        raise ValueError("empty password")
    salt = salt if salt is not None else _secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{_SCHEME}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches an encoded hash (constant-time comparison); False for a malformed hash."""
    try:
        scheme, iterations, salt, digest = encoded.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), base64.b64decode(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def _dummy_hash() -> str:
    return hash_password("cdv-dummy", salt=b"\0" * 16)


# --------------------------------------------------------------------------- failed sign-ins


class SignInThrottle:
    """Growing delay after failed sign-ins, counted per account and per address (in memory, per process).

    After `free` failures in a row, each new failure makes the next attempt wait `base` seconds, doubled at
    every further failure, up to `cap`: 5 wrong passwords make the 6th attempt wait 4 s (with the defaults),
    10 make the 11th wait 128 s. A success clears the account's and the address's counters. `clock` is
    injectable (tests); nothing here sleeps: an attempt made too early is refused without checking the
    password, and the page says how long to wait.
    """

    def __init__(self, free: int = 3, base: float = 1.0, cap: float = 900.0, clock=None):
        import threading
        import time

        self.free, self.base, self.cap = free, base, cap
        self.clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._next: dict[str, float] = {}

    @staticmethod
    def _keys(login: str, address: str | None) -> list[str]:
        keys = ["compte:" + (login or "").strip().lower()]
        if address:
            keys.append("adresse:" + address)
        return keys

    def delay(self, failures: int) -> float:
        """Seconds to wait after `failures` failures in a row."""
        if failures < self.free:
            return 0.0
        return float(min(self.cap, self.base * 2 ** (failures - self.free)))

    def wait_time(self, login: str, address: str | None = None) -> float:
        """Seconds before the next attempt for this account or from this address is allowed (0: now)."""
        now = self.clock()
        with self._lock:
            return max([0.0, *(self._next.get(k, 0.0) - now for k in self._keys(login, address))])

    def failures(self, login: str, address: str | None = None) -> int:
        with self._lock:
            return max(self._failures.get(k, 0) for k in self._keys(login, address))

    def failed(self, login: str, address: str | None = None) -> float:
        """Record a failure; the delay now imposed on the next attempt (seconds)."""
        now = self.clock()
        worst = 0.0
        with self._lock:
            for k in self._keys(login, address):
                n = self._failures.get(k, 0) + 1
                self._failures[k] = n
                d = self.delay(n)
                self._next[k] = now + d
                worst = max(worst, d)
        return worst

    def succeeded(self, login: str, address: str | None = None) -> None:
        with self._lock:
            for k in self._keys(login, address):
                self._failures.pop(k, None)
                self._next.pop(k, None)


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the user (None if refused) and a French message when refused."""

    user: User | None
    message: str | None = None
    wait: float = 0.0


def sign_in(config: AccessConfig, login: str, password: str, throttle: SignInThrottle,
            address: str | None = None) -> SignIn:
    """Check a local sign-in, slowed down after repeated failures (see SignInThrottle)."""
    wait = throttle.wait_time(login, address)
    if wait > 0:
        return SignIn(None, "Trop de tentatives de connexion : réessayez dans "
                            f"{fmt.compte(int(wait + 0.999), 'seconde')}.", wait)
    user = authenticate(config, login, password)
    if user is None:
        delay = throttle.failed(login, address)
        extra = f" Prochaine tentative possible dans {fmt.compte(int(delay + 0.999), 'seconde')}." if delay > 0 else ""
        return SignIn(None, "Identifiant ou mot de passe incorrect." + extra, delay)
    throttle.succeeded(login, address)
    return SignIn(user)


# --------------------------------------------------------------------------- session tokens


def session_token(user: User, key: bytes, now: float, ttl: float, config: AccessConfig) -> str:
    """A signed token `login.expiry.signature` keeping a local sign-in for `ttl` seconds.

    The signature (HMAC-SHA256 with `key`) also covers the account's password hash, so changing a password
    in secrets.toml ends the sessions opened with the old one.
    """
    account = config.accounts.get(user.login)
    stamp = account.password_hash if account else ""
    expiry = int(now + ttl)
    login = base64.urlsafe_b64encode(user.login.encode("utf-8")).decode("ascii").rstrip("=")
    payload = f"{login}.{expiry}"
    mac = hmac.new(key, f"{payload}.{stamp}".encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def user_from_token(token: str | None, key: bytes, now: float, config: AccessConfig) -> User | None:
    """The local user a valid, unexpired token names (with their current role), else None."""
    try:
        login_b64, expiry, mac = (token or "").split(".")
        login = base64.urlsafe_b64decode(login_b64 + "=" * (-len(login_b64) % 4)).decode("utf-8")
        if int(expiry) < now:
            return None
    except (ValueError, UnicodeDecodeError):
        return None
    account = config.accounts.get(login)
    if account is None:
        return None
    expected = hmac.new(key, f"{login_b64}.{expiry}.{account.password_hash}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, mac):
        return None
    return User(login=account.login, name=account.name, roles=frozenset({account.role}), via="local")
