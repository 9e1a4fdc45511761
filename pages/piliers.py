"""Piliers: amounts and actions per pillar and thématique, new actions, pillar targets, drill-down to actions."""

from __future__ import annotations

import streamlit as st

from cdv_core import auth, charts, fmt, gestion, queries
from cdv_core import queries_piliers as qp
from cdv_core.errors import CdvError
from cdv_core.filters import Filtres
from cdv_core.formats import LIBELLES
from ui import access, data, filters, layout, require_app
from ui.data import q

require_app()

MESURES = {"montant_accorde": "Montants", "nb_actions": "Nombre d'actions", "part": "Parts (%)"}
TOUTES = "__toutes__"


def pivot_by_year(df, index: str, index_title: str, value: str):
    """Table: one row per `index`, one column per year (trivial reshaping for display)."""
    table = (df.pivot_table(index=index, columns="annee", values=value, aggfunc="sum", fill_value=0)
             .reset_index().rename(columns={index: index_title}))
    table.columns = [str(c) for c in table.columns]
    return table


def year_columns(years, kind: str) -> dict:
    if kind == "montant_accorde":
        return {str(y): layout.euro_column(str(y)) for y in years}
    if kind == "part":
        return {str(y): st.column_config.NumberColumn(str(y), format="%.1f %%") for y in years}
    return {str(y): st.column_config.NumberColumn(str(y), format="localized") for y in years}


def main() -> None:
    f: Filtres = st.session_state.get("filtres", Filtres())
    by_year = q(qp.par_annee_pilier, f)
    if by_year.empty or by_year["nb_actions"].sum() == 0:
        st.title("Piliers")
        layout.filters_line(filters.summary(f))
        layout.empty("Aucune action ne correspond aux filtres choisis. Élargissez la sélection ou "
                     "réinitialisez les filtres.")
        return
    years = sorted(int(y) for y in by_year["annee"].unique())
    default = q(queries.annee_decidee, f)
    default = default if default in years else years[-1]

    head, c1 = st.columns([5, 1], vertical_alignment="bottom")
    annee = c1.selectbox("Année affichée", years, index=years.index(default), key="pil_annee")
    pil = q(qp.par_pilier, f.with_(annees=(annee,)))
    pil = pil[pil["nb_actions"] > 0]
    funded = pil[pil["montant_accorde"] > 0]
    if funded.empty:
        head.title(f"En {annee}, aucun financement accordé pour ces filtres")
    else:
        top = funded.iloc[0]
        titre = f"En {annee}, « {layout.texte(top['pilier_libelle'])} » reçoit {fmt.pourcent(top['part'], 0)} des financements"
        if len(funded) > 1:
            second = funded.iloc[1]
            titre += f", devant « {layout.texte(second['pilier_libelle'])} » ({fmt.pourcent(second['part'], 0)})"
        head.title(titre)
    layout.filters_line(filters.summary(f))

    nouv = q(qp.nouvelles_par_annee, f)
    new_year = nouv[(nouv["annee"] == annee) & (nouv["type"] == "Nouvelle")]
    n_new = int(new_year["nb_actions"].sum())
    n_all = int(nouv.loc[nouv["annee"] == annee, "nb_actions"].sum())
    m = st.columns(4)
    m[0].metric(f"Montant accordé {annee}", fmt.euros(pil["montant_accorde"].sum()))
    m[1].metric(f"Actions {annee}", fmt.nombre(n_all))
    m[2].metric("Actions nouvelles", fmt.pourcent(new_year["part_actions"].sum() if n_all else None, 0),
                help=f"{fmt.nombre(n_new)} actions nouvelles sur {fmt.nombre(n_all)} en {annee} ; les autres "
                     "sont reconduites d'une année sur l'autre.")
    m[3].metric("Piliers financés", fmt.nombre(len(funded)))

    st.divider()
    evolution(f, by_year, years, annee)
    st.divider()
    nouvelles(nouv, annee, years)
    st.divider()
    cibles(f, annee)
    st.divider()
    detail(f, pil, annee)


