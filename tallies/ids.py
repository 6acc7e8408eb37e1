"""Parse and normalise the `ids` of a tallies request: validated, deduplicated, sorted."""

from __future__ import annotations

import re

from errors import Invalid
from models import ARTICLE_ID_PATTERN

MAX_IDS = 100
_ID_RE = re.compile(ARTICLE_ID_PATTERN)
# Cheap bound before any work: 100 ids of 64 characters plus commas, with room for duplicates.
_MAX_RAW_LENGTH = 4 * MAX_IDS * 65


def parse_ids(raw: str | None) -> list[str]:
    """`a,b,a` → `["a", "b"]`: each id checked, duplicates dropped, sorted so caches share keys.

    Empty segments (a trailing comma) are ignored; no id at all, a malformed id or more than
    MAX_IDS distinct ids is a 422.
    """
    if raw is None or not raw.strip(","):
        raise Invalid(
            "missing_ids",
            "Geef minstens één artikel-id op: ?ids=a,b,c.",
            details={"parameter": "ids"},
        )
    if len(raw) > _MAX_RAW_LENGTH:
        raise Invalid(
            "too_many_ids",
            f"Vraag hoogstens {MAX_IDS} artikels tegelijk op.",
            details={"parameter": "ids", "max": MAX_IDS},
        )
    ids = {part for part in raw.split(",") if part}
    invalid = sorted(part for part in ids if not _ID_RE.fullmatch(part))
    if invalid:
        raise Invalid(
            "invalid_article_id",
            "Een artikel-id heeft 1 tot 64 tekens: letters, cijfers, _ of -.",
            details={"parameter": "ids", "invalid": [part[:80] for part in invalid[:10]]},
        )
    if len(ids) > MAX_IDS:
        raise Invalid(
            "too_many_ids",
            f"Vraag hoogstens {MAX_IDS} artikels tegelijk op.",
            details={"parameter": "ids", "max": MAX_IDS, "count": len(ids)},
        )
    return sorted(ids)
