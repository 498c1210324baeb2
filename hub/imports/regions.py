"""Region names in free text (`Kec. Coblong`, `LEBAKGEDE`, `Cibeunying Kidl`) to Kemendagri codes.

A name is first looked up in the alias table (`region_aliases`: every official name and the
older spellings of earlier decrees, normalised to lower-case letters and digits). What the
table does not know is matched with rapidfuzz against the official names of the right level
(kelurahan: only those of the kecamatan already found), and accepted only at or above the
threshold and clearly ahead of the runner-up. Every fuzzy acceptance is a `FuzzyDecision`
the import reports, with how many rows it decided.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.regions.models import Region, RegionAlias
from hub.regions.reference import CITY_CODE, normalise_name
from hub.registry.numbers import Problem

#: Lowest rapidfuzz ratio (0-100) at which a misspelt name is accepted.
FUZZY_THRESHOLD = 85.0
#: The best match must lead the runner-up by this much, or the name is ambiguous.
FUZZY_MARGIN = 4.0

_PREFIXES = re.compile(r"^\s*(kecamatan|kec|kelurahan|kel|desa|ds)\b\.?\s*", re.IGNORECASE)


def clean(name: str) -> str:
    """The alias key of a free-text name: `Kec. Coblong` -> `coblong`."""
    return normalise_name(_PREFIXES.sub("", name))


@dataclass
class FuzzyDecision:
    """One spelling the alias table did not know, and the region it was matched to."""

    level: str
    text: str
    code: str
    name: str
    score: float
    rows: int = 0


@dataclass(frozen=True, slots=True)
class _Region:
    code: str
    level: str
    name: str
    parent_code: str | None


Resolution = tuple[str, str]  # (kelurahan code, kecamatan code)


class RegionResolver:
    """Resolves (kecamatan, kelurahan) names of one import, remembering every answer."""

    def __init__(
        self,
        regions: Iterable[tuple[str, str, str, str | None]],
        aliases: Iterable[tuple[str, str]],
        *,
        threshold: float = FUZZY_THRESHOLD,
    ) -> None:
        """A resolver over (code, level, name, parent) regions and (alias, code) pairs."""
        self.threshold = threshold
        self._regions = {code: _Region(code, lvl, name, p) for code, lvl, name, p in regions}
        self._aliases: dict[str, list[str]] = {}
        for alias, code in aliases:
            self._aliases.setdefault(alias, []).append(code)
        self._kecamatan = {
            r.code: normalise_name(r.name)
            for r in self._regions.values()
            if r.level == "KECAMATAN" and r.parent_code == CITY_CODE
        }
        self._kelurahan: dict[str, dict[str, str]] = {}
        for r in self._regions.values():
            if r.level == "KELURAHAN" and r.parent_code in self._kecamatan:
                self._kelurahan.setdefault(r.parent_code, {})[r.code] = normalise_name(r.name)
        #: (kecamatan, kelurahan) text -> the answer, and the fuzzy decisions it rests on.
        self._cache: dict[
            tuple[str, str], tuple[Resolution | tuple[str, Problem], list[FuzzyDecision]]
        ] = {}
        self._decisions: dict[tuple[str, str], FuzzyDecision] = {}

    @property
    def decisions(self) -> list[FuzzyDecision]:
        """Every fuzzy match made so far, by level then text."""
        return sorted(self._decisions.values(), key=lambda d: (d.level, d.text))

    def resolve(self, kecamatan: str, kelurahan: str) -> Resolution | tuple[str, Problem]:
        """(kelurahan code, kecamatan code), or (column, problem) when a name is not found."""
        found, used = self.lookup(kecamatan, kelurahan)
        for decision in used:  # count the rows each fuzzy match decides
            decision.rows += 1
        return found

    def lookup(
        self, kecamatan: str, kelurahan: str
    ) -> tuple[Resolution | tuple[str, Problem], list[FuzzyDecision]]:
        """What `resolve` answers, and the fuzzy decisions it rests on, counting no row."""
        key = (kecamatan, kelurahan)
        cached = self._cache.get(key)
        if cached is None:
            found = self._resolve(kecamatan, kelurahan)
            used = []
            if found[0].startswith(CITY_CODE):
                for level, text in (("KECAMATAN", kecamatan), ("KELURAHAN", kelurahan)):
                    decision = self._decisions.get((level, text))
                    if decision is not None:
                        used.append(decision)
            cached = self._cache[key] = (found, used)
        return cached

    def _resolve(self, kecamatan: str, kelurahan: str) -> Resolution | tuple[str, Problem]:
        kec_code = self._match("KECAMATAN", kecamatan, self._kecamatan)
        if isinstance(kec_code, tuple):
            return "kecamatan", kec_code
        choices = self._kelurahan[kec_code]
        kel_code = self._match("KELURAHAN", kelurahan, choices)
        if isinstance(kel_code, tuple):
            elsewhere = [c for c in self._aliases.get(clean(kelurahan), ()) if c in self._regions]
            if elsewhere and self._regions[elsewhere[0]].level == "KELURAHAN":
                other = self._regions[self._regions[elsewhere[0]].parent_code or ""]
                name = self._regions[kec_code].name
                return "desa_kelurahan", (
                    f"kelurahan {kelurahan!r} ada di kecamatan {other.name}, bukan {name}",
                    f"kelurahan {kelurahan!r} is in kecamatan {other.name}, not {name}",
                )
            return "desa_kelurahan", kel_code
        return kel_code, kec_code

    def fuzzy_kelurahan(self, kecamatan_code: str, text: str) -> str | None:
        """The kelurahan of `kecamatan_code` that only the fuzzy match finds `text` to be
        (None: the alias table knows `text`, or nothing matches), recording nothing."""
        choices = self._kelurahan.get(kecamatan_code, {})
        if any(code in choices for code in self._aliases.get(clean(text), ())):
            return None
        found = self._match("KELURAHAN", text, choices, record=False)
        return found if isinstance(found, str) else None

    def _match(
        self, level: str, text: str, choices: dict[str, str], *, record: bool = True
    ) -> str | Problem:
        """The code among `choices` that `text` names, or the problem."""
        what = level.lower()
        key = clean(text)
        if not key:
            return (f"nama {what} kosong", f"the {what} name is empty")
        known = [code for code in self._aliases.get(key, ()) if code in choices]
        if len(known) == 1:
            return known[0]
        best = process.extract(key, choices, scorer=fuzz.ratio, limit=2)
        if best and best[0][1] >= self.threshold:
            _, score, code = best[0]
            runner_up = best[1][1] if len(best) > 1 else 0.0
            if score - runner_up >= FUZZY_MARGIN:
                if record:
                    # The first decision for a text stays, with the rows it decided (the
                    # same misspelt kelurahan under two spellings of its kecamatan).
                    self._decisions.setdefault(
                        (level, text),
                        FuzzyDecision(level, text, code, self._regions[code].name, round(score, 1)),
                    )
                return code
            return (
                f"nama {what} {text!r} ambigu: mirip {self._regions[code].name} dan "
                f"{self._regions[best[1][2]].name}",
                f"the {what} name {text!r} is ambiguous: close to {self._regions[code].name} "
                f"and {self._regions[best[1][2]].name}",
            )
        hint = ""
        if best:
            hint = f" (terdekat / closest: {self._regions[best[0][2]].name}, {best[0][1]:.0f})"
        where = "Kota Bandung" if level == "KECAMATAN" else "kecamatan ini / this kecamatan"
        return (
            f"{what} {text!r} tidak dikenal di {where}{hint}",
            f"{what} {text!r} is not known in {where}{hint}",
        )


async def load_resolver(
    connection: AsyncConnection, *, threshold: float = FUZZY_THRESHOLD
) -> RegionResolver:
    """A resolver over the regions and aliases in the database."""
    regions = (
        await connection.execute(select(Region.code, Region.level, Region.name, Region.parent_code))
    ).all()
    aliases = (await connection.execute(select(RegionAlias.alias, RegionAlias.region_code))).all()
    return RegionResolver(
        [tuple(r) for r in regions],  # type: ignore[misc]
        [(a, c) for a, c in aliases],
        threshold=threshold,
    )
