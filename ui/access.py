"""Who is using the app (local account or identity provider), the login box and the management pages.

Decisions (roles, passwords) are made by cdv_core.auth; this module only reads the identity Streamlit
knows and draws the sidebar block.
"""

from __future__ import annotations

import logging

import streamlit as st

from cdv_core import auth
from ui import layout, session

SESSION_KEY = "cdv_user"
COOKIE_CODE = "cdv_cookie_code"
COOKIE_DELETE = "cdv_cookie_delete"
MANAGEMENT_URLS = ("import-donnees", "journal-imports")


def config() -> auth.AccessConfig:
    """The access configuration (re-read at each run: cheap, and edits apply without a restart)."""
    return auth.load_config()


def _oidc_identity() -> tuple[str | None, str | None] | None:
    """(e-mail, name) of the person logged in through st.login, or None."""
    try:
        if not st.user.get("is_logged_in", False):
            return None
        return st.user.get("email"), st.user.get("name")
    except Exception:  # noqa: BLE001 - no [auth] configured in Streamlit's own secrets: nobody is logged in
        return None


def current_user(cfg: auth.AccessConfig | None = None) -> auth.User:
    """The person using this session (auth.ANONYMOUS when nobody is logged in)."""
    cfg = cfg or config()
    user = st.session_state.get(SESSION_KEY)
    if isinstance(user, auth.User):
        if user.via == "local" and user.login not in cfg.accounts:  # account removed since: log out
            st.session_state.pop(SESSION_KEY, None)
        else:
            return auth.refresh(user, cfg)  # the roles of the configuration as it is now
    if cfg.accounts:  # a reload or a new tab: the signed session cookie (ui/session.py)
        remembered = session.user_from_cookie(_cookie(), cfg)
        if remembered is not None:
            st.session_state[SESSION_KEY] = remembered
            return remembered
    if cfg.oidc:
        identity = _oidc_identity()
        if identity is not None:
            return auth.user_from_oidc(cfg, *identity)
    return auth.ANONYMOUS


def _cookie() -> str | None:
    try:
        return st.context.cookies.get(session.COOKIE)
    except Exception:  # noqa: BLE001 - no request context (tests)
        return None


def can_manage(user: auth.User) -> bool:
    return user.has_role(auth.GESTIONNAIRE)


def management_pages(user: auth.User) -> dict[str, list]:
    """The "Gestion des données" section of the navigation: listed for gestionnaires only.

    For anyone else the pages stay registered but hidden, so a bookmark (or a reload after the session
    ended) lands on « Accès réservé » with the way to sign in, not on Streamlit's English "Page not found".
    """
    visibility = "visible" if can_manage(user) else "hidden"
    return {"Gestion des données": [
        st.Page("pages/import_donnees.py", title="Importer des données", icon=":material/upload_file:",
                url_path="import-donnees", visibility=visibility),
        st.Page("pages/journal.py", title="Journal des imports", icon=":material/history:",
                url_path="journal-imports", visibility=visibility),
    ]}


def visible_pages(pages: dict[str, list], user: auth.User, cfg: auth.AccessConfig) -> dict[str, list]:
    """The navigation for this person: the dashboard (or only a login page), plus management for gestionnaires."""
    if not auth.can_view(cfg, user):
        return {"": [st.Page(login_page, title="Connexion", icon=":material/lock:", url_path="connexion")]}
    return {**pages, **management_pages(user)}


@st.cache_resource
def _throttle() -> auth.SignInThrottle:
    """Failed sign-ins of this server process, per account and per address (see auth.SignInThrottle)."""
    return auth.SignInThrottle()


def _address() -> str | None:
    try:
        return st.context.ip_address
    except Exception:  # noqa: BLE001 - no request context (tests): counted per account only
        return None


def _record(login: str, ok: bool, detail: str = "") -> None:
    """Journal a sign-in attempt; a busy base only loses the journal line, never the sign-in itself."""
    from cdv_core import gestion
    from ui import data

    try:
        gestion.record_sign_in(data.base(), login, _address(), ok, detail)
    except Exception:  # noqa: BLE001 - the server log keeps it
        logging.getLogger("cdv").exception("Connexion non inscrite au journal")


