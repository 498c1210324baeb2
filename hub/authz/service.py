"""Changing the policy at run time: field access set by Dinsos, persisted and versioned."""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.authz.catalog import PERSONAL_FIELDS, ROLES, Level
from hub.authz.models import FieldAccessOverride, PolicyVersion
from hub.db import utcnow


class PolicyChangeError(ValueError):
    """A policy change the hub cannot make; the message says what is accepted."""

    code = "INVALID_INPUT"


def _personal_fields() -> list[str]:
    return [f"{t}.{f}" for t, names in PERSONAL_FIELDS.items() for f in names]


async def set_field_access(
    session: AsyncSession, *, role: str, field: str, level: Level, changed_by: str
) -> int:
    """Set `role`'s level on a personal field for every worker; return the new version."""
    if role not in ROLES:
        raise PolicyChangeError(f"unknown role {role}; roles: {', '.join(ROLES)}")
    if field not in _personal_fields():
        raise PolicyChangeError(
            f"{field} is not a personal field; fields: {', '.join(_personal_fields())}"
        )
    await session.execute(
        delete(FieldAccessOverride).where(
            FieldAccessOverride.role == role, FieldAccessOverride.field == field
        )
    )
    session.add(
        FieldAccessOverride(role=role, field=field, level=level.value, changed_by=changed_by)
    )
    return await bump_version(session)


async def bump_version(session: AsyncSession) -> int:
    """Tell every worker the policy changed; return the new version."""
    version = await session.scalar(
        update(PolicyVersion)
        .where(PolicyVersion.id == 1)
        .values(version=PolicyVersion.version + 1, changed_at=utcnow())
        .returning(PolicyVersion.version)
    )
    await session.flush()
    return int(version or 0)
