"""Quartiers: map and ranking of the QPV on a chosen measure, and the fiche of one quartier."""

from __future__ import annotations

import streamlit as st

from cdv_core import charts, fmt, maps, queries
from cdv_core import queries_quartiers as qq
from cdv_core.filters import Filtres
from cdv_core.formats import LIBELLES
from cdv_core.sections.engagements import indicateurs_en_serie
from ui import filters, layout, require_app, show
from ui.data import q, section

require_app()

FICHE_KEY = "qp_fiche"  # selectbox holding the QPV whose fiche is shown
URL_KEY = "qpv_fiche"  # its mirror in the URL (the shared filters' `qpv` is another thing)
GEO_KEY = "qp_geo"
GEO_LABELS = {"2015": "Quartiers 2015 (contrats 2015–2023)", "2024": "Quartiers 2024 (contrats 2024–2030)"}


def periode(annees: tuple[int, ...]) -> str:
    if not annees:
        return "Sur la période"
    lo, hi = min(annees), max(annees)
    return f"En {lo}" if lo == hi else f"De {lo} à {hi}"


def choose(code: str | None) -> None:
    """Show the fiche of `code` (from a click on the map, a bar or a table row)."""
    if code:
        st.session_state[FICHE_KEY] = code


def main() -> None:
    f: Filtres = st.session_state.get("filtres", Filtres())
    geos = q(qq.geographies, f)
    if geos.empty:
        st.title("Quartiers prioritaires")
        layout.filters_line(filters.summary(f))
        layout.empty("Aucune action ne concerne un quartier pour les années choisies. Élargissez la sélection "
                     "ou réinitialisez les filtres.")
        return
    geo_codes = list(geos["geographie"])
    latest = str(geos.sort_values("annee_max")["geographie"].iloc[-1])
    if GEO_KEY not in st.session_state or st.session_state[GEO_KEY] not in geo_codes:
        # A shared link to a fiche opens the fiche's geography; otherwise that of the latest selected year.
        linked = q(qq.fiche, st.query_params.get(URL_KEY, "")) if st.query_params.get(URL_KEY) else None
        st.session_state[GEO_KEY] = linked["geographie"] if linked and linked["geographie"] in geo_codes else latest

    head = st.container()
    c_geo, c_mes = st.columns([3, 2], vertical_alignment="bottom")
    with c_geo:
        if len(geo_codes) > 1:
            st.segmented_control("Géographie", geo_codes, key=GEO_KEY, format_func=GEO_LABELS.get,
                                 required=True)
            layout.note("Les années choisies couvrent les deux géographies prioritaires : les quartiers de 2015 "
                        "(codes QP…) et ceux de 2024 (codes QN…) ne se comparent pas, la page en montre une à la "
                        "fois.")
    geo = st.session_state[GEO_KEY]
    annees = q(qq.annees_geographie, f, geo)
    inds = q(qq.indicateurs_disponibles, geo)
    mesures = {**qq.MESURES, **{f"ind:{c}": lib for c, lib in zip(inds["code"], inds["libelle"], strict=True)}}
    unites = dict(zip(inds["code"], inds["unite"], strict=True))
    with c_mes:
        mesure = st.selectbox("Mesure affichée sur la carte et le classement", list(mesures),
                              format_func=mesures.get, key="qp_mesure")
    indicateur = mesure[4:] if mesure.startswith("ind:") else None
    col = "indicateur_valeur" if indicateur else mesure
    label = mesures[mesure]
    fmt_value = qq.formateur(mesure, unites.get(indicateur))

    df = q(qq.mesures_qpv, f, geo, indicateur)
    if df.empty:
        head.title("Quartiers prioritaires")
        with head:
            layout.filters_line(filters.summary(f))
        layout.empty("Aucun quartier ne correspond aux filtres choisis (contrat, communes, quartiers).")
        return
    dup = df["nom_qpv"].duplicated(keep=False)
    df = df.assign(libelle=df["nom_qpv"].where(~dup, df["nom_qpv"] + " (" + df["code_qpv"] + ")"))
    ranked = df.dropna(subset=[col]).sort_values([col, "nom_qpv"], ascending=[False, True], ignore_index=True)
    per = periode(annees)
    if ranked.empty or (not indicateur and ranked[col].max() == 0):
        head.title(f"{per}, aucun montant pour ces quartiers" if not indicateur else
                   f"« {label} » n'est pas disponible pour ces quartiers")
    else:
        top = ranked.iloc[0]
        verbe = {"montant_par_habitant": "reçoit le plus par habitant", "montant_accorde": "reçoit le plus",
                 "nb_actions": "compte le plus d'actions"}.get(mesure)
        if verbe:
            head.title(f"{per}, {layout.texte(top['nom_qpv'])} {verbe} : {fmt_value(top[col])}")
        else:
            head.title(f"{layout.texte(top['nom_qpv'])} a la valeur la plus élevée de « {layout.texte(label)} » : {fmt_value(top[col])}"
                       f" ({int(top['indicateur_annee'])})")
    with head:
        layout.filters_line(filters.summary(f) + f" · Géographie {geo}")

    codes = list(df["code_qpv"])
    current = st.session_state.get(FICHE_KEY)
    if current not in codes:
        linked = st.query_params.get(URL_KEY)
        st.session_state[FICHE_KEY] = linked if linked in codes else (ranked["code_qpv"].iloc[0]
                                                                       if not ranked.empty else codes[0])
    selected = st.session_state[FICHE_KEY]

    left, right = st.columns([1, 1], gap="large")
    with left:
        carte(df, geo, col, label, fmt_value, selected)
    with right:
        classement(ranked, df, col, label, fmt_value, indicateur, unites.get(indicateur), per)
    layout.note(layout.SPLIT_NOTE)

    st.divider()
    names = dict(zip(df["code_qpv"], df["libelle"] + " — " + df["code_qpv"], strict=True))
    st.selectbox("Quartier affiché dans la fiche", sorted(codes, key=lambda c: names[c]), key=FICHE_KEY,
                 format_func=names.get,
                 help="Cliquez aussi sur un quartier de la carte, une barre ou une ligne du classement.")
    code = st.session_state[FICHE_KEY]
    if st.query_params.get(URL_KEY) != code:
        st.query_params[URL_KEY] = code
    fiche(f, code, df[df["code_qpv"] == code].iloc[0], annees, per)


