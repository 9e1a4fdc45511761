"""The map's JSON carries the stored contours as they are (written in, never parsed and re-encoded) and is the
same bytes from one build to the next, so that Streamlit does not send it again to a browser that has it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cdv_core import maps, schema


@pytest.fixture(scope="module")
def con(demo_db_template):
    c = schema.connect(demo_db_template, read_only=True)
    yield c
    c.close()


def test_the_deck_json_holds_every_stored_geometry_exactly(con):
    stored = con.execute("SELECT code, geojson FROM contour WHERE niveau = 'qpv' ORDER BY code LIMIT 5").df()
    names = dict(con.execute("SELECT code_qpv, nom_qpv FROM qpv").fetchall())
    values = pd.DataFrame({"code_qpv": stored["code"], "nom_qpv": [names.get(c, c) for c in stored["code"]],
                           "v": range(1, len(stored) + 1)})
    carte = maps.carte_quartiers(con, values, "v", "Valeur", str, selected=stored["code"].iloc[0])
    spec = json.loads(carte.deck.to_json())
    layers = {layer["id"]: layer for layer in spec["layers"]}
    got = {f["properties"]["code_qpv"]: f["geometry"] for f in layers["qpv"]["data"]["features"]}
    assert got == {c: json.loads(g) for c, g in zip(stored["code"], stored["geojson"], strict=True)}
    # The fiche's quartier outlined with its own contour; the communes with theirs.
    assert layers["qpv_choisi"]["data"]["features"][0]["geometry"] == json.loads(stored["geojson"].iloc[0])
    communes = dict(con.execute("SELECT code, geojson FROM contour WHERE niveau = 'commune'").fetchall())
    for feature in layers["communes"]["data"]["features"]:
        assert feature["geometry"] in [json.loads(g) for g in communes.values()]
    assert "@@brut" not in carte.deck.to_json()


def test_a_frozen_map_is_the_same_json_at_every_build(con):
    stored = con.execute("SELECT code FROM contour WHERE niveau = 'qpv' ORDER BY code LIMIT 8").df()
    values = pd.DataFrame({"code_qpv": stored["code"], "nom_qpv": stored["code"], "v": 1.0})
    first = maps.figee(maps.carte_quartiers(con, values, "v", "Valeur", str))
    again = maps.figee(maps.carte_quartiers(con, values, "v", "Valeur", str))
    assert isinstance(first.deck, maps.DeckJson)
    assert first.deck.to_json() == again.deck.to_json()
    assert first.deck._tooltip["html"].startswith("<b>{nom}</b>")
    assert "qpv" in first.deck.layer_ids
