"""Sections of the engagements: where the signatories' commitments stand, who is late, what changed, each
engagement's trajectory, droit commun mobilised, a quartier's roadmap and its indicators over time."""

from __future__ import annotations

import pandas as pd

from cdv_core import charts, fmt, queries, tables
from cdv_core import engagements as eng
from cdv_core import vl as alt
from cdv_core.filters import Filtres
from cdv_core.sections.base import Chiffre, Section, bars_height, empty, query, register, source

SOURCES = ("engagements", "suivi_engagements")
# What the engagements read of the filters (cdv_core.engagements._where): contract, pillars, quartiers, communes.
ENG_FILTRES = ("contrat", "piliers", "qpv", "communes")
AUCUN = "Aucun engagement ne correspond aux filtres choisis (ou aucun n'a encore été importé)."
PLURIELS = {"atteint": "Atteints", "partiellement_atteint": "Partiellement atteints", "en_cours": "En cours",
            "non_engage": "Non engagés", "abandonne": "Abandonnés", eng.NON_RENSEIGNE: "Non renseignés"}
NOTE_NR = ("« Non renseigné » : aucune ligne de suivi pour cette année-là ; ce n'est pas un échec, "
           "l'information manque.")


def _spec(chart) -> dict | None:
    """The Vega-Lite spec of an Altair chart, as a plain dict (what a Section carries)."""
    return None if chart is None else charts.spec(chart)


def _annee(con, annee: int | None) -> int | None:
    """The year shown: the one chosen if it has follow-up rows, else the latest one."""
    years = eng.annees(con)
    if not years:
        return None
    return annee if annee in years else years[-1]


def _signataire_nom(con, signataire: str | None) -> str:
    if not signataire:
        return ""
    row = con.execute("SELECT libelle FROM financeur WHERE code = ?", [signataire]).fetchone()
    return row[0] if row else signataire


def _num(v, unite: str | None = None) -> str:
    if v is None or pd.isna(v):
        return "—"
    if unite == "%":
        return fmt.pourcent(v)
    if unite == "€":
        return fmt.euros(v)
    return fmt.nombre(v, 0 if float(v).is_integer() else 1)


def _status_chart(counts: pd.DataFrame) -> alt.Chart:
    data = counts[counts["nb"] > 0]
    order = [eng.libelle_statut(s) for s in eng.ORDRE]
    colors = [eng.COULEURS[s] for s in eng.ORDRE]
    base = alt.Chart().encode(
        y=alt.Y("statut_libelle:N", sort=order, title=None, axis=alt.Axis(labelFontSize=15, labelLimit=300)),
        x=alt.X("nb:Q", title="Engagements", axis=alt.Axis(format=",.0f", tickMinStep=1, labelFontSize=14)),
        tooltip=[alt.Tooltip("statut_libelle:N", title="Statut"), alt.Tooltip("nb:Q", title="Engagements")],
    )
    bars = base.mark_bar().encode(color=alt.Color("statut_libelle:N", legend=None,
                                                  scale=alt.Scale(domain=order, range=colors)))
    text = base.mark_text(align="left", dx=6, fontSize=15).encode(text="nb:Q")
    return charts._style(alt.layer(bars, text, data=data), max(140, 48 * len(data) + 60))


def _liste(df: pd.DataFrame, annee: int) -> pd.DataFrame:
    return pd.DataFrame({
        "Engagement": df["engagement_id"], "Intitulé": df["intitule"], "Pilote": df["pilote_libelle"],
        f"Statut {annee}": df["statut_libelle"], "Valeur": df["valeur"], "Cible": df["valeur_cible"],
        "Unité": df["unite"].fillna(""), "Échéance": df["echeance"],
    })


@register("engagements_statuts", "Où en sont les engagements ?", ("annee", "signataire"), slide=True,
          filtres=ENG_FILTRES)