def carte(df, geo: str, col: str, label: str, fmt_value, selected: str) -> None:
    st.subheader(f"Carte : {label.lower() if not label.startswith('Taux') else label}")
    contours = q(queries.qpv_contours)
    without = df[~df["code_qpv"].isin(contours["code_qpv"])]
    if len(without) == len(df):
        if geo == "2015":
            layout.empty(f"Les contours des quartiers de la géographie 2015 ne sont pas disponibles : la carte ne "
                         f"peut pas être dessinée. Les {len(df)} quartiers figurent dans le classement ci-contre.")
        else:
            layout.empty("Aucun contour n'est disponible pour ces quartiers : la carte ne peut pas être dessinée "
                         "(voir le classement).")
        return
    commune_codes = tuple(sorted(q(qq.communes_des_qpv, tuple(df["code_qpv"]))))
    built = maps.qpv_map(contours, df, col, label, fmt_value, communes=q(queries.commune_contours, commune_codes),
                         height=620)
    if built is None:  # pragma: no cover - excluded above
        return
    deck, legend = built
    mark = maps.highlight_layer(contours, selected)
    if mark is not None:
        deck.layers.append(mark)

    def on_map() -> None:
        objects = st.session_state["qp_map"].selection.get("objects", {}).get("qpv", [])
        if objects:
            choose((objects[0].get("properties") or {}).get("code_qpv"))

    st.pydeck_chart(deck, width="stretch", height=620, key="qp_map", on_select=on_map,
                    selection_mode="single-object")
    st.markdown(maps.legend_html(legend), unsafe_allow_html=True)
    if not without.empty:
        layout.note(f"Sans contour sur la carte ({len(without)}) : "
                    + ", ".join(f"{n} ({c})" for n, c in zip(without["nom_qpv"], without["code_qpv"], strict=True))
                    + ".")
    layout.note("Le quartier dont la fiche est affichée est entouré en orange. Survolez un quartier pour sa valeur ; "
                "cliquez pour ouvrir sa fiche.")


