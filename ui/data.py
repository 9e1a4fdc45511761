"""The app's access to the database: one cached connection, a cursor per use, cached query results."""

from __future__ import annotations

import importlib
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


def data_version() -> tuple[int, str]:
    """Changes whenever an import, an undo or a restore is written: part of every cache key."""
    con = cursor()
    try:
        return schema.data_version(con)
    finally:
        con.close()


@st.cache_data(show_spinner=False, max_entries=2000)
def _cached(module: str, name: str, version: tuple, args: tuple, kwargs: tuple):
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
    version = (str(demo.database_path()), *data_version())
    return _cached(fn.__module__, fn.__name__, version, args, tuple(sorted(kwargs.items())))


def clear_caches() -> None:
    """Forget cached results (after an import the version changes anyway; this frees memory)."""
    _cached.clear()