def engagements_statuts(con, f: Filtres, annee: int | None = None, signataire: str | None = None, **_) -> Section:
    """Headline and status counts of the engagements in force in `annee`."""
    annee = _annee(con, annee)
    if annee is None:
        return empty("engagements_statuts", "Où en sont les engagements ?", AUCUN)
    df = query(con, eng.statuts, f, annee, signataire)
    params = {"annee": annee, "signataire": signataire}
    if df.empty:
        return empty("engagements_statuts", f"Aucun engagement en vigueur en {annee}", AUCUN, params)
    counts = eng.comptes(df)
    chiffres = [Chiffre(PLURIELS[s], fmt.nombre(n), NOTE_NR if s == eng.NON_RENSEIGNE else None)
                for s, _, n in counts.itertuples(index=False)]
    titre = eng.phrase_statuts(df, annee)
    if signataire:
        titre = titre.rstrip(".") + f" (signataire : {_signataire_nom(con, signataire)})."
    return Section("engagements_statuts", titre, chiffres, _spec(_status_chart(counts)), _liste(df, annee),
        f"Engagements {annee}", source(con, SOURCES, (annee,)), notes=[NOTE_NR], params=params,
        formats={"Valeur": "decimal", "Cible": "decimal", "Échéance": "annee"})


@register("engagements_signataires", "Engagements par signataire", ("annee", "signataire"), filtres=ENG_FILTRES)
def engagements_signataires(con, f: Filtres, annee: int | None = None, signataire: str | None = None,
                            **_) -> Section:
    """Pilot signatory × status: who is on track, who is late."""
    annee = _annee(con, annee)
    if annee is None:
        return empty("engagements_signataires", "Engagements par signataire", AUCUN)
    df = query(con, eng.statuts, f, annee, signataire)
    params = {"annee": annee, "signataire": signataire}
    if df.empty:
        return empty("engagements_signataires", "Engagements par signataire", AUCUN, params)
    counts = eng.signataire_statut(df)
    per = df.groupby("pilote_libelle").agg(nb=("engagement_id", "size"),
                                           marche=("statut", lambda s: int(s.isin(eng.EN_MARCHE).sum())))
    top = per.sort_values(["nb", "marche"], ascending=False).iloc[0]
    titre = (f"En {annee}, {top.name} pilote {top.nb} des {len(df)} engagements, dont {top.marche} atteint"
             f"{'s' if top.marche > 1 else ''} ou en cours")
    order = [eng.libelle_statut(s) for s in eng.ORDRE]
    chart = alt.Chart(counts.assign(rang=counts["statut"].map({s: i for i, s in enumerate(eng.ORDRE)}))).mark_bar(
    ).encode(
        y=alt.Y("pilote_libelle:N", title=None, sort="-x", axis=alt.Axis(labelFontSize=15, labelLimit=360)),
        x=alt.X("sum(nb):Q", title="Engagements", axis=alt.Axis(format=",.0f", tickMinStep=1)),
        color=alt.Color("statut_libelle:N", title="Statut", sort=order,
                        scale=alt.Scale(domain=order, range=[eng.COULEURS[s] for s in eng.ORDRE])),
        order=alt.Order("rang:Q"),
        tooltip=[alt.Tooltip("pilote_libelle:N", title="Pilote"), alt.Tooltip("statut_libelle:N", title="Statut"),
                 alt.Tooltip("nb:Q", title="Engagements")],
    )
    table = tables.pivot_sum(counts, "pilote_libelle", "statut", "nb")
    table = table.reindex(columns=[s for s in eng.ORDRE if s in table.columns])
    table.columns = [eng.libelle_statut(s) for s in table.columns]
    table = table.reset_index().rename(columns={"pilote_libelle": "Pilote"})
    return Section("engagements_signataires", titre, [], _spec(charts._style(chart, bars_height(per.shape[0]) + 60)),
                   table, f"Engagements par signataire {annee}", source(con, SOURCES, (annee,)),
                   notes=["Chaque engagement est compté une fois, chez son pilote (le premier signataire)."],
                   params=params)


