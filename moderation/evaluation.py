"""Measuring screening on a labelled corpus: catch rate, false-flag rate, and the
better-profanity baseline with the same lists. Used by the tests and the bench scripts."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from better_profanity import Profanity

from moderation.flags import PUBLISH
from moderation.lexicon import Lexicon, default_lexicon
from moderation.screening import screen

CORPUS_DIR = Path(__file__).resolve().parent.parent / "tests" / "data"
TUNING = CORPUS_DIR / "screening_corpus_tuning.tsv"
HELDOUT = CORPUS_DIR / "screening_corpus_heldout.tsv"


@dataclass(frozen=True)
class Labelled:
    """One corpus comment with its expected decision and category."""

    text: str
    expected: str
    category: str

    @property
    def abusive(self) -> bool:
        """True when the comment should not be published as is."""
        return self.expected != PUBLISH


@dataclass(frozen=True)
class Rates:
    """Catch and false-flag figures of one screener on one corpus."""

    abusive: int
    caught: int
    clean: int
    false_flags: int
    exact: int  # comments whose decision matched the label exactly
    total: int

    @property
    def catch_rate(self) -> float:
        """Share of abusive comments held or rejected."""
        return self.caught / self.abusive if self.abusive else 1.0

    @property
    def false_flag_rate(self) -> float:
        """Share of clean comments not published."""
        return self.false_flags / self.clean if self.clean else 0.0


def load_corpus(path: Path) -> list[Labelled]:
    """Read a TSV corpus with columns text, expected, category."""
    with path.open(encoding="utf-8", newline="") as fh:
        return [Labelled(r["text"], r["expected"], r["category"])
                for r in csv.DictReader(fh, delimiter="\t")]


def measure(rows: Iterable[Labelled], decide: Callable[[str], str]) -> Rates:
    """Apply decide(text) -> decision to each row and count catches and false flags."""
    abusive = caught = clean = false_flags = exact = total = 0
    for row in rows:
        decision = decide(row.text)
        total += 1
        exact += decision == row.expected
        if row.abusive:
            abusive += 1
            caught += decision != PUBLISH
        else:
            clean += 1
            false_flags += decision != PUBLISH
    return Rates(abusive, caught, clean, false_flags, exact, total)


def screen_decision(lexicon: Lexicon | None = None) -> Callable[[str], str]:
    """decide(text) for moderation.screen with the given lexicon."""
    lexicon = lexicon or default_lexicon()
    return lambda text: screen(text, lexicon).decision


def baseline_profanity(lexicon: Lexicon | None = None) -> Profanity:
    """better-profanity loaded with the same list entries screen uses."""
    return Profanity((lexicon or default_lexicon()).profanity_words())


def baseline_decision(profanity: Profanity) -> Callable[[str], str]:
    """decide(text) for plain better-profanity: any hit holds."""
    return lambda text: "hold" if profanity.contains_profanity(text) else PUBLISH
