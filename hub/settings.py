"""Configuration, read once from the environment.

Every setting has a `HUB_` variable; the README lists them. Nothing else in the package reads
`os.environ`, so a test or a command builds a `Settings` and passes it down.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from hub.audit.settings import AuditSettings

Environment = Literal["development", "production"]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/hub.db"


class SettingsError(ValueError):
    """A `HUB_` variable holds a value the hub cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is outside {low}..{high}")
    return value


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """Typed settings of the authorization server and the bearer validation."""

    #: The issuer identifier (RFC 8414): the public base URL of the hub, without a slash.
    issuer: str = "http://127.0.0.1:8000"
    #: The `aud` of every access token, checked by the resource side.
    audience: str = "satu-pintu-hub"
    #: Lifetime of an access token in seconds.
    token_ttl_seconds: int = 900
    #: A PEM file holding the signing key(s); see `hub.auth.keys`.
    signing_key_file: Path | None = None
    #: The PEM itself, for deployments that inject secrets as variables (never logged).
    signing_key_pem: str | None = field(default=None, repr=False)
    #: How long a client's previous secret keeps working after a rotation.
    secret_overlap_seconds: int = 86400
    #: How long a client's status (revoked, organisation suspended) may be served from cache.
    status_cache_seconds: int = 30
    #: How long a successfully verified secret may skip the slow hash (0 turns it off).
    verified_secret_cache_seconds: int = 60
    #: Clock skew tolerated on `exp`, `nbf` and `iat`.
    leeway_seconds: int = 30

    @property
    def token_endpoint(self) -> str:
        """The absolute URL of the token endpoint, as published in the metadata."""
        return f"{self.issuer}/oauth/token"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, default_issuer: str = "http://127.0.0.1:8000"
    ) -> AuthSettings:
        """Build settings from `HUB_*` variables; raise `SettingsError` on a bad value."""
        env = os.environ if env is None else env
        issuer = (env.get("HUB_ISSUER") or default_issuer).rstrip("/")
        if not issuer.startswith(("https://", "http://")):
            raise SettingsError(f"HUB_ISSUER={issuer!r} must be an http(s) URL")
        key_file = env.get("HUB_SIGNING_KEY_FILE") or None
        return cls(
            issuer=issuer,
            audience=env.get("HUB_TOKEN_AUDIENCE") or "satu-pintu-hub",
            token_ttl_seconds=_int(env, "HUB_TOKEN_TTL_SECONDS", 900, low=60, high=86400),
            signing_key_file=Path(key_file) if key_file else None,
            signing_key_pem=env.get("HUB_SIGNING_KEY") or None,
            secret_overlap_seconds=_int(
                env, "HUB_SECRET_OVERLAP_SECONDS", 86400, low=0, high=30 * 86400
            ),
            # A suspension must bite within a minute, so the cache may not outlive that.
            status_cache_seconds=_int(env, "HUB_CLIENT_STATUS_CACHE_SECONDS", 30, low=0, high=60),
            verified_secret_cache_seconds=_int(
                env, "HUB_VERIFIED_SECRET_CACHE_SECONDS", 60, low=0, high=3600
            ),
            leeway_seconds=_int(env, "HUB_TOKEN_LEEWAY_SECONDS", 30, low=0, high=300),
        )


