"""What `scripts/run.sh` starts: the app (app.py), the route that sets the HTTP-only session cookie and the first HTML
page made for this app (ui/shell.py).

    python -m streamlit run serveur.py

(`streamlit run app.py` also works, without sign-ins that survive a reload; see ui/session.py.)
"""

import streamlit as st
from starlette.middleware import Middleware
from starlette.routing import Route
from streamlit.runtime.pages_manager import PagesManager

from ui import session, shell

# app.py declares every page with st.navigation: never serve the first request in Streamlit's legacy
# `pages/` folder mode, which answers a deep link such as /import-donnees with an English "Page not found"
# (ui.require_app only leaves that mode once the first script run has started).
PagesManager.uses_pages_directory = False

# The first HTML page made for this app (ui/shell.py): French, no guessing of the server's address, code preloaded.
app = st.App("app.py", routes=[Route(session.ROUTE, session.endpoint, methods=["POST", "DELETE"])],
             middleware=[Middleware(shell.ShellMiddleware)])
