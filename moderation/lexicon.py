"""The active lexicon: shipped word lists plus moderators' runtime overrides, compiled once."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from better_profanity import Profanity

from moderation.normalise import fold_entry, squeeze

WORDLIST_DIR = Path(__file__).with_name("wordlists")

LIST_SLUR = "slur"  # slurs: a plain hit rejects
LIST_REJECT = "reject"  # the worst insults: a plain hit rejects
LIST_HOLD = "hold"  # insults: hold
LIST_HATE = "hate"  # coded hate terms and chants: hold
LIST_CURSE = "curse"  # curses that are never literal: hold
LIST_DISEASE = "disease"  # disease words: hold only in curse usage
LIST_PREFIX = "prefix"  # compound prefixes: kanker-, tyfus-, tering-
LIST_THREAT = "threat"  # threat words and phrases: hold
LIST_SPAM = "spam"  # spam words and phrases: hold
LIST_MILD = "mild"  # mild profanity: holds only next to a group term
LIST_IDENTITY = "identity"  # terms for protected groups: never flag on their own
# The phrase layer's vocabularies (moderation/phrases.py): never flag on their own either.
LIST_VIOLENCE = "violence"  # violent verbs and phrases in any reading
LIST_FIGURATIVE = "figurative"  # violent verbs that are also football idiom (afmaken)
LIST_HARM = "harm"  # body parts and weapons
LIST_DEHUMANISING = "dehumanising"  # vermin, animals, dirt, disease said of people
LIST_HOSTILE = "hostile"  # predicates that exclude or degrade a group
LIST_INSULT_ADJECTIVE = "insult_adjective"  # vuile, smerige ... before a noun
LIST_INSULT_NOUN = "insult_noun"  # hond, rat, stuk vreten ... said of a person
LIST_PERSON = "person"  # scheids, keeper, trainer: people threats and insults aim at
# Who is targeted: these lists never open the phrase layer on their own.
TARGET_CATEGORIES = frozenset({LIST_IDENTITY, LIST_PERSON})
# Words too frequent to stand for a phrase in the layer's gate.
COMMON_WORDS = frozenset({
    "de", "het", "een", "en", "in", "op", "te", "van", "naar", "met", "voor", "aan", "om", "bij",
    "uit", "door", "over", "is", "zijn", "zijt", "bent", "ben", "was", "niet", "niets", "niks",
    "geen", "nooit", "moet", "moeten", "mag", "mogen", "kan", "kunnen", "zal", "zullen", "gaat",
    "gaan", "ga", "wil", "hun", "je", "ze", "zij", "die", "dat", "dit", "er", "hier", "wat",
    "als", "tegen", "alle", "allemaal", "blijven", "blijft", "beter", "worden", "wordt", "nog",
    "meer", "ook", "maar", "echt", "gewoon", "onze", "ons", "hebben", "heeft",
    "zien", "willen", "match", "wedstrijd", "wij", "we", "ik", "hij", "hem", "zou", "zouden",
})
PHRASE_CATEGORIES: tuple[str, ...] = (
    LIST_IDENTITY, LIST_PERSON, LIST_VIOLENCE, LIST_FIGURATIVE, LIST_HARM, LIST_DEHUMANISING,
    LIST_HOSTILE, LIST_INSULT_ADJECTIVE, LIST_INSULT_NOUN,
)

# Categories a moderator may add words to, most severe first; a word in several lists
# counts in the first.
WORD_CATEGORIES: tuple[str, ...] = (
    LIST_SLUR, LIST_REJECT, LIST_HOLD, LIST_HATE, LIST_CURSE, LIST_DISEASE, LIST_THREAT,
    LIST_SPAM,
)
CATEGORIES: tuple[str, ...] = (
    *WORD_CATEGORIES, LIST_PREFIX, LIST_MILD, *PHRASE_CATEGORIES,
)
ALLOWED_CATEGORIES = CATEGORIES  # what LexiconOverrides.added may name
# Lists whose words are also found split in two by a space or a dot ("klootz ak").
SPLIT_CATEGORIES = frozenset({LIST_SLUR, LIST_REJECT, LIST_HOLD, LIST_HATE, LIST_CURSE})
# Lists whose words are also matched one typo away (a letter dropped or two swapped).
FUZZY_CATEGORIES = frozenset({LIST_SLUR, LIST_REJECT, LIST_HOLD, LIST_HATE, LIST_CURSE,
                              LIST_DISEASE, LIST_THREAT})
FUZZY_MIN_LENGTH = 6
GLUE_FILE = "glue"
GLUE_MIN_WORD = 4
ALLOW_FILE = "allow"
DOMAINS_FILE = "domains"
MAX_GAP = 3  # a lone '*' in a phrase stands for up to this many words
# In the phrase layer's lists a gap may be longer: a separable verb's particle comes late
# ("schiet de volgende die ik zie neer").
VOCABULARY_GAP = 5
_ELEMENT = re.compile(r"[^\W_]+\*?|\*|#")


@dataclass(frozen=True)
class LexiconOverrides:
    """Moderators' runtime changes on top of the shipped lists."""

    added: tuple[tuple[str, str], ...] = ()  # (word, list name such as "reject" or "spam")
    removed: frozenset[str] = frozenset()
    allowed: frozenset[str] = frozenset()
    allowed_domains: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Phrase:
    """A multi-word or wildcard entry, matched on tokens outside better-profanity."""

    entry: str
    category: str
    elements: tuple[str, ...]  # words; "word*" = any ending; "*" = gap; "#" = a number
    max_gap: int = MAX_GAP
    needs: frozenset[str] = frozenset()  # its plain words: no match unless all occur
    anchor: str | None = None  # its longest plain word (None: stems, gaps and numbers only)

    def match_at(self, tokens: list[str], i: int) -> int:
        """Number of tokens matched starting at tokens[i], or 0."""
        elements = self.elements
        if "*" in elements:
            return _match(elements, tokens, i, i, self.max_gap)
        if i + len(elements) > len(tokens):
            return 0
        for j, element in enumerate(elements):
            if element != tokens[i + j] and not _element_matches(element, tokens[i + j]):
                return 0
        return len(elements)


