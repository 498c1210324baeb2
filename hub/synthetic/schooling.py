"""Education and occupation, consistent with age, sex and household welfare."""

from __future__ import annotations

from random import Random

from hub.synthetic.draw import Weighted, chance

NONE = "Tidak/Belum Sekolah"
LEVELS = (NONE, "Belum Tamat SD", "SD", "SMP", "SMA", "D3", "S1", "S2")
#: The youngest age at which each level can have been completed.
_MIN_AGE = {"D3": 21, "S1": 22, "S2": 24}

#: Highest completed level of adults, by welfare band (deciles 1-3, 4-7, 8-10).
_ADULT_EDUCATION = (
    Weighted(list(zip(LEVELS, (6.0, 8.0, 30.0, 26.0, 26.0, 2.0, 2.0, 0.0), strict=True))),
    Weighted(list(zip(LEVELS, (2.0, 3.0, 15.0, 20.0, 40.0, 8.0, 11.0, 1.0), strict=True))),
    Weighted(list(zip(LEVELS, (0.0, 1.0, 5.0, 8.0, 35.0, 12.0, 32.0, 7.0), strict=True))),
)

_BASIC_WORK = Weighted(
    [("Buruh Harian Lepas", 30.0), ("Pedagang", 18.0), ("Wiraswasta", 14.0),
     ("Buruh Pabrik", 10.0), ("Pengemudi Ojek", 8.0), ("Asisten Rumah Tangga", 5.0),
     ("Belum/Tidak Bekerja", 15.0)]
)  # fmt: skip
_SCHOOLED_WORK = Weighted(
    [("Karyawan Swasta", 34.0), ("Wiraswasta", 18.0), ("Pedagang", 10.0), ("Buruh Pabrik", 8.0),
     ("Pengemudi Ojek Online", 10.0), ("Belum/Tidak Bekerja", 12.0), ("Satpam", 4.0),
     ("Penjahit", 4.0)]
)  # fmt: skip
_GRADUATE_WORK = Weighted(
    [("Karyawan Swasta", 34.0), ("PNS", 14.0), ("Guru", 12.0), ("Wiraswasta", 14.0),
     ("Perawat", 5.0), ("Karyawan BUMN", 7.0), ("Dosen", 3.0), ("TNI/Polri", 3.0),
     ("Belum/Tidak Bekerja", 8.0)]
)  # fmt: skip
_RARELY_WOMEN = ("Pengemudi Ojek", "Pengemudi Ojek Online", "Satpam", "TNI/Polri")


def _band(decile: int) -> int:
    """0 for deciles 1-3, 1 for 4-7, 2 for 8-10."""
    return 0 if decile <= 3 else 1 if decile <= 7 else 2


def education_for(rng: Random, age: int, decile: int) -> tuple[str, bool]:
    """(highest completed level, whether in school or college now) for someone of `age`."""
    if age < 7:
        return NONE, age >= 5
    if age < 13:
        return "Belum Tamat SD", True
    if age < 16:
        return "SD", True
    if age < 19:
        # Poorer teenagers leave school early more often.
        return "SMP", chance(rng, 0.75 if decile <= 3 else 0.92)
    level = _ADULT_EDUCATION[_band(decile)].pick(rng)
    if age >= 60 and chance(rng, 0.4):
        level = LEVELS[max(0, LEVELS.index(level) - 1)]
    if age < _MIN_AGE.get(level, 0):
        level = "SMA"
    student = level == "SMA" and age <= 23 and chance(rng, 0.15 + 0.12 * _band(decile))
    return level, student


def occupation_for(
    rng: Random,
    age: int,
    *,
    female: bool,
    education: str,
    decile: int,
    student: bool,
    relationship: str,
) -> str:
    """An occupation plausible for this age, sex, education and welfare."""
    if age < 5:
        return "Belum/Tidak Bekerja"
    if age < 19:
        return "Pelajar" if student or age < 16 else _BASIC_WORK.pick(rng)
    if student:
        return "Mahasiswa"
    level = LEVELS.index(education)
    if age >= 60 and chance(rng, 0.6):
        return "Pensiunan" if level >= 4 and decile >= 4 else "Belum/Tidak Bekerja"
    if female and relationship in ("SPOUSE", "PARENT", "IN_LAW") and chance(rng, 0.55):
        return "Mengurus Rumah Tangga"
    table = _BASIC_WORK if level <= 3 else _SCHOOLED_WORK if level == 4 else _GRADUATE_WORK
    work = table.pick(rng)
    if female and work in _RARELY_WOMEN:
        return "Karyawan Swasta" if level >= 4 else "Pedagang"
    if not female and work == "Asisten Rumah Tangga":
        return "Buruh Harian Lepas"
    return work
