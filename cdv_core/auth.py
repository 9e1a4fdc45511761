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

GESTIONNAIRE = "gestionnaire"
LECTEUR = "lecteur"
ROLES = (GESTIONNAIRE, LECTEUR)
ROLE_LABELS = {GESTIONNAIRE: "gestionnaire des données", LECTEUR: "consultation"}

PBKDF2_ITERATIONS = 600_000
_SCHEME = "pbkdf2_sha256"


class AccessDenied(PermissionError):
    """The person lacks the role an operation needs; `.message` says so in French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
    )


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
