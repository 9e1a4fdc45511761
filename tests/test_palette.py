"""One palette: every chart builder takes its colours from `cdv_core.palette`; a funder, a pillar, a nature
keeps its colour from one chart to the next; text colours reach the WCAG contrast ratios."""

from __future__ import annotations

import csv
import inspect
import re

import pandas as pd
import pytest

from cdv_core import charts, palette, schema, sections, survey_charts, surveys
from cdv_core.filters import Filtres

HEX = re.compile(r"^#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
NAMED = {"white", "black", "red", "green", "blue", "grey", "gray", "orange", "steelblue"}


def _colours(spec) -> list[str]:
    """Every colour a spec sets (mark colours, scale ranges, conditions), data excluded."""
    found = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("data", "datasets", "values"):
                    continue
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in ("color", "fill", "stroke", "range", "value", "labelColor",
                                              "titleColor", "scheme"):
            if HEX.match(node) or node.lower() in NAMED or key == "scheme":
                found.append(node)

    walk(spec)
    return found


def _funders() -> pd.DataFrame:
    ref = pd.read_csv(palette.REFERENTIELS / "financeurs.csv")
    rows = [{"annee": y, "financeur_libelle": lib, "montant_accorde": 1000.0 * (i + 1) + y, "part": 10.0}
            for i, lib in enumerate(ref["libelle"]) for y in (2022, 2023)]
    return pd.DataFrame(rows)


SCALE = surveys.COOPERATION


def _survey() -> pd.DataFrame:
    niveaux = list(SCALE.niveaux)
    return pd.DataFrame([{"item": it, "reponse": n, "n": 5, "pct": 100 / len(niveaux), "masque": False}
                         for it in ("État", "Région") for n in niveaux])


def _builders():
    df = _funders()
    simple = pd.DataFrame({"libelle": ["A", "B", "C"], "montant_accorde": [3.0, -1.0, 2.0], "part": [50.0, 20.0, 30.0],
                           "annee": [2022, 2023, 2024], "evolution": [1.0, -2.0, 3.0], "autre": [1.0, 2.0, 3.0]})
    grid = pd.DataFrame({"x": ["a", "b", "a", "b"], "y": ["c", "c", "d", "d"], "v": [1.0, 2.0, 3.0, 4.0]})
    survey = _survey()
    numeric = pd.DataFrame({"reponse": ["1", "2", "3"], "n": [5, 6, 7], "pct": [30.0, 30.0, 40.0],
                            "masque": [False] * 3})
    stats = pd.DataFrame({"item": ["a", "b"], "minimum": [1, 2], "q1": [2, 3], "mediane": [3, 4], "q3": [4, 5],
                          "maximum": [5, 6], "masque": [False, False]})
    return {
        "stacked_by_year": lambda: charts.stacked_by_year(df, "financeur_libelle", "Financeur", partielle=2023),
        "horizontal_bars": lambda: charts.horizontal_bars(simple, "libelle", "montant_accorde"),
        "horizontal_bars_colour": lambda: charts.horizontal_bars(simple, "libelle", "montant_accorde",
                                                                 colour_by_label=True),
        "line_by_year": lambda: charts.line_by_year(df, "montant_accorde", "Montant", "financeur_libelle"),
        "stacked_columns": lambda: charts.stacked_columns(df, "financeur_libelle", "Financeur"),
        "value_columns": lambda: charts.value_columns(simple, "annee", "montant_accorde", "Montant"),
        "change_bars": lambda: charts.change_bars(simple, "libelle"),
        "paired_bars": lambda: charts.paired_bars(simple, "libelle", {"montant_accorde": "Accordé",
                                                                      "autre": "Demandé"}),
        "heatmap": lambda: charts.heatmap(grid, "x", "y", "v", "X", "Y"),
        "share_vs_target": lambda: charts.share_vs_target(simple, 25.0),
        "measure_bars": lambda: charts.measure_bars(simple, "libelle", "autre", "Nombre"),
        "barres_100": lambda: survey_charts.barres_100(survey, list(SCALE.niveaux), SCALE, 5),
        "barres_choix": lambda: survey_charts.barres_choix(numeric),
        "histogramme": lambda: survey_charts.histogramme(numeric),
        "boites": lambda: survey_charts.boites(stats),
    }


def test_every_chart_builder_is_walked():
    """A new public builder must be added to the walk (so it is checked against the palette)."""
    public = {n for mod in (charts, survey_charts) for n, fn in inspect.getmembers(mod, inspect.isfunction)
              if fn.__module__ == mod.__name__ and not n.startswith("_")}
    helpers = {"color_scale", "projection", "couleurs", "spec"}  # spec: a chart to its Vega-Lite dict
    walked = {k.removesuffix("_colour") for k in _builders()}
    assert public - helpers <= walked, public - helpers - walked


@pytest.mark.parametrize("name", list(_builders()))
def test_chart_builders_take_their_colours_from_the_palette(name):
    spec = _builders()[name]().to_dict(validate=False)
    allowed = palette.toutes()
    bad = [c for c in _colours(spec) if not (HEX.match(c) and c.upper() in allowed)]
    assert not bad, f"{name}: colours outside cdv_core.palette: {bad}"


def test_a_funder_keeps_its_colour_whatever_the_chart():
    df = _funders()
    by_rank = charts.stacked_by_year(df, "financeur_libelle", "Financeur").to_dict(validate=False)
    subset = df[df["financeur_libelle"].isin(["Région", "CAF"])]
    other = charts.stacked_columns(subset, "financeur_libelle", "Financeur").to_dict(validate=False)

    def mapping(spec):
        scale = spec["encoding"]["color"]["scale"]
        return dict(zip(scale["domain"], scale["range"], strict=True))

    first, second = mapping(by_rank), mapping(other)
    for label in ("Région", "CAF"):
        assert first[label] == second[label], label
    # Two funders of different families never share a colour.
    assert first["Région"] != first["CAF"]


def test_families_from_the_referential_categorie():
    with (palette.REFERENTIELS / "financeurs.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    expected = {"etat": "État", "collectivite": "Collectivités", "organisme": "Organismes sociaux",
                "europe": "Europe", "prive": "Autres (privé, porteurs)", "porteur": "Autres (privé, porteurs)"}
    for row in rows:
        assert palette.famille_libelle(row["categorie"], row["code"]) == expected[row["categorie"]]
        # A funder's colour is a shade of its family's.
        fam = palette.famille(row["categorie"])
        assert palette.couleur(row["libelle"]) in palette.FAMILLES[fam][2]
    family_colours = [c for _, c, _ in palette.FAMILLES.values()]
    assert len(set(family_colours)) == len(family_colours)


def test_pillars_and_natures_have_fixed_colours():
    with (palette.REFERENTIELS / "piliers.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            assert palette.couleur(row["libelle"]) == palette.couleur(row["code"])
    assert palette.couleur("Crédits spécifiques") != palette.couleur("Droit commun")
    # The four pillars of Quartiers 2030 are four different colours.
    assert len({palette.couleur(c) for c in ("emploi", "transitions", "emancipation", "securite")}) == 4
    # An unknown label gets the same colour every time.
    assert palette.couleur("Un financeur inconnu") == palette.couleur("Un financeur inconnu")


def _wcag(a: str, b: str) -> float:
    """WCAG 2 contrast ratio, computed here independently of cdv_core.palette."""

    def lum(h):
        h = h.lstrip("#")
        vals = []
        for i in (0, 2, 4):
            c = int(h[i:i + 2], 16) / 255
            vals.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
        return 0.2126 * vals[0] + 0.7152 * vals[1] + 0.0722 * vals[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_text_colours_contrast():
    # Text on white: axes, secondary text, the ink.
    for colour in (palette.INK, palette.TEXTE_AXES, palette.TEXTE_DISCRET):
        assert _wcag(colour, "#FFFFFF") >= 7, colour
    # Labels written on a coloured fill (survey segments, heat maps, bars): at least 4.5:1.
    fills = set(palette.BLEUS) | set(palette.POSITIFS) | set(palette.NEGATIFS) | {palette.NEUTRE}
    fills |= {c for _, c, _ in palette.FAMILLES.values()}
    for fill in fills:
        text = palette.texte_sur(fill)
        assert _wcag(text, fill) >= 4.5, (fill, text, _wcag(text, fill))
    assert palette.contraste("#000000", "#FFFFFF") == pytest.approx(21)


def test_projected_spec_has_large_text_and_leaves_the_cached_spec_alone(demo_db):
    con = schema.connect(demo_db)
    try:
        sec = sections.build(con, Filtres(), "evolution")
    finally:
        con.close()
    before = repr(sec.chart)
    slide = charts.projection(sec.chart)
    assert repr(sec.chart) == before  # the cached dict is not modified

    sizes = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("labelFontSize", "titleFontSize", "fontSize") and isinstance(v, (int, float)):
                    sizes.append(v)
                elif k not in ("data", "datasets"):
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(slide)
    assert sizes and min(sizes) >= 24
    assert slide["config"]["legend"]["orient"] == "right"
    assert "height" not in slide


def test_labels_of_one_chart_never_share_a_colour():
    """Unknown labels take a colour from their name; within one chart, a label whose colour is taken gets another
    (a quartier and France were both orange on the same line chart)."""
    labels = ["Quartier : Blum - Salengro - 109", "Commune : Liévin", "Intercommunalité : CA de Lens - Liévin",
              "France"]
    assert palette.couleur(labels[0]) == palette.couleur(labels[3])  # the collision this guards against
    colours = palette.couleurs(labels)
    assert len(set(colours)) == len(labels)
    assert colours[0] == palette.couleur(labels[0])  # the first one keeps its own
    # Many unknown labels beside known ones (a funder, a pillar): all distinct while the palette has room.
    many = ["CAF", *[f"Quartier n° {i}" for i in range(len(palette.AUTRES) - 1)]]
    assert len(set(palette.couleurs(many))) == len(many)
    assert palette.couleurs(["CAF"]) == [palette.couleur("CAF")]
    # A label alone keeps the colour of its name, the same every time.
    assert palette.couleurs(["France"]) == [palette.couleur("France")]
