"""GraphQL types of the regions domain, mapped from rows in one place."""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy.engine import Row

from hub.graphql.errors import BadInput
from hub.graphql.relay import Node, to_global_id


@strawberry.enum(description="Level of a region in the Kemendagri hierarchy.")
class RegionLevel(Enum):
    CITY = strawberry.enum_value("CITY", description="Kota (city).")
    KECAMATAN = strawberry.enum_value("KECAMATAN", description="Kecamatan (district).")
    KELURAHAN = strawberry.enum_value("KELURAHAN", description="Kelurahan (urban village).")


@strawberry.type(description="An administrative region of Kota Bandung, with its Kemendagri code.")
class Region(Node):
    code: str = strawberry.field(description="Kemendagri code, e.g. `32.73.02.1006`.")
    name: str = strawberry.field(description="Official name (Kepmendagri 2025 spelling).")
    level: RegionLevel = strawberry.field(description="City, kecamatan or kelurahan.")
    parent: Region | None = strawberry.field(
        default=None, description="The region this one lies in; null for the city."
    )
    parent_code: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, row: Row[Any]) -> Region:
        """Map a `regions` row."""
        return cls(
            id=strawberry.ID(to_global_id("Region", row.code)),
            code=row.code,
            name=row.name,
            level=RegionLevel(row.level),
            parent_code=row.parent_code,
        )


# --- arguments ----------------------------------------------------------------------------

_KECAMATAN = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
_KELURAHAN = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")


def check_codes(codes: Sequence[str] | None, level: RegionLevel) -> list[str] | None:
    """`codes` if each is a well-formed code of `level`; `BadInput` naming the first bad one."""
    if codes is None:
        return None
    pattern, example = (
        (_KECAMATAN, "32.73.02")
        if level is RegionLevel.KECAMATAN
        else (_KELURAHAN, "32.73.02.1006")
    )
    for code in codes:
        if not pattern.match(code):
            raise BadInput(
                f"{code!r} is not a {level.name.lower()} code; expected the Kemendagri form "
                f"{example}",
                code="INVALID_REGION_CODE",
            )
    return list(codes)
