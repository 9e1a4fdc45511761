"""COPIL slides: one finding each, built from the query functions (pure: connection + filters in, `Slide` out).

The presentation page shows a `Slide` full width; the dossier de séance (cdv_core.dossier) prints the same
`Slide` in a PDF; the Excel export gathers their tables. A séance stores slides as `{"type": ..., params}`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import altair as alt
import duckdb
import pandas as pd

from cdv_core import charts, fmt, maps, queries
from cdv_core.filters import Filtres

SPLIT_NOTE = ("Montants par quartier : une action menée dans plusieurs quartiers (ou sur tout le contrat) est "
              "répartie à parts égales entre eux, si bien que la somme des quartiers égale le total.")
FUNDING_SOURCES = ("programmation", "financements")
KIND_LABELS = {"programmation": "programmation", "financements": "financements", "indicateurs": "indicateurs",
               "enquete": "enquêtes", "enquete_diffusion": "diffusion des enquêtes"}


@dataclass
class Slide:
    """What one slide says: a title that states the finding, headline figures, a chart, its table, its source."""

    type: str
    titre: str
    chiffres: list[tuple[str, str]] = field(default_factory=list)
    chart: alt.TopLevelMixin | None = None
    table: pd.DataFrame | None = None
    table_nom: str = ""
    source: str = ""
    notes: list[str] = field(default_factory=list)
    vide: str | None = None  # a sentence shown instead of the chart when the selection is empty
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SlideType:
    libelle: str
    builder: Callable[..., Slide]
    params: tuple[str, ...] = ()  # what the staff choose per slide: "annee", "annee_ref", "qpv"


# --- helpers shared by the builders ----------------------------------------------------------------------


def annee_par_defaut(con: duckdb.DuckDBPyConnection, f: Filtres) -> int | None:
    """Last year whose actions are mostly decided (as the dashboard's pages choose it)."""
    return queries.annee_decidee(con, f)


def annees_disponibles(con: duckdb.DuckDBPyConnection, f: Filtres) -> list[int]:
    """Years with at least one action for the filters."""
    df = queries.aggregate(con, f, ("annee",))
    return [int(y) for y, n in zip(df["annee"], df["nb_actions"], strict=True) if n]


def _year(con, f: Filtres, annee: int | None) -> int | None:
    years = annees_disponibles(con, f)
    if annee in years:
        return annee
    default = annee_par_defaut(con, f)
    return default if default in years else (years[-1] if years else None)


def source(con: duckdb.DuckDBPyConnection, kinds: tuple[str, ...], annees: tuple[int, ...] = ()) -> str:
    """`Source : programmation et financements 2022, import du 3 mars 2026` (latest import of those kinds)."""
    rows = con.execute(
        "SELECT type_fichier, max(horodatage) FROM import_journal WHERE annule_par IS NULL AND annule IS NULL "
        f"AND type_fichier IN ({', '.join('?' for _ in kinds)}) GROUP BY type_fichier", list(kinds)).fetchall()
    labels = [KIND_LABELS.get(k, k) for k in kinds]
    what = " et ".join([", ".join(labels[:-1]), labels[-1]]) if len(labels) > 1 else labels[0]
    if annees:
        lo, hi = min(annees), max(annees)
        what += f" {lo}" if lo == hi else f" {lo} à {hi}"
    if not rows:
        return f"Source : {what}"
    latest = max(r[1] for r in rows)
    return f"Source : {what}, import du {fmt.date_fr(latest)}"


# The active filters in one French sentence, as the pages print them under their title.
resume_filtres = queries.resume_filtres


def _bars_height(n: int) -> int:
    """Bars thick enough to read on a projector, whatever their number."""
    return max(320, min(600, 56 * n))


def _empty(type_: str, titre: str, message: str, params: dict) -> Slide:
    return Slide(type=type_, titre=titre, vide=message, params=params)


NO_ACTION = "Aucune action ne correspond aux filtres choisis."


# --- the slides ------------------------------------------------------------------------------------------


def chiffres_cles(con, f: Filtres, annee: int | None = None, annee_ref: int | None = None, **_) -> Slide:
    """Headline figures of one year: granted amount, actions, porteurs, quartiers, crédits spécifiques."""
    annee = _year(con, f, annee)
    if annee is None:
        return _empty("chiffres_cles", "Chiffres clés", NO_ACTION, {})
    k = queries.kpis(con, f.with_(annees=(annee,)))
    titre = (f"En {annee}, {fmt.euros(k['montant_accorde'])} accordés à {fmt.nombre(k['nb_actions'])} actions "
             f"dans {fmt.nombre(k['nb_qpv'])} quartiers")
    chiffres = [
        (f"Montant accordé {annee}", fmt.euros(k["montant_accorde"])),
        ("Actions financées", fmt.nombre(k["nb_actions"])),
        ("Porteurs de projet", fmt.nombre(k["nb_porteurs"])),
        ("Quartiers concernés", fmt.nombre(k["nb_qpv"])),
        ("Part des crédits spécifiques", fmt.pourcent(k["part_specifique"])),
    ]
    depots = queries.depots_en_instruction(con, f)
    if depots["nb"]:
        chiffres.append((f"Dépôts en cours d'instruction {depots['annee']}", fmt.nombre(depots["nb"])))
    table = pd.DataFrame({
        "Indicateur": [f"Montant accordé {annee} (€)", "Actions financées", "Porteurs de projet",
                       "Quartiers concernés", "Crédits spécifiques (€)", "Droit commun (€)",
                       f"Dossiers refusés {annee}", f"Dossiers abandonnés {annee}",
                       f"Dépôts en cours d'instruction {depots['annee'] or annee}"],
        "Valeur": [k["montant_accorde"], k["nb_actions"], k["nb_porteurs"], k["nb_qpv"],
                   k["montant_specifique"], k["montant_droit_commun"], k["nb_refusees"], k["nb_abandonnees"],
                   depots["nb"]],
    })
    notes = [queries.REGLE_ACTIONS]
    apart = queries.phrase_hors_financement(k, annee, depots)
    if apart:
        notes.append(apart)
    return Slide("chiffres_cles", titre, chiffres, None, table, f"Chiffres clés {annee}",
                 source(con, FUNDING_SOURCES, (annee,)), notes, params={"annee": annee})


def evolution(con, f: Filtres, annee: int | None = None, annee_ref: int | None = None, **_) -> Slide:
    """Granted amounts per year and funder, with the change between two years in the title."""
    fin = queries.par_annee_financeur(con, f)
    fin = fin[fin["montant_accorde"] > 0]
    if fin.empty:
        return _empty("evolution", "Évolution des financements", NO_ACTION, {})
    years = sorted(int(y) for y in fin["annee"].unique())
    annee = _year(con, f, annee) or years[-1]
    # As on the overview: compared with 2016 (first full year of the 2015 contracts) when there is one.
    default_ref = 2016 if 2016 in years and annee != 2016 else years[0]
    annee_ref = annee_ref if annee_ref in years and annee_ref != annee else default_ref
    evo = queries.evolution(con, f, annee, annee_ref)
    pct = evo["evolution_pct"]
    if pct is None or annee == annee_ref:
        titre = f"{fmt.euros(evo['montant'])} accordés en {annee}"
    else:
        sens = "augmenté" if pct >= 0 else "baissé"
        titre = f"Les financements ont {sens} de {fmt.pourcent(abs(pct), 0)} entre {annee_ref} et {annee}"
    fin = fin.assign(financeur_libelle=fin["financeur_libelle"].fillna(fin["financeur"]))
    chart = charts.stacked_by_year(fin, "financeur_libelle", "Financeur", height=520)
    table = (fin.pivot_table(index="financeur_libelle", columns="annee", values="montant_accorde", aggfunc="sum",
                             fill_value=0).reset_index().rename(columns={"financeur_libelle": "Financeur"}))
    table.columns = [str(c) for c in table.columns]
    table = table.sort_values(str(years[-1]), ascending=False, ignore_index=True)
    chiffres = [(f"Montant accordé {annee_ref}", fmt.euros(evo["montant_ref"])),
                (f"Montant accordé {annee}", fmt.euros(evo["montant"]))]
    if pct is not None and annee != annee_ref:
        chiffres.append(("Évolution", fmt.pourcent(pct, 1, signe=True)))
    return Slide("evolution", titre, chiffres, chart, table, "Financements par année et financeur",
                 source(con, FUNDING_SOURCES, tuple(years)), params={"annee": annee, "annee_ref": annee_ref})


def financeurs(con, f: Filtres, annee: int | None = None, **_) -> Slide:
    """Granted amount per funder in one year, largest first."""
    annee = _year(con, f, annee)
    df = queries.par_annee_financeur(con, f.with_(annees=(annee,))) if annee else pd.DataFrame()
    if df.empty or df["montant_accorde"].sum() == 0:
        return _empty("financeurs", "Financements par financeur", NO_ACTION, {})
    df = df[df["montant_accorde"] > 0].assign(
        financeur_libelle=lambda d: d["financeur_libelle"].fillna(d["financeur"]))
    df = df.groupby("financeur_libelle", as_index=False)["montant_accorde"].sum()
    tot = df["montant_accorde"].sum()
    df["part"] = 100 * df["montant_accorde"] / tot
    df = df.sort_values("montant_accorde", ascending=False, ignore_index=True)
    top = df.iloc[0]
    titre = (f"En {annee}, « {top['financeur_libelle']} » apporte {fmt.pourcent(top['part'], 0)} "
             f"des {fmt.euros(tot)} accordés")
    chart = charts.horizontal_bars(df, "financeur_libelle", "montant_accorde", height=_bars_height(len(df)))
    table = df.rename(columns={"financeur_libelle": "Financeur", "montant_accorde": "Montant accordé",
                               "part": "Part (%)"})
    return Slide("financeurs", titre, [(f"Montant accordé {annee}", fmt.euros(tot)),
                                       ("Financeurs", fmt.nombre(len(df)))], chart, table,
                 f"Financements par financeur {annee}", source(con, FUNDING_SOURCES, (annee,)),
                 params={"annee": annee})


def piliers(con, f: Filtres, annee: int | None = None, **_) -> Slide:
    """Granted amount per pillar in one year, with its share."""
    annee = _year(con, f, annee)
    pil = queries.par_pilier(con, f.with_(annees=(annee,))) if annee else pd.DataFrame()
    pil = pil[pil["montant_accorde"] > 0] if not pil.empty else pil
    if pil.empty:
        return _empty("piliers", "Répartition par pilier", NO_ACTION, {})
    pil = pil.assign(pilier_libelle=pil["pilier_libelle"].fillna(pil["pilier"]))
    top = pil.iloc[0]
    titre = f"En {annee}, « {top['pilier_libelle']} » reçoit {fmt.pourcent(top['part'], 0)} des financements"
    chart = charts.horizontal_bars(pil, "pilier_libelle", "montant_accorde", height=_bars_height(len(pil)))
    table = pil[["pilier_libelle", "montant_accorde", "part", "nb_actions"]].rename(columns={
        "pilier_libelle": "Pilier", "montant_accorde": "Montant accordé", "part": "Part (%)",
        "nb_actions": "Actions"})
    return Slide("piliers", titre, [(f"Montant accordé {annee}", fmt.euros(pil["montant_accorde"].sum())),
                                    ("Piliers financés", fmt.nombre(len(pil)))], chart, table,
                 f"Financements par pilier {annee}", source(con, FUNDING_SOURCES, (annee,)),
                 params={"annee": annee})


def qpv_map_chart(contours: pd.DataFrame, per_qpv: pd.DataFrame, communes: pd.DataFrame | None,
                  value: str = "montant_accorde", title: str = "Montant accordé", height: int = 600):
    """Choropleth of the quartiers (Altair geoshape: drawn by vl-convert for the PDF as well as in the page)."""
    merged = contours.merge(per_qpv, on="code_qpv", how="inner")
    if merged.empty:
        return None
    bounds = maps.classes(merged[value])
    colours = ["#{:02x}{:02x}{:02x}".format(*c) for c in maps.CLASS_COLOURS[-len(bounds):]] if bounds else []
    features = [{"type": "Feature", "geometry": json.loads(r.geojson),
                 "properties": {"nom": r.nom_qpv, "code": r.code_qpv, "valeur": float(getattr(r, value))}}
                for r in merged.itertuples(index=False)]
    layers = []
    if communes is not None and not communes.empty:
        cfeat = [{"type": "Feature", "geometry": json.loads(g), "properties": {"nom": n}}
                 for n, g in zip(communes["nom"], communes["geojson"], strict=True)]
        layers.append(alt.Chart(alt.Data(values=cfeat)).mark_geoshape(fill="#f3f3f3", stroke="#8a8a8a",
                                                                        strokeWidth=0.8))
    scale = (alt.Scale(type="threshold", domain=bounds[:-1], range=colours) if len(bounds) > 1
             else alt.Scale(range=colours or ["#3b528b"]))
    layers.append(alt.Chart(alt.Data(values=features)).mark_geoshape(stroke="#222", strokeWidth=0.7).encode(
        color=alt.Color("properties.valeur:Q", title=title, scale=scale,
                        legend=alt.Legend(format="$,.0f", orient="right", labelFontSize=15, titleFontSize=15,
                                          titleLimit=400)),
        tooltip=[alt.Tooltip("properties.nom:N", title="Quartier"),
                 alt.Tooltip("properties.valeur:Q", title=title, format="$,.0f")]))
    chart = alt.layer(*layers).project("mercator").properties(
        height=height, width=height,
        usermeta={"embedOptions": {"formatLocale": charts.LOCALE_FR["number"]}})
    return chart.configure(locale=charts.LOCALE_FR, font="Marianne, Arial, sans-serif").configure_view(
        strokeWidth=0)


def quartiers(con, f: Filtres, annee: int | None = None, **_) -> Slide:
    """Map of the granted amount per quartier (equal shares) in one year, with the table."""
    annee = _year(con, f, annee)
    per = queries.par_qpv(con, f.with_(annees=(annee,))) if annee else pd.DataFrame()
    per = per[per["montant_accorde"] > 0] if not per.empty else per
    if per.empty:
        return _empty("quartiers", "Financements par quartier",
                      "Aucun quartier ne reçoit de financement pour ces filtres.", {})
    top = per.iloc[0]
    titre = f"En {annee}, le quartier {top['nom_qpv']} reçoit le plus : {fmt.euros(top['montant_accorde'])}"
    codes = sorted({c for cs in per["communes_insee"].dropna() for c in str(cs).split("|") if c})
    chart = qpv_map_chart(queries.qpv_contours(con), per, queries.commune_contours(con, codes),
                          title=f"Montant accordé {annee}")
    table = per[["nom_qpv", "code_qpv", "montant_accorde", "nb_actions", "population",
                 "montant_par_habitant"]].rename(columns={
        "nom_qpv": "Quartier", "code_qpv": "Code", "montant_accorde": "Montant accordé", "nb_actions": "Actions",
        "population": "Population", "montant_par_habitant": "€ par habitant"})
    notes = [SPLIT_NOTE]
    if chart is None:
        notes.insert(0, "Aucun contour n'est disponible pour ces quartiers : voir le tableau.")
    return Slide("quartiers", titre, [("Quartiers financés", fmt.nombre(len(per)))], chart, table,
                 f"Financements par quartier {annee}", source(con, FUNDING_SOURCES, (annee,)), notes,
                 params={"annee": annee})


def fiche_qpv(con, f: Filtres, annee: int | None = None, qpv: str | None = None, **_) -> Slide:
    """One quartier's fiche: what it received in one year, per pillar."""
    per_all = queries.par_qpv(con, f)
    if per_all.empty:
        return _empty("fiche_qpv", "Fiche quartier", NO_ACTION, {})
    if qpv not in set(per_all["code_qpv"]):
        # No quartier chosen: the one that receives the most in the headline year.
        year = _year(con, f, annee)
        per_year = queries.par_qpv(con, f.with_(annees=(year,))) if year else per_all
        qpv = str((per_year if not per_year.empty else per_all).iloc[0]["code_qpv"])
    fq = f.with_(qpv=(qpv,))
    annee = _year(con, fq, annee)
    row = per_all[per_all["code_qpv"] == qpv].iloc[0]
    nom = row["nom_qpv"] if isinstance(row["nom_qpv"], str) else qpv
    if annee is None:
        return _empty("fiche_qpv", f"Quartier {nom}", NO_ACTION, {"qpv": qpv})
    k = queries.aggregate(con, fq.with_(annees=(annee,)), porteurs=True).iloc[0]
    pil = queries.par_pilier(con, fq.with_(annees=(annee,)))
    pil = pil[pil["montant_accorde"] > 0].assign(pilier_libelle=lambda d: d["pilier_libelle"].fillna(d["pilier"]))
    pop = row["population"]
    par_hab = float(k["montant_accorde"]) / pop if pd.notna(pop) and pop else None
    titre = f"Quartier {nom} : {fmt.euros(k['montant_accorde'])} accordés en {annee}"
    if not pil.empty:
        titre += f", dont {fmt.pourcent(pil.iloc[0]['part'], 0)} pour « {pil.iloc[0]['pilier_libelle']} »"
    chiffres = [(f"Montant accordé {annee}", fmt.euros(k["montant_accorde"])),
                ("Actions", fmt.nombre(k["nb_actions"])), ("Porteurs", fmt.nombre(k["nb_porteurs"])),
                ("Population", fmt.nombre(pop)), ("Par habitant", fmt.euros(par_hab, 1))]
    chart = (charts.horizontal_bars(pil, "pilier_libelle", "montant_accorde", height=_bars_height(len(pil)))
             if not pil.empty else None)
    table = pil[["pilier_libelle", "montant_accorde", "part", "nb_actions"]].rename(columns={
        "pilier_libelle": "Pilier", "montant_accorde": "Montant accordé", "part": "Part (%)",
        "nb_actions": "Actions"})
    return Slide("fiche_qpv", titre, chiffres, chart, table, f"Quartier {nom} {annee}",
                 source(con, FUNDING_SOURCES, (annee,)), [SPLIT_NOTE],
                 vide=None if not pil.empty else "Aucun financement accordé cette année-là.",
                 params={"annee": annee, "qpv": qpv})


def cooperation(con, f: Filtres, enquete: str | None = None, **_) -> Slide:
    """The survey's cooperation grid: share of respondents at each level, per partner (filters do not apply)."""
    from cdv_core import survey_charts, surveys

    liste = surveys.enquetes(con)
    grids = []
    for code in liste["enquete"]:
        qs = surveys.questions(con, code)
        grid = qs[(qs["echelle"] == surveys.COOPERATION.code) & qs["grille"]]
        if not grid.empty:
            grids.append((code, grid.iloc[0]))
    if not grids:
        return _empty("cooperation", "Coopération entre partenaires",
                      "Aucune enquête ne contient de grille de coopération.", {})
    code, question = next(((c, q_) for c, q_ in grids if c == enquete), grids[0])
    annee = int(liste.loc[liste["enquete"] == code, "annee"].iloc[0])
    seuil = surveys.seuil_anonymat()
    res = surveys.resultats(con, code, question["question"], (), seuil)
    niveaux = list(surveys.COOPERATION.niveaux)
    shown = res[~res["masque"].astype(bool)]
    if shown.empty:
        return _empty("cooperation", f"Coopération entre partenaires ({annee})",
                      surveys.message_anonymat(seuil), {"enquete": code})
    dynamique = (shown[shown["reponse"].isin(niveaux[-2:])].groupby("item", sort=False)["pct"].sum()
                 .astype(float).sort_values(ascending=False))
    top, share = dynamique.index[0], float(dynamique.iloc[0])
    titre = (f"Enquête {annee} : avec « {top or 'tous les partenaires'} », {fmt.pourcent(share, 0)} des répondants décrivent "
             "une coopération dynamique")
    chart = survey_charts.barres_100(res, niveaux, surveys.COOPERATION, seuil, legende="Degré de coopération")
    table = surveys.tableau(res, niveaux, seuil, "Partenaire").rename(columns={n: f"{n} (%)" for n in niveaux})
    nb = surveys.nb_repondants(con, code)
    libelle_enquete = str(liste.loc[liste["enquete"] == code, "libelle"].iloc[0])
    notes = ["Échelle, du plus faible au plus fort : " + " < ".join(niveaux) + ". Coopération dynamique : les "
             "deux derniers degrés. Les filtres du tableau de bord ne s'appliquent pas aux enquêtes.",
             f"Aucun chiffre sous {seuil} réponses (anonymat)."]
    return Slide("cooperation", titre, [("Répondants", fmt.nombre(nb)), ("Partenaires", fmt.nombre(len(dynamique)))],
                 chart, table, f"Coopération {code}", f"{libelle_enquete} · " + source(con, ("enquete",), (annee,)),
                 notes, params={"enquete": code})


CATALOGUE: dict[str, SlideType] = {
    "chiffres_cles": SlideType("Chiffres clés de l'année", chiffres_cles, ("annee",)),
    "evolution": SlideType("Évolution des financements par financeur", evolution, ("annee", "annee_ref")),
    "financeurs": SlideType("Financements par financeur", financeurs, ("annee",)),
    "piliers": SlideType("Répartition par pilier", piliers, ("annee",)),
    "quartiers": SlideType("Carte des financements par quartier", quartiers, ("annee",)),
    "fiche_qpv": SlideType("Fiche d'un quartier", fiche_qpv, ("annee", "qpv")),
    "cooperation": SlideType("Enquête : grille de coopération entre partenaires", cooperation, ("enquete",)),
}
DEFAULT_SEQUENCE = ("chiffres_cles", "evolution", "financeurs", "piliers", "quartiers")


def libelle(spec: dict) -> str:
    """How a slide of a séance is named in the list ("Répartition par pilier (2022)")."""
    kind = CATALOGUE.get(spec.get("type", ""))
    text = kind.libelle if kind else str(spec.get("type"))
    extra = [str(spec[p]) for p in ("qpv", "enquete", "annee") if spec.get(p)]
    return text + (f" ({', '.join(extra)})" if extra else "")


def build(con: duckdb.DuckDBPyConnection, f: Filtres, type_: str, **params) -> Slide:
    """The slide `type_` for the filters; unknown types give a slide that says so (a séance may be older)."""
    kind = CATALOGUE.get(type_)
    if kind is None:
        return _empty(type_, "Diapositive indisponible",
                      f"Cette diapositive (« {type_} ») n'existe plus dans cette version du tableau de bord.", {})
    clean = {k: v for k, v in params.items() if k in kind.params and v not in (None, "")}
    for key in ("annee", "annee_ref"):
        if key in clean:
            try:
                clean[key] = int(clean[key])
            except (TypeError, ValueError):
                clean.pop(key)
    return kind.builder(con, f, **clean)


def spec_args(spec: dict) -> tuple[str, dict]:
    """(type, params) of a séance's slide spec, params hashable (for a cached call)."""
    return spec.get("type", ""), {k: v for k, v in spec.items() if k != "type"}
