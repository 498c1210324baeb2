"""The verified-secret cache changes no verdict, and never holds a secret."""

from __future__ import annotations

import os
import sys
import threading

import anyio
import pytest
from argon2 import PasswordHasher

from hub.organizations.hashing import (
    HASH_NICENESS,
    SecretHasher,
    _in_hashing_thread,
    generate_secret,
)
from tests.support.clock import FakeClock


def _hasher(clock: FakeClock, seconds: float = 60) -> SecretHasher:
    """A cheap hasher with a verified-secret cache."""
    return SecretHasher(
        hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
        verified_cache_seconds=seconds,
        clock=clock.time,
    )


def test_generated_secrets_are_long_and_distinct() -> None:
    secrets = {generate_secret() for _ in range(100)}
    assert len(secrets) == 100
    assert all(len(s) == 43 for s in secrets)


def test_a_cached_check_accepts_only_the_same_secret_under_the_same_hash() -> None:
    clock = FakeClock()
    hasher = _hasher(clock)
    secret = generate_secret()
    stored = hasher.hash_sync(secret)
    assert hasher.verify_sync(stored, secret)
    assert not hasher.verify_sync(stored, secret + "x")
    assert not hasher.verify_sync(hasher.hash_sync("other"), secret)
    # What is cached is a keyed digest, not the secret.
    assert all(secret.encode() not in digest for digest, _ in hasher._verified.values())


def test_cached_checks_expire() -> None:
    clock = FakeClock()
    hasher = _hasher(clock, seconds=10)
    secret = generate_secret()
    stored = hasher.hash_sync(secret)
    hasher.verify_sync(stored, secret)
    assert stored in hasher._verified
    clock.advance(11)
    assert hasher._verified[stored][1] < clock.time()
    assert hasher.verify_sync(stored, secret)  # verified again with Argon2


async def test_hashing_runs_off_the_event_loop() -> None:
    hasher = _hasher(FakeClock(), seconds=0)
    stored = await hasher.hash("s")
    assert await hasher.verify(stored, "s")
    assert not await hasher.verify(stored, "t")
    assert hasher._verified == {}


@pytest.mark.skipif(sys.platform != "linux", reason="niceness per thread is Linux's")
async def test_hashing_threads_run_below_the_event_loop() -> None:
    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    in_thread = await _in_hashing_thread(niceness, anyio.CapacityLimiter(1))
    loop_thread = niceness()  # the event loop's own thread keeps the process's priority
    if loop_thread < HASH_NICENESS:
        assert in_thread == HASH_NICENESS
    else:  # already as nice (a process started with `nice`): never raised back
        assert in_thread >= loop_thread


async def test_hashes_made_under_the_former_profile_still_verify() -> None:
    hasher = SecretHasher()
    # A hash made under the library's RFC 9106 default (the hub's until 2026-12-01) names
    # its own parameters.
    older = PasswordHasher().hash("s")
    assert "m=65536,t=3,p=4" in older
    assert await hasher.verify(older, "s")
    assert not await hasher.verify(older, "t")