def _seconds(env: Mapping[str, str], name: str, default: float, *, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number of seconds") from None
    if not 0 <= value <= high:
        raise SettingsError(f"{name}={value} is outside 0..{high}")
    return value


@dataclass(frozen=True, slots=True)
class EventSettings:
    """Real time: the event bus between workers, and webhook delivery (hub/events)."""

    #: Redis pub/sub between processes when set; else PostgreSQL LISTEN/NOTIFY on PostgreSQL,
    #: else in-process (SQLite: one process).
    redis_url: str | None = field(default=None, repr=False)
    #: The NOTIFY channel / Redis channel (tests sharing one Redis use their own).
    channel: str = "hub_events"
    #: How often the webhook worker looks for due deliveries (seconds; 0: no worker).
    webhook_poll_seconds: float = 1.0
    webhook_timeout_seconds: float = 10.0
    #: Attempts per delivery before it fails and its endpoint is disabled.
    webhook_max_attempts: int = 8
    #: Retry n waits about base * 2**(n-1) seconds (full jitter), at most the maximum.
    webhook_backoff_seconds: float = 10.0
    webhook_backoff_max_seconds: float = 3600.0
    #: `pledgeExpiring` warns this long before a pledge lapses; checked this often.
    pledge_warning_hours: int = 24
    pledge_warning_check_seconds: int = 300

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EventSettings:
        """Build settings from `HUB_*` variables; raise `SettingsError` on a bad value."""
        return cls(
            redis_url=env.get("HUB_REDIS_URL") or None,
            channel=env.get("HUB_EVENTS_CHANNEL") or "hub_events",
            webhook_poll_seconds=_seconds(env, "HUB_WEBHOOK_POLL_SECONDS", 1.0, high=3600),
            webhook_timeout_seconds=_seconds(env, "HUB_WEBHOOK_TIMEOUT_SECONDS", 10.0, high=60),
            webhook_max_attempts=_int(env, "HUB_WEBHOOK_MAX_ATTEMPTS", 8, low=1, high=30),
            webhook_backoff_seconds=_seconds(env, "HUB_WEBHOOK_BACKOFF_SECONDS", 10.0, high=3600),
            webhook_backoff_max_seconds=_seconds(
                env, "HUB_WEBHOOK_BACKOFF_MAX_SECONDS", 3600.0, high=86400
            ),
            pledge_warning_hours=_int(env, "HUB_PLEDGE_WARNING_HOURS", 24, low=1, high=24 * 30),
            pledge_warning_check_seconds=_int(
                env, "HUB_PLEDGE_WARNING_CHECK_SECONDS", 300, low=0, high=86400
            ),
        )


@dataclass(frozen=True, slots=True)
class Settings:
    """Typed settings of one hub process."""

    database_url: str = DEFAULT_DATABASE_URL
    environment: Environment = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "info"
    #: Relay connections: the page size when `first` is omitted, and the largest allowed.
    default_page_size: int = 20
    max_page_size: int = 100
    #: Query limits applied before execution.
    max_query_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2000
    #: Benchmarks only: switch the authorization layer off (refused in production).
    authorization: bool = True
    #: How often lapsed pledges are swept so their needs reopen (seconds; 0: never).
    pledge_sweep_seconds: int = 60
    #: How often a worker checks whether the policy changed (seconds; 0: every request).
    policy_check_seconds: float = 2.0
    #: Echo SQL statements to the log (development aid).
    echo_sql: bool = False
    var_dir: Path = field(default_factory=lambda: Path("var"))
    #: The authorization server and bearer validation.
    auth: AuthSettings = field(default_factory=AuthSettings)
    #: The audit trail (keys, pepper, checkpoints, retention); see hub/audit/settings.py.
    audit: AuditSettings = field(default_factory=lambda: _audit_settings({}))
    #: Benchmarks only: switch the audit trail off (refused in production).
    audit_enabled: bool = True
    #: Subscriptions' bus and webhook delivery.
    events: EventSettings = field(default_factory=EventSettings)

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
        env = os.environ if env is None else env
        environment = env.get("HUB_ENV", "development")
        if environment not in ("development", "production"):
            raise SettingsError(
                f"HUB_ENV={environment!r}; accepted values: development, production"
            )
        default_page = _int(env, "HUB_DEFAULT_PAGE_SIZE", 20, low=1, high=1000)
        max_page = _int(env, "HUB_MAX_PAGE_SIZE", 100, low=1, high=1000)
        if default_page > max_page:
            raise SettingsError("HUB_DEFAULT_PAGE_SIZE must not exceed HUB_MAX_PAGE_SIZE")
        host = env.get("HUB_HOST", "127.0.0.1")
        port = _int(env, "HUB_PORT", 8000, low=1, high=65535)
        audit_switch = env.get("HUB_AUDIT", "on").lower()
        if audit_switch not in ("on", "off"):
            raise SettingsError(f"HUB_AUDIT={audit_switch!r}; accepted: on, off")
        if audit_switch == "off" and environment == "production":
            raise SettingsError("HUB_AUDIT=off is for benchmarks, never production")
        authorization = env.get("HUB_AUTHORIZATION", "on").lower()
        if authorization not in ("on", "off"):
            raise SettingsError(f"HUB_AUTHORIZATION={authorization!r}; accepted: on, off")
        if authorization == "off" and environment == "production":
            raise SettingsError("HUB_AUTHORIZATION=off is for benchmarks, never production")
        return cls(
            database_url=env.get("HUB_DATABASE_URL") or DEFAULT_DATABASE_URL,
            environment=environment,  # type: ignore[arg-type]
            host=host,
            port=port,
            workers=_int(env, "HUB_WORKERS", 1, low=1, high=64),
            log_level=env.get("HUB_LOG_LEVEL", "info").lower(),
            default_page_size=default_page,
            max_page_size=max_page,
            max_query_depth=_int(env, "HUB_MAX_QUERY_DEPTH", 10, low=2, high=50),
            max_aliases=_int(env, "HUB_MAX_ALIASES", 30, low=1, high=1000),
            max_tokens=_int(env, "HUB_MAX_TOKENS", 2000, low=50, high=100_000),
            authorization=authorization == "on",
            pledge_sweep_seconds=_int(env, "HUB_PLEDGE_SWEEP_SECONDS", 60, low=0, high=86400),
            policy_check_seconds=_int(env, "HUB_POLICY_CHECK_SECONDS", 2, low=0, high=60),
            echo_sql=env.get("HUB_ECHO_SQL", "") in ("1", "true", "yes"),
            var_dir=Path(env.get("HUB_VAR_DIR", "var")),
            # Without HUB_ISSUER the issuer is where this process listens (development).
            auth=AuthSettings.from_env(env, default_issuer=f"http://{host}:{port}"),
            audit=_audit_settings(env),
            audit_enabled=audit_switch == "on",
            events=EventSettings.from_env(env),
        )


def _audit_settings(env: Mapping[str, str]) -> AuditSettings:
    # The audit package builds on this module (SettingsError, _int): import it late.
    from hub.audit.settings import AuditSettings

    return AuditSettings.from_env(env)
