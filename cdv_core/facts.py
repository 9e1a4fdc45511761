"""Denormalised fact tables the dashboard queries read (kept in step with imports and undos).

`fait` has one row per funding line with its action's columns (and one row with no funder for an action
without funding); `fait_qpv` splits each of them across the action's QPV (amounts already multiplied by the
QPV's equal share). Pages then scan one table instead of joining actions, funding and QPV at every click.
"""

from __future__ import annotations

import duckdb

ACTION_COLUMNS = ("action_id", "annee", "pilier", "thematique", "statut", "porteur_type", "porteur", "contrat",
                  "nouvelle")
FUNDING_COLUMNS = ("financeur", "nature", "dispositif", "section")

# `cle` numbers each action-year (a fresh number at every refresh): counting distinct integers is what keeps
# "number of actions" fast on millions of funding lines.
_SELECT_FAIT = (
    "SELECT k.cle, " + ", ".join(f"a.{c}" for c in ACTION_COLUMNS) + ", split_part(a.thematique, '.', 1) AS theme, "
    + ", ".join(f"f.{c}" for c in FUNDING_COLUMNS) + ", f.montant_accorde, f.montant_demande "
    "FROM action a JOIN {keys} k ON k.action_id = a.action_id AND k.annee = a.annee "
    "LEFT JOIN financement f ON f.action_id = a.action_id AND f.annee = a.annee"
)
_KEYS = "(SELECT action_id, annee, nextval('fait_cle_seq') AS cle FROM {source})"
_SELECT_FAIT_QPV = (
    "SELECT x.* EXCLUDE (montant_accorde, montant_demande), q.code_qpv, "
    "x.montant_accorde * q.part AS montant_accorde, x.montant_demande * q.part AS montant_demande "
    "FROM fait x {scope} JOIN action_qpv q ON q.action_id = x.action_id AND q.annee = x.annee"
)


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Create the fact tables if missing, and fill them when the base predates them."""
    found = con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name IN ('fait', 'fait_qpv') "
        "AND column_name = 'cle'").fetchall()[0][0]
    if found < 2:
        rebuild(con)


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute both fact tables from scratch (sorted by year, which most filters select on)."""
    con.execute("CREATE SEQUENCE IF NOT EXISTS fait_cle_seq START 1")
    keys = _KEYS.format(source="(SELECT action_id, annee FROM action)")
    con.execute("CREATE OR REPLACE TABLE fait AS " + _SELECT_FAIT.format(keys=keys) + " ORDER BY a.annee")
    con.execute("CREATE OR REPLACE TABLE fait_qpv AS " + _SELECT_FAIT_QPV.format(scope="") + " ORDER BY x.annee")


def refresh(con: duckdb.DuckDBPyConnection, scope_table: str) -> None:
    """Recompute the fact rows of the action-years listed in `scope_table` (columns action_id, annee)."""
    create(con)
    keys = f"(SELECT DISTINCT action_id, annee FROM {scope_table})"
    for table in ("fait_qpv", "fait"):
        con.execute(f"DELETE FROM {table} t USING {keys} s WHERE t.action_id = s.action_id AND t.annee = s.annee")
    con.execute("INSERT INTO fait " + _SELECT_FAIT.format(keys=_KEYS.format(source=keys)))
    con.execute("INSERT INTO fait_qpv " + _SELECT_FAIT_QPV.format(
        scope=f"JOIN {keys} s ON s.action_id = x.action_id AND s.annee = x.annee"))
