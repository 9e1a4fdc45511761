"""Chart builders: pure functions, DataFrame in, Vega-Lite chart out (French formats, colour-blind-safe).

The builders are written with Altair's calls, served by `cdv_core.vl`, which writes the specification directly as a
dict (the same one Altair writes: tests/test_vl.py)."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import altair
import numpy as np
import pandas as pd

from cdv_core import palette
from cdv_core import vl as alt


def _values(data: Any, max_rows: int | None = 5000) -> Any:
    """Altair's data transformer, faster on the plain tables the builders hand it (strings, numbers,
    booleans): `DataFrame.to_dict` gives the same values as Altair's sanitising (native Python numbers, NaN as
    null) for a fraction of its cost. Any other table goes through Altair's own transformer."""
    if isinstance(data, pd.DataFrame) and all(
            pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t) or pd.api.types.is_object_dtype(t)
            or pd.api.types.is_string_dtype(t) for t in data.dtypes) and not any(
            isinstance(v, (pd.Timestamp, pd.Period)) for c in data.columns if data[c].dtype == object
            for v in data[c].head(1)):
        if max_rows is not None and len(data) > max_rows:
            # raises as Altair does
            return altair.vegalite.data.default_data_transformer(data, max_rows=max_rows)
        names = [str(c) for c in data.columns]
        columns = [_column_values(data.iloc[:, i]) for i in range(data.shape[1])]
        return {"values": [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]}
    return altair.vegalite.data.default_data_transformer(data, max_rows=max_rows)  # type: ignore[arg-type]


def _column_values(column: pd.Series) -> list:
    """A column as native Python values, None where missing: what `astype(object).where(notna(), None)
    .to_dict("records")` gives, column by column (a quarter of its cost on a chart's table)."""
    values = column.to_numpy(dtype=object).tolist()
    if column.dtype == object:
        values = [v.item() if isinstance(v, np.generic) else v for v in values]
    missing = column.isna().to_numpy()
    if missing.any():
        values = [None if gone else v for v, gone in zip(values, missing.tolist(), strict=True)]
    return values


alt.data_transformer = _values

def spec(chart: Any) -> dict:
    """The Vega-Lite dict of a chart (`cdv_core.vl`, or Altair's for the few charts written with it), unvalidated
    (the builders are tested; validating every chart would cost most of a page's time); a dict is returned as it
    is."""
    return chart if isinstance(chart, dict) else chart.to_dict(validate=False)


# Every colour comes from `cdv_core.palette` (one mapping for pages, slides, PDF and PPTX). `PALETTE` keeps
# the Okabe-Ito order for the few single-series marks that index it.
PALETTE = list(palette.AUTRES)
# Long labels (quartiers, funders) take at most this share of the chart's width, so bars always have room;
# 420 px where the container is unknown (PDF rendering).
LABEL_LIMIT = {"expr": "containerSize()[0] > 0 ? max(120, containerSize()[0] * 0.36) : 420"}

