"""Content screening: screen(text) -> Screening, and screen_username(name).

How a word is matched:
1. The text is normalised (moderation.normalise) with a map back to the original.
2. Each token is looked up in the lexicon's exact-word index; evasive tokens also try their
   second leet readings (1 -> l, @ -> o), their squeezed form (kaaanker -> kanker) and '*'
   wildcards. The index only proposes candidates: better-profanity, loaded with just the
   candidate word, confirms each one. This keeps the 0.7.0 linear scan off the hot path and
   never inherits its letter-for-letter equivalences (lvl ~ lul, haal ~ haai, pls ~ pis),
   because candidates only come from our own symbol/digit leet map.
3. Tokens that start with a compound prefix (kanker-, tyfus-, tering- ...) and are not on the
   allow-list are curse compounds. Prefixes only: never suffixes or substrings. A vowel starred
   out of such a compound ("k*nkerlijer") is an evasion, unless one reading is allowed.
4. Phrases (threats, spam, chants) are matched on the token sequence, not by better-profanity
   (its phrase matching depends on word position in 0.7.0). A threat right after geen, niet,
   niemand or nooit does not count.
5. Spelling evasions: a token one typo away from a list word of 6+ letters (a letter dropped,
   two letters swapped: "kankre", "wrugen") or glued to a frequent word ("eenneger") holds.
   Ordinary words one typo away (schot, horen, anker) are on the allow-list; the OpenTaal
   collision test keeps it complete.
6. Mild profanity (verdomde, pissig, idioot) publishes in banter but holds next to a term for a
   protected group ("al die verdomde moslims"): code targeted_profanity.

Decision by severity: reject only on a plain hit of the slur or reject list; evasions (leet,
homoglyphs, joined letters, quotes, hashtags), compounds, curses, threats, spam, links and
personal data hold; everything else publishes.

Disease words (kanker, tyfus, tering, pest ...) are only curses in curse usage. They hold when:
- wished on someone: "krijg de tyfus", "kan de kanker krijgen" (article + a form of krijgen);
- used as "X op" (= get lost): "tyfus op met je VAR";
- aimed at someone: "jij kanker", "vuile tering";
- used as an adjective or prefix before a word that does not continue a literal sentence:
  "kanker scheids", "kanker slecht" (but not "kanker is", "kanker overwonnen", and not after
  "met", "aan", "tegen", "heeft" ...: "sterkte aan zijn moeder met kanker" passes);
- shouted: "Kanker!" or a sentence that opens with "Tering, ...".
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate, product

from moderation.flags import HOLD, PUBLISH, REJECT, Flag, FlagCode, Screening, decide
from moderation.lexicon import (
    GLUE_MIN_WORD,
    LIST_CURSE,
    LIST_DISEASE,
    LIST_HATE,
    LIST_HOLD,
    LIST_REJECT,
    LIST_SLUR,
    LIST_SPAM,
    LIST_THREAT,
    MEMO_LIMIT,
    SPLIT_CATEGORIES,
    Lexicon,
    active_lexicon,
)
from moderation.normalise import TOKEN, Normalised, normalise, squeeze
from moderation.phrases import phrase_layer
from moderation.signals import contact_flags, flood_flags, link_flags, shouting_flag

_PLAIN_CODES = {
    LIST_SLUR: FlagCode.SLUR,
    LIST_REJECT: FlagCode.SEVERE_INSULT,
    LIST_HOLD: FlagCode.INSULT,
    LIST_HATE: FlagCode.HATE_TERM,
    LIST_CURSE: FlagCode.CURSE,
    LIST_DISEASE: FlagCode.CURSE,
    LIST_THREAT: FlagCode.THREAT,
    LIST_SPAM: FlagCode.SPAM_PHRASE,
}
# Lists whose obfuscated forms count as evasion; threats and spam keep their own code.
_WORD_LISTS = frozenset({LIST_SLUR, LIST_REJECT, LIST_HOLD, LIST_HATE, LIST_CURSE, LIST_DISEASE})
_MAX_VARIANTS = 32
# Glued words are not looked for among disease words and spam: those are too often the tail
# of an ordinary word (wetering, intering).
_GLUE_LISTS = frozenset({LIST_SLUR, LIST_REJECT, LIST_HOLD, LIST_HATE, LIST_CURSE, LIST_THREAT})



def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that follow a disease noun used literally ("kanker is", "kanker overwonnen").
LITERAL_FOLLOWERS = _wordset("""
is was zijn waren wordt werd worden werden heeft had hebben hadden kan kon kunnen mag moet
blijft bleef komt kwam gaat ging zal zou en of maar want dus toen als dat waar wanneer omdat
te bij in aan van met voor na naar door om over tot uit onder tijdens sinds nog ook al niet
weer terug ooit nooit gehad gekregen krijgen kreeg overwonnen overleefd genezen behandeld
vastgesteld ontdekt uitgezaaid overleden gestorven bestrijden bestreden overwinnen verslaan
verslagen vorig vorige jaar jaren maanden weken hier daar zelf mee helaas zoals op ze hij
zij we wij ik er the
epidemie uitbraak patient patienten patiente onderzoek vaccin behandeling diagnose afdeling
fonds cel cellen tumor virus bestrijding preventie screening zorg risico
""")
# Words before a disease noun that make it literal ("met kanker", "heeft kanker").
LITERAL_PRECEDERS = _wordset("""
met aan tegen heeft had hebben hadden hebt heb door kreeg kregen krijgt overleden gestorven
overleed stierf genezen lijdt leed lijden strijd diagnose geen zijn haar mijn hun uw onze
""")
# Words before a disease noun that aim it at someone ("jij kanker", "vuile tering").
ADDRESS_WORDS = _wordset("jij gij ge je jullie vuile vuil vieze smerige")
KRIJGEN_FORMS = _wordset("krijg krijgt krijgen krijge kreeg kregen gekregen")
ARTICLES = frozenset({"de", "den"})
# After "X op" these make it the curse "get lost" rather than "op jonge leeftijd".
OP_CURSE_NEXT = _wordset(
    "met jij gij ge je jullie man nu gast maat zeg eh dan toch die dat deze da ze hem haar"
)
NEGATIONS = _wordset("geen niet niemand nooit")
TARGET_WINDOW = 8  # tokens either side of a mild word in which a group term counts
_BREAK = re.compile(r"[.,;:!?()\n]")
_SENTENCE_END = re.compile(r"[.!?\n]")
# TOKEN as a capturing split: gaps and tokens alternate, so positions are sums of lengths.
_TOKEN_SPLIT = re.compile(f"({TOKEN.pattern})")


class _Context:
    """Tokens of one normalised text with helpers for the contextual rules."""

    def __init__(self, norm: Normalised) -> None:
        self.norm = norm
        # One regex pass gives the tokens (the odd parts) and the gaps between them.
        self._parts: list[str] = _TOKEN_SPLIT.split(norm.text)
        self.words: list[str] = self._parts[1::2]
        self._spans: list[tuple[int, int, str]] | None = None
        self._evasive: set[int] | None = None

    def evasive_tokens(self) -> set[int]:
        """Indices of tokens that contain a character marked as evasive (computed once)."""
        if self._evasive is not None:
            return self._evasive
        positions = self.norm.evasive_positions()
        out: set[int] = set()
        if positions:
            starts = [s for s, _, _ in self.spans]
            for pos in positions:
                i = bisect_right(starts, pos) - 1
                if i >= 0 and pos < self.spans[i][1]:
                    out.add(i)
        self._evasive = out
        return out

    @property
    def spans(self) -> list[tuple[int, int, str]]:
        """(start, end, token) per token; only computed when a rule needs positions."""
        if self._spans is None:
            offsets = list(accumulate(map(len, self._parts), initial=0))
            self._spans = list(zip(offsets[1::2], offsets[2::2], self.words, strict=False))
        return self._spans

    def gap(self, i: int) -> str:
        """Normalised text between token i and token i + 1 (or the end)."""
        end = self.spans[i][1]
        nxt = self.spans[i + 1][0] if i + 1 < len(self.spans) else len(self.norm.text)
        return self.norm.text[end:nxt]

    def sentence_start(self, i: int) -> bool:
        return i == 0 or bool(_SENTENCE_END.search(self.gap(i - 1)))

    def prev(self, i: int) -> str | None:
        if i == 0 or _BREAK.search(self.gap(i - 1)):
            return None
        return self.words[i - 1]

    def next(self, i: int) -> str | None:
        if i + 1 >= len(self.words) or _BREAK.search(self.gap(i)):
            return None
        return self.words[i + 1]


def _curse_usage(ctx: _Context, i: int, word: str, lexicon: Lexicon) -> bool:
    """True when a bare disease word at token i is used as a curse."""
    prev, nxt = ctx.prev(i), ctx.next(i)
    window = ctx.words[max(0, i - 4):i] + ctx.words[i + 1:i + 4]
    if prev == "krijg" or (prev in ARTICLES and KRIJGEN_FORMS.intersection(window)):
        return True
    if prev in ADDRESS_WORDS:
        return True
    if prev in LITERAL_PRECEDERS:
        return False
    if nxt == "op":
        after = ctx.next(i + 1)
        return after is None or after in OP_CURSE_NEXT
    if nxt is not None and nxt.isalpha() and nxt not in LITERAL_FOLLOWERS:
        return not lexicon.is_allowed(word + nxt)  # "kanker onderzoek" is a split compound
    gap = ctx.gap(i).lstrip()
    return gap.startswith("!") or (ctx.sentence_start(i) and gap.startswith(","))


def _variants(token: str, norm: Normalised, start: int) -> list[str]:
    """Second readings of ambiguous leet characters (1 -> l, @ -> o)."""
    alternatives = [(j, norm.alternatives[start + j]) for j in range(len(token))
                    if start + j in norm.alternatives]
    if not alternatives:
        return []
    out = []
    for choice in product((False, True), repeat=len(alternatives)):
        if not any(choice):
            continue
        chars = list(token)
        for (j, alt), use in zip(alternatives, choice, strict=True):
            if use:
                chars[j] = alt
        out.append("".join(chars))
        if len(out) >= _MAX_VARIANTS:
            break
    return out


def _confirm(lexicon: Lexicon, word: str, candidate: str) -> bool:
    """better-profanity's verdict on one candidate, minus letter-for-letter equivalences."""
    if not lexicon.contains(word, candidate):
        return False
    # 0.7.0 lets a list 'i' match a text 'l' and 'u' match 'v' (lvl ~ lul); in Dutch those
    # are different words, so only symbols and digits may stand in for letters.
    return all(c == w or not c.isalpha() for c, w in zip(candidate, word, strict=False))


