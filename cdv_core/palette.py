"""One palette for every chart of the pages, the slides, the PDF and the PPTX: a colour means one thing.

- each **funder** has a fixed colour, a shade of its **family** (État, collectivités, organismes sociaux,
  Europe, autres); a projected chart colours by family (five colours, the detail is in the table);
- each **pillar** (and its axis) has a fixed colour, the same on every page;
- each **nature** of credits (crédits spécifiques, droit commun) has a fixed colour;
- survey scales: one blue hue for intensity, blue to orange for two-sided scales.

The hues are Okabe-Ito's (distinguishable with the common colour-vision deficiencies); text drawn on a
colour is black or white, whichever contrasts more (WCAG ratio, checked by the tests). A label not in the
referentials gets a colour from its name (the same every time), never from its rank in a chart.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

REFERENTIELS = Path(__file__).resolve().parent.parent / "data" / "referentiels"

# Okabe-Ito
BLEU, ORANGE, VERT, ROSE, CIEL, VERMILLON, JAUNE, NOIR = ("#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                                          "#56B4E9", "#D55E00", "#F0E442", "#000000")
GRIS = "#7F7F7F"
BRUN = "#8C6D31"
INK = "#161616"  # text
TEXTE_DISCRET = "#4D4D4D"  # secondary text (7:1 on white)
TEXTE_AXES = "#1e1e1e"
BLANC = "#FFFFFF"

# Funders' families, in the order of the legends: (label, colour, shades of the family for its funders).
FAMILLES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "etat": ("État", BLEU, (BLEU, "#004F7C", CIEL, "#8CC8EC", "#2B8FD0")),
    "collectivite": ("Collectivités", ORANGE, (ORANGE, "#A66F00", "#F5C26B", "#C98A00", "#FFD98A")),
    "organisme": ("Organismes sociaux", VERT, (VERT, "#006B4E", "#5FC3A5")),
    "europe": ("Europe", ROSE, (ROSE, "#9C4A80")),
    "autres": ("Autres (privé, porteurs)", GRIS, (GRIS, "#4D4D4D", "#B0B0B0")),
}
# The referential's `categorie` → family.
CATEGORIES = {"etat": "etat", "collectivite": "collectivite", "organisme": "organisme", "europe": "europe",
              "prive": "autres", "porteur": "autres"}

# Pillars (both generations of contracts) and natures of credits.
PILIERS = {
    # Quartiers 2030 (2024-2030)
    "emploi": BLEU, "transitions": VERT, "emancipation": ROSE, "securite": VERMILLON,
    # Contrats de ville 2015-2023
    "cohesion_sociale": BLEU, "cadre_vie": VERT, "developpement_eco": ORANGE, "inclusion": CIEL,
    "habitat": VERMILLON, "attractivite": ROSE, "egalite_chances": BRUN,
    # Grants whose thématique has no pillar correspondence (public files): a neutral grey, never a pillar's hue
    "non_ventile": GRIS,
}
NATURES = {"specifique": BLEU, "droit_commun": ORANGE, "crédits spécifiques": BLEU, "droit commun": ORANGE}
NATURE_LIBELLES = {"specifique": "Crédits spécifiques", "droit_commun": "Droit commun"}

# Two-sided comparisons (rise / fall, requested / granted) and a single series.
HAUSSE, BAISSE = BLEU, VERMILLON
SERIE = BLEU
SERIE_2 = ORANGE
CIBLE = VERMILLON
# Survey scales: one hue for intensity (light → dark blue); blue (positive) to orange (negative).
BLEUS = ("#d4e6f6", "#9ecae1", "#5a9fd0", "#2171b5", "#08306b", "#062a5c", "#041b40")
POSITIFS = (BLEU, CIEL, "#a6d3ef")
NEGATIFS = ("#F5C26B", ORANGE, VERMILLON)
NEUTRE = "#BBBBBB"
# Labels of unknown categories: a colour from their name among these (distinct from the families' first shades).
AUTRES = (BLEU, ORANGE, VERT, ROSE, CIEL, VERMILLON, BRUN, GRIS, "#393B79", "#637939", "#AD494A", NOIR)


def _read(name: str) -> list[dict]:
    path = REFERENTIELS / name
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _build() -> tuple[dict[str, str], dict[str, str]]:
    """label and code → colour; label and code → family, from the shipped referentials."""
    colours: dict[str, str] = {}
    families: dict[str, str] = {}
    used: dict[str, int] = {}
    for row in _read("financeurs.csv"):
        fam = CATEGORIES.get(row.get("categorie") or "", "autres")
        shades = FAMILLES[fam][2]
        colour = shades[used.get(fam, 0) % len(shades)]
        used[fam] = used.get(fam, 0) + 1
        for key in (row["code"], row["libelle"]):
            colours[key] = colour
            families[key] = fam
    for row in _read("piliers.csv"):
        if row["code"] in PILIERS:
            colours.setdefault(row["libelle"], PILIERS[row["code"]])
    for code, colour in PILIERS.items():
        colours.setdefault(code, colour)
    for code, label in NATURE_LIBELLES.items():
        colours.setdefault(code, NATURES[code])
        colours.setdefault(label, NATURES[code])
    for label, colour, _ in FAMILLES.values():
        colours.setdefault(label, colour)
    return colours, families


COULEURS, _FAMILLE_DE = _build()


def couleur(valeur: str) -> str:
    """The colour of a funder, a pillar, a nature or a family (code or label); any other label gets one from
    its name, the same every time."""
    key = str(valeur)
    if key in COULEURS:
        return COULEURS[key]
    digest = int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16)
    return AUTRES[digest % len(AUTRES)]


def couleurs(valeurs) -> list[str]:
    """The colours of the labels of one chart: each keeps its own (`couleur`), except that two labels of the
    chart never share one: an unknown label whose colour is already taken gets the next free one of `AUTRES` (a
    quartier and France were both drawn orange on the same line chart)."""
    keys = [str(v) for v in valeurs]
    out: list[str | None] = [COULEURS.get(k) for k in keys]
    used = {c for c in out if c is not None}
    for i, key in enumerate(keys):
        if out[i] is not None:
            continue
        colour = couleur(key)
        if colour in used:
            start = AUTRES.index(colour)
            free = [c for c in AUTRES[start:] + AUTRES[:start] if c not in used]
            colour = free[0] if free else colour
        out[i] = colour
        used.add(colour)
    return [c for c in out if c is not None]


def famille(categorie: str | None = None, financeur: str | None = None) -> str:
    """The family code of a funder, from its referential `categorie` (else from its code or label)."""
    if categorie in CATEGORIES:
        return CATEGORIES[categorie]
    return _FAMILLE_DE.get(str(financeur), "autres")


def famille_libelle(categorie: str | None = None, financeur: str | None = None) -> str:
    return FAMILLES[famille(categorie, financeur)][0]


FAMILLE_LIBELLES = [label for label, _, _ in FAMILLES.values()]


# --------------------------------------------------------------------------------------------- contrast


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance of `#rrggbb`."""
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contraste(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def texte_sur(fond: str) -> str:
    """Black-ish or white text on a fill, whichever contrasts more."""
    return BLANC if contraste(BLANC, fond) >= contraste(INK, fond) else INK


def toutes() -> set[str]:
    """Every colour of the palette (upper case), for the tests that check a chart takes its colours here."""
    out = set(COULEURS.values()) | set(AUTRES) | set(BLEUS) | set(POSITIFS) | set(NEGATIFS)
    out |= {NEUTRE, HAUSSE, BAISSE, SERIE, SERIE_2, CIBLE, INK, TEXTE_AXES, TEXTE_DISCRET, BLANC, GRIS, NOIR}
    for _, colour, shades in FAMILLES.values():
        out |= {colour, *shades}
    return {c.upper() for c in out}
