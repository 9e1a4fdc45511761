"""Staff data management: check an upload and preview its effect, write it, undo an import, back up.

The import page and the command line go through this module. Every operation that writes needs the
`gestionnaire` role (`auth.require_role`): the page hides what a person may not use, and these
functions refuse too. The command line acts as `auth.cli_user()` (a trusted local administrator).

Referentials (QPV, piliers, financeurs, thématiques) are uploaded like any file: an upload adds codes or
updates them, it never deletes a code absent from the file. The only change that could leave existing
rows pointing at something that no longer agrees with them ("orphan" rows) is moving a QPV to another
contract (or detaching it) while actions recorded under its former contract name it: such an upload is
refused, with the list of the actions concerned.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import duckdb
import pandas as pd

from cdv_core import auth, backup, errors, fmt, importer, queries, queries_piliers, reading, schema, vues
from cdv_core.errors import CdvError
from cdv_core.filters import Filtres
from cdv_core.formats import CONTOURS, IMPORT_ORDER, KINDS
from cdv_core.importer import ERREUR, Issue, Report, TableDiff

MAX_BYTES = 20_000_000  # upload cap per file (the page says it)
PREVIEW_USER = "(vérification)"

# Row-level French names of the tables an import touches, for the preview.
TABLE_LABELS = {
    "action": "Actions", "action_qpv": "Répartition des actions par quartier", "financement": "Financements",
    "indicateur": "Indicateurs", "indicateur_def": "Définitions d'indicateurs", "enquete_reponse": "Réponses d'enquête",
    "enquete_diffusion": "Diffusion des enquêtes", "qpv": "Quartiers (QPV)", "qpv_commune": "Communes des quartiers",
    "pilier": "Piliers", "financeur": "Financeurs", "thematique": "Thématiques", "contrat": "Contrats",
    "contour": "Contours", "thematique_pilier": "Correspondance thématique → pilier",
    "engagement": "Engagements", "suivi_engagement": "Suivi des engagements",
}
# Tables shown in the preview (the others are derived from them).
SHOWN_TABLES = ("action", "financement", "indicateur", "enquete_reponse", "enquete_diffusion", "qpv", "pilier",
                "financeur", "thematique", "indicateur_def", "engagement", "suivi_engagement", "contour",
                "thematique_pilier")


class StalePlan(CdvError):
    """The data changed since the upload was checked; `.message` asks to check again."""


STALE_MESSAGE = ("Les données ont été modifiées (par un autre import ou une annulation) depuis la vérification "
                 "de vos fichiers : rien n'a été écrit. Voici la vérification refaite sur les données actuelles ; "
                 "relisez-la puis validez à nouveau.")


@dataclass
class Upload:
    """One file given by the person; `kind` is None to let the importer recognise it."""

    name: str
    data: bytes
    kind: str | None = None


@dataclass
class CheckedFile:
    """One file of an upload once checked: its report, what it would change, the rows it would orphan."""

    upload: Upload
    report: Report
    diffs: dict[str, TableDiff] = field(default_factory=dict)
    orphans: pd.DataFrame | None = None

    @property
    def ok(self) -> bool:
        return self.report.ok

    @property
    def kind(self) -> str | None:
        return self.report.kind.code if self.report.kind else None

    def counts(self) -> dict[str, tuple[int, int, int]]:
        """(added, changed, removed) per shown table that changes."""
        out = {}
        for table, d in self.diffs.items():
            n = (len(d.added), len(d.changed_after), len(d.removed))
            if table in SHOWN_TABLES and any(n):
                out[table] = n
        return out


@dataclass
class ImportPlan:
    """An upload checked as a whole (each file against the data as the previous ones would leave it)."""

    files: list[CheckedFile]
    totals: pd.DataFrame  # annee, actions and montant accordé before/after, for the years concerned
    version: tuple[int, str]  # data version the plan was computed on (schema.data_version)

    @property
    def ok(self) -> bool:
        return bool(self.files) and all(f.ok for f in self.files)

    @property
    def changes_anything(self) -> bool:
        return any(f.counts() for f in self.files)


def data_version(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """The journal's last number and the restore token: changes with every import, undo, journaled edit or
    restore (a plan computed before a restore is stale too)."""
    return schema.data_version(con)


# --------------------------------------------------------------------------- the one write path


class Base(Protocol):
    """Where writes go: something that lends a read-write connection for the duration of one write.

    The app lends its own (it reads the file read-only and takes the write lock only while writing, see
    ui/data.py); the command line opens the file (`FileBase`); tests may pass an open connection.
    """

    def writing(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]: ...


Target = duckdb.DuckDBPyConnection | Base


class OpenConnection:
    """A connection already open for writing (tests, tools): lent as it is."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        yield self.con


