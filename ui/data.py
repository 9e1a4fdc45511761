"""The app's access to the database: one cached connection, a cursor per use, cached query results."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable

import duckdb
import streamlit as st

from cdv_core import demo, schema


@st.cache_resource(show_spinner="Préparation de la base de données…")
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    demo.ensure_database(path)
    return schema.connect(path)


def cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on the shared connection (DuckDB connections are not thread-safe, cursors are per use)."""
    return _connection(str(demo.database_path())).cursor()


def _read_version() -> int:
    con = cursor()
    try:
        return int(con.execute("SELECT coalesce(max(import_id), 0) FROM import_journal").fetchone()[0])
    finally:
        con.close()


# The data version of the script run in progress (Streamlit runs each session's script in its own thread).
_run = threading.local()


def begin_run() -> int:
    """Read the data version once for this script run (app.py calls it first; a page that writes calls it
    again after its write)."""
    _run.version = (str(demo.database_path()), _read_version())
    return _run.version[1]


def data_version() -> int:
    """Changes whenever an import or an undo is written: part of every cache key."""
    return _version()[1]


def _version() -> tuple[str, int]:
    version = getattr(_run, "version", None)
    if version is None or version[0] != str(demo.database_path()):
        return (str(demo.database_path()), _read_version())
    return version


@st.cache_data(show_spinner=False, max_entries=2000)
def _cached(module: str, name: str, version: tuple[str, int], args: tuple, kwargs: tuple):
    fn = getattr(importlib.import_module(module), name)
    con = cursor()
    try:
        return fn(con, *args, **dict(kwargs))
    finally:
        con.close()


def q(fn: Callable, *args, **kwargs):
    """Result of `fn(con, *args, **kwargs)` for a query function of cdv_core, cached until the data change.

    Arguments must be hashable-by-value (Filtres, tuples, numbers, strings).
    """
    # The database file is part of the key: one process may serve (or test) several databases.
    return _cached(fn.__module__, fn.__name__, _version(), args, tuple(sorted(kwargs.items())))


def section(type_: str, f, **params):
    """The section `type_` of cdv_core.sections for the filters and params, cached until the data change."""
    from cdv_core import sections

    return q(sections.build, f, type_, **params)


def clear_caches() -> None:
    """Forget cached results (after an import the version changes anyway; this frees memory)."""
    _cached.clear()
    _run.version = None
