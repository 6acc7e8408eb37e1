"""The labelled corpus: catch and false-flag rates on both halves, and screen against
better-profanity loaded with the same lists."""

import statistics
import time

import pytest

from moderation import screen
from moderation.evaluation import (
    HELDOUT,
    TUNING,
    baseline_decision,
    baseline_profanity,
    load_corpus,
    measure,
    screen_decision,
)

TUNING_ROWS = load_corpus(TUNING)
HELDOUT_ROWS = load_corpus(HELDOUT)
# Tuning half: the lists were tuned on it, so the bar is high. Held-out half: frozen before
# any list existed; a looser bar that still fails if screening stops working.
THRESHOLDS = {"tuning": (0.95, 0.05), "heldout": (0.85, 0.10)}


@pytest.fixture(scope="module")
def baseline():
    return baseline_decision(baseline_profanity())


def test_corpus_is_big_enough_and_well_formed() -> None:
    assert len(TUNING_ROWS) + len(HELDOUT_ROWS) >= 200
    assert len(HELDOUT_ROWS) >= 100
    for row in TUNING_ROWS + HELDOUT_ROWS:
        assert row.expected in {"publish", "hold", "reject"}
        assert row.text.strip()
    texts = [r.text for r in TUNING_ROWS + HELDOUT_ROWS]
    assert len(set(texts)) == len(texts), "a comment appears in both halves or twice"
    for rows in (TUNING_ROWS, HELDOUT_ROWS):
        assert sum(r.abusive for r in rows) >= 40 and sum(not r.abusive for r in rows) >= 40


@pytest.mark.parametrize(("name", "rows"), [("tuning", TUNING_ROWS), ("heldout", HELDOUT_ROWS)])
def test_catch_and_false_flag_rates(name: str, rows) -> None:
    rates = measure(rows, screen_decision())
    min_catch, max_false = THRESHOLDS[name]
    assert rates.catch_rate >= min_catch, rates
    assert rates.false_flag_rate <= max_false, rates


def test_rejections_only_come_from_plain_slurs_and_worst_insults() -> None:
    for row in TUNING_ROWS + HELDOUT_ROWS:
        result = screen(row.text)
        if result.decision == "reject":
            assert row.expected == "reject", row.text


@pytest.mark.parametrize(("name", "rows"), [("tuning", TUNING_ROWS), ("heldout", HELDOUT_ROWS)])
def test_screen_catches_everything_better_profanity_catches(name: str, rows, baseline) -> None:
    decide = screen_decision()
    missed = [
        r.text
        for r in rows
        if r.abusive and baseline(r.text) != "publish" and decide(r.text) == "publish"
    ]
    assert missed == []


@pytest.mark.parametrize(("name", "rows"), [("tuning", TUNING_ROWS), ("heldout", HELDOUT_ROWS)])
def test_screen_flags_fewer_clean_comments_than_better_profanity(name: str, rows, baseline) -> None:
    ours = measure(rows, screen_decision())
    theirs = measure(rows, baseline)
    assert ours.false_flags < theirs.false_flags
    assert ours.caught >= theirs.caught


def test_screening_stays_fast_enough_for_every_comment() -> None:
    # A loose regression guard (the bench measures properly): running better-profanity over
    # whole comments with these lists costs milliseconds, screen stays well under one.
    text = " ".join(r.text for r in TUNING_ROWS if not r.abusive)[:300]
    screen(text)
    timings = []
    for _ in range(200):
        start = time.perf_counter()
        screen(text)
        timings.append(time.perf_counter() - start)
    assert statistics.median(timings) < 0.001
