"""Text normalisation for matching, with a map back to the original code points.

Normalised text is only ever used to *find* things; flags always point into the original
text. The pipeline: NFKC, case-fold, drop invisible characters, fold accents, map homoglyphs,
blank wrapping quotes and leading @/#, map leetspeak inside words, collapse stretched letters
and join spaced or dotted single letters. Every character that exists only because of an
evasion step (leet, homoglyph, fullwidth, stretching, joining, wrapping) is marked, so a
match built from it can be treated as an evasion rather than a plain word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Look-alikes from Cyrillic and Greek (lower case; input is case-folded first), plus a few
# Latin letters NFKD does not decompose.
_HOMOGLYPHS = {
    "а": "a", "в": "b", "г": "r", "е": "e", "ё": "e", "з": "3", "и": "u", "к": "k",
    "м": "m", "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t", "у": "y",
    "х": "x", "ц": "u", "ь": "b", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
    "ԛ": "q", "ԝ": "w", "ү": "y", "һ": "h", "ӏ": "l",
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u",
    "ν": "v", "ο": "o", "ρ": "p", "σ": "o", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    "ς": "c",
    "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
    "ɡ": "g", "ɑ": "a",
    # Letters with hooks and small capitals, which NFKC leaves alone.
    "ƙ": "k", "ɓ": "b", "ɗ": "d", "ƴ": "y", "ɲ": "n", "ƒ": "f", "ɦ": "h", "ʝ": "j", "ɱ": "m",
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ғ": "f", "ɢ": "g", "ʜ": "h", "ɪ": "i",
    "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s",
    "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
}

# Quotes become plain ASCII quotes, which the wrap step then blanks.
_QUOTES = {"‘": "'", "’": "'", "‚": "'", "‛": "'", "´": "'", "`": "'", "“": '"', "”": '"',
           "„": '"', "«": '"', "»": '"', "′": "'", "″": '"'}

# Digits and symbols read as letters when they sit inside a word that has letters.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "9": "g", "@": "a", "$": "s", "€": "e"})
# Second readings of ambiguous leet characters, tried as lookup variants.
LEET_ALTERNATIVES = {"1": "l", "@": "o"}

_LEET_SYMBOLS = "@$€"
_LEET_CHARS = re.compile(r"[0-9@$€]")
_INNER_PUNCT = re.compile(r"(?<=[a-z])[!|](?=[a-z])")
_INNER_HINT = re.compile(r"[a-z][!|][a-z]")
_WRAP = re.compile(r"""["']|(?<![\w@#])[@#]+(?=\w)""")
_STRETCH = re.compile(r"([a-z])\1{2,}")
_STRETCH_HINT = re.compile(r"([a-z])\1\1")  # the same test, without trying longer runs
_SPACED = re.compile(r"\b[a-z](?:[ ._\-]{1,3}[a-z]\b){2,}")
_SPACED_SEP = re.compile(r"[ ._\-]+")
TOKEN = re.compile(r"[\w*]+")


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> tuple[str, bool]:
    """Fold one code point; returns (replacement, changed beyond case-folding)."""
    cat = unicodedata.category(ch)
    if cat in ("Cf", "Mn", "Me") or ch in "\u034f\u115f\u1160\u3164":
        return "", True  # invisible (zero-width, soft hyphen, bidi) or a combining accent
    if ch in _QUOTES:
        return _QUOTES[ch], False
    out = []
    for c in unicodedata.normalize("NFKC", ch).casefold():
        c = _HOMOGLYPHS.get(c, c)
        decomposed = unicodedata.normalize("NFD", c)
        out.append("".join(d for d in decomposed if not unicodedata.combining(d)))
    folded = "".join(out)
    return folded, folded != ch.lower()


