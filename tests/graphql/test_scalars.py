"""Custom scalars: NIK structure and Rupiah past 2^31."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from hub.db import create_engine
from hub.graphql.errors import BadInput
from hub.graphql.scalars import parse_rupiah, validate_nik
from tests.support.api import Api


@pytest.mark.parametrize(
    ("nik", "why"),
    [
        ("327301010190001", "exactly 16 digits"),
        ("32730101019000A1", "exactly 16 digits"),
        ("0973010101900001", "province code"),
        ("3273013201900001", "birth date"),
        ("3273017201900001", "birth date"),
        ("3273010113900001", "birth date"),
        ("3273010101900000", "serial"),
    ],
)
def test_malformed_niks_are_refused_with_the_reason(nik: str, why: str) -> None:
    with pytest.raises(BadInput, match=why):
        validate_nik(nik)


def test_well_formed_niks_for_men_and_women() -> None:
    assert validate_nik("3273010101900001") == "3273010101900001"
    assert validate_nik("3273014101900001") == "3273014101900001"  # woman born 01-01-90


def test_rupiah_accepts_big_amounts_and_refuses_negatives_and_fractions() -> None:
    assert parse_rupiah(1_500_000_000_000) == 1_500_000_000_000
    assert parse_rupiah("3000000000") == 3_000_000_000
    for bad in (-1, 1.5, "12.5", True, 2**53):
        with pytest.raises(BadInput):
            parse_rupiah(bad)


async def test_an_amount_past_two_to_the_31_survives_the_round_trip(fresh_city: Api) -> None:
    engine = create_engine(str(fresh_city.app.state.settings.database_url))
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE contributions SET amount_rupiah = 3500000000123 WHERE id = "
                "(SELECT min(id) FROM contributions)"
            )
        )
    await engine.dispose()
    data = await fresh_city.data("{ contributions(first: 100) { nodes { amount } } }")
    assert 3_500_000_000_123 in [n["amount"] for n in data["contributions"]["nodes"]]
