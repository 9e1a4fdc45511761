"""The importer checks whole columns at a time (issue 9): it must accept and refuse exactly what the former
cell-by-cell importer did, with the same messages, values and lines.

The oracle is the former code, kept here as it was (`_former_rows`, `_former_financements`): a row loop calling
`_RowChecker.convert` on every cell. Files are built from pools of awkward cells (French decimals, grouped
thousands, percentages, exponents, invisible characters, unknown codes, out-of-range years and amounts…) and
both readings are compared issue by issue. Then: the CSV read whole columns at a time gives the rows of the
record-by-record loop; the comparison of a large table in DuckDB gives the rows of the Python comparison; a file
with 10 000 bad lines reports every one; a 200 000-line upload goes through the command line.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdv_core import demo, fmt, importer, reading, schema
from cdv_core.formats import KINDS
from cdv_core.importer import ERREUR, Issue

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def ref_db_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("refdb_vec") / "ref.duckdb"
    demo.new_database(path, demo=False)
    return path


@pytest.fixture
def con(ref_db_file, tmp_path):
    path = tmp_path / "t.duckdb"
    shutil.copyfile(ref_db_file, path)
    c = schema.connect(path)
    yield c
    c.close()


# --------------------------------------------------------------------------- the former code (oracle)


def _former_rows(con, raw: reading.RawTable, kind, issues: list[Issue]) -> list[dict]:
    """The importer's row loop before issue 9 (cell by cell), header checks aside."""
    found = importer._header_map(kind, raw.header)
    if any(c not in found for c in kind.required):
        return []
    checker = importer._RowChecker(importer._context(con), issues, keys=kind.key)
    width = len(raw.header)
    out: list[dict] = []
    for line, cells in raw.rows:
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            checker.error(line, None, None, f"Cette ligne a {len(cells)} cellules alors que l'en-tête a "
                          f"{fmt.compte(width, 'colonne')}.", "Vérifiez les séparateurs (point-virgule en trop dans une cellule ?).")
            continue
        if len(cells) < width and raw.delimiter is None:
            cells = cells + [""] * (width - len(cells))
        if len(cells) < width:
            checker.error(line, None, None, f"Ligne incomplète : {fmt.compte(len(cells), 'cellule')} au lieu de {width} ; "
                          "le fichier semble tronqué.", "Complétez la ligne ou ré-enregistrez le fichier.")
            continue
        values: dict = {"_line": line}
        ok = True
        for col in kind.columns:
            pos = found.get(col.name)
            cell = cells[pos].strip() if pos is not None and pos < len(cells) else ""
            if not cell:
                if col.required:
                    checker.error(line, col.name, "", f"Valeur obligatoire manquante dans « {col.name} ».",
                                  "Remplissez la cellule.")
                    ok = False
                values[col.name] = None
                continue
            value = checker.convert(col, cell, line)
            if value is None and col.kind != "bool":
                ok = False
            values[col.name] = value
        for col in kind.columns:
            if col.kind == "ref_thematique" and values.get(col.name) is not None:
                values[col.name] = checker.thematique(col.name, values[col.name], line, values)
                ok = ok and values[col.name] is not None
        if ok:
            out.append(values)
    return out


def _former_financements(con, ctx, kind, rows: list[dict], issues: list[Issue]) -> pd.DataFrame:
    """The funding lines' builder before issue 9 (row by row), duplicates included."""
    known = set(map(tuple, con.execute("SELECT action_id, annee FROM action").fetchall()))
    for r in rows:
        if (r["action_id"], r["annee"]) not in known:
            issues.append(Issue(r["_line"], "action_id", r["action_id"],
                                f"L'action « {r['action_id']} » n'existe pas pour l'année {r['annee']}.",
                                ERREUR, "Importez d'abord la programmation de cette action, ou corrigez "
                                "l'identifiant ou l'année."))
        r["nature"] = r.get("nature") or ctx.financeur_nature.get(r["financeur"]) or "specifique"
        r["section"] = r.get("section") or "fonctionnement"
        if r.get("montant_demande") is not None and r["montant_demande"] < r["montant_accorde"]:
            issues.append(Issue(r["_line"], "montant_demande", str(r["montant_demande"]),
                                "Le montant accordé dépasse le montant demandé.", importer.AVERTISSEMENT,
                                "Vérifiez les deux montants."))
    seen: dict[tuple, int] = {}
    for r in rows:
        key = tuple(importer._fold_key(r.get(c)) for c in kind.key)
        if key in seen:
            shown = ", ".join(f"{c} = {r.get(c)}" for c in kind.key if r.get(c) is not None)
            issues.append(Issue(r["_line"], kind.key[0], str(r.get(kind.key[0])),
                                f"Doublon : la même clé ({shown}) figure déjà ligne {seen[key]}.", ERREUR,
                                "Supprimez l'une des deux lignes ou corrigez la clé."))
        else:
            seen[key] = r["_line"]
    cols = ["action_id", "annee", "financeur", "montant_accorde", "montant_demande", "nature", "dispositif",
            "section"]
    return pd.DataFrame([{c: r.get(c) for c in cols} for r in rows], columns=cols)


