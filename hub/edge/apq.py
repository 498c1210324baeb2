"""Where automatic persisted queries (Apollo's APQ) keep the documents clients registered.

In memory by default: a least-recently-used map bounded by the bytes of text it holds
(`HUB_APQ_CACHE_BYTES`), one per process. With `HUB_REDIS_URL`, in Redis under the
edge's key prefix with a time to live (`HUB_APQ_TTL_SECONDS`), so every worker and hub on
that Redis knows what one of them was sent. A store that cannot answer is a miss (logged):
the client then sends the text, and the request runs; Redis's outage never refuses one.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, Protocol

from hub.edge.settings import EdgeSettings

logger = logging.getLogger("hub.edge")


class DocumentStore(Protocol):
    """Registered documents by their SHA-256 hash (hex)."""

    async def get(self, sha256: str) -> str | None: ...

    async def put(self, sha256: str, text: str) -> None: ...

    async def close(self) -> None: ...


class MemoryStore:
    """An LRU map of this process, bounded by the UTF-8 size of the texts it keeps."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._texts: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._texts)

    async def get(self, sha256: str) -> str | None:
        text = self._texts.get(sha256)
        if text is not None:
            self._texts.move_to_end(sha256)
        return text

    async def put(self, sha256: str, text: str) -> None:
        size = len(text.encode("utf-8"))
        if size > self.max_bytes:
            return  # larger than the whole store: the client keeps sending it in full
        old = self._texts.pop(sha256, None)
        if old is not None:
            self.size -= len(old.encode("utf-8"))
        self._texts[sha256] = text
        self.size += size
        while self.size > self.max_bytes:
            _, evicted = self._texts.popitem(last=False)
            self.size -= len(evicted.encode("utf-8"))

    async def close(self) -> None:
        self._texts.clear()
        self.size = 0


class RedisStore:
    """Documents in Redis, `<prefix>:apq:<sha256>`, each with a time to live."""

    def __init__(self, url: str, prefix: str, ttl_seconds: int) -> None:
        import redis.asyncio as redis

        self._redis: Any = redis.Redis.from_url(url)
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds

    def key(self, sha256: str) -> str:
        return f"{self.prefix}:apq:{sha256}"

    async def get(self, sha256: str) -> str | None:
        try:
            value = await self._redis.get(self.key(sha256))
        except Exception as error:  # redis' ConnectionError, TimeoutError, …
            logger.warning("APQ store: Redis read failed (%s); treated as unknown", error)
            return None
        return value.decode("utf-8") if value is not None else None

    async def put(self, sha256: str, text: str) -> None:
        try:
            await self._redis.set(self.key(sha256), text.encode("utf-8"), ex=self.ttl_seconds)
        except Exception as error:
            logger.warning("APQ store: Redis write failed (%s); not registered", error)

    async def close(self) -> None:
        await self._redis.aclose()


def store_from_settings(edge: EdgeSettings) -> DocumentStore:
    """Redis when `HUB_REDIS_URL` is set, else this process's memory."""
    if edge.redis_url is not None:
        return RedisStore(
            edge.redis_url.get_secret_value(), edge.rate_limit_prefix, edge.apq_ttl_seconds
        )
    return MemoryStore(edge.apq_cache_bytes)
