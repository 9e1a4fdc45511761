"""Public files as they come (FORMATS §8), thématiques read in the nomenclature of their year, contours
uploads and the national contours shipped with the product.

Every file here is built in the test from the published layouts; expected values come from the test's own
rows, from FORMATS.md or from the shipped CSV files read with pandas, never from the code under test.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from cdv_core import gestion, importer, maps, queries, schema
from cdv_core.filters import Filtres

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "data" / "referentiels"
GEO = ROOT / "data" / "geo"


@pytest.fixture
def con(demo_db):
    c = schema.connect(demo_db)
    yield c
    c.close()


def csv_bytes(rows: list[list], sep: str = ";", encoding: str = "utf-8") -> bytes:
    return "\r\n".join(sep.join(str(c) for c in r) for r in rows).encode(encoding) + b"\r\n"


def snapshot(con, table: str) -> list[tuple]:
    return sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


def current_thematiques() -> dict[str, str]:
    df = pd.read_csv(REF / "thematiques.csv", dtype=str)
    return dict(zip(df["sous_theme_code"], df["sous_theme_libelle"], strict=True))


def correspondance() -> pd.DataFrame:
    return pd.read_csv(REF / "thematiques_piliers.csv", dtype=str, keep_default_na=False)


# --------------------------------------------------------------------------- ANCT grants

ANCT_HEADER = ["annee", "code_tiers", "raison_sociale", "lib_action", "objectif", "montant", "theme", "sous_theme",
               "echelle", "code_cv", "insee_dep", "insee_reg"]
SIRET = "39013274400025"  # a porteur of the demo (checksum valid)


def anct_file() -> tuple[bytes, list[list]]:
    rows = [
        # 2021: former nomenclature, 1.2 = Santé
        [2021, SIRET, "Maison de l'Emploi", "Atelier santé des quartiers", "Prévention", "12 500,50", "1", "1.2",
         "cdv", "CV219", "62", "32"],
        # 2024: current nomenclature, 1.2 = Soutien à la scolarité
        [2024, SIRET, "Maison de l'Emploi", "Accompagnement scolaire", "Réussite", "8000", "1", "1.2", "cdv",
         "CN06202I", "62", "32"],
        # 2022, former 1.5a Jeunesse
        [2022, "77568390300014", "Centre social", "Chantiers jeunes", "Insertion", "3000", "1", "1.5a", "cdv",
         "CV219", "62", "32"],
        # 2024, 6.3 has no correspondence in the shipped default: "Non ventilé"
        [2024, SIRET, "Maison de l'Emploi", "Ingénierie du contrat", "Pilotage", "5000", "6", "6.3", "cdv",
         "CN06202I", "62", "32"],
        # not imported: other scales
        [2024, SIRET, "Fédération nationale", "Tête de réseau", "", "90000", "6", "6.4", "nat", "", "", ""],
        [2024, SIRET, "Réseau régional", "Animation régionale", "", "20000", "6", "6.4", "reg", "", "", "32"],
        [2021, SIRET, "Association départementale", "Appui", "", "7000", "1", "1.1", "dep", "", "62", "32"],
    ]
    return csv_bytes([ANCT_HEADER, *rows]), rows


def test_anct_grants_import_idempotent_and_undoable(con):
    data, rows = anct_file()
    before_action, before_fin = snapshot(con, "action"), snapshot(con, "financement")
    report = importer.check_file(con, data, "subventions-2024.csv")
    assert report.kind.code == "subventions_anct"
    assert report.ok, [i.message for i in report.errors]
    cdv = [r for r in rows if r[8] == "cdv"]
    assert report.resume[0] == (f"{len(cdv)} subventions de contrats de ville importées, "
                                f"{len(rows) - len(cdv)} subventions nationales, régionales ou départementales "
                                "ignorées (1 départementale, 1 nationale, 1 régionale).")
    result = importer.apply_report(con, report, user="test")
    assert (result.added, result.changed, result.removed) == (len(cdv), 0, 0)
    got = con.execute("SELECT a.annee, a.intitule, a.thematique, a.pilier, a.qpv, a.contrat, f.financeur, "
                      "f.montant_accorde, f.nature FROM action a JOIN financement f USING (action_id, annee) "
                      "WHERE a.action_id LIKE 'ANCT-%' ORDER BY a.annee, a.intitule").df()
    assert len(got) == len(cdv)
    assert set(got["financeur"]) == {"etat_bop147"} and set(got["nature"]) == {"specifique"}
    assert set(got["qpv"]) == {"*"}
    assert got.loc[got["intitule"] == "Atelier santé des quartiers", "montant_accorde"].item() == 12500.5
    # pillars from the shipped correspondence: CV219 has its own, the 2024 ones the Quartiers 2030 axes
    corr = correspondance()
    call = dict(zip(corr.loc[corr["contrat"] == "CV219", "thematique"], corr.loc[corr["contrat"] == "CV219",
                                                                                   "pilier"], strict=True))
    gen24 = corr[(corr["generation"] == "2024-2030") & (corr["contrat"] == "")]
    axes = dict(zip(gen24["thematique"], gen24["pilier"], strict=True))
    by_title = got.set_index("intitule")
    assert by_title.loc["Atelier santé des quartiers", "pilier"] == call["2020-1.2"]
    assert by_title.loc["Accompagnement scolaire", "pilier"] == axes["1.2"]
    assert "6.3" not in axes and by_title.loc["Ingénierie du contrat", "pilier"] == "non_ventile"
    assert any("Non ventilé" in s for s in report.resume)
    # a second import of the same file changes nothing
    again = importer.import_bytes(con, data, "subventions-2024.csv", user="test")
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    importer.undo_import(con, again.import_id)
    importer.undo_import(con, result.import_id)
    assert snapshot(con, "action") == before_action and snapshot(con, "financement") == before_fin


def test_grant_2021_code_12_is_sante_and_2024_code_12_is_soutien_scolaire(con):
    data, rows = anct_file()
    importer.import_bytes(con, data, "subventions.csv", user="test")
    df = queries.aggregate(con, Filtres(), ["annee", "thematique"])
    df = df.merge(queries.libelles(con, "thematique"), on="thematique", how="left")
    grants = df[df["thematique"].notna()]
    # FORMATS §8: in 2020-2023, 1.2 is Santé; thematiques.csv: from 2024, 1.2 is Soutien à la scolarité
    assert current_thematiques()["1.2"] == "Soutien à la scolarité"
    sante_2021 = grants[(grants["annee"] == 2021) & (grants["thematique_libelle"] == "Santé")]
    demo = pd.read_csv(ROOT / "data" / "demo" / "programmation.csv", dtype=str)
    fin = pd.read_csv(ROOT / "data" / "demo" / "financements.csv", dtype={"action_id": str})
    demo_sante = demo[(demo["annee"] == "2021") & (demo["thematique"] == "2020-1.2")]
    expected = fin[(fin["annee"] == 2021) & fin["action_id"].isin(demo_sante["action_id"])]["montant_accorde"].sum()
    assert sante_2021["montant_accorde"].sum() == pytest.approx(expected + 12500.5)
    scol_2024 = grants[(grants["annee"] == 2024) & (grants["thematique"] == "1.2")]
    assert scol_2024["thematique_libelle"].item() == "Soutien à la scolarité"
    assert not ((grants["annee"] == 2024) & (grants["thematique_libelle"] == "Santé")
                & (grants["thematique"] == "1.2")).any()


def prog_file(rows: list[list]) -> bytes:
    return csv_bytes([["action_id", "annee", "intitule", "porteur", "pilier", "thematique", "qpv", "contrat"],
                      *rows])


def test_thematique_codes_read_in_their_year(con):
    report = importer.check_file(con, prog_file([
        ["T1", 2021, "Santé", "Asso", "inclusion", "1.2", "*", "CV219"],
        ["T2", 2024, "Scolarité", "Asso", "emancipation", "1.2", "*", "CN06202I"],
        ["T3", 2022, "Jeunes", "Asso", "inclusion", "1.5a", "*", "CV219"],
        ["T4", 2022, "Santé par libellé", "Asso", "inclusion", "Santé", "*", "CV219"],
        ["T5", 2024, "Santé par libellé", "Asso", "emancipation", "Santé", "*", "CN06202I"],
    ]), "prog.csv")
    assert report.ok, [i.message for i in report.errors]
    got = dict(zip(report.tables["action"]["action_id"], report.tables["action"]["thematique"], strict=True))
    sante24 = next(c for c, lib in current_thematiques().items() if lib == "Santé")
    assert got == {"T1": "2020-1.2", "T2": "1.2", "T3": "2020-1.5a", "T4": "2020-1.2", "T5": sante24}


@pytest.mark.parametrize("annee, code, nomenclature", [
    (2021, "2.3", "2020-2023"),      # no 2.3 before 2024
    (2024, "1.5a", "2024"),          # 1.5a only exists in the former nomenclature
    (2024, "2020-1.2", "2024"),      # an explicit former code in a 2024 row
])
def test_code_unknown_in_its_year_is_an_error_naming_year_and_nomenclature(con, annee, code, nomenclature):
    contrat, pilier = ("CV219", "inclusion") if annee <= 2023 else ("CN06202I", "emancipation")
    before = snapshot(con, "action")
    report = importer.check_file(con, prog_file([["X1", annee, "Action", "Asso", pilier, code, "*", contrat]]),
                                 "prog.csv")
    assert not report.ok
    issue = report.errors[0]
    assert issue.line == 2 and issue.column == "thematique" and issue.value == code
    assert f"nomenclature {nomenclature}" in issue.message
    if not code.startswith("2020-"):
        assert str(annee) in issue.message
    with pytest.raises(importer.ImportRejected):
        importer.apply_report(con, report)
    assert snapshot(con, "action") == before


def test_code_and_label_that_disagree_are_refused_not_relabelled(con):
    report = importer.check_file(con, prog_file([["X1", 2024, "Action", "Asso", "emancipation", "1.2 Santé", "*",
                                                  "CN06202I"]]), "prog.csv")
    assert not report.ok and "Soutien à la scolarité" in report.errors[0].message


def test_correspondence_is_downloadable_editable_and_reimported(con):
    ref = gestion.referential(con, "thematiques_piliers")
    assert list(ref.columns) == ["generation", "thematique", "pilier", "contrat"]
    assert len(ref) == len(correspondance())
    edited = ref.copy()
    mask = (edited["generation"] == "2024-2030") & (edited["thematique"] == "5.1")
    edited.loc[mask, "pilier"] = "transitions"
    edited = pd.concat([edited, pd.DataFrame([{"generation": "2024-2030", "thematique": "6.3",
                                               "pilier": "emancipation", "contrat": None}])])
    data = edited.fillna("").to_csv(index=False, sep=";").encode("utf-8")
    result = importer.import_bytes(con, data, "correspondance.csv", user="test")
    assert result.kind == "thematiques_piliers" and (result.added, result.changed) == (1, 1)
    data_anct, _ = anct_file()
    importer.import_bytes(con, data_anct, "subventions.csv", user="test")
    pilier = con.execute("SELECT pilier FROM action WHERE intitule = 'Ingénierie du contrat'").fetchone()[0]
    assert pilier == "emancipation"


def test_correspondence_code_read_in_its_generation(con):
    data = csv_bytes([["generation", "thematique", "pilier"], ["2015-2023", "1.5a", "cohesion_sociale"],
                      ["2024-2030", "1.5a", "emancipation"]])
    report = importer.check_file(con, data, "corr.csv")
    assert [(i.line, i.column) for i in report.errors] == [(3, "thematique")]
    assert "nomenclature 2024" in report.errors[0].message


# --------------------------------------------------------------------------- adultes-relais / FONJEP

POSTES_HEADER = ["id_poste", "code_tiers", "raison_sociale", "annee", "montant", "code_cv", "insee_dep", "insee_reg"]


def test_posts_import_idempotent_and_undoable(con):
    rows = [["06213R009901", "43281109900014", "ACSBM", 2024, "21426", "CN06202I", "62", "32"],
            ["D09901", "", "CENTRE SOCIAL", 2024, "7164", "CN06202I", "62", "32"],
            ["D09901", "", "CENTRE SOCIAL", 2024, "7164", "CN06202I", "62", "32"],  # listed twice by the source
            ["06213R009901", "43281109900014", "ACSBM", 2021, "19875.06", "CV219", "62", "32"]]
    data = csv_bytes([POSTES_HEADER, *rows], sep=",")
    before = snapshot(con, "action"), snapshot(con, "financement")
    report = importer.check_file(con, data, "postes.csv")
    assert report.kind.code == "postes_anct" and report.ok, [i.message for i in report.errors]
    assert [i.line for i in report.warnings] == [4]
    assert report.resume == ["2 postes d'adultes-relais et 1 poste FONJEP importés (une action par poste et par "
                             "année, financée par le BOP 147)."]
    importer.apply_report(con, report, "test")
    got = con.execute("SELECT f.action_id, f.annee, f.dispositif, f.montant_accorde FROM financement f "
                      "WHERE f.action_id IN ('AR-06213R009901', 'FONJEP-D09901') ORDER BY 2, 1").fetchall()
    assert got == [("AR-06213R009901", 2021, "Adultes-relais", 19875.06),
                   ("AR-06213R009901", 2024, "Adultes-relais", 21426.0), ("FONJEP-D09901", 2024, "FONJEP", 7164.0)]
    again = importer.import_bytes(con, data, "postes.csv", user="test")
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    importer.undo_import(con, again.import_id)
    importer.undo_import(con, again.import_id - 1)
    assert (snapshot(con, "action"), snapshot(con, "financement")) == before


def test_post_of_unknown_kind_is_named(con):
    data = csv_bytes([POSTES_HEADER, ["X-1", "", "ASSO", 2024, "100", "CN06202I", "62", "32"]])
    report = importer.check_file(con, data, "postes.csv")
    assert not report.ok and report.errors[0].line == 2 and "dispositif" in report.errors[0].fix


# --------------------------------------------------------------------------- INSEE statistics

def test_insee_wide_file_with_secrecy_markers(con):
    rows = [["QN06224M", "Cité 12-14", "14520", "41,2", "s"],
            ["QN06201M", "Quartier", "nd", "", "9850"],
            ["62498", "Lens", "17 120", "28,5", "nc"],
            ["FR", "France", "23160", "so", "12 070"]]
    data = csv_bytes([["CODGEO", "LIBGEO", "DISP_MED_A21", "DISP_TP60_A21", "DISP_D1_A21"], *rows])
    before = snapshot(con, "indicateur")
    report = importer.check_file(con, data, "filosofi_qpv_2021.csv")
    assert report.kind.code == "insee_stats"
    assert report.ok, [i.message for i in report.errors]
    markers = sum(1 for r in rows for v in r[2:] if v in ("s", "nd", "ns", "nc", "so", ""))
    values = sum(1 for r in rows for v in r[2:] if v not in ("s", "nd", "ns", "nc", "so", ""))
    assert markers == 5
    assert f"{markers} cellules sans valeur" in report.warnings[0].message
    assert report.resume[0].startswith(f"{values} valeurs importées")
    importer.apply_report(con, report, "test")
    got = con.execute("SELECT valeur FROM indicateur WHERE territoire = 'QN06224M' AND indicateur = "
                      "'revenu_median_uc' AND annee = 2021").fetchone()[0]
    assert got == 14520
    assert con.execute("SELECT valeur FROM indicateur WHERE territoire = '62498' AND indicateur = 'taux_pauvrete' "
                       "AND annee = 2021").fetchone()[0] == 28.5
    assert con.execute("SELECT count(*) FROM indicateur WHERE territoire = 'QN06201M' AND annee = 2021 "
                       "AND indicateur = 'revenu_median_uc'").fetchone()[0] == 0
    again = importer.import_bytes(con, data, "filosofi_qpv_2021.csv", user="test")
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    importer.undo_import(con, again.import_id)
    importer.undo_import(con, again.import_id - 1)
    assert snapshot(con, "indicateur") == before


def test_insee_unknown_column_needs_its_meta_file(con):
    stats = csv_bytes([["CODGEO", "TX_EMPL_A21"], ["QN06224M", "45,3"]])
    report = importer.check_file(con, stats, "stats.csv")
    assert not report.ok and report.errors[0].column == "TX_EMPL_A21" and "meta" in report.errors[0].fix
    meta = csv_bytes([["COD_VAR", "LIB_VAR", "LIB_VAR_LONG", "COD_MOD", "LIB_MOD", "TYPE_VAR", "LONG_VAR"],
                      ["CODGEO", "Code géographique", "", "", "", "CHAR", "8"],
                      ["TX_EMPL_A21", "Taux d'emploi des 15-64 ans (%)", "", "", "", "NUM", "5"]])
    plan = gestion.plan_import(con, [gestion.Upload("stats.csv", stats), gestion.Upload("meta_stats.csv", meta)])
    assert plan.ok, [(f.upload.name, [i.message for i in f.report.errors]) for f in plan.files]
    assert [f.kind for f in plan.files] == ["insee_meta", "insee_stats"]


def test_insee_bad_value_is_an_error_with_line_and_column(con):
    data = csv_bytes([["CODGEO", "DISP_MED_A21"], ["QN06224M", "14520"], ["QN06201M", "beaucoup"]])
    report = importer.check_file(con, data, "stats.csv")
    assert [(i.line, i.column, i.value) for i in report.errors] == [(3, "DISP_MED_A21", "beaucoup")]


# --------------------------------------------------------------------------- official QPV list

def test_official_qpv_list_keeps_population_and_contract(con):
    before = con.execute("SELECT population, contrat FROM qpv WHERE code_qpv = 'QN06224M'").fetchone()
    header = ["code_qp", "lib_qp", "insee_reg", "lib_reg", "insee_dep", "lib_dep", "insee_com", "lib_com",
              "siren_epci", "lib_epci"]
    rows = [["QN06224M", "Cité 12-14 (nouveau nom)", "32", "Hauts-de-France", "62", "Pas-de-Calais", "62498", "Lens",
             "246200364", "CA de Lens - Liévin"],
            ["QN06224M", "Cité 12-14 (nouveau nom)", "32", "Hauts-de-France", "62", "Pas-de-Calais", "62528",
             "Loos-en-Gohelle", "246200364", "CA de Lens - Liévin"]]
    snap = snapshot(con, "qpv"), snapshot(con, "qpv_commune")
    data = csv_bytes([header, *rows])
    result = importer.import_bytes(con, data, "listeqp2024-cog2024.csv", user="test")
    assert result.kind == "liste_qpv"
    got = con.execute("SELECT nom_qpv, communes_insee, population, contrat FROM qpv WHERE code_qpv = 'QN06224M'"
                      ).fetchone()
    assert got == ("Cité 12-14 (nouveau nom)", "62498|62528", *before)
    again = importer.import_bytes(con, data, "listeqp2024-cog2024.csv", user="test")
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    importer.undo_import(con, again.import_id)
    importer.undo_import(con, result.import_id)
    assert (snapshot(con, "qpv"), snapshot(con, "qpv_commune")) == snap


# --------------------------------------------------------------------------- contours

SQUARE = [[2.83, 50.43], [2.84, 50.43], [2.84, 50.44], [2.83, 50.44], [2.83, 50.43]]  # near Lens


def geojson(features: list[dict], crs: str | None = None) -> bytes:
    doc = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(doc).encode()


def feature(props: dict, ring: list) -> dict:
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def lambert93(ring: list) -> list:
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    return [list(t.transform(x, y)) for x, y in ring]


def stored_box(con, code: str) -> tuple:
    return con.execute("SELECT xmin, ymin, xmax, ymax FROM contour WHERE niveau = 'qpv' AND code = ?",
                       [code]).fetchone()


def test_contours_wgs84_for_2015_quartiers_make_the_map(con):
    assert stored_box(con, "QP062024") is None  # no 2015 contour shipped
    data = geojson([feature({"CODE_QP": "QP062024", "NOM_QP": "Cité 12-14"}, SQUARE)])
    result = importer.import_bytes(con, data, "qp2015.geojson", user="test")
    assert result.kind == "contours" and result.added == 1
    assert stored_box(con, "QP062024") == pytest.approx((2.83, 50.43, 2.84, 50.44))
    terr = maps.territoire(con, ("QP062024", "QP062025"))
    assert list(terr.qpv["code_qpv"]) == ["QP062024"] and list(terr.manquants["code_qpv"]) == ["QP062025"]
    assert terr.bbox == pytest.approx((2.83, 50.43, 2.84, 50.44))
    again = importer.import_bytes(con, data, "qp2015.geojson", user="test")
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    importer.undo_import(con, again.import_id)
    importer.undo_import(con, result.import_id)
    assert stored_box(con, "QP062024") is None


def test_contours_lambert93_replace_and_undo_restores(con):
    before = con.execute("SELECT * FROM contour WHERE niveau = 'qpv' AND code = 'QN06224M'").fetchone()
    assert before is not None  # shipped
    data = geojson([feature({"code_qpv": "QN06224M"}, lambert93(SQUARE))], crs="urn:ogc:def:crs:EPSG::2154")
    result = importer.import_bytes(con, data, "qn.geojson", user="test")
    assert result.changed == 1
    assert stored_box(con, "QN06224M") == pytest.approx((2.83, 50.43, 2.84, 50.44), abs=1e-5)
    importer.undo_import(con, result.import_id)
    assert con.execute("SELECT * FROM contour WHERE niveau = 'qpv' AND code = 'QN06224M'").fetchone() == before


def test_contours_lambert93_without_declared_crs_recognised(con):
    data = geojson([feature({"code_quartier": "QP062025"}, lambert93(SQUARE))])
    report = importer.check_file(con, data, "contours.json")
    assert report.ok and "Lambert-93" in report.resume[0]


def shapefile_zip(records: list[tuple[str, list]], prj: str | None) -> bytes:
    import shapefile

    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON) as w:
        w.field("CODE_QP", "C", 10)
        w.field("NOM_QP", "C", 50)
        for code, ring in records:
            w.poly([ring])
            w.record(code, "Quartier é")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("QP_METROPOLE_LB93.shp", shp.getvalue())
        z.writestr("QP_METROPOLE_LB93.shx", shx.getvalue())
        z.writestr("QP_METROPOLE_LB93.dbf", dbf.getvalue())
        if prj:
            z.writestr("QP_METROPOLE_LB93.prj", prj)
    return out.getvalue()


def test_contours_zipped_shapefile_in_lambert93(con):
    from pyproj import CRS

    ring = lambert93(list(reversed(SQUARE)))  # shapefile outer rings turn clockwise
    data = shapefile_zip([("QP062024", ring), ("QP062025", ring)], CRS.from_epsg(2154).to_wkt())
    result = importer.import_bytes(con, data, "QP_METROPOLE_LB93.zip", user="test")
    assert result.kind == "contours" and result.added == 2
    for code in ("QP062024", "QP062025"):
        assert stored_box(con, code) == pytest.approx((2.83, 50.43, 2.84, 50.44), abs=1e-5)


@pytest.mark.parametrize("data, expected", [
    (geojson([feature({"nom": "Cité"}, SQUARE)]), "Aucune propriété ne donne le code"),
    (geojson([feature({"code_qpv": "QP999999"}, SQUARE), feature({"code_qpv": "QN06224M"}, SQUARE)]),
     "QP999999"),
    (geojson([feature({"code_qpv": "QP062024"}, [[10.0 ** 8, 1.0], [10.0 ** 8, 2.0], [10.0 ** 8 + 1, 2.0],
                                                 [10.0 ** 8, 1.0]])]), "projection inconnue"),
    (geojson([feature({"code_qpv": "QP062024"}, SQUARE[:3])]), "moins de 4 points"),
    (geojson([feature({"code_qpv": "QP062024"}, SQUARE)], crs="EPSG:999999"), "inconnue"),
    (b"{pas du json", "illisibles"),
])
def test_bad_contours_refused_nothing_written(con, data, expected):
    before = snapshot(con, "contour")
    report = importer.check_file(con, data, "contours.geojson")
    assert report.kind.code == "contours" and not report.ok
    assert any(expected in i.message for i in report.errors), [i.message for i in report.errors]
    with pytest.raises(importer.ImportRejected):
        importer.apply_report(con, report)
    assert snapshot(con, "contour") == before


def test_every_error_of_a_contours_file_is_listed(con):
    data = geojson([feature({"code_qpv": "QP999998"}, SQUARE), feature({"code_qpv": "QP999999"}, SQUARE),
                    feature({"code_qpv": "QP062024"}, SQUARE[:2])])
    report = importer.check_file(con, data, "contours.geojson")
    assert len(report.errors) == 3


# --------------------------------------------------------------------------- national contours shipped


def shipped(name: str, key: str) -> dict[str, dict]:
    doc = json.loads((GEO / name).read_text(encoding="utf-8"))
    return {f["properties"][key]: f["geometry"] for f in doc["features"]}


def test_national_contours_are_loaded(con):
    qpv = shipped("qpv2024_france.geojson", "code_qpv")
    ref = pd.read_csv(REF / "qpv.csv", dtype=str)
    assert set(qpv) == set(ref.loc[ref["geographie"] == "2024", "code_qpv"])  # the 1 584 QPV 2024
    n = con.execute("SELECT niveau, count(*) FROM contour GROUP BY 1").fetchall()
    assert dict(n)["qpv"] == len(qpv)
    assert dict(n)["departement"] == len(shipped("departements_france.geojson", "code"))


def test_a_contract_outside_the_pas_de_calais_frames_its_own_territory(con):
    ref = pd.read_csv(REF / "qpv.csv", dtype=str)
    marseille = ref[(ref["geographie"] == "2024") & ref["code_qpv"].str.startswith("QN013")]
    codes = tuple(marseille["code_qpv"].head(6))
    terr = maps.territoire(con, codes)
    assert sorted(terr.qpv["code_qpv"]) == sorted(codes) and terr.manquants.empty
    geoms = shipped("qpv2024_france.geojson", "code_qpv")
    xs = [p[0] for c in codes for poly in geoms[c]["coordinates"] for ring in poly for p in ring]
    ys = [p[1] for c in codes for poly in geoms[c]["coordinates"] for ring in poly for p in ring]
    assert terr.bbox == pytest.approx((min(xs), min(ys), max(xs), max(ys)))
    communes = {c for cs in marseille["communes_insee"].head(6) for c in cs.split("|")}
    assert set(terr.communes["code_insee"]) <= communes  # only the contours of the territory shown
    carte = maps.carte_quartiers(con, marseille.head(6).assign(valeur=range(6)), "valeur", "Valeur", str)
    assert carte.deck is not None and carte.message is None
    layer = next(lay for lay in carte.deck.layers if lay.id == "qpv")
    assert len(layer.data["features"]) == len(codes)


def test_quartiers_without_contour_are_named_and_the_map_stays(con):
    ref = pd.read_csv(REF / "qpv.csv", dtype=str)
    old = ref[(ref["geographie"] == "2015") & (ref["contrat"] == "CV219")].head(3)
    carte = maps.carte_quartiers(con, old.assign(valeur=1.0), "valeur", "Valeur", str)
    assert carte.deck is not None  # their communes
    for code in old["code_qpv"]:
        assert code in carte.message


# --------------------------------------------------------------------------- CLI


def test_cli_summary_labels_and_contract(demo_db):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "cdv_core", "summary", "--db", str(demo_db), "--by",
                           "annee,thematique,pilier", "--where", "contrat=CV219", "--where", "annee=2021", "--labels"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = pd.read_csv(io.StringIO(proc.stdout), dtype={"thematique": str})
    prog = pd.read_csv(ROOT / "data" / "demo" / "programmation.csv", dtype=str)
    fin = pd.read_csv(ROOT / "data" / "demo" / "financements.csv", dtype={"action_id": str})
    sel = prog[(prog["annee"] == "2021") & (prog["contrat"] == "CV219")]
    lines = fin[fin["annee"] == 2021].merge(sel[["action_id", "thematique", "pilier"]], on="action_id")
    # FORMATS §8: 1.2 is Santé in the 2020-2023 nomenclature; piliers.csv: inclusion's label
    piliers = pd.read_csv(REF / "piliers.csv", dtype=str).set_index("code")["libelle"]
    expected = lines[lines["thematique"] == "2020-1.2"].groupby("pilier")["montant_accorde"].sum()
    got = out[out["thematique"] == "Santé"].set_index("pilier")["montant_accorde"]
    assert got.to_dict() == pytest.approx({piliers[p]: v for p, v in expected.items()})
    assert out["montant_accorde"].sum() == pytest.approx(lines["montant_accorde"].sum())
    assert not out["thematique"].str.contains(r"^\d|2020-", regex=True, na=False).any()  # labels, not codes


def test_a_database_built_before_gets_the_contours_and_nomenclature(demo_db):
    from cdv_core import demo

    c = schema.connect(demo_db)
    try:
        n = dict(c.execute("SELECT niveau, count(*) FROM contour GROUP BY 1").fetchall())
        c.execute("DELETE FROM contour")
        c.execute("DELETE FROM thematique_pilier")
    finally:
        c.close()
    demo.ensure_database(demo_db)
    c = schema.connect(demo_db, read_only=True)
    try:
        assert dict(c.execute("SELECT niveau, count(*) FROM contour GROUP BY 1").fetchall()) == n
        assert c.execute("SELECT count(*) FROM thematique_pilier").fetchone()[0] == len(correspondance())
    finally:
        c.close()


def test_a_map_at_national_scale_shows_the_departements_it_spans(con):
    ref = pd.read_csv(REF / "qpv.csv", dtype=str)
    lens = tuple(ref.loc[ref["contrat"] == "CN06202I", "code_qpv"])
    arles = tuple(ref.loc[ref["contrat"] == "CN01301I", "code_qpv"])
    assert maps.territoire(con, lens).departements.empty  # one agglomeration: no landmark needed
    deps = set(maps.territoire(con, lens + arles).departements["code"])
    assert {"62", "13"} <= deps and "2A" not in deps  # the corridor between them, not Corsica
    carte = maps.carte_quartiers(con, ref[ref["code_qpv"].isin(lens + arles)].assign(v=1.0), "v", "V", str)
    ids = [layer.id for layer in carte.deck.layers]
    assert ids[0] == "departements" and "qpv_points" in ids