def _match(elements: tuple[str, ...], tokens: list[str], i: int, start: int,
           max_gap: int = MAX_GAP) -> int:
    if not elements:
        return i - start
    head, rest = elements[0], elements[1:]
    if head == "*":
        for skip in range(max_gap + 1):
            if i + skip > len(tokens):
                break
            got = _match(rest, tokens, i + skip, start, max_gap)
            if got:
                return got
        return 0
    if i >= len(tokens) or not _element_matches(head, tokens[i]):
        return 0
    return _match(rest, tokens, i + 1, start, max_gap)


def _element_matches(element: str, token: str) -> bool:
    if element == "#":
        return token.isdigit()
    if element.endswith("*"):
        return token.startswith(element[:-1])
    return token == element


# Tokens whose single-word marks are remembered per vocabulary; beyond this the memo restarts.
MEMO_LIMIT = 20_000


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """The phrase layer's lists compiled for one pass over the tokens.

    Built once per lexicon version, so everything derived from it (the per-token memo too) is
    dropped with it when a moderator's change swaps the lexicon in.
    """

    singles: Mapping[str, tuple[str, ...]]  # word -> its phrase-layer categories
    stems: Mapping[str, tuple[tuple[str, str], ...]]  # first 3 letters -> (stem, category)
    phrases: Mapping[str, tuple[Phrase, ...]]  # first word (or 3 letters of a stem) -> phrases
    gate: frozenset[str]  # single words and each phrase's longest word: no hit, no mark
    keys: frozenset[str]  # where a mark can start: single words, phrase keys, stem heads
    # A phrase can only match where its rarest plain word occurs: anchor -> (rank, key, phrase).
    by_anchor: Mapping[str, tuple[tuple[int, str, Phrase], ...]] = field(default_factory=dict)
    unanchored: tuple[tuple[int, str, Phrase], ...] = ()  # phrases of stems and gaps only
    anchors: frozenset[str] = frozenset()
    # token -> word_marks(token), filled as texts come in
    memo: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict, repr=False)
    marked: set[str] = field(default_factory=set, repr=False)  # the memo's tokens with marks
    shut: set[str] = field(default_factory=set, repr=False)  # tokens known not to open the gate

    def opens(self, tokens: list[str]) -> bool:
        """True when a predicate word occurs (targets alone never make a flag)."""
        if not self.gate.isdisjoint(tokens):
            return True
        if not self.stems or self.shut.issuperset(tokens):
            return False
        if any(t[:3] in self.stems for t in tokens):
            return True
        if len(self.shut) >= MEMO_LIMIT:
            self.shut.clear()
        self.shut.update(tokens)
        return False

    def word_marks(self, token: str) -> tuple[tuple[str, str], ...]:
        """(category, entry) of the single words and 'word*' stems a token stands for."""
        found = self.memo.get(token)
        if found is not None:
            return found
        out = [(category, token) for category in self.singles.get(token, ())]
        for stem, category in self.stems.get(token[:3], ()):
            if token.startswith(stem):
                out.append((category, stem + "*"))
        if len(self.memo) >= MEMO_LIMIT:
            self.memo.clear()
            self.marked.clear()
        found = self.memo[token] = tuple(out)
        if found:
            self.marked.add(token)
        return found

    def marked_tokens(self, present: frozenset[str]) -> set[str]:
        """The tokens of a text that stand for a single word or stem (set operations on the
        memo, so a token is only looked at the first time it is seen)."""
        for token in present.difference(self.memo):
            self.word_marks(token)
        if self.memo.keys() >= present:
            return self.marked.intersection(present)
        return {token for token in present if self.word_marks(token)}  # the memo restarted

    def live_phrases(self, present: frozenset[str]) -> dict[str, list[Phrase]]:
        """The phrases whose plain words all occur in a text, by key (first word or stem head),
        in list order: the only ones worth matching token by token."""
        hits = [
            item
            for anchor in self.anchors.intersection(present)
            for item in self.by_anchor[anchor]
            if item[2].needs <= present
        ]
        hits += self.unanchored
        live: dict[str, list[Phrase]] = {}
        for _, key, phrase in sorted(hits, key=lambda item: item[0]):
            live.setdefault(key, []).append(phrase)
        return live

    def marks_at(self, tokens: list[str], i: int, present: frozenset[str]
                 ) -> list[tuple[str, int, str]]:
        """(category, tokens matched, entry) for every entry that starts at tokens[i]."""
        token = tokens[i]
        out = [(category, 1, entry) for category, entry in self.word_marks(token)]
        candidates = self.phrases.get(token, ())
        if len(token) > 3 and token[:3] in self.phrases:
            candidates = candidates + self.phrases[token[:3]]
        for phrase in candidates:
            if phrase.needs <= present:
                n = phrase.match_at(tokens, i)
                if n:
                    out.append((phrase.category, n, phrase.entry))
        return out


