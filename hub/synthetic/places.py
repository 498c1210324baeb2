"""Where households live: the kecamatan and kelurahan of the shipped region list."""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from hub.regions.reference import bandung_regions
from hub.synthetic.draw import Weighted


@dataclass(frozen=True, slots=True)
class Kelurahan:
    """One kelurahan with its kecamatan and how well-off it is relative to the city."""

    code: str
    name: str
    kecamatan_code: str
    #: Shifts household deciles: -1 poorer than the city, +1 richer.
    affluence: int


@dataclass(frozen=True, slots=True)
class City:
    """The city's regions, with seeded population weights."""

    kecamatan_codes: tuple[str, ...]
    kecamatan_names: dict[str, str]
    kelurahan: tuple[Kelurahan, ...]
    #: Kelurahan in the order the first households visit them, so that every one is settled.
    settlement_order: tuple[Kelurahan, ...]
    by_population: Weighted[Kelurahan]


def build_city(rng: Random) -> City:
    """The city from the region list, with seeded weights and affluence per kelurahan."""
    regions = bandung_regions()
    kecamatan = {r.code: r.name for r in regions if r.level == "KECAMATAN"}
    kelurahan: list[Kelurahan] = []
    weights: list[float] = []
    for region in regions:
        if region.level != "KELURAHAN" or region.parent_code is None:
            continue
        affluence = rng.choice((-1, 0, 0, 0, 1))
        kelurahan.append(Kelurahan(region.code, region.name, region.parent_code, affluence))
        # Kelurahan populations in Bandung differ about threefold.
        weights.append(0.5 + rng.random())
    order = list(kelurahan)
    rng.shuffle(order)
    return City(
        kecamatan_codes=tuple(kecamatan),
        kecamatan_names=kecamatan,
        kelurahan=tuple(kelurahan),
        settlement_order=tuple(order),
        by_population=Weighted(list(zip(kelurahan, weights, strict=True))),
    )