def _key(issue: Issue) -> tuple:
    return (issue.line or 0, issue.column, issue.value, issue.message, issue.severity, issue.fix)


def _sorted(issues: list[Issue]) -> list[tuple]:
    return [_key(i) for i in sorted(issues, key=lambda i: i.line or 0)]


# --------------------------------------------------------------------------- pools of awkward cells

AMOUNTS = ["12337,5", "12 337,50", "12\u202f337,50", "12\u00a0337", "1.234.567", "12.337,50", "1,234.5", "1,234",
           "-3", "+3", "12,5 %", "1e9", "1,5E+03", "nan", "inf", "abc", "0", "-0", "999999999999", "1000000000001",
           "20 000 000", "15000000", "10000000", "10000000,01", "0012", "1 234", "12,", ",5", "€ 12", "12 €",
           "1\u200b2", "٣٤", "12,123456789", "12,1234567890", "1 2345", "123 456 789 012", "1 234 567 890 123",
           "\u22123", "3.5", "7", "250", "48000,00", "99,99"]
YEARS = ["2024", "2023", "2000", "2100", "1999", "2101", "2024.0", "2 024", "0000", "20245", "abcd", "２０２４",
         "2024,0", "2024", "2024", "2022"]
IDS = ["A1", "A2", "A3", "A\u200b1", "A\t1", "Été-1", "a1", "A 1", "A4", "A5", "\u00a0A6", "A7\u2028"]
FINANCEURS = ["caf", "CAF", "etat_bop147", "inconnu", "Etat BOP 147", "ars", "région", "commune", "Caf", "epci"]
NATURES = ["specifique", "Spécifique", "droit commun", "droit-commun", "autre", "", "", "DROIT_COMMUN"]
SECTIONS = ["fonctionnement", "Investissement", "x", "", "fonctionnement"]
DISPOSITIFS = ["Contrat de ville", "Cités éducatives\u200b", "", "Adultes-relais", "Ligne\u00adcachée", "Été"]
NUMBERS = ["12,5", "-3", "0", "1e3", "1,5E+03", "12 %", "-0", "1 234,5", "1000000000000001", "abc", "3.25", "nan"]
INTS = ["120", "0", "-3", "12,0", "12,5", "1 234", "99999999999999999999", "x", "7"]
BOOLS = ["oui", "Non", "vrai", "x", "peut-être", "0", "1", "O"]


def _funding_lines(rng: random.Random, n: int) -> list[list[str]]:
    return [[rng.choice(IDS), rng.choice(YEARS), rng.choice(FINANCEURS), rng.choice(AMOUNTS),
             rng.choice(AMOUNTS + ["", "", ""]), rng.choice(NATURES), rng.choice(DISPOSITIFS),
             rng.choice(SECTIONS)] for _ in range(n)]


FIN_HEADER = ["action_id", "annee", "financeur", "montant_accorde", "montant_demande", "nature", "dispositif",
              "section"]


def _csv(header: list[str], rows: list[list[str]], quoted: bool = False) -> bytes:
    out = io.StringIO()
    for row in [header, *rows]:
        cells = [f'"{c}"' if quoted else c for c in row]
        out.write(";".join(cells) + "\r\n")
    return out.getvalue().encode("utf-8")