def build_vocabulary(entries: Mapping[str, tuple[str, ...]]) -> Vocabulary:
    """Compile the phrase layer's categories: single words, 'word*' stems and phrases."""
    singles: dict[str, list[str]] = {}
    stems: dict[str, list[tuple[str, str]]] = {}
    phrases: dict[str, list[Phrase]] = {}
    anchors: set[str] = set()
    by_anchor: dict[str, list[tuple[int, str, Phrase]]] = {}
    unanchored: list[tuple[int, str, Phrase]] = []
    rank = 0  # list order, which the layer's rules see marks in
    typos: dict[str, list[str]] = {}
    for category in PHRASE_CATEGORIES:
        for entry in entries.get(category, ()):
            parts = phrase_elements(entry)
            if not parts or parts[0] in ("*", "#"):
                continue
            if len(parts) == 1 and parts[0].endswith("*"):
                stem = parts[0][:-1]
                if len(stem) >= 3:
                    stems.setdefault(stem[:3], []).append((stem, category))
            elif len(parts) == 1:
                if category not in singles.setdefault(parts[0], []):
                    singles[parts[0]].append(category)
                if category not in TARGET_CATEGORIES:
                    anchors.add(parts[0])
            else:
                first = parts[0]
                key = first[:-1][:3] if first.endswith("*") else first
                plain = [e for e in parts if e not in ("*", "#") and not e.endswith("*")]
                phrase = Phrase(entry, category, parts, VOCABULARY_GAP, frozenset(plain))
                phrases.setdefault(key, []).append(phrase)
                # The phrase's rarest-looking word: "in de fik" can only match where "fik"
                # occurs, so "in" and "de" need neither open the gate nor be tried.
                rare = [e for e in plain if e not in COMMON_WORDS] or plain
                item = (rank, key, phrase)
                rank += 1
                if rare:
                    by_anchor.setdefault(max(reversed(rare), key=len), []).append(item)
                else:
                    unanchored.append(item)
                if category in TARGET_CATEGORIES:
                    continue
                if rare:
                    anchors.add(max(reversed(rare), key=len))
                else:
                    stems.setdefault(key, [])
    # One typo away ("moslmis", "terroirsten"): a misspelt target or predicate still counts,
    # since a flag needs both. Never where the variant is a word of the lists itself.
    for word, categories in list(singles.items()):
        if len(word) < FUZZY_MIN_LENGTH or LIST_HARM in categories:
            continue
        for variant in typo_variants(word):
            if variant not in singles:
                typos.setdefault(variant, categories)
    for variant, categories in typos.items():
        singles[variant] = categories
        if not TARGET_CATEGORIES.issuperset(categories):
            anchors.add(variant)
    return Vocabulary(
        singles={w: tuple(c) for w, c in singles.items()},
        stems={k: tuple(v) for k, v in stems.items()},
        phrases={k: tuple(v) for k, v in phrases.items()},
        gate=frozenset(anchors),
        keys=frozenset(singles) | frozenset(phrases) | frozenset(stems),
        by_anchor={k: tuple(v) for k, v in by_anchor.items()},
        unanchored=tuple(unanchored),
        anchors=frozenset(by_anchor),
    )


