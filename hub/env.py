"""Reading `HUB_*` variables with pydantic-settings: the base of every settings model.

A settings model reads only the mapping `from_env` is given (the process environment by
default), never `os.environ` behind the caller's back: `Settings()` is the defaults, and a
test or a command builds its own and passes it down. A value pydantic refuses becomes a
`SettingsError` that names the variable, what it held and what is accepted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, Self

from annotated_types import Ge, Le
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

#: The variables the model being built reads (set only while `from_env` validates).
_ENV: ContextVar[Mapping[str, str] | None] = ContextVar("hub_settings_env", default=None)


class SettingsError(ValueError):
    """A `HUB_` variable holds a value the hub cannot use."""


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' environment source over the mapping given to `from_env`."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(_ENV.get() or {}, self.case_sensitive, self.env_ignore_empty, None)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        # A nested settings model is built by its own `from_env`, never parsed from one
        # variable (HUB_AUDIT is the on/off switch, not the audit settings as JSON).
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            return None, field_name, False
        return super().get_field_value(field, field_name)


class HubSettings(BaseSettings):
    """Frozen settings whose fields are filled from `HUB_*` variables by `from_env`."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_",
        frozen=True,
        extra="ignore",
        env_ignore_empty=True,
        populate_by_name=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _MappingEnvSource(settings_cls))

    @classmethod
    def read(cls, env: Mapping[str, str] | None = None, **given: Any) -> Self:
        """Validate `env` (default: the process environment) and `given` values into a model;
        raise `SettingsError` on a bad value."""
        token = _ENV.set(os.environ if env is None else env)
        try:
            return cls(**given)
        except ValidationError as error:
            raise SettingsError(_describe(cls, error)) from None
        finally:
            _ENV.reset(token)


def variable_of(model: type[BaseSettings], name: str) -> str:
    """The environment variable of field `name` (its alias, else prefix + NAME)."""
    info = model.model_fields.get(name)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, str):
        return alias
    return f"{model.model_config.get('env_prefix', '')}{name}".upper()


def _bounds(info: FieldInfo | None) -> tuple[Any, Any]:
    low = high = None
    for constraint in info.metadata if info is not None else ():
        if isinstance(constraint, Ge):
            low = constraint.ge
        elif isinstance(constraint, Le):
            high = constraint.le
    return low, high


def _describe(model: type[BaseSettings], error: ValidationError) -> str:
    """One line per refused value: the variable, its value and what is accepted."""
    lines = []
    for problem in error.errors(include_url=False):
        loc = problem["loc"]
        kind = problem["type"]
        message = str(problem["msg"]).removeprefix("Value error, ")
        if not loc:  # a rule across fields: its message names the variables
            lines.append(message)
            continue
        name = next((n for n, f in model.model_fields.items() if loc[0] in (n, f.alias)), None)
        if name is None:
            name = next(
                (n for n, f in model.model_fields.items() if f.validation_alias == loc[0]),
                str(loc[0]),
            )
        variable = variable_of(model, name)
        shown = f"{variable}={problem.get('input')!r}"
        if kind == "int_parsing" or kind == "int_from_float":
            lines.append(f"{shown} is not a whole number")
        elif kind == "float_parsing":
            lines.append(f"{shown} is not a number (seconds, e.g. 0.5)")
        elif kind in ("greater_than_equal", "less_than_equal"):
            low, high = _bounds(model.model_fields.get(name))
            lines.append(f"{shown} is outside {low}..{high}")
        elif kind == "literal_error":
            expected = str((problem.get("ctx") or {}).get("expected", "")).replace("'", "")
            lines.append(f"{shown}; accepted values: {expected.replace(' or ', ', ')}")
        elif kind == "string_pattern_mismatch":
            info = model.model_fields.get(name)
            lines.append(f"{shown} must be {info.description if info else message}")
        elif kind == "bool_parsing":
            lines.append(f"{shown}; accepted: 1, true, yes, on or 0, false, no, off")
        elif message.startswith(variable):  # our validators name the variable themselves
            lines.append(message)
        else:
            lines.append(f"{shown}: {message}")
    return "; ".join(lines)
