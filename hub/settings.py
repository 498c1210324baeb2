"""Configuration, read once from the environment.

Every setting has a `HUB_` variable; the README lists them. Nothing else in the package reads
`os.environ`, so a test or a command builds a `Settings` and passes it down.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

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
    #: Echo SQL statements to the log (development aid).
    echo_sql: bool = False
    var_dir: Path = field(default_factory=lambda: Path("var"))

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
        return cls(
            database_url=env.get("HUB_DATABASE_URL") or DEFAULT_DATABASE_URL,
            environment=environment,  # type: ignore[arg-type]
            host=env.get("HUB_HOST", "127.0.0.1"),
            port=_int(env, "HUB_PORT", 8000, low=1, high=65535),
            workers=_int(env, "HUB_WORKERS", 1, low=1, high=64),
            log_level=env.get("HUB_LOG_LEVEL", "info").lower(),
            default_page_size=default_page,
            max_page_size=max_page,
            max_query_depth=_int(env, "HUB_MAX_QUERY_DEPTH", 10, low=2, high=50),
            max_aliases=_int(env, "HUB_MAX_ALIASES", 30, low=1, high=1000),
            max_tokens=_int(env, "HUB_MAX_TOKENS", 2000, low=50, high=100_000),
            echo_sql=env.get("HUB_ECHO_SQL", "") in ("1", "true", "yes"),
            var_dir=Path(env.get("HUB_VAR_DIR", "var")),
        )
