"""Porteurs: first year, new porteurs, renewal, concentration and dependence checked against pandas computations
straight from data/demo/*.csv (the rules of cdv_core.queries_porteurs re-implemented here independently);
renewal when ids change every year on tests/data/porteurs/; the page and the fiche porteur under AppTest."""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cdv_core import demo, fmt, gestion, importer, schema, sections
from cdv_core import queries_porteurs as qp
from cdv_core.filters import Filtres
from tests import demo_expect

ROOT = Path(__file__).resolve().parents[1]
CHANGING_IDS = ROOT / "tests" / "data" / "porteurs"


# --------------------------------------------------------------------------- independent pandas side


def identity(prog: pd.DataFrame) -> pd.Series:
    """SIRET when known; a name without SIRET takes the single SIRET it has elsewhere, else `nom:<name>`."""
    siret = prog["porteur_siret"].fillna("").astype(str).str.strip()
    nom = prog["porteur"].str.strip().str.lower()
    known = pd.DataFrame({"nom": nom, "siret": siret})
    known = known[known["siret"] != ""].groupby("nom")["siret"].agg(lambda s: set(s))
    single = {n: next(iter(s)) for n, s in known.items() if len(s) == 1}
    return pd.Series([s if s else single.get(n, "nom:" + n) for s, n in zip(siret, nom, strict=True)],
                     index=prog.index)


def norm_title(text: str) -> str:
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def similar(a: str, b: str) -> bool:
    a, b = norm_title(a), norm_title(b)
    return 1 - levenshtein(a, b) / max(len(a), len(b), 1) >= 0.8


def financed_rows(prog: pd.DataFrame, fin: pd.DataFrame) -> pd.DataFrame:
    granted = fin.groupby(["action_id", "annee"])["montant_accorde"].sum().rename("accorde").reset_index()
    p = prog.merge(granted, on=["action_id", "annee"], how="left")
    p["accorde"] = p["accorde"].fillna(0.0)
    return p[p["statut"].isin(["accordee", "soldee"]) & (p["accorde"] > 0)]


def expected_renewal(prog: pd.DataFrame, fin: pd.DataFrame) -> dict[int, tuple[int, int, int]]:
    """year -> (financed actions, continued by same id, continued by close title only)."""
    prog = prog.assign(pid=identity(prog))
    ok = financed_rows(prog, fin)
    keys = set(zip(ok["action_id"], ok["annee"], strict=True))
    years = sorted(ok["annee"].unique())
    out = {}
    for y in years[1:]:
        if y - 1 not in years:
            continue
        prev = ok[ok["annee"] == y - 1]
        by_id = by_title = 0
        cur = ok[ok["annee"] == y]
        for r in cur.itertuples(index=False):
            if (r.action_id, y - 1) in keys:
                by_id += 1
            elif any(similar(r.intitule, t) for t in prev.loc[prev["pid"] == r.pid, "intitule"]):
                by_title += 1
        out[int(y)] = (len(cur), by_id, by_title)
    return out


@pytest.fixture(scope="module")
def demo_frames():
    f = demo_expect.frames()
    prog = f["prog"].assign(pid=identity(f["prog"]))
    lines = f["fin"].merge(prog[["action_id", "annee", "pid", "porteur"]], on=["action_id", "annee"])
    return {"prog": prog, "fin": f["fin"], "lines": lines, "ok": financed_rows(prog, f["fin"])}


@pytest.fixture(scope="module")
def con(demo_db_template):
    c = schema.connect(demo_db_template, read_only=True)
    yield c
    c.close()


def close(a, b) -> bool:
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)


# --------------------------------------------------------------------------- demo data


def test_first_year_and_siret_grouping(con, demo_frames):
    ok = demo_frames["ok"]
    expected = ok.groupby("pid")["annee"].min().to_dict()
    got = qp.premieres_annees(con).set_index("porteur_id")["premiere_annee"].to_dict()
    assert got == expected
    # two spellings of one SIRET are one porteur
    lens = qp.liste(con, Filtres()).set_index("porteur_id").loc["21620498200013"]
    assert lens["nb_graphies"] == 2 and "COM LENS" in lens["graphies"]
    lines = demo_frames["lines"]
    assert close(lens["montant_accorde"], lines.loc[lines["pid"] == "21620498200013", "montant_accorde"].sum())


