"""Tableau de bord des contrats de ville — entry point: navigation, shared filters, demo banner."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from cdv_core import queries
from ui import APP_RAN, access, data, filters, layout

FAVICON = Path(__file__).resolve().parent / "data" / "favicon.png"

# The favicon from the app's own files: a Material icon here is fetched from Google's servers by every visitor's
# browser (tests/e2e/test_offline_e2e.py).
st.set_page_config(page_title="Contrats de ville — tableau de bord", page_icon=str(FAVICON), layout="wide",
                   initial_sidebar_state="expanded")
layout.setup()
st.session_state[APP_RAN] = True

PAGES = {
    "Tableau de bord": [
        st.Page("pages/vue_ensemble.py", title="Vue d'ensemble", icon=":material/home:", default=True, url_path="vue-ensemble"),
        st.Page("pages/quartiers.py", title="Quartiers", icon=":material/map:", url_path="quartiers"),
        st.Page("pages/piliers.py", title="Piliers", icon=":material/view_column:", url_path="piliers"),
        st.Page("pages/financeurs.py", title="Financeurs", icon=":material/account_balance:", url_path="financeurs"),
        st.Page("pages/engagements.py", title="Engagements", icon=":material/handshake:", url_path="engagements"),
        st.Page("pages/porteurs.py", title="Porteurs", icon=":material/groups:", url_path="porteurs"),
    ],
    "Évaluation": [
        st.Page("pages/enquetes.py", title="Enquêtes", icon=":material/fact_check:", url_path="enquetes"),
        st.Page("pages/a_propos.py", title="À propos des données", icon=":material/info:", url_path="a-propos"),
    ],
    "Séance du COPIL": [
        st.Page("pages/seance.py", title="Préparer une séance", icon=":material/event_note:", url_path="seance"),
        st.Page("pages/presentation.py", title="Mode présentation", icon=":material/slideshow:",
                url_path="presentation"),
    ],
}
# Pages that use the shared filter bar (not "enquetes": survey answers carry no commune, QPV or funder).
FILTERED = {"vue-ensemble", "quartiers", "piliers", "financeurs", "seance", "engagements", "porteurs"}

access_cfg = access.config()
user = access.current_user(access_cfg)
page = st.navigation(access.visible_pages(PAGES, user, access_cfg))
try:
    data.begin_run()  # the data version, read once for this run: every cached section and query keys on it
    con = data.cursor()
    try:
        demo = queries.is_demo(con)
    finally:
        con.close()
    if demo:
        layout.demo_banner()
    if page.url_path in FILTERED or (page.url_path == "" and "vue-ensemble" in FILTERED):
        st.session_state["filtres"] = filters.filter_bar()
    else:
        filters.keep()
    access.sidebar(user, access_cfg)
    page.run()
except Exception:  # noqa: BLE001 - a person sees a French sentence, the log keeps the traceback
    logging.getLogger("cdv").exception("Erreur dans la page %s", page.title)
    st.error("Une erreur inattendue empêche d'afficher cette page. Rechargez la page ; si l'erreur revient, "
             "signalez-la à l'administrateur du tableau de bord (le détail est dans le journal du serveur).",
             icon=":material/warning:")