@register("engagements_retard", "Engagements en retard", ("annee", "signataire"), filtres=ENG_FILTRES)
def engagements_retard(con, f: Filtres, annee: int | None = None, signataire: str | None = None, **_) -> Section:
    """Engagements past their deadline and not reached."""
    annee = _annee(con, annee)
    if annee is None:
        return empty("engagements_retard", "Engagements en retard", AUCUN)
    df = query(con, eng.statuts, f, annee, signataire)
    late = df[df["en_retard"]]
    params = {"annee": annee, "signataire": signataire}
    if late.empty:
        return empty("engagements_retard", f"En {annee}, aucun engagement n'a dépassé son échéance sans être "
                     "atteint", "Aucun engagement en retard pour cette sélection.", params)
    n = len(late)
    titre = (f"En {annee}, {n} engagement{'s ont' if n > 1 else ' a'} dépassé {'leur' if n > 1 else 'son'} "
             f"échéance sans être atteint{'s' if n > 1 else ''}")
    table = _liste(late, annee)
    return Section("engagements_retard", titre, [], None, table, f"Engagements en retard {annee}",
                   source(con, SOURCES, (annee,)), notes=[
                       "En retard : échéance passée et statut « non engagé », « en cours » ou « partiellement "
                       "atteint » cette année-là."], params=params,
                   formats={"Valeur": "decimal", "Cible": "decimal", "Échéance": "annee"})


@register("engagements_changements", "Ce qui a changé depuis l'an dernier", ("annee", "signataire"),
          filtres=ENG_FILTRES)
def engagements_changements(con, f: Filtres, annee: int | None = None, signataire: str | None = None,
                            **_) -> Section:
    """Engagements whose status changed since the previous year."""
    annee = _annee(con, annee)
    if annee is None:
        return empty("engagements_changements", "Ce qui a changé depuis l'an dernier", AUCUN)
    df = eng.changements(query(con, eng.statuts, f, annee, signataire))
    params = {"annee": annee, "signataire": signataire}
    if df.empty:
        return empty("engagements_changements", f"Aucun engagement n'a changé de statut entre {annee - 1} et "
                     f"{annee}", "Aucun changement de statut pour cette sélection.", params)
    n = len(df)
    reached = int((df["statut"] == "atteint").sum())
    titre = (f"Entre {annee - 1} et {annee}, {n} engagement{'s ont' if n > 1 else ' a'} changé de statut"
             + (f", dont {reached} désormais atteint{'s' if reached > 1 else ''}" if reached else ""))
    table = pd.DataFrame({"Engagement": df["engagement_id"], "Intitulé": df["intitule"],
                          "Pilote": df["pilote_libelle"],
                          f"Statut {annee - 1}": df["statut_precedent"].map(eng.libelle_statut),
                          f"Statut {annee}": df["statut_libelle"], "Commentaire": df["commentaire"].fillna("")})
    return Section("engagements_changements", titre, [], None, table, f"Changements {annee - 1}-{annee}",
                   source(con, SOURCES, (annee - 1, annee)), notes=[NOTE_NR], params=params)