def lookup(token: str, norm: Normalised | None, start: int, lexicon: Lexicon
           ) -> tuple[str, bool] | None:
    """Find the list word a token stands for: (word, via an evasion variant) or None."""
    if token in lexicon.words:
        return (token, False) if _confirm(lexicon, token, token) else None
    evasive = norm is not None and norm.is_evasive(start, start + len(token))
    if "*" in token:
        for word in lexicon.by_length.get(len(token), ()):
            if _confirm(lexicon, word, token):
                return word, True
        return None
    if not evasive or norm is None:
        return None
    for variant in _variants(token, norm, start):
        if variant in lexicon.words and _confirm(lexicon, variant, variant):
            return variant, True
    squeezed = lexicon.squeezed.get(squeeze(token))
    if squeezed is not None and _confirm(lexicon, squeezed, squeezed):
        return squeezed, True
    return None


def _negated(ctx: _Context, i: int) -> bool:
    """True when one of the six words before token i, in its clause, negates it ("niemand zou
    ze moeten vermoorden", "geen vrouw verdient ...")."""
    for j in range(i - 1, max(-1, i - 7), -1):
        if ctx.words[j] in NEGATIONS:
            return True
        if _BREAK.search(ctx.gap(j)):
            return False
    return False


def _hit_flag(ctx: _Context, i: int, word: str, evasive: bool, lexicon: Lexicon,
              username: bool) -> Flag | None:
    """The flag for token i standing for list word (None when context clears it)."""
    category = lexicon.category(word)
    assert category is not None, word  # lookup() only returns words on a list
    code = _PLAIN_CODES[category]
    if evasive and category in _WORD_LISTS and category != LIST_DISEASE:
        code = FlagCode.EVASION
    elif category == LIST_DISEASE and not username:
        if evasive and ctx.norm.is_evasive(*ctx.spans[i][:2]):
            code = FlagCode.EVASION  # nobody obfuscates a literal mention of an illness
        elif not _curse_usage(ctx, i, word, lexicon):
            return None
    elif category == LIST_THREAT and _negated(ctx, i):
        return None
    start, end, _ = ctx.spans[i]
    return Flag(code, word, *ctx.norm.span(start, end))


