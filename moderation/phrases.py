"""The phrase layer: abuse made of ordinary words, read on the tokens screen() already has.

Word lists see words; this layer sees who is targeted and what is said of them, per sentence:
- threat_phrase: a violent verb or phrase (violence.*.txt; the football idiom of figurative.*.txt
  only against one person or a group) with intent (ik/we, a modal such as moet/ga/zal/wil/
  verdient, a wish, an imperative) or against a protected group; a body part or weapon
  (harm.*.txt) with intent and a breaking verb or a target;
- group_hatred: a protected group (identity.*.txt) or people in general (volk, lui, dat soort)
  with a hostile predicate (hostile.*.txt: terug naar, horen hier niet thuis, allemaal
  hetzelfde, typisch, negative traits, hatred) next to it or joined by a verb;
- dehumanisation: vermin, animals, dirt or disease (dehumanising.*.txt) said of a group or a
  person (zijn, als, an apposition), or the nouns that are hardly ever literal after dat/die;
- insulting_phrase: an insulting adjective before an insulting noun or a person ("vuile hond",
  "vuile scheids"), a person addressed with an insulting noun ("jij rat", "ge zijt een varken",
  "die zak van een voorzitter"), and fixed insults ("stuk vreten").
What defuses: a negation just before the predicate ("zijn geen criminelen", "niemand verdient
het om vermoord te worden"), a report (zei, volgens, werd bedreigd, op het spandoek stond),
condemnation in the same sentence (racisme, spreekkoren, onaanvaardbaar: the predicate is then
said of the hateful thing, not of a group), and a quote inside a text that reports or condemns.
Past-tense narration without intent ("die verdediger slachtte hem af") is no threat, nor is
football idiom whose object is the ball, the match or the speaker's side ("die bal afmaken",
"die spits gaat ons pijn doen"); "niet levend buiten" and "dit overleef je niet" are threats.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from typing import Protocol

from moderation.flags import Flag, FlagCode
from moderation.lexicon import (
    LIST_DEHUMANISING,
    LIST_FIGURATIVE,
    LIST_HARM,
    LIST_HOSTILE,
    LIST_IDENTITY,
    LIST_INSULT_ADJECTIVE,
    LIST_INSULT_NOUN,
    LIST_PERSON,
    LIST_VIOLENCE,
    Lexicon,
    Vocabulary,
)
from moderation.normalise import Normalised, squeeze


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NEGATORS = _words("geen niet niemand nooit nergens niets niks allesbehalve geenszins nimmer")
# "niets dan ongedierte", "kan niet wachten om", "wil niets liever": a negator that does not negate.
NOT_NEGATING_NEXT = _words("dan meer wachten liever anders langer alleen enkel")
# A report or a quote of what someone else said or did.
REPORTING = _words("""
zei zegt zeiden zeggen roept roepen meldt meldde melden vertelde vertelt vertelden verklaarde
verklaart beweerde beweert riep riepen scandeerde scandeerden zongen zong schreef schreven
noemde noemden noemen noemt uitgemaakt uitgescholden bedreigd bedreiging bedreigingen
doodsbedreiging doodsbedreigingen dreigde dreigden volgens spandoek spandoeken klacht aangifte
parket politie onderzoek onderzoekt persbericht krant verslag citaat opgepakt gearresteerd tweet
tweette
""")
# Participles of speech: a report ("hij had geroepen dat ..."), unless a modal makes the
# sentence the speaker's own ("dat mag gezegd worden").
REPORTED_SPEECH = _words("geroepen gezegd geschreven gescandeerd gezongen gedreigd gemeld verteld")
MODALS = _words("mag mogen moet moeten")
# Words that open a subordinate clause: a negation after them negates that clause only.
SUBORDINATORS = _words("dat die als omdat wanneer zodat want maar terwijl tot wat wie waar welke")
# Past forms that report what happened, unless a modal makes them a wish ("als ze allemaal
# vermoord werden", "zouden ... kregen").
REPORTING_PAST = _words("werd werden kreeg kregen")
CONDITIONAL = _words("zou zouden als moet moeten mogen")
# Words that condemn: the hostile predicate is then said of the hateful thing, not of a group.
CONDEMNING = _words("""
racisme racistisch racistische racist racisten seksisme seksistisch seksistische homofoob
homofobe homofoben homofobie antisemitisch antisemitische antisemitisme discriminatie
discriminerend discriminerende xenofobie xenofoob xenofobe onaanvaardbaar onaanvaardbare
schandalig verwerpelijk verwerpelijke misdadig ontmenselijkend ontmenselijking stadionverbod
schaam schamen haatzaaien spreekkoren spreekkoor gezangen liederen kreten apengeluiden hatelijk
hatelijke verkeerd fout onzin
""")
INTENT = _words("""
beloof zweer geloof straks volgende binnenkort vanavond oppassen ik k kga kzal we wij moet
moeten mag mogen zou zouden zal zult zullen zalt ga gaan gaat gade wil wilt willen verdient
verdienen verdien hoop hopen hoopt wens wensen iemand moest laten laat beloofd reken morgen
weldra wacht mocht hopelijk
""")
# "als hij ..., is hij er geweest": a condition on someone's doing makes the rest a threat.
CONDITION_SUBJECTS = _words("hij ze zij je jij ge gij u die dat")
# Verbs that open an imperative sentence ("trap die scheids zijn benen kapot").
IMPERATIVES = _words("trap sla steek hang schiet maak breek gooi kom wacht knal pak snij")
SINGULAR_PRONOUNS = _words("hem haar hij jou je jij u gij ge")
OBJECT_PRONOUNS = _words("hem haar jou je u")
FIRST_PERSON = _words("ik k kga kzal we wij")
# Person nouns that end in -s and are singular all the same.
SINGULAR_S = _words("scheids spits")
PLURAL_PRONOUNS = _words("ze zij hen hun jullie")
PRONOUNS = SINGULAR_PRONOUNS | PLURAL_PRONOUNS
GROUP_PRONOUNS = _words("ze zij hen hun")
ADDRESS = _words("jij gij ge jullie")
ARTICLES = _words("een ne nen n")
PEOPLE = _words("volk volkje lui mensen soort types zulken bende")
DEMONSTRATIVES = _words("dat die dit deze zulk zulke zon n soort")
COLLECTIVES = _words("kudde bende troep nest stelletje stel hoop zootje zooi vol")
COPULAS = _words("""
is zijn zijt bent ben was waren blijft blijven blijf worden wordt als lijken lijkt noem moeten
moet horen hoort kunnen kan mogen
""")
BREAKING = _words(
    """