# d3 locale: `1 234 567 €`, `12,5 %` on axes and tooltips.
LOCALE_FR: dict[str, Any] = {
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


# The look every chart shares (French locale, fonts, axes, legends), one Vega-Lite `config`. No ARIA text of
# Vega's own: it is English ("X-axis for a discrete scale with 12 values", "Sum of montant_accorde"); a chart is
# read through its headline, the heading above it, and its table (the "Tableau" tab, the dossier).
CONFIG: dict[str, Any] = {
    "aria": False, "mark": {"aria": False}, "locale": LOCALE_FR, "font": "Marianne, Arial, sans-serif",
    "axis": {"labelFontSize": 15, "titleFontSize": 16, "labelLimit": 360, "labelColor": palette.TEXTE_AXES,
             "titleColor": palette.TEXTE_AXES},
    "legend": {"labelFontSize": 15, "titleFontSize": 15, "labelLimit": 360, "orient": "bottom", "columns": 2,
               "labelColor": palette.TEXTE_AXES, "titleColor": palette.TEXTE_AXES},
    "view": {"strokeWidth": 0},
}
USERMETA = {"embedOptions": {"formatLocale": LOCALE_FR["number"], "timeFormatLocale": LOCALE_FR["time"]}}


def _style(chart: Any, height: int | dict = 420) -> Any:
    """The shared look and the height, set on the chart just built."""
    chart.height = height
    chart.usermeta = USERMETA
    chart.config = alt.Config(**CONFIG)
    return chart


def _ordered(data: pd.DataFrame, label: str, order: list) -> tuple[pd.DataFrame, dict]:
    """The data with the rank of each row's label in `order` (column `ordre`: the label's first place), and the
    axis sort that reads it: the order of the explicit list `order`, but a specification that does not change
    when the data do, so that the browser updates the chart in place at a filter change instead of drawing it
    anew (Streamlit draws again a chart whose specification, data set aside, changed)."""
    ranks: dict = {}
    for i, value in enumerate(order):
        ranks.setdefault(value, i)
    return data.assign(ordre=data[label].map(ranks)), {"field": "ordre", "op": "min"}


BAR_STEP = 44  # px per bar of the horizontal bar charts


def _bars_height(df: pd.DataFrame, label: str, minimum: int, height: int | None) -> int | dict:
    """The height of a horizontal bar chart: `height` if given, else 44 px a bar and at least `minimum`. From the
    bars that fill more than `minimum`, said as a step of 44 px (Vega-Lite then makes the chart 44 px × bars, the
    same drawing as that height given in pixels): a spec that does not change with the number of bars, so that the
    browser updates the chart in place."""
    if height:
        return height
    n = len(df)
    if BAR_STEP * n > minimum and df[label].nunique(dropna=False) == n:
        return alt.Step(BAR_STEP)
    return max(minimum, BAR_STEP * n)


def color_scale(domain: list[str]) -> dict:
    """The palette's colour of each label (a funder, a pillar, a nature, a family keeps its colour everywhere)."""
    return alt.Scale(domain=list(domain), range=palette.couleurs(domain))


def stacked_by_year(df: pd.DataFrame, category: str, category_title: str, value: str = "montant_accorde",
                    order: list[str] | None = None, height: int = 440, partielle: int | None = None) -> alt.Chart:
    """Stacked columns of `value` per year (`annee`), one colour per `category` (the palette's); the year
    `partielle` (in progress) is pale and labelled "en cours"."""
    present = set(df[category].dropna())
    domain = ([c for c in order if c in present] if order else
              df.groupby(category)[value].sum().sort_values(ascending=False).index.tolist())
    partial = partielle if partielle is not None and partielle in set(df["annee"]) else None
    label_expr = (f"datum.value == {partial} ? ['{partial}', '(en cours)'] : datum.label" if partial is not None
                  else "datum.label")
    enc = dict(
        x=alt.X("annee:O", title=None, axis=alt.Axis(labelAngle=0, labelFontSize=15, labelExpr=label_expr)),
        y=alt.Y(f"sum({value}):Q", axis=EURO_AXIS, stack="zero"),
        color=alt.Color(f"{category}:N", title=category_title, scale=color_scale(domain),
                        sort=domain),
        order=alt.Order("rang:Q"),
        tooltip=[alt.Tooltip("annee:O", title="Année"), alt.Tooltip(f"{category}:N", title=category_title),
                 alt.Tooltip(f"sum({value}):Q", title="Montant", format="$,.0f")],
    )
    if partial is not None:
        enc["opacity"] = alt.condition(f"datum.annee == {partial}", alt.value(0.45), alt.value(1.0))
    chart = alt.Chart(df).mark_bar().encode(**enc).transform_calculate(
        rang=f"indexof({domain!r}, datum['{category}'])"
    )
    return _style(chart, height)


def horizontal_bars(df: pd.DataFrame, label: str, value: str, value_title: str = "Montant accordé",
                    euros: bool = True, height: int | None = None, selection: str | None = None,
                    extra_tooltip: list[dict] | None = None, colour_by_label: bool = False) -> alt.Chart:
    """Horizontal bars of `value` per `label`, longest first, with the value written at the end of the bar;
    `colour_by_label`: each bar in its label's palette colour (funders' families, pillars), no legend."""
    fmt = "$,.0f" if euros else ",.0f"
    # An explicit order: "-x" is lost when a layer adds its own encodings (colour by label).
    data, order = _ordered(df, label, df.sort_values(value, ascending=False, kind="stable")[label].tolist())
    base = alt.Chart().encode(
        y=alt.Y(f"{label}:N", sort=order, title=None, axis=alt.Axis(labelFontSize=15, labelLimit=LABEL_LIMIT)),
        x=alt.X(f"{value}:Q", title=value_title, axis=alt.Axis(format=fmt, labelFontSize=14)),
        tooltip=[alt.Tooltip(f"{label}:N", title="Libellé"),
                 alt.Tooltip(f"{value}:Q", title=value_title, format=fmt), *(extra_tooltip or [])],
    )
    bars = base.mark_bar(color=palette.SERIE)
    if colour_by_label:
        labels = df[label].dropna().tolist()
        bars = base.mark_bar().encode(color=alt.Color(f"{label}:N", legend=None, scale=color_scale(labels)))
    if selection:
        sel = alt.selection_point(name=selection, fields=[label], on="click")
        bars = bars.add_params(sel).encode(
            opacity=alt.condition(sel, alt.value(1.0), alt.value(0.55)))
    text = base.mark_text(align="left", dx=6, fontSize=15).encode(text=alt.Text(f"{value}:Q", format=fmt))
    return _style(alt.layer(bars, text, data=data), _bars_height(df, label, 140, height))


def line_by_year(df: pd.DataFrame, value: str, title: str, category: str | None = None,
                 category_title: str = "", euros: bool = True, height: int = 380) -> alt.Chart:
    """Lines of `value` per year, one per `category` (or a single line)."""
    fmt = "$,.0f" if euros else ",.1f"
    enc: dict[str, Any] = {
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


# --------------------------------------------------------------------------- builders of the Piliers / Financeurs pages

# How a measure is written on axes, labels and tooltips. "part" values are percentages (12.5 for 12,5 %).
FORMATS = {"euros": "$,.0f", "euros_ratio": "$,.2f", "nombre": ",.0f", "part": ".1%", "ratio": ",.2f"}


def _measure(df: pd.DataFrame, value: str, kind: str) -> tuple[str, str]:
    """Field to encode and its d3 format; percentages are divided by 100 for the `%` format."""
    if kind == "part":
        return f"{value}_ratio", FORMATS["part"]
    return value, FORMATS[kind]


def _prepared(df: pd.DataFrame, value: str, kind: str) -> pd.DataFrame:
    if kind == "part":
        return df.assign(**{f"{value}_ratio": df[value] / 100})
    return df


def stacked_columns(df: pd.DataFrame, category: str, category_title: str, value: str = "montant_accorde",
                    value_title: str = "Montant accordé", kind: str = "euros", normalize: bool = False,
                    x: str = "annee", order: list[str] | None = None, height: int = 440) -> alt.Chart:
    """Stacked columns of `value` per `x` (years), one colour per `category`; `normalize` stacks to 100 %."""
    domain = order or df.groupby(category)[value].sum().sort_values(ascending=False).index.tolist()
    fmt = ".0%" if normalize else FORMATS[kind]
    data = df.assign(rang=df[category].map({c: i for i, c in enumerate(domain)}))
    tooltip = [alt.Tooltip(f"{x}:O", title="Année" if x == "annee" else x),
               alt.Tooltip(f"{category}:N", title=category_title),
               alt.Tooltip(f"{value}:Q", title=value_title, format=FORMATS[kind])]
    if "part" in df.columns and value != "part":
        data = data.assign(part_ratio=data["part"] / 100)
        tooltip.append(alt.Tooltip("part_ratio:Q", title="Part de l'année", format=".1%"))
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X(f"{x}:O", title=None, axis=alt.Axis(labelAngle=0, labelFontSize=15)),
        y=alt.Y(f"sum({value}):Q", title=None, stack="normalize" if normalize else "zero",
                axis=alt.Axis(format=fmt, labelFontSize=15, grid=True)),
        color=alt.Color(f"{category}:N", title=category_title, scale=color_scale(domain), sort=domain),
        order=alt.Order("rang:Q"),
        tooltip=tooltip,
    )
    return _style(chart, height)


def value_columns(df: pd.DataFrame, x: str, value: str, value_title: str, kind: str = "euros",
                  x_title: str | None = None, height: int = 380, color: str = palette.SERIE) -> alt.Chart:
    """Vertical columns of `value` per `x` (ordinal), the value written above each column."""
    field, fmt = _measure(df, value, kind)
    data = _prepared(df, value, kind)
    base = alt.Chart().encode(
        x=alt.X(f"{x}:O", title=x_title, axis=alt.Axis(labelAngle=0, labelFontSize=15)),
        y=alt.Y(f"{field}:Q", title=None, axis=alt.Axis(format=fmt, labelFontSize=14, grid=True)),
        tooltip=[alt.Tooltip(f"{x}:O", title=x_title or "Année"),
                 alt.Tooltip(f"{field}:Q", title=value_title, format=fmt)],
    )
    bars = base.mark_bar(color=color)
    text = base.mark_text(dy=-10, fontSize=15).encode(text=alt.Text(f"{field}:Q", format=fmt))
    return _style(alt.layer(bars, text, data=data), height)


def change_bars(df: pd.DataFrame, label: str, value: str = "evolution", value_title: str = "Évolution",
                kind: str = "euros", height: int | None = None) -> alt.Chart:
    """Horizontal bars of a change (positive right in blue, negative left in orange), largest first."""
    field, fmt = _measure(df, value, kind)
    data = _prepared(df, value, kind)
    data = data.assign(sens=["Hausse" if v >= 0 else "Baisse" for v in data[value]], zero=0.0)
    data, order = _ordered(data, label, data.sort_values(value, ascending=False)[label].tolist())
    base = alt.Chart().encode(
        y=alt.Y(f"{label}:N", sort=order, title=None, axis=alt.Axis(labelFontSize=15, labelLimit=LABEL_LIMIT)),
        x=alt.X(f"{field}:Q", title=value_title, axis=alt.Axis(format=fmt, labelFontSize=14)),
        tooltip=[alt.Tooltip(f"{label}:N", title="Libellé"),
                 alt.Tooltip(f"{field}:Q", title=value_title, format=fmt)],
    )
    bars = base.mark_bar().encode(color=alt.Color("sens:N", title=None, legend=None,
                                                  scale=alt.Scale(domain=["Hausse", "Baisse"],
                                                                  range=[palette.HAUSSE, palette.BAISSE])))
    text_enc = alt.Text(f"{field}:Q", format=fmt)
    right = base.mark_text(align="left", dx=6, fontSize=15).encode(text=text_enc).transform_filter(
        f"datum['{field}'] >= 0")
    # A decrease is written right of the zero line, so it never runs into the axis labels.
    left = base.mark_text(align="left", dx=6, fontSize=15).encode(x=alt.X("zero:Q"), text=text_enc).transform_filter(
        f"datum['{field}'] < 0")
    zero = base.mark_rule(color=palette.INK).encode(x=alt.X("zero:Q"))
    return _style(alt.layer(bars, right, left, zero, data=data), _bars_height(df, label, 160, height))


def paired_bars(df: pd.DataFrame, label: str, values: dict[str, str], kind: str = "euros",
                height: int | None = None) -> alt.Chart:
    """Horizontal bars side by side per `label`: one bar per column of `values` ({column: title})."""
    long = df.melt(id_vars=[label], value_vars=list(values), var_name="mesure_code", value_name="valeur")
    long["mesure"] = long["mesure_code"].map(values)
    titles = list(values.values())
    long, order = _ordered(long, label, df.sort_values(list(values)[0], ascending=False)[label].tolist())
    chart = alt.Chart(long).mark_bar().encode(
        y=alt.Y(f"{label}:N", sort=order, title=None, axis=alt.Axis(labelFontSize=15, labelLimit=LABEL_LIMIT)),
        yOffset=alt.YOffset("mesure:N", sort=titles),
        x=alt.X("valeur:Q", title=None, axis=alt.Axis(format=FORMATS[kind], labelFontSize=14, grid=True)),
        color=alt.Color("mesure:N", title=None, sort=titles, scale=color_scale(titles)),
        tooltip=[alt.Tooltip(f"{label}:N", title="Libellé"), alt.Tooltip("mesure:N", title="Mesure"),
                 alt.Tooltip("valeur:Q", title="Montant", format=FORMATS[kind])],
    )
    return _style(chart, height or max(200, 22 * len(long) + 60))


def heatmap(df: pd.DataFrame, x: str, y: str, value: str, x_title: str, y_title: str, kind: str = "euros",
            label_kind: str | None = None, height: int | None = None) -> alt.Chart:
    """A grid `y` × `x` coloured by `value` (sequential blues), each cell labelled."""
    field, fmt = _measure(df, value, kind)
    data = _prepared(df, value, kind)
    label_kind = label_kind or kind
    lfield, lfmt = _measure(df, value, label_kind)
    data = _prepared(data, value, label_kind) if lfield not in data.columns else data
    top = float(data[field].max()) if len(data) else 0.0
    # Column labels wrapped on several lines (Vega draws an array label as lines) instead of being cut.
    n_cols = max(1, data[x].nunique())
    step = max(96, min(170, 880 // n_cols))  # fits beside long row labels at 1366 px wide
    wrapped = {str(v): textwrap.wrap(str(v), max(10, step // 8)) or [""] for v in data[x].dropna().unique()}
    data, rows = _ordered(data, y, data.groupby(y)[field].sum().sort_values(ascending=False).index.tolist())
    # White text on the dark cells, said in the data so that the spec does not change with the largest value.
    data = data.assign(sur_fonce=(data[field] > top * 0.55).to_numpy())
    base = alt.Chart().encode(
        x=alt.X(f"{x}:N", title=None, axis=alt.Axis(orient="bottom", labelAngle=0, labelFontSize=14,
                                                   labelLimit=200, labelOverlap=False, labelPadding=8,
                                                   labelExpr=f"{json.dumps(wrapped)}[datum.label] || datum.label")),
        y=alt.Y(f"{y}:N", title=None, sort=rows, axis=alt.Axis(labelFontSize=15, labelLimit=LABEL_LIMIT)),
        tooltip=[alt.Tooltip(f"{y}:N", title=y_title), alt.Tooltip(f"{x}:N", title=x_title),
                 alt.Tooltip(f"{field}:Q", title="Valeur", format=fmt)],
    )
    cells = base.mark_rect(stroke=palette.BLANC, strokeWidth=2).encode(
        color=alt.Color(f"{field}:Q", title=None, scale=alt.Scale(range=[palette.BLEUS[0], palette.BLEUS[4]]),
                        legend=alt.Legend(format=fmt, orient="right", direction="vertical", gradientLength=240)))
    text = base.mark_text(fontSize=14).encode(
        text=alt.Text(f"{lfield}:Q", format=lfmt),
        color=alt.condition("datum.sur_fonce", alt.value(palette.BLANC), alt.value(palette.INK)),
    )
    n_rows = data[y].nunique() if len(data) else 1
    return _style(alt.layer(cells, text, data=data).properties(width=alt.Step(step)),
                  height or max(200, 46 * n_rows + 60))


def share_vs_target(df: pd.DataFrame, target: float, value: str = "part", value_title: str = "Part",
                    category: str | None = None, category_title: str = "", height: int = 340) -> alt.Chart:
    """Share (%) per year as a line, with the target as a dashed horizontal rule labelled "Cible"."""
    data = df.assign(part_ratio=df[value] / 100)
    enc: dict[str, Any] = {
        "x": alt.X("annee:O", title=None, axis=alt.Axis(labelAngle=0, labelFontSize=15)),
        "y": alt.Y("part_ratio:Q", title=None, axis=alt.Axis(format=".0%", labelFontSize=14, grid=True),
                   scale=alt.Scale(domain=[0, max(float(data["part_ratio"].max() or 0), target / 100) * 1.15])),
        "tooltip": [alt.Tooltip("annee:O", title="Année"),
                    alt.Tooltip("part_ratio:Q", title=value_title, format=".1%")],
    }
    if category:
        enc["color"] = alt.Color(f"{category}:N", title=category_title,
                                 scale=color_scale(sorted(df[category].dropna().unique().tolist())))
    line = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=90), strokeWidth=3,
                                     color=palette.SERIE).encode(**enc)
    labels = alt.Chart(data).mark_text(dy=-14, fontSize=14).encode(
        x="annee:O", y="part_ratio:Q", text=alt.Text("part_ratio:Q", format=".1%"))
    goal = pd.DataFrame({"cible": [target / 100], "texte": [f"Cible {target:g} %".replace(".", ",")]})
    rule = alt.Chart(goal).mark_rule(strokeDash=[8, 6], strokeWidth=2.5, color=palette.CIBLE).encode(y="cible:Q")
    rule_text = alt.Chart(goal).mark_text(align="left", dx=4, dy=-10, fontSize=15, color=palette.CIBLE,
                                          fontWeight="bold").encode(y="cible:Q", x=alt.value(0), text="texte:N")
    return _style(line + labels + rule + rule_text, height)


def measure_bars(df: pd.DataFrame, label: str, value: str, value_title: str, kind: str = "nombre",
                 height: int | None = None) -> alt.Chart:
    """Horizontal bars of a non-negative measure (count, share, ratio) per `label`, largest first, labelled."""
    return change_bars(df, label, value, value_title, kind, height)


# --------------------------------------------------------------------------- projection (COPIL slides)

SLIDE_FONT = 24  # px: the smallest chart text on a projected slide


def projection(spec: dict, font: int = SLIDE_FONT, legend: str = "right") -> dict:
    """A copy of a chart spec for a projected slide: every text at least `font` px, legends beside the chart
    (one column), the height left to the slide's layout (the spec given is never modified: it is cached)."""

    def walk(node, key: str = ""):
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for k, v in node.items():
                if k in ("labelFontSize", "titleFontSize", "fontSize") and isinstance(v, (int, float)):
                    out[k] = max(v, font)
                elif k == "symbolSize" and isinstance(v, (int, float)):
                    out[k] = max(v, font * 12)
                elif k in ("labelLimit", "titleLimit") and isinstance(v, (int, float)):
                    out[k] = max(v, 520)
                elif k == "legend" and isinstance(v, dict):
                    leg = {**walk(v, k), "orient": legend, "columns": 1, "direction": "vertical"}
                    if v.get("type") == "gradient" or "gradientLength" in v:
                        leg.pop("columns")
                    out[k] = leg
                elif key in ("", "layer") and (k == "height" or k == "width" and not isinstance(v, dict)):
                    continue  # the slide sizes the chart ("stretch"; a width in columns is kept)
                elif k == "data":
                    out[k] = v  # never walk the data (values may be called "height"…)
                elif k == "datasets":
                    out[k] = v
                else:
                    out[k] = walk(v, k if k == "layer" else "-")
            return out
        if isinstance(node, list):
            return [walk(v, key) for v in node]
        return node

    out = walk(spec)
    config = dict(out.get("config", {}))
    config["axis"] = {**config.get("axis", {}), "labelFontSize": font, "titleFontSize": font, "labelLimit": 520}
    config["legend"] = {**config.get("legend", {}), "labelFontSize": font, "titleFontSize": font,
                        "orient": legend, "columns": 1, "direction": "vertical", "symbolSize": font * 12,
                        "labelLimit": 520}
    config["text"] = {**config.get("text", {}), "fontSize": font}
    config["title"] = {**config.get("title", {}), "fontSize": font + 4}
    out["config"] = config
    out["autosize"] = {"type": "fit", "contains": "padding"}
    return out
