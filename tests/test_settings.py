"""Settings are read once from HUB_* variables and refuse values the hub cannot use."""

from __future__ import annotations

import pytest

from hub.settings import Settings, SettingsError


def test_defaults_are_an_embedded_development_hub() -> None:
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.environment == "development" and settings.graphiql
    assert settings.auth.issuer == "http://127.0.0.1:8000"
    assert settings.authorization


def test_issuer_follows_host_and_port_unless_given() -> None:
    assert Settings.from_env({"HUB_PORT": "8011"}).auth.issuer == "http://127.0.0.1:8011"
    given = Settings.from_env({"HUB_PORT": "8011", "HUB_ISSUER": "https://hub.bandung.go.id/"})
    assert given.auth.issuer == "https://hub.bandung.go.id"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HUB_ENV": "staging"}, "accepted values: development, production"),
        ({"HUB_PORT": "eighty"}, "not a whole number"),
        ({"HUB_MAX_PAGE_SIZE": "5000"}, "outside 1..1000"),
        ({"HUB_DEFAULT_PAGE_SIZE": "50", "HUB_MAX_PAGE_SIZE": "20"}, "must not exceed"),
        ({"HUB_AUTHORIZATION": "maybe"}, "accepted: on, off"),
        ({"HUB_ENV": "production", "HUB_AUTHORIZATION": "off"}, "never production"),
    ],
)
def test_bad_values_say_what_is_accepted(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_production_turns_graphiql_off() -> None:
    assert not Settings.from_env({"HUB_ENV": "production"}).graphiql
