"""Import des données and Journal pages (AppTest) and the logic under them: validation report, preview with
totals, commit, undo, templates round trip, referential orphans, limits, concurrent imports, crash mid-import.

Expected values are computed with pandas from data/demo/*.csv and data/referentiels/*.csv.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from cdv_core import auth, fmt, gestion, importer, schema, templates
from cdv_core.formats import IMPORT_ORDER, KINDS
from tests.conftest import REPO_ROOT
from ui import data

DEMO = REPO_ROOT / "data" / "demo"
REF = REPO_ROOT / "data" / "referentiels"
MARIE = auth.User("marie", "Marie Dupont", frozenset({auth.GESTIONNAIRE}), "local")
ACTION, YEAR = "CALL-2022-0410", 2025  # 2025: the year the overview shows first

# A French-Excel export: cp1252, `;`, labels instead of codes, amounts with spaces and €, CRLF.
CP1252_FILE = ("N° dossier;Année;Financeur;Montant accordé;Montant demandé;Nature;Dispositif;Section\r\n"
               f"{ACTION};{YEAR};État – crédits politique de la ville (BOP 147);12 500,00 €;15 000;Spécifique;"
               "Contrat de ville;Fonctionnement\r\n"
               f"{ACTION};{YEAR};CAF;3 000;;;Contrat de ville;\r\n").encode("cp1252")
NEW_ROWS = pd.DataFrame([("etat_bop147", 12500.0, "specifique", "Contrat de ville", "fonctionnement"),
                         ("caf", 3000.0, "droit_commun", "Contrat de ville", "fonctionnement")],
                        columns=["financeur", "montant_accorde", "nature", "dispositif", "section"])
ERRORS_FILE = ("action_id;annee;financeur;montant_accorde\r\n"
               f"{ACTION};{YEAR};Banque inconnue;12 500\r\n"
               f"{ACTION};{YEAR};caf;-3\r\n"
               f"{ACTION};20x2;caf;abc\r\n").encode("cp1252")


def demo_financements() -> pd.DataFrame:
    fin = pd.read_csv(DEMO / "financements.csv", dtype={"action_id": str})
    nature = pd.read_csv(REF / "financeurs.csv").set_index("code")["nature_defaut"]
    fin["nature"] = fin["nature"].fillna(fin["financeur"].map(nature))
    fin["section"] = fin["section"].fillna("fonctionnement")
    return fin


def old_rows() -> pd.DataFrame:
    fin = demo_financements()
    return fin[(fin["action_id"] == ACTION) & (fin["annee"] == YEAR)]


def expected_diff() -> tuple[int, int, int, float]:
    """(added, changed, removed, montant delta) of CP1252_FILE over the demo, by identity of FORMATS.md §2."""
    ident = ["financeur", "dispositif", "section", "nature"]
    old = {tuple(r[c] if pd.notna(r[c]) else None for c in ident): r["montant_accorde"]
           for _, r in old_rows().iterrows()}
    new = {tuple(r[c] for c in ident): r["montant_accorde"] for _, r in NEW_ROWS.iterrows()}
    added = len(set(new) - set(old))
    removed = len(set(old) - set(new))
    changed = sum(1 for k in set(new) & set(old) if new[k] != old[k])
    return added, changed, removed, float(NEW_ROWS["montant_accorde"].sum() - old_rows()["montant_accorde"].sum())


def year_total(year: int) -> float:
    fin = demo_financements()
    return float(fin.loc[fin["annee"] == year, "montant_accorde"].sum())


def db_rows(con) -> set[tuple]:
    return set(con.execute("SELECT financeur, montant_accorde, nature, coalesce(dispositif, ''), section "
                           "FROM financement WHERE action_id = ? AND annee = ?", [ACTION, YEAR]).fetchall())


def original_set() -> set[tuple]:
    return {(r.financeur, float(r.montant_accorde), r.nature, r.dispositif if isinstance(r.dispositif, str) else "",
             r.section) for r in old_rows().itertuples()}


def app_base(path) -> data.AppBase:
    """The app's own handle on the base (same process: the read-only connection and write lock it shares)."""
    return data._connection(str(path))


def app_db_rows(path) -> set[tuple]:
    """The action-year's funding as stored, read while the app (same process) has the file open."""
    con = app_base(path).cursor()
    try:
        return db_rows(con)
    finally:
        con.close()


