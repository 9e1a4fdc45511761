"""French agreement in what the pages say: a quartier, a porteur, an action counted once reads « 1 quartier »,
never « 1 quartiers » nor « quartier(s) »; one year is « en 2025 », never « de 2025 à 2025 ». The pages are drawn
for the demo's quartier with the fewest financed actions in its last decided year (found with pandas from the demo
files), where counts of 0 and 1 abound."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests import demo_expect

ROOT = Path(__file__).resolve().parents[1]
# A 0 or a 1 standing alone, then a word in the plural (words whose singular ends in s are not counted).
PLURAL_AFTER_ONE = re.compile(r"(?<![\d,.\u00a0\u202f])[01][\u00a0\u202f ]+([a-zàâçéèêëîïôûù]+s)\b")
INVARIABLE = {"mois", "fois", "pas", "plus", "dans", "sous", "sans", "vers", "après", "près", "très", "hors"}
# A period of one year said as a span (« de 2025 à 2025 »: « en 2025 »).
ONE_YEAR_SPAN = re.compile(r"\bde (\d{4}) à \1\b", re.IGNORECASE)


def _faults(text: str) -> list[str]:
    """What reads wrong in `text`: a plural after 0 or 1, a « (s) », a one-year span."""
    found = [m.group(0) for m in PLURAL_AFTER_ONE.finditer(text) if m.group(1) not in INVARIABLE]
    found += [m.group(0) for m in re.finditer(r"\w\((?:s|x|e|es)\)", text)]
    return found + [m.group(0) for m in ONE_YEAR_SPAN.finditer(text)]


def _smallest_quartier() -> tuple[str, int]:
    year = demo_expect.decided_year()
    prog = demo_expect.financees()
    counts = prog[prog["annee"] == year]["qpv"].str.split("|").explode().value_counts()
    return str(counts.index[-1]), year


def _texts(at: AppTest) -> list[str]:
    texts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                                  "success", "error") for e in getattr(at, kind)]
    texts += [m.label for m in at.metric] + [str(m.value) for m in at.metric]
    texts += [str(m.proto.delta) for m in at.metric if m.proto.delta]
    return [str(t) for t in texts]


@pytest.mark.parametrize("page", ["pages/vue_ensemble.py", "pages/quartiers.py", "pages/piliers.py",
                                  "pages/financeurs.py", "pages/porteurs.py", "pages/engagements.py",
                                  "pages/enquetes.py", "pages/a_propos.py", "pages/seance.py"])
def test_counts_agree_with_their_words(demo_app_env, page):
    code, year = _smallest_quartier()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.query_params["qpv"] = code
    at.query_params["annees"] = f"{year}-{year}"
    at.run()
    if page != "pages/vue_ensemble.py":
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    texts = _texts(at)
    assert len(" ".join(texts)) > 500, "the page says something"
    wrong = [(fault, t[:160]) for t in texts for fault in _faults(t)]
    assert not wrong, wrong


def _section_texts(sec) -> list[str]:
    texts = [sec.titre, sec.vide or "", *sec.notes, *sec.intro]
    for c in sec.chiffres:
        texts += [c.libelle, c.valeur, c.aide or "", c.delta or ""]
    return [t for t in texts if t]


@pytest.fixture(scope="module")
def narrow(demo_db_template):
    """Filter sets where counts of 0 and 1 are frequent: the smallest quartier in its year; one porteur type in one
    quartier; one funder in one year."""
    from cdv_core import schema
    from cdv_core.filters import Filtres

    code, year = _smallest_quartier()
    con = schema.connect_read(str(demo_db_template))
    one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    kind = one(f"SELECT min(porteur_type) FROM action WHERE qpv LIKE '%{code}%' AND annee = {year}")
    fin = one(f"SELECT financeur FROM financement WHERE annee = {year} GROUP BY 1 ORDER BY count(*), 1 LIMIT 1")
    yield con, [Filtres(annees=(year,), qpv=(code,)), Filtres(annees=(year,), qpv=(code,), porteur_type=(kind,)),
                Filtres(annees=(year,), financeurs=(fin,))]
    con.close()


def test_every_section_agrees_with_its_counts(narrow):
    """Every registered section (pages, slides and dossier share them), built for narrow filters."""
    from cdv_core import sections
    from cdv_core.sections import CATALOGUE

    con, filters = narrow
    wrong, built = [], 0
    for name in sorted(CATALOGUE):
        for f in filters:
            try:
                sec = sections.build(con, f, name)
            except TypeError:  # a section that needs a parameter of its own (a quartier's fiche, a question)
                continue
            built += 1
            wrong += [(name, fault, text[:160]) for text in _section_texts(sec) for fault in _faults(text)]
    assert built > 40, built
    assert not wrong, wrong