def _glued(token: str, lexicon: Lexicon) -> str | None:
    """The list word hidden behind a glued frequent word ("eenneger" -> "neger")."""
    for cut in range(2, min(8, len(token) - GLUE_MIN_WORD) + 1):
        if token[:cut] in lexicon.glue and lexicon.words.get(token[cut:]) in _GLUE_LISTS:
            return token[cut:]
    return None


def _unstretched(token: str, norm: Normalised, start: int) -> str:
    """The token with the doubled letters left by a stretched run collapsed to one."""
    evasive = norm.evasive
    return "".join(c for j, c in enumerate(token) if not (
        j and c == token[j - 1] and evasive[start + j] and evasive[start + j - 1]))


def _starred_compound(token: str, lexicon: Lexicon) -> str | None:
    """The compound prefix behind a vowel starred out of a curse compound ("k*nkerlijer")."""
    if token.count("*") != 1:
        return None
    found = None
    for vowel in "aeiouy":
        plain = token.replace("*", vowel)
        if lexicon.is_allowed(plain):
            return None  # "k*nkeronderzoek" may well be the allowed word
        found = found or lexicon.compound_prefix(plain)
    return found


def _word_flags(ctx: _Context, lexicon: Lexicon, *, username: bool = False) -> list[Flag]:
    norm = ctx.norm
    flags: list[Flag] = []
    known, heads, fuzzy = lexicon.words, lexicon.prefix_heads, lexicon.fuzzy
    tails, glue_heads = lexicon.tails, lexicon.glue_heads
    evasive_tokens = ctx.evasive_tokens()
    quiet = lexicon.quiet_tokens
    if not evasive_tokens and quiet.issuperset(ctx.words):
        return flags  # every token already passed the gate below once
    for i, token in enumerate(ctx.words):
        # Cheap gate first: most tokens of a clean comment stop here (remembered per lexicon).
        evasive = i in evasive_tokens
        if not evasive and token in quiet:
            continue
        if not (evasive or token in known or token[:3] in heads or "*" in token
                or token in fuzzy
                or (len(token) >= 6 and token[-3:] in tails and token[:2] in glue_heads)):
            if len(quiet) < MEMO_LIMIT:
                quiet.add(token)
            continue
        if token.isdigit() or lexicon.is_allowed(token):
            continue
        start, end, _ = ctx.spans[i]
        hit = lookup(token, norm, start, lexicon)
        if hit is not None:
            flag = _hit_flag(ctx, i, hit[0], evasive or hit[1], lexicon, username)
            if flag is not None:
                flags.append(flag)
            continue
        prefix = lexicon.compound_prefix(token)
        starred = _starred_compound(token, lexicon) if prefix is None else None
        if starred is not None:
            flags.append(Flag(FlagCode.EVASION, f"{starred}-", *norm.span(start, end)))
            continue
        if prefix is None and evasive:
            # Letters stretched inside a compound ("kaaaankerlijer" -> "kaankerlijer").
            plain = _unstretched(token, norm, start)
            prefix = lexicon.compound_prefix(plain) if plain != token else None
            if prefix is not None and not lexicon.is_allowed(plain):
                flags.append(Flag(FlagCode.EVASION, f"{prefix}-", *norm.span(start, end)))
                continue
        if prefix is not None and lexicon.contains(prefix, token[:len(prefix)]):
            code = FlagCode.EVASION if evasive else FlagCode.COMPOUND_CURSE
            flags.append(Flag(code, f"{prefix}-", *norm.span(start, end)))
            continue
        # One typo away from a list word: a letter dropped or two letters swapped.
        word = fuzzy.get(token) or _glued(token, lexicon)
        if word is not None and _confirm(lexicon, word, word):
            flag = _hit_flag(ctx, i, word, True, lexicon, username)
            if flag is not None:
                flags.append(flag)
    return flags


