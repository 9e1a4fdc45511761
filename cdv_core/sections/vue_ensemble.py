"""Sections of the overview (vue d'ensemble) and of the COPIL's money slides: key figures, evolution per
funder, funders, pillars, map of the quartiers, one quartier's fiche."""

from __future__ import annotations

import json

import pandas as pd

from cdv_core import charts, fmt, maps, palette, queries, tables
from cdv_core import vl as alt
from cdv_core.filters import Filtres
from cdv_core.sections.base import (
    FUNDING_SOURCES,
    NO_ACTION,
    SPLIT_NOTE,
    Chiffre,
    Section,
    annee_affichee,
    annee_de_croissance,
    annee_en_cours,
    annee_reference,
    annees_disponibles,
    bars_height,
    choix_reference,
    empty,
    libelle_annee,
    note_annee,
    pivot_by_year,
    query,
    register,
    source,
    titre_evolution,
)


@register("chiffres_cles", "Chiffres clés de l'année", ("annee",), slide=True)
def chiffres_cles(con, f: Filtres, annee: int | None = None, annee_ref: int | None = None, **_) -> Section:
    """Headline figures of one year: granted amount, actions, porteurs, quartiers, crédits spécifiques."""
    annee = annee_affichee(con, f, annee)
    if annee is None:
        return empty("chiffres_cles", "Chiffres clés", NO_ACTION, {})
    k = queries.kpis(con, f.with_(annees=(annee,)))
    titre = (f"En {annee}, {fmt.euros(k['montant_accorde'])} accordés à {fmt.compte(k['nb_actions'], 'action')} "
             f"dans {fmt.compte(k['nb_qpv'], 'quartier')}")
    chiffres = [
        (f"Montant accordé {annee}", fmt.euros(k["montant_accorde"])),
        ("Actions financées", fmt.nombre(k["nb_actions"])),
        ("Porteurs de projet", fmt.nombre(k["nb_porteurs"])),
        ("Quartiers concernés", fmt.nombre(k["nb_qpv"])),
        ("Part des crédits spécifiques", fmt.pourcent(k["part_specifique"])),
    ]
    # Files not financed are counted apart (queries.REGLE_ACTIONS): the year in progress's pending files.
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
    return Section("chiffres_cles", titre, chiffres, None, table, f"Chiffres clés {annee}",
                 source(con, FUNDING_SOURCES, (annee,)), notes, params={"annee": annee})


@register("evolution", "Évolution des financements par financeur", ("annee", "annee_ref"), slide=True)
def evolution(con, f: Filtres, annee: int | None = None, annee_ref: int | None = None, **_) -> Section:
    """Granted amounts per year and funder, with the change between two years in the title."""
    fin = queries.par_annee_financeur(con, f)
    fin = fin[fin["montant_accorde"] > 0]
    if fin.empty:
        return empty("evolution", "Évolution des financements", NO_ACTION, {})
    years = sorted(int(y) for y in fin["annee"].unique())
    choisie = annee
    annee = annee_affichee(con, f, annee) or years[-1]
    annee = annee_de_croissance(years, annee, choisie if choisie == annee else None)
    annee_ref = annee_reference(years, annee, annee_ref)
    evo = queries.evolution(con, f, annee, annee_ref)
    pct = evo["evolution_pct"]
    titre = titre_evolution(evo["montant"], evo["montant_ref"], annee, annee_ref)
    fin = fin.assign(financeur_libelle=fin["financeur_libelle"].fillna(fin["financeur"]),
                     famille=[palette.famille_libelle(c, code)
                              for c, code in zip(fin["categorie"], fin["financeur"], strict=True)])
    # Projected and printed: one colour per family of funders (five), the detail per funder in the table.
    chart = charts.stacked_by_year(fin, "famille", "Financeurs", order=palette.FAMILLE_LIBELLES, height=520,
                                   partielle=annee_en_cours())
    table = (tables.pivot_sum(fin, ["financeur_libelle", "famille"], "annee", "montant_accorde").reset_index()
             .rename(columns={"financeur_libelle": "Financeur", "famille": "Famille"}))
    table.columns = [str(c) for c in table.columns]
    table = table.sort_values(str(years[-1]), ascending=False, ignore_index=True)
    chiffres = [(f"Montant accordé {annee_ref}", fmt.euros(evo["montant_ref"])),
                (f"Montant accordé {libelle_annee(annee)}", fmt.euros(evo["montant"]))]
    if pct is not None and annee != annee_ref:
        chiffres.append(("Évolution", fmt.pourcent(pct, 1, signe=True)))
    notes = note_annee(choisie, annee)
    if annee_en_cours() in years and annee != annee_en_cours():
        notes.append(f"{annee_en_cours()} est en cours : ses montants sont partiels (colonne pâle).")
    return Section("evolution", titre, chiffres, chart, table, "Financements par année et financeur",
                 source(con, FUNDING_SOURCES, tuple(years)), notes,
                 params={"annee": annee, "annee_ref": annee_ref})


