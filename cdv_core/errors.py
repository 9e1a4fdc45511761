"""The project's base exception: every error meant for a person carries a French sentence in `.message`.

Pages and the command line show `exc.message` and nothing else (the technical detail goes to the log).
DuckDB's own errors are wrapped by `from_duckdb` so that no English message reaches a person.
"""

from __future__ import annotations

import re

import duckdb


class CdvError(Exception):
    """An operation refused or failed; `.message` says why, in French, for the person who asked."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DatabaseBusy(CdvError):
    """Another program holds the database file for writing (or, for a write, holds it at all)."""


class DatabaseError(CdvError):
    """DuckDB failed; `.message` is a French sentence, `__cause__` keeps DuckDB's exception."""


def is_lock_error(exc: BaseException) -> bool:
    """Whether a DuckDB error means another process (or another configuration) holds the file."""
    text = str(exc).lower()
    # "lock" as a word: a corrupt file's messages speak of "block"s, which are no lock.
    return isinstance(exc, duckdb.Error) and (re.search(r"\block", text) is not None
                                              or "different configuration" in text)


def from_duckdb(exc: duckdb.Error, path: object = None) -> CdvError:
    """A French error for a DuckDB exception (raise it `from exc` to keep the detail in the log)."""
    where = f"La base {path}" if path else "La base de données"
    if is_lock_error(exc):
        return DatabaseBusy(
            f"{where} est ouverte en écriture par un autre programme (sans doute l'application, pendant un "
            "import) : réessayez dans un instant.")
    if isinstance(exc, duckdb.IOException):
        return DatabaseError(f"{where} ne peut pas être lue ou écrite (fichier absent, disque plein ou droits "
                             "insuffisants) : prévenez l'administrateur.")
    if isinstance(exc, duckdb.ConstraintException):
        return DatabaseError("L'opération contredit une règle de la base (une valeur en double ou manquante) : "
                             "rien n'a été écrit.")
    return DatabaseError(f"{where} a refusé l'opération (erreur interne) : rien n'a été écrit ; le détail est "
                         "dans le journal du serveur.")
