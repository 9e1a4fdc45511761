"""What `scripts/run.sh` starts: the app (app.py) plus the route that sets the HTTP-only session cookie.

    python -m streamlit run serveur.py

(`streamlit run app.py` also works, without sign-ins that survive a reload; see ui/session.py.)
"""

import streamlit as st
from starlette.routing import Route

from ui import session

app = st.App("app.py", routes=[Route(session.ROUTE, session.endpoint, methods=["POST", "DELETE"])])
