"""The shortcuts screen() takes for speed give the same answers as the plain paths."""

from __future__ import annotations

import pytest

import moderation.lexicon as lexicon_module
from moderation import screen
from moderation.lexicon import build_lexicon
from moderation.normalise import normalise
from moderation.screening import _Context

MARKED_TEXT = "die vuile hond moet terug naar zijn eigen land met al die moslims"


@pytest.mark.parametrize(
    "text",
    ["", "  ", "Kanker scheids!", "k@nker, l!ul... 'neger' #tyfus", "a  b\tc\u200bd", "f*ck**op x"],
)
def test_context_spans_are_the_tokens_of_the_normalised_text(text: str) -> None:
    norm = normalise(text)
    ctx = _Context(norm)
    assert ctx.spans == norm.tokens()
    assert ctx.words == [token for _, _, token in norm.tokens()]


def test_marked_tokens_survive_a_memo_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    vocabulary = build_lexicon().vocabulary
    words = frozenset(MARKED_TEXT.split())
    expected = {word for word in words if vocabulary.word_marks(word)}
    assert expected  # the sentence has marks, or this test proves nothing
    fresh = build_lexicon().vocabulary
    monkeypatch.setattr(lexicon_module, "MEMO_LIMIT", 3)  # restarts while the text is read
    assert fresh.marked_tokens(words) == expected
    assert fresh.marked_tokens(words) == expected


def test_gates_that_remember_texts_still_see_a_new_word() -> None:
    lexicon = build_lexicon()
    clean = "Mooie match gisteren, de spits scoorde twee keer."
    assert screen(clean, lexicon).decision == "publish"
    assert screen(clean, lexicon).decision == "publish"  # now every token is remembered
    assert screen("Mooie match gisteren, die kanker scheids.", lexicon).decision == "hold"
    assert screen("Die scheids, vuile hond van een man.", lexicon).decision == "hold"
