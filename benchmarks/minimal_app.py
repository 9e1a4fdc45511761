"""The floor of a Streamlit page on this machine (`browser.py --phases`): a title, a sentence, a sidebar with one
multiselect and one Altair bar chart, nothing of the dashboard. What a deep link to it costs is what any
Streamlit page costs here before the dashboard adds its own work."""

import altair as alt
import pandas as pd
import streamlit as st

st.set_page_config(page_title="Page minimale", layout="wide")
st.sidebar.multiselect("Financeurs", ["CAF", "Région", "Département"])
st.title("Page minimale")
st.write("Une phrase.")
df = pd.DataFrame({"annee": ["2022", "2023", "2024", "2025"], "montant": [1.0, 2.0, 3.0, 2.5]})
st.altair_chart(alt.Chart(df).mark_bar().encode(x="annee", y="montant"), use_container_width=True)