# --------------------------------------------------------------------------- the pages (AppTest)


@pytest.fixture
def manager_app(demo_app_env, monkeypatch, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[cdv.comptes.marie]\nnom = "Marie Dupont"\nrole = "gestionnaire"\n'
                       f'mot_de_passe = "{auth.hash_password("x" * 12, iterations=1000)}"\n', encoding="utf-8")
    monkeypatch.setenv("CDV_SECRETS", str(secrets))
    # cached figures are keyed on the journal number, not on the database file: forget other tests' databases
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=180)
    at.session_state["cdv_user"] = MARIE  # logged in (the login form itself is tested in test_auth.py)
    at.run()
    assert not at.exception
    return at


def overview_total(year: int) -> str:
    """The overview's headline amount, in a new session (the cached figures are shared by all sessions)."""
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert f"Montant accordé {year}" in metrics, metrics
    return metrics[f"Montant accordé {year}"]


def open_import(at: AppTest) -> None:
    at.switch_page("pages/import_donnees.py")
    at.run()
    assert not at.exception
    assert at.title[0].value == "Importer des données"


def test_error_file_shows_every_error_and_writes_nothing(manager_app, demo_app_env):
    at = manager_app
    open_import(at)
    at.file_uploader[0].set_value(("financements_erreurs.csv", ERRORS_FILE, "text/csv"))
    at.run()
    assert not at.exception
    assert "4 erreurs à corriger" in at.error[0].value
    issues = at.table[0].value
    assert list(issues["Ligne"]) == ["2", "3", "4", "4"]
    # cells are escaped as text (Markdown): what the person reads is the column name
    assert [c.replace("\\", "") for c in issues["Colonne"]] == ["financeur", "montant_accorde", "annee",
                                                                 "montant_accorde"]
    assert [v.replace("\\", "") for v in issues["Valeur"]] == ["Banque inconnue", "-3", "20x2", "abc"]
    assert all(issues["Comment corriger"].str.len() > 0)
    assert at.get("download_button")[0].label == "Télécharger le rapport (CSV)"
    assert not [b for b in at.button if b.label == "Valider l'import"]
    assert any("Rien n'a été écrit" in i.value for i in at.info)
    assert app_db_rows(demo_app_env) == original_set()


def _agreed(n: int, one: str, many: str) -> str:
    """French agreement, as a reader expects it: singular for 0 and 1."""
    return f"{n} {one if n < 2 else many}"


def test_upload_preview_commit_then_undo(manager_app, demo_app_env):
    at = manager_app
    added, changed, removed, delta = expected_diff()
    before = year_total(YEAR)
    assert overview_total(YEAR) == fmt.euros(before)

    open_import(at)
    at.file_uploader[0].set_value(("financements.csv", CP1252_FILE, "text/csv"))
    at.run()
    assert not at.exception
    assert "aucun problème" in at.success[0].value and "2 lignes" in at.success[0].value
    counts = at.table[0].value
    assert counts.iloc[0][["Table", "Ajoutées", "Modifiées", "Supprimées"]].tolist() == \
        ["Financements", added, changed, removed]
    totals = at.table[1].value
    row = totals[totals["Année"] == str(YEAR)].iloc[0]
    assert row["Montant accordé avant"] == fmt.euros(before)
    assert row["Montant accordé après"] == fmt.euros(before + delta)
    # labels are Markdown with the file name escaped: what the person reads is without the backslashes
    assert [e.label.replace("\\", "") for e in at.expander][:3] == [
        f"financements.csv — Financements : {_agreed(added, 'ligne ajoutée', 'lignes ajoutées')}",
        f"financements.csv — Financements : {_agreed(changed, 'ligne modifiée', 'lignes modifiées')} "
        "(ancienne → nouvelle valeur)",
        f"financements.csv — Financements : {_agreed(removed, 'ligne supprimée', 'lignes supprimées')}"]

    assert app_db_rows(demo_app_env) == original_set()  # nothing written before the button
    at.button(key="imp_commit").click()
    at.run()
    assert not at.exception
    assert "Import enregistré" in at.success[0].value
    assert app_db_rows(demo_app_env) == {tuple(r) for r in NEW_ROWS.itertuples(index=False)}
    assert overview_total(YEAR) == fmt.euros(before + delta)  # every page shows the new figures

    at.switch_page("pages/journal.py")
    at.run()
    assert not at.exception
    journal = at.dataframe[0].value
    top = journal.iloc[0]
    assert (top["Personne"], top["Fichier"], top["Type"]) == ("Marie Dupont", "financements.csv", "Financements")
    assert (top["Ajoutées"], top["Modifiées"], top["Supprimées"]) == (added, changed, removed)
    assert top["Empreinte"] == importer.checksum(CP1252_FILE)[:12]
    import_id = int(top["N°"])
    assert at.selectbox(key="jr_choice").value == import_id
    summary = " ".join(m.value for m in at.markdown)
    assert f"Financements : {_agreed(removed, 'ligne remise', 'lignes remises')}" in summary
    assert at.button(key="jr_undo").disabled  # confirmation first
    at.checkbox(key=f"jr_confirm_{import_id}").check()
    at.run()
    at.button(key="jr_undo").click()
    at.run()
    assert not at.exception
    assert f"Import n° {import_id} annulé" in at.success[0].value
    journal = at.dataframe[0].value
    assert journal.iloc[0]["État"] == f"annulation du n° {import_id}"
    assert journal.iloc[1]["État"].startswith("annulé")
    assert overview_total(YEAR) == fmt.euros(before)
    assert app_db_rows(demo_app_env) == original_set()


