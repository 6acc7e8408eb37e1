"""Flood and duplicate memory: one call checks the limits and records the post, in Redis and
in process alike; a post that is not stored after all is taken back."""

from __future__ import annotations

import uuid

import pytest

from comments.activity import ActivityStore, MemoryActivity, RedisActivity

LIMITS = [(3, 30.0)]


@pytest.fixture(params=["redis", "in-process"])
def store(request: pytest.FixtureRequest) -> ActivityStore:
    if request.param == "in-process":
        return MemoryActivity()
    import redis

    client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    return RedisActivity(client, f"tribune-test-{uuid.uuid4().hex[:8]}:activity")


def test_the_limit_counts_recorded_posts_and_refuses_without_recording(
    store: ActivityStore,
) -> None:
    claims = [store.claim(7, f"tekst {i}", 1000.0 + i, 3600.0, LIMITS) for i in range(3)]
    refused = store.claim(7, "tekst 3", 1003.0, 3600.0, LIMITS)
    later = store.claim(7, "tekst 4", 1031.0, 3600.0, LIMITS)  # the first left the 30 s window

    assert [c.allowed for c in claims] == [True, True, True]
    assert [fp for _, fp in claims[2].recent] == ["tekst 0", "tekst 1"]
    assert (refused.allowed, refused.window) == (False, 30.0)
    assert later.allowed
    assert [fp for _, fp in later.recent] == ["tekst 0", "tekst 1", "tekst 2"]  # not "tekst 3"


def test_a_forgotten_post_frees_its_place_and_leaves_the_duplicate_memory(
    store: ActivityStore,
) -> None:
    kept = store.claim(8, "eerste", 2000.0, 3600.0, LIMITS)
    dropped = store.claim(8, "tweede", 2001.0, 3600.0, LIMITS)
    store.forget(8, dropped)

    after = store.claim(8, "derde", 2002.0, 3600.0, LIMITS)

    assert kept.allowed and dropped.allowed and after.allowed
    assert [fp for _, fp in after.recent] == ["eerste"]


def test_authors_do_not_share_memory(store: ActivityStore) -> None:
    for i in range(3):
        store.claim(9, f"x {i}", 3000.0 + i, 3600.0, LIMITS)

    other = store.claim(10, "y", 3003.0, 3600.0, LIMITS)

    assert other.allowed and other.recent == []


def test_a_started_claim_answers_like_the_plain_call(store: ActivityStore) -> None:
    first = store.begin_claim(11, "een", 4000.0, 3600.0, LIMITS).result()
    pending = [store.begin_claim(11, f"t {i}", 4001.0 + i, 3600.0, LIMITS) for i in range(2)]
    answers = [p.result() for p in pending]
    refused = store.begin_claim(11, "vier", 4003.0, 3600.0, LIMITS).result()

    assert first.allowed and first.recent == []
    assert [a.allowed for a in answers] == [True, True]
    assert [fp for _, fp in answers[1].recent] == ["een", "t 0"]
    assert (refused.allowed, refused.window) == (False, 30.0)


def test_a_started_claim_survives_redis_losing_its_scripts(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    store = RedisActivity(client, f"tribune-test-{uuid.uuid4().hex[:8]}:activity")
    store.claim(12, "eerste", 5000.0, 3600.0, LIMITS)
    client.script_flush()  # as after a Redis restart

    answer = store.begin_claim(12, "tweede", 5001.0, 3600.0, LIMITS).result()
    again = store.begin_claim(12, "derde", 5002.0, 3600.0, LIMITS).result()

    assert answer.allowed and [fp for _, fp in answer.recent] == ["eerste"]
    assert again.allowed and [fp for _, fp in again.recent] == ["eerste", "tweede"]
    # The connection went back to the pool clean: a plain command still gets its own answer.
    assert client.ping() is True
