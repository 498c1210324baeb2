"""The 300 partner foundations (LKS): names, registrations, categories and areas served."""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random

from hub.needs.reference import SERVICE_DOMAINS
from hub.synthetic.clock import DAY, YEAR_DAYS, seconds_before
from hub.synthetic.draw import Weighted
from hub.synthetic.rows import Row

FOUNDATIONS = 300

ORGANIZATION_COLUMNS = (
    "id", "code", "kind", "name", "registration_number", "status", "created_at",
)  # fmt: skip
ORGANIZATION_CATEGORY_COLUMNS = ("organization_id", "category_code")
ORGANIZATION_AREA_COLUMNS = ("organization_id", "kecamatan_code")

_SERVICE_DOMAIN_CODES = frozenset(code for code, _, _ in SERVICE_DOMAINS)


@dataclass(frozen=True, slots=True)
class Theme:
    """A kind of foundation: what its names look like and which categories it serves."""

    prefixes: tuple[str, ...]
    domains: tuple[str, ...]
    ppks: tuple[str, ...]


THEMES = Weighted(
    [
        (Theme(("Panti Asuhan", "Yayasan Anak", "LKSA"), ("EDUCATION", "PROTECTION", "FOOD"),
               ("PPKS_ANAK_TERLANTAR", "PPKS_ANAK_BALITA_TERLANTAR", "PPKS_ANAK_JALANAN",
                "PPKS_ANAK_PERLINDUNGAN_KHUSUS", "PPKS_ANAK_KORBAN_KEKERASAN")), 22.0),
        (Theme(("Panti Werdha", "Yayasan Lansia", "LKS Lanjut Usia"),
               ("HEALTH", "REHABILITATION", "FOOD"), ("PPKS_LANSIA_TERLANTAR",)), 14.0),
        (Theme(("Yayasan Difabel", "LKS Disabilitas", "Yayasan Tuna Netra"),
               ("REHABILITATION", "HEALTH", "EDUCATION"),
               ("PPKS_PENYANDANG_DISABILITAS", "PPKS_ANAK_DISABILITAS")), 12.0),
        (Theme(("Yayasan", "LKS", "Yayasan Amal"), ("FOOD", "EMPOWERMENT", "HOUSING", "EDUCATION"),
               ("PPKS_FAKIR_MISKIN", "PPKS_PEREMPUAN_RAWAN_SOSEK")), 28.0),
        (Theme(("Yayasan", "LKS", "Rumah Aman"), ("PROTECTION", "REHABILITATION"),
               ("PPKS_KORBAN_KEKERASAN", "PPKS_KORBAN_TRAFFICKING",
                "PPKS_KELUARGA_BERMASALAH_PSIKOLOGIS", "PPKS_PEKERJA_MIGRAN_BERMASALAH")), 9.0),
        (Theme(("Yayasan", "LKS", "IPWL"), ("REHABILITATION", "HEALTH"),
               ("PPKS_KORBAN_NAPZA", "PPKS_ODHA", "PPKS_BEKAS_WARGA_BINAAN", "PPKS_GELANDANGAN",
                "PPKS_PENGEMIS", "PPKS_PEMULUNG", "PPKS_TUNA_SUSILA")), 8.0),
        (Theme(("Yayasan", "LKS"), ("HOUSING", "CIVIL_DOCUMENTS", "FOOD"),
               ("PPKS_KORBAN_BENCANA_ALAM", "PPKS_KORBAN_BENCANA_SOSIAL",
                "PPKS_KELOMPOK_MINORITAS", "PPKS_KOMUNITAS_ADAT_TERPENCIL")), 7.0),
    ]
)  # fmt: skip
_FIRST_WORDS = (
    "Peduli", "Kasih", "Cahaya", "Harapan", "Bina", "Rumah", "Mitra", "Sahabat", "Pelita",
    "Insan", "Amanah", "Nurul", "Darul", "Baitul", "Bakti", "Welas Asih", "Cinta", "Sinar",
    "Tunas", "Mekar", "Berkah", "Karya", "Rahmat", "Hikmah",
)  # fmt: skip
_SECOND_WORDS = (
    "Bangsa", "Umat", "Sesama", "Mandiri", "Sejahtera", "Ikhlas", "Bunda", "Anak Negeri",
    "Madani", "Insani", "Priangan", "Parahyangan", "Pasundan", "Sunda", "Harapan", "Kasih",
    "Mulia", "Bersama", "Nusantara", "Pertiwi", "Ummat", "Kencana", "Jaya", "Abadi",
)  # fmt: skip
_STATUS = Weighted([("ACTIVE", 88.0), ("PENDING", 7.0), ("SUSPENDED", 5.0)])
_CATEGORY_COUNT = Weighted([(1, 20.0), (2, 35.0), (3, 30.0), (4, 15.0)])
_AREA_COUNT = Weighted([(1, 20.0), (2, 22.0), (3, 20.0), (4, 16.0), (5, 12.0), (6, 10.0)])


