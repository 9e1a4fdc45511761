"""A page's own choices (year shown, reference year, amounts or shares, open fiche…) kept in the address, so that
a pasted link reopens the same view.

The shared filters have their own parameters (ui.filters.URL_KEYS); a page's parameters have other names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import streamlit as st


def seed(key: str, param: str, options: Iterable, default, parse: Callable = str) -> None:
    """Before drawing the widget `key`: give it the URL's value on its first draw (or when its value is no longer
    offered); a value from the URL that is not offered falls back to `default` (a stale link never errors)."""
    opts = list(options)
    if key in st.session_state and st.session_state[key] in opts:
        return
    raw = st.query_params.get(param)
    value = None
    if raw is not None:
        try:
            value = parse(raw)
        except (TypeError, ValueError):
            value = None
    st.session_state[key] = value if value in opts else default


def seed_many(key: str, param: str, options: Iterable) -> None:
    """`seed` for a multiselect: a comma-separated list, values not offered dropped."""
    opts = list(options)
    if key in st.session_state and all(v in opts for v in st.session_state[key]):
        return
    raw = st.query_params.get(param, "")
    st.session_state[key] = [v for v in raw.split(",") if v in opts]


def keep(param: str, value, default=None) -> None:
    """Write `value` in the URL (removed when it is the default or empty)."""
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    want = None if value is None or value == "" or value == default else str(value)
    if st.query_params.get(param) != want:
        if want is None:
            del st.query_params[param]
        else:
            st.query_params[param] = want
