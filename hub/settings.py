"""Configuration, read once from the environment (pydantic-settings, see `hub.env`).

Every setting has a `HUB_` variable; the README lists them. Nothing else in the package reads
`os.environ`, so a test or a command builds a `Settings` and passes it down.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from limits import parse as parse_rate
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from hub.audit.settings import AuditSettings
from hub.edge.settings import EdgeSettings
from hub.env import HubSettings, SettingsError

__all__ = [
    "DEFAULT_DATABASE_URL",
    "AuthSettings",
    "Environment",
    "EventSettings",
    "Settings",
    "SettingsError",
]

Environment = Literal["development", "production"]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/hub.db"


def _on_off(name: str, value: Any) -> Any:
    """HUB_AUDIT / HUB_AUTHORIZATION are `on` or `off` (booleans when given in code)."""
    if isinstance(value, bool):
        return value
    switch = str(value).lower()
    if switch not in ("on", "off"):
        raise ValueError(f"{name}={value!r}; accepted: on, off")
    return switch == "on"


class AuthSettings(HubSettings):
    """Typed settings of the authorization server and the bearer validation."""

    model_config = SettingsConfigDict(env_prefix="HUB_")

    #: The issuer identifier (RFC 8414): the public base URL of the hub, without a slash.
    issuer: str = "http://127.0.0.1:8000"
    #: The `aud` of every access token, checked by the resource side.
    audience: str = Field(default="satu-pintu-hub", validation_alias="HUB_TOKEN_AUDIENCE")
    #: Lifetime of an access token in seconds.
    token_ttl_seconds: int = Field(default=900, ge=60, le=86400)
    #: A PEM file holding the signing key(s); see `hub.auth.keys`.
    signing_key_file: Path | None = None
    #: The PEM itself, for deployments that inject secrets as variables (never logged).
    signing_key_pem: SecretStr | None = Field(default=None, validation_alias="HUB_SIGNING_KEY")
    #: How long a client's previous secret keeps working after a rotation.
    secret_overlap_seconds: int = Field(default=86400, ge=0, le=30 * 86400)
    #: How long a client's status (revoked, organisation suspended) may be served from cache.
    #: A suspension must bite within a minute, so the cache may not outlive that.
    status_cache_seconds: int = Field(
        default=30, ge=0, le=60, validation_alias="HUB_CLIENT_STATUS_CACHE_SECONDS"
    )
    #: How long a successfully verified secret may skip the slow hash (0 turns it off).
    verified_secret_cache_seconds: int = Field(default=60, ge=0, le=3600)
    #: Clock skew tolerated on `exp`, `nbf` and `iat`.
    leeway_seconds: int = Field(
        default=30, ge=0, le=300, validation_alias="HUB_TOKEN_LEEWAY_SECONDS"
    )

    @field_validator("issuer")
    @classmethod
    def _http_url(cls, issuer: str) -> str:
        issuer = issuer.rstrip("/")
        if not issuer.startswith(("https://", "http://")):
            raise ValueError(f"HUB_ISSUER={issuer!r} must be an http(s) URL")
        return issuer

    @property
    def token_endpoint(self) -> str:
        """The absolute URL of the token endpoint, as published in the metadata."""
        return f"{self.issuer}/oauth/token"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, default_issuer: str = "http://127.0.0.1:8000"
    ) -> AuthSettings:
        """Build settings from `HUB_*` variables; raise `SettingsError` on a bad value."""
        source = os.environ if env is None else env
        given = {} if source.get("HUB_ISSUER") else {"issuer": default_issuer}
        return cls.read(source, **given)


class EventSettings(HubSettings):
    """Real time: the event bus between workers, and webhook delivery (hub/events)."""

    model_config = SettingsConfigDict(env_prefix="HUB_")

    #: Redis pub/sub between processes when set; else PostgreSQL LISTEN/NOTIFY on PostgreSQL,
    #: else in-process (SQLite: one process). May hold a password: never logged.
    redis_url: SecretStr | None = None
    #: The NOTIFY channel / Redis channel (tests sharing one Redis use their own).
    channel: str = Field(default="hub_events", validation_alias="HUB_EVENTS_CHANNEL")
    #: How often the webhook worker looks for due deliveries (seconds; 0: no worker).
    webhook_poll_seconds: float = Field(default=1.0, ge=0, le=3600)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    #: Attempts per delivery before it fails and its endpoint is disabled.
    webhook_max_attempts: int = Field(default=8, ge=1, le=30)
    #: Retry n waits about base * 2**(n-1) seconds (half of it jitter), at most the maximum.
    webhook_backoff_seconds: float = Field(default=10.0, ge=0, le=3600)
    webhook_backoff_max_seconds: float = Field(default=3600.0, ge=0, le=86400)
    #: `pledgeExpiring` warns this long before a pledge lapses; checked this often.
    pledge_warning_hours: int = Field(default=24, ge=1, le=24 * 30)
    pledge_warning_check_seconds: int = Field(default=300, ge=0, le=86400)


class Settings(HubSettings):
    """Typed settings of one hub process."""

    model_config = SettingsConfigDict(env_prefix="HUB_")

    database_url: str = DEFAULT_DATABASE_URL
    environment: Environment = Field(default="development", validation_alias="HUB_ENV")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    #: How long uvicorn's supervisor waits for a starting worker to answer its health ping
    #: before it kills it (seconds). A worker imports the hub first, which takes seconds
    #: on a loaded machine; uvicorn's own default (5 s) killed workers there.
    worker_healthcheck_seconds: int = Field(default=30, ge=1, le=600)
    log_level: str = "info"
    #: Relay connections: the page size when `first` is omitted, and the largest allowed.
    default_page_size: int = Field(default=20, ge=1, le=1000)
    max_page_size: int = Field(default=100, ge=1, le=1000)
    #: Query limits applied before execution.
    max_query_depth: int = Field(default=10, ge=2, le=50)
    max_aliases: int = Field(default=30, ge=1, le=1000)
    max_tokens: int = Field(default=2000, ge=50, le=100_000)
    #: Benchmarks only: switch the authorization layer off (refused in production).
    authorization: bool = True
    #: How often lapsed pledges are swept so their needs reopen (seconds; 0: never).
    pledge_sweep_seconds: int = Field(default=60, ge=0, le=86400)
    #: How often a worker checks whether the policy changed (seconds; 0: every request).
    policy_check_seconds: float = Field(default=2.0, ge=0, le=60)
    #: Tracking-code lookups allowed per client address (`limits` notation: `10/minute`).
    track_rate: str = "10/minute"
    #: Echo SQL statements to the log (development aid).
    echo_sql: bool = False
    #: The request edge (see README "Limits"): expanded size of a document, wall-clock
    #: budget of an operation, body size.
    max_fields: int = Field(default=2000, ge=10, le=100_000)
    request_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    #: Introspection and "Did you mean …" suggestions help developers and attackers alike:
    #: on in development, off in production unless HUB_INTROSPECTION / HUB_SUGGESTIONS say.
    introspection: bool = Field(
        default_factory=lambda data: data.get("environment") != "production"
    )
    suggestions: bool = Field(default_factory=lambda data: data.get("environment") != "production")
    var_dir: Path = Path("var")
    #: The authorization server and bearer validation.
    auth: AuthSettings = Field(default_factory=AuthSettings)
    #: The audit trail (keys, pepper, checkpoints, retention); see hub/audit/settings.py.
    audit: AuditSettings = Field(default_factory=AuditSettings)
    #: Rate limits, query cost, metrics, CORS; see hub/edge/settings.py.
    edge: EdgeSettings = Field(default_factory=EdgeSettings)
    #: Benchmarks only: switch the audit trail off (refused in production).
    audit_enabled: bool = Field(default=True, validation_alias="HUB_AUDIT")
    #: Subscriptions' bus and webhook delivery.
    events: EventSettings = Field(default_factory=EventSettings)

    @field_validator("authorization", mode="before")
    @classmethod
    def _authorization_switch(cls, value: Any) -> Any:
        return _on_off("HUB_AUTHORIZATION", value)

    @field_validator("audit_enabled", mode="before")
    @classmethod
    def _audit_switch(cls, value: Any) -> Any:
        return _on_off("HUB_AUDIT", value)

    @field_validator("introspection", mode="before")
    @classmethod
    def _introspection_switch(cls, value: Any) -> Any:
        return _on_off("HUB_INTROSPECTION", value)

    @field_validator("suggestions", mode="before")
    @classmethod
    def _suggestions_switch(cls, value: Any) -> Any:
        return _on_off("HUB_SUGGESTIONS", value)

    @field_validator("track_rate")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        try:
            parse_rate(value)
        except ValueError:
            raise ValueError(
                f"HUB_TRACK_RATE={value!r} is not a rate; write it like 10/minute or 100/hour"
            ) from None
        return value

    @field_validator("log_level")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.default_page_size > self.max_page_size:
            raise ValueError("HUB_DEFAULT_PAGE_SIZE must not exceed HUB_MAX_PAGE_SIZE")
        if self.is_production and not self.audit_enabled:
            raise ValueError("HUB_AUDIT=off is for benchmarks, never production")
        if self.is_production and not self.authorization:
            raise ValueError("HUB_AUTHORIZATION=off is for benchmarks, never production")
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def graphiql(self) -> bool:
        """GraphiQL is served in development only."""
        return not self.is_production

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `HUB_*` variables; raise `SettingsError` on a bad value."""
        settings = cls.read(env)
        # Without HUB_ISSUER the issuer is where this process listens (development).
        issuer = f"http://{settings.host}:{settings.port}"
        return settings.model_copy(
            update={
                "auth": AuthSettings.from_env(env, default_issuer=issuer),
                "audit": AuditSettings.from_env(env),
                "events": EventSettings.read(env),
                "edge": EdgeSettings.from_env(env),
            }
        )