def _compare_validation(con, data: bytes, kind_code: str) -> tuple[list[Issue], list[dict]]:
    kind = KINDS[kind_code]
    raw = reading.read_table(data, "f.csv", sheet_hint=kind_code)
    former_issues: list[Issue] = []
    former = _former_rows(con, raw, kind, former_issues)
    new_issues: list[Issue] = []
    new = importer._validate_rows(con, raw, kind, new_issues)
    assert _sorted(new_issues) == _sorted(former_issues)
    assert new == former
    for a, b in zip(new, former, strict=True):  # same Python types (1 == 1.0 would hide an int turned float)
        assert [type(v) for v in a.values()] == [type(v) for v in b.values()]
    return former_issues, former


@pytest.mark.parametrize("quoted", [False, True])
def test_funding_cells_same_issues_and_values_as_the_former_importer(con, quoted):
    rng = random.Random(9 + quoted)
    data = _csv(FIN_HEADER, _funding_lines(rng, 1500), quoted=quoted)
    issues, rows = _compare_validation(con, data, "financements")
    # the pools reach both outcomes, several kinds of error and the warnings
    assert rows and len({i.message.split("«")[0] for i in issues}) > 8
    assert any(i.severity == importer.AVERTISSEMENT for i in issues)


def test_funding_builder_same_issues_and_table_as_the_former_importer(con):
    con.execute("INSERT INTO action (action_id, annee, intitule, porteur, pilier, qpv, statut) VALUES "
                "('A1', 2024, 'x', 'p', 'emploi', 'QN05971M', 'accordee'), "
                "('A2', 2023, 'x', 'p', 'emploi', 'QP059001', 'accordee'), "
                "('Été-1', 2024, 'x', 'p', 'emploi', 'QN05971M', 'accordee')")
    rng = random.Random(3)
    clean = [["A1", "2024", "caf", "100", "", "", "", ""], ["A1", "2024", "CAF", "100", "", "", "", ""],
             ["a1", "2024", "caf", "100", "", "", "", ""], ["A2", "2023", "ars", "5", "4", "droit commun", "", ""]]
    rows = clean + [[rng.choice(["A1", "A2", "Été-1", "A9"]), rng.choice(["2023", "2024"]),
                     rng.choice(["caf", "ars", "epci", "CAF"]), rng.choice(["10", "12,5", "7 000", "3"]),
                     rng.choice(["", "11", "2"]), rng.choice(["", "specifique", "droit_commun"]),
                     rng.choice(["", "CV", "cv"]), rng.choice(["", "investissement"])] for _ in range(800)]
    data = _csv(FIN_HEADER, rows)
    kind = KINDS["financements"]
    raw = reading.read_table(data, "f.csv")
    former_issues: list[Issue] = []
    former_rows = _former_rows(con, raw, kind, former_issues)
    former_table = _former_financements(con, importer._context(con), kind, former_rows, former_issues)
    report = importer.check_file(con, data, "f.csv")
    assert _sorted(report.issues) == _sorted(former_issues)
    assert any("Doublon" in i.message for i in report.issues)
    assert any("n'existe pas" in i.message for i in report.issues)
    # the table the file would write, once its errors are fixed: drop the duplicate and unknown lines
    bad = {i.line for i in former_issues if i.severity == ERREUR}
    good = [r for n, r in enumerate(rows, start=2) if n not in bad]
    report = importer.check_file(con, _csv(FIN_HEADER, good), "f.csv")
    assert report.ok
    good_issues: list[Issue] = []
    expected = _former_financements(con, importer._context(con), kind,
                                    _former_rows(con, reading.read_table(_csv(FIN_HEADER, good), "f.csv"), kind,
                                                 good_issues), good_issues)
    pd.testing.assert_frame_equal(report.tables["financement"].reset_index(drop=True), expected)
    assert len(former_table) == len(rows)  # every line passed the cell checks: only the builder refuses some


