"""Small, strict parsers for values that arrive as text (forms, query strings, cookies)."""

import re


def is_int_text(text: str, max_digits: int = 11) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²' and '٣', which int() refuses."""
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit()


# Row ids are INTEGER columns, 32-bit on PostgreSQL: a larger number names no row, and binding
# it would fail in the driver (PostgreSQL: out of range; SQLite: above 64 bits, OverflowError).
ID_MAX = 2**31 - 1


def is_id(value: object) -> bool:
    """A JSON number that can name a row: an int (not a bool) from 1 to ID_MAX."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= ID_MAX


def is_id_text(text: str) -> bool:
    """Text that can name a row: ASCII digits, from 1 to ID_MAX."""
    return is_int_text(text, 10) and 0 < int(text) <= ID_MAX


# Pages of a listing: far beyond any real listing, and small enough that OFFSET
# (page - 1) * per_page stays a 64-bit integer on every database.
PAGE_MAX = 100_000


def page_number(text: str | None) -> int:
    """The `?pagina=` of a paginated page: 1 unless ASCII digits; clamped to 1..PAGE_MAX."""
    if text is None or not is_int_text(text, 20):
        return 1
    return min(max(int(text), 1), PAGE_MAX)


# A lone UTF-16 surrogate (JSON "\ud800") is a str in Python but cannot be encoded as UTF-8,
# so the database driver would fail on it.
_SURROGATES = re.compile("[\ud800-\udfff]")


def unstorable_text(value: object) -> str | None:
    """What in parsed input (text; lists, tuples and objects, keys included) no text column
    can keep: "nul" for U+0000, "surrogate" for a lone surrogate, None when all is well.

    Iterative: a deeply nested body must not exhaust the stack here.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "nul"
            if _SURROGATES.search(item):
                return "surrogate"
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return None

