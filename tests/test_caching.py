"""The one TTL store under the thread and tally caches: which store, expiry, failures as misses."""

from __future__ import annotations

from typing import Any

from caching import (
    MemoryCache,
    NoCache,
    RedisCache,
    TallyCache,
    ThreadCache,
    build_store,
    build_tally_cache,
)


class BrokenRedis:
    def get(self, key: str) -> Any:
        raise ConnectionError("down")

    def set(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("down")


def test_build_store_picks_redis_memory_or_none() -> None:
    redis = object()

    assert isinstance(build_store(3, redis, "ns:"), RedisCache)
    assert isinstance(build_store(3, None, "ns:"), MemoryCache)
    assert isinstance(build_store(0, redis, "ns:"), NoCache)
    assert isinstance(build_store(0, None, "ns:"), NoCache)
    # Without Redis the local lifetime applies (the thread cache's two settings).
    local = build_store(60, None, "ns:", local_ttl=5)
    assert isinstance(local, MemoryCache) and local.ttl == 5
    assert isinstance(build_store(60, None, "ns:", local_ttl=0), NoCache)


def test_memory_entries_expire_and_the_oldest_go_first() -> None:
    now = [100.0]
    cache = MemoryCache(ttl=2, max_entries=2, clock=lambda: now[0])
    cache.put("a", b"1")
    cache.put("b", b"2")
    cache.put("c", b"3")

    assert cache.get("a") is None
    assert cache.get("b") == b"2"
    now[0] += 2
    assert cache.get("b") is None


def test_a_redis_failure_is_a_miss_for_both_caches() -> None:
    threads = ThreadCache(BrokenRedis(), "t")
    tallies = build_tally_cache(3, BrokenRedis(), "t")

    threads.put(threads.key(1, 2, "newest:1:20"), b"page")
    tallies.put(["a", "b"], b"{}")
    assert threads.get(threads.key(1, 2, "newest:1:20")) is None
    assert tallies.get(["a", "b"]) is None


def test_keys_keep_their_redis_layout() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.keys: list[str] = []

        def set(self, key: str, body: bytes, px: int) -> None:
            self.keys.append(key)

    recorder = Recorder()
    ThreadCache(recorder, "tribune").put("7:3:newest:1:20", b"x")
    TallyCache(RedisCache(recorder, "tribune:tallies:", 3)).put(["a"], b"x")

    assert recorder.keys[0] == "tribune:thread:p:7:3:newest:1:20"
    assert recorder.keys[1].startswith("tribune:tallies:")