breken breek breekt brak gebroken kapot eraf af inslaan insla uitslaan eruit uit trappen
trap stampen steken steek snijden snij tussen
"""
)
BODY = _words("""
knie knieen been benen enkels tanden ribben rib kop smoel bakkes muil nek schedel kaak strot keel
ogen oog vinger vingers armen arm rug gezicht buik hart
""")
# Dehumanising nouns that are often literal (a rat in the canteen): only with a named target.
LITERAL_NOUNS = _words("""
ratten apen varkens zwijnen beesten dieren vee afval vuilnis plaag virus ziekte pest kanker
luizen vlooien maden wormen insecten bacillen onkruid konijnen
""")
# Animals that "die"/"dat" before them almost always aims at people ("die beesten in het vak").
PEOPLE_ANIMALS = _words("beesten apen zwijnen")
# Adjectives too mild to make an insult of a plain person noun ("stomme scheids" is banter).
MILD_ADJECTIVES = _words("stomme domme onnozele lelijke laffe zielige vette valse")
# Words that make any insulting noun after them an insult ("een volslagen sukkel").
INTENSIFIERS = _words("""
ongelooflijke ongelofelijke volslagen complete totale hopeloze enorme gigantische absolute
ontzettende verschrikkelijke vreselijke
""")
# Adverbs that may stand between a copula and its article ("je bent gewoon een ...").
COPULA_ADVERBS = _words(
    "gewoon echt maar wel toch ook altijd nog steeds eigenlijk gewoonweg zo nu eenmaal"
)
# "een ... zoals jij": the noun is said of the person pointed at.
LIKE_POINTERS = _words("jij gij ge jou u hij hem zij haar")
# Words after which a noun phrase has ended ("een volslagen sukkel is die trainer").
NOUN_ENDS = _words("is en die dat van als of")
# Insulting nouns that only insult with an adjective ("stomme ezel"), not on their own.
MILD_NOUNS = _words("""
ezel koe sukkel clown nul ventje manneke mannetje lafaard verrader aap prutser prutsers
""")
# Hostile entries that aim at origin by themselves ("terug naar hun land"), or that a pronoun
# can carry ("die horen hier niet thuis").
_OWN_COUNTRY = re.compile(r"\bland\b")
# Racist tropes of sending people away that need no named group ("terug naar de jungle").
_SENT_AWAY = re.compile(r"jungle|oerwoud|\bboom\b|woestijn|marokko|turkije|afrika")
THEIR = _words("hun jullie je uw eigen")
POSSESSIVES = _words("zijn haar je jouw uw hun")
# Owners of what violence may aim at ("zijn auto"); not "zijn", which is also a verb.
OWNERS = _words("haar jouw uw hun jullie")
# Belongings and family that make "zijn" an owner after all ("we steken zijn huis in de fik").
BELONGINGS = _words("""
huis auto wagen ruit ruiten deur voordeur kinderen kind vrouw moeder vader dochter zoon familie
gezin hond leven
""")
# What football idiom finishes or kills off: "de bal afmaken", "de wedstrijd doodmaken".
GAME_OBJECTS = _words("""
bal ballen wedstrijd match matchen partij klus werk job kans kansen aanval aanvallen duel
competitie titel beker seizoen zaak zaakje
""")
_PRONOUN_OK = re.compile(r"\bhier\b|\bland\b|^terug\b|^stuur\b")
_SENTENCE_BREAK = re.compile(r"[.!?;\n]")
_CLAUSE_BREAK = re.compile(r"[,:()]")
_OPEN_QUOTE = re.compile(r"(?:^|[\s(:])[\"'“‘«„]\w")


class Mark:
    """A vocabulary entry found at tokens[i:i + n] (end = i + n)."""

    __slots__ = ("i", "n", "category", "entry", "end")

    def __init__(self, i: int, n: int, category: str, entry: str) -> None:
        self.i, self.n, self.category, self.entry, self.end = i, n, category, entry, i + n

    def __repr__(self) -> str:
        return f"Mark({self.i}, {self.n}, {self.category!r}, {self.entry!r})"


def _defusal(tokens: list[str], present: set[str]) -> tuple[bool, bool]:
    """(reports, condemns) for the tokens of one sentence."""
    reporting = REPORTING.intersection(present)
    if reporting == {"volgens"}:
        at = tokens.index("volgens")
        if at + 1 < len(tokens) and tokens[at + 1] in ("mij", "me", "ons"):
            reporting = frozenset()  # "volgens mij" is an opinion, not a report
    reports = (
        bool(reporting)
        or (not REPORTING_PAST.isdisjoint(present) and CONDITIONAL.isdisjoint(present))
        or (not REPORTED_SPEECH.isdisjoint(present) and MODALS.isdisjoint(present))
    )
    return reports, not CONDEMNING.isdisjoint(present)


class _Sentence:
    """Marks and context of one sentence (tokens a..b-1)."""

    def __init__(
        self, words: list[str], a: int, b: int, marks: list[Mark], clause_starts: list[int]
    ) -> None:
        self.words, self.a, self.b = words, a, b
        self.clause_starts = clause_starts
        self.group_before: int | None = None  # a group was named at this token, before
        self.groups: list[Mark] | None = None
        self.persons: list[Mark] | None = None
        self.capitalised: Callable[[int], bool] | None = None  # token j starts with a capital
        self.tokens = words[a:b]
        self.marks = marks
        self.by_category: dict[str, list[Mark]] = {}
        for mark in marks:
            self.by_category.setdefault(mark.category, []).append(mark)
        present = set(self.tokens)
        self.reports, self.condemns = _defusal(self.tokens, present)
        self.intent = not INTENT.isdisjoint(present) or ("als" in present and any(
            words[j] == "als" and words[j + 1] in CONDITION_SUBJECTS for j in range(a, b - 1)
        ))
        first = self.tokens[0] if self.tokens else ""
        self.imperative = first in IMPERATIVES or any(
            m.i == a and m.category in (LIST_VIOLENCE, LIST_FIGURATIVE) for m in marks
        )
        # The words a phrase consists of ("horen hier niet thuis"), not the words in its gaps.
        self.phrase_tokens: set[int] = set()
        for m in marks:
            if m.n > 1:
                own = m.entry.split()
                self.phrase_tokens.update(j for j in range(m.i, m.end) if words[j] in own)

    def get(self, category: str) -> list[Mark]:
        return self.by_category.get(category, [])

    def negated(self, mark: Mark, before: int | None = 4, after: int = 0) -> bool:
        """A negator shortly before (or after) the mark that is not part of a phrase.

        Not across a clause ("dat zijn geen supporters, dat zijn dieren"), except with
        before=None: anywhere earlier in the sentence ("niemand, echt niemand, verdient ...").
        """
        if before is None:
            lo = self.a
        else:
            lo = max(
                mark.i - before, max((c for c in self.clause_starts if c <= mark.i), default=self.a)
            )
        hi = min(
            self.b,
            mark.end + after,
            min((c for c in self.clause_starts if c > mark.i), default=self.b),
        )
        for j in range(lo, hi):
            if j >= mark.end and self.words[j] in SUBORDINATORS:
                break  # "... een lesje leren dat hij niet vergeet": another clause
            if j in self.phrase_tokens:
                continue  # a phrase's own "niet" ("horen hier niet thuis"); not its gaps
            if self.words[j] in NEGATORS and (
                j + 1 >= len(self.words) or self.words[j + 1] not in NOT_NEGATING_NEXT
            ):
                return True
        return False

    def tokens_between(self, i: int, j: int) -> list[str]:
        lo, hi = (i, j) if i < j else (j, i)
        return self.words[lo + 1 : hi]


def _group_targets(s: _Sentence) -> list[Mark]:
    """Protected groups and people in general named in the sentence; and 'ze', 'zij', 'hen',
    'hun' once a group was named earlier in the text ("Ik ken moslims. Ze zijn ...")."""
    if s.groups is not None:
        return s.groups
    out = list(s.get(LIST_IDENTITY))
    out += [Mark(j, 1, "people", s.words[j]) for j in range(s.a, s.b) if s.words[j] in PEOPLE]
    first = min((m.i for m in out), default=s.b) if s.group_before is None else s.group_before
    out += [
        Mark(j, 1, "people", s.words[j])
        for j in range(max(s.a, first + 1), s.b)
        if s.words[j] in GROUP_PRONOUNS
    ]
    s.groups = out
    return out


def _person_targets(s: _Sentence) -> list[Mark]:
    """Persons: role nouns and pronouns."""
    if s.persons is not None:
        return s.persons
    out = list(s.get(LIST_PERSON))
    # "dat ventje", "die sukkel": an insulting noun that points at one person.
    out += [
        m
        for m in s.get(LIST_INSULT_NOUN)
        if m.n == 1 and m.i > s.a and s.words[m.i - 1] in ("die", "dat", "deze", "dien")
    ]
    out += [
        Mark(j, 1, "pronoun", s.words[j])
        for j in range(s.a, s.b)
        if s.words[j] in PRONOUNS
    ]
    s.persons = out
    return out


def _one_person(s: _Sentence, mark: Mark) -> bool:
    """One person as the object: hem/haar/je/jou/u, "die scheids", or "de scheids" when the
    speaker is the one acting ("we gaan de scheids afmaken"; not "de spits moet het afmaken")."""
    if mark.category == "pronoun":
        return mark.entry in OBJECT_PRONOUNS
    if (mark.entry.endswith("s") and mark.entry not in SINGULAR_S) or mark.i == s.a:
        return False
    before = s.words[mark.i - 1]
    if before in ("die", "dat", "deze", "dien"):
        return True
    return before in ("de", "den", "onze", "hun", "jullie", "uw") and not FIRST_PERSON.isdisjoint(
        s.tokens
    )


def _apart(a: Mark, b: Mark) -> bool:
    """Two marks that do not start at the same token (a target may sit in a phrase's gap)."""
    return a.i != b.i


def _name(s: _Sentence, mark: Mark) -> Mark | None:
    """A capitalised word inside the sentence (a name) in or right next to the violence."""
    if s.capitalised is None or not s.intent:
        return None  # a name with a violent word alone is a headline ("Dode Zeerollen")
    for j in range(max(s.a + 1, mark.i - 2), min(s.b, mark.end + 2)):
        if (j < mark.i or j >= mark.end or j not in s.phrase_tokens) and s.capitalised(j):
            return Mark(j, 1, "name", s.words[j])
    return None


def _possession(s: _Sentence, mark: Mark) -> Mark | None:
    """Someone's belongings as the object of violence: "zijn auto", "haar huis"."""
    for j in range(max(s.a, mark.i - 3), min(s.b - 1, mark.end + 3)):
        word = s.words[j]
        if mark.i < j < mark.end and j not in s.phrase_tokens and word in POSSESSIVES:
            return Mark(j, 2, "possession", f"{word} {s.words[j + 1]}")  # in the phrase's gap
        if (word in OWNERS or (word == "zijn" and s.words[j + 1] in BELONGINGS)) and not (
            mark.i <= j < mark.end
        ):
            return Mark(j, 2, "possession", f"{word} {s.words[j + 1]}")
    return None


def _not_alive(s: _Sentence, mark: Mark) -> bool:
    """ "komt hier niet levend buiten", "dit overleef je niet": the negation is the threat."""
    if mark.entry.startswith("levend "):
        return mark.i > s.a and s.words[mark.i - 1] in NEGATORS
    if mark.entry.startswith("overle"):
        return any(s.words[j] in NEGATORS for j in range(mark.end, min(s.b, mark.end + 2)))
    return False


def _game_object(s: _Sentence, mark: Mark) -> bool:
    """Football idiom: the ball or the match as the object of the verb, inside it or right
    before it with no person after it ("die aanvaller moet die bal afmaken", "de wedstrijd
    doodmaken"; not "na de match pakken we die scheids")."""
    inside = any(s.words[j] in GAME_OBJECTS for j in range(mark.i + 1, mark.end))
    if inside:
        return True
    before = [
        j
        for j in range(max(s.a + 1, mark.i - 3), mark.i)
        if s.words[j] in GAME_OBJECTS
        and s.words[j - 1] in _GAME_ARTICLES
        and (j - 2 < s.a or s.words[j - 2] not in _TIME_PREPOSITIONS)  # not "na de match"
    ]
    return bool(before) and not any(p.i > before[-1] for p in _person_targets(s))


_GAME_ARTICLES = _words("de die het dat deze die zijn hun onze een")
_TIME_PREPOSITIONS = _words("na voor tijdens in op sinds tot bij van tegen met")


def _threat(s: _Sentence) -> tuple[Mark, ...] | None:
    groups, persons = _group_targets(s), _person_targets(s)
    harm = s.get(LIST_HARM)
    for mark in s.get(LIST_VIOLENCE) + s.get(LIST_FIGURATIVE):
        alive = _not_alive(s, mark)
        if not alive and s.negated(mark, before=None, after=6):
            continue
        if mark.category == LIST_FIGURATIVE and (
            _game_object(s, mark)
            or (
                "lesje" in mark.entry
                and mark.end + 1 < s.b
                and s.words[mark.end] == "in"
                and s.words[mark.end + 1] not in _GAME_ARTICLES
            )
            or (mark.i > s.a and s.words[mark.i - 1] in ("ons", "mij", "me"))
        ):
            continue  # "de bal afmaken", "een lesje leren in balcontrole" (not "in het station"),
            # "die spits gaat ons pijn doen": the speaker's side is the object
        intent = s.intent or s.imperative or alive
        group = next((g for g in groups if _apart(g, mark)), None)
        if mark.category == LIST_VIOLENCE:
            if group is not None and (intent or group.category == LIST_IDENTITY):
                return group, mark
            target = next((p for p in persons + harm if _apart(p, mark)), None)
            if target is None:
                target = _possession(s, mark)  # "ik steek zijn auto in brand"
            if target is None:
                target = _name(s, mark)  # "ik schiet De Bruyne dood"
            if intent and target is not None:
                return mark, target
        else:
            if group is not None and intent:
                return group, mark
            one = next((p for p in persons if _one_person(s, p) and _apart(p, mark)), None)
            if intent and one is not None:
                return mark, one
            body = next((h for h in harm if _apart(h, mark)), None)
            if intent and body is not None:
                return mark, body
    weapon = next((h for h in harm if h.entry not in BODY), None)
    if weapon is not None:
        for mark in harm:
            if (
                mark.entry in BODY
                and mark.i > s.a
                and s.words[mark.i - 1] in POSSESSIVES
                and not s.negated(mark, before=None)
            ):
                return weapon, mark  # "een mes in zijn buik"
    if not (s.intent or s.imperative):
        return None
    for mark in harm:
        if s.negated(mark, before=None):
            continue
        if mark.entry in BODY:
            verb = next((j for j in range(s.a, s.b) if s.words[j] in BREAKING), None)
            if verb is not None:
                return mark, Mark(verb, 1, "verb", s.words[verb])
        else:
            target = next(
                (t for t in _group_targets(s) + _person_targets(s) if _apart(t, mark)), None
            ) or _name(s, mark)
            if target is not None:
                return target, mark
    return None


def _joined(s: _Sentence, target: Mark, pred: Mark, near: int = 3, far: int = 9) -> bool:
    """Target and predicate in one clause: next to each other, or the target first and then a
    verb ("die Turken zijn echt allemaal criminelen", "komen hier alleen om te profiteren")."""
    lo, hi = min(target.i, pred.i), max(target.i, pred.i)
    if any(lo < c <= hi for c in s.clause_starts):
        return False
    gap = pred.i - target.end if target.i < pred.i else target.i - pred.end
    if gap < near:
        return True
    return (
        target.i < pred.i
        and gap < far
        and (
            pred.entry.endswith("en")
            or not COPULAS.isdisjoint(s.tokens_between(target.end - 1, pred.i))
        )
    )


def _afterthought(s: _Sentence, target: Mark, pred: Mark) -> bool:
    """A short clause of its own after the group ("Vrouwen op een voetbalveld, lachwekkend.")."""
    if target.i >= pred.i:
        return False
    start = max((c for c in s.clause_starts if c <= pred.i), default=s.a)
    end = min((c for c in s.clause_starts if c > pred.i), default=s.b)
    return target.i < start and end - start <= 3


def _hatred_as_noun(s: _Sentence, pred: Mark) -> bool:
    """ "haat tegen homo's", "de haat": the noun, which names hatred rather than voicing it."""
    nxt = s.words[pred.end] if pred.end < s.b else ""
    return nxt in ("tegen", "jegens")


def _group_hatred(s: _Sentence) -> tuple[Mark, ...] | None:
    groups = _group_targets(s)
    identity_at = {m.i: m for m in s.get(LIST_IDENTITY)}
    for adj in s.get(LIST_INSULT_ADJECTIVE):
        if adj.end in identity_at and not s.negated(adj, before=2):
            return adj, identity_at[adj.end]  # "vuile moslim", "smerige Turken"
    for pred in s.get(LIST_HOSTILE):
        if pred.entry == "haat" and _hatred_as_noun(s, pred):
            continue
        if s.negated(pred, before=6, after=3):
            continue
        for target in groups:
            if _apart(target, pred) and (
                pred.n > 1 or _joined(s, target, pred) or _afterthought(s, target, pred)
            ):
                return target, pred
        if s.group_before is not None and s.b - s.a <= 3 and pred.n == 1:
            return Mark(s.group_before, 1, "group", s.words[s.group_before]), pred
        if _SENT_AWAY.search(pred.entry) or (
            _OWN_COUNTRY.search(pred.entry) and not THEIR.isdisjoint(s.words[pred.i : pred.end])
        ):
            return (pred,)  # "terug naar hun eigen land", not "terug naar zijn land" (a visit)
        if _PRONOUN_OK.search(pred.entry):
            j = pred.i - 1
            if j >= s.a and s.words[j] in ("die", "ze", "zij"):
                return Mark(j, 1, "pronoun", s.words[j]), pred
    return None


def _dehumanisation(s: _Sentence) -> tuple[Mark, ...] | None:
    targets = _group_targets(s) + _person_targets(s)
    for noun in s.get(LIST_DEHUMANISING):
        if s.negated(noun, before=6, after=5):
            continue
        prev = s.words[noun.i - 1] if noun.i > s.a else ""
        if prev == "een" and noun.i - 2 >= s.a and s.words[noun.i - 2] in ("wat", "zo"):
            prev = "zon"  # "wat een gespuis", "zo een tuig"
        elif (
            prev not in DEMONSTRATIVES
            and noun.i - 2 >= s.a
            and s.words[noun.i - 2] in ("dat", "die", "al")
        ):
            prev = s.words[noun.i - 2]  # "dat buitenlands gespuis"
        # "Uitschot is het", "parasieten, allemaal": opening a clause, with more to follow.
        opens = (noun.i == s.a or noun.i in s.clause_starts) and noun.end < s.b
        if (
            (opens and noun.entry not in LITERAL_NOUNS)
            or prev in COLLECTIVES
            or (
                prev in DEMONSTRATIVES
                and (noun.entry not in LITERAL_NOUNS or noun.entry in PEOPLE_ANIMALS)
            )
        ):
            return (Mark(noun.i - 1, noun.n + 1, noun.category, f"{prev} {noun.entry}"),)
        for target in targets:
            if not _apart(target, noun):
                continue
            if noun.n > 1:
                return target, noun  # "als beesten", "geen mensen": said of whoever is named
            if (
                target.i < noun.i
                and noun.i - target.end < 8
                and not COPULAS.isdisjoint(s.tokens_between(target.end - 1, noun.i))
            ):
                return target, noun
            if target.end == noun.i and target.entry in ADDRESS:
                return target, noun
            if noun.end <= target.i < noun.end + 6 and s.words[target.i - 1] in (
                "die",
                "dat",
                "deze",
                "al",
            ):
                return noun, target
    return None


def _after_copula(s: _Sentence, article: int) -> bool:
    """The article at this token follows a copula ("je bent een", "ben je gewoon een"), with
    adverbs and an inverted subject pronoun between; or it opens a clause."""
    if article in s.clause_starts:
        return True
    j = article - 1
    while j >= s.a and s.words[j] in COPULA_ADVERBS:
        j -= 1
    if j > s.a and s.words[j] in SINGULAR_PRONOUNS and s.words[j - 1] in COPULAS:
        return True  # "ben je (gewoon) een ..."
    return j >= s.a and s.words[j] in COPULAS


def _insulting_phrase(s: _Sentence) -> tuple[Mark, ...] | None:
    nouns = s.get(LIST_INSULT_NOUN) + s.get(LIST_DEHUMANISING)
    noun_at = {m.i: m for m in nouns}
    person_at = {m.i: m for m in s.get(LIST_PERSON)}
    for adj in s.get(LIST_INSULT_ADJECTIVE):
        for j in (adj.end, adj.end + 1):
            if j in noun_at:
                return adj, noun_at[j]
        if adj.end in person_at and adj.entry not in MILD_ADJECTIVES:
            return adj, person_at[adj.end]
    for noun in s.get(LIST_INSULT_NOUN):
        if noun.n > 1:
            return (noun,)
        before = s.words[max(s.a, noun.i - 3) : noun.i]
        if (
            noun.end + 2 < s.b
            and s.words[noun.end] == "van"
            and s.words[noun.end + 1] == "een"
            and noun.end + 2 in person_at
        ):
            return noun, person_at[noun.end + 2]
        if before and (
            before[-1] in ADDRESS
            or (len(before) >= 2 and before[-2] in ADDRESS and before[-1] not in ARTICLES)
        ):
            return (noun,)  # "jij aap", "gij kleine rat"
        ends = noun.end >= s.b or noun.end in s.clause_starts or s.words[noun.end] in NOUN_ENDS
        if before and before[-1] in INTENSIFIERS and ends:  # not "een enorme zak chips"
            return (Mark(noun.i - 1, noun.n + 1, noun.category, f"{before[-1]} {noun.entry}"),)
        if noun.entry in MILD_NOUNS:
            continue  # "die trainer is een clown" is banter; with an adjective it counts above
        if len(before) >= 2 and (before[-2:] == ["wat", "een"] or before[-3:-1] == ["wat", "een"]):
            return (Mark(noun.i - 2, noun.n + 2, noun.category, f"wat een {noun.entry}"),)
        if (
            before
            and before[-1] in ("die", "dat", "deze")
            and (noun.end >= s.b or noun.end in s.clause_starts)
        ):
            return (Mark(noun.i - 1, noun.n + 1, noun.category, f"{before[-1]} {noun.entry}"),)
        if (
            noun.end + 1 < s.b
            and s.words[noun.end] == "zoals"
            and s.words[noun.end + 1] in LIKE_POINTERS
        ):
            pointer = s.words[noun.end + 1]
            return (Mark(noun.i, noun.n + 2, noun.category, f"{noun.entry} zoals {pointer}"),)
        if before[-2:] == ["zo", "n"] and ends and (
            noun.i - 2 == s.a or noun.i - 2 in s.clause_starts or before[-3:-2] == ["nog"]
        ):  # "Nog zo'n rat.", not "ik wil ook zo'n hond"
            return (Mark(noun.i - 2, noun.n + 2, noun.category, f"zo'n {noun.entry}"),)
        k = next((k for k in (1, 2, 3) if len(before) >= k and before[-k] in ARTICLES), 0)
        if k and _after_copula(s, noun.i - k):
            subject = s.words[max(s.a, noun.i - 7) : noun.i - 1]
            if not SINGULAR_PRONOUNS.isdisjoint(subject) or any(
                p.i < noun.i - 1 for p in s.get(LIST_PERSON)
            ):
                return (noun,)
    return None


# Each rule with the lists of which it needs a mark in the sentence: without one it is skipped.
_RULES = (
    (FlagCode.THREAT_PHRASE, _threat, frozenset({LIST_VIOLENCE, LIST_FIGURATIVE, LIST_HARM})),
    (FlagCode.GROUP_HATRED, _group_hatred, frozenset({LIST_INSULT_ADJECTIVE, LIST_HOSTILE})),
    (FlagCode.DEHUMANISATION, _dehumanisation, frozenset({LIST_DEHUMANISING})),
    (
        FlagCode.INSULTING_PHRASE,
        _insulting_phrase,
        frozenset({LIST_INSULT_ADJECTIVE, LIST_INSULT_NOUN}),
    ),
)
# Lists that can make a flag (the others name who is targeted).
_PREDICATES = frozenset().union(*(needs for _, _, needs in _RULES))
# Any of these words in a text may defuse one of its sentences.
_DEFUSING = REPORTING | REPORTING_PAST | REPORTED_SPEECH | CONDEMNING


def _breaks(starts: list[int], text: str, pattern: re.Pattern[str]) -> list[int]:
    """Indices of the tokens that follow a break character (one pass over the text)."""
    out: list[int] = []
    for hit in pattern.finditer(text):
        j = bisect_right(starts, hit.start())
        if 0 < j < len(starts) and (not out or out[-1] != j):
            out.append(j)
    return out


def _flag(
    code: FlagCode,
    parts: tuple[Mark, ...],
    words: list[str],
    spans: list[tuple[int, int, str]],
    norm: Normalised,
) -> Flag:
    first = min(m.i for m in parts)
    last = max(m.end for m in parts) - 1
    detail = f"{code.code}: " + " + ".join(m.entry for m in sorted(parts, key=lambda m: m.i))
    return Flag(code, detail, *norm.span(spans[first][0], spans[last][1]))


class Tokens(Protocol):
    """What the layer reads of screening's context: tokens, their spans, the normalised text."""

    norm: Normalised
    words: list[str]

    @property
    def spans(self) -> list[tuple[int, int, str]]: ...

    def evasive_tokens(self) -> set[int]: ...


class _Layout:
    """Where the sentences and clauses of one text start, found once and only when needed."""

    def __init__(self, ctx: Tokens) -> None:
        self.ctx = ctx
        self._bounds: list[int] | None = None
        self._sentences: list[tuple[int, int]] | None = None
        self._clauses: list[int] = []
        self._defused: dict[int, bool] = {}
        self._text_defused: bool | None = None

    @property
    def bounds(self) -> list[int]:
        """Token index of each sentence start, and the number of tokens at the end."""
        if self._bounds is None:
            ctx = self.ctx
            starts, text = [start for start, _, _ in ctx.spans], ctx.norm.text
            self._bounds = [0, *_breaks(starts, text, _SENTENCE_BREAK), len(ctx.words)]
            self._clauses = _breaks(starts, text, _CLAUSE_BREAK)
        return self._bounds

    def capitalised(self, j: int) -> bool:
        """True when token j starts with a capital in the original text."""
        ctx = self.ctx
        start, end, _ = ctx.spans[j]
        first, _ = ctx.norm.span(start, end)
        return ctx.norm.original[first].isupper()

    def sentences(self) -> list[tuple[int, int]]:
        if self._sentences is None:
            bounds = self.bounds
            self._sentences = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if a < b]
        return self._sentences

    def clause_starts(self, a: int, b: int) -> list[int]:
        self.bounds  # noqa: B018  (computes the clauses too)
        return [c for c in self._clauses if a < c < b]

    def text_defused(self) -> bool:
        """True when some sentence of the text reports or condemns."""
        if self._text_defused is None:
            words = self.ctx.words
            self._text_defused = not _DEFUSING.isdisjoint(words) and any(
                any(_defusal(words[a:b], set(words[a:b]))) for a, b in self.sentences()
            )
        return self._text_defused

    def defused(self, a: int, b: int, sentence: _Sentence | None = None) -> bool:
        """Reported, condemned, or a quote in a text that reports or condemns."""
        if not self.text_defused():
            return False
        found = self._defused.get(a)
        if found is None:
            ctx = self.ctx
            if sentence is not None:
                own = sentence.reports or sentence.condemns
            else:
                own = any(_defusal(ctx.words[a:b], set(ctx.words[a:b])))
            found = own or (
                bool(_OPEN_QUOTE.search(ctx.norm.original)) and _quoted(a, b, ctx.spans, ctx.norm)
            )
            self._defused[a] = found
        return found


