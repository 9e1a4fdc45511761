"""The shared filter bar: kept across pages, mirrored in the URL, summarised and reset in one click."""

from __future__ import annotations

import streamlit as st

from cdv_core import nomenclatures, queries
from cdv_core.filters import Filtres
from cdv_core.formats import LIBELLES
from ui.data import q, version_key

# Multi-valued filters: URL parameter = Filtres field = session key suffix.
MULTI = ("communes", "qpv", "piliers", "thematiques", "financeurs", "nature", "statut", "porteur_type",
         "dispositifs")
URL_KEYS = ("annees", "contrat", *MULTI)
TOUS = "Tous les contrats"


def _key(name: str) -> str:
    return f"flt_{name}"


def _keep_key(name: str) -> str:
    return f"flt_keep_{name}"


def _restore_widgets() -> None:
    """Widget state can be dropped by Streamlit between pages: re-seed it from our own copy."""
    for name in MULTI + ("contrat",):
        if _key(name) not in st.session_state and _keep_key(name) in st.session_state:
            st.session_state[_key(name)] = st.session_state[_keep_key(name)]


def _keep_widgets() -> None:
    for name in MULTI + ("contrat",):
        if _key(name) in st.session_state:
            st.session_state[_keep_key(name)] = st.session_state[_key(name)]


def _options() -> dict:
    """The filter bar's options, built once per data version and shared by every session (read-only)."""
    return _options_of(version_key())


@st.cache_resource(show_spinner=False, max_entries=4)
def _options_of(version: tuple[str, int]) -> dict:
    opts = q(queries.options)
    return {
        "_frames": opts,
        "annees": [int(y) for y in opts["annees"]["annee"]],
        "contrat": dict(zip(opts["contrats"]["code_contrat"],
                            opts["contrats"]["libelle"] + " — " + opts["contrats"]["generation"], strict=True)),
        "communes": dict(zip(opts["communes"]["code_insee"], opts["communes"]["nom"], strict=True)),
        "qpv": dict(zip(opts["qpv"]["code_qpv"],
                        opts["qpv"]["nom_qpv"] + " (" + opts["qpv"]["code_qpv"] + ")", strict=True)),
        "qpv_geo": dict(zip(opts["qpv"]["code_qpv"], opts["qpv"]["geographie"], strict=True)),
        "piliers": dict(zip(opts["piliers"]["code"], opts["piliers"]["libelle"], strict=True)),
        # each nomenclature's list in turn, named by period ("1.2 Santé (2020-2023)")
        "thematiques": dict(sorted(((c, nomenclatures.libelle_periode(c, lib)) for c, lib in
                                    zip(opts["thematiques"]["code"], opts["thematiques"]["libelle"], strict=True)),
                                   key=lambda kv: nomenclatures.sort_key(kv[0]))),
        "financeurs": dict(zip(opts["financeurs"]["code"], opts["financeurs"]["libelle"], strict=True)),
        "nature": {k: LIBELLES[k] for k in ("specifique", "droit_commun")},
        "statut": {s: LIBELLES.get(s, s) for s in opts["statuts"]["statut"]},
        "porteur_type": {s: LIBELLES.get(s, s) for s in opts["porteur_types"]["porteur_type"]},
        "dispositifs": {d: d for d in opts["dispositifs"]["dispositif"]} if "dispositifs" in opts else {},
    }


def _read_url(options: dict) -> None:
    """Seed the widgets from the URL, keeping only values that exist (a stale link never errors)."""
    params = st.query_params
    years = options["annees"]
    raw = params.get("annees", "")
    lo, hi = (years[0], years[-1]) if years else (None, None)
    if raw:
        parts = raw.replace("..", "-").split("-")
        try:
            a, b = int(parts[0]), int(parts[-1])
            lo, hi = max(min(a, b), years[0]), min(max(a, b), years[-1])
            if lo > hi:
                lo, hi = years[0], years[-1]
        except (ValueError, IndexError):
            pass
    # The year slider gets a new key each time its value is set from outside (URL, reset), so that its
    # `value` is never also set through session state (Streamlit forbids both).
    st.session_state[_keep_key("annees")] = (lo, hi)
    st.session_state["flt_annees_gen"] = st.session_state.get("flt_annees_gen", 0) + 1
    contrat = params.get("contrat", "")
    st.session_state[_key("contrat")] = contrat if contrat in options["contrat"] else TOUS
    for name in MULTI:
        values = [v for v in params.get(name, "").split(",") if v]
        st.session_state[_key(name)] = [v for v in values if v in options[name]]


def _write_url(f: Filtres, years: list[int]) -> None:
    wanted: dict[str, str] = {}
    if f.annees and (min(f.annees), max(f.annees)) != (years[0], years[-1]):
        wanted["annees"] = f"{min(f.annees)}-{max(f.annees)}"
    if f.contrat:
        wanted["contrat"] = f.contrat
    for name in MULTI:
        values = getattr(f, name)
        if values:
            wanted[name] = ",".join(values)
    current = {k: st.query_params.get(k) for k in URL_KEYS if k in st.query_params}
    if current != wanted:
        for k in URL_KEYS:
            if k in st.query_params and k not in wanted:
                del st.query_params[k]
        for k, v in wanted.items():
            st.query_params[k] = v


