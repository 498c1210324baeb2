"""Client secrets: generated once, shown once, stored only as an Argon2id hash.

A secret is 32 random bytes: guessing it is hopeless whatever the hash, so the hash's
slowness only has to make a stolen table of hashes useless, and every check it costs is
CPU a wrong guess takes from the clients being served. New secrets are hashed with OWASP's
recommended Argon2id profile (19 MiB, 2 passes, 1 lane: ~20 ms of one core here) rather
than the library's RFC 9106 default (64 MiB, 3 passes, 4 lanes: ~0.2 s of CPU over both
cores), under which six guesses a minute stretched another client's answers 2-3x
(bench/attack.py). A stored hash names its own parameters, so older hashes still verify
(they are not re-hashed). Every hash and check runs in a worker thread, at most a few at a
time, at a lower CPU priority (Linux niceness `HASH_NICENESS`, which argon2's own lane
threads inherit), so that a burst of token requests neither stalls the event loop nor takes
its CPU, nor takes gigabytes of memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

#: 32 random bytes, URL-safe: 43 characters, 256 bits of entropy.
SECRET_BYTES = 32


def generate_secret() -> str:
    """A new client secret; show it once, store only its hash."""
    return secrets.token_urlsafe(SECRET_BYTES)


def _default_concurrency() -> int:
    """How many slow hashes may run at once: one per CPU, at least two."""
    return max(2, os.cpu_count() or 2)


def secret_password_hasher() -> PasswordHasher:
    """OWASP's first recommended Argon2id configuration (Password Storage Cheat Sheet)."""
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


#: Niceness of the hashing threads: the event loop (niceness 0) gets ~90 % of a core it
#: shares with a hashing thread (weights 1024 and 110), while a check still ends in well
#: under a second on a saturated machine (niceness 19 would leave it ~1.5 % there).
HASH_NICENESS = 10

_T = TypeVar("_T")
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _lower_priority() -> None:
    # Niceness is per thread on Linux (setpriority on the thread id); elsewhere the same
    # call would lower the whole process, so the threads keep the process's priority.
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)


def _hashing_threads() -> ThreadPoolExecutor:
    """The process's hashing threads (shared by every hasher; each bounds its own use)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=_default_concurrency(),
                thread_name_prefix="hub-secret-hash",
                initializer=_lower_priority,
            )
        return _executor


async def _in_hashing_thread(work: Callable[[], _T], limiter: anyio.CapacityLimiter) -> _T:
    async with limiter:
        return await asyncio.get_running_loop().run_in_executor(_hashing_threads(), work)


class SecretHasher:
    """Argon2id hashing and checking of client secrets, bounded and off the event loop.

    A check that succeeded may be remembered for `verified_cache_seconds`, as a keyed
    digest of the secret under the stored hash it matched. Argon2's verdict is a pure
    function of (stored hash, secret), so remembering it changes no outcome: a rotation
    or revocation replaces or removes the stored hash and so misses the cache, and client
    and organisation status are still read for every token request. Only a keyed HMAC
    with a per-process random key is kept, never the secret, so a memory dump yields
    nothing that an attacker with that access would not have already (the signing key).
    """

    def __init__(
        self,
        *,
        hasher: PasswordHasher | None = None,
        max_concurrency: int | None = None,
        verified_cache_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        max_cached: int = 10_000,
    ) -> None:
        self.hasher = hasher or secret_password_hasher()
        self.limiter = anyio.CapacityLimiter(max_concurrency or _default_concurrency())
        self.verified_cache_seconds = verified_cache_seconds
        self._clock = clock
        self._max_cached = max_cached
        self._cache_key = secrets.token_bytes(32)
        self._verified: dict[str, tuple[bytes, float]] = {}
        self._cache_lock = threading.Lock()

    def hash_sync(self, secret: str) -> str:
        """The Argon2id hash of `secret` (blocking: call from a worker thread)."""
        return self.hasher.hash(secret)

    async def hash(self, secret: str) -> str:
        """The Argon2id hash of `secret`, computed in a worker thread."""
        return await _in_hashing_thread(partial(self.hash_sync, secret), self.limiter)

    async def run(self, work: Callable[[], _T]) -> _T:
        """Run `work`, which checks secrets (authlib's token endpoint), in a hashing thread."""
        return await _in_hashing_thread(work, self.limiter)

    def _digest(self, secret_hash: str, secret: str) -> bytes:
        """A keyed digest binding `secret` to the stored hash it was checked against."""
        message = secret_hash.encode() + b"\0" + secret.encode()
        return hmac.new(self._cache_key, message, hashlib.sha256).digest()

    def verify_sync(self, secret_hash: str, secret: str) -> bool:
        """Whether `secret` matches `secret_hash` (blocking: call from a worker thread)."""
        caching = self.verified_cache_seconds > 0
        digest = self._digest(secret_hash, secret) if caching else b""
        if caching:
            cached = self._verified.get(secret_hash)
            if (
                cached is not None
                and cached[1] > self._clock()
                and hmac.compare_digest(cached[0], digest)
            ):
                return True
        try:
            ok = self.hasher.verify(secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return False
        if ok and caching:
            self._remember(secret_hash, digest)
        return ok

    async def verify(self, secret_hash: str, secret: str) -> bool:
        """Whether `secret` matches `secret_hash`, checked in a worker thread."""
        work = partial(self.verify_sync, secret_hash, secret)
        return await _in_hashing_thread(work, self.limiter)

    def _remember(self, secret_hash: str, digest: bytes) -> None:
        """Cache a successful check, dropping expired entries when the cache is full."""
        now = self._clock()
        with self._cache_lock:
            if len(self._verified) >= self._max_cached:
                for key in [k for k, (_, until) in self._verified.items() if until <= now]:
                    del self._verified[key]
                if len(self._verified) >= self._max_cached:
                    self._verified.clear()
            self._verified[secret_hash] = (digest, now + self.verified_cache_seconds)

    def forget(self) -> None:
        """Drop every remembered check (after a rotation in this process, for instance)."""
        with self._cache_lock:
            self._verified.clear()