class FileBase:
    """A base file opened for writing only while one write lasts (the command line).

    While the app runs it keeps the file open for reading: opening for writing then waits `wait` seconds and
    is refused with DatabaseBusy, whose French message says what to do.
    """

    def __init__(self, path: str | Path, wait: float = schema.LOCK_WAIT):
        self.path, self.wait = Path(path), wait

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = schema.connect_write(self.path, self.wait)
        try:
            yield con
        finally:
            con.close()


def _base(target: Target) -> Base:
    return OpenConnection(target) if isinstance(target, duckdb.DuckDBPyConnection) else target


ACCESS_JOURNAL_DDL = ("CREATE TABLE IF NOT EXISTS journal_acces (horodatage TIMESTAMP NOT NULL, utilisateur VARCHAR, "
                      "action VARCHAR NOT NULL, objet VARCHAR)")


def _journal_access(con: duckdb.DuckDBPyConnection, who: str, action: str, objet: str) -> None:
    """One line of the journal of settings and access (séances, views, backups, restores, sign-ins)."""
    con.execute(ACCESS_JOURNAL_DDL)
    con.execute("INSERT INTO journal_acces VALUES (?, ?, ?, ?)", [datetime.now(), who, action, objet])


def access_journal(con: duckdb.DuckDBPyConnection, limit: int = 500) -> pd.DataFrame:
    """The journal of settings and access, newest first (empty before its first line)."""
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'journal_acces'"
                         ).fetchall()[0][0]
    if not exists:
        return pd.DataFrame(columns=["Date", "Personne", "Opération", "Objet"])
    return con.execute("SELECT horodatage AS \"Date\", utilisateur AS \"Personne\", action AS \"Opération\", "
                       "objet AS \"Objet\" FROM journal_acces ORDER BY horodatage DESC LIMIT ?", [limit]).df()