@dataclass
class FoundationIndex:
    """Active foundations by kecamatan and category, to choose who pledges for a need."""

    active: list[int] = field(default_factory=list)
    by_area: dict[str, list[int]] = field(default_factory=dict)
    by_area_category: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    _cache: dict[tuple[str, str, str | None], tuple[int, ...]] = field(default_factory=dict)

    def candidates(self, kecamatan: str, category: str, ppks: str | None) -> tuple[int, ...]:
        """Foundations serving the kecamatan and the category or PPKS type, best match first."""
        key = (kecamatan, category, ppks)
        found = self._cache.get(key)
        if found is None:
            matching = set(self.by_area_category.get((kecamatan, category), ()))
            if ppks is not None:
                matching.update(self.by_area_category.get((kecamatan, ppks), ()))
            pool = matching or set(self.by_area.get(kecamatan, ())) or set(self.active)
            found = tuple(sorted(pool))
            self._cache[key] = found
        return found

    def pick(self, rng: Random, kecamatan: str, category: str, ppks: str | None) -> int:
        """One foundation for a need in `kecamatan` of `category` (or its PPKS type)."""
        return rng.choice(self.candidates(kecamatan, category, ppks))

    def near(self, rng: Random, kecamatan: str) -> int:
        """One active foundation serving `kecamatan` (any active one if none does)."""
        return rng.choice(self.by_area.get(kecamatan) or self.active)


@dataclass
class Foundations:
    """The generated foundation rows and the index over the active ones."""

    organizations: list[Row] = field(default_factory=list)
    categories: list[Row] = field(default_factory=list)
    areas: list[Row] = field(default_factory=list)
    index: FoundationIndex = field(default_factory=FoundationIndex)
    #: Service domains each foundation serves, for contributions without a need.
    domains: dict[int, tuple[str, ...]] = field(default_factory=dict)


def _name(rng: Random, theme: Theme, taken: set[str], area_names: tuple[str, ...]) -> str:
    """A foundation name not used before."""
    while True:
        name = (
            f"{rng.choice(theme.prefixes)} {rng.choice(_FIRST_WORDS)} {rng.choice(_SECOND_WORDS)}"
        )
        if name in taken:
            name = f"{name} {rng.choice(area_names)}"
        if name not in taken:
            taken.add(name)
            return name


def make_foundations(
    rng: Random, first_id: int, kecamatan: dict[str, str], count: int = FOUNDATIONS
) -> Foundations:
    """`count` foundations with ids from `first_id`; `kecamatan` maps codes to names."""
    result = Foundations()
    codes = tuple(kecamatan)
    names = tuple(kecamatan.values())
    taken: set[str] = set()
    for n in range(1, count + 1):
        org_id = first_id + n - 1
        theme = THEMES.pick(rng)
        status = _STATUS.pick(rng)
        created = seconds_before(rng.randint(90 * DAY, 6 * YEAR_DAYS * DAY))
        year = created.year - rng.randint(0, 15)
        result.organizations.append(
            (org_id, f"LKS-{n:04d}", "LKS", _name(rng, theme, taken, names),
             f"460/{1000 + n}-Dinsos/{year}", status, created)
        )  # fmt: skip
        serves = _categories(rng, theme)
        result.categories.extend((org_id, code) for code in serves)
        result.domains[org_id] = tuple(c for c in serves if c in _SERVICE_DOMAIN_CODES)
        home = rng.choice(codes)
        others = [c for c in codes if c != home]
        areas = [home, *rng.sample(others, _AREA_COUNT.pick(rng) - 1)]
        result.areas.extend((org_id, code) for code in sorted(areas))
        if status == "ACTIVE":
            _index(result.index, org_id, areas, serves)
    return result


def _categories(rng: Random, theme: Theme) -> list[str]:
    """1-4 category codes of a theme: always one service domain, then domains or PPKS types."""
    count = _CATEGORY_COUNT.pick(rng)
    chosen = [rng.choice(theme.domains)]
    pool = [c for c in (*theme.domains, *theme.ppks) if c not in chosen]
    chosen += rng.sample(pool, min(count - 1, len(pool)))
    return sorted(chosen)


def _index(index: FoundationIndex, org_id: int, areas: list[str], serves: list[str]) -> None:
    """Record an active foundation under each of its areas and (area, category) pairs."""
    index.active.append(org_id)
    for area in areas:
        index.by_area.setdefault(area, []).append(org_id)
        for code in serves:
            index.by_area_category.setdefault((area, code), []).append(org_id)
