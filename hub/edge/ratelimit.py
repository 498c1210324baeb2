"""Rate limits over the `limits` library: in memory, or in Redis shared by every worker.

Four families, each keyed apart under the configured prefix:

- `graphql`: what a client spends on `/graphql`, weighted by each document's cost;
- `token-client` / `token-address`: failed token requests per client id and per address,
  in tiers (`5/minute;20/hour;100/day`): a client id past a tier is locked out until that
  tier's window has passed, so repeated failures lock it out for longer and longer;
- `anonymous`: requests per address on the endpoints that take no token.

Every `/graphql` request is charged at least `HUB_RATE_LIMIT_MIN_COST`. A client refused
on `/graphql` is remembered in the worker (`exhausted`): its next requests are tested
against the window before any GraphQL work (parse, validation, cost walk) is done for
them, so an exhausted client's flood costs the hub a token check and a counter read each.
A client never refused is not tested: its requests pay no extra storage round trip.

The sliding-window counter keeps two counters per key whatever the cost, so a costly
document is one Redis round trip, not one entry per unit of cost; what is counted one by
one (failures, anonymous requests) uses the exact moving window. When Redis does not
answer the limit is not applied (and the failure is logged and counted): the hub stays
available, and Redis's outage is the operator's alarm, not the partners'.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

from hub.edge.settings import EdgeSettings

logger = logging.getLogger("hub.edge")


class SweptMemoryStorage(MemoryStorage):
    """`limits`' in-process storage, its expired keys swept at most once a second.

    limits 5.8 starts a sweep of every key after every counter change, handing each
    moving-window key to a thread: on a worker without Redis that was most of the limiter's
    cost on every request, and it grows with the number of clients and addresses. The
    strategies compare timestamps themselves (an expired entry never counts), so the sweep
    only frees memory, and once a second does that as well.
    """

    sweep_interval = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._swept_at = -math.inf

    # The name limits' methods call (`self.__schedule_expiry()`, mangled in its class).
    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now - self._swept_at < self.sweep_interval:
            return
        self._swept_at = now
        await MemoryStorage._MemoryStorage__schedule_expiry(self)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request over a limit: which family, when to retry, and the limit in words."""

    family: str
    retry_after: int
    limit: str


