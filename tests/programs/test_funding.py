"""Programmes carry their funding source and budget; `stats` reports aid by source and place."""

from __future__ import annotations

from hub.programs.reference import FUNDING
from tests.support.api import Api

STATS = """{ stats {
  partnerFunding { totalRupiah potentialRupiah }
  aidByFundingSource { fundingSource budgetRupiah enrolments yearlyBenefitRupiah
                       contributionsRupiah }
  aidByKecamatan { fundingSource kecamatanCode kecamatan { name } enrolments
                   yearlyBenefitRupiah }
} }"""


async def test_programmes_have_a_source_an_owner_and_a_budget(city: Api) -> None:
    data = await city.data("{ programs { code fundingSource budget agency { code } } }")
    by_code = {p["code"]: p for p in data["programs"]}
    assert set(by_code) == set(FUNDING)
    for code, (source, budget) in FUNDING.items():
        assert by_code[code]["fundingSource"] == source
        assert by_code[code]["budget"] == budget
        assert by_code[code]["agency"]["code"]
    assert {p["fundingSource"] for p in data["programs"]} == {
        "APBD_KOTA", "APBD_JABAR", "APBN", "FOUNDATIONS"
    }  # fmt: skip


async def test_stats_report_aid_by_funding_source_and_kecamatan(city: Api) -> None:
    stats = (await city.as_("lks_partner", purpose=None).data(STATS))["stats"]
    sources = {s["fundingSource"]: s for s in stats["aidByFundingSource"]}
    assert list(sources) == ["APBD_KOTA", "APBD_JABAR", "APBN", "FOUNDATIONS"]
    for source, total in sources.items():
        cells = [c for c in stats["aidByKecamatan"] if c["fundingSource"] == source]
        assert total["enrolments"] == sum(c["enrolments"] for c in cells) > 0, source
        assert total["yearlyBenefitRupiah"] == sum(c["yearlyBenefitRupiah"] for c in cells) > 0
        assert total["budgetRupiah"] == sum(b or 0 for s, b in FUNDING.values() if s == source)
        assert all(
            c["kecamatan"]["name"] and c["kecamatanCode"].startswith("32.73.") for c in cells
        )
    funding = stats["partnerFunding"]
    assert sources["FOUNDATIONS"]["contributionsRupiah"] == funding["totalRupiah"] > 0
    assert sources["APBN"]["contributionsRupiah"] == 0
    assert funding["potentialRupiah"] == 1_500_000_000_000