_SPLIT_LISTS = SPLIT_CATEGORIES
_SPLIT_GAP = re.compile(r"[ .\-_]{1,3}")


def _split_flags(ctx: _Context, lexicon: Lexicon) -> list[Flag]:
    """A list word split in two by a space or a dot ("klootz ak", "mon gool")."""
    words, known = ctx.words, lexicon.words
    flags: list[Flag] = []
    heads = lexicon.split_heads
    if heads.isdisjoint(words):
        return flags
    for i in range(len(words) - 1):
        a, b = words[i], words[i + 1]
        if a not in heads or len(a) + len(b) < 6 or a in known or b in known:
            continue
        word = a + b
        if (
            known.get(word) in _SPLIT_LISTS
            and not lexicon.is_allowed(word)
            and _SPLIT_GAP.fullmatch(ctx.gap(i))
        ):
            start, end = ctx.spans[i][0], ctx.spans[i + 1][1]
            flags.append(Flag(FlagCode.EVASION, word, *ctx.norm.span(start, end)))
    return flags


def _mild_word(token: str, lexicon: Lexicon) -> str | None:
    """The mild word a token stands for: as is, one typo away, or glued to a frequent word."""
    if token in lexicon.mild:
        return token
    if token in lexicon.mild_typos:
        return lexicon.mild_typos[token]
    for cut in range(4, len(token) - 1):
        head, tail = token[:cut], token[cut:]
        if head in lexicon.mild and tail in lexicon.glue:
            return head
        if tail in lexicon.mild and head in lexicon.glue:
            return tail
    return None


