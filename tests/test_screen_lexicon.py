"""The lexicon: runtime overrides, the active-lexicon holder, and collisions of every list
with ordinary Dutch vocabulary and with the clean corpus."""

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from moderation import screen
from moderation.evaluation import HELDOUT, TUNING, load_corpus
from moderation.lexicon import (
    CATEGORIES,
    LIST_DISEASE,
    LIST_HOLD,
    LIST_PREFIX,
    LIST_REJECT,
    LIST_SPAM,
    LIST_THREAT,
    WORD_CATEGORIES,
    LexiconOverrides,
    active_lexicon,
    build_lexicon,
    default_lexicon,
    set_active_lexicon,
    shipped_lists,
)
from moderation.normalise import fold_entry

DATA = Path(__file__).parent / "data"
VOCABULARY = DATA / "opentaal-basiswoorden.txt.gz"


@pytest.fixture
def restore_active() -> Iterator[None]:
    before = active_lexicon()
    yield
    set_active_lexicon(before)


def test_list_names_and_categories() -> None:
    assert {"slur", "reject", "hold", "spam", "threat", "curse"} <= set(CATEGORIES)
    lists = shipped_lists()
    for category in CATEGORIES:
        assert lists[category], f"no shipped entries for {category}"
    assert "sporza.be" in default_lexicon().domains


def test_default_lexicon_is_cached_and_versioned() -> None:
    assert default_lexicon() is default_lexicon()
    assert default_lexicon().version == 0
    assert build_lexicon(version=7).version == 7


def test_added_words_flag_with_their_list() -> None:
    lexicon = build_lexicon(
        LexiconOverrides(
            added=(
                ("Prutser", LIST_HOLD),
                ("scheidsvriend", LIST_REJECT),
                ("goedkope tickets", LIST_SPAM),
                ("ik pak je", LIST_THREAT),
            )
        ),
        version=3,
    )
    assert screen("wat een prutser", lexicon).decision == "hold"
    assert screen("wat een prutser").decision == "publish"
    assert screen("die scheidsvriend", lexicon).decision == "reject"
    assert screen("Goedkope tickets hier", lexicon).flags[0].detail == "goedkope tickets"
    assert screen("ik pak je na de match", lexicon).decision == "hold"
    assert screen("wat een prutser", lexicon).lexicon_version == 3


def test_added_prefix_catches_compounds() -> None:
    lexicon = build_lexicon(LexiconOverrides(added=(("klote", LIST_PREFIX),)))
    assert screen("wat een klotematch", lexicon).decision == "hold"


def test_removed_words_stop_flagging_on_every_list() -> None:
    lexicon = build_lexicon(LexiconOverrides(removed=frozenset({"eikel", "kanker"})))
    assert screen("wat een eikel", lexicon).decision == "publish"
    assert screen("kanker scheids", lexicon).decision == "publish"  # gone as disease word
    assert screen("kankerlijer", lexicon).decision == "publish"  # and as prefix
    assert screen("tyfus scheids", lexicon).decision == "hold"
    assert screen("wat een eikel").decision == "hold"  # the default lexicon is untouched


def test_allowed_words_win_over_lists_and_prefixes() -> None:
    lexicon = build_lexicon(LexiconOverrides(allowed=frozenset({"kankerlijer", "Eikel"})))
    assert screen("kankerlijer", lexicon).decision == "publish"
    assert screen("eikel", lexicon).decision == "publish"
    assert screen("tyfuslijer", lexicon).decision == "hold"


def test_adding_a_shipped_allow_word_makes_it_flag_again() -> None:
    lexicon = build_lexicon(LexiconOverrides(added=(("paal", LIST_HOLD),)))
    assert screen("op de paal", lexicon).decision == "hold"
    assert screen("op de paal").decision == "publish"


def test_allowed_domains_extend_the_shipped_ones() -> None:
    lexicon = build_lexicon(LexiconOverrides(allowed_domains=frozenset({"www.kvmechelen.be"})))
    assert screen("zie https://www.kvmechelen.be/tickets", lexicon).decision == "publish"
    assert screen("zie shop.kvmechelen.be", lexicon).decision == "publish"
    assert screen("zie https://www.kvmechelen.be/tickets").decision == "hold"
    assert screen("zie kvmechelen.be.evil.com", lexicon).decision == "hold"


def test_unknown_list_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown list"):
        build_lexicon(LexiconOverrides(added=(("woord", "nope"),)))


@pytest.mark.usefixtures("restore_active")
def test_screen_uses_the_active_lexicon_when_none_is_passed() -> None:
    custom = build_lexicon(LexiconOverrides(added=(("prutser", LIST_HOLD),)), version=9)
    set_active_lexicon(custom)
    assert active_lexicon() is custom
    result = screen("wat een prutser")
    assert (result.decision, result.lexicon_version) == ("hold", 9)
    set_active_lexicon(default_lexicon())
    assert screen("wat een prutser").decision == "publish"


def _read_words(path: Path) -> set[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {fold_entry(x) for x in lines if x.strip() and not x.startswith("#")}


INTENDED = _read_words(DATA / "intended_collisions.txt")


@pytest.fixture(scope="module")
def vocabulary() -> list[str]:
    # Shipped with the tests (OpenTaal, BSD / CC BY 3.0): its absence is a broken checkout.
    assert VOCABULARY.exists(), f"{VOCABULARY} is missing"
    with gzip.open(VOCABULARY, "rt", encoding="utf-8") as fh:
        return [w.strip() for w in fh if w.strip()]


def test_no_list_entry_is_an_ordinary_word_unless_intended(vocabulary: list[str]) -> None:
    vocab = {fold_entry(w.lower()) for w in vocabulary}
    lexicon = default_lexicon()
    # Group terms and mild words never flag on their own, so only the flagging lists count.
    flagging = (*WORD_CATEGORIES, LIST_PREFIX)
    collisions = {e for c in flagging for e in lexicon.entries[c] if e in vocab}
    assert sorted(collisions - INTENDED) == []


def test_screen_flags_no_ordinary_word_unless_intended(vocabulary: list[str]) -> None:
    flagged = {fold_entry(w.lower()) for w in vocabulary if screen(w).decision != "publish"}
    assert sorted(flagged - INTENDED) == []
    on_lists = {e for c in (*WORD_CATEGORIES, LIST_PREFIX) for e in default_lexicon().entries[c]}
    stale = INTENDED - flagged - on_lists
    assert sorted(stale) == [], "intended_collisions.txt lists words that no longer collide"


def test_disease_words_never_flag_on_their_own(vocabulary: list[str]) -> None:
    for word in default_lexicon().entries[LIST_DISEASE]:
        assert screen(word).decision == "publish", word


def test_lists_do_not_collide_with_the_clean_corpus() -> None:
    lexicon = default_lexicon()
    single = set(lexicon.words)
    for row in load_corpus(TUNING) + load_corpus(HELDOUT):
        if row.abusive:
            continue
        words = {fold_entry(w) for w in row.text.lower().replace(",", " ").split()}
        words = {w.strip(".!?:;'\"()") for w in words}
        hits = (words & single) - INTENDED
        assert not hits, (row.text, hits)