def test_other_kinds_same_issues_and_values_as_the_former_importer(con):
    rng = random.Random(5)
    qpv = [r[0] for r in con.execute("SELECT code_qpv FROM qpv ORDER BY code_qpv LIMIT 40").fetchall()]
    prog_header = ["action_id", "annee", "intitule", "porteur", "porteur_siret", "porteur_type", "pilier",
                   "thematique", "qpv", "contrat", "statut", "cout_total", "nouvelle", "nb_beneficiaires"]
    prog = [[rng.choice(IDS), rng.choice(YEARS), rng.choice(["Atelier", "Été\u200b", "", "Ligne\x0bx"]),
             rng.choice(["Centre social", "Asso\u00a0B", ""]),
             rng.choice(["77568390300014", "7756839030001", "12345678901234", "", "775 683 903 00014"]),
             rng.choice(["association", "Association", "asso", ""]),
             rng.choice(["emploi", "Emploi", "inclusion", "cohesion_sociale", "inconnu", ""]),
             rng.choice(["2.1", "Santé", "9.9", "", "1"]),
             rng.choice([*qpv[:5], "*", "QN99999X", f"{qpv[0]}|{qpv[1]}", f"{qpv[2]}| QP000000", ""]),
             rng.choice(["CV192", "CN05911M", "cv192", "CV999", ""]), rng.choice(["accordee", "Soldée", "x", ""]),
             rng.choice(AMOUNTS + [""]), rng.choice(BOOLS + [""]), rng.choice(INTS + [""])] for _ in range(1200)]
    _compare_validation(con, _csv(prog_header, prog), "programmation")
    ind = [[rng.choice([*qpv[:3], "59350", "FR", "fr", "200093201", "ZZ"]), rng.choice(["taux_pauvrete", "x\u200b"]),
            rng.choice(YEARS), rng.choice(NUMBERS), rng.choice(["%", ""]), "INSEE", rng.choice(["Taux", ""])]
           for _ in range(600)]
    _compare_validation(con, _csv(["territoire", "indicateur", "annee", "valeur", "unite", "source", "libelle"], ind),
                        "indicateurs")
    diff = [[rng.choice(["E1", "E2\u200b", ""]), rng.choice(["commune", "Commune", "habitant"]), rng.choice(INTS)]
            for _ in range(300)]
    _compare_validation(con, _csv(["enquete", "type_repondant", "nb_sollicites"], diff), "enquete_diffusion")
    eng = [[f"E{k}", "Faire", rng.choice(["epci|caf", "caf", "inconnu|caf", "|", "Etat BOP 147"]),
            rng.choice(["CV192", "CN05911M", ""]), rng.choice(["emploi", "", "zz"]), rng.choice(["*", qpv[0], "Q"]),
            rng.choice(YEARS + [""]), rng.choice(YEARS + [""]), rng.choice(NUMBERS + [""]),
            rng.choice(AMOUNTS + [""]), rng.choice(NATURES)] for k in range(400)]
    _compare_validation(con, _csv(["engagement_id", "intitule", "signataire", "contrat", "pilier", "qpv", "debut",
                                   "echeance", "valeur_cible", "montant_engage", "nature"], eng), "engagements")
    ref = [[rng.choice(["QN05971M", "QP059001", "QX1", "qn05971m"]), "Nom", rng.choice(["59350", "59350|59009", "0"]),
            rng.choice(["2015", "2024", "2020"]), rng.choice(INTS + [""]), rng.choice(["CV192", "CN05911M", ""])]
           for _ in range(200)]
    _compare_validation(con, _csv(["code_qpv", "nom_qpv", "communes_insee", "geographie", "population", "contrat"],
                                  ref), "qpv")


def test_plain_cells_read_like_the_cell_parser():
    """Amounts read whole columns at a time: the same float as reading.parse_amount, bit for bit."""
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.gamma(2.0, 4000.0, 3000), rng.uniform(0, 1e7, 2000), rng.integers(0, 10**6, 500)])
    texts = []
    for v in values:
        text = f"{v:.{rng.integers(0, 7)}f}"
        if rng.random() < 0.5:
            text = text.replace(".", ",")
        if rng.random() < 0.3 and "." not in text:
            whole, _, dec = text.partition(",")
            whole = f"{int(whole):,}".replace(",", rng.choice([" ", "\u00a0", "\u202f"]))
            text = whole + ("," + dec if dec else "")
        texts.append(text)
    import pyarrow as pa

    col = KINDS["financements"].column("montant_accorde")
    ok, got = importer._fast_column(col, pa.chunked_array([pa.array(texts, pa.large_string())]), set())
    assert ok.mean() > 0.9
    expected = [reading.parse_amount(t) for t, fast in zip(texts, ok, strict=True) if fast]
    assert got == expected


# --------------------------------------------------------------------------- reading whole columns


