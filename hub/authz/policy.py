"""The policy, and the decisions taken from it once per role set.

pycasbin's `enforce()` is cheap for an allow but scans the whole policy for a deny, so it
never runs per resolved value. For a set of roles, `Policy.access()` asks casbin once about
every operation, row type, personal field and purpose, and keeps the answers in an `Access`;
a request looks decisions up in dictionaries. A new `Policy` (and new `Access` objects) is
built only when the policy version in the database changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import casbin
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.authz.catalog import (
    DISCLOSURES,
    LEVEL_ACTIONS,
    PERSONAL_FIELDS,
    ROW_TYPES,
    Level,
    Purpose,
)
from hub.authz.models import FieldAccessOverride, PolicyVersion

_LEVEL_ORDER = {level: i for i, level in enumerate(Level)}


def policy_dir() -> Path:
    """Where `model.conf` and `policy.csv` live: the checkout's `policies/`, else the wheel's."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "policies", package / "policies"):
        if (candidate / "policy.csv").exists():
            return candidate
    raise FileNotFoundError("policies/policy.csv not found beside the hub package")


@dataclass(frozen=True, slots=True)
class Access:
    """What one set of roles may do: decided once, looked up per request."""

    roles: tuple[str, ...]
    operations: frozenset[str]
    rows: Mapping[str, tuple[str, ...]]
    fields: Mapping[str, Level]
    purposes: frozenset[Purpose]
    #: Public disclosures allowed (`Tracking.organization`: name the helping organisation).
    disclosures: frozenset[str] = frozenset()
    #: True only when authorization is switched off (benchmarks): every check passes.
    unrestricted: bool = False
    #: `Type.field` -> the only purposes it may be read for (`<Type>.<field>, purpose:<P>`
    #: rules); a field without such rules may be read for any purpose the role may state.
    field_purposes: Mapping[str, frozenset[Purpose]] = field(default_factory=dict)

    def may_run(self, operation: str) -> bool:
        """True when `Query.x` / `Mutation.y` is allowed."""
        return operation in self.operations

    def level(self, type_name: str, field_name: str) -> Level:
        """The level of a personal field (fields outside the catalogue are not personal)."""
        return self.fields.get(f"{type_name}.{field_name}", Level.NONE)

    def may_disclose(self, what: str) -> bool:
        """True when the policy lets this role be shown `what` (see `DISCLOSURES`)."""
        return self.unrestricted or what in self.disclosures

    def may_read_for(self, type_name: str, field_name: str, purpose: Purpose | None) -> bool:
        """True unless the policy limits the field to purposes other than `purpose`."""
        only = self.field_purposes.get(f"{type_name}.{field_name}")
        return not only or purpose in only

    def row_rules(self, type_name: str) -> tuple[str, ...]:
        """The named row rules that reach records of `type_name` (none: no records)."""
        return self.rows.get(type_name, ())


@dataclass
class Policy:
    """The casbin enforcer of one policy version and the `Access` of each role set."""

    enforcer: casbin.Enforcer
    operations: tuple[str, ...]
    overrides: Mapping[tuple[str, str], Level]
    version: int
    _access: dict[tuple[str, ...], Access] = field(default_factory=dict)

    def access(self, roles: Iterable[str]) -> Access:
        """The decisions for `roles`, computed on first use."""
        key = tuple(sorted(set(roles)))
        cached = self._access.get(key)
        if cached is None:
            cached = self._access[key] = self._decide(key)
        return cached

    def unrestricted(self) -> Access:
        """Everything allowed, everything in full: what a benchmark compares against."""
        return Access(
            roles=("unrestricted",),
            operations=frozenset(self.operations),
            rows={type_name: ("all",) for type_name in ROW_TYPES},
            fields={f"{t}.{f}": Level.FULL for t, names in PERSONAL_FIELDS.items() for f in names},
            purposes=frozenset(Purpose),
            unrestricted=True,
        )

    def _field_level(self, role: str, field_name: str) -> Level:
        override = self.overrides.get((role, field_name))
        if override is not None:
            return override
        for level, action in LEVEL_ACTIONS:
            if self.enforcer.enforce(role, field_name, action):
                return level
        return Level.NONE

    def _decide(self, roles: tuple[str, ...]) -> Access:
        enforce = self.enforcer.enforce
        operations = frozenset(
            op for op in self.operations if any(enforce(r, op, "run") for r in roles)
        )
        rows: dict[str, tuple[str, ...]] = {}
        for role in roles:
            for _, obj, action in self.enforcer.get_implicit_permissions_for_user(role):
                if obj in ROW_TYPES and action.startswith("rows:"):
                    rows[obj] = (*rows.get(obj, ()), action.removeprefix("rows:"))
        fields = {}
        field_purposes = {}
        for type_name, names in PERSONAL_FIELDS.items():
            for name in names:
                qualified = f"{type_name}.{name}"
                levels = [self._field_level(r, qualified) for r in roles] or [Level.NONE]
                fields[qualified] = min(levels, key=_LEVEL_ORDER.__getitem__)
                only = frozenset(
                    p
                    for p in Purpose
                    if any(enforce(r, qualified, f"purpose:{p.value}") for r in roles)
                )
                if only:
                    field_purposes[qualified] = only
        purposes = frozenset(
            p for p in Purpose if any(enforce(r, f"purpose:{p.value}", "state") for r in roles)
        )
        disclosures = frozenset(
            d for d in DISCLOSURES if any(enforce(r, d, "disclose") for r in roles)
        )
        return Access(
            roles=roles,
            operations=operations,
            rows={k: tuple(dict.fromkeys(v)) for k, v in rows.items()},
            fields=fields,
            purposes=purposes,
            disclosures=disclosures,
            field_purposes=field_purposes,
        )


def load_policy(
    directory: Path,
    operations: Iterable[str],
    *,
    overrides: Mapping[tuple[str, str], Level] | None = None,
    version: int = 0,
) -> Policy:
    """The policy of `directory` with the given run-time overrides."""
    enforcer = casbin.Enforcer(str(directory / "model.conf"), str(directory / "policy.csv"))
    return Policy(enforcer, tuple(operations), dict(overrides or {}), version)


class PolicyStore:
    """The current policy of this process, reloaded within seconds of a change anywhere."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        operations: Iterable[str],
        *,
        directory: Path | None = None,
        check_every: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.operations = tuple(operations)
        self.directory = directory or policy_dir()
        self.check_every = check_every
        self.clock = clock
        self._policy = load_policy(self.directory, self.operations)
        self._checked_at: float | None = None

    async def current(self) -> Policy:
        """The policy, after checking the database version at most every `check_every` s."""
        now = self.clock()
        if self._checked_at is None or now - self._checked_at >= self.check_every:
            self._checked_at = now
            async with self.sessions() as session:
                version = await session.scalar(select(PolicyVersion.version)) or 0
                if version != self._policy.version:
                    overrides = await read_overrides(session)
                    self._policy = load_policy(
                        self.directory, self.operations, overrides=overrides, version=version
                    )
        return self._policy

    def invalidate(self) -> None:
        """Check the version on the next request (after a change made in this process)."""
        self._checked_at = None


async def read_overrides(session: AsyncSession) -> dict[tuple[str, str], Level]:
    """The field-access overrides stored in the database."""
    rows = (await session.execute(select(FieldAccessOverride))).scalars().all()
    return {(r.role, r.field): Level(r.level) for r in rows}