def test_undo_refused_names_the_later_import(manager_app, demo_app_env):
    at = manager_app
    base = app_base(demo_app_env)  # same process as the app: write through its base
    first = gestion.commit_import(base, [gestion.Upload("premier.csv", CP1252_FILE)], MARIE)[0]
    second = gestion.commit_import(base, [gestion.Upload("second.csv", ERRORS_FILE.split(b"\r\n")[0] + b"\r\n"
                                                         + f"{ACTION};{YEAR};caf;10\r\n".encode())], MARIE)[0]
    at.switch_page("pages/journal.py")
    at.run()
    at.selectbox(key="jr_choice").set_value(first.import_id)
    at.run()
    assert not at.exception
    message = at.error[0].value.replace("\\", "")  # Markdown, file names escaped: read as the person sees it
    assert f"n° {second.import_id} « second.csv »" in message and "du plus récent au plus ancien" in message
    assert not [b for b in at.button if b.key == "jr_undo"]


def test_templates_tab_offers_the_four_downloads(manager_app):
    at = manager_app
    open_import(at)
    at.selectbox(key="imp_tpl_kind").set_value("financements")
    at.run()
    labels = [b.label for b in at.get("download_button") if b.label.startswith(("Modèle", "Exemple"))]
    assert labels == ["Modèle vide (CSV)", "Modèle vide (Excel)", "Exemple (CSV)", "Exemple (Excel)"]
    guide = next(d.value for d in at.dataframe if "Valeurs acceptées" in d.value.columns)
    assert list(guide["Colonne"]) == [c.name for c in KINDS["financements"].columns]


# --------------------------------------------------------------------------- templates


def test_guide_and_templates_come_from_formats():
    for code, kind in KINDS.items():
        guide = templates.column_guide(code)
        assert list(guide["Colonne"]) == [c.name for c in kind.columns]
        assert list(guide["Obligatoire"]) == ["oui" if c.required else "non" for c in kind.columns]
        csv = templates.csv_bytes(code, with_example=False)
        assert csv.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
        assert csv[3:].decode("utf-8").strip() == ";".join(c.name for c in kind.columns)
        assert importer.detect_kind([c.name for c in kind.columns]).code == code


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_example_templates_import_cleanly_into_demo(demo_db, ext):
    uploads = [gestion.Upload(templates.file_name(code, True, ext),
                              templates.csv_bytes(code, True) if ext == "csv" else templates.xlsx_bytes(code, True))
               for code in reversed(IMPORT_ORDER)]  # the plan orders them itself
    con = schema.connect(demo_db)
    try:
        plan = gestion.plan_import(con, uploads)
        for f in plan.files:
            # a workbook's report says which sheet was read (the template's guide sheet is not imported)
            other = [i.message for i in f.report.issues if not i.message.startswith("Classeur de 2 feuilles")]
            assert other == [], (f.upload.name, other)
            if ext == "xlsx":
                assert f"seule la feuille « {f.kind} » a été lue" in f.report.issues[0].message
        assert sorted(f.kind for f in plan.files) == sorted(KINDS)
        results = gestion.commit_import(con, uploads, MARIE, expected_version=plan.version)
        assert len(results) == len(KINDS)
        example = templates.example("programmation").iloc[0]
        row = con.execute("SELECT intitule, porteur FROM action WHERE action_id = ? AND annee = ?",
                          [example["action_id"], int(example["annee"])]).fetchone()
        assert row == (example["intitule"], example["porteur"])
    finally:
        con.close()