def _marks(words: list[str], vocabulary: Vocabulary, stretched: set[int]) -> list[Mark]:
    """Every vocabulary entry found in the tokens: single words and stems through the
    vocabulary's memo, and only the phrases whose plain words all occur in the text. A token
    whose letters were stretched ("mooooslims") also counts as its squeezed form."""
    present = frozenset(words)
    live = vocabulary.live_phrases(present)
    memo = vocabulary.memo
    # Only tokens with a mark of their own, a live phrase key or a stretch need a look.
    busy = vocabulary.marked_tokens(present)
    if live:
        busy.update(word for word in present if word in live or word[:3] in live)
    marks = []
    for i, word in enumerate(words):
        if word not in busy and i not in stretched:
            continue
        found = memo.get(word)
        if found is None:
            found = vocabulary.word_marks(word)
        if not found and i in stretched:
            found = vocabulary.word_marks(squeeze(word))
        for category, entry in found:
            marks.append(Mark(i, 1, category, entry))
        if live and (word in live or word[:3] in live):
            candidates = live.get(word, [])
            if len(word) > 3 and word[:3] in live:
                candidates = candidates + live[word[:3]]
            for phrase in candidates:
                n = phrase.match_at(words, i)
                if n:
                    marks.append(Mark(i, n, phrase.category, phrase.entry))
    return marks


