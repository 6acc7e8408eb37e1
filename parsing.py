"""Small, strict parsers for values that arrive as text (forms, query strings, cookies)."""


def is_int_text(text: str, max_digits: int = 11) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²' and '٣', which int() refuses."""
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit()