CSV_TEXTS = [
    "a;b;c\r\n1;2;3\r\n\r\n;;\r\n 4 ; 5 ;\u00a06\u3000\r\n7;8\r\n9;10;11;12\r\n13;14;15;;;\r\n",
    "sep=;\na;b\n1;2\n\n3;4\n",
    "x\ty\tz\n1\t2\t3\n4\t5\n",
    "\n\n  \n;;\nh1;h2\n1;2\n",
    "a,b\n1,2\n3,4,5\n,\n6,\n",
    "a;b\n1;2\n" + "".join(f"{k};{k * 2}\n" for k in range(3000)),
    "a;b;\n1;2;\n3;4;5\n",
    "a;b\n\x0b1\x1c;2\x85\n",
]


@pytest.mark.parametrize("text", CSV_TEXTS)
@pytest.mark.parametrize("chunk", [65_536, 1])
def test_columns_read_like_the_record_loop(text, chunk, monkeypatch):
    monkeypatch.setattr(reading, "_CHUNK_ROWS", chunk)  # 1: blocks of 4 lines, some with blank lines between
    data = text.encode("utf-8")
    fast = reading.read_table(data, "f.csv")
    assert fast.store is not None
    monkeypatch.setattr(reading, "_read_plain_csv", lambda *a, **k: None)
    slow = reading.read_table(data, "f.csv")
    assert (fast.header, fast.header_line, fast.delimiter) == (slow.header, slow.header_line, slow.delimiter)
    assert list(fast.rows) == list(slow.rows)


@pytest.mark.parametrize("limites", [reading.Limites(lignes=5), reading.Limites(cellule=3),
                                     reading.Limites(cellules=20), reading.Limites(caracteres=30),
                                     reading.Limites(colonnes=3)])
def test_columns_refuse_like_the_record_loop(limites, monkeypatch):
    data = ("a;b;c\n" + "".join(f"{k};{k}{k};x\n" for k in range(12)) + "1;2;3;4;5;6\n").encode()
    with pytest.raises(reading.UnreadableFile) as fast:
        reading.read_table(data, "f.csv", limites=limites)
    monkeypatch.setattr(reading, "_read_plain_csv", lambda *a, **k: None)
    with pytest.raises(reading.UnreadableFile) as slow:
        reading.read_table(data, "f.csv", limites=limites)
    assert fast.value.message == slow.value.message


# --------------------------------------------------------------------------- comparison in DuckDB


def test_large_table_compared_in_duckdb_like_in_python(con, monkeypatch):
    n = 3000
    con.execute("INSERT INTO action (action_id, annee, intitule, porteur, pilier, qpv, statut) "
                f"SELECT 'A' || i, 2024, 'x', 'p', 'emploi', 'QN05971M', 'accordee' FROM range({n}) t(i)")
    first = pd.DataFrame({"action_id": [f"A{i}" for i in range(n)], "annee": 2024, "financeur": "caf",
                          "montant_accorde": [float(i) for i in range(n)], "montant_demande": None, "nature": "specifique",
                          "dispositif": None, "section": "fonctionnement"})
    importer.import_bytes(con, first.to_csv(sep=";", index=False).encode(), "f1.csv", user="t")
    second = first.iloc[100:].copy()  # 100 lines removed from their actions' scope? no: from the file
    second.loc[second.index[:50], "montant_accorde"] += 1  # changed
    second.loc[second.index[50:60], "nature"] = "droit_commun"  # a new identity: added, and the old one removed
    extra = first.iloc[:5].assign(financeur="ars")  # added to actions whose caf line disappears
    incoming = pd.concat([second, extra]).reset_index(drop=True)
    columns = schema.table_columns(con, "financement")
    incoming = incoming.reindex(columns=columns)
    monkeypatch.setattr(importer, "SQL_DIFF_ROWS", 1)
    sql = importer.diff_table(con, "financement", incoming)
    monkeypatch.setattr(importer, "SQL_DIFF_ROWS", 10**12)
    python = importer.diff_table(con, "financement", incoming)
    for part in ("added", "changed_before", "changed_after", "removed"):
        a, b = getattr(sql, part), getattr(python, part)
        key = ["action_id", "financeur", "nature"]
        a = a.sort_values(key).reset_index(drop=True)
        b = b.sort_values(key).reset_index(drop=True)
        assert len(a) == len(b), part
        assert a.astype(object).where(a.notna(), None).values.tolist() == \
            b.astype(object).where(b.notna(), None).values.tolist(), part
    assert (len(sql.added), len(sql.changed_after), len(sql.removed)) == (15, 50, 15)
    assert importer._count_sql(con, "financement", incoming) == (15, 50, 15)