def classement(ranked, df, col: str, label: str, fmt_value, indicateur: str | None, unite: str | None,
               per: str) -> None:
    st.subheader(f"Classement des quartiers : {label.lower() if not label.startswith('Taux') else label}")
    if ranked.empty:
        layout.empty(f"Aucune valeur de « {label} » n'est disponible pour ces quartiers jusqu'aux années choisies.")
        return
    euros = col in ("montant_accorde", "montant_par_habitant") or unite == "€"
    title = label + (f" ({unite})" if unite and unite not in ("€",) else "")
    # A bar chart stays readable up to a few dozen quartiers; the table keeps them all.
    shown = ranked.head(layout.MAX_BARS)
    chart = charts.horizontal_bars(shown, "libelle", col, value_title=title, euros=euros,
                                   height=max(160, 30 * len(shown) + 50), selection="qp_bar")
    by_label = dict(zip(ranked["libelle"], ranked["code_qpv"], strict=True))

    def on_bar() -> None:
        points = st.session_state["qp_bars"].selection.get("qp_bar") or []
        if points:
            choose(by_label.get(points[0].get("libelle")))

    table = ranked[["libelle", "code_qpv", "communes", "population", "montant_accorde", "nb_actions",
                    "montant_par_habitant"]].rename(columns={
        "libelle": "Quartier", "code_qpv": "Code", "communes": "Communes", "population": "Population",
        "montant_accorde": "Montant accordé", "nb_actions": "Actions", "montant_par_habitant": "€ par habitant"})
    config = {"Montant accordé": layout.euro_column("Montant accordé"),
              "€ par habitant": st.column_config.NumberColumn("€ par habitant", format="%.1f €"),
              "Population": st.column_config.NumberColumn("Population", format="localized")}
    if indicateur:
        table[label] = ranked["indicateur_valeur"]
        table["Année de l'indicateur"] = ranked["indicateur_annee"].astype("Int64").astype(str)
        config[label] = st.column_config.NumberColumn(label, format="%.1f" + (f" {unite}" if unite else ""))
    codes = list(ranked["code_qpv"])

    def on_row() -> None:
        rows = st.session_state["df_qp_rank"].selection.get("rows") or []
        if rows:
            choose(codes[rows[0]])

    t1, t2 = st.tabs([":material/bar_chart: Graphique", ":material/table: Tableau"])
    with t1:
        layout.vega(chart, key="qp_bars", on_select=on_bar)
        if len(ranked) > len(shown):
            layout.note(f"Les {len(shown)} premiers des {len(ranked)} quartiers ; tous sont dans l'onglet Tableau.")
    with t2:
        layout.table(table, f"Quartiers {label} {per}", "qp_rank", config, on_select=on_row,
                     selection_mode="single-row")
    missing = df[df[col].isna()]
    if not missing.empty:
        layout.note(f"Sans valeur ({len(missing)}) : " + ", ".join(missing["nom_qpv"]) + ".")
    layout.note("Cliquez sur une barre ou une ligne du tableau pour ouvrir la fiche du quartier.")