def _targeted_flags(ctx: _Context, lexicon: Lexicon) -> list[Flag]:
    """Mild profanity in the same stretch of text as a term for a protected group."""
    words = ctx.words
    if lexicon.identity.isdisjoint(words):
        return []
    flags = []
    for i, token in enumerate(words):
        if len(token) < 3 or token in lexicon.identity:
            continue
        word = _mild_word(token, lexicon)
        if word is not None and NEGATIONS.isdisjoint(words[max(0, i - 2):i]) and not (
            lexicon.identity.isdisjoint(
            words[max(0, i - TARGET_WINDOW):i + TARGET_WINDOW + 1]
        )):
            start, end, _ = ctx.spans[i]
            flags.append(Flag(FlagCode.TARGETED_PROFANITY, word, *ctx.norm.span(start, end)))
    return flags


def _phrase_flags(ctx: _Context, lexicon: Lexicon) -> list[Flag]:
    flags: list[Flag] = []
    index = lexicon.phrases_by_first
    words = ctx.words
    # Only phrases whose every plain word occurs can match: most texts try none.
    anchors = lexicon.phrase_anchors.intersection(words)
    if not anchors and not lexicon.unanchored_phrases:
        return flags
    keys = lexicon.phrase_keys_by_anchor
    live = {key for anchor in anchors for key in keys[anchor]} | lexicon.unanchored_keys
    for i, token in enumerate(words):
        if token not in live and token[:3] not in live:
            continue
        candidates = index.get(token, ())
        if len(token) > 3:
            candidates = candidates + index.get(token[:3], ())
        for phrase in candidates:
            if phrase.anchor is not None and phrase.anchor not in anchors:
                continue
            n = phrase.match_at(words, i)
            if not n or (phrase.category == LIST_THREAT and (
                _negated(ctx, i) or not NEGATIONS.isdisjoint(words[i:i + n])
            )):
                continue  # "niemand zou ...", "ik steek geen moslims neer"
            start, end = ctx.spans[i][0], ctx.spans[i + n - 1][1]
            code = _PLAIN_CODES[phrase.category]
            if ctx.norm.is_evasive(start, end) and code.severity > FlagCode.INSULT.severity:
                code = FlagCode.EVASION  # a quoted or obfuscated slur phrase holds
            flags.append(Flag(code, phrase.entry, *ctx.norm.span(start, end)))
            break
    return flags