def reset() -> None:
    """Back to "everything" (used as a button callback)."""
    st.session_state["flt_reset"] = True


def _labels(options: dict, name: str):
    return lambda code: options[name].get(code, code)


def filter_bar() -> Filtres:
    """Draw the filters in the sidebar and return the current selection (also written to the URL)."""
    options = _options()
    years = options["annees"]
    if not years:
        return Filtres()
    if st.session_state.pop("flt_reset", False):
        for k in list(st.query_params.keys()):
            if k in URL_KEYS:
                del st.query_params[k]
        st.session_state.pop("flt_ready", None)
    if not st.session_state.get("flt_ready"):
        _read_url(options)
        st.session_state["flt_ready"] = True
    _restore_widgets()
    sb = st.sidebar
    sb.markdown("### Filtres")
    if len(years) > 1:
        kept = st.session_state.get(_keep_key("annees"), (years[0], years[-1]))
        kept = (min(max(kept[0], years[0]), years[-1]), max(min(kept[1], years[-1]), years[0]))
        kept = tuple(min(years, key=lambda y, k=k: abs(y - k)) for k in kept)
        picked = sb.select_slider("Années", options=years, value=kept,
                                  key=f"{_key('annees')}_{st.session_state.get('flt_annees_gen', 0)}")
        lo, hi = picked if isinstance(picked, (tuple, list)) else (picked, picked)
        st.session_state[_keep_key("annees")] = (lo, hi)
    else:
        lo = hi = years[0]
    contrats = [TOUS, *options["contrat"]]
    contrat = sb.selectbox("Contrat de ville", contrats, key=_key("contrat"),
                           format_func=lambda c: c if c == TOUS else options["contrat"][c])
    communes = sb.multiselect("Communes", list(options["communes"]), key=_key("communes"),
                              format_func=_labels(options, "communes"), placeholder="Toutes")
    qpv_choices = list(options["qpv"])
    if contrat != TOUS:
        gen = "2015" if contrat.startswith("CV") else "2024"
        qpv_choices = [c for c in qpv_choices if options["qpv_geo"][c] == gen or c in st.session_state[_key("qpv")]]
    sb.multiselect("Quartiers (QPV)", qpv_choices, key=_key("qpv"), format_func=_labels(options, "qpv"),
                   placeholder="Tous")
    sb.multiselect("Piliers", list(options["piliers"]), key=_key("piliers"),
                   format_func=_labels(options, "piliers"), placeholder="Tous")
    sb.multiselect("Financeurs", list(options["financeurs"]), key=_key("financeurs"),
                   format_func=_labels(options, "financeurs"), placeholder="Tous")
    with sb.expander("Plus de filtres"):
        st.multiselect("Thématiques", list(options["thematiques"]), key=_key("thematiques"),
                       format_func=_labels(options, "thematiques"), placeholder="Toutes")
        st.multiselect("Nature des crédits", list(options["nature"]), key=_key("nature"),
                       format_func=_labels(options, "nature"), placeholder="Toutes")
        st.multiselect("Statut des actions", list(options["statut"]), key=_key("statut"),
                       format_func=_labels(options, "statut"), placeholder="Tous")
        st.multiselect("Type de porteur", list(options["porteur_type"]), key=_key("porteur_type"),
                       format_func=_labels(options, "porteur_type"), placeholder="Tous")
        st.multiselect("Dispositifs", list(options["dispositifs"]), key=_key("dispositifs"),
                       format_func=_labels(options, "dispositifs"), placeholder="Tous",
                       help="Dispositif des lignes de financement (Cités éducatives, Adultes-relais…) : "
                            "seuls les financements de ces dispositifs sont comptés.")
    f = Filtres(
        annees=tuple(y for y in years if lo <= y <= hi),
        contrat=None if contrat == TOUS else contrat,
        communes=tuple(communes),
        **{name: tuple(st.session_state[_key(name)]) for name in MULTI if name != "communes"},
    )
    _keep_widgets()
    _write_url(f, years)
    sb.button("Réinitialiser les filtres", on_click=reset, width="stretch", disabled=is_default(f, years))
    st.session_state["flt_options"] = options
    return f


def keep() -> None:
    """On a page without the filter bar: keep the filters for the next page that has it.

    Streamlit forgets the value of a widget that a run does not draw; writing the values back keeps them.
    """
    _restore_widgets()
    for name in MULTI + ("contrat",):
        key = _key(name)
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def narrow_from_chart(chart_key: str, selection: str, field: str, codes: dict[str, str], name: str) -> None:
    """Chart click callback: narrow the shared filter `name` to the clicked marks (labels mapped to codes)."""
    event = st.session_state.get(chart_key) or {}
    points = (event.get("selection") or {}).get(selection) or []
    picked = [codes[p[field]] for p in points if p.get(field) in codes]
    if picked:
        st.session_state[_key(name)] = picked
        st.session_state[_keep_key(name)] = picked


def is_default(f: Filtres, years: list[int]) -> bool:
    return f.with_(annees=()).is_empty() and (not f.annees or (min(f.annees), max(f.annees)) == (years[0], years[-1]))


def summary(f: Filtres) -> str:
    """Active filters in one French sentence ("Années 2016 à 2022 · Financeurs : CAF"), from the options already
    read for the filter bar (no query)."""
    return queries.resume_filtres_options(_options()["_frames"], f)