def fiche(f: Filtres, code: str, mesure_row, annees: tuple[int, ...], per: str) -> None:
    ident = q(qq.fiche, code)
    if ident is None:
        layout.empty("Ce quartier n'existe pas dans le référentiel.")
        return
    st.header(f"Fiche du quartier {layout.texte(ident['nom_qpv'])} ({code})")
    communes = ", ".join(n for _, n in ident["communes"]) or "—"
    epci = ", ".join(n for _, n in ident["epci"]) or "—"
    contrat = (f"{ident['contrat_libelle']} ({ident['contrat']})" if ident["contrat_libelle"]
               else (ident["contrat"] or "—"))
    st.markdown(f"**Géographie {ident['geographie']}** · Contrat de ville : {layout.texte(contrat)} · "
                f"Commune{'s' if len(ident['communes']) > 1 else ''} : {layout.texte(communes)} · "
                f"Intercommunalité : {layout.texte(epci)}")
    m = st.columns(4)
    m[0].metric("Population", fmt.nombre(ident["population"]))
    m[1].metric(f"Montant accordé ({per.lower()})", fmt.euros(mesure_row["montant_accorde"]),
                help="Part du quartier : une action menée dans plusieurs quartiers compte à parts égales.")
    m[2].metric("Actions", fmt.nombre(mesure_row["nb_actions"]))
    m[3].metric("Par habitant", fmt.euros(mesure_row["montant_par_habitant"]))

    fq = f.with_(annees=annees or f.annees)
    st.subheader("Indicateurs du quartier et de son territoire")
    long = q(qq.comparaison_indicateurs, code, max(annees) if annees else None)
    if long.empty:
        layout.empty("Aucun indicateur n'est disponible pour ce quartier.")
    else:
        layout.table(qq.tableau_indicateurs(long), f"Indicateurs {code}", "qp_ind")
        layout.note("Valeur la plus récente jusqu'à la dernière année choisie ; entre parenthèses, l'année "
                    "d'une valeur qui n'est pas celle du quartier. « — » : pas de donnée.")
    # Engagements (issue 10): the quartier's roadmap, its indicators over time and whether the gaps narrow.
    show.section(section("feuille_de_route", f, qpv=code), key="qp_fdr")
    for ind in q(indicateurs_en_serie, code):
        show.section(section("quartier_serie", f, qpv=code, indicateur=ind), key=f"qp_serie_{ind}")
    show.section(section("quartier_rattrapage", f, qpv=code), key="qp_ratt")

    cols = st.columns(2, gap="large")
    for column, par, title in ((cols[0], "financeur", "Financeur"), (cols[1], "pilier", "Pilier")):
        with column:
            st.subheader(f"Financements du quartier par année et par {title.lower()}")
            fin = q(qq.financements_qpv, fq, code, par)
            if fin.empty:
                layout.empty(f"Aucun financement accordé à ce quartier {per.lower()} pour ces filtres.")
                continue
            chart = charts.stacked_by_year(fin, "libelle", title)
            table = (fin.pivot_table(index="libelle", columns="annee", values="montant_accorde", aggfunc="sum",
                                     fill_value=0).reset_index().rename(columns={"libelle": title}))
            table.columns = [str(c) for c in table.columns]
            layout.chart_and_table(chart, table, f"Financements {code} par {title.lower()}", f"qp_fin_{par}",
                                   {c: layout.euro_column(c) for c in table.columns if c != title})

    actions = q(qq.actions_qpv, fq, code)
    st.subheader(f"Actions menées dans le quartier ({fmt.nombre(len(actions))})")
    if actions.empty:
        layout.empty(f"Aucune action ne concerne ce quartier {per.lower()} pour ces filtres.")
    else:
        table = actions.assign(statut=actions["statut"].map(lambda s: LIBELLES.get(s, s)))[
            ["annee", "porteur", "intitule", "pilier", "montant_qpv", "montant_total", "nb_qpv", "statut"]].rename(
            columns={"annee": "Année", "porteur": "Porteur", "intitule": "Intitulé", "pilier": "Pilier",
                     "montant_qpv": "Part du quartier", "montant_total": "Montant total de l'action",
                     "nb_qpv": "Quartiers concernés", "statut": "Statut"})
        layout.table(table, f"Actions {code}", "qp_actions", {
            "Année": st.column_config.NumberColumn("Année", format="%d"),
            "Part du quartier": layout.euro_column("Part du quartier"),
            "Montant total de l'action": layout.euro_column("Montant total de l'action"),
            "Intitulé": st.column_config.TextColumn("Intitulé", width="large"),
        }, height=min(600, 38 + 35 * len(table)))
        layout.note("Cliquez sur un en-tête de colonne pour trier. " + layout.SPLIT_NOTE)


main()