@dataclass(frozen=True, eq=False)
class Lexicon:
    """Compiled word lists: exact-word index, compound prefixes, phrases, allow-lists."""

    version: int
    words: Mapping[str, str]  # single word -> category
    squeezed: Mapping[str, str]  # word with letter runs collapsed -> word
    by_length: Mapping[int, tuple[str, ...]]
    prefixes: frozenset[str]
    prefix_heads: frozenset[str]
    prefix_lengths: tuple[int, ...]  # longest first
    phrases_by_first: Mapping[str, tuple[Phrase, ...]]  # first word or first 3 letters
    phrase_anchors: frozenset[str]  # the anchors of those phrases: no anchor, no match
    unanchored_phrases: bool  # some phrase has no anchor and is always tried
    phrase_keys_by_anchor: Mapping[str, frozenset[str]]  # anchor -> keys of its phrases
    unanchored_keys: frozenset[str]  # keys of the phrases without an anchor
    split_heads: frozenset[str]  # every first part of a list word split in two
    allow: frozenset[str]
    allow_prefixes: tuple[str, ...]
    domains: frozenset[str]
    entries: Mapping[str, tuple[str, ...]]  # category -> entries, as loaded
    fuzzy: Mapping[str, str]  # a list word with one letter dropped or two swapped -> word
    glue: frozenset[str]  # frequent words glued onto list words ("eenneger")
    tails: frozenset[str]  # last three letters of list words, to gate the glue check
    glue_heads: frozenset[str]  # first two letters of glue words, same purpose
    mild: frozenset[str]
    mild_typos: Mapping[str, str]  # mild word with one typo -> mild word
    identity: frozenset[str]
    vocabulary: Vocabulary  # the phrase layer's lists (moderation/phrases.py)
    _profanity: dict[str, Profanity] = field(default_factory=dict, repr=False)
    # (list word, text) -> better-profanity's verdict: the same pairs recur in every comment.
    _verdicts: dict[tuple[str, str], bool] = field(default_factory=dict, repr=False)
    # Tokens the word lists' gate let pass without a look: the same ones recur in every comment.
    quiet_tokens: set[str] = field(default_factory=set, repr=False)

    def category(self, word: str) -> str | None:
        """The list a single word is on, or None."""
        return self.words.get(word)

    def is_allowed(self, word: str) -> bool:
        """True when the allow-list covers the word."""
        return word in self.allow or word.startswith(self.allow_prefixes)

    def compound_prefix(self, token: str) -> str | None:
        """The longest compound prefix that starts token (with at least 2 letters after it)."""
        if token[:3] not in self.prefix_heads:
            return None
        for length in self.prefix_lengths:
            if length <= len(token) - 2 and token[:length] in self.prefixes:
                return token[:length]
        return None

    def profanity(self, word: str) -> Profanity:
        """A better-profanity matcher for one list word, built on first use."""
        matcher = self._profanity.get(word)
        if matcher is None:
            matcher = Profanity([word])
            self._profanity[word] = matcher
        return matcher

    def contains(self, word: str, text: str) -> bool:
        """better-profanity's verdict on text for one list word, remembered per lexicon."""
        key = (word, text)
        verdict = self._verdicts.get(key)
        if verdict is None:
            if len(self._verdicts) >= MEMO_LIMIT:
                self._verdicts.clear()
            verdict = self._verdicts[key] = self.profanity(word).contains_profanity(text)
        return verdict

    def profanity_words(self) -> list[str]:
        """Every entry better-profanity can load as is (no phrase wildcards)."""
        words: list[str] = []
        for category in (*WORD_CATEGORIES, LIST_PREFIX):
            words.extend(e for e in self.entries.get(category, ()) if "*" not in e
                         and "#" not in e.split())
        return sorted(set(words))


