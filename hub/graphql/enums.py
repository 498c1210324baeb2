"""Domain enums shown in the schema as they are, with a description for every value.

A domain's code enum (`hub.needs.errors.NeedErrorCode`, …) is plain Python so that the domain
does not depend on strawberry; its `types.py` registers that same class here. One enum, so a
code cannot be added to the service and forgotten in the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

import strawberry

E = TypeVar("E", bound=type[Enum])


def described_enum(cls: E, *, description: str, values: Mapping[str, str]) -> E:
    """Register `cls` as a GraphQL enum; `values` describes each member, by name."""
    names = [member.name for member in cls]
    if sorted(names) != sorted(values):
        missing = sorted(set(names) - set(values))
        extra = sorted(set(values) - set(names))
        raise ValueError(f"{cls.__name__}: undescribed {missing}, unknown {extra}")
    strawberry.enum(cls, description=description)
    # strawberry takes value descriptions only from `enum_value(...)` members, which would
    # put strawberry into the domain; set them on its definition instead.
    for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = values[value.name]
    return cls
