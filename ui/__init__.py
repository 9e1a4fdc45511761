"""Streamlit side of the app: layout helpers, filter bar, cached data access."""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

APP_RAN = "cdv_app_ran"


def require_app() -> None:
    """Make sure app.py (navigation, filters, banner) runs before any page.

    With a `pages/` folder, Streamlit serves the very first request of a fresh server (and every AppTest) in
    its legacy multipage mode: a link to /quartiers would run pages/quartiers.py alone, without app.py.
    Leave that mode and rerun, so app.py and its st.navigation always run first. Each page calls this.
    Only a session where app.py never ran is rerun: a rerun would drop a click being handled (AppTest
    re-enters the legacy mode at every run, with the session state app.py left).
    """
    if (PagesManager.uses_pages_directory and get_script_run_ctx() is not None
            and not st.session_state.get(APP_RAN)):
        PagesManager.uses_pages_directory = False
        st.rerun()


require_app()