def test_new_porteurs_per_year(con, demo_frames):
    ok, lines = demo_frames["ok"], demo_frames["lines"]
    first = ok.groupby("pid")["annee"].min()
    got = qp.nouveaux(con, Filtres()).set_index("annee")
    money = lines.groupby(["annee", "pid"])["montant_accorde"].sum()
    for y, grp in ok.groupby("annee"):
        pids = set(grp["pid"])
        new = {p for p in pids if first[p] == y}
        assert got.loc[y, "nb_porteurs"] == len(pids), y
        assert got.loc[y, "nb_nouveaux"] == len(new), y
        assert close(got.loc[y, "montant_nouveaux"], sum(money[(y, p)] for p in new)), y
    assert bool(got.loc[ok["annee"].min(), "premiere_annee_donnees"])
    assert got.loc[2016, "nb_nouveaux"] > 0


def test_renewal_derived_from_the_demo(con, demo_frames):
    expected = expected_renewal(demo_frames["prog"], demo_frames["fin"])
    got = qp.renouvellement(con, Filtres()).set_index("annee")
    for y, (n, by_id, by_title) in expected.items():
        assert got.loc[y, "nb_actions"] == n, y
        assert got.loc[y, "nb_par_id"] == by_id, y
        assert got.loc[y, "nb_par_intitule"] == by_title, y
        assert close(got.loc[y, "part_reconduites"], 100 * (by_id + by_title) / n), y
    # declared flag, among financed actions
    ok = demo_frames["ok"]
    y22 = ok[ok["annee"] == 2022]
    assert got.loc[2022, "nb_declarees_reconduites"] == (y22["nouvelle"] == "non").sum()
    assert math.isnan(got.loc[ok["annee"].min(), "part_reconduites"])


def test_concentration(con, demo_frames):
    lines = demo_frames["lines"]
    got = qp.concentration(con, Filtres()).set_index("annee")
    for y, grp in lines.groupby("annee"):
        per = grp.groupby("pid")["montant_accorde"].sum()
        per = per[per > 0].sort_values(ascending=False)
        tot = per.sum()
        assert got.loc[y, "nb_porteurs"] == len(per), y
        assert close(got.loc[y, "part_top"], 100 * per.head(10).sum() / tot), y
        assert close(got.loc[y, "hhi"], ((100 * per / tot) ** 2).sum()), y


def test_dependence_on_credits_specifiques(con, demo_frames):
    lines = demo_frames["lines"][demo_frames["lines"]["annee"] == 2022]
    per = lines.groupby("pid")["montant_accorde"].sum()
    spec = lines[lines["nature"] == "specifique"].groupby("pid")["montant_accorde"].sum()
    share = (100 * spec.reindex(per.index, fill_value=0) / per)[per > 0]
    got = qp.liste(con, Filtres(annees=(2022,))).set_index("porteur_id")
    for pid, s in share.items():
        assert close(got.loc[pid, "part_specifique"], s), pid
    # the nature filter does not change a porteur's dependence
    got_nat = qp.liste(con, Filtres(annees=(2022,), nature=("specifique",))).set_index("porteur_id")
    pid = share.index[0]
    assert close(got_nat.loc[pid, "part_specifique"], share[pid])
    classes = qp.dependance(con, Filtres(annees=(2022,))).set_index("classe")["nb_porteurs"]
    assert classes["Moins de 25 %"] == (share < 25).sum()
    assert classes["75 % et plus"] == (share >= 75).sum()
    assert classes.sum() == len(share)


def test_sections_build_and_say_it(con, demo_frames):
    ok = demo_frames["ok"]
    s = sections.build(con, Filtres(annees=(2022,)), "porteurs_liste")
    n = ok.loc[ok["annee"] == 2022, "pid"].nunique()
    assert s.titre.startswith(f"{n} porteurs ont reçu")
    fiche = sections.build(con, Filtres(), "fiche_porteur", porteur="COM AVION")
    lines = demo_frames["lines"]
    total = lines.loc[lines["pid"] == "21620065900011", "montant_accorde"].sum()
    assert fmt.euros(total) in fiche.titre and fiche.titre.startswith("Commune de Avion")
    assert sections.build(con, Filtres(), "fiche_porteur", porteur="inconnu").vide
    actions = sections.build(con, Filtres(), "porteur_actions", porteur="21620065900011")
    assert {"Public visé", "Bénéficiaires déclarés"} <= set(actions.table.columns)


