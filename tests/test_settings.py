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


def test_a_duration_may_be_a_fraction_of_a_second() -> None:
    assert Settings.from_env({"HUB_POLICY_CHECK_SECONDS": "0.5"}).policy_check_seconds == 0.5
    with pytest.raises(SettingsError, match=r"HUB_POLICY_CHECK_SECONDS='soon' is not a number"):
        Settings.from_env({"HUB_POLICY_CHECK_SECONDS": "soon"})
    with pytest.raises(SettingsError, match=r"HUB_POLICY_CHECK_SECONDS='61' is outside 0..60"):
        Settings.from_env({"HUB_POLICY_CHECK_SECONDS": "61"})


def test_every_variable_is_read_and_secrets_stay_out_of_repr() -> None:
    settings = Settings.from_env(
        {
            "HUB_WORKERS": "2",
            "HUB_WORKER_HEALTHCHECK_SECONDS": "45",
            "HUB_AUDIT": "OFF",
            "HUB_SIGNING_KEY": "-----PEM-----",
            "HUB_AUDIT_PEPPER": "p" * 32,
            "HUB_CLIENT_STATUS_CACHE_SECONDS": "5",
            "HUB_ECHO_SQL": "",
        }
    )
    assert (settings.workers, settings.worker_healthcheck_seconds) == (2, 45)
    assert not settings.audit_enabled and not settings.echo_sql
    assert settings.auth.status_cache_seconds == 5
    assert settings.auth.signing_key_pem is not None
    assert settings.auth.signing_key_pem.get_secret_value() == "-----PEM-----"
    assert "-----PEM-----" not in repr(settings) and "p" * 32 not in repr(settings)
    assert Settings.from_env({}).worker_healthcheck_seconds == 30


def test_settings_built_in_code_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_PORT", "9999")
    assert Settings().port == 8000
    assert Settings.from_env().port == 9999
