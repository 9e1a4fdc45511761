"""Chart builders: pure functions, DataFrame in, Altair chart out (French formats, colour-blind-safe)."""

from __future__ import annotations

import altair as alt
import pandas as pd

# Okabe-Ito, then darker/lighter companions: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
           "#8C6D31", "#7F7F7F", "#AD494A", "#393B79", "#637939", "#BD9E39"]

# d3 locale: `1 234 567 €`, `12,5 %` on axes and tooltips.
LOCALE_FR = {
    "number": {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", "\u00a0€"],
               "percent": "\u00a0%"},
    "time": {
        "dateTime": "%A %e %B %Y à %X", "date": "%d/%m/%Y", "time": "%H:%M:%S",
        "periods": ["AM", "PM"],
        "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        "months": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                   "octobre", "novembre", "décembre"],
        "shortMonths": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
                        "nov.", "déc."],
    },
}

EURO_AXIS = alt.Axis(format="$,.0f", title=None, labelFontSize=15, titleFontSize=16, grid=True)


def _style(chart: alt.Chart | alt.LayerChart, height: int = 420) -> alt.Chart:
    return (
        chart.properties(height=height, usermeta={"embedOptions": {"formatLocale": LOCALE_FR["number"],
                                                                    "timeFormatLocale": LOCALE_FR["time"]}})
        .configure(locale=LOCALE_FR, font="Marianne, Arial, sans-serif")
        .configure_axis(labelFontSize=15, titleFontSize=16, labelLimit=360)
        .configure_legend(labelFontSize=15, titleFontSize=15, labelLimit=360, orient="bottom", columns=2)
        .configure_view(strokeWidth=0)
    )


def color_scale(domain: list[str]) -> alt.Scale:
    """Stable colours for a list of labels."""
    return alt.Scale(domain=domain, range=[PALETTE[i % len(PALETTE)] for i in range(len(domain))])


def stacked_by_year(df: pd.DataFrame, category: str, category_title: str, value: str = "montant_accorde",
                    order: list[str] | None = None, height: int = 440) -> alt.Chart:
    """Stacked columns of `value` per year (`annee`), one colour per `category`."""
    domain = order or (df.groupby(category)[value].sum().sort_values(ascending=False).index.tolist())
    chart = alt.Chart(df).mark_bar().encode(
        x=alt.X("annee:O", title=None, axis=alt.Axis(labelAngle=0, labelFontSize=15)),
        y=alt.Y(f"sum({value}):Q", axis=EURO_AXIS, stack="zero"),
        color=alt.Color(f"{category}:N", title=category_title, scale=color_scale(domain),
                        sort=domain),
        order=alt.Order("rang:Q"),
        tooltip=[alt.Tooltip("annee:O", title="Année"), alt.Tooltip(f"{category}:N", title=category_title),
                 alt.Tooltip(f"{value}:Q", title="Montant", format="$,.0f")],
    ).transform_calculate(
        rang=f"indexof({domain!r}, datum['{category}'])"
    )
    return _style(chart, height)


def horizontal_bars(df: pd.DataFrame, label: str, value: str, value_title: str = "Montant accordé",
                    euros: bool = True, height: int | None = None, selection: str | None = None,
                    extra_tooltip: list[alt.Tooltip] | None = None) -> alt.Chart:
    """Horizontal bars of `value` per `label`, longest first, with the value written at the end of the bar."""
    fmt = "$,.0f" if euros else ",.0f"
    base = alt.Chart(df).encode(
        y=alt.Y(f"{label}:N", sort="-x", title=None, axis=alt.Axis(labelFontSize=15, labelLimit=420)),
        x=alt.X(f"{value}:Q", title=value_title, axis=alt.Axis(format=fmt, labelFontSize=14)),
        tooltip=[alt.Tooltip(f"{label}:N", title="Libellé"),
                 alt.Tooltip(f"{value}:Q", title=value_title, format=fmt), *(extra_tooltip or [])],
    )
    bars = base.mark_bar(color=PALETTE[0])
    if selection:
        sel = alt.selection_point(name=selection, fields=[label], on="click")
        bars = bars.add_params(sel).encode(
            opacity=alt.condition(sel, alt.value(1.0), alt.value(0.55)))
    text = base.mark_text(align="left", dx=6, fontSize=15).encode(text=alt.Text(f"{value}:Q", format=fmt))
    return _style(bars + text, height or max(140, 44 * len(df)))


def line_by_year(df: pd.DataFrame, value: str, title: str, category: str | None = None,
                 category_title: str = "", euros: bool = True, height: int = 380) -> alt.Chart:
    """Lines of `value` per year, one per `category` (or a single line)."""
    fmt = "$,.0f" if euros else ",.1f"
    enc = {
        "x": alt.X("annee:O", title=None, axis=alt.Axis(labelAngle=0)),
        "y": alt.Y(f"{value}:Q", title=title, axis=alt.Axis(format=fmt)),
        "tooltip": [alt.Tooltip("annee:O", title="Année"), alt.Tooltip(f"{value}:Q", title=title, format=fmt)],
    }
    if category:
        enc["color"] = alt.Color(f"{category}:N", title=category_title,
                                 scale=color_scale(sorted(df[category].dropna().unique().tolist())))
        enc["tooltip"].insert(1, alt.Tooltip(f"{category}:N", title=category_title))
    chart = alt.Chart(df).mark_line(point=alt.OverlayMarkDef(size=80), strokeWidth=3).encode(**enc)
    return _style(chart, height)