# --------------------------------------------------------------------------- referentials


def qpv_file(code: str, contrat: str, nom: str = "Cité 12-14") -> bytes:
    return (f"code_qpv;nom_qpv;communes_insee;geographie;population;contrat\r\n"
            f"{code};{nom};62498;2015;2665;{contrat}\r\n").encode()


def test_qpv_moved_to_another_contract_is_refused_with_the_actions(demo_db):
    prog = pd.read_csv(DEMO / "programmation.csv", dtype={"action_id": str})
    uses = prog["qpv"].str.split("|").map(lambda codes: "QP062024" in codes)
    everyone = (prog["qpv"] == "*") & (prog["contrat"] == "CV219")
    expected = prog[(uses | everyone) & (prog["contrat"] == "CV219")]
    assert len(expected) > 0
    con = schema.connect(demo_db)
    try:
        before = con.execute("SELECT * FROM qpv WHERE code_qpv = 'QP062024'").fetchall()
        # another contract of the same generation (one of the other generation is refused outright: test_hostile_input)
        plan = gestion.plan_import(con, [gestion.Upload("qpv.csv", qpv_file("QP062024", "CV001"))])
        assert not plan.ok
        checked = plan.files[0]
        assert len(checked.report.errors) == 1
        issue = checked.report.errors[0]
        assert issue.line == 2 and issue.column == "contrat"
        assert _agreed(len(expected), "action le concerne", "actions le concernent") in issue.message and "orphelines" in issue.message
        assert set(zip(checked.orphans["action_id"], checked.orphans["annee"], strict=True)) == \
            set(zip(expected["action_id"], expected["annee"], strict=True))
        with pytest.raises(importer.ImportRejected):
            gestion.commit_import(con, [gestion.Upload("qpv.csv", qpv_file("QP062024", "CV001"))], MARIE)
        assert con.execute("SELECT * FROM qpv WHERE code_qpv = 'QP062024'").fetchall() == before
        # renaming the quartier, same contract: accepted, journaled, undoable
        ok = gestion.commit_import(con, [gestion.Upload("qpv.csv", qpv_file("QP062024", "CV219", "Cité 12"))], MARIE)
        assert con.execute("SELECT nom_qpv FROM qpv WHERE code_qpv = 'QP062024'").fetchone()[0] == "Cité 12"
        gestion.undo(con, ok[0].import_id, MARIE)
        assert con.execute("SELECT * FROM qpv WHERE code_qpv = 'QP062024'").fetchall() == before
    finally:
        con.close()


def test_referential_download_is_in_upload_format(demo_db):
    con = schema.connect(demo_db, read_only=True)
    try:
        for code in ("qpv", "piliers", "financeurs", "thematiques"):
            df = gestion.referential(con, code)
            assert list(df.columns) == [c.name for c in KINDS[code].columns]
        piliers = gestion.referential(con, "piliers")
        assert set(piliers["code"]) == set(pd.read_csv(REF / "piliers.csv")["code"])
    finally:
        con.close()


# --------------------------------------------------------------------------- limits


def test_size_cap_and_non_table_are_refused_in_french(demo_db):
    con = schema.connect(demo_db)
    try:
        plan = gestion.plan_import(con, [gestion.Upload("gros.csv", CP1252_FILE * 10)], max_bytes=len(CP1252_FILE))
        assert not plan.ok and "trop volumineux" in plan.files[0].report.errors[0].message
        pdf = gestion.plan_import(con, [gestion.Upload("note.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")])
        assert not pdf.ok and "PDF" in pdf.files[0].report.errors[0].message
    finally:
        con.close()


