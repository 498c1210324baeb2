"""Read statements of the programmes domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from hub.programs.models import Program

_programs = Program.__table__


def list_statement() -> Select[Any]:
    """Every programme the hub knows, by code."""
    return select(_programs).order_by(_programs.c.code)
