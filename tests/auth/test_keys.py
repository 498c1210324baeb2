"""Signing keys: stores, rotation without breaking live tokens, the published JWKS."""

from __future__ import annotations

import os
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from hub.auth.keys import (
    EnvKeyStore,
    FileKeyStore,
    KeyStoreError,
    MemoryKeyStore,
    SigningKeys,
    dump_pem_bundle,
    generate_key,
    key_store_from_settings,
    parse_pem_bundle,
)
from hub.auth.state import AuthState
from hub.organizations import service
from hub.settings import AuthSettings
from tests.support.auth import token_for
from tests.support.clock import FakeClock

MakeClient = Callable[..., Awaitable[service.IssuedClient]]


async def test_jwks_and_metadata_are_published(
    http: httpx.AsyncClient, key_store: MemoryKeyStore
) -> None:
    jwks = (await http.get("/.well-known/jwks.json")).json()
    assert [key["kid"] for key in jwks["keys"]] == [key_store.keys[0].kid]
    assert {"d"}.isdisjoint(jwks["keys"][0])  # public halves only
    assert jwks["keys"][0] | {"x": "", "y": "", "kid": ""} == {
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "x": "", "y": "", "kid": ""
    }  # fmt: skip
    metadata = (await http.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["issuer"] == "http://127.0.0.1:8000"
    assert metadata["token_endpoint"] == "http://127.0.0.1:8000/oauth/token"
    assert metadata["jwks_uri"] == "http://127.0.0.1:8000/.well-known/jwks.json"
    assert metadata["grant_types_supported"] == ["client_credentials"]
    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]


async def test_rotation_keeps_tokens_signed_with_the_old_key(
    http: httpx.AsyncClient,
    make_client: MakeClient,
    key_store: MemoryKeyStore,
    auth: AuthState,
) -> None:
    issued = await make_client("DINKES", "opd_officer")
    old_token = await token_for(http, issued)
    old_kid = key_store.keys[0].kid

    auth.keys.ring = key_store.rotate(keep_previous=1)
    new_token = await token_for(http, issued)
    for token in (old_token, new_token):
        response = await http.get("/graphql", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
    kids = [key["kid"] for key in (await http.get("/.well-known/jwks.json")).json()["keys"]]
    assert kids == [key_store.keys[0].kid, old_kid]
    assert key_store.keys[0].kid != old_kid

    # Once the old key leaves the ring (its tokens expired), its tokens are unknown.
    auth.keys.ring = key_store.rotate(keep_previous=0)
    response = await http.get("/graphql", headers={"Authorization": f"Bearer {old_token}"})
    assert response.status_code == 401


async def test_a_worker_reloads_its_keys_when_a_peer_signed_with_a_new_one(
    http: httpx.AsyncClient,
    make_client: MakeClient,
    key_store: MemoryKeyStore,
    auth: AuthState,
    auth_settings: AuthSettings,
    clock: FakeClock,
) -> None:
    issued = await make_client("DINKES", "opd_officer")
    key_store.rotate()  # another worker restarted on the rotated key file...
    peer = AuthState.build(
        settings=auth_settings,
        sessions=auth.sessions,
        key_store=key_store,
        hasher=auth.hasher,
        clock=clock.time,
    )
    minted = peer.tokens.mint(
        client_id=issued.client.client_id,
        organization_code="DINKES",
        organization_kind="OPD",
        roles=["opd_officer"],
    )
    clock.advance(31)  # ...and this worker has not re-read its store for a while
    response = await http.get(
        "/graphql", headers={"Authorization": f"Bearer {minted.access_token}"}
    )
    assert response.status_code == 200
    assert auth.keys.ring.signing.kid == key_store.keys[0].kid


def test_file_store_creates_a_private_key_file_and_rotates(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing-key.pem"
    store = FileKeyStore(path, create=True)
    first = store.load()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert store.load().signing.kid == first.signing.kid  # stable across reads
    rotated = store.rotate(keep_previous=1)
    assert [k.kid for k in rotated.verifying][1:] == [first.signing.kid]
    assert [k.kid for k in store.load().verifying] == [k.kid for k in rotated.verifying]


def test_file_store_without_create_requires_the_file(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError, match="does not exist"):
        FileKeyStore(tmp_path / "missing.pem").load()


def test_env_store_reads_a_bundle_and_hides_it() -> None:
    keys = [generate_key(), generate_key()]
    store = EnvKeyStore(dump_pem_bundle(keys))
    ring = store.load()
    assert ring.signing.kid == keys[0].kid
    assert [k.kid for k in ring.verifying] == [k.kid for k in keys]
    assert "PRIVATE" not in repr(store)


def test_bad_key_material_is_refused() -> None:
    with pytest.raises(KeyStoreError, match="no PEM private key"):
        parse_pem_bundle("hello")
    with pytest.raises(KeyStoreError, match="unreadable"):
        parse_pem_bundle("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_the_store_follows_the_settings(tmp_path: Path) -> None:
    pem = dump_pem_bundle([generate_key()])
    assert isinstance(
        key_store_from_settings(
            AuthSettings(signing_key_pem=pem), var_dir=tmp_path, production=True
        ),
        EnvKeyStore,
    )
    from_file = key_store_from_settings(
        AuthSettings(signing_key_file=tmp_path / "k.pem"), var_dir=tmp_path, production=True
    )
    assert isinstance(from_file, FileKeyStore) and not from_file.create
    development = key_store_from_settings(AuthSettings(), var_dir=tmp_path, production=False)
    assert isinstance(development, FileKeyStore)
    assert development.path == tmp_path / "keys" / "signing-key.pem"
    with pytest.raises(KeyStoreError, match="in production"):
        key_store_from_settings(AuthSettings(), var_dir=tmp_path, production=True)


async def test_reload_is_rate_limited(clock: FakeClock) -> None:
    store = MemoryKeyStore()
    keys = SigningKeys(store, clock=clock.time, reload_interval=30)
    store.rotate()
    assert not await keys.reload_if_stale()
    clock.advance(31)
    assert await keys.reload_if_stale()
    assert keys.ring.signing.kid == store.keys[0].kid


def test_a_second_worker_creating_the_file_adopts_the_first_key(tmp_path: Path) -> None:
    path = tmp_path / "signing-key.pem"
    first = FileKeyStore(path, create=True)
    second = FileKeyStore(path, create=True)
    kid = first.load().signing.kid
    # The second worker lost the race: its own fresh key must not replace the file.
    second._write([generate_key()], replace=False)
    assert second.load().signing.kid == kid
    assert [p.name for p in tmp_path.iterdir()] == ["signing-key.pem"]


async def test_a_broken_key_file_keeps_the_current_ring(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "signing-key.pem"
    keys = SigningKeys(FileKeyStore(path, create=True), clock=clock.time)
    kid = keys.ring.signing.kid
    path.write_text("half-edited")
    clock.advance(31)
    assert not await keys.reload_if_stale()
    assert keys.ring.signing.kid == kid
