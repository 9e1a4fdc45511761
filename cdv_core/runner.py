"""How cdv_core runs a query function: directly by default (tests, CLI, dossier), or through the app's cache.

While the app builds a section or runs a query function it installs its cache (ui.data), so that the sections of
a page asking for the same figures run each query once, and a query may read a shared intermediate result (the
cube of sums, `queries.sommes`) from it. A context variable: it never leaks to another thread or to a build
outside the app.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token

import duckdb

_query_runner: ContextVar[Callable | None] = ContextVar("cdv_query_runner", default=None)


def use_query_runner(runner: Callable | None) -> Token:
    """Install `runner(fn, *args, **kwargs)` (returns `fn(con, *args, **kwargs)`, cached) for this context;
    give the returned token to `reset_query_runner`."""
    return _query_runner.set(runner)


def reset_query_runner(token: Token) -> None:
    _query_runner.reset(token)


def cached() -> bool:
    """Whether a cache is installed (inside the app), so that a shared intermediate result is worth computing."""
    return _query_runner.get() is not None


def query(con: duckdb.DuckDBPyConnection, fn: Callable, *args, **kwargs):
    """`fn(con, *args, **kwargs)`, through the app's cache when one is installed (arguments hashable by value)."""
    runner = _query_runner.get()
    if runner is not None:
        return runner(fn, *args, **kwargs)
    return fn(con, *args, **kwargs)
