"""Commands and reads of connectors (no GraphQL; the request owns the transaction)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.authz.catalog import CONNECTED_FIELDS
from hub.db import utcnow
from hub.federation.errors import ConnectorError, ConnectorErrorCode
from hub.federation.models import CONNECTOR_AUTH, CONNECTOR_KEYS, Connector
from hub.organizations.models import Organization

_NAME = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
#: Where a credential is read when the hub calls: an environment variable or a file.
SECRET_REF = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:/\S+)$")


async def register(
    session: AsyncSession,
    *,
    name: str,
    url: str,
    fields: Sequence[str],
    key_field: str = "nik",
    timeout_ms: int = 2000,
    auth: str = "NONE",
    secret_ref: str | None = None,
    token_url: str | None = None,
    client_id: str | None = None,
    organization_code: str | None = None,
) -> Connector:
    """Register (or re-register, by name) a connector; `ConnectorError` says what is wrong."""
    if not _NAME.fullmatch(name):
        raise ConnectorError(
            ConnectorErrorCode.BAD_NAME,
            f"Connector name {name!r}: 2-40 lower-case letters, digits or '-', a letter first",
        )
    _check_url(url, "url")
    provided = CONNECTED_FIELDS["Citizen"]
    unknown = sorted(set(fields) - set(provided))
    if not fields or unknown:
        raise ConnectorError(
            ConnectorErrorCode.UNKNOWN_FIELD,
            f"Fields {unknown or '(none)'} are not connected fields; accepted: "
            f"{', '.join(provided)}",
        )
    if not 50 <= timeout_ms <= 30000:
        raise ConnectorError(
            ConnectorErrorCode.BAD_TIMEOUT, f"timeoutMs must be 50-30000; got {timeout_ms}"
        )
    if key_field not in CONNECTOR_KEYS or auth not in CONNECTOR_AUTH:
        raise ConnectorError(ConnectorErrorCode.BAD_CREDENTIALS, "Unknown key or auth kind")
    _check_credentials(auth, secret_ref, token_url, client_id)
    organization_id = None
    if organization_code is not None:
        organization_id = await session.scalar(
            select(Organization.id).where(Organization.code == organization_code)
        )
        if organization_id is None:
            raise ConnectorError(
                ConnectorErrorCode.UNKNOWN_ORGANIZATION,
                f"No organisation has the code {organization_code!r}",
            )
    existing = await session.scalar(select(Connector).where(Connector.name == name))
    for other in await list_active(session):
        taken = sorted(set(other.fields) & set(fields))
        if other.name != name and taken:
            raise ConnectorError(
                ConnectorErrorCode.FIELD_TAKEN,
                f"{', '.join(taken)} already come from the {other.name} connector; a field "
                "has one source (disable that connector first)",
            )
    connector = existing or Connector(name=name, created_at=utcnow())
    connector.url = url
    connector.fields = list(dict.fromkeys(fields))
    connector.key_field = key_field
    connector.timeout_ms = timeout_ms
    connector.auth = auth
    connector.secret_ref = secret_ref
    connector.token_url = token_url
    connector.client_id = client_id
    connector.organization_id = organization_id
    connector.status = "ACTIVE"
    connector.updated_at = utcnow()
    session.add(connector)
    await session.flush()  # the payload shows the stored row
    return connector


async def list_active(session: AsyncSession) -> list[Connector]:
    """The active connectors, by name."""
    return list(
        await session.scalars(
            select(Connector).where(Connector.status == "ACTIVE").order_by(Connector.name)
        )
    )


#: Connectors are few (one per agency service); a list of them is still bounded.
MAX_LISTED = 200


async def get_all(session: AsyncSession) -> list[Connector]:
    """The connectors, active or not, by name (at most `MAX_LISTED`)."""
    statement = select(Connector).order_by(Connector.name).limit(MAX_LISTED)
    return list(await session.scalars(statement))


def _check_url(url: str, what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConnectorError(
            ConnectorErrorCode.BAD_URL, f"{what} must be an http(s) URL with a host; got {url!r}"
        )


def _check_credentials(
    auth: str, secret_ref: str | None, token_url: str | None, client_id: str | None
) -> None:
    if auth == "NONE":
        if secret_ref or token_url or client_id:
            raise ConnectorError(
                ConnectorErrorCode.BAD_CREDENTIALS, "auth NONE takes no secret, token URL or id"
            )
        return
    if secret_ref is None or not SECRET_REF.fullmatch(secret_ref):
        raise ConnectorError(
            ConnectorErrorCode.BAD_CREDENTIALS,
            "secretRef must name where the hub reads the credential: `env:NAME` or "
            "`file:/path`; the secret itself is never given to the hub's database",
        )
    if auth == "CLIENT_CREDENTIALS":
        if not client_id or not token_url:
            raise ConnectorError(
                ConnectorErrorCode.BAD_CREDENTIALS,
                "CLIENT_CREDENTIALS needs tokenUrl and clientId",
            )
        _check_url(token_url, "tokenUrl")
