"""Chart builders for survey results: pure functions, `surveys` DataFrames in, Vega-Lite charts out (`cdv_core.vl`)."""

from __future__ import annotations

import pandas as pd

from cdv_core import fmt, palette
from cdv_core import vl as alt
from cdv_core.charts import PALETTE, _style
from cdv_core.surveys import Echelle, message_anonymat

# One hue for an intensity scale (light → dark blue); blue (positive) to orange (negative) for two-sided
# scales, grey in the middle: both read with the common colour-vision deficiencies (cdv_core.palette).
BLEUS = list(palette.BLEUS)
POSITIFS = list(palette.POSITIFS)
NEGATIFS = list(palette.NEGATIFS)
NEUTRE = palette.NEUTRE


def couleurs(niveaux: list[str], echelle: Echelle | None) -> list[str]:
    """Colours of the answers, in order."""
    k = len(niveaux)
    if echelle is None:
        return [PALETTE[i % len(PALETTE)] for i in range(k)]
    if not echelle.bipolaire:
        start = max(0, min(len(BLEUS) - k, 0 if k > 4 else 1))
        return BLEUS[start:start + k]
    half = k // 2
    pos = POSITIFS[:half] if half <= len(POSITIFS) else POSITIFS + [POSITIFS[-1]] * (half - len(POSITIFS))
    neg = NEGATIFS[-half:] if half <= len(NEGATIFS) else [NEGATIFS[0]] * (half - len(NEGATIFS)) + NEGATIFS
    return pos + ([NEUTRE] if k % 2 else []) + neg


def _ligne(res: pd.DataFrame) -> pd.Series:
    item = res["item"].replace("", "Ensemble") if "item" in res else pd.Series("Ensemble", index=res.index)
    if "annee" in res.columns and res["annee"].nunique() > 1:
        label = res["annee"].astype(str)
        return label if (res["item"] == "").all() else item + " — " + label
    return item


def barres_100(res: pd.DataFrame, niveaux: list[str], echelle: Echelle | None, seuil: int,
               legende: str = "Réponse") -> alt.Chart:
    """Stacked 100 % bars, one row per item (and per year when waves are compared), answers in `niveaux`
    order left to right, each segment labelled with its percentage; a masked row says "moins de N réponses"."""
    colours = couleurs(niveaux, echelle)
    # Long labels (agreement scales) one per legend line, so a half-width chart does not cut them.
    if sum(len(n) + 4 for n in niveaux) <= 85:
        legend_cols = min(len(niveaux), 5)
    else:
        legend_cols = 2 if max(len(n) for n in niveaux) <= 24 else 1
    text_colour = {lvl: palette.texte_sur(c) for lvl, c in zip(niveaux, colours)}
    data = res.assign(ligne=_ligne(res))
    rows = list(dict.fromkeys(data["ligne"]))
    shown = data[~data["masque"].astype(bool)].copy()
    shown = shown[shown["reponse"].isin(niveaux)]
    shown["rang"] = shown["reponse"].map({lvl: i for i, lvl in enumerate(niveaux)})
    shown = shown.sort_values(["ligne", "rang"])
    shown["pct"] = shown["pct"].astype(float)
    shown["x2"] = shown.groupby("ligne")["pct"].cumsum()
    shown["x"] = shown["x2"] - shown["pct"]
    shown["milieu"] = (shown["x"] + shown["x2"]) / 2
    shown["etiquette"] = [fmt.pourcent(p, 0) if p >= 7 else "" for p in shown["pct"]]
    shown["pct_txt"] = [fmt.pourcent(p, 1) for p in shown["pct"]]
    shown["couleur_texte"] = shown["reponse"].map(text_colour)
    shown["n"] = shown["n"].astype(int)
    y = alt.Y("ligne:N", sort=rows, title=None, axis=alt.Axis(labelFontSize=15, labelLimit=420))
    bars = alt.Chart(shown).mark_bar(stroke=palette.BLANC, strokeWidth=1).encode(
        y=y,
        x=alt.X("x:Q", scale=alt.Scale(domain=[0, 100]), title=None,
                axis=alt.Axis(values=[0, 25, 50, 75, 100], labelExpr="datum.value + '\u00a0%'")),
        x2="x2:Q",
        color=alt.Color("reponse:N", title=legende, sort=niveaux,
                        scale=alt.Scale(domain=niveaux, range=colours),
                        legend=alt.Legend(orient="bottom", columns=legend_cols, symbolType="square",
                                          symbolSize=220)),
        tooltip=[alt.Tooltip("ligne:N", title="Ligne"), alt.Tooltip("reponse:N", title=legende),
                 alt.Tooltip("pct_txt:N", title="Part"), alt.Tooltip("n:Q", title="Réponses")],
    )
    labels = alt.Chart(shown).mark_text(fontSize=15, fontWeight="bold").encode(
        y=y, x="milieu:Q", text="etiquette:N", color=alt.Color("couleur_texte:N", scale=None))
    layers = [bars, labels]
    masked = data[data["masque"].astype(bool)].drop_duplicates("ligne")
    if not masked.empty:
        motifs = masked["motif"] if "motif" in masked.columns else [None] * len(masked)
        masked = masked.assign(x=50.0, texte=[message_anonymat(seuil, m or "effectif") for m in motifs])
        layers.append(alt.Chart(masked[["ligne", "x", "texte"]]).mark_text(fontSize=15, fontStyle="italic",
                                                                             color=palette.TEXTE_DISCRET).encode(
            y=y, x="x:Q", text="texte:N"))
    # The height is the bars' own (58 px a row), whatever the legend: the chart grows under them to hold it
    # ("fit-x": the width follows the page, the height is not shared with the legend). Sizing the whole chart,
    # legend included, squeezed one row to nothing under a long legend (the COPIL governance question).
    chart = _style(alt.layer(*layers), 58 * len(rows))
    chart.autosize = alt.AutoSizeParams(type="fit-x", contains="padding")
    return chart