# --------------------------------------------------------------------------- ids that change every year


@pytest.fixture(scope="module")
def changing_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("porteurs") / "porteurs.duckdb"
    demo.new_database(path, demo=False)
    c = schema.connect(path)
    try:
        for name in ("programmation.csv", "financements.csv"):
            report = gestion.check(c, (CHANGING_IDS / name).read_bytes(), name, None)
            assert report.ok, [i.message for i in report.issues]
            importer.apply_report(c, report, user="test")
    finally:
        c.close()
    return path


def test_renewal_when_ids_change_every_year(changing_db):
    prog = pd.read_csv(CHANGING_IDS / "programmation.csv", dtype=str, keep_default_na=False)
    prog["annee"] = prog["annee"].astype(int)
    fin = pd.read_csv(CHANGING_IDS / "financements.csv", dtype={"action_id": str})
    expected = expected_renewal(prog, fin)
    # By hand: 2025 has 4 financed actions (D-24-005 is refused); no id is kept. D-24-001 continues D-23-001
    # (same porteur; "de Lille-Sud 2025" vs "Lille-Sud 2024": similarity 0.89), D-24-002 continues D-23-002
    # (another spelling of the same SIRET, accents dropped); D-24-003 is new; D-24-004 has the title of
    # D-23-003 but another porteur.
    assert expected == {2025: (4, 0, 2)}
    c = schema.connect(changing_db, read_only=True)
    try:
        got = qp.renouvellement(c, Filtres()).set_index("annee")
        acts = qp.actions_reconduites(c, Filtres()).set_index("action_id")
    finally:
        c.close()
    assert got.loc[2025, "nb_actions"] == 4
    assert got.loc[2025, "nb_par_id"] == 0 and got.loc[2025, "nb_par_intitule"] == 2
    assert close(got.loc[2025, "part_reconduites"], 50.0)
    assert set(acts.index[acts["reconduite"]]) == {"D-24-001", "D-24-002"}
    # declared: only D-24-001 and D-24-004 say "non" (reconduite); D-24-004 disagrees with the data
    assert got.loc[2025, "nb_declarees_reconduites"] == 2 and got.loc[2025, "nb_accord"] == 2


# --------------------------------------------------------------------------- page (AppTest)


def _norm(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _page(**params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    at.switch_page("pages/porteurs.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_porteurs_page(demo_app_env, demo_frames):
    at = _page(annees="2022-2022")
    ok, lines = demo_frames["ok"], demo_frames["lines"]
    y = ok[ok["annee"] == 2022]
    total = lines.loc[lines["annee"] == 2022, "montant_accorde"].sum()
    assert _norm(at.title[0].value).startswith(f"{y['pid'].nunique()} porteurs ont reçu {_norm(fmt.euros(total))}")
    metrics = {_norm(m.label): _norm(m.value) for m in at.metric}
    assert metrics["Actions financées"] == _norm(fmt.nombre(len(y)))
    assert not [e for e in at.error if "inattendue" in e.value]
    assert "porteur" not in at.query_params


def test_fiche_porteur_from_the_url(demo_app_env, demo_frames):
    at = _page(porteur="COM AVION")  # an old spelling of the SIRET 21620065900011
    lines = demo_frames["lines"]
    total = lines.loc[lines["pid"] == "21620065900011", "montant_accorde"].sum()
    headers = [_norm(h.value) for h in at.header]
    assert headers and headers[0].startswith(f"Commune de Avion : {_norm(fmt.euros(total))} accordés")
    metrics = {_norm(m.label): _norm(m.value) for m in at.metric}
    assert metrics["SIRET"] == "21620065900011"
    first = demo_frames["ok"].loc[demo_frames["ok"]["pid"] == "21620065900011", "annee"].min()
    assert metrics["Première année financée"] == str(first)
    assert at.query_params["porteur"] == "21620065900011"  # the URL now names the porteur by its SIRET
    # closing the fiche removes it from the URL
    at.selectbox(key="po_fiche").set_value(None).run()
    assert not at.exception and "porteur" not in at.query_params and not at.header
