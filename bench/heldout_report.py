"""Catch and false-flag rates of moderation.screen on every labelled set, overall and per category.

Usage: .venv/bin/python bench/heldout_report.py [--misses SET]
Sets: the old tuning and held-out halves, heldout-2 (frozen before the phrase layer) and the
phrase layer's own tuning set. "Caught" means held or rejected; a clean row is a false flag
when it is not published. --misses lists the wrong decisions of one set; it refuses the frozen
held-out sets, which measure and must not tune.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moderation.evaluation import (  # noqa: E402
    CORPUS_DIR,
    HELDOUT,
    TUNING,
    Labelled,
    load_corpus,
    measure,
    screen_decision,
)
from moderation.lexicon import default_lexicon  # noqa: E402

SETS = {
    "tuning": TUNING,
    "heldout": HELDOUT,
    "heldout-2": CORPUS_DIR / "heldout-2.tsv",
    "phrases_tuning": CORPUS_DIR / "phrases_tuning.tsv",
}
FROZEN = {"heldout", "heldout-2"}


def report(name: str, rows: list[Labelled]) -> None:
    """Print one set's overall figures and one line per category."""
    decide = screen_decision(default_lexicon())
    rates = measure(rows, decide)
    print(
        f"{name}: catch {rates.caught}/{rates.abusive} = {rates.catch_rate:.2f}, "
        f"false flags {rates.false_flags}/{rates.clean} = {rates.false_flag_rate:.2f}"
    )
    by_category: dict[str, list[Labelled]] = defaultdict(list)
    for row in rows:
        by_category[row.category].append(row)
    for category in sorted(by_category):
        part = measure(by_category[category], decide)
        if part.abusive:
            print(f"  {category:<18} caught {part.caught}/{part.abusive}")
        else:
            print(f"  {category:<18} false flags {part.false_flags}/{part.clean}")


def misses(name: str, rows: list[Labelled]) -> None:
    """Print the rows of a tuning set whose decision is wrong (flagged vs published)."""
    decide = screen_decision(default_lexicon())
    for row in rows:
        decision = decide(row.text)
        if (decision == "publish") == row.abusive:
            print(f"{row.category:<18}{decision:<9}{row.text}")


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "--misses":
        name = argv[2]
        if name in FROZEN or name not in SETS:
            print(
                f"--misses takes a tuning set: {', '.join(sorted(set(SETS) - FROZEN))}",
                file=sys.stderr,
            )
            return 2
        misses(name, load_corpus(SETS[name]))
        return 0
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    for name, path in SETS.items():
        report(name, load_corpus(path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
