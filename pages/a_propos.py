"""À propos des données: what each figure means, the sources, the last import of each kind of file, what is
demonstration data (texts and figures from cdv_core.sections.a_propos)."""

from __future__ import annotations

import streamlit as st

from cdv_core import queries, surveys
from cdv_core.filters import Filtres
from cdv_core.sections import a_propos
from ui import data, layout, require_app, show
from ui.data import q

require_app()


def main() -> None:
    st.title("À propos des données")
    st.subheader("Ce que veulent dire les chiffres", anchor=False)
    seuil = surveys.seuil_anonymat()
    for terme, texte in a_propos.DEFINITIONS:
        st.markdown(f"**{terme}** — {texte.format(seuil=seuil)}")
    st.subheader("Sources", anchor=False)
    for quoi, d_ou in a_propos.SOURCES:
        st.markdown(f"- **{quoi}** : {d_ou}")
    show.section(data.section("a_propos_imports", Filtres()), key="a_propos_imports")
    st.subheader("Données de démonstration", anchor=False)
    if q(queries.is_demo):
        layout.note("La base affichée contient les données de démonstration.")
    else:
        layout.note("La base affichée ne contient plus les données de démonstration.")
    st.markdown(a_propos.DEMO)


main()
