"""French formatting, checked against literal strings written by hand (never against cdv_core.fmt itself).

"\u00a0" is the no-break space between digit groups and before a unit; "−" (U+2212) is the minus of
`pourcent(..., signe=True)`.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from cdv_core import fmt

NB = "\u00a0"


@pytest.mark.parametrize("value, decimales, expected", [
    (1234567, 0, f"1{NB}234{NB}567"),
    (1234567.0, 0, f"1{NB}234{NB}567"),
    (12337.5, 1, f"12{NB}337,5"),
    (999, 0, "999"),
    (1000, 0, f"1{NB}000"),
    (0, 0, "0"),
    (-1234.5, 1, f"-1{NB}234,5"),
    (12.345, 2, "12,35"),   # rounding of the last decimal: 12.345 is stored as 12.3450000000000006
    (2.5, 0, "2"),           # Python rounds half to even
    (3.5, 0, "4"),
    (0.04, 1, "0,0"),
    (1234567.891, 2, f"1{NB}234{NB}567,89"),
])
def test_nombre(value, decimales, expected):
    assert fmt.nombre(value, decimales) == expected


@pytest.mark.parametrize("value, expected", [
    (1234567, f"1{NB}234{NB}567{NB}€"),
    (1234567.4, f"1{NB}234{NB}567{NB}€"),
    (1234567.5, f"1{NB}234{NB}568{NB}€"),
    (-9590, f"-9{NB}590{NB}€"),
    (0, f"0{NB}€"),
    (950, f"950{NB}€"),
])
def test_euros(value, expected):
    assert fmt.euros(value) == expected


def test_nombre_has_no_decimals_by_default():
    assert fmt.nombre(1234567.4) == f"1{NB}234{NB}567"
    assert fmt.nombre(12.5) == "12"


def test_euros_with_cents():
    assert fmt.euros(12337.5, 2) == f"12{NB}337,50{NB}€"


@pytest.mark.parametrize("value, expected", [
    (5_760_000, f"5,76{NB}M€"),
    (-5_760_000, f"-5,76{NB}M€"),
    (1_000_000, f"1,00{NB}M€"),
    (247_000, f"247{NB}k€"),
    (10_000, f"10{NB}k€"),
    (9_999, f"9{NB}999{NB}€"),
    (950, f"950{NB}€"),
    (999_600, f"1{NB}000{NB}k€"),          # thousands, rounded (kills a mutant dividing by 1 001)
    (1_000_005_001, f"1{NB}000,01{NB}M€"),  # millions, two decimals (kills a mutant dividing by 1 000 001)
])
def test_euros_compact(value, expected):
    assert fmt.euros_compact(value) == expected


@pytest.mark.parametrize("value, kwargs, expected", [
    (12.5, {}, f"12,5{NB}%"),
    (12.54, {}, f"12,5{NB}%"),
    (12.56, {}, f"12,6{NB}%"),
    (100, {"decimales": 0}, f"100{NB}%"),
    (0, {}, f"0,0{NB}%"),
    (-3.25, {}, f"-3,2{NB}%"),    # 3.25 is stored as 3.25 exactly: half to even
    (47, {"signe": True}, f"+47,0{NB}%"),
    (-12.5, {"signe": True}, f"−12,5{NB}%"),
    (0, {"signe": True}, f"+0,0{NB}%"),
    (1234.5, {}, f"1{NB}234,5{NB}%"),
])
def test_pourcent(value, kwargs, expected):
    assert fmt.pourcent(value, **kwargs) == expected


@pytest.mark.parametrize("fn", [fmt.nombre, fmt.euros, fmt.euros_compact, fmt.pourcent])
@pytest.mark.parametrize("missing", [None, math.nan, float("nan"), pd.NA, pd.NaT, np.float32("nan")])
def test_missing_values_are_a_dash(fn, missing):
    """pd.NA: a quartier whose population is unknown (Int64 column) on its fiche."""
    assert fn(missing) == "—"


def test_no_ordinary_space_nor_point_in_a_figure():
    for text in (fmt.euros(12337.5, 2), fmt.nombre(1234567.25, 2), fmt.pourcent(12337.5)):
        assert " " not in text and "." not in text and "," in text


def test_dates():
    assert fmt.date_fr(dt.date(2026, 3, 3)) == "3 mars 2026"
    assert fmt.date_fr(dt.date(2026, 12, 1)) == "1 décembre 2026"
    assert fmt.date_heure_fr(dt.datetime(2026, 3, 3, 14, 5)) == "3 mars 2026 à 14 h 05"
    assert fmt.date_heure_fr(dt.datetime(2026, 8, 15, 9, 0)) == "15 août 2026 à 9 h 00"


@pytest.mark.parametrize("value, args, expected", [
    (0, ("action",), "0 action"),
    (1, ("action",), "1 action"),
    (2, ("action",), "2 actions"),
    (1234, ("quartier",), "1\u00a0234 quartiers"),
    (1.5, ("point",), "1,5 point"),
    (2.5, ("point",), "2,5 points"),
    (-3, ("point",), "-3 points"),
    (1, ("nouveau porteur", "nouveaux porteurs"), "1 nouveau porteur"),
    (5, ("nouveau porteur", "nouveaux porteurs"), "5 nouveaux porteurs"),
    (1, ("dossier non financé", "dossiers non financés"), "1 dossier non financé"),
    (np.int64(3), ("réponse",), "3 réponses"),
    (None, ("action",), "— actions"),
    (float("nan"), ("action",), "— actions"),
])
def test_compte_agrees_with_its_number(value, args, expected):
    kwargs = {"decimales": 1} if isinstance(value, float) and value == value and value % 1 else {}
    assert fmt.compte(value, *args, **kwargs) == expected


def test_periode_of_one_year_is_not_a_span():
    assert fmt.periode(2016, 2022) == "de 2016 à 2022"
    assert fmt.periode(2025, 2025) == "en 2025"


def test_accord_gives_the_words_alone():
    assert fmt.accord(1, "qui reçoit", "qui reçoivent") == "qui reçoit"
    assert fmt.accord(3, "qui reçoit", "qui reçoivent") == "qui reçoivent"
    assert fmt.accord(0, "converti") == "converti"
    assert fmt.accord(None, "converti") == "convertis"