@contextmanager
def _transaction(target: Target, actor: auth.User | None, what: str, role: str | None = auth.GESTIONNAIRE,
                 rollback: bool = False) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """The only place a writing transaction is opened: (connection, name written to the journal).

    The role is checked against the access configuration as it is *now* (a role removed from secrets.toml
    is refused at once, even in a tab opened before), once the write lock is held. DuckDB's errors come out
    as CdvError with a French message. `rollback`: a trial run (the import preview), never committed.
    """
    try:
        with _base(target).writing() as con, importer.WRITE_LOCK:
            who = ""
            if role is not None:
                who = auth.journal_label(auth.require_current_role(actor, role))
            con.execute("BEGIN TRANSACTION")
            try:
                yield con, who
                con.execute("ROLLBACK" if rollback else "COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
    except duckdb.Error as exc:
        raise errors.from_duckdb(exc) from exc


# --------------------------------------------------------------------------- checks


def _kind_of(upload: Upload) -> str:
    if upload.kind:
        return upload.kind
    found = importer.detect_kind_of(upload.data, upload.name)  # the header only: the file is parsed once
    return found.code if found else ""


def _ordered(uploads: list[Upload]) -> list[Upload]:
    """Referentials first, then what uses them (kind given by the person, else recognised)."""
    order = {k: i for i, k in enumerate(IMPORT_ORDER)}
    return sorted(uploads, key=lambda u: order.get(_kind_of(u), len(order)))


def _check_one(con, upload: Upload, pending: set[tuple[str, int]], max_bytes: int) -> CheckedFile:
    if len(upload.data) > max_bytes:
        report = Report(file_name=upload.name, checksum=importer.checksum(upload.data), kind=None)
        try:
            reading.read_table(upload.data, upload.name, max_bytes=max_bytes)
        except reading.UnreadableFile as exc:
            report.issues.append(Issue(None, None, None, exc.message, ERREUR,
                                       "Découpez le fichier (par exemple une année par fichier) et importez les "
                                       "morceaux l'un après l'autre."))
        return CheckedFile(upload, report)
    report = importer.check_file(con, upload.data, upload.name, upload.kind, pending_actions=pending,
                                 limites=reading.limites_for(max_bytes))
    checked = CheckedFile(upload, report)
    if report.ok and report.kind is not None and report.kind.code == "qpv":
        checked.orphans = qpv_orphans(con, report)
        if not checked.orphans.empty:
            _orphan_issues(report, upload, checked.orphans)
    return checked


def check(con: duckdb.DuckDBPyConnection, data: bytes, file_name: str, kind: str | None = None,
          pending_actions: set[tuple[str, int]] | None = None, max_bytes: int = MAX_BYTES) -> Report:
    """`importer.check_file` plus the checks of this module (size cap, referential changes that orphan rows)."""
    return _check_one(con, Upload(file_name, data, kind), pending_actions or set(), max_bytes).report


def qpv_orphans(con: duckdb.DuckDBPyConnection, report: Report) -> pd.DataFrame:
    """Actions a QPV upload would orphan: recorded under a contract the file detaches their QPV from."""
    incoming = report.tables.get("qpv")
    if incoming is None or incoming.empty:
        return pd.DataFrame(columns=["code_qpv", "contrat_avant", "contrat_apres", "action_id", "annee", "intitule"])
    con.register("_incoming_qpv", incoming[["code_qpv", "contrat"]])
    try:
        return con.execute(
            "SELECT n.code_qpv, o.contrat AS contrat_avant, n.contrat AS contrat_apres, a.action_id, a.annee, "
            "a.intitule FROM _incoming_qpv n JOIN qpv o ON o.code_qpv = n.code_qpv "
            "JOIN action_qpv aq ON aq.code_qpv = n.code_qpv "
            "JOIN action a ON a.action_id = aq.action_id AND a.annee = aq.annee "
            "WHERE o.contrat IS NOT NULL AND o.contrat IS DISTINCT FROM n.contrat AND a.contrat = o.contrat "
            "ORDER BY n.code_qpv, a.annee, a.action_id").df()
    finally:
        con.unregister("_incoming_qpv")


def _orphan_issues(report: Report, upload: Upload, orphans: pd.DataFrame) -> None:
    lines: dict[str, int] = {}
    try:
        raw = reading.read_table(upload.data, upload.name, sheet_hint="qpv")
        codes = list(report.tables["qpv"]["code_qpv"])
        if len(raw.rows) == len(codes):  # a valid file: one table row per data line, in order
            lines = {code: line for code, (line, _) in zip(codes, raw.rows, strict=True)}
    except reading.UnreadableFile:
        pass
    for code, group in orphans.groupby("code_qpv", sort=True):
        before, after = group["contrat_avant"].iloc[0], group["contrat_apres"].iloc[0]
        target = f"au contrat {after}" if isinstance(after, str) and after else "à aucun contrat"
        shown = ", ".join(f"{a} ({y})" for a, y in zip(group["action_id"].head(5), group["annee"].head(5),
                                                       strict=True))
        more = f" et {fmt.compte(len(group) - 5, 'autre')}" if len(group) > 5 else ""
        report.issues.append(Issue(
            lines.get(code), "contrat", after if isinstance(after, str) else "",
            f"Le quartier {code} est rattaché au contrat {before}, sous lequel "
            f"{fmt.compte(len(group), 'action le concerne', 'actions le concernent')} ({shown}{more}) : "
            f"le rattacher {target} les laisserait orphelines.", ERREUR,
            f"Gardez {before} pour ce quartier, ou corrigez d'abord ces actions (liste sous le rapport)."))


def _years(report: Report) -> set[int]:
    years: set[int] = set()
    for table in ("action", "financement"):
        df = report.tables.get(table)
        if df is not None and not df.empty:
            years |= {int(y) for y in df["annee"].dropna().unique()}
    return years


def _totals(con) -> pd.DataFrame:
    return queries.aggregate(con, Filtres(), ("annee",))[["annee", "nb_actions", "montant_accorde"]]


def plan_import(target: Target, uploads: list[Upload], max_bytes: int = MAX_BYTES, lean: bool = False) -> ImportPlan:
    """Check every file and compute what the upload would change, without writing anything.

    The files are tried in order inside a transaction that is always rolled back, so a programmation and
    its financements (or a referential and the files using it) are checked together as they will be written.
    `lean` (the command line, which shows neither): no rows of the preview, no totals, and the last file is
    checked but not tried (nothing comes after it).
    """
    files: list[CheckedFile] = []
    years: set[int] = set()
    pending: set[tuple[str, int]] = set()
    with _transaction(target, None, "", role=None, rollback=True) as (con, _who):
        version = data_version(con)
        before = _totals(con)
        ordered = _ordered(uploads)
        for n, upload in enumerate(ordered):
            checked = _check_one(con, upload, pending, max_bytes)
            report = checked.report
            if report.ok:
                if not lean:
                    checked.diffs = importer.preview(con, report)
                if not lean or n < len(ordered) - 1:
                    importer.apply_in_transaction(con, report, PREVIEW_USER)
                years |= _years(report)
                if "action" in report.tables:
                    act = report.tables["action"]
                    pending |= set(zip(act["action_id"], act["annee"].astype(int), strict=True))
            files.append(checked)
        after = _totals(con)
    totals = before.merge(after, on="annee", how="outer", suffixes=("_avant", "_apres"))
    totals = totals[totals["annee"].isin(years)].fillna(0).sort_values("annee").reset_index(drop=True)
    totals["annee"] = totals["annee"].astype(int)
    return ImportPlan(files, totals, version)


# --------------------------------------------------------------------------- writes (gestionnaire only)


def commit_plan(target: Target, plan: ImportPlan, actor: auth.User) -> list[importer.ImportResult]:
    """Write exactly the checked upload `plan` the person saw, in one transaction (all or nothing).

    Refused with StalePlan when anything was written since the plan was computed (its data version): the
    person is then shown a fresh check and preview, and validates again if it still suits them.
    """
    if not plan.ok:
        bad = next(f for f in plan.files if not f.ok) if plan.files else None
        if bad is None:
            raise StalePlan("Aucun fichier à importer.")
        raise importer.ImportRejected(bad.report)
    with _transaction(target, actor, f"import de {fmt.compte(len(plan.files), 'fichier')}") as (con, who):
        if data_version(con) != plan.version:
            raise StalePlan(STALE_MESSAGE)
        return [importer.apply_in_transaction(con, f.report, who) for f in plan.files]


def commit_import(target: Target, uploads: list[Upload], actor: auth.User,
                  expected_version: tuple[int, str] | None = None, max_bytes: int = MAX_BYTES) -> list[importer.ImportResult]:
    """Check then write every file of an upload in one transaction (all or nothing), each journaled.

    Used by the command line (one transaction for all the files of one command). Raises AccessDenied without
    the gestionnaire role, StalePlan when the data changed since `expected_version`, ImportRejected (nothing
    written) when a file does not pass the checks.
    """
    results: list[importer.ImportResult] = []
    pending: set[tuple[str, int]] = set()
    with _transaction(target, actor, f"import de {fmt.compte(len(uploads), 'fichier')}") as (con, who):
        if expected_version is not None and data_version(con) != expected_version:
            raise StalePlan(STALE_MESSAGE)
        for upload in _ordered(uploads):
            report = _check_one(con, upload, pending, max_bytes).report
            if not report.ok:
                raise importer.ImportRejected(report)
            results.append(importer.apply_in_transaction(con, report, who))
            if "action" in report.tables:
                act = report.tables["action"]
                pending |= set(zip(act["action_id"], act["annee"].astype(int), strict=True))
    return results


def undoable_ids(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Journal entries that can still be undone (imports and undos not undone yet), newest first."""
    kinds = list(importer.MAIN_TABLE)
    return [r[0] for r in con.execute(
        f"SELECT import_id FROM import_journal WHERE annule_par IS NULL AND type_fichier IN "
        f"({', '.join('?' for _ in kinds)}) ORDER BY import_id DESC", kinds).fetchall()]


def undoable(con: duckdb.DuckDBPyConnection, import_id: int) -> bool:
    """Whether the journal entry is an import (or undo) this module can undo, not yet undone."""
    row = con.execute("SELECT type_fichier, annule_par FROM import_journal WHERE import_id = ?",
                      [import_id]).fetchone()
    return row is not None and row[1] is None and row[0] in importer.MAIN_TABLE


def undo_preview(con: duckdb.DuckDBPyConnection, import_id: int) -> dict[str, TableDiff]:
    """What undoing `import_id` would do now, per table: rows put back (added), changed, taken out (removed)."""
    out: dict[str, TableDiff] = {}
    for table in importer._touched_tables(con, import_id):
        scope = ", ".join(importer.TABLE_SCOPE[table])
        cols = importer.table_columns(con, table)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _undo_scope AS SELECT DISTINCT {scope} FROM journal_{table} "
                    "WHERE import_id = ?", [import_id])
        try:
            current = con.execute(f"SELECT t.* FROM {table} t SEMI JOIN _undo_scope s "
                                  f"ON {importer._scope_join(table)}").df()
        finally:
            con.execute("DROP TABLE _undo_scope")
        restore = con.execute(f"SELECT * EXCLUDE (import_id, etat) FROM journal_{table} "
                              "WHERE import_id = ? AND etat = 'avant'", [import_id]).df()
        out[table] = importer._diff_frames(table, cols, current, restore)
    return out


def undo(target: Target, import_id: int | None, actor: auth.User) -> importer.ImportResult:
    """Undo an import (None: the latest operation not undone) as `actor`, journaled.

    Raises AccessDenied, or UndoRefused naming the later imports.
    """
    with _transaction(target, actor, f"annulation de l'opération n° {import_id}") as (con, who):
        if import_id is None:
            return importer.undo_in_transaction(con, None, who)
        kind = con.execute("SELECT type_fichier FROM import_journal WHERE import_id = ?", [import_id]).fetchone()
        if kind is not None and kind[0] not in importer.MAIN_TABLE:
            raise importer.UndoRefused(f"L'opération n° {import_id} ({kind[0]}) ne s'annule pas depuis le journal : "
                                       "refaites la modification depuis la page où elle a été faite.")
        return importer.undo_in_transaction(con, import_id, who)


def backup_now(target: Target, db_path: str | Path, to_dir: str | Path, actor: auth.User) -> Path:
    """A consistent copy of the app's database in `to_dir` (see backup.backup_connection); journaled."""
    fresh = auth.require_current_role(actor, auth.GESTIONNAIRE)
    with _base(target).writing() as con:
        try:
            saved = backup.backup_connection(con, db_path, to_dir)
        except duckdb.Error as exc:
            raise errors.from_duckdb(exc) from exc
    with _transaction(target, fresh, "") as (con, who):
        _journal_access(con, who, "sauvegarde", str(saved))
    return saved


def backup_read_only(db_path: str | Path, to_dir: str | Path, actor: auth.User, wait: float = schema.LOCK_WAIT) -> Path:
    """Back up a base that the app may be reading (command line): opened read-only, so it works while the app
    runs. Not journaled in the base (a read-only opening cannot write); the command prints where it wrote."""
    auth.require_current_role(actor, auth.GESTIONNAIRE)
    con = schema.connect_read(db_path, wait)
    try:
        return backup.backup_connection(con, db_path, to_dir)
    except duckdb.Error as exc:
        raise errors.from_duckdb(exc, db_path) from exc
    finally:
        con.close()


def restore(backup_path: str | Path, db_path: str | Path, actor: auth.User) -> Path | None:
    """Replace the base by a backup (the app must be stopped), then journal who restored what."""
    fresh = auth.require_current_role(actor, auth.GESTIONNAIRE)
    kept = backup.restore(backup_path, db_path)
    with _transaction(FileBase(db_path), fresh, "") as (con, who):
        _journal_access(con, who, "restauration", f"depuis {backup_path}"
                        + (f" (ancienne base conservée : {kept})" if kept else ""))
    return kept


# --------------------------------------------------------------------------- settings: targets, séances, views


def definir_cible(target: Target, pilier: str, nature: str, part_cible: float, libelle: str | None = None, *,
                  actor: auth.User | None) -> int:
    """Store (or replace) a pillar target (see queries_piliers.cible_row); its journal number."""
    with _transaction(target, actor, "cible") as (con, who):
        row = queries_piliers.cible_row(con, pilier, nature, part_cible, libelle)
        return _write_cible(con, pilier, nature, row, who, f"cible du pilier {pilier} ({nature}) : {row[2]:g} %")


def supprimer_cible(target: Target, pilier: str, nature: str, *, actor: auth.User | None) -> int:
    """Remove a pillar target; its journal number. CibleInvalide if there is none."""
    with _transaction(target, actor, "cible") as (con, who):
        if not queries_piliers.cible_existe(con, pilier, nature):
            raise queries_piliers.CibleInvalide("Aucune cible n'est enregistrée pour ce pilier et cette nature de "
                                                "crédits.")
        return _write_cible(con, pilier, nature, None, who, f"suppression de la cible du pilier {pilier} ({nature})")


def _write_cible(con, pilier: str, nature: str, row: tuple | None, user: str, what: str) -> int:
    """Replace the target (pilier, nature) by `row` (None: delete), journaled, inside the caller's transaction."""
    import_id = int(con.execute("SELECT nextval('import_id_seq')").fetchone()[0])
    key = "WHERE pilier = ? AND nature = ?"
    before = con.execute(f"SELECT count(*) FROM cible_pilier {key}", [pilier, nature]).fetchone()[0]
    con.execute(f"INSERT INTO journal_cible_pilier SELECT ?, 'avant', * FROM cible_pilier {key}",
                [import_id, pilier, nature])
    con.execute(f"DELETE FROM cible_pilier {key}", [pilier, nature])
    if row is not None:
        con.execute("INSERT INTO cible_pilier (pilier, nature, part_cible, libelle) VALUES (?, ?, ?, ?)", list(row))
    con.execute(f"INSERT INTO journal_cible_pilier SELECT ?, 'apres', * FROM cible_pilier {key}",
                [import_id, pilier, nature])
    counts = (0, 0, 1) if row is None else ((1, 0, 0) if before == 0 else (0, 1, 0))
    # A journal entry: who changed the target and when; it also refreshes the app's cached figures.
    con.execute("INSERT INTO import_journal (import_id, horodatage, utilisateur, fichier, empreinte, type_fichier, "
                "nb_lignes, nb_ajoutees, nb_modifiees, nb_supprimees) "
                "VALUES (?, ?, ?, ?, NULL, 'cible_pilier', 1, ?, ?, ?)", [import_id, datetime.now(), user, what, *counts])
    return import_id


def save_seance(target: Target, seance: vues.Seance, actor: auth.User, known_types: set[str] | None = None) -> str:
    """Save (or replace) a séance (gestionnaires only, journaled); its URL name (slug of the title)."""
    nom, titre, slides_json = vues.seance_row(seance, known_types)
    with _transaction(target, actor, "séance") as (con, who):
        existed = con.execute("SELECT 1 FROM seance WHERE nom = ?", [nom]).fetchone() is not None
        con.execute("INSERT OR REPLACE INTO seance VALUES (?, ?, ?, ?, ?, ?)",
                    [nom, titre, seance.date, slides_json, seance.filtres_query_string.lstrip("?"), datetime.now()])
        _journal_access(con, who, "séance remplacée" if existed else "séance enregistrée", titre)
    seance.nom, seance.titre = nom, titre
    return nom


def delete_seance(target: Target, nom: str, actor: auth.User) -> None:
    with _transaction(target, actor, "séance") as (con, who):
        con.execute("DELETE FROM seance WHERE nom = ?", [nom])
        _journal_access(con, who, "séance supprimée", nom)


def save_view(target: Target, nom: str, page: str, query_string: str, actor: auth.User) -> str:
    """Save (or replace) a named view of `page` with the shared filters of `query_string` (gestionnaires only)."""
    nom, page, qs = vues.view_row(nom, page, query_string)
    with _transaction(target, actor, "vue") as (con, who):
        con.execute("INSERT OR REPLACE INTO vue_enregistree VALUES (?, ?, ?, ?)", [nom, page, qs, datetime.now()])
        _journal_access(con, who, "vue enregistrée", f"{nom} ({page})")
    return nom


def delete_view(target: Target, nom: str, actor: auth.User) -> None:
    with _transaction(target, actor, "vue") as (con, who):
        con.execute("DELETE FROM vue_enregistree WHERE nom = ?", [nom])
        _journal_access(con, who, "vue supprimée", nom)


def record_sign_in(target: Target, login: str, address: str | None, ok: bool, detail: str = "") -> None:
    """Journal a sign-in attempt (no role needed: it is the app recording, not the person writing)."""
    with _transaction(target, None, "", role=None) as (con, _who):
        _journal_access(con, login or "(identifiant vide)", "connexion réussie" if ok else "échec de connexion",
                        " ".join(p for p in (f"depuis {address}" if address else "", detail) if p))


# --------------------------------------------------------------------------- views for the pages


def journal_view(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The journal with French column names and a plain state ("annulé par le n° 12"), newest first."""
    df = importer.journal(con)
    kinds = {k: v.libelle.split(" (")[0] for k, v in {**KINDS, CONTOURS.code: CONTOURS}.items()}

    def state(row) -> str:
        if pd.notna(row["annule_par"]):
            return f"annulé (n° {int(row['annule_par'])})"
        if pd.notna(row["annule"]):
            return f"annulation du n° {int(row['annule'])}"
        return ""

    return pd.DataFrame({
        "N°": df["import_id"].astype(int),
        "Date": df["horodatage"],
        "Personne": df["utilisateur"],
        "Fichier": df["fichier"],
        "Type": df["type_fichier"].map(lambda k: kinds.get(k, k)),
        "Lignes": df["nb_lignes"],
        "Ajoutées": df["nb_ajoutees"],
        "Modifiées": df["nb_modifiees"],
        "Supprimées": df["nb_supprimees"],
        "État": df.apply(state, axis=1) if len(df) else pd.Series(dtype=str),
        "Empreinte": df["empreinte"].fillna("").str.slice(0, 12),
    })


def undo_blockers_text(con: duckdb.DuckDBPyConnection, import_id: int) -> str | None:
    """Why an undo would be refused now (later imports on the same rows, named), or None."""
    blockers = importer.undo_blockers(con, import_id)
    if not blockers:
        return None
    rows = con.execute(
        f"SELECT import_id, fichier, utilisateur FROM import_journal WHERE import_id IN "
        f"({', '.join('?' for _ in blockers)}) ORDER BY import_id DESC", blockers).fetchall()
    names = "; ".join(f"n° {i} « {f} » ({u})" for i, f, u in rows)
    return (f"Cet import ne peut pas être annulé : des imports plus récents ont modifié les mêmes lignes ({names}). "
            "Annulez-les d'abord, du plus récent au plus ancien.")


REFERENTIAL_SQL = {
    "qpv": "SELECT code_qpv, nom_qpv, communes_insee, geographie, population, contrat FROM qpv ORDER BY code_qpv",
    "piliers": "SELECT code, libelle, generation FROM pilier ORDER BY generation, code",
    "financeurs": "SELECT code, libelle, categorie, nature_defaut FROM financeur ORDER BY code",
    "thematiques": "SELECT theme_code, theme_libelle, code AS sous_theme_code, libelle AS sous_theme_libelle "
                   "FROM thematique ORDER BY code",
    "thematiques_piliers": "SELECT generation, thematique, pilier, nullif(contrat, '') AS contrat "
                           "FROM thematique_pilier ORDER BY generation, contrat, thematique",
}


def referential(con: duckdb.DuckDBPyConnection, code: str) -> pd.DataFrame:
    """A referential as stored, in its upload format (download, edit, upload again)."""
    return con.execute(REFERENTIAL_SQL[code]).df()


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def changes_frame(table: str, diff: TableDiff) -> pd.DataFrame:
    """Changed rows of a diff, one line per changed cell: the row's key, the column, old and new values."""
    ident = list(importer.TABLE_IDENTITY.get(table, importer.TABLE_SCOPE[table]))
    rows = []
    before = diff.changed_before.to_dict("records")
    after = diff.changed_after.to_dict("records")
    for b, a in zip(before, after, strict=True):
        for col in diff.changed_after.columns:
            if col in ident or _cell(b.get(col)) == _cell(a.get(col)):
                continue
            rows.append({**{c: _cell(a.get(c)) for c in ident}, "Colonne": col, "Avant": _cell(b.get(col)),
                         "Après": _cell(a.get(col))})
    return pd.DataFrame(rows, columns=[*ident, "Colonne", "Avant", "Après"])


def totals_view(plan: ImportPlan) -> pd.DataFrame:
    """Totals of the years concerned, before → after, as French text (`1 234 567 €`, `+9 590 €`)."""
    t = plan.totals
    gap = t["montant_accorde_apres"] - t["montant_accorde_avant"]
    return pd.DataFrame({
        "Année": t["annee"].astype(str),
        "Actions": [f"{fmt.nombre(a)} → {fmt.nombre(b)}" for a, b in zip(t["nb_actions_avant"],
                                                                         t["nb_actions_apres"], strict=True)],
        "Montant accordé avant": t["montant_accorde_avant"].map(fmt.euros),
        "Montant accordé après": t["montant_accorde_apres"].map(fmt.euros),
        "Écart": [("+" if g > 0 else "") + fmt.euros(g) for g in gap],
    })


def counts_view(plan: ImportPlan) -> pd.DataFrame:
    """Rows added / changed / removed per file and table."""
    rows = [{"Fichier": f.upload.name, "Table": TABLE_LABELS.get(t, t), "Ajoutées": n[0], "Modifiées": n[1],
             "Supprimées": n[2]} for f in plan.files for t, n in f.counts().items()]
    return pd.DataFrame(rows, columns=["Fichier", "Table", "Ajoutées", "Modifiées", "Supprimées"])


def backup_dir(db_path: str | Path) -> Path:
    """Where the app's « Sauvegarder » button writes: `CDV_BACKUP_DIR`, else `sauvegardes/` beside the database."""
    return Path(os.environ.get("CDV_BACKUP_DIR") or Path(db_path).parent / "sauvegardes")