@dataclass(frozen=True, slots=True)
class Normalised:
    """Normalised text, the original offset of each of its characters, and evasion marks."""

    original: str
    text: str
    origin: tuple[int, ...] | None  # None: position i in text is position i in original
    evasive: bytes  # 1 where a character exists only because of an evasion step
    alternatives: dict[int, str]  # position -> second reading of an ambiguous leet char

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of the normalised text to the original text."""
        if end <= start:
            return start, start
        if self.origin is None:
            return start, end
        first, last = self.origin[start], self.origin[end - 1] + 1
        # Swallow invisible or combining characters that were dropped right after the span.
        while last < len(self.original) and _fold_char(self.original[last])[0] == "":
            last += 1
        return first, last

    @property
    def has_evasion(self) -> bool:
        """True when any character came from an evasion step."""
        return 1 in self.evasive

    def is_evasive(self, start: int, end: int) -> bool:
        """True when any character of the span came from an evasion step."""
        return any(self.evasive[start:end])

    def evasive_positions(self) -> list[int]:
        """Positions in the normalised text of characters marked as evasive."""
        out, at = [], self.evasive.find(1)
        while at != -1:
            out.append(at)
            at = self.evasive.find(1, at + 1)
        return out

    def tokens(self) -> list[tuple[int, int, str]]:
        """Word tokens (letters, digits, '*') as (start, end, text) in normalised text."""
        return token_spans(self.text, TOKEN.findall(self.text))


class _Builder:
    """Mutable working state of the pipeline: the text so far (one character per position,
    replaced as a whole string only by the steps that change it) and its parallel arrays."""

    def __init__(self, original: str) -> None:
        self.original = original
        self.text = ""
        self.origin: list[int] | None = None
        self.evasive = bytearray()
        self.alternatives: dict[int, str] = {}

    def fold(self) -> None:
        text = self.original
        if text.isascii():
            self.text = text.lower()
            self.evasive = bytearray(len(text))
            return
        chars: list[str] = []
        origin: list[int] = []
        evasive = bytearray()
        identity = True
        for i, ch in enumerate(text):
            folded, changed = _fold_char(ch)
            if len(folded) != 1:
                identity = False
                if not folded and changed and evasive:
                    evasive[-1] = 1  # something was hidden inside or after this character
            for c in folded:
                chars.append(c)
                origin.append(i)
                evasive.append(changed)
        self.text, self.evasive = "".join(chars), evasive
        self.origin = None if identity else origin

    def keep_only(self, keep: list[bool]) -> None:
        """Drop characters whose keep flag is False, carrying every parallel array along."""
        origin = self.origin if self.origin is not None else range(len(self.text))
        new_pos = {}
        chars: list[str] = []
        new_origin: list[int] = []
        evasive = bytearray()
        for i, k in enumerate(keep):
            if k:
                new_pos[i] = len(chars)
                chars.append(self.text[i])
                new_origin.append(origin[i])
                evasive.append(self.evasive[i])
        self.alternatives = {new_pos[i]: c for i, c in self.alternatives.items() if i in new_pos}
        self.text, self.origin, self.evasive = "".join(chars), new_origin, evasive

    def mark(self, start: int, end: int) -> None:
        for i in range(start, end):
            self.evasive[i] = 1


def _leet_token_bounds(s: str, at: int) -> tuple[int, int]:
    """The run of letters, digits and leet symbols around position at."""
    start, end = at, at + 1
    while start > 0 and (s[start - 1].isalnum() or s[start - 1] in _LEET_SYMBOLS):
        start -= 1
    while end < len(s) and (s[end].isalnum() or s[end] in _LEET_SYMBOLS):
        end += 1
    return start, end


def normalise(text: str) -> Normalised:
    """Normalise text for matching, keeping a map back to the original code points."""
    b = _Builder(text)
    b.fold()
    s = b.text

    if "_" in s:  # underscores join words in names and hashtags; they are not letters
        s = s.replace("_", " ")

    # Wrapping quotes and leading @/# become spaces; the wrapped word counts as marked.
    if "'" in s or '"' in s or "@" in s or "#" in s:
        chars = list(s)
        for m in _WRAP.finditer(s):
            for i in range(m.start(), m.end()):
                chars[i] = " "
            if m.end() < len(s) and s[m.end()].isalnum():
                b.evasive[m.end()] = 1
            if m.start() > 0 and s[m.start() - 1].isalnum():
                b.evasive[m.start() - 1] = 1
        s = "".join(chars)

    # Leetspeak, only inside tokens that also contain letters ("1900" and "3-0" stay).
    if _LEET_CHARS.search(s):
        chars = list(s)
        done: set[int] = set()
        for hit in _LEET_CHARS.finditer(s):
            start, end = _leet_token_bounds(s, hit.start())
            if start in done:
                continue
            done.add(start)
            word = s[start:end]
            if not any(c.isalpha() for c in word):
                continue
            for j, c in enumerate(word):
                if c in LEET_ALTERNATIVES:
                    b.alternatives[start + j] = LEET_ALTERNATIVES[c]
                if not c.isalpha():
                    b.evasive[start + j] = 1
            chars[start:end] = list(word.translate(_LEET))
        s = "".join(chars)
    if ("!" in s or "|" in s) and _INNER_HINT.search(s):
        chars = list(s)
        for m in _INNER_PUNCT.finditer(s):
            chars[m.start()] = "i" if m.group() == "!" else "l"
            b.evasive[m.start()] = 1
        s = "".join(chars)

    # Stretched letters: runs of three or more become two (kaaaanker -> kaanker).
    if _STRETCH_HINT.search(s):
        b.text = s
        keep = [True] * len(s)
        for m in _STRETCH.finditer(s):
            b.mark(m.start(), m.end())
            for i in range(m.start() + 2, m.end()):
                keep[i] = False
        b.keep_only(keep)
        s = b.text

    # Spaced or dotted single letters: "k a n k e r", "k.a.n.k.e.r" -> "kanker".
    if _SPACED.search(s):
        b.text = s
        keep = [True] * len(s)
        for m in _SPACED.finditer(s):
            b.mark(m.start(), m.end())
            for sep in _SPACED_SEP.finditer(m.group()):
                for i in range(m.start() + sep.start(), m.start() + sep.end()):
                    keep[i] = False
        b.keep_only(keep)
        s = b.text

    origin = tuple(b.origin) if b.origin is not None else None
    return Normalised(text, s, origin, bytes(b.evasive), b.alternatives)


def token_spans(text: str, words: list[str]) -> list[tuple[int, int, str]]:
    """Positions of already-found tokens: each is the next occurrence after the previous one."""
    spans, at = [], 0
    for word in words:
        at = text.find(word, at)
        spans.append((at, at + len(word), word))
        at += len(word)
    return spans


def squeeze(word: str) -> str:
    """Collapse every run of a repeated letter to one (klootzak -> klotzak)."""
    return re.sub(r"(.)\1+", r"\1", word)


def fold_entry(entry: str) -> str:
    """Normalise a word-list entry the way text is normalised, without evasion steps."""
    folded = "".join(_fold_char(c)[0] for c in entry.strip())
    return " ".join(folded.split())