def _read_list(path: Path) -> tuple[str, ...]:
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = fold_entry(line) if not line.lstrip().startswith("#") else ""
        if entry:
            entries.append(entry)
    return tuple(entries)


def phrase_elements(entry: str) -> tuple[str, ...]:
    """Split an entry the way text is tokenised, keeping the '*' and '#' wildcards."""
    return tuple(_ELEMENT.findall(entry))


@lru_cache(maxsize=1)
def shipped_lists() -> Mapping[str, tuple[str, ...]]:
    """The shipped word files, read once: name -> entries (all languages merged)."""
    lists: dict[str, list[str]] = {}
    for path in sorted(WORDLIST_DIR.glob("*.txt")):
        name = path.name.split(".", 1)[0]
        lists.setdefault(name, []).extend(_read_list(path))
    return {name: tuple(dict.fromkeys(entries)) for name, entries in lists.items()}


def _domain(value: str) -> str:
    value = value.strip().lower()
    return value[4:] if value.startswith("www.") else value


def build_lexicon(overrides: LexiconOverrides | None = None, version: int = 0) -> Lexicon:
    """Compile the shipped lists plus overrides into a Lexicon."""
    overrides = overrides or LexiconOverrides()
    shipped = shipped_lists()
    removed = {fold_entry(w) for w in overrides.removed}
    allowed = {fold_entry(w) for w in overrides.allowed}
    added: dict[str, list[str]] = {}
    for word, category in overrides.added:
        if category not in CATEGORIES:
            raise ValueError(f"unknown list {category!r}; expected one of {CATEGORIES}")
        added.setdefault(category, []).append(fold_entry(word))
    added_words = {w for ws in added.values() for w in ws}

    entries: dict[str, tuple[str, ...]] = {}
    for category in CATEGORIES:
        merged = list(shipped.get(category, ())) + added.get(category, [])
        entries[category] = tuple(
            dict.fromkeys(e for e in merged if e and e not in removed and e not in allowed)
        )

    # Explicit runtime additions win over the shipped allow-list; runtime "allowed" wins over all.
    allow_all = [a for a in shipped.get(ALLOW_FILE, ()) if a not in added_words] + sorted(allowed)
    allow = frozenset(a for a in allow_all if not a.endswith("*"))
    allow_prefixes = tuple(sorted(a[:-1] for a in allow_all if a.endswith("*")))

    words: dict[str, str] = {}
    phrases: dict[str, list[Phrase]] = {}
    for category in WORD_CATEGORIES:
        for entry in entries[category]:
            parts = phrase_elements(entry)
            if not parts:
                continue
            if len(parts) == 1 and "*" not in entry and entry != "#":
                words.setdefault(parts[0], category)
                continue
            plain = [e for e in parts if e not in ("*", "#") and not e.endswith("*")]
            phrase = Phrase(entry, category, parts,
                            anchor=max(plain, key=len) if plain else None)
            first = parts[0]
            key = first[:-1][:3] if first.endswith("*") else first
            phrases.setdefault(key, []).append(phrase)

    squeezed: dict[str, str] = {}
    by_length: dict[int, list[str]] = {}
    for word in words:
        squeezed.setdefault(squeeze(word), word)
        by_length.setdefault(len(word), []).append(word)
    prefixes = frozenset(p for p in entries[LIST_PREFIX] if len(p) >= 3)
    fuzzy = _fuzzy_index(words, removed | allowed)
    domains = frozenset(_domain(d) for d in shipped.get(DOMAINS_FILE, ())) | frozenset(
        _domain(d) for d in overrides.allowed_domains
    )
    return Lexicon(
        version=version,
        words=words,
        squeezed=squeezed,
        by_length={n: tuple(ws) for n, ws in by_length.items()},
        prefixes=prefixes,
        prefix_heads=frozenset(p[:3] for p in prefixes),
        prefix_lengths=tuple(sorted({len(p) for p in prefixes}, reverse=True)),
        phrases_by_first={k: tuple(v) for k, v in phrases.items()},
        phrase_anchors=frozenset(
            p.anchor for ps in phrases.values() for p in ps if p.anchor is not None
        ),
        unanchored_phrases=any(p.anchor is None for ps in phrases.values() for p in ps),
        phrase_keys_by_anchor=_keys_by_anchor(phrases),
        unanchored_keys=frozenset(
            k for k, ps in phrases.items() for p in ps if p.anchor is None
        ),
        split_heads=frozenset(
            w[:n] for w, c in words.items() if c in SPLIT_CATEGORIES for n in range(1, len(w))
        ),
        allow=allow,
        allow_prefixes=allow_prefixes,
        domains=domains,
        entries=entries,
        fuzzy=fuzzy,
        glue=frozenset(shipped.get(GLUE_FILE, ())),
        glue_heads=frozenset(g[:2] for g in shipped.get(GLUE_FILE, ())),
        tails=frozenset(w[-3:] for w in words if len(w) >= GLUE_MIN_WORD),
        mild=frozenset(entries[LIST_MILD]),
        mild_typos={v: w for w in entries[LIST_MILD] if len(w) >= FUZZY_MIN_LENGTH
                    for v in typo_variants(w)},
        identity=frozenset(entries[LIST_IDENTITY]),
        vocabulary=build_vocabulary(entries),
    )


