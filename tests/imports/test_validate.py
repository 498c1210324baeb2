"""The validator's fast NIK check accepts exactly the NIKs `nik_problem` finds no fault in."""

from __future__ import annotations

import datetime as dt

from hypothesis import example, given
from hypothesis import strategies as st

from hub.imports.validate import _nik_date_digits, nik_well_formed
from hub.registry.numbers import nik_problem

digits = st.text(alphabet="0123456789", min_size=0, max_size=6)
province = st.sampled_from(["10", "11", "32", "94", "95", "00", "3", "٣٢", "a2"])
serial = st.sampled_from(["0000", "0001", "9999", "000", "00001", "12a4", "١٢٣٤"])


@st.composite
def niks(draw: st.DrawFn) -> tuple[str, dt.date, str]:
    birth = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 12, 1)))
    sex = draw(st.sampled_from(["F", "M"]))
    region = draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    date = draw(
        st.one_of(
            st.just(_nik_date_digits(birth, sex)),
            st.just(_nik_date_digits(birth, "M" if sex == "F" else "F")),
            digits,
        )
    )
    nik = draw(province) + region + date + draw(serial)
    return draw(st.one_of(st.just(nik), st.text(max_size=18))), birth, sex


@given(niks())
@example(("3273014307839992", dt.date(1983, 7, 3), "F"))  # well formed: both accept
@example(("3273010307839992", dt.date(1983, 7, 3), "F"))  # the other sex's digits
@example(("٣٢73014307839992", dt.date(1983, 7, 3), "F"))  # digits, if not ASCII ones
@example(("3273014307830000", dt.date(1983, 7, 3), "F"))  # serial 0000
def test_the_fast_check_agrees_with_nik_problem(case: tuple[str, dt.date, str]) -> None:
    nik, birth, sex = case
    fast = nik[6:12] == _nik_date_digits(birth, sex) and nik_well_formed(nik)
    assert fast == (nik_problem(nik, birth, sex) is None), case


def test_a_well_formed_nik_passes_the_fast_check() -> None:
    birth = dt.date(1983, 7, 3)
    assert nik_well_formed("3273014307839992")
    assert "3273014307839992"[6:12] == _nik_date_digits(birth, "F")
    assert not nik_well_formed("9573014307839992")
