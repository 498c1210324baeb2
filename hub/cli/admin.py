"""Administrative changes made on the command line, recorded in the audit trail."""

from __future__ import annotations

import getpass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit.runtime import AuditRecorder
from hub.db import utcnow
from hub.settings import Settings


async def record_admin_change(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    *,
    operation: str,
    details: dict[str, Any],
) -> int:
    """Append an ADMIN event for `operation` in `session`'s transaction; return its seq."""
    recorder = AuditRecorder.from_settings(
        settings.audit,
        sessions=sessions,
        var_dir=settings.var_dir,
        production=settings.is_production,
    )
    event = recorder.event(
        occurred_at=utcnow(),
        decision="ALLOWED",
        kind="ADMIN",
        # Whoever ran the command on the hub's machine: the operating-system account.
        client_id=f"cli:{getpass.getuser()}"[:64],
        operation_type="cli",
        operation_name=operation,
        variables=details,
    )
    return await recorder.record_in(session, event)