def evolution(f: Filtres, by_year, years, annee: int) -> None:
    first, last = years[0], years[-1]
    # Compared with the year shown (a year still being instructed is not a fair end point).
    evo = q(queries.evolution, f, annee, first)
    pct = evo["evolution_pct"]
    head, choice = st.columns([3, 2], vertical_alignment="bottom")
    if first != annee and pct is not None:
        sens = "augmenté" if pct >= 0 else "baissé"
        head.subheader(f"Financements par pilier : ils ont {sens} de {fmt.pourcent(abs(pct), 0)} entre {first} "
                       f"et {annee}")
    else:
        head.subheader(f"Financements par pilier, de {first} à {last}")
    mesure = choice.segmented_control("Afficher", list(MESURES), format_func=MESURES.get, default="montant_accorde",
                                      key="pil_mesure") or "montant_accorde"
    order = (by_year.groupby("pilier_libelle")["montant_accorde"].sum().sort_values(ascending=False)
             .index.tolist())
    if mesure == "part":
        chart = charts.stacked_columns(by_year, "pilier_libelle", "Pilier", "montant_accorde", "Montant accordé",
                                       normalize=True, order=order)
        layout.note("Part de chaque pilier dans les financements accordés de l'année.")
    elif mesure == "nb_actions":
        chart = charts.stacked_columns(by_year, "pilier_libelle", "Pilier", "nb_actions", "Actions",
                                       kind="nombre", order=order)
    else:
        chart = charts.stacked_columns(by_year, "pilier_libelle", "Pilier", order=order)
    if by_year["pilier"].nunique() > 4 and by_year["annee"].nunique() > 1:
        layout.note("Les piliers changent avec la génération des contrats (2015-2023, puis Quartiers 2030 à "
                    "partir de 2024).")
    table = pivot_by_year(by_year, "pilier_libelle", "Pilier", mesure)
    layout.chart_and_table(chart, table, f"Piliers par année ({MESURES[mesure].lower()})", f"pil_evo_{mesure}",
                           year_columns(years, mesure))


def nouvelles(nouv, annee: int, years) -> None:
    year = nouv[nouv["annee"] == annee]
    new = year[year["type"] == "Nouvelle"]
    n_new = int(new["nb_actions"].sum())
    n_all = int(year["nb_actions"].sum())
    if n_all and (year["type"] != "Non renseigné").any():
        st.subheader(f"En {annee}, {fmt.pourcent(new['part_actions'].sum(), 0)} des actions sont nouvelles "
                     f"({fmt.nombre(n_new)} sur {fmt.nombre(n_all)}), les autres sont reconduites")
    else:
        st.subheader(f"Actions nouvelles et reconduites, de {years[0]} à {years[-1]}")
    if nouv.empty:
        layout.empty("Aucune action pour ces filtres.")
        return
    order = [t for t in ("Nouvelle", "Reconduite", "Non renseigné") if t in set(nouv["type"])]
    chart = charts.stacked_columns(nouv.rename(columns={"part_actions": "part"}), "type", "Action",
                                   "nb_actions", "Actions", kind="nombre", order=order, height=380)
    table = pivot_by_year(nouv, "type", "Action", "nb_actions")
    layout.chart_and_table(chart, table, "Actions nouvelles et reconduites", "pil_nouv", year_columns(years, "nb"))


def cibles(f: Filtres, annee: int) -> None:
    suivi = q(qp.suivi_cibles, f)
    targets = q(qp.cibles)
    if targets.empty:
        st.subheader("Cibles par pilier")
        layout.note("Aucune cible n'est fixée. Une cible indique la part des crédits qu'un pilier devrait "
                    "recevoir, par exemple « 20 % des crédits spécifiques pour l'emploi ».")
    elif suivi.empty:
        st.subheader("Cibles par pilier")
        layout.empty("Aucun financement de la génération de ces piliers dans la sélection : les cibles ne "
                     "peuvent pas être comparées.")
    else:
        st.subheader("Où en est la programmation par rapport aux cibles ?")
        for i, t in enumerate(targets.itertuples(index=False)):
            rows = suivi[(suivi["pilier"] == t.pilier) & (suivi["nature"] == t.nature)]
            cible_bloc(rows, t, annee, i)
    editeur(targets)


