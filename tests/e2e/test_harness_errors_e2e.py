"""The e2e helpers can fail: they see app.py's French error banner and Streamlit's exception box, and
`goto_app` / `wait_for_app` return only once the script run has finished, however slow the server is."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ERROR_BANNER, app_exceptions, goto_app, wait_for_app

SCRIPT = """
import time
import streamlit as st

time.sleep(float(st.query_params.get("lent", "0")))  # a slow first run, like a loaded CI machine
st.title("Harnais : erreurs")
st.write("Premier passage terminé")
choice = st.radio("Que faire ?", ["rien", "bandeau", "exception", "lent"], horizontal=True)
if choice == "bandeau":
    st.error("{banner} empêche d'afficher cette page.")
elif choice == "exception":
    raise ValueError("boum")
elif choice == "lent":
    time.sleep(3)
    st.write("Passage lent terminé")
""".replace("{banner}", ERROR_BANNER)


@pytest.fixture(scope="module")
def server(tmp_path_factory, streamlit_factory):
    script = tmp_path_factory.mktemp("harnais") / "errors_app.py"
    script.write_text(SCRIPT, encoding="utf-8")
    return streamlit_factory(script)


def test_goto_waits_for_a_slow_first_run(server, page):
    goto_app(page, server.url + "/?lent=3")
    # no wait_for here: goto_app must only return once the run has finished
    assert page.get_by_text("Premier passage terminé").is_visible()
    assert app_exceptions(page) == []


def test_wait_for_app_waits_for_a_slow_rerun(server, page):
    goto_app(page, server.url)
    page.get_by_text("lent", exact=True).click()
    wait_for_app(page)
    assert page.get_by_text("Passage lent terminé").is_visible()


# the exception box may hide the message (client.showErrorDetails): its presence is what counts
@pytest.mark.parametrize("choice, expected", [("bandeau", ERROR_BANNER), ("exception", "")])
def test_app_exceptions_sees_the_banner_and_the_exception_box(server, page, choice, expected):
    goto_app(page, server.url)
    assert app_exceptions(page) == []
    page.get_by_text(choice, exact=True).click()
    wait_for_app(page)
    found = app_exceptions(page)
    assert len(found) == 1 and expected in found[0], found