def _stretched(ctx: Tokens) -> set[int]:
    """Tokens with a doubled letter that the normaliser marked as evasive (a stretched run)."""
    words = ctx.words
    return {i for i in ctx.evasive_tokens() if squeeze(words[i]) != words[i]}


def _layer_flags(ctx: Tokens, lexicon: Lexicon, layout: _Layout) -> list[Flag]:
    words = ctx.words
    vocabulary = lexicon.vocabulary
    if not vocabulary.opens(words):
        return []
    marks = _marks(words, vocabulary, _stretched(ctx) if ctx.norm.has_evasion else set())
    if not any(m.category in _PREDICATES for m in marks):
        return []
    # "Ik ken moslims. Ze zijn ...": a group named in an earlier sentence.
    named = min((m.i for m in marks if m.category == LIST_IDENTITY), default=len(words))
    flags: list[Flag] = []
    for a, b in layout.sentences():
        inside = [m for m in marks if a <= m.i < b]
        if not any(m.category in _PREDICATES for m in inside):
            continue
        sentence = _Sentence(words, a, b, inside, layout.clause_starts(a, b))
        sentence.capitalised = layout.capitalised
        sentence.group_before = named if named < a else None
        if layout.defused(a, b, sentence):
            continue
        for code, rule, needs in _RULES:
            if needs.isdisjoint(sentence.by_category):
                continue
            parts = rule(sentence)
            if parts:
                flags.append(_flag(code, parts, words, ctx.spans, ctx.norm))
    return flags


