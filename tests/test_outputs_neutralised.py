"""Issue 15: the CLI's CSV outputs (`summary`, `survey`, `journal`) and the page's text helper never let data act:
formula-like cells get an apostrophe (numbers stay numbers), Markdown/LaTeX/HTML is escaped."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pandas as pd

from cdv_core import exports, importer, schema

ROOT = Path(__file__).resolve().parents[1]
FORMULA = '=HYPERLINK("http://127.0.0.1:9/x","cliquez")'


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cdv_core", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def rows(out: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(out)))


def test_cli_summary_survey_and_journal_neutralise_formulas(demo_db):
    porteur = "@SUM(1+1)*cmd|' /C calc'!A0"
    con = schema.connect(demo_db)
    try:
        prog = (f"action_id;annee;intitule;porteur;pilier;qpv;contrat\n"
                f"F-1;2022;Action;{porteur};cohesion_sociale;*;CV219\n").encode()
        importer.import_bytes(con, prog, FORMULA + ".csv")
        survey = ("enquete;annee;repondant;type_repondant;question;libelle_question;item;reponse\n"
                  + "".join(f"T-F;2024;R{i};commune;q;Question;;{FORMULA if i < 3 else '-2+3'}\n" for i in range(6)))
        importer.import_bytes(con, survey.encode(), "enquete.csv")
    finally:
        con.close()

    out = cli("summary", "--db", str(demo_db), "--by", "porteur", "--where", "annee=2022")
    assert out.returncode == 0, out.stderr
    cells = {r[0]: r for r in rows(out.stdout)[1:]}
    assert "'" + porteur in cells and porteur not in cells
    assert float(cells["'" + porteur][2]) >= 0  # the amount is still a plain number

    out = cli("survey", "--db", str(demo_db), "--enquete", "T-F", "--question", "q")
    assert out.returncode == 0, out.stderr
    answers = {r[1]: int(r[2]) for r in rows(out.stdout)[1:]}
    assert answers == {"'" + FORMULA: 3, "'-2+3": 3}

    out = cli("journal", "--db", str(demo_db))
    assert out.returncode == 0, out.stderr
    files = [r[3] for r in rows(out.stdout)[1:]]
    assert "'" + FORMULA + ".csv" in files and FORMULA + ".csv" not in files


def test_neutralise_keeps_numbers():
    df = pd.DataFrame({"texte": ["=1+1", "+33 6", "-12,5", "@a", "\tx", "ok"], "n": [-1, 2, 3, 4, 5, 6]})
    out = exports.neutralise_frame(df)
    assert list(out["texte"]) == ["'=1+1", "'+33 6", "-12,5", "'@a", "'\tx", "ok"]
    assert list(out["n"]) == [-1, 2, 3, 4, 5, 6]


def test_texte_escapes_markdown_latex_and_html():
    from ui.layout import texte, textes

    label = "![x](http://h/p.png) **gras** $x^2$ <b>b</b> :red[r] `c`"
    escaped = texte(label)
    # every special character is escaped, so the Markdown renderer shows it literally (`>` only opens a quote at
    # the start, where it is escaped: elsewhere Streamlit would show its backslash)
    for ch in "![]()*$<:`":
        assert ch not in escaped.replace("\\" + ch, "")
    assert escaped.replace("\\", "") == label
    assert texte("> citation") == "\\> citation" and texte("a > b") == "a > b"
    assert texte("ligne 1\nligne 2") == "ligne 1 ligne 2"
    table = textes(pd.DataFrame({"**Col**": ["*a*", None], "n": [1, 2]}))
    assert list(table.columns) == ["\\*\\*Col\\*\\*", "n"] and table.iloc[0, 0] == "\\*a\\*"


def test_textes_escapes_the_index_and_keeps_its_name():
    """st.table shows the index as its first column, headed by the index's name: its labels are data too (the
    surveys' partners, a year beside them), escaped whatever pandas stores them as, and the heading kept."""
    from ui.layout import texte, textes

    names = ["*État*", "A_B_C", "Région"]
    for dtype in ("str", object):
        df = pd.DataFrame({"Partenaire": pd.array(names, dtype=dtype), "n": [1, 2, 3]}).set_index("Partenaire")
        out = textes(df)
        assert out.index.name == "Partenaire"
        assert list(out.index) == [texte(n) for n in names]
    two = pd.DataFrame({"Partenaire": names, "Année": ["2022", "2023", "2024"], "n": [1, 2, 3]})
    out = textes(two.set_index(["Partenaire", "Année"]))
    assert list(out.index.names) == ["Partenaire", "Année"]
    assert list(out.index) == [(texte(n), y) for n, y in zip(names, ["2022", "2023", "2024"], strict=True)]