@register("engagement_trajectoire", "Trajectoire d'un engagement", ("engagement",), filtres=ENG_FILTRES)
def engagement_trajectoire(con, f: Filtres, engagement: str | None = None, **_) -> Section:
    """One engagement's measured values over the years against its initial and target values."""
    all_eng = query(con, eng.engagements, f)
    if all_eng.empty:
        return empty("engagement_trajectoire", "Trajectoire d'un engagement", AUCUN)
    if engagement not in set(all_eng["engagement_id"]):
        engagement = str(all_eng["engagement_id"].iloc[0])
    e = all_eng[all_eng["engagement_id"] == engagement].iloc[0]
    traj = eng.trajectoire(con, str(engagement))
    params = {"engagement": engagement}
    unite = e["unite"] if isinstance(e["unite"], str) else None
    measured = traj.dropna(subset=["valeur"])
    what = e["indicateur"] if isinstance(e["indicateur"], str) else "valeur mesurée"
    if e["indicateur_code"] is not None and isinstance(e["indicateur_code"], str):
        row = con.execute("SELECT libelle FROM indicateur_def WHERE code = ?", [e["indicateur_code"]]).fetchone()
        what = row[0] if row else what
    if measured.empty:
        titre = f"{engagement} : aucune valeur mesurée pour l'instant"
    else:
        last = measured.iloc[-1]
        titre = f"{engagement} — {what} : {_num(last['valeur'], unite)} en {int(last['annee'])}"
        if pd.notna(e["valeur_cible"]):
            titre += f", pour une cible de {_num(e['valeur_cible'], unite)}"
            if e["echeance"] is not None and pd.notna(e["echeance"]):
                titre += f" en {int(e['echeance'])}"
    chiffres = [Chiffre("Valeur initiale", _num(e["valeur_initiale"], unite)),
                Chiffre("Cible", _num(e["valeur_cible"], unite))]
    if not measured.empty:
        chiffres.append(Chiffre(f"Dernière valeur ({int(measured.iloc[-1]['annee'])})",
                         _num(measured.iloc[-1]["valeur"], unite)))
    chart = None
    if not measured.empty:
        line = alt.Chart(measured).mark_line(point=alt.OverlayMarkDef(size=90), strokeWidth=3,
                                             color=charts.PALETTE[0]).encode(
            x=alt.X("annee:O", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("valeur:Q", title=what if len(what) < 40 else None, scale=alt.Scale(zero=False)),
            tooltip=[alt.Tooltip("annee:O", title="Année"), alt.Tooltip("valeur:Q", title="Valeur", format=",.1f"),
                     alt.Tooltip("statut_libelle:N", title="Statut")])
        refs = pd.DataFrame([{"repere": f"{lib} : {_num(v, unite)}", "valeur": float(v)}
                             for lib, v in (("Valeur initiale", e["valeur_initiale"]), ("Cible", e["valeur_cible"]))
                             if v is not None and pd.notna(v)])
        layers = [line]
        if not refs.empty:
            rules = alt.Chart(refs).mark_rule(strokeDash=[6, 4], strokeWidth=2).encode(
                y="valeur:Q", color=alt.Color("repere:N", title=None,
                                              scale=alt.Scale(range=[charts.PALETTE[1], charts.PALETTE[2]])))
            layers.append(rules)
        chart = charts._style(alt.layer(*layers), 380)
    table = pd.DataFrame({"Année": traj["annee"], "Valeur": traj["valeur"],
                          "Origine": traj["origine"].map({"indicateur": "Indicateurs", "suivi": "Suivi"}).fillna(""),
                          "Statut": traj["statut_libelle"], "Commentaire": traj["commentaire"].fillna(""),
                          "Montant mobilisé": traj["montant_realise"]})
    notes = [f"{e['intitule']} — pilote : {e['pilote_libelle']} ; signataires : {e['signataires_libelle']}."]
    if isinstance(e["indicateur_code"], str):
        notes.append(f"Valeurs lues dans les indicateurs (« {e['indicateur_code']} ») du territoire de l'engagement.")
    return Section("engagement_trajectoire", titre, chiffres, _spec(chart), table, f"Trajectoire {engagement}",
                   source(con, SOURCES + (("indicateurs",) if isinstance(e["indicateur_code"], str) else ())),
                   notes=notes, params=params, formats={"Année": "annee", "Valeur": "decimal",
                                                         "Montant mobilisé": "euros"})


@register("engagements_droit_commun", "Droit commun promis et mobilisé", ("annee", "signataire"), slide=True)
def engagements_droit_commun(con, f: Filtres, annee: int | None = None, signataire: str | None = None,
                             **_) -> Section:
    """Droit commun committed over the period vs mobilised up to `annee`, per pilot signatory."""
    annee = _annee(con, annee)
    dc = eng.droit_commun(con, f, signataire)
    params = {"annee": annee, "signataire": signataire}
    if annee is None or dc.empty:
        return empty("engagements_droit_commun", "Droit commun promis et mobilisé",
                     "Aucun engagement de droit commun pour cette sélection.", params)
    upto = dc[dc["annee"] <= annee]
    per = dc.drop_duplicates("pilote").set_index("pilote")[["pilote_libelle", "engage_total"]]
    per["mobilise_annee"] = dc[dc["annee"] == annee].groupby("pilote")["mobilise"].sum()
    per["mobilise_cumule"] = upto.groupby("pilote")["mobilise"].sum()
    per = per.fillna({"mobilise_annee": 0.0, "mobilise_cumule": 0.0})
    per["taux"] = [100 * m / e if e else None for m, e in zip(per["mobilise_cumule"], per["engage_total"],
                                                                strict=True)]
    per = per.sort_values("engage_total", ascending=False)
    total_e, total_m = float(per["engage_total"].sum()), float(per["mobilise_cumule"].sum())
    titre = (f"Fin {annee}, {fmt.euros(total_m)} de droit commun mobilisés pour {fmt.euros(total_e)} promis"
             + (f" ({fmt.pourcent(100 * total_m / total_e)})" if total_e else ""))
    chart = charts.paired_bars(per.reset_index(), "pilote_libelle",
                               {"engage_total": "Promis sur la période", "mobilise_cumule": f"Mobilisé jusqu'à {annee}"})
    table = pd.DataFrame({"Signataire": per["pilote_libelle"], "Promis sur la période (€)": per["engage_total"],
                          f"Mobilisé en {annee} (€)": per["mobilise_annee"],
                          f"Mobilisé jusqu'à {annee} (€)": per["mobilise_cumule"],
                          "Part mobilisée (%)": per["taux"]}).reset_index(drop=True)
    return Section("engagements_droit_commun", titre,
                   [Chiffre("Droit commun promis", fmt.euros(total_e)),
                    Chiffre(f"Mobilisé jusqu'à {annee}", fmt.euros(total_m))],
                   _spec(chart), table, f"Droit commun {annee}", source(con, SOURCES, (annee,)),
                   notes=["Engagements de nature « droit commun », comptés chez leur pilote ; montants mobilisés "
                          "déclarés dans le suivi annuel."], params=params)


@register("engagements_droit_commun_annees", "Droit commun et crédits spécifiques par année", ("signataire",))
def engagements_droit_commun_annees(con, f: Filtres, signataire: str | None = None, **_) -> Section:
    """Per year: droit commun promised (spread over each engagement's years) and mobilised, beside the crédits
    spécifiques of the programmation: is politique de la ville money replacing a drop of droit commun?"""
    dc = eng.droit_commun(con, f, signataire)
    params = {"signataire": signataire}
    if dc.empty:
        return empty("engagements_droit_commun_annees", "Droit commun et crédits spécifiques par année",
                     "Aucun engagement de droit commun pour cette sélection.", params)
    years = dc.groupby("annee", as_index=False)[["engage", "mobilise"]].sum()
    spec = queries.aggregate(con, f.with_(annees=(), nature=("specifique",)), ("annee",), actions=False)
    spec = spec.set_index("annee")["montant_accorde"]
    years["specifique"] = years["annee"].map(spec).astype("float64").fillna(0.0)
    long = years.melt(id_vars="annee", value_vars=["engage", "mobilise", "specifique"], var_name="serie",
                      value_name="montant")
    labels = {"engage": "Droit commun promis (réparti par année)", "mobilise": "Droit commun mobilisé",
              "specifique": "Crédits spécifiques de la programmation"}
    long["serie"] = long["serie"].map(labels)
    chart = charts.line_by_year(long, "montant", "Montant", category="serie", category_title="", height=400)
    a, b = years.iloc[0], years.iloc[-1]
    titre = f"De {int(a['annee'])} à {int(b['annee'])}, "
    if a["mobilise"] and a["specifique"]:
        dm = 100 * (b["mobilise"] - a["mobilise"]) / a["mobilise"]
        ds = 100 * (b["specifique"] - a["specifique"]) / a["specifique"]
        titre += (f"le droit commun mobilisé {'augmente' if dm >= 0 else 'baisse'} de {fmt.pourcent(abs(dm), 0)}, "
                  f"les crédits spécifiques {'augmentent' if ds >= 0 else 'baissent'} de "
                  f"{fmt.pourcent(abs(ds), 0)}")
    else:
        titre += (f"{fmt.euros(years['mobilise'].sum())} de droit commun mobilisés, "
                  f"{fmt.euros(years['specifique'].sum())} de crédits spécifiques programmés")
    table = pd.DataFrame({"Année": years["annee"], "Droit commun promis (€)": years["engage"],
                          "Droit commun mobilisé (€)": years["mobilise"],
                          "Crédits spécifiques (€)": years["specifique"]})
    return Section("engagements_droit_commun_annees", titre, [], _spec(chart), table, "Droit commun par année",
                   source(con, SOURCES + ("programmation", "financements")),
                   notes=["Le montant promis par un engagement est réparti à parts égales sur ses années (début à "
                          "échéance). Crédits spécifiques : financements de nature « spécifique » de la "
                          "programmation, sous les filtres choisis."], params=params,
                   formats={"Année": "annee"})


def _quartier(con, f: Filtres, qpv: str | None) -> tuple[str | None, str]:
    """The quartier shown: `qpv`, else the first of the filters with a roadmap, else the first with one."""
    if qpv:
        row = con.execute("SELECT nom_qpv FROM qpv WHERE code_qpv = ?", [qpv]).fetchone()
        if row:
            return qpv, row[0]
    roadmaps = query(con, quartiers_avec_feuille_de_route)
    rows = list(zip(roadmaps["code_qpv"].tolist(), roadmaps["nom_qpv"].tolist(), strict=True))
    with_roadmap = dict(rows)
    for code in f.qpv:
        if code in with_roadmap:
            return code, with_roadmap[code]
    if rows:
        return rows[0]
    return None, ""


def quartiers_avec_feuille_de_route(con) -> pd.DataFrame:
    """code_qpv, nom_qpv of the quartiers named by at least one engagement."""
    return con.execute("""
        SELECT DISTINCT q.code_qpv, q.nom_qpv FROM engagement e,
               unnest(string_split(e.qpv, '|')) AS u(code) JOIN qpv q ON q.code_qpv = u.code
        WHERE e.qpv <> '*' ORDER BY q.nom_qpv""").df()


def _avancement(df: pd.DataFrame) -> pd.Series:
    span = df["valeur_cible"] - df["valeur_initiale"].fillna(0)
    done = (df["valeur"] - df["valeur_initiale"].fillna(0)) / span.where(span != 0)
    return (100 * done).clip(lower=0, upper=100)


@register("feuille_de_route", "Feuille de route du quartier X", ("annee", "qpv"), slide=True, filtres=("qpv",),
          graphique="Feuille de route du quartier")
def feuille_de_route(con, f: Filtres, annee: int | None = None, qpv: str | None = None, **_) -> Section:
    """A quartier's roadmap: the engagements scoped to it, their status and progress towards the target."""
    code, nom = _quartier(con, f, qpv)
    if code is None:
        return empty("feuille_de_route", "Feuille de route du quartier",
                     "Aucune feuille de route : aucun engagement n'est limité à un quartier.")
    years = eng.annees(con)
    df = eng.feuille_de_route(con, code, annee if annee in years else None)
    params = {"qpv": code, "annee": int(df["annee"].iloc[0]) if len(df) else annee}
    if df.empty:
        return empty("feuille_de_route", f"Feuille de route du quartier {nom}",
                     "Aucun engagement n'est limité à ce quartier.", params)
    year = int(df["annee"].iloc[0])
    counts = eng.comptes(df).set_index("statut")["nb"]
    n = len(df)
    parts = [f"{counts['atteint']} atteint{'s' if counts['atteint'] > 1 else ''}"] if counts["atteint"] else []
    marche = int(counts["en_cours"] + counts["partiellement_atteint"])
    if marche:
        parts.append(f"{marche} en cours")
    if counts["non_engage"]:
        parts.append(f"{counts['non_engage']} non engagé{'s' if counts['non_engage'] > 1 else ''}")
    if counts[eng.NON_RENSEIGNE]:
        parts.append(f"{counts[eng.NON_RENSEIGNE]} non renseigné{'s' if counts[eng.NON_RENSEIGNE] > 1 else ''}")
    titre = f"Feuille de route du quartier {nom} en {year} : {n} objectif{'s' if n > 1 else ''}" + (
        ", " + ", ".join(parts) if parts else "")
    data = df.assign(avancement=_avancement(df), objectif=df["intitule"])
    data = data.assign(statut_libelle=data["statut_libelle"])
    order = [eng.libelle_statut(s) for s in eng.ORDRE]
    shown = data.dropna(subset=["avancement"])
    chart = None
    if not shown.empty:
        base = alt.Chart().encode(
            y=alt.Y("objectif:N", title=None, sort=None, axis=alt.Axis(labelFontSize=14, labelLimit=460)),
            x=alt.X("avancement:Q", title="Chemin parcouru vers la cible (%)",
                    scale=alt.Scale(domain=[0, 100]), axis=alt.Axis(format=",.0f", values=[0, 25, 50, 75, 100])),
            tooltip=[alt.Tooltip("objectif:N", title="Objectif"), alt.Tooltip("statut_libelle:N", title="Statut"),
                     alt.Tooltip("avancement:Q", title="Chemin parcouru (%)", format=",.0f")])
        present = [lib for lib in order if lib in set(shown["statut_libelle"])]
        bars = base.mark_bar().encode(color=alt.Color(
            "statut_libelle:N", title="Statut", sort=order, legend=alt.Legend(values=present),
            scale=alt.Scale(domain=order, range=[eng.COULEURS[s] for s in eng.ORDRE])))
        text = base.mark_text(align="left", dx=6, fontSize=14).encode(
            text=alt.Text("avancement:Q", format=",.0f"))
        chart = charts._style(alt.layer(bars, text, data=shown), bars_height(len(shown)) + 40)
    table = pd.DataFrame({"Objectif": df["intitule"], "Signataires": df["signataires_libelle"],
                          "Axe": df["pilier_libelle"].fillna(""), f"Statut {year}": df["statut_libelle"],
                          "Valeur": df["valeur"], "Cible": df["valeur_cible"], "Unité": df["unite"].fillna(""),
                          "Échéance": df["echeance"]})
    return Section("feuille_de_route", titre, [], _spec(chart), table, f"Feuille de route {nom}",
                   source(con, SOURCES, (year,)), notes=[
                       "Chemin parcouru : part de l'écart entre la valeur initiale et la cible déjà franchie ; "
                       "les objectifs sans valeur mesurée ne figurent que dans le tableau.", NOTE_NR],
                   params={**params, "annee": year},
                   formats={"Valeur": "decimal", "Cible": "decimal", "Échéance": "annee"})


def _series_indicateur(con, qpv: str) -> tuple[pd.DataFrame, str]:
    row = con.execute("SELECT nom_qpv FROM qpv WHERE code_qpv = ?", [qpv]).fetchone()
    return query(con, eng.series_quartier, qpv), (row[0] if row else qpv)


def indicateurs_en_serie(con, qpv: str) -> list[str]:
    """Indicator codes with values for at least two years in the quartier (those worth a time series)."""
    series = query(con, eng.series_quartier, qpv)  # shared with the quartier's other sections (runner's cache)
    q = series[series["niveau"] == "Quartier"].groupby("indicateur")["annee"].nunique()
    return sorted(q[q > 1].index)


def _ecart(v: float, unite: str | None) -> str:
    return fmt.compte(abs(v), "point", decimales=1) if unite == "%" else _num(abs(v), unite)


@register("quartier_serie", "Un indicateur du quartier dans le temps", ("qpv", "indicateur"), filtres=())
def quartier_serie(con, f: Filtres, qpv: str | None = None, indicateur: str | None = None, **_) -> Section:
    """One indicator of a quartier over the years, beside its communes, EPCI and France, and whether the gap
    narrows (rattrapage)."""
    if not qpv:
        return empty("quartier_serie", "Indicateur du quartier", "Choisissez un quartier.")
    series, nom = _series_indicateur(con, qpv)
    codes = indicateurs_en_serie(con, qpv)
    params = {"qpv": qpv, "indicateur": indicateur}
    if not codes:
        return empty("quartier_serie", f"Indicateurs du quartier {nom} dans le temps",
                     "Aucun indicateur de ce quartier n'a de valeurs pour plusieurs années.", params)
    if indicateur not in codes:
        indicateur = codes[0]
    params["indicateur"] = indicateur
    s = series[series["indicateur"] == indicateur]
    libelle, unite = s["libelle"].iloc[0], s["unite"].iloc[0]
    gaps = eng.rattrapage(s)
    ref = gaps.sort_values("niveau", key=lambda c: c.map({"France": 0, "Intercommunalité": 1, "Commune": 2}))
    ref = ref[ref["se_reduit"].notna()]
    if ref.empty:
        titre = f"{nom} : {libelle.lower()} au fil des années"
    else:
        r = ref.iloc[0]
        other = "la France" if r["niveau"] == "France" else r["nom"]
        verbe = "se réduit" if r["se_reduit"] else "ne se réduit pas"
        titre = (f"{nom} : l'écart de {libelle[0].lower() + libelle[1:]} avec {other} {verbe} "
                 f"({_ecart(r['ecart_debut'], unite)} en {r['annee_debut']}, {_ecart(r['ecart_fin'], unite)} "
                 f"en {r['annee_fin']})")
    data = s.assign(territoire_nom=s["niveau"].where(s["niveau"] == "France", s["niveau"] + " : " + s["nom"]),
                    # the quartier's line drawn thicker: a width per line (a condition per point, with the
                    # mark's own width, drew every line alike)
                    epaisseur=(s["niveau"] == "Quartier").map({True: 5.0, False: 2.5}))
    data.loc[data["niveau"] == "Quartier", "territoire_nom"] = "Quartier : " + nom
    order = data.sort_values(["rang", "nom"])["territoire_nom"].drop_duplicates().tolist()
    chart = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=70)).encode(  # widths: `epaisseur`
        x=alt.X("annee:O", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("valeur:Q", title=unite or None, scale=alt.Scale(zero=False)),
        color=alt.Color("territoire_nom:N", title=None, sort=order, scale=charts.color_scale(order)),
        strokeWidth=alt.StrokeWidth("epaisseur:Q", scale=None, legend=None),
        tooltip=[alt.Tooltip("territoire_nom:N", title="Territoire"), alt.Tooltip("annee:O", title="Année"),
                 alt.Tooltip("valeur:Q", title=libelle, format=",.1f")])
    table = data.pivot_table(index="annee", columns="territoire_nom", values="valeur", aggfunc="first")
    table = table.reindex(columns=order).reset_index().rename(columns={"annee": "Année"})
    notes = []
    for r in gaps.itertuples(index=False):
        if r.se_reduit is None:
            continue
        other = "la France" if r.niveau == "France" else f"{r.niveau.lower()} {r.nom}"
        notes.append(f"Écart avec {other} : {_ecart(r.ecart_debut, unite)} en {r.annee_debut}, "
                     f"{_ecart(r.ecart_fin, unite)} en {r.annee_fin} — "
                     + ("il se réduit (rattrapage)." if r.se_reduit else "il ne se réduit pas."))
    srcs = ", ".join(sorted(set(con.execute(
        "SELECT DISTINCT source FROM indicateur WHERE indicateur = ? AND territoire = ? AND source IS NOT NULL",
        [indicateur, qpv]).df()["source"])))
    return Section("quartier_serie", titre, [], _spec(charts._style(chart, 400)), table, f"{libelle} {nom}",
                   f"Source : indicateurs ({srcs})" if srcs else source(con, ("indicateurs",)), notes=notes,
                   params=params, formats={"Année": "annee", **{c: "decimal" for c in order}})


@register("quartier_rattrapage", "Le quartier rattrape-t-il son territoire ?", ("qpv",), filtres=())
def quartier_rattrapage(con, f: Filtres, qpv: str | None = None, **_) -> Section:
    """For every indicator of the quartier: the gap with each reference territory, first and last year."""
    if not qpv:
        return empty("quartier_rattrapage", "Rattrapage du quartier", "Choisissez un quartier.")
    series, nom = _series_indicateur(con, qpv)
    gaps = eng.rattrapage(series)
    if gaps.empty:
        return empty("quartier_rattrapage", f"Rattrapage du quartier {nom}",
                     "Aucun indicateur du quartier n'a de valeur de comparaison.", {"qpv": qpv})
    known = gaps[gaps["se_reduit"].notna()]
    if known.empty:
        titre = f"{nom} : un seul millésime par indicateur, l'évolution des écarts n'est pas encore mesurable"
    else:
        n = int(known["se_reduit"].sum())
        titre = f"{nom} : l'écart se réduit dans {n} comparaison{'s' if n > 1 else ''} sur {len(known)}"
    table = pd.DataFrame({
        "Indicateur": gaps["libelle"], "Comparé à": gaps["niveau"] + " : " + gaps["nom"],
        "Première année": gaps["annee_debut"], "Écart la première année": gaps["ecart_debut"],
        "Dernière année": gaps["annee_fin"], "Écart la dernière année": gaps["ecart_fin"],
        "L'écart se réduit": gaps["se_reduit"].map({True: "oui", False: "non"}).fillna("un seul millésime"),
    })
    return Section("quartier_rattrapage", titre, [], None, table, f"Rattrapage {nom}",
                   source(con, ("indicateurs",)), notes=[
                       "Écart = valeur du territoire de comparaison moins valeur du quartier, aux premières et "
                       "dernières années où les deux sont connues."], params={"qpv": qpv},
                   formats={"Première année": "annee", "Dernière année": "annee",
                            "Écart la première année": "decimal", "Écart la dernière année": "decimal"})