def cible_bloc(rows, t, annee: int, i: int) -> None:
    nature = qp.NATURES_CIBLE.get(t.nature, t.nature)
    if rows.empty:
        st.markdown(f"**« {layout.texte(t.pilier_libelle)} » : cible de {fmt.pourcent(t.part_cible, 0)} des {nature}** — "
                    "aucune année de la sélection ne concerne ce pilier.")
        return
    shown = rows[rows["annee"] == annee]
    row = (shown if not shown.empty else rows.sort_values("annee")).iloc[-1]
    if row["part"] is None or row["montant_total"] == 0:
        text = f"En {row['annee']}, aucun de ces crédits n'est accordé : la cible de « {layout.texte(t.pilier_libelle)} » " \
               "ne peut pas être mesurée"
    else:
        ecart = row["ecart"]
        where = "atteinte" if ecart >= 0 else f"{fmt.nombre(abs(ecart), 1)} points en dessous"
        text = (f"En {row['annee']}, « {layout.texte(t.pilier_libelle)} » reçoit {fmt.pourcent(row['part'])} des {nature}, "
                f"pour une cible de {fmt.pourcent(t.part_cible, 0)} ({where})")
    st.markdown(f"#### {text}")
    if isinstance(t.libelle, str) and t.libelle.strip():
        layout.note(t.libelle)
    chart = charts.share_vs_target(rows, float(t.part_cible), value_title=f"Part des {nature}")
    table = rows[["annee", "montant_pilier", "montant_total", "part", "part_cible", "ecart"]].rename(columns={
        "annee": "Année", "montant_pilier": "Montant du pilier", "montant_total": f"Total des {nature}",
        "part": "Part (%)", "part_cible": "Cible (%)", "ecart": "Écart (points)"})
    layout.chart_and_table(chart, table, f"Cible {t.pilier_libelle} {t.nature}", f"pil_cible_{i}", {
        "Montant du pilier": layout.euro_column("Montant du pilier"),
        f"Total des {nature}": layout.euro_column(f"Total des {nature}"),
        "Part (%)": st.column_config.NumberColumn("Part (%)", format="%.1f %%"),
        "Cible (%)": st.column_config.NumberColumn("Cible (%)", format="%.1f %%"),
        "Écart (points)": st.column_config.NumberColumn("Écart (points)", format="%+.1f"),
    })


def editeur(targets) -> None:
    options = st.session_state.get("flt_options") or {}
    piliers = options.get("piliers") or {}
    if not piliers:
        return
    user = access.current_user()
    if not access.can_manage(user):
        layout.note("Les cibles sont fixées par les gestionnaires des données (connexion dans le panneau de "
                    "gauche).")
        return
    with st.expander("Fixer ou supprimer une cible", icon=":material/flag:"):
        with st.form("pil_cible_form", clear_on_submit=False, border=False):
            c1, c2, c3 = st.columns([3, 2, 1])
            pilier = c1.selectbox("Pilier", list(piliers), format_func=piliers.get, key="pil_cible_pilier")
            nature = c2.selectbox("Part de quels crédits ?", list(qp.NATURES_CIBLE),
                                  format_func=lambda n: qp.NATURES_CIBLE[n].capitalize(), key="pil_cible_nature")
            part = c3.number_input("Cible (%)", min_value=0.5, max_value=100.0, value=20.0, step=0.5,
                                   key="pil_cible_part")
            libelle = st.text_input("Intitulé (facultatif)", placeholder="Ex. : engagement du comité de pilotage 2024",
                                    key="pil_cible_libelle")
            ok = st.form_submit_button("Enregistrer la cible", icon=":material/save:")
        if ok:
            ecrire(gestion.definir_cible, pilier, nature, part, libelle, actor=user)
        if not targets.empty:
            labels = {f"{r.pilier}|{r.nature}": f"{r.pilier_libelle} — {fmt.pourcent(r.part_cible, 0)} des "
                      f"{qp.NATURES_CIBLE.get(r.nature, r.nature)}" for r in targets.itertuples(index=False)}
            c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
            choix = c1.selectbox("Cible à supprimer", list(labels), format_func=labels.get, key="pil_cible_suppr")
            if c2.button("Supprimer", icon=":material/delete:", key="pil_cible_suppr_btn"):
                pilier, nature = choix.split("|", 1)
                ecrire(gestion.supprimer_cible, pilier, nature, actor=user)


def ecrire(fn, *args, actor) -> None:
    """A gestion write (checked against the current access configuration); a refusal is a French message."""
    try:
        fn(data.base(), *args, actor=actor)
    except CdvError as exc:
        st.error(exc.message, icon=":material/lock:" if isinstance(exc, auth.AccessDenied) else ":material/error:")
        return
    st.rerun()