def _local_login(cfg: auth.AccessConfig, container) -> None:
    with container.form("cdv_login", clear_on_submit=True, border=False):
        login = st.text_input("Identifiant", key="cdv_login_id")
        password = st.text_input("Mot de passe", type="password", key="cdv_login_pwd")
        submitted = st.form_submit_button("Se connecter", icon=":material/login:", width="stretch")
    if submitted:
        result = auth.sign_in(cfg, login, password, _throttle(), _address())
        if result.user is None:
            logging.getLogger("cdv").warning("Échec de connexion pour l'identifiant %r", login)
            if not (result.message or "").startswith("Trop"):  # refused before any check: log only
                _record(login, False)
            container.error(result.message or "Identifiant ou mot de passe incorrect.", icon=":material/error:")
        else:
            _record(result.user.login, True)
            st.session_state[SESSION_KEY] = result.user
            st.session_state[COOKIE_CODE] = session.issue_code(result.user)
            st.rerun()


def _logout() -> None:
    session.revoke(_cookie())
    st.session_state.pop(SESSION_KEY, None)
    st.session_state[COOKIE_DELETE] = True


def _cookie_exchange() -> None:
    """Hidden: after a sign-in, get the session cookie; after a sign-out, delete it (see ui/session.py)."""
    import streamlit.components.v1 as components

    code = st.session_state.pop(COOKIE_CODE, None)
    if code:
        with st.sidebar:
            components.html(session.set_cookie_html(code), height=0)
    if st.session_state.pop(COOKIE_DELETE, False):
        with st.sidebar:
            components.html(session.delete_cookie_html(), height=0)


def sidebar(user: auth.User, cfg: auth.AccessConfig | None = None) -> None:
    """Connection block at the bottom of the sidebar: who is connected, log in / out, or how to enable import."""
    cfg = cfg or config()
    _cookie_exchange()
    sb = st.sidebar
    sb.divider()
    if cfg.problem:
        sb.warning(cfg.problem, icon=":material/warning:")
    if user.authenticated:
        role = auth.ROLE_LABELS.get(auth.GESTIONNAIRE if can_manage(user) else auth.LECTEUR, "")
        sb.markdown(f"**{layout.texte(user.label)}**  \n{role}")
        if user.via == "oidc":
            if sb.button("Se déconnecter", icon=":material/logout:", key="cdv_logout", width="stretch"):
                st.logout()
        else:
            sb.button("Se déconnecter", icon=":material/logout:", key="cdv_logout", on_click=_logout,
                      width="stretch")
        return
    if not cfg.login_enabled:
        sb.caption("Consultation seule : l'import de données est désactivé. Pour l'activer, l'administrateur "
                   "déclare les gestionnaires dans .streamlit/secrets.toml (modèle : secrets.toml.example, "
                   "voir le README, « Accès et gestion des données »).")
        return
    with sb.expander("Connexion (gestionnaires)", icon=":material/lock:"):
        if cfg.oidc:
            if st.button("Se connecter avec le compte de la collectivité", icon=":material/login:",
                         key="cdv_oidc_login", width="stretch"):
                try:
                    st.login(cfg.oidc_provider) if cfg.oidc_provider else st.login()
                except Exception:  # noqa: BLE001 - misconfiguration: a sentence, the log keeps the detail
                    logging.getLogger("cdv").exception("st.login a échoué")
                    st.error("La connexion par le fournisseur d'identité n'est pas disponible (configuration "
                             "[auth] incomplète ou module Authlib absent).", icon=":material/error:")
        if cfg.accounts:
            _local_login(cfg, st)


def login_page() -> None:
    """The only page of a protected dashboard until the person logs in."""
    st.title("Tableau de bord des contrats de ville")
    user = current_user()
    if user.authenticated:
        st.warning(f"Le compte « {layout.texte(user.label)} » n'a pas accès à ce tableau de bord : demandez l'accès à "
                   "son administrateur.", icon=":material/lock:")
    else:
        st.info("La consultation de ce tableau de bord est réservée : connectez-vous dans le panneau de gauche.",
                icon=":material/lock:")


def require_manager() -> auth.User:
    """At the top of a management page: the gestionnaire using it, or a refusal and the end of the page."""
    user = current_user()
    if not can_manage(user):
        st.title("Accès réservé")
        st.error("Cette page est réservée aux gestionnaires des données. Connectez-vous avec un compte "
                 "gestionnaire (panneau de gauche).", icon=":material/lock:")
        st.stop()
    return user
