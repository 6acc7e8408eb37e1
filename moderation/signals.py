"""Non-word signals on the original text: links, e-mail addresses, phone numbers, shouting,
character floods. Each returns flags with spans into the original text."""

from __future__ import annotations

import re
from collections.abc import Iterable

from moderation.flags import Flag, FlagCode

_EMAIL_DOMAIN = re.compile(r"@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}")
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
_TLDS = (
    "com|net|org|be|nl|eu|info|biz|io|ly|xyz|me|co|tv|gg|app|site|online|shop|top|club|bet"
    "|casino|fr|de|uk|ru|cc|ws|link|live|win|vip|tk|to|gl|am|fm|brussels|vlaanderen|gent"
)
_URL = re.compile(
    r"(?i)\b(?:https?://|www\.)[^\s<>\"'()]+"
    rf"|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})\b(?:/[^\s<>\"'()]*)?"
)
_HOST = re.compile(r"(?i)^(?:https?://)?([^/:?#\s]+)")
# A phone number: 9 to 13 digits, optionally with +/00 and separators; it starts with 0 or +.
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d ./()-]{7,18}\d(?![\w])")
_CAPS_RUN = re.compile(r"[A-ZÀ-Þ]{2,}(?:[^a-zà-ÿA-ZÀ-Þ]+[A-ZÀ-Þ]{2,}){3,}")
_FLOOD = re.compile(r"(\S)\1{14,}|(\S{2,3})\2{9,}")
_LONG_RUN = re.compile(r"\S{15,}")  # every flood is at least this long
# Found by its dot (a fast literal scan), with "://" tested apart: the same texts as
# (?i)://|www\.|[a-z0-9]\.[a-z]{2} in a fraction of the time.
_URL_HINT = re.compile(r"(?i)\.(?:(?<=[a-z0-9]\.)[a-z]{2}|(?<=www\.))")
_PHONE_HINT = re.compile(r"\d[\d ./()-]{7,}\d")

SHOUT_MIN_LETTERS = 40
SHOUT_MIN_SHARE = 0.8


def _host(url: str) -> str:
    match = _HOST.match(url)
    host = match.group(1).lower().rstrip(".") if match else url.lower()
    return host[4:] if host.startswith("www.") else host


def _domain_allowed(host: str, allowed: frozenset[str]) -> bool:
    parts = host.split(".")
    return any(".".join(parts[i:]) in allowed for i in range(len(parts) - 1))


def contact_flags(text: str) -> list[Flag]:
    """E-mail addresses and phone numbers; the detail names the kind, never the value."""
    flags = []
    if "@" in text:
        for m in _EMAIL_DOMAIN.finditer(text):
            start = m.start()
            while start > 0 and text[start - 1] in _LOCAL_CHARS:
                start -= 1
            if start < m.start():
                flags.append(Flag(FlagCode.EMAIL_ADDRESS, "e-mailadres", start, m.end()))
    if not _PHONE_HINT.search(text):
        return flags
    for m in _PHONE.finditer(text):
        raw = m.group()
        digits = sum(c.isdigit() for c in raw)
        if 9 <= digits <= 13 and (raw[0] in "+0"):
            flags.append(Flag(FlagCode.PHONE_NUMBER, "telefoonnummer", m.start(), m.end()))
    return flags


def link_flags(text: str, allowed_domains: frozenset[str], skip: Iterable[Flag] = ()) -> list[Flag]:
    """Links to domains that are not allow-listed (spans inside e-mail addresses skipped)."""
    if "://" not in text and not _URL_HINT.search(text):
        return []
    taken = [(f.start, f.end) for f in skip]
    flags = []
    for m in _URL.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        host = _host(m.group())
        if not _domain_allowed(host, allowed_domains):
            flags.append(Flag(FlagCode.LINK, host, m.start(), m.end()))
    return flags


def shouting_flag(text: str) -> Flag | None:
    """Long text written mostly in capitals."""
    if not _CAPS_RUN.search(text):
        return None
    letters = [c for c in text if c.isalpha()]
    if len(letters) < SHOUT_MIN_LETTERS:
        return None
    share = sum(c.isupper() for c in letters) / len(letters)
    if share < SHOUT_MIN_SHARE:
        return None
    return Flag(FlagCode.SHOUTING, f"{round(share * 100)}% hoofdletters", 0, len(text))


def flood_flags(text: str) -> list[Flag]:
    """Runs of 15+ identical characters or a short unit repeated 10+ times."""
    flags: list[Flag] = []
    if max(map(len, text.split()), default=0) < 15:
        return flags  # no run of 15 non-space characters (str.split and \S agree on spaces)
    for run in _LONG_RUN.finditer(text):
        flags += [Flag(FlagCode.CHAR_FLOOD, f"{len(m.group())} tekens",
                       run.start() + m.start(), run.start() + m.end())
                  for m in _FLOOD.finditer(run.group())]
    return flags