class RateLimiter:
    """The hub's rate limits over one storage; one per process, shared by its requests."""

    def __init__(self, settings: EdgeSettings) -> None:
        storage: Storage
        if settings.redis_url is not None:
            storage = RedisStorage(
                settings.redis_url.get_secret_value().replace("redis://", "async+redis://", 1),
                implementation="redispy",
                key_prefix=settings.rate_limit_prefix,
                wrap_exceptions=True,
            )
        else:
            storage = SweptMemoryStorage()
        self.storage = storage
        # Costs on /graphql: the sliding-window counter keeps two counters whatever the cost.
        self.strategy = SlidingWindowCounterRateLimiter(storage)
        # Counted one by one (failures, anonymous requests): the moving window is exact, so
        # a lockout never lapses early because its failures straddled a window's boundary.
        self.exact = MovingWindowRateLimiter(storage)
        self.graphql_default = parse(settings.rate_limit)
        self.graphql_roles = {role: parse(text) for role, text in settings.role_rate_limits.items()}
        self.token_client = parse_many(settings.token_failure_limits_client)
        self.token_address = parse_many(settings.token_failure_limits_address)
        self.anonymous_limit = parse(settings.anonymous_rate_limit)
        self.min_cost = settings.rate_limit_min_cost
        #: Clients refused on /graphql lately, and when (monotonic seconds): see `exhausted`.
        self._refused_at: dict[str, float] = {}
        #: Called with the family of every refusal (the metrics count them).
        self.on_refusal: list[Callable[[str], None]] = []

    def graphql_limit(self, roles: tuple[str, ...]) -> RateLimitItem:
        """The limit of a client with `roles`: the largest of its roles' (per second)."""
        items = [self.graphql_roles[role] for role in roles if role in self.graphql_roles]
        if not items:
            return self.graphql_default
        return max(items, key=lambda item: item.amount / item.get_expiry())

    def charge(self, cost: int) -> int:
        """What a request of `cost` is charged: never less than the minimum."""
        return max(cost, self.min_cost)

    async def spend(self, client_id: str, roles: tuple[str, ...], cost: int) -> Refusal | None:
        """Charge `cost` (at least the minimum) to the client; a `Refusal` when it has not
        that much left."""
        item = self.graphql_limit(roles)
        refusal = await self._hit("graphql", [item], (client_id,), self.charge(cost))
        if refusal is not None:
            self._remember_refusal(client_id, item)
        return refusal

    async def exhausted(self, client_id: str, roles: tuple[str, ...]) -> Refusal | None:
        """A `Refusal` when a client refused lately has not even the minimum charge left;
        nothing is charged. A client this worker has not refused within its window is not
        looked up at all."""
        refused_at = self._refused_at.get(client_id)
        if refused_at is None:
            return None
        item = self.graphql_limit(roles)
        if time.monotonic() - refused_at > item.get_expiry():
            del self._refused_at[client_id]
            return None
        try:
            if await self.strategy.test(item, "graphql", client_id, cost=self.min_cost):
                return None
            return await self._refusal(self.strategy, "graphql", item, (client_id,))
        except Exception as error:  # the storage failed: see the module docstring
            logger.warning("rate-limit storage unavailable: %r", error)
            return None

    def _remember_refusal(self, client_id: str, item: RateLimitItem) -> None:
        now = time.monotonic()
        if len(self._refused_at) >= 10_000:
            # Many clients refused at once: forget those whose window has passed.
            expiry = item.get_expiry()
            self._refused_at = {
                key: at for key, at in self._refused_at.items() if now - at <= expiry
            }
        self._refused_at[client_id] = now

    async def token_locked(self, client_id: str | None, address: str | None) -> Refusal | None:
        """A `Refusal` when the client id or the address has failed too often lately."""
        checks: list[tuple[str, list[RateLimitItem], tuple[str, ...]]] = []
        if client_id:
            checks.append(("token-client", self.token_client, (client_id,)))
        if address:
            checks.append(("token-address", self.token_address, (address,)))
        for family, items, keys in checks:
            refusal = await self._exhausted(family, items, keys)
            if refusal is not None:
                return refusal
        return None

    async def token_failed(self, client_id: str | None, address: str | None) -> None:
        """Count a failed token request against the client id and the address."""
        try:
            for items, family, key in (
                (self.token_client, "token-client", client_id),
                (self.token_address, "token-address", address),
            ):
                if key:
                    for item in items:
                        await self.exact.hit(item, family, key)
        except Exception as error:  # the storage failed: see the module docstring
            logger.warning("rate-limit storage unavailable: %r", error)

    async def anonymous(self, address: str) -> Refusal | None:
        """Charge one request to an address on an endpoint without a token."""
        return await self._hit("anonymous", [self.anonymous_limit], (address,), 1, exact=True)

    async def _hit(
        self,
        family: str,
        items: list[RateLimitItem],
        keys: tuple[str, ...],
        cost: int,
        *,
        exact: bool = False,
    ) -> Refusal | None:
        strategy = self.exact if exact else self.strategy
        try:
            for item in items:
                if not await strategy.hit(item, family, *keys, cost=cost):
                    return await self._refusal(strategy, family, item, keys)
        except Exception as error:
            logger.warning("rate-limit storage unavailable: %r", error)
        return None

    async def _exhausted(
        self, family: str, items: list[RateLimitItem], keys: tuple[str, ...]
    ) -> Refusal | None:
        # Every exhausted tier, not the first: the lockout lasts until the longest passes.
        refusals = []
        try:
            for item in items:
                if not await self.exact.test(item, family, *keys):
                    refusals.append(await self._refusal(self.exact, family, item, keys))
        except Exception as error:
            logger.warning("rate-limit storage unavailable: %r", error)
        return max(refusals, key=lambda refusal: refusal.retry_after, default=None)

    async def _refusal(
        self,
        strategy: MovingWindowRateLimiter | SlidingWindowCounterRateLimiter,
        family: str,
        item: RateLimitItem,
        keys: tuple[str, ...],
    ) -> Refusal:
        stats = await strategy.get_window_stats(item, family, *keys)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        # The sliding window frees capacity gradually; never promise less than a second
        # nor more than the window.
        wait = min(wait, item.get_expiry())
        for hook in self.on_refusal:
            hook(family)
        return Refusal(family, wait, str(item))

    async def close(self) -> None:
        """Close the Redis connections (limits' storage keeps its client in its bridge and
        offers no close of its own)."""
        if isinstance(self.storage, RedisStorage):
            bridge: Any = self.storage.bridge  # the redis-py bridge holds `storage`
            await bridge.storage.aclose()

    async def reset(self) -> None:
        """Forget every count (tests)."""
        self._refused_at.clear()
        await self.storage.reset()
