"""Configuration of the production edge, read once from the environment.

- `HUB_MAX_COST`: the most one GraphQL request may cost (see `hub.graphql.cost`);
  `HUB_ROLE_MAX_COST` lowers it per role, as JSON (`{"lks_partner": 10000}`).
- `HUB_COST_LIST_SIZE`: how many items the cost assumes for a list that is not paginated.
- `HUB_COST_IN_RESPONSE`: `on` (default) answers `extensions.cost` in every response.
- `HUB_RATE_LIMITS`: `on` (default) or `off`.
- `HUB_REDIS_URL`: `redis://host:6379/0` shares every limit between the workers and hubs
  that name it; without it each process counts alone, in memory.
- `HUB_RATE_LIMIT_PREFIX`: the prefix of the hub's keys in Redis.
- `HUB_RATE_LIMIT`: what one client may spend on `/graphql`, in cost per window
  (`10000/10 seconds`); `HUB_ROLE_RATE_LIMITS` per role, as JSON. A client with several
  roles gets the largest of theirs.
- `HUB_RATE_LIMIT_MIN_COST`: the least one `/graphql` request is charged, whatever its
  document (32): a request's fixed work (token, parse, audit) costs the hub as much as a
  page of ten needs, so a flood of tiny documents spends the window as fast as it
  burdens the hub.
- `HUB_CLIENT_MAX_IN_FLIGHT`: how many `/graphql` requests of one client a worker runs at
  once; more wait their turn (no work is done for them meanwhile), and beyond
  `HUB_CLIENT_MAX_WAITING` waiting they are refused at once (`RATE_LIMITED`).
- `HUB_CLIENT_RATE` / `HUB_CLIENT_BURST`: how many `/graphql` requests a second one client
  may start in a worker, after a burst of that many at once (`hub.edge.pacing`): a request
  ahead of its time waits for it, with no work done for it. A window's allowance is then
  spent over seconds, not in one burst that every other client's answers wait behind.
  `allowance`: each client at the rate its role's limit allows at the minimum charge (a
  foundation's 3500 per 10 s at 32: ~11 a second), so pacing spreads a burst and never
  holds a client below what its limit lets it spend. The default, with a burst of 4:
  bench/attack.py's victim kept its p99 within 20 % only paced (attack.md, fifth pass).
- `HUB_WORKER_MAX_RUNNING`: how many `/graphql` requests a worker runs at once, of all
  clients; the next turn goes to the client with the fewest requests in the worker, so a
  client flooding it with its allowance does not stretch everyone else's answers
  (`hub.edge.turns`). Waiting for the audit's group commit gives the turn away.
- `HUB_RATE_LIMIT_REFUSAL_DELAY`: seconds a refusal (`429`) is held before it is sent, to
  a client past its limit on `/graphql` and to a locked-out token request (never longer
  than its `Retry-After`; 0: none). A client that ignores `Retry-After` and asks again
  at once gets one answer a delay per connection, and a held refusal costs no work.
- `HUB_TOKEN_FAILURE_LIMITS_CLIENT` / `_ADDRESS`: failed token requests allowed per client
  id and per address, tiers separated by `;` (`5/minute;20/hour;100/day`): each tier
  exhausted locks out until its window passes, so the lockout grows with the failures.
- `HUB_ANONYMOUS_RATE_LIMIT`: requests per address on the endpoints without a token.
- `HUB_METRICS_TOKEN`: the bearer token `/metrics` requires; without one `/metrics` is
  served in development only.
- `HUB_CORS_ORIGINS`: browser origins allowed to call the hub (comma-separated or JSON).
- `HUB_LOG_FORMAT`: `json` (default: one JSON object a line) or `text`.
- `HUB_HSTS_SECONDS`: `Strict-Transport-Security` max-age on HTTPS requests (0: none).
- `HUB_APQ`: `on` (default) or `off`: Apollo's automatic persisted queries (a client sends
  a document's hash, and its text once when the hub does not know it yet).
- `HUB_APQ_CACHE_BYTES`: the most text the in-memory APQ store keeps (least recently used
  documents go first); `HUB_APQ_TTL_SECONDS`: how long Redis keeps a registered document
  when `HUB_REDIS_URL` is set (every worker and hub on it shares the documents).
- `HUB_TRUSTED_DOCUMENTS_ONLY`: roles (comma-separated; `*` for every client's role, the
  tokenless `anonymous` only when named) that may run only the trusted documents (the
  catalogue `schema/operations/`, see `hub.edge.documents`); `HUB_TRUSTED_DOCUMENTS_FILE`:
  a manifest of one's own instead of the shipped one.

This module builds on `hub.env` only; `hub.settings` nests it (no import circle).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from limits import parse_many
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from hub.env import HubSettings

#: What a client of each role may spend on /graphql, in cost per window. A foundation's
#: page of 20 open needs with their people costs ~300; an agency pushes and reads in bulk.
#: Ten-second windows, not minutes: a client cannot spend a minute's budget in one burst
#: (bench/attack.py measured what such a burst does to the other clients).
DEFAULT_ROLE_RATE_LIMITS = {
    "lks_partner": "3500/10 seconds",
    "opd_officer": "35000/10 seconds",
    "dinsos_admin": "17000/10 seconds",
    "auditor": "8500/10 seconds",
}


_ROLE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def _limit_text(name: str, value: str) -> str:
    try:
        parse_many(value)
    except ValueError:
        raise ValueError(
            f"{name}={value!r} is not a rate limit; write e.g. '600/minute' or "
            "'5/minute;20/hour' (tiers separated by ';')"
        ) from None
    return value


class EdgeSettings(HubSettings):
    """Typed settings of the rate limits, cost limits, metrics and browser access."""

    model_config = SettingsConfigDict(env_prefix="HUB_")

    max_cost: int = Field(default=50_000, ge=1, le=10_000_000)
    role_max_cost: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    cost_list_size: int = Field(default=10, ge=1, le=1000)
    #: Answer `extensions.cost` (requested, actual, limit) in every response.
    cost_in_response: bool = True
    rate_limits: bool = True
    redis_url: SecretStr | None = None
    rate_limit_prefix: str = Field(default="hub", pattern=r"^[A-Za-z0-9:_-]{1,40}$")
    rate_limit: str = "10000/10 seconds"
    role_rate_limits: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ROLE_RATE_LIMITS))
    #: The least a request is charged. Measured (bench/results/attack.md, fifth pass): a
    #: `{ regions { code } }` (cost 11) takes about the CPU of a page of ten needs (cost
    #: 32), 3.4-4.4 against 3.1-4.2 ms in the hub: a request's fixed work is worth ~32.
    rate_limit_min_cost: int = Field(default=32, ge=1, le=10_000)
    client_max_in_flight: int = Field(default=4, ge=1, le=1000)
    client_max_waiting: int = Field(default=32, ge=0, le=10_000)
    #: Requests a second one client may start in a worker (0: unpaced), after a burst;
    #: `allowance`: as many as its role's rate limit allows at the minimum charge.
    client_rate: float | Literal["allowance"] = Field(default="allowance")
    client_burst: int = Field(default=4, ge=1, le=100_000)
    #: GraphQL requests one worker runs at once, of all clients (hub.edge.turns).
    worker_max_running: int = Field(default=2, ge=1, le=10_000)
    rate_limit_refusal_delay: float = Field(default=1.0, ge=0, le=30)
    token_failure_limits_client: str = "5/minute;20/hour;100/day"
    token_failure_limits_address: str = "30/minute;300/hour;1000/day"
    anonymous_rate_limit: str = "600/minute"
    metrics_token: SecretStr | None = None
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    hsts_seconds: int = Field(default=31_536_000, ge=0, le=2 * 31_536_000)
    log_format: Literal["json", "text"] = "json"
    apq: bool = True
    apq_cache_bytes: int = Field(default=16 * 1024 * 1024, ge=0, le=4 * 1024**3)
    apq_ttl_seconds: int = Field(default=86_400, ge=1, le=365 * 86_400)
    trusted_documents_only: Annotated[frozenset[str], NoDecode] = frozenset()
    trusted_documents_file: Path | None = None

    @field_validator("rate_limits", "cost_in_response", "apq", mode="before")
    @classmethod
    def _switch(cls, value: Any, info: Any) -> Any:
        if isinstance(value, bool):
            return value
        switch = str(value).lower()
        if switch not in ("on", "off"):
            raise ValueError(f"HUB_{info.field_name.upper()}={value!r}; accepted: on, off")
        return switch == "on"

    @field_validator("client_rate", mode="before")
    @classmethod
    def _client_rate(cls, value: Any) -> Any:
        if value == "allowance":
            return value
        try:
            rate = float(value)
        except (TypeError, ValueError):
            rate = -1.0
        if not 0 <= rate <= 100_000:
            raise ValueError(
                f"HUB_CLIENT_RATE={value!r}; accepted: a number of requests a second from 0 "
                "(unpaced) to 100000, or 'allowance' (the role's rate limit at the minimum "
                "charge)"
            )
        return rate

    @field_validator(
        "rate_limit",
        "token_failure_limits_client",
        "token_failure_limits_address",
        "anonymous_rate_limit",
    )
    @classmethod
    def _limits(cls, value: str, info: Any) -> str:
        return _limit_text(f"HUB_{info.field_name.upper()}", value)

    @field_validator("role_rate_limits")
    @classmethod
    def _role_limits(cls, value: dict[str, str]) -> dict[str, str]:
        for role, limit in value.items():
            _limit_text(f"HUB_ROLE_RATE_LIMITS[{role}]", limit)
        return {**DEFAULT_ROLE_RATE_LIMITS, **value}

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [origin.strip() for origin in text.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origin_urls(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not origin.startswith(("https://", "http://")):
                raise ValueError(
                    f"HUB_CORS_ORIGINS holds {origin!r}; accepted: origins such as "
                    "https://partner.example.org, comma-separated"
                )
        return [origin.rstrip("/") for origin in value]

    @field_validator("trusted_documents_only", mode="before")
    @classmethod
    def _roles(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [role.strip() for role in value.split(",") if role.strip()]
        for role in value:
            if role != "*" and not _ROLE.fullmatch(role):
                raise ValueError(
                    f"HUB_TRUSTED_DOCUMENTS_ONLY holds {role!r}; accepted: role names such as "
                    "lks_partner,opd_officer (comma-separated), or * for every role"
                )
        return frozenset(value)

    def trusted_only(self, roles: tuple[str, ...]) -> bool:
        """True when a client with `roles` may run only trusted documents: one of its
        roles is listed (a client is held to the strictest of its roles). `*` lists every
        client's role, not the tokenless `anonymous` (the citizens' tracking lookup), which
        is held to the list only when named."""
        listed = self.trusted_documents_only
        if any(role in listed for role in roles):
            return True
        return "*" in listed and "anonymous" not in roles

    def max_cost_for(self, roles: tuple[str, ...]) -> int:
        """The most a request of a client with `roles` may cost: its roles' largest."""
        limits = [self.role_max_cost[role] for role in roles if role in self.role_max_cost]
        return min(self.max_cost, max(limits)) if limits else self.max_cost

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EdgeSettings:
        """Build settings from `HUB_*` variables; raise `SettingsError` on a bad value."""
        return cls.read(env)
