"""Large CSV files read in bounded memory (issue 9): a plain UTF-8 file is read straight from its bytes, without a
Python copy of its text, and gives exactly what the record-by-record reading gives; the command line imports such
a file read from disk with the same rows, messages and guarantees (all or nothing, idempotent, journal, undo).

Oracles: the record loop of `reading._read_csv` (the csv module, line by line) for the reading; for the import,
values computed here from the lines written (pandas on the file for the totals, the planted errors for the
messages), never from the importer's output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdv_core import demo, reading, schema

ROOT = Path(__file__).resolve().parents[1]

TEXTS = [
    "a;b;c\r\n1;2;3\r\n\r\n;;\r\n 4 ; 5 ;\u00a06\u3000\r\n7;8\r\n9;10;11;12\r\n13;14;15;;;\r\n",
    "x\ty\tz\n1\t2\t3\n4\t5\n",
    "\n\n  \n;;\nh1;h2\n1;2\n",
    "a,b\n1,2\n3,4,5\n,\n6,\n",
    "a;b\n1;2\n" + "".join(f"{k};{k * 2}\n" for k in range(3000)),
    "a;b;\n1;2;\n3;4;5\n",
    "a;b\n\x0b1\x1c;2\x85\n",
    "montant;libellé\n12\u202f337,50;Équipe d'été\n1 000;œuvre\nlast;line without end",
    "\ufeffa;b\n1;2\n",
]
# files the bytes path leaves to the usual reading (which then decides, with its messages)
USUAL = [
    "sep=;\na;b\n1;2\n\n3;4\n",
    'a;b\n"1;x";2\n',
    "\ufeff\ufeffa;b\n1;2\n",
    "a;b\n1\u200b;2\n",
    "a;b\r1;2\r",
    "a;b\n1;\x00;x\n" * 50,
]


def _snapshot(raw: reading.RawTable) -> tuple:
    return raw.header, raw.header_line, raw.delimiter, raw.encoding, list(raw.rows)


def _read(data: bytes) -> tuple:
    """What read_table gives: the table, or the sentence refusing the file."""
    try:
        return _snapshot(reading.read_table(data, "f.csv"))
    except reading.UnreadableFile as exc:
        return ("refusé", exc.message)


def _record_loop(data: bytes, monkeypatch) -> tuple:
    with monkeypatch.context() as m:
        m.setattr(reading, "_utf8_plain_table", lambda *a, **k: None)
        m.setattr(reading, "_read_plain_csv", lambda *a, **k: None)
        return _read(data)


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("chunk", [65_536, 1])
def test_bytes_read_like_the_record_loop(text, chunk, monkeypatch):
    monkeypatch.setattr(reading, "_PLAIN_BYTES_MIN", 0)  # every file, however small, read from its bytes
    monkeypatch.setattr(reading, "_CHUNK_ROWS", chunk)
    data = text.encode("utf-8")
    assert reading._utf8_plain_table(data, "f.csv", None) is not None  # the bytes path is the one tested
    assert _snapshot(reading.read_table(data, "f.csv")) == _record_loop(data, monkeypatch)


@pytest.mark.parametrize("text", USUAL)
def test_what_the_bytes_path_leaves_reads_as_before(text, monkeypatch):
    monkeypatch.setattr(reading, "_PLAIN_BYTES_MIN", 0)
    data = text.encode("utf-8")
    assert reading._utf8_plain_table(data, "f.csv", None) is None
    assert _read(data) == _record_loop(data, monkeypatch)


def test_other_encodings_read_as_before(monkeypatch):
    monkeypatch.setattr(reading, "_PLAIN_BYTES_MIN", 0)
    data = "libellé;montant\nété;12,5\n".encode("cp1252")
    assert reading._utf8_plain_table(data, "f.csv", None) is None
    raw = reading.read_table(data, "f.csv")
    assert (raw.encoding, raw.header, list(raw.rows)) == ("cp1252", ["libellé", "montant"], [(2, ["été", "12,5"])])


def test_a_large_plain_file_is_never_decoded_into_python_text(monkeypatch):
    lines = ["action_id;annee;financeur;montant_accorde"] + [f"A{k};2024;caf;{k}\u202f000,5" for k in range(60_000)]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    assert len(data) > reading._PLAIN_BYTES_MIN

    def no_decode(*a, **k):
        raise AssertionError("the whole text was decoded")

    monkeypatch.setattr(reading, "_decode", no_decode)
    raw = reading.read_table(data, "f.csv")
    assert raw.header == ["action_id", "annee", "financeur", "montant_accorde"]
    assert len(raw.rows) == 60_000
    assert raw.rows[59_999] == (60_001, ["A59999", "2024", "caf", "59999\u202f000,5"])


def test_limits_refuse_like_the_record_loop(monkeypatch):
    monkeypatch.setattr(reading, "_PLAIN_BYTES_MIN", 0)
    data = ("a;b;c\n" + "".join(f"{k};{k}{k};x\n" for k in range(12)) + "1;2;3;4;5;6\n").encode()
    for limites in (reading.Limites(lignes=5), reading.Limites(cellule=3), reading.Limites(cellules=20),
                    reading.Limites(caracteres=30), reading.Limites(colonnes=3)):
        with pytest.raises(reading.UnreadableFile) as fast:
            reading.read_table(data, "f.csv", limites=limites)
        with monkeypatch.context() as m:
            m.setattr(reading, "_utf8_plain_table", lambda *a, **k: None)
            m.setattr(reading, "_read_plain_csv", lambda *a, **k: None)
            with pytest.raises(reading.UnreadableFile) as slow:
                reading.read_table(data, "f.csv", limites=limites)
        assert fast.value.message == slow.value.message


# --------------------------------------------------------------------------- the command line


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "cdv_core", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, check=False, timeout=1200)


@pytest.fixture(scope="module")
def base_with_actions(tmp_path_factory) -> tuple[Path, int]:
    """A base holding 15 000 actions of 2024 (written straight into it), and their number."""
    path = tmp_path_factory.mktemp("mem") / "base.duckdb"
    demo.new_database(path, demo=False)
    n = 15_000
    con = schema.connect(path)
    try:
        code_qpv, contrat = con.execute("SELECT code_qpv, contrat FROM qpv WHERE geographie = '2024' AND contrat "
                                        "IS NOT NULL ORDER BY code_qpv LIMIT 1").fetchone()
        con.execute("INSERT INTO action (action_id, annee, intitule, porteur, pilier, qpv, contrat, statut) "
                    f"SELECT 'A-' || i, 2024, 'Action ' || i, 'Centre social', 'emploi', '{code_qpv}', '{contrat}', "
                    f"'accordee' FROM range({n}) t(i)")
        con.execute(f"INSERT INTO action_qpv SELECT 'A-' || i, 2024, '{code_qpv}', 1.0 FROM range({n}) t(i)")
    finally:
        con.close()
    return path, n


def _funding_file(n_actions: int) -> pd.DataFrame:
    """Three lines per action, amounts as French Excel writes them (some with a narrow no-break space)."""
    rng = np.random.default_rng(5)
    action = np.repeat(np.arange(n_actions), 3)
    cents = rng.integers(100, 9_000_000, len(action))
    text = [f"{c // 100:,}".replace(",", "\u202f") + f",{c % 100:02d}" if k % 4 == 0 else f"{c // 100},{c % 100:02d}"
            for k, c in enumerate(cents.tolist())]
    return pd.DataFrame({"action_id": [f"A-{i}" for i in action], "annee": 2024,
                         "financeur": np.array(["caf", "commune", "epci"])[np.arange(len(action)) % 3],
                         "montant_accorde": text, "dispositif": "Contrat de ville été"})


def _count(db: Path, sql: str):
    con = schema.connect_read(db)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


def test_a_large_file_through_the_command_line(base_with_actions, tmp_path):
    src, n_actions = base_with_actions
    db = tmp_path / "base.duckdb"
    shutil.copyfile(src, db)
    fin = _funding_file(n_actions)
    path = tmp_path / "financements.csv"
    fin.to_csv(path, sep=";", index=False, encoding="utf-8")
    assert path.stat().st_size > reading._PLAIN_BYTES_MIN  # read from its bytes

    # errors planted on known lines (spreadsheet line = row index + 2): every one reported, nothing written
    bad = fin.copy()
    bad.loc[10, "montant_accorde"] = "12,5 %"
    bad.loc[20_000, "action_id"] = "Z-1"
    bad.loc[44_000, "montant_accorde"] = "-3"
    bad_path = tmp_path / "erreurs.csv"
    bad.to_csv(bad_path, sep=";", index=False, encoding="utf-8")
    done = _cli("import", "--db", str(db), str(bad_path))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith(f"{bad_path}:")]
    assert errors == [
        f"{bad_path}:12:montant_accorde: « 12,5 % » est un pourcentage, pas un montant en euros.",
        f"{bad_path}:20002:action_id: L'action « Z-1 » n'existe pas pour l'année 2024.",
        f"{bad_path}:44002:montant_accorde: Montant négatif : un montant est positif ou nul.",
    ]
    assert "rien n'a été écrit" in done.stderr
    assert _count(db, "SELECT count(*) FROM import_journal") == (0,)
    assert _count(db, "SELECT count(*) FROM financement") == (0,)

    # the valid file: every line written with the amounts pandas reads from the file, journaled
    done = _cli("import", "--db", str(db), str(path))
    assert done.returncode == 0, done.stderr[-2000:]
    n = len(fin)
    assert f"{n} lignes, {n} ajoutées, 0 modifiée, 0 supprimée" in done.stdout
    expected = pd.read_csv(path, sep=";", dtype=str)["montant_accorde"].str.replace("\u202f", "").str.replace(
        ",", ".").astype(float)
    count, total, dispositifs = _count(db, "SELECT count(*), sum(montant_accorde), count(DISTINCT dispositif) "
                                           "FROM financement")
    assert (count, dispositifs) == (n, 1)
    assert total == pytest.approx(expected.sum(), abs=0.01)
    assert _count(db, "SELECT sum(montant_accorde) FROM fait") == pytest.approx((expected.sum(),), abs=0.01)
    assert _count(db, "SELECT count(*) FROM import_journal") == (1,)

    # idempotent: the same file again changes nothing; undo brings the base back to no funding at all
    done = _cli("import", "--db", str(db), str(path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{n} lignes, 0 ajoutée, 0 modifiée, 0 supprimée" in done.stdout
    done = _cli("undo", "--db", str(db), "1")
    assert done.returncode == 0, done.stderr[-2000:]
    assert _count(db, "SELECT count(*) FROM financement") == (0,)
    assert _count(db, "SELECT count(*), count(financeur) FROM fait") == (n_actions, 0)


def test_the_command_line_import_holds_duckdb_to_its_budget(base_with_actions, tmp_path):
    from cdv_core import __main__ as cli

    db = tmp_path / "base.duckdb"
    shutil.copyfile(base_with_actions[0], db)
    with cli._ImportBase(db).writing() as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit.replace(" ", "").upper().startswith(("381", "400", "0.3"))
