"""Regions, the need taxonomy, programmes and organisations as partners read them."""

from __future__ import annotations

from tests.support.api import Api


async def test_thirty_kecamatan_and_151_kelurahan(city: Api) -> None:
    data = await city.data(
        "{ kec: regions(level: KECAMATAN) { code name } kel: regions(level: KELURAHAN) { code } }"
    )
    assert len(data["kec"]) == 30
    assert len(data["kel"]) == 151
    assert {"code": "32.73.02", "name": "Coblong"} in data["kec"]


async def test_taxonomy_has_26_ppks_types_with_both_labels(city: Api) -> None:
    data = await city.data("{ needCategories(kind: PPKS) { code labelId labelEn } }")
    assert len(data["needCategories"]) == 26
    assert {
        "code": "PPKS_FAKIR_MISKIN",
        "labelId": "Fakir Miskin",
        "labelEn": "Person in poverty",
    } in data["needCategories"]


async def test_programmes_name_their_agency(city: Api) -> None:
    data = await city.data("{ programs { code agency { code kind } category { code } } }")
    by_code = {p["code"]: p for p in data["programs"]}
    assert by_code["PBI_JK"]["agency"] == {"code": "DINKES", "kind": "OPD"}


async def test_foundations_with_their_categories_and_areas(city: Api) -> None:
    data = await city.data(
        """{ organizations(first: 50, filter: {kind: LKS}) {
              totalCount nodes { code kind categories { code } areas { code } } } }"""
    )
    page = data["organizations"]
    assert page["totalCount"] == 300
    assert all(o["kind"] == "LKS" and o["categories"] and o["areas"] for o in page["nodes"])