def _reported(ctx: Tokens, flags: list[Flag], layout: _Layout) -> list[Flag]:
    # Threats, mild words next to a group, and chants of several words ("joden aan het gas"
    # on a banner that is reported).
    threats = [
        f
        for f in flags
        if f.code in (FlagCode.THREAT, FlagCode.TARGETED_PROFANITY)
        or (f.code is FlagCode.HATE_TERM and " " in f.detail)
    ]
    if not threats or not layout.text_defused():
        return []
    out = []
    spans, norm = ctx.spans, ctx.norm
    for a, b in layout.sentences():
        lo, _ = norm.span(*spans[a][:2])
        _, hi = norm.span(*spans[b - 1][:2])
        inside = [f for f in threats if lo <= f.start and f.end <= hi]
        if inside and layout.defused(a, b):
            out += inside
    return out


def phrase_layer(ctx: Tokens, lexicon: Lexicon, flags: list[Flag]) -> list[Flag]:
    """The word lists' flags plus the phrase layer's, without the word lists' threats and
    chants that sit in a reported, condemned or quoted sentence (one layout for both)."""
    layout = _Layout(ctx)
    out = flags + _layer_flags(ctx, lexicon, layout)
    reported = _reported(ctx, out, layout)
    return [f for f in out if f not in reported] if reported else out


def phrase_flags(ctx: Tokens, lexicon: Lexicon) -> list[Flag]:
    """The phrase layer's flags for the tokens of one normalised text (see the module doc)."""
    return _layer_flags(ctx, lexicon, _Layout(ctx))


def reported_threats(ctx: Tokens, flags: list[Flag]) -> list[Flag]:
    """The word lists' threat flags that sit in a reported, condemned or quoted sentence.

    "De scheids werd bedreigd: 'ik weet waar je woont'" reports a threat; it makes none.
    """
    return _reported(ctx, flags, _Layout(ctx))


def _quoted(a: int, b: int, spans: list[tuple[int, int, str]], norm: Normalised) -> bool:
    """True when the sentence of tokens a..b-1 holds an opening quote (in the original text)."""
    start = spans[a - 1][1] if a > 0 else 0
    lo, _ = norm.span(start, start + 1) if start < len(norm.text) else (len(norm.original), 0)
    _, hi = norm.span(spans[b - 1][0], spans[b - 1][1])
    return bool(_OPEN_QUOTE.search(norm.original, max(0, lo - 1), hi))
