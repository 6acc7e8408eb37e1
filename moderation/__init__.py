"""Comment moderation: text screening (pure) and, elsewhere in the package, the queue."""

from moderation.flags import Flag, FlagCode, Reason, Screening, Severity
from moderation.lexicon import (
    LexiconOverrides,
    active_lexicon,
    build_lexicon,
    default_lexicon,
    set_active_lexicon,
)
from moderation.screening import screen, screen_username

__all__ = [
    "Flag",
    "FlagCode",
    "LexiconOverrides",
    "Reason",
    "Screening",
    "Severity",
    "active_lexicon",
    "build_lexicon",
    "default_lexicon",
    "screen",
    "screen_username",
    "set_active_lexicon",
]
