"""How moderation.screen does on Multilingual HateCheck (Dutch), per functionality.

Usage: .venv/bin/python bench/hatecheck_report.py PATH/TO/hatecheck-nl.csv
The file is not shipped with Tribune (CC BY 4.0; the benchmark machine keeps it with its
evaluation data); without it the script says so and exits with status 2. Exit status 1 when a
goal is missed, 0 when all are met.
"Flagged" means held or rejected. HateCheck measures hate speech, not a profanity policy, so
functionalities like profanity_nh or counter_quote_nh are reported, not scored (holding
counter-speech that quotes a slur is acceptable; publishing hate is not).
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moderation import screen  # noqa: E402
from moderation.evaluation import HELDOUT, TUNING, load_corpus, measure, screen_decision  # noqa: E402
from moderation.lexicon import default_lexicon  # noqa: E402

SPELL_PREFIX = "spell_"
MIN_SLUR_PROFANITY = 0.90  # issue 18 (was 0.80)
MIN_SPELL_KEPT = 0.90
MAX_IDENT_NEGATE = 0.10
MIN_THREAT = 0.70  # issue 18: threat_dir_h, threat_norm_h
MIN_DEROG = 0.50  # issue 18: each derog_*_h
MIN_ALL_HATEFUL = 0.60  # issue 18: every hateful case together


def load(path: Path) -> list[dict[str, str]]:
    """Rows of the HateCheck CSV."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def ref_id(value: str) -> str | None:
    """The mhc_case_id that a ref_case_id such as '251.0' points to."""
    return f"dutch-{int(float(value))}" if value else None


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: hatecheck_report.py PATH/TO/hatecheck-nl.csv", file=sys.stderr)
        return 2
    path = Path(argv[1])
    if not path.is_file():
        print(f"HateCheck file not found: {path}\nGet hatecheck-nl.csv (Multilingual HateCheck, "
              "Dutch, CC BY 4.0) and pass its path.", file=sys.stderr)
        return 2

    lexicon = default_lexicon()
    rows = load(path)
    flagged = {r["mhc_case_id"]: screen(r["test_case"], lexicon).decision != "publish"
               for r in rows}
    by_func: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_func[row["functionality"]].append(row)

    print(f"{'functionality':<22}{'label':>13}{'cases':>7}{'flagged':>9}{'rate':>8}")
    rate: dict[str, float] = {}
    for func in sorted(by_func):
        cases = by_func[func]
        hits = sum(flagged[c["mhc_case_id"]] for c in cases)
        rate[func] = hits / len(cases)
        label = cases[0]["label_gold"]
        print(f"{func:<22}{label:>13}{len(cases):>7}{hits:>9}{rate[func]:>8.1%}")

    # Spelling variants: judged only where the plain form they were derived from is flagged.
    kept = with_flagged_ref = no_ref = 0
    for row in rows:
        if not row["functionality"].startswith(SPELL_PREFIX):
            continue
        ref = ref_id(row["ref_case_id"])
        if ref is None or ref not in flagged:
            no_ref += 1
            continue
        if flagged[ref]:
            with_flagged_ref += 1
            kept += flagged[row["mhc_case_id"]]
    spell_kept = kept / with_flagged_ref if with_flagged_ref else 0.0

    clean = [r for r in load_corpus(TUNING) + load_corpus(HELDOUT) if not r.abusive]
    banter = measure(clean, screen_decision(lexicon))

    goals = [
        (f"slur_h flagged >= {MIN_SLUR_PROFANITY:.0%}", rate.get("slur_h", 0.0),
         rate.get("slur_h", 0.0) >= MIN_SLUR_PROFANITY),
        (f"profanity_h flagged >= {MIN_SLUR_PROFANITY:.0%}", rate.get("profanity_h", 0.0),
         rate.get("profanity_h", 0.0) >= MIN_SLUR_PROFANITY),
        (f"spell_* kept when plain form flagged >= {MIN_SPELL_KEPT:.0%} "
         f"({kept}/{with_flagged_ref}; {no_ref} without a plain form)", spell_kept,
         with_flagged_ref > 0 and spell_kept >= MIN_SPELL_KEPT),
    ]
    for func in sorted(f for f in by_func if f.startswith("ident_") or f == "negate_neg_nh"):
        goals.append((f"{func} flagged <= {MAX_IDENT_NEGATE:.0%}", rate[func],
                      rate[func] <= MAX_IDENT_NEGATE))
    for func in ("threat_dir_h", "threat_norm_h"):
        goals.append((f"{func} flagged >= {MIN_THREAT:.0%}", rate.get(func, 0.0),
                      rate.get(func, 0.0) >= MIN_THREAT))
    for func in sorted(f for f in by_func if f.startswith("derog_")):
        goals.append((f"{func} flagged >= {MIN_DEROG:.0%}", rate[func], rate[func] >= MIN_DEROG))
    hateful = [r for r in rows if r["label_gold"] == "hateful"]
    all_rate = sum(flagged[r["mhc_case_id"]] for r in hateful) / len(hateful)
    goals.append((f"all hateful cases flagged >= {MIN_ALL_HATEFUL:.0%} ({len(hateful)})",
                  all_rate, all_rate >= MIN_ALL_HATEFUL))

    print("\ngoals")
    for name, value, met in goals:
        print(f"  [{'met' if met else 'MISSED'}] {name}: {value:.1%}")

    print("\nreported, no goal: counter-speech")
    for prefix in ("counter_",):
        for func in sorted(f for f in by_func if f.startswith(prefix)):
            print(f"  {func:<22}{rate[func]:>8.1%}")
    print(f"\nfalse holds on the corpus's clean banter: {banter.false_flags}/{banter.clean} "
          f"({banter.false_flag_rate:.1%})")
    return 0 if all(met for _, _, met in goals) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