def test_stale_plan_is_not_committed(demo_db):
    con = schema.connect(demo_db)
    try:
        plan = gestion.plan_import(con, [gestion.Upload("a.csv", CP1252_FILE)])
        gestion.commit_import(con, [gestion.Upload("b.csv", ERRORS_FILE.split(b"\r\n")[0] + b"\r\n"
                                                   + f"{ACTION};{YEAR};caf;10\r\n".encode())], MARIE)
        rows = db_rows(con)
        with pytest.raises(gestion.StalePlan):
            gestion.commit_import(con, [gestion.Upload("a.csv", CP1252_FILE)], MARIE, expected_version=plan.version)
        assert db_rows(con) == rows
    finally:
        con.close()


def test_plan_writes_nothing(demo_db):
    con = schema.connect(demo_db)
    try:
        journal = len(importer.journal(con))
        plan = gestion.plan_import(con, [gestion.Upload("a.csv", CP1252_FILE)])
        assert plan.ok and plan.changes_anything
        assert db_rows(con) == original_set()
        assert len(importer.journal(con)) == journal
    finally:
        con.close()


def test_concurrent_imports_are_serialised(demo_db):
    """Two browsers validating at the same moment: the app shares one connection, one cursor per use."""
    con = schema.connect(demo_db)
    files = {
        "a.csv": CP1252_FILE,
        "b.csv": ERRORS_FILE.split(b"\r\n")[0] + b"\r\n" + f"{ACTION};{YEAR};caf;10\r\n".encode(),
    }
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def run(name: str) -> None:
        cur = con.cursor()
        try:
            barrier.wait()
            results[name] = gestion.commit_import(cur, [gestion.Upload(name, files[name])], MARIE)[0]
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            results[name] = exc
        finally:
            cur.close()

    try:
        threads = [threading.Thread(target=run, args=(n,)) for n in files]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(isinstance(r, importer.ImportResult) for r in results.values()), results
        last = max(results.values(), key=lambda r: r.import_id)
        if last.file_name == "b.csv":
            assert db_rows(con) == {("caf", 10.0, "droit_commun", "", "fonctionnement")}
        else:
            assert db_rows(con) == {tuple(r) for r in NEW_ROWS[["financeur", "montant_accorde", "nature",
                                                                 "dispositif", "section"]].itertuples(index=False)}
        first = min(results.values(), key=lambda r: r.import_id)
        assert importer.undo_blockers(con, first.import_id) == [last.import_id]
    finally:
        con.close()


CRASH_SCRIPT = textwrap.dedent("""
    import sys, time
    from cdv_core import auth, gestion, importer, schema

    real = importer._write_table

    def write_then_hang(con, import_id, table, df):
        real(con, import_id, table, df)
        print("ECRIT", table, flush=True)
        time.sleep(600)

    con = schema.connect(sys.argv[1])
    data = open(sys.argv[2], "rb").read()
    plan = gestion.plan_import(con, [gestion.Upload("gros.csv", data)])
    assert plan.ok, [i.message for f in plan.files for i in f.report.errors]
    print("VERIFIE", flush=True)
    importer._write_table = write_then_hang
    gestion.commit_import(con, [gestion.Upload("gros.csv", data)], auth.cli_user("test"))
""")


def table_fingerprints(path) -> dict[str, tuple]:
    con = schema.connect(path, read_only=True)
    try:
        tables = [*schema.JOURNALED_TABLES, "import_journal"]
        tables += [f"journal_{t}" for t in schema.JOURNALED_TABLES]
        return {t: con.execute(f"SELECT count(*), coalesce(sum(hash(x)), 0) FROM {t} x").fetchone() for t in tables}
    finally:
        con.close()


def test_killed_process_mid_import_leaves_database_as_before(demo_db, tmp_path):
    prog = pd.read_csv(DEMO / "programmation.csv", dtype=str, keep_default_na=False)
    big = pd.concat([prog.assign(action_id=prog["action_id"] + f"-X{i}") for i in range(8)], ignore_index=True)
    big_file = tmp_path / "gros.csv"
    big.to_csv(big_file, sep=";", index=False, encoding="cp1252", errors="replace")
    before = table_fingerprints(demo_db)
    script = tmp_path / "crash.py"
    script.write_text(CRASH_SCRIPT, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), str(demo_db), str(big_file)], cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line.strip())
            if line.startswith("ECRIT"):
                break
        assert lines[-1:] == ["ECRIT action"], (lines, proc.stderr.read() if proc.poll() is not None else "")
        os.kill(proc.pid, signal.SIGKILL)  # the action rows are written, the transaction is not committed
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert table_fingerprints(demo_db) == before
