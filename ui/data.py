"""The app's access to the database: read-only cursors, a write lock lent to `gestion`, cached query results."""

from __future__ import annotations

import importlib
import pickle
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

import duckdb
import streamlit as st

from cdv_core import demo, errors, runner, schema


class _ReadWriteLock:
    """Many readers or one writer; a waiting writer stops new readers from starting (except in a thread that
    already reads, which would otherwise wait for itself)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers: dict[int, int] = {}  # thread id -> open cursors
        self._writer = False
        self._waiting = 0

    def held_for_reading(self) -> bool:
        with self._cond:
            return self._readers.get(threading.get_ident(), 0) > 0

    def acquire_read(self) -> int:
        me = threading.get_ident()
        with self._cond:
            while self._writer or (self._waiting and not self._readers.get(me)):
                self._cond.wait()
            self._readers[me] = self._readers.get(me, 0) + 1
        return me

    def release_read(self, owner: int) -> None:
        with self._cond:
            left = self._readers.get(owner, 1) - 1
            if left > 0:
                self._readers[owner] = left
            else:
                self._readers.pop(owner, None)
            self._cond.notify_all()

    def acquire_write(self, timeout: float) -> bool:
        with self._cond:
            self._waiting += 1
            try:
                if not self._cond.wait_for(lambda: not self._writer and not self._readers, timeout):
                    return False
                self._writer = True
                return True
            finally:
                self._waiting -= 1
                self._cond.notify_all()

    def release_write(self) -> None:
        with self._cond:
            self._writer = False
            self._cond.notify_all()


class _Cursor:
    """A cursor on the app's read-only connection; closing it lets a write proceed."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, release: Callable[[], None]):
        self._cur, self._release = cur, release

    def __getattr__(self, name: str):
        return getattr(self._cur, name)

    def close(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            try:
                self._cur.close()
            finally:
                release()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # a cursor forgotten by a page must not block writes forever
        if getattr(self, "_release", None) is not None:
            self.close()


class AppBase:
    """The app's database: read-only for every page, read-write only while one write lasts.

    DuckDB lets several programs open a file read-only, or one program read-write. The app keeps it
    read-only, so the command line can read it (`summary`, `journal`, `check`, `backup`) while the app
    runs; for a write (`gestion`), the app waits for its own readers to finish, closes its read-only
    connection, opens the file read-write, writes, closes, and reads again. `gestion.Base` protocol.
    """

    WAIT = 30.0  # seconds a write waits for the pages being drawn to finish reading

    def __init__(self, path: str):
        self.path = path
        self._lock = _ReadWriteLock()
        self._guard = threading.Lock()
        self._con: duckdb.DuckDBPyConnection | None = None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        owner = self._lock.acquire_read()
        try:
            with self._guard:
                if self._con is None:
                    self._con = schema.connect_read(self.path)
                cur = self._con.cursor()
        except BaseException:
            self._lock.release_read(owner)
            raise
        return _Cursor(cur, lambda: self._lock.release_read(owner))  # type: ignore[return-value]

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._lock.held_for_reading():
            raise RuntimeError("a cursor of this thread is still open: close it before writing")
        if not self._lock.acquire_write(self.WAIT):
            raise errors.DatabaseBusy("La base est très sollicitée en ce moment : rien n'a été écrit. Réessayez "
                                      "dans un instant.")
        try:
            with self._guard:
                if self._con is not None:
                    self._con.close()
                    self._con = None
            con = schema.connect_write(self.path)
            try:
                yield con
            finally:
                con.close()
        finally:
            self._lock.release_write()


@st.cache_resource(show_spinner="Préparation de la base de données…")
def _connection(path: str) -> AppBase:
    # Build the demo base if there is none, bring the schema and reference data up to date: both need the file for
    # writing, so both are skipped while another program reads it (the command line, a second server), and done at
    # a later start; the app reads the base as it is meanwhile.
    try:
        demo.ensure_database(path)
        schema.connect(path).close()
    except duckdb.Error as exc:
        if not errors.is_lock_error(exc):
            raise
    return AppBase(path)


def base() -> AppBase:
    """The app's database, for `gestion`'s writes (never write through a cursor: it is read-only)."""
    return _connection(str(demo.database_path()))


def cursor() -> duckdb.DuckDBPyConnection:
    """A read-only cursor (DuckDB connections are not thread-safe, cursors are per use): close it after use."""
    return base().cursor()


def _read_version() -> tuple[int, str]:
    """The journal's last number and the restore token (schema.data_version): a restore changes it too."""
    con = cursor()
    try:
        return schema.data_version(con)
    finally:
        con.close()


# The data version of the script run in progress (Streamlit runs each session's script in its own thread).
_run = threading.local()


def begin_run() -> tuple[int, str]:
    """Read the data version once for this script run (app.py calls it first; a page that writes calls it
    again after its write)."""
    _run.version = (str(demo.database_path()), _read_version())
    return _run.version[1]


def data_version() -> tuple[int, str]:
    """Changes whenever an import, an undo or a restore is written: part of every cache key."""
    return _version()[1]


def version_key() -> tuple:
    """(database file, data version) of this script run: the key of anything cached on the data."""
    return _version()


def _version() -> tuple[str, tuple[int, str]]:
    version = getattr(_run, "version", None)
    if version is None or version[0] != str(demo.database_path()):
        return (str(demo.database_path()), _read_version())
    return version


def _compute(module: str, name: str, version: tuple[str, int], args: tuple, kwargs: tuple):
    """`module.name(con, *args, **kwargs)` on a read-only cursor; its own queries go through the query cache."""
    fn = getattr(importlib.import_module(module), name)
    con = cursor()
    # A section's builder runs its queries through this same cache: sections sharing a figure query it once.
    token = runner.use_query_runner(_shared)
    try:
        return fn(con, *args, **dict(kwargs))
    finally:
        runner.reset_query_runner(token)
        con.close()


# Query results whose arguments cannot key a dict (none today): Streamlit's data cache, which hashes them.
_cached = st.cache_data(show_spinner=False, max_entries=2000)(_compute)


def _query(module: str, name: str, version: tuple, args: tuple, kwargs: tuple):
    """A query's result, computed once per (database, data version, arguments) and kept pickled, as Streamlit's
    data cache keeps it: each caller gets its own copy (a page may change its frame). The key is a plain Python
    key (Filtres is hashable by value): Streamlit's hasher took 4 to 10 ms per call to hash the filters."""
    key = (module, name, version, _generation(), args, kwargs)
    try:
        hash(key)
    except TypeError:
        return _cached(module, name, version, args, kwargs)
    return pickle.loads(_RESULTS.get(key, lambda: pickle.dumps(_compute(module, name, version, args, kwargs),
                                                               protocol=pickle.HIGHEST_PROTOCOL)))


def _shared(fn: Callable, *args, **kwargs):
    return _query(fn.__module__, fn.__name__, _version(), args, tuple(sorted(kwargs.items())))


def q(fn: Callable, *args, **kwargs):
    """Result of `fn(con, *args, **kwargs)` for a query function of cdv_core, cached until the data change.

    Arguments must be hashable-by-value (Filtres, tuples, numbers, strings).
    """
    # The database file is part of the key: one process may serve (or test) several databases.
    return _query(fn.__module__, fn.__name__, _version(), args, tuple(sorted(kwargs.items())))


class _Shelf:
    """Objects shared by every session, kept as they are, the least recently used forgotten beyond `size`; a key
    being built by one session is waited for by the others, not built twice."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._building: dict[Hashable, threading.RLock] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], object]):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            pending = self._building.setdefault(key, threading.RLock())
        with pending:
            with self._lock:
                if key in self._items:
                    return self._items[key]
            try:
                value = build()
                with self._lock:
                    self._items[key] = value
                    while len(self._items) > self._size:
                        self._items.popitem(last=False)
            finally:
                with self._lock:
                    self._building.pop(key, None)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


# Sections: built once per (database, data version, filters, params) and shared as they are. A section is finished
# (pages only draw it), so the same table and chart objects come back at every rerun: their French table texts
# (ui.show.french) and their chart specs are made once, and no copy is unpickled at each rerun.
_SECTIONS = _Shelf(400)
# Query results, pickled (see `_query`).
_RESULTS = _Shelf(2000)


@st.cache_data(show_spinner=False)
def _generation() -> str:
    """A token renewed whenever Streamlit's data cache is cleared (`st.cache_data.clear()`): the shelves of
    sections and query results live as long as Streamlit's cache does."""
    return uuid.uuid4().hex


def _build_section(version: tuple[str, tuple[int, str]], f, type_: str, params: tuple):
    from cdv_core import sections

    return _compute(sections.build.__module__, sections.build.__name__, version, (f, type_), params)


def section(type_: str, f, **params):
    """The section `type_` of cdv_core.sections for the filters and params, cached until the data change."""
    from cdv_core import sections

    items = tuple(sorted(params.items()))
    f = sections.filtres_utiles(type_, f)  # a section that ignores a filter is not rebuilt when it changes
    key = (_version(), _generation(), type_, f, items)
    try:
        hash(key)
    except TypeError:  # a parameter that is not hashable by value: Streamlit's cache hashes it
        return q(sections.build, f, type_, **params)
    return _SECTIONS.get(key, lambda: _build_section(key[0], f, type_, items))


def clear_caches() -> None:
    """Forget cached results (after an import the version changes anyway; this frees memory)."""
    _cached.clear()
    _SECTIONS.clear()
    _RESULTS.clear()
    _run.version = None
