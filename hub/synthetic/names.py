"""Indonesian names and Bandung street names.

Faker's `id_ID` providers are read once for their word lists only; every pick is made with the
seeded generator, because calling Faker per row is far too slow at city scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from random import Random

from faker.providers.address.id_ID import Provider as AddressProvider
from faker.providers.person.id_ID import Provider as PersonProvider

from hub.synthetic.draw import Weighted

#: Common Sundanese given names, which Faker's national list lacks and Bandung is full of.
SUNDANESE_MALE = (
    "Asep", "Ujang", "Cecep", "Dadang", "Dede", "Deden", "Endang", "Jajang", "Mamat", "Ade",
    "Yayan", "Usep", "Engkos", "Kurnia", "Rahmat", "Iwan", "Dadan", "Aceng", "Encep", "Agus",
)  # fmt: skip
SUNDANESE_FEMALE = (
    "Euis", "Neneng", "Iis", "Lilis", "Imas", "Cucu", "Popon", "Entin", "Yeti", "Enok",
    "Nining", "Tati", "Ai", "Rina", "Nia", "Yuyun", "Dewi", "Siti", "Elis", "Tuti",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class WordLists:
    """The name and street lists every pick draws from."""

    male_first: tuple[str, ...]
    female_first: tuple[str, ...]
    male_last: tuple[str, ...]
    female_last: tuple[str, ...]
    streets: tuple[str, ...]


@cache
def word_lists() -> WordLists:
    """Faker's id_ID lists plus the Sundanese names, read once per process."""
    return WordLists(
        male_first=tuple(PersonProvider.first_names_male) + SUNDANESE_MALE,
        female_first=tuple(PersonProvider.first_names_female) + SUNDANESE_FEMALE,
        male_last=tuple(PersonProvider.last_names_male),
        female_last=tuple(PersonProvider.last_names_female),
        streets=tuple(AddressProvider.streets),
    )


#: How many words a name has: many Indonesians carry one or two, some three.
_WORDS = Weighted([(1, 30.0), (2, 58.0), (3, 12.0)])


def full_name(rng: Random, lists: WordLists, *, female: bool) -> str:
    """A plausible name for a woman or a man."""
    first = lists.female_first if female else lists.male_first
    last = lists.female_last if female else lists.male_last
    words = _WORDS.pick(rng)
    if words == 1:
        return rng.choice(first)
    if words == 2:
        return f"{rng.choice(first)} {rng.choice(last)}"
    return f"{rng.choice(first)} {rng.choice(first)} {rng.choice(last)}"


def street_address(rng: Random, lists: WordLists) -> str:
    """A house on a Bandung street: `Jl. Cihampelas No. 12`."""
    return f"Jl. {rng.choice(lists.streets)} No. {rng.randint(1, 250)}"