def screen(text: str, lexicon: Lexicon | None = None) -> Screening:
    """Screen a comment's text against the (active) lexicon; no database, no Flask."""
    lexicon = lexicon or active_lexicon()
    ctx = _Context(normalise(text))
    flags = _word_flags(ctx, lexicon) + _phrase_flags(ctx, lexicon) + _split_flags(ctx, lexicon)
    flags += _targeted_flags(ctx, lexicon)
    flags = phrase_layer(ctx, lexicon, flags)
    contacts = contact_flags(text)
    flags += contacts
    flags += link_flags(text, lexicon.domains, skip=contacts)
    shout = shouting_flag(text)
    if shout is not None:
        flags.append(shout)
    flags += flood_flags(text)
    flags.sort(key=lambda f: (f.start, f.end, f.code.code))
    return Screening(decide(tuple(flags)), tuple(flags), lexicon.version)


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _username_substring_flags(norm: Normalised, lexicon: Lexicon) -> list[Flag]:
    """Slurs and the worst insults hidden inside a joined name (xXnegerXx, fcneger)."""
    flags = []
    for start, _end, token in norm.tokens():
        if lexicon.is_allowed(token):
            continue
        for word, category in lexicon.words.items():
            if category in (LIST_SLUR, LIST_REJECT) and len(word) >= 5 and word in token:
                at = start + token.index(word)
                flags.append(Flag(FlagCode.EVASION, word, *norm.span(at, at + len(word))))
                break
    return flags


def screen_username(name: str, lexicon: Lexicon | None = None) -> Screening:
    """Screen a username at registration: any abusive word, link or contact data refuses it.

    Usernames have no review queue, so every hold-level signal refuses the name ("reject").
    Joined words are checked through the compound prefixes (kankerfan99) and, for slurs and
    the worst insults, as substrings of the name.
    """
    lexicon = lexicon or active_lexicon()
    cuts = [m.start() for m in _CAMEL.finditer(name)]
    spaced = _CAMEL.sub(" ", name)
    space_at = [c + n for n, c in enumerate(cuts)]  # where the inserted spaces sit in spaced

    def back(flag: Flag) -> Flag:
        shift = lambda p: p - sum(1 for s in space_at if s < p)  # noqa: E731
        return Flag(flag.code, flag.detail, shift(flag.start), shift(flag.end))

    ctx = _Context(normalise(spaced))
    joined = normalise(name)
    flags = [back(f) for f in _word_flags(ctx, lexicon, username=True)
             + _phrase_flags(ctx, lexicon)]
    flags += _word_flags(_Context(joined), lexicon, username=True)
    flags += _username_substring_flags(joined, lexicon)
    flags += contact_flags(name) + link_flags(name, frozenset())
    unique = tuple(sorted(set(flags), key=lambda f: (f.start, f.end, f.code.code)))
    decision = decide(unique)
    return Screening(REJECT if decision in (HOLD, REJECT) else PUBLISH, unique, lexicon.version)