def barres_choix(res: pd.DataFrame) -> alt.Chart:
    """Horizontal bars of the share of respondents per answer (single question, no items), most chosen
    first, each bar labelled `52,6 % (10)`."""
    data = res[~res["masque"].astype(bool)].copy()
    data["pct"] = data["pct"].astype(float)
    data["n"] = data["n"].astype(int)
    data["etiquette"] = [f"{fmt.pourcent(p, 1)} ({n})" for p, n in zip(data["pct"], data["n"])]
    order = data["reponse"].tolist()
    base = alt.Chart().encode(
        y=alt.Y("reponse:N", sort=order, title=None, axis=alt.Axis(labelFontSize=15, labelLimit=420)),
        x=alt.X("pct:Q", title="Part des répondants", scale=alt.Scale(domain=[0, 118]),  # room for labels
                axis=alt.Axis(values=[0, 25, 50, 75, 100], labelExpr="datum.value + '\u00a0%'")),
        tooltip=[alt.Tooltip("reponse:N", title="Réponse"), alt.Tooltip("etiquette:N", title="Part (réponses)")],
    )
    bars = base.mark_bar(color=palette.SERIE)
    text = base.mark_text(align="left", dx=6, fontSize=15).encode(text="etiquette:N")
    return _style(alt.layer(bars, text, data=data), 50 * len(data) + 90)


def histogramme(res: pd.DataFrame, titre: str = "Valeur") -> alt.Chart:
    """Distribution of a numeric answer: respondents per value range."""
    data = res[~res["masque"].astype(bool)].copy()
    data["valeur"] = data["reponse"].astype(float)
    data["n"] = data["n"].astype(int)
    few = data["valeur"].nunique() <= 12
    x = (alt.X("valeur:O", title=titre, sort="ascending", axis=alt.Axis(labelAngle=0, labelFontSize=15))
         if few else alt.X("valeur:Q", bin=alt.Bin(maxbins=12), title=titre, axis=alt.Axis(labelFontSize=15)))
    chart = alt.Chart(data).mark_bar(color=palette.SERIE).encode(
        x=x, y=alt.Y("sum(n):Q", title="Répondants", axis=alt.Axis(format="d", tickMinStep=1)),
        tooltip=[alt.Tooltip("valeur:Q", title=titre, format=",.4~f") if few else
                 alt.Tooltip("valeur:Q", bin=alt.Bin(maxbins=12), title=titre),
                 alt.Tooltip("sum(n):Q", title="Répondants")],
    )
    return _style(chart, 300)


def boites(stats: pd.DataFrame, titre: str = "Valeur") -> alt.Chart:
    """Numeric answers of several items or waves: one row each, line from minimum to maximum, box from the
    first to the third quartile, tick at the median."""
    data = stats[~stats["masque"].astype(bool)].copy()
    data["ligne"] = _ligne(data)
    for col in ("minimum", "q1", "mediane", "q3", "maximum"):
        data[col] = data[col].astype(float)
    y = alt.Y("ligne:N", sort=list(dict.fromkeys(data["ligne"])), title=None, axis=alt.Axis(labelFontSize=15))
    tip = [alt.Tooltip("ligne:N", title="Ligne"), alt.Tooltip("minimum:Q", title="Minimum"),
           alt.Tooltip("mediane:Q", title="Médiane"), alt.Tooltip("maximum:Q", title="Maximum")]
    base = alt.Chart().encode(y=y, tooltip=tip)
    rule = base.mark_rule(strokeWidth=2, color=palette.TEXTE_DISCRET).encode(x=alt.X("minimum:Q", title=titre), x2="maximum:Q")
    box = base.mark_bar(size=26, color=palette.CIEL).encode(x="q1:Q", x2="q3:Q")
    tick = base.mark_tick(size=30, thickness=4, color=palette.SERIE).encode(x="mediane:Q")
    return _style(alt.layer(rule, box, tick, data=data), 58 * len(data) + 90)
