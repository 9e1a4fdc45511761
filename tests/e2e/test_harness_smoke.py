"""Smoke test of the e2e harness on a throwaway Streamlit script (not app.py)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import app_exceptions, goto_app, wait_for_app

SCRIPT = """
import os
import streamlit as st

st.title("Harnais de test")
st.write("Bonjour depuis le harnais e2e")
st.write("CDV_DB=" + os.environ.get("CDV_DB", "?"))
if st.button("Compter"):
    st.write("Bouton cliqué")
"""


@pytest.mark.e2e
def test_harness_serves_and_renders_script(tmp_path, streamlit_factory, page):
    script = tmp_path / "smoke_app.py"
    script.write_text(SCRIPT, encoding="utf-8")
    server = streamlit_factory(script)

    assert server.db_path.suffix == ".duckdb"
    assert not server.db_path.exists()  # fresh path, the script never creates it

    goto_app(page, server.url)
    assert page.get_by_text("Bonjour depuis le harnais e2e").is_visible()
    assert page.get_by_text(f"CDV_DB={server.db_path}").is_visible()

    page.get_by_role("button", name="Compter").click()
    wait_for_app(page)
    page.get_by_text("Bouton cliqué").wait_for(timeout=10_000)
    assert app_exceptions(page) == []

    server.stop()
    assert server.process.poll() is not None
