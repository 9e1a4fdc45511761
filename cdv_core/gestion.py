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
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from cdv_core import auth, backup, fmt, importer, queries, reading
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
}
# Tables shown in the preview (the others are derived from them).
SHOWN_TABLES = ("action", "financement", "indicateur", "enquete_reponse", "enquete_diffusion", "qpv", "pilier",
                "financeur", "thematique", "indicateur_def", "contour", "thematique_pilier")


class StalePlan(Exception):
    """The data changed since the upload was checked; `.message` asks to check again."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
    version: int  # data version the plan was computed on

    @property
    def ok(self) -> bool:
        return bool(self.files) and all(f.ok for f in self.files)

    @property
    def changes_anything(self) -> bool:
        return any(f.counts() for f in self.files)


def data_version(con: duckdb.DuckDBPyConnection) -> int:
    """Highest journal number: changes with every import, undo or other journaled edit."""
    return int(con.execute("SELECT coalesce(max(import_id), 0) FROM import_journal").fetchone()[0])


# --------------------------------------------------------------------------- checks


def _kind_of(upload: Upload) -> str:
    if upload.kind:
        return upload.kind
    try:
        found = importer.detect_kind(reading.read_table(upload.data, upload.name).header)
    except reading.UnreadableFile:
        return ""
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
    report = importer.check_file(con, upload.data, upload.name, upload.kind, pending_actions=pending)
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
        more = f" et {len(group) - 5} autre(s)" if len(group) > 5 else ""
        report.issues.append(Issue(
            lines.get(code), "contrat", after if isinstance(after, str) else "",
            f"Le quartier {code} est rattaché au contrat {before}, sous lequel {len(group)} action(s) le "
            f"concernent ({shown}{more}) : le rattacher {target} les laisserait orphelines.", ERREUR,
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


def plan_import(con: duckdb.DuckDBPyConnection, uploads: list[Upload], max_bytes: int = MAX_BYTES) -> ImportPlan:
    """Check every file and compute what the upload would change, without writing anything.

    The files are tried in order inside a transaction that is always rolled back, so a programmation and
    its financements (or a referential and the files using it) are checked together as they will be written.
    """
    files: list[CheckedFile] = []
    years: set[int] = set()
    pending: set[tuple[str, int]] = set()
    with importer.WRITE_LOCK:
        version = data_version(con)
        before = _totals(con)
        con.execute("BEGIN TRANSACTION")
        try:
            for upload in _ordered(uploads):
                checked = _check_one(con, upload, pending, max_bytes)
                report = checked.report
                if report.ok:
                    checked.diffs = importer.preview(con, report)
                    importer.apply_in_transaction(con, report, PREVIEW_USER)
                    years |= _years(report)
                    if "action" in report.tables:
                        act = report.tables["action"]
                        pending |= set(zip(act["action_id"], act["annee"].astype(int), strict=True))
                files.append(checked)
            after = _totals(con)
        finally:
            con.execute("ROLLBACK")
    totals = before.merge(after, on="annee", how="outer", suffixes=("_avant", "_apres"))
    totals = totals[totals["annee"].isin(years)].fillna(0).sort_values("annee").reset_index(drop=True)
    totals["annee"] = totals["annee"].astype(int)
    return ImportPlan(files, totals, version)


# --------------------------------------------------------------------------- writes (gestionnaire only)


def commit_import(con: duckdb.DuckDBPyConnection, uploads: list[Upload], actor: auth.User,
                  expected_version: int | None = None, max_bytes: int = MAX_BYTES) -> list[importer.ImportResult]:
    """Write every file of an upload in one transaction (all or nothing), each journaled under `actor`.

    Raises AccessDenied without the gestionnaire role, StalePlan when the data changed since the check
    (`expected_version`), ImportRejected (nothing written) when a file no longer passes the checks.
    """
    auth.require_role(actor, auth.GESTIONNAIRE)
    results: list[importer.ImportResult] = []
    pending: set[tuple[str, int]] = set()
    with importer.WRITE_LOCK:
        if expected_version is not None and data_version(con) != expected_version:
            raise StalePlan("Les données ont été modifiées (par un autre import) depuis la vérification de vos "
                            "fichiers : rien n'a été écrit. Vérifiez-les à nouveau avant de valider.")
        con.execute("BEGIN TRANSACTION")
        try:
            for upload in _ordered(uploads):
                report = _check_one(con, upload, pending, max_bytes).report
                if not report.ok:
                    raise importer.ImportRejected(report)
                results.append(importer.apply_in_transaction(con, report, actor.label))
                if "action" in report.tables:
                    act = report.tables["action"]
                    pending |= set(zip(act["action_id"], act["annee"].astype(int), strict=True))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
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


def undo(con: duckdb.DuckDBPyConnection, import_id: int, actor: auth.User) -> importer.ImportResult:
    """Undo an import as `actor` (journaled). Raises AccessDenied, or UndoRefused naming the later imports."""
    auth.require_role(actor, auth.GESTIONNAIRE)
    kind = con.execute("SELECT type_fichier FROM import_journal WHERE import_id = ?", [import_id]).fetchone()
    if kind is not None and kind[0] not in importer.MAIN_TABLE:
        raise importer.UndoRefused(f"L'opération n° {import_id} ({kind[0]}) ne s'annule pas depuis le journal : "
                                   "refaites la modification depuis la page où elle a été faite.")
    return importer.undo_import(con, import_id, actor.label)


def backup_now(con: duckdb.DuckDBPyConnection, db_path: str | Path, to_dir: str | Path, actor: auth.User) -> Path:
    """A consistent copy of the app's database in `to_dir` (see backup.backup_connection)."""
    auth.require_role(actor, auth.GESTIONNAIRE)
    return backup.backup_connection(con, db_path, to_dir)


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