@register("financeurs", "Financements par financeur", ("annee",), slide=True)
def financeurs(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """Granted amount per funder in one year, largest first."""
    annee = annee_affichee(con, f, annee)
    df = queries.par_annee_financeur(con, f.with_(annees=(annee,))) if annee else pd.DataFrame()
    if df.empty or df["montant_accorde"].sum() == 0:
        return empty("financeurs", "Financements par financeur", NO_ACTION, {})
    df = df[df["montant_accorde"] > 0].assign(
        financeur_libelle=lambda d: d["financeur_libelle"].fillna(d["financeur"]),
        famille=lambda d: [palette.famille_libelle(c, code) for c, code in zip(d["categorie"], d["financeur"],
                                                                             strict=True)])
    df = df.groupby(["financeur_libelle", "famille"], as_index=False)["montant_accorde"].sum()
    tot = df["montant_accorde"].sum()
    df["part"] = 100 * df["montant_accorde"] / tot
    df = df.sort_values("montant_accorde", ascending=False, ignore_index=True)
    top = df.iloc[0]
    titre = (f"En {annee}, « {top['financeur_libelle']} » apporte {fmt.pourcent(top['part'], 0)} "
             f"des {fmt.euros(tot)} accordés")
    # One bar per family of funders (readable projected), the detail per funder in the table.
    fam = df.groupby("famille", as_index=False)["montant_accorde"].sum()
    chart = charts.horizontal_bars(fam, "famille", "montant_accorde", height=bars_height(len(fam)),
                                   colour_by_label=True)
    table = df[["financeur_libelle", "famille", "montant_accorde", "part"]].rename(columns={
        "financeur_libelle": "Financeur", "famille": "Famille", "montant_accorde": "Montant accordé",
        "part": "Part (%)"})
    return Section("financeurs", titre, [(f"Montant accordé {annee}", fmt.euros(tot)),
                                       ("Financeurs", fmt.nombre(len(df)))], chart, table,
                 f"Financements par financeur {annee}", source(con, FUNDING_SOURCES, (annee,)),
                 params={"annee": annee})


@register("piliers", "Répartition par pilier", ("annee",), slide=True)
def piliers(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """Granted amount per pillar in one year, with its share."""
    annee = annee_affichee(con, f, annee)
    pil = queries.par_pilier(con, f.with_(annees=(annee,))) if annee else pd.DataFrame()
    pil = pil[pil["montant_accorde"] > 0] if not pil.empty else pil
    if pil.empty:
        return empty("piliers", "Répartition par pilier", NO_ACTION, {})
    pil = pil.assign(pilier_libelle=pil["pilier_libelle"].fillna(pil["pilier"]))
    top = pil.iloc[0]
    titre = f"En {annee}, « {top['pilier_libelle']} » reçoit {fmt.pourcent(top['part'], 0)} des financements"
    chart = charts.horizontal_bars(pil, "pilier_libelle", "montant_accorde", height=bars_height(len(pil)))
    table = pil[["pilier_libelle", "montant_accorde", "part", "nb_actions"]].rename(columns={
        "pilier_libelle": "Pilier", "montant_accorde": "Montant accordé", "part": "Part (%)",
        "nb_actions": "Actions"})
    return Section("piliers", titre, [(f"Montant accordé {annee}", fmt.euros(pil["montant_accorde"].sum())),
                                    ("Piliers financés", fmt.nombre(len(pil)))], chart, table,
                 f"Financements par pilier {annee}", source(con, FUNDING_SOURCES, (annee,)),
                 params={"annee": annee})


def qpv_map_chart(contours: pd.DataFrame, per_qpv: pd.DataFrame, communes: pd.DataFrame | None,
                  value: str = "montant_accorde", title: str = "Montant accordé", height: int = 600):
    """Choropleth of the quartiers (Altair geoshape: drawn by vl-convert for the PDF as well as in the page)."""
    merged = contours.merge(per_qpv, on="code_qpv", how="inner")
    if merged.empty and (communes is None or communes.empty):
        return None
    bounds = maps.classes(merged[value])
    colours = ["#{:02x}{:02x}{:02x}".format(*c) for c in maps.CLASS_COLOURS[-len(bounds):]] if bounds else []
    # One class (one quartier, or equal amounts): one colour, named by its amount in a legend of one swatch (a
    # colour ramp of one colour on a point domain drew no quartier on the slide and failed in the PDF).
    single = fmt.euros(bounds[0]) if len(bounds) == 1 else None if bounds else "—"
    features = [{"type": "Feature", "geometry": json.loads(r.geojson),
                 "properties": {"nom": r.nom_qpv, "code": r.code_qpv, "valeur": float(getattr(r, value)),
                                **({"classe": single} if single else {})}}
                for r in merged.itertuples(index=False)]
    layers = []
    if communes is not None and not communes.empty:
        cfeat = [{"type": "Feature", "geometry": json.loads(g), "properties": {"nom": n}}
                 for n, g in zip(communes["nom"], communes["geojson"], strict=True)]
        layers.append(alt.Chart(alt.Data(values=cfeat)).mark_geoshape(fill="#f3f3f3", stroke="#8a8a8a",
                                                                        strokeWidth=0.8))
    legend = dict(orient="right", labelFontSize=15, titleFontSize=15, titleLimit=400)
    color = (alt.Color("properties.classe:N", title=title, scale=alt.Scale(domain=[single], range=colours[:1] or ["#c8c8c8"]),
                       legend=alt.Legend(**legend)) if single else
             alt.Color("properties.valeur:Q", title=title,
                       scale=alt.Scale(type="threshold", domain=bounds[:-1], range=colours),
                       legend=alt.Legend(format="$,.0f", **legend)))
    if not features:  # no quartier has a contour: their communes still show where they are
        return alt.layer(*layers).project("mercator").properties(height=height, width=height).configure_view(
            strokeWidth=0)
    layers.append(alt.Chart(alt.Data(values=features)).mark_geoshape(stroke="#222", strokeWidth=0.7).encode(
        color=color,
        tooltip=[alt.Tooltip("properties.nom:N", title="Quartier"),
                 alt.Tooltip("properties.valeur:Q", title=title, format="$,.0f")]))
    chart = alt.layer(*layers).project("mercator").properties(
        height=height, width=height,
        usermeta={"embedOptions": {"formatLocale": charts.LOCALE_FR["number"]}})
    return chart.configure(aria=False, mark={"aria": False}, locale=charts.LOCALE_FR, font="Marianne, Arial, sans-serif").configure_view(
        strokeWidth=0)


@register("quartiers", "Carte des financements par quartier", ("annee",), slide=True)
def quartiers(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """Map of the granted amount per quartier (equal shares) in one year, with the table."""
    annee = annee_affichee(con, f, annee)
    per = queries.par_qpv(con, f.with_(annees=(annee,))) if annee else pd.DataFrame()
    per = per[per["montant_accorde"] > 0] if not per.empty else per
    if per.empty:
        return empty("quartiers", "Financements par quartier",
                      "Aucun quartier ne reçoit de financement pour ces filtres.", {})
    top = per.iloc[0]
    titre = f"En {annee}, le quartier {top['nom_qpv']} reçoit le plus : {fmt.euros(top['montant_accorde'])}"
    terr = maps.territoire(con, tuple(per["code_qpv"]))  # only the contours of these quartiers, framed on them
    chart = qpv_map_chart(terr.qpv, per, terr.communes, title=f"Montant accordé {annee}")
    table = per[["nom_qpv", "code_qpv", "montant_accorde", "nb_actions", "population",
                 "montant_par_habitant"]].rename(columns={
        "nom_qpv": "Quartier", "code_qpv": "Code", "montant_accorde": "Montant accordé", "nb_actions": "Actions",
        "population": "Population", "montant_par_habitant": "€ par habitant"})
    notes = [SPLIT_NOTE]
    missing = maps.message_manquants(terr.manquants, len(per))
    if missing:
        notes.insert(0, missing)
    return Section("quartiers", titre, [("Quartiers financés", fmt.nombre(len(per)))], chart, table,
                 f"Financements par quartier {annee}", source(con, FUNDING_SOURCES, (annee,)), notes,
                 params={"annee": annee})


@register("fiche_qpv", "Fiche d'un quartier", ("annee", "qpv"), slide=True)
def fiche_qpv(con, f: Filtres, annee: int | None = None, qpv: str | None = None, **_) -> Section:
    """One quartier's fiche: what it received in one year, per pillar."""
    per_all = queries.par_qpv(con, f)
    if per_all.empty:
        return empty("fiche_qpv", "Fiche quartier", NO_ACTION, {})
    if qpv not in set(per_all["code_qpv"]):
        # No quartier chosen: the one that receives the most in the headline year.
        year = annee_affichee(con, f, annee)
        per_year = queries.par_qpv(con, f.with_(annees=(year,))) if year else per_all
        qpv = str((per_year if not per_year.empty else per_all).iloc[0]["code_qpv"])
    fq = f.with_(qpv=(qpv,))
    annee = annee_affichee(con, fq, annee)
    row = per_all[per_all["code_qpv"] == qpv].iloc[0]
    nom = row["nom_qpv"] if isinstance(row["nom_qpv"], str) else qpv
    if annee is None:
        return empty("fiche_qpv", f"Quartier {nom}", NO_ACTION, {"qpv": qpv})
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
    chart = (charts.horizontal_bars(pil, "pilier_libelle", "montant_accorde", height=bars_height(len(pil)))
             if not pil.empty else None)
    table = pil[["pilier_libelle", "montant_accorde", "part", "nb_actions"]].rename(columns={
        "pilier_libelle": "Pilier", "montant_accorde": "Montant accordé", "part": "Part (%)",
        "nb_actions": "Actions"})
    return Section("fiche_qpv", titre, chiffres, chart, table, f"Quartier {nom} {annee}",
                 source(con, FUNDING_SOURCES, (annee,)), [SPLIT_NOTE],
                 vide=None if not pil.empty else "Aucun financement accordé cette année-là.",
                 params={"annee": annee, "qpv": qpv})


# --- the overview page (vue d'ensemble): its title and figures, funders per year, pillars, quartiers ---------

NO_ACTION_PAGE = ("Aucune action ne correspond aux filtres choisis. Élargissez la sélection ou réinitialisez les "
                  "filtres.")
CLIC_PILIER = "clic_pilier"


@register("ve_annees", "Années de la vue d'ensemble", ("annee", "annee_ref"))
def ve_annees(con, f: Filtres, annee: int | None = None, annee_ref: int | None = None, **_) -> Section:
    """The years with actions, the year shown (chosen, else the default rule) and the reference year."""
    years = annees_disponibles(con, f)
    if not years:
        return empty("ve_annees", "Vue d'ensemble", NO_ACTION_PAGE)
    default = annee_affichee(con, f, None)
    annee = annee if annee in years else default
    if annee is None:
        annee = years[-1]
    refs = choix_reference(years, annee)
    return Section("ve_annees", "Vue d'ensemble", params={
        "annees": years, "annee": annee, "defaut": default, "references": refs,
        "annee_ref": annee_reference(refs, annee, annee_ref)})


@register("ve_entete", "Vue d'ensemble : chiffres clés", ("annee", "annee_ref"))
def ve_entete(con, f: Filtres, annee: int | None = None, annee_ref: int | None = None, **_) -> Section:
    """The change since the reference year and the year's amount in the title; the headline figures."""
    ctx = ve_annees(con, f, annee, annee_ref)
    if ctx.vide:
        return ctx
    annee, annee_ref = ctx.params["annee"], ctx.params["annee_ref"]
    k = query(con, queries.kpis, f.with_(annees=(annee,)))
    evo = query(con, queries.evolution, f, annee, annee_ref)
    # One year only (or the reference equal to the year shown): no change to state, never "0 % entre 2022
    # et 2022"; a change that rounds to 0 % is "stable"; the year in progress is said to be partial.
    pct = None if annee_ref == annee else evo["evolution_pct"]
    en_cours = " (année en cours, montants partiels)" if annee == annee_en_cours() else ""
    accordes = f"{fmt.euros(k['montant_accorde'])} accordés en {annee}"
    if pct is None:
        titre = (f"En {annee}, {fmt.euros(k['montant_accorde'])} accordés à {fmt.compte(k['nb_actions'], 'action')}"
                 f"{en_cours}")
    elif round(abs(pct)) == 0:
        titre = f"Les financements sont stables entre {annee_ref} et {annee} : {accordes}{en_cours}"
    else:
        sens = "augmenté" if pct >= 0 else "baissé"
        titre = (f"Les financements ont {sens} de {fmt.pourcent(abs(pct), 0)} entre {annee_ref} et {annee}"
                 f" : {accordes}{en_cours}")
    chiffres = [
        Chiffre(f"Montant accordé {annee}", fmt.euros(k["montant_accorde"]),
                delta=None if pct is None else f"{fmt.pourcent(pct, 1, signe=True)} par rapport à{fmt.NBSP}{annee_ref}"
                .replace("−", "-"),
                aide="Somme des montants accordés par tous les financeurs aux actions retenues par les filtres."),
        Chiffre("Actions financées", fmt.nombre(k["nb_actions"])),
        Chiffre("Porteurs de projet", fmt.nombre(k["nb_porteurs"])),
        Chiffre("Quartiers concernés", fmt.nombre(k["nb_qpv"])),
        Chiffre("Crédits spécifiques", fmt.pourcent(k["part_specifique"]),
                aide=f"Crédits de la politique de la ville : {fmt.euros(k['montant_specifique'])} ; "
                     f"droit commun : {fmt.euros(k['montant_droit_commun'])}."),
    ]
    return Section("ve_entete", titre, chiffres, source=source(con, FUNDING_SOURCES, (annee_ref, annee)),
                   params={"annee": annee, "annee_ref": annee_ref})


@register("ve_financeurs", "Financements par année et par financeur")
def ve_financeurs(con, f: Filtres, **_) -> Section:
    """Granted amounts per year and funder, first and last years' totals in a note."""
    # The amount of each year with financed actions (no count of actions: the page shows none here).
    by_year = query(con, queries.aggregate, f, ("annee",), actions=False)
    by_year = by_year[by_year["annee"].isin(annees_disponibles(con, f))]
    if by_year.empty:
        return empty("ve_financeurs", "Financements par année et par financeur", NO_ACTION)
    years = [int(y) for y in by_year["annee"]]
    first, last = years[0], years[-1]
    tot_first = float(by_year.loc[by_year["annee"] == first, "montant_accorde"].sum())
    tot_last = float(by_year.loc[by_year["annee"] == last, "montant_accorde"].sum())
    intro = ([f"{fmt.euros(tot_first)} en {first}, {fmt.euros(tot_last)} en {last}."]
             if tot_first and first != last else [])
    fin = query(con, queries.par_annee_financeur, f)
    fin = fin.assign(financeur_libelle=fin["financeur_libelle"].fillna(fin["financeur"]))
    chart = charts.stacked_by_year(fin, "financeur_libelle", "Financeur")
    table = pivot_by_year(fin, "financeur_libelle", "Financeur")
    return Section("ve_financeurs", f"Financements par année et par financeur, {fmt.periode(first, last)}", chart=chart,
                   table=table, table_nom="Financements par année et financeur",
                   source=source(con, FUNDING_SOURCES, tuple(years)), intro=intro,
                   formats={str(y): "euros" for y in years})


@register("ve_piliers", "Répartition par pilier (cliquable)", ("annee",), graphique="Répartition par pilier")
def ve_piliers(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """The pillars' bars of the overview: a click on one narrows the dashboard to it."""
    annee = annee_affichee(con, f, annee)
    pil = query(con, queries.par_pilier, f.with_(annees=(annee,))) if annee else pd.DataFrame()
    pil = pil[pil["montant_accorde"] > 0] if not pil.empty else pil
    if pil.empty:
        return empty("ve_piliers", f"Répartition par pilier en {annee}",
                     f"Aucun financement accordé en {annee} pour ces filtres.", {"annee": annee})
    pil = pil.assign(pilier_libelle=pil["pilier_libelle"].fillna(pil["pilier"]))
    top = pil.iloc[0]
    titre = f"En {annee}, « {top['pilier_libelle']} » reçoit {fmt.pourcent(top['part'], 0)} des financements"
    chart = charts.horizontal_bars(pil, "pilier_libelle", "montant_accorde", selection=CLIC_PILIER)
    table = pil[["pilier_libelle", "montant_accorde", "part", "nb_actions"]].rename(columns={
        "pilier_libelle": "Pilier", "montant_accorde": "Montant accordé", "part": "Part (%)",
        "nb_actions": "Actions"})
    return Section("ve_piliers", titre, chart=chart, table=table, table_nom=f"Financements par pilier {annee}",
                   source=source(con, FUNDING_SOURCES, (annee,)),
                   notes=["Cliquez sur un pilier pour filtrer tout le tableau de bord sur ce pilier."],
                   formats={"Montant accordé": "euros", "Part (%)": "pourcent", "Actions": "texte"},
                   params={"annee": annee, "selection": CLIC_PILIER,
                           "codes": dict(zip(pil["pilier_libelle"], pil["pilier"], strict=True))})


@register("ve_quartiers", "Financements par quartier (carte et tableau)", ("annee",))
def ve_quartiers(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """The quartier that receives the most in the title; every quartier in the table (the page draws the map)."""
    annee = annee_affichee(con, f, annee)
    per = query(con, queries.par_qpv, f.with_(annees=(annee,))) if annee else pd.DataFrame()
    per = per[per["montant_accorde"] > 0] if not per.empty else per
    if per.empty:
        return empty("ve_quartiers", f"Financements par quartier en {annee}",
                     "Aucun quartier ne reçoit de financement pour ces filtres.", {"annee": annee})
    top = per.iloc[0]
    titre = f"En {annee}, le quartier {top['nom_qpv']} reçoit le plus : {fmt.euros(top['montant_accorde'])}"
    contours = set(query(con, queries.qpv_with_contour)["code_qpv"].tolist())
    without = per[~per["code_qpv"].isin(contours)]
    notes = []
    if not without.empty:
        notes.append(f"Sans contour sur la carte ({len(without)}) : "
                     + ", ".join(f"{n} ({c})" for n, c in zip(without["nom_qpv"], without["code_qpv"], strict=True))
                     + ".")
    notes.append(SPLIT_NOTE)
    table = per[["nom_qpv", "code_qpv", "montant_accorde", "nb_actions", "population",
                 "montant_par_habitant"]].rename(columns={
        "nom_qpv": "Quartier", "code_qpv": "Code", "montant_accorde": "Montant accordé", "nb_actions": "Actions",
        "population": "Population", "montant_par_habitant": "€ par habitant"})
    return Section("ve_quartiers", titre, table=table, table_nom=f"Financements par quartier {annee}",
                   source=source(con, FUNDING_SOURCES, (annee,)), notes=notes,
                   formats={"Montant accordé": "euros", "€ par habitant": "euros1", "Population": "nombre",
                            "Actions": "texte"},
                   params={"annee": annee, "sans_contour": len(without) == len(per)})


def carte_montants(con, f: Filtres, annee: int) -> maps.Carte:
    """The overview's map: granted amount per quartier in `annee`, only the contours of the quartiers
    financed, serialised once (the page caches it: a rerun with nothing changed sends the same bytes)."""
    per = query(con, queries.par_qpv, f.with_(annees=(annee,)))
    per = per[per["montant_accorde"] > 0]
    terr = query(con, maps.territoire, tuple(sorted(per["code_qpv"])))
    return maps.figee(maps.carte_territoire(terr, per, "montant_accorde", f"Montant accordé {annee}", fmt.euros))