def detail(f: Filtres, pil, annee: int) -> None:
    st.subheader(f"Détail d'un pilier en {annee} : thématiques et actions")
    if pil.empty:
        layout.empty(f"Aucune action en {annee} pour ces filtres.")
        return
    codes = pil["pilier"].tolist()
    labels = dict(zip(pil["pilier"], pil["pilier_libelle"]))
    by_label = {v: k for k, v in labels.items()}
    if st.session_state.get("pil_detail") not in codes:
        st.session_state["pil_detail"] = codes[0]

    def on_click() -> None:
        event = st.session_state.get("chart_pil_annee") or {}
        points = (event.get("selection") or {}).get("pil_sel") or []
        if points and points[0].get("pilier_libelle") in by_label:
            st.session_state["pil_detail"] = by_label[points[0]["pilier_libelle"]]
            st.session_state.pop("pil_theme", None)

    left, right = st.columns([1, 1], gap="large")
    with left:
        st.markdown(f"**Financements par pilier en {annee}** — cliquez sur une barre pour la détailler")
        funded = pil[pil["montant_accorde"] > 0]
        if funded.empty:
            layout.empty(f"Aucun financement accordé en {annee} pour ces filtres.")
        else:
            chart = charts.horizontal_bars(funded, "pilier_libelle", "montant_accorde", selection="pil_sel")
            table = pil[["pilier_libelle", "montant_accorde", "part", "nb_actions", "part_nouvelles"]].rename(
                columns={"pilier_libelle": "Pilier", "montant_accorde": "Montant accordé", "part": "Part (%)",
                         "nb_actions": "Actions", "part_nouvelles": "Actions nouvelles (%)"})
            layout.chart_and_table(chart, table, f"Piliers {annee}", "pil_annee", {
                "Montant accordé": layout.euro_column("Montant accordé"),
                "Part (%)": st.column_config.NumberColumn("Part (%)", format="%.1f %%"),
                "Actions nouvelles (%)": st.column_config.NumberColumn("Actions nouvelles (%)", format="%.0f %%"),
            }, on_select=on_click)
    with right:
        pilier = st.selectbox("Pilier détaillé", codes, format_func=labels.get, key="pil_detail")
        fp = f.with_(annees=(annee,), piliers=(pilier,))
        them = q(qp.par_thematique, fp)
        them = them[them["nb_actions"] > 0]
        row = pil[pil["pilier"] == pilier].iloc[0]
        if them.empty:
            layout.empty("Aucune action dans ce pilier pour ces filtres.")
            return
        top = them.iloc[0]
        st.markdown(f"#### « {layout.texte(labels[pilier])} » : {fmt.euros(row['montant_accorde'])} pour "
                    f"{fmt.nombre(row['nb_actions'])} actions ; première thématique : {layout.texte(top['thematique_libelle'])} "
                    f"({fmt.pourcent(top['part'], 0)})")
    # Full width: thématique labels are long, the bars need the room (1366 px screens).
    st.markdown(f"**Thématiques de « {layout.texte(labels[pilier])} » en {annee}**")
    chart = charts.horizontal_bars(them, "thematique_libelle", "montant_accorde")
    table = them[["thematique_libelle", "montant_accorde", "part", "nb_actions"]].rename(columns={
        "thematique_libelle": "Thématique", "montant_accorde": "Montant accordé", "part": "Part (%)",
        "nb_actions": "Actions"})
    layout.chart_and_table(chart, table, f"Thématiques {labels[pilier]} {annee}", "pil_them", {
        "Montant accordé": layout.euro_column("Montant accordé"),
        "Part (%)": st.column_config.NumberColumn("Part (%)", format="%.1f %%")})

    themes = {TOUTES: "Toutes les thématiques",
              **{c: lib for c, lib in zip(them["thematique"], them["thematique_libelle"]) if c is not None}}
    if st.session_state.get("pil_theme") not in themes:
        st.session_state["pil_theme"] = TOUTES
    c1, _ = st.columns([2, 3])
    theme = c1.selectbox("Actions de la thématique", list(themes), format_func=themes.get, key="pil_theme")
    fa = fp if theme == TOUTES else fp.with_(thematiques=(theme,))
    acts = q(qp.actions, fa)
    if acts.empty:
        layout.empty("Aucune action pour cette thématique.")
        return
    n_fin = int(queries.est_financee(acts).sum())
    autres = f" et {fmt.nombre(len(acts) - n_fin)} dossier(s) non financé(s)" if len(acts) > n_fin else ""
    st.markdown(f"**{fmt.nombre(n_fin)} actions financées en {annee}**{autres}, du plus grand montant au plus petit")
    table = acts.assign(
        nouvelle=acts["nouvelle"].map({True: "Nouvelle", False: "Reconduite"}).fillna("—"),
        statut=acts["statut"].map(lambda s: LIBELLES.get(s, s)),
    )[["action_id", "intitule", "porteur", "thematique_libelle", "statut", "nouvelle", "montant_accorde",
       "nb_financeurs"]].rename(columns={
        "action_id": "N° dossier", "intitule": "Action", "porteur": "Porteur", "thematique_libelle": "Thématique",
        "statut": "Statut", "nouvelle": "Nouvelle ?", "montant_accorde": "Montant accordé",
        "nb_financeurs": "Financeurs"})
    layout.table(table, f"Actions {labels[pilier]} {annee}", "pil_actions", {
        "Montant accordé": layout.euro_column("Montant accordé"),
        "Action": st.column_config.TextColumn("Action", width="large")}, height=420)
    if f.split_qpv:
        layout.note(layout.SPLIT_NOTE)


main()