def _keys_by_anchor(phrases: Mapping[str, list[Phrase]]) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for key, entries in phrases.items():
        for phrase in entries:
            if phrase.anchor is not None:
                out.setdefault(phrase.anchor, set()).add(key)
    return {anchor: frozenset(keys) for anchor, keys in out.items()}


def typo_variants(word: str) -> set[str]:
    """The word with one letter dropped or two neighbouring letters swapped."""
    out = {word[:i] + word[i + 1:] for i in range(len(word))}
    out |= {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)}
    out.discard(word)
    return out


def _fuzzy_index(words: Mapping[str, str], excluded: set[str]) -> dict[str, str]:
    index: dict[str, str] = {}
    for word, category in words.items():
        if category in FUZZY_CATEGORIES and len(word) >= FUZZY_MIN_LENGTH:
            for variant in typo_variants(word):
                if variant not in words and variant not in excluded:
                    index.setdefault(variant, word)
    return index


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The shipped lists without overrides, compiled once."""
    return build_lexicon()


_active: Lexicon | None = None
_active_lock = threading.Lock()


def active_lexicon() -> Lexicon:
    """The process-wide lexicon screen() uses when none is passed."""
    global _active
    if _active is None:
        with _active_lock:
            if _active is None:
                _active = default_lexicon()
    return _active


def set_active_lexicon(lexicon: Lexicon) -> None:
    """Swap the process-wide lexicon (e.g. when the moderators' list version changes)."""
    global _active
    with _active_lock:
        _active = lexicon