# --------------------------------------------------------------------------- many errors, large files


def test_ten_thousand_bad_lines_are_all_reported(con):
    con.execute("INSERT INTO action (action_id, annee, intitule, porteur, pilier, qpv, statut) VALUES "
                "('A1', 2024, 'x', 'p', 'emploi', 'QN05971M', 'accordee')")
    lines = []
    for k in range(12_000):
        lines.append(["A1", "2024", "caf", "12,5 %" if k % 6 else "1e3", "", "", f"D{k}", ""])
    report = importer.check_file(con, _csv(FIN_HEADER, lines), "erreurs.csv")
    assert not report.ok
    errors = report.errors
    assert len(errors) == 12_000 and len({e.line for e in errors}) == 12_000
    assert [e.line for e in errors] == list(range(2, 12_002))
    for k, e in enumerate(errors):
        if k % 6:
            assert (e.column, e.value, e.message) == (
                "montant_accorde", "12,5 %", "« 12,5 % » est un pourcentage, pas un montant en euros.")
        else:
            assert e.message == "« 1e3 » est écrit en notation scientifique : écrivez le montant en chiffres."
    frame = report.issues_frame()
    assert len(frame) == 12_000 and frame["Ligne"].tolist() == list(range(2, 12_002))


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "cdv_core", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, check=False, timeout=1200)


def test_two_hundred_thousand_funding_lines_through_the_command_line(ref_db_file, tmp_path):
    db = tmp_path / "base.duckdb"
    shutil.copyfile(ref_db_file, db)
    rng = np.random.default_rng(11)
    n_actions, n_lines = 50_000, 200_000
    c = schema.connect(db)
    qpv = c.execute("SELECT code_qpv FROM qpv WHERE geographie = '2024' AND contrat = 'CN05911M' ORDER BY 1").fetchall()
    c.close()
    prog = pd.DataFrame({"action_id": [f"N-{i}" for i in range(n_actions)], "annee": 2024,
                         "intitule": [f"Action {i}" for i in range(n_actions)], "porteur": "Centre social",
                         "pilier": "emploi", "qpv": [qpv[i % len(qpv)][0] for i in range(n_actions)]})
    funders = np.array(["caf", "etat_bop147", "epci", "commune"])
    action = np.repeat(np.arange(n_actions), 4)
    cents = rng.integers(0, 5_000_000, n_lines)
    fin = pd.DataFrame({"action_id": [f"N-{i}" for i in action], "annee": 2024, "financeur": funders[np.arange(n_lines) % 4],
                        "montant_accorde": [f"{c // 100},{c % 100:02d}" for c in cents.tolist()]})
    prog_path, fin_path = tmp_path / "programmation.csv", tmp_path / "financements.csv"
    prog.to_csv(prog_path, sep=";", index=False)
    fin.to_csv(fin_path, sep=";", index=False)
    done = _cli("import", "--db", str(db), str(fin_path), str(prog_path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{n_lines} lignes, {n_lines} ajoutées" in done.stdout
    c = schema.connect(db)
    try:
        count, total = c.execute("SELECT count(*), sum(montant_accorde) FROM financement").fetchone()
        assert count == n_lines
        assert round(total, 2) == round(int(cents.sum()) / 100, 2)
        assert c.execute("SELECT count(*) FROM import_journal").fetchone()[0] == 2
    finally:
        c.close()
    # all or nothing: the same upload with one bad line writes nothing
    fin.loc[123_456, "montant_accorde"] = "12,5 %"
    fin.to_csv(fin_path, sep=";", index=False)
    done = _cli("import", "--db", str(db), str(fin_path))
    assert done.returncode == 1
    assert "financements.csv:123458:montant_accorde: « 12,5 % » est un pourcentage" in done.stderr
    c = schema.connect(db)
    try:
        assert c.execute("SELECT count(*) FROM import_journal").fetchone()[0] == 2
    finally:
        c.close()
