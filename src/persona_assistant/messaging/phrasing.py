"""Sentence craft for the offline engine: whole phrases, the reader in the company's voice, no one's
quote (how the brief's own lines are said is voice.py).

- `head(text, limit)`: the longest *whole* phrase at the start of `text` that fits: the text
  itself, or the part before a colon, semicolon or dash, or before a clause that qualifies it
  (", so ...", " because ...", " without ..."). Never a cut list ("match bank, subledger") or a
  phrase ending on "the"/"to"/"and": None when there is no such phrase, and the caller writes
  something else. A text with a figure in it is never cut: whole, or None.
- `insight(text)`: a persona item turned into the company's voice, addressed to the reader
  ("We rebuild the same spreadsheets every month" -> "you rebuild the same spreadsheets every
  month"), shortened at a clause or phrase boundary until it repeats fewer than
  attribution.QUOTE_RUN_WORDS consecutive words of the original: the insight is used, the
  interviewee is not quoted. None when that cannot be done without a fragment.
- `fit_chars`/`fit_words`: the older cut-to-fit helpers, kept for custom channels' free text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from persona_assistant.messaging.attribution import QUOTE_RUN_WORDS, longest_shared_run, words
from persona_assistant.messaging.quality import fragment_problem

_FILLER = re.compile(r"^(?:honestly|so|well|yeah|look|basically|i mean|um|uh|and|but|mostly|also|plus|however|"
                     r"additionally|furthermore|moreover|meanwhile|actually|initially|eventually|finally|overall|"
                     r"currently|now|then|again|anyway|obviously|of course)\b[,\s]*", re.I)
# A clause that points at what the interviewee said before ("that step", "deployed there") means nothing
# to a reader who did not hear it.
_ANAPHORA = re.compile(r"\b(?:that|this|these|those|such) (?:step|one|ones|thing|things|part|point|approach|way|"
                       r"issue|issues|problem|stuff|move|change|decision|process)\b|\s(?:there|it|them|that|this|"
                       r"those|these)$", re.I)
_STRONG_BREAK = re.compile(r"[;:](?=\s)|\s[-–—]\s|—")
_WEAK_BREAK = re.compile(r",(?=\s+[a-z])|\s(?=(?:and|but|so|because|before|after|while|which|when|since|"
                         r"until|unless|whereas)\s)")
_WEAK_END = re.compile(r"(?:\s+(?:and|or|the|a|an|to|of|in|for|with|that|our|my|is|are|we|on|at|by))+$", re.I)
# Where a whole phrase may end: before a qualifying clause or phrase.
_PHRASE_END = re.compile(r"[;:](?=\s)|\s[-–—]\s|,\s(?=(?:so|which|because|while|and then|without|not)\b)|"
                         r"\s(?=(?:so that|because|without|before|after|while|when|until|unless|across|"
                         r"during|once)\s)")
# A second tier for tight limits: before a prepositional phrase ("Live close status | for the CFO").
_PP_END = re.compile(r"\s(?=(?:for|from|in|on|under|with|within|at|by)\s)")
# A third tier: before " and <verb phrase>" ("... automatically | and flag only the exceptions").
_AND_END = re.compile(r"\s(?=and\s)")
# Boundaries an insight may be shortened at (before a trailing phrase).
_TRIM_CLAUSE = re.compile(r",\s|\s(?=(?:and|but|because|so|when|while|which|who|until|before|after|during|"
                          r"without|since)\s)")
_TRIM_PP = re.compile(r"\s(?=(?:in|on|at|for|with|from|every|\w{3,}ing)\s)")  # only when 6+ words remain
_SWAPS = [
    (r"\bI was\b", "you were"), (r"\bI am\b", "you are"), (r"\bI'm\b", "you're"), (r"\bI’m\b", "you're"),
    (r"\bI've\b", "you've"), (r"\bI'd\b", "you'd"), (r"\bI'll\b", "you'll"), (r"\bI\b", "you"),
    (r"\bwe're\b", "you're"), (r"\bwe've\b", "you've"), (r"\bwe'd\b", "you'd"), (r"\bwe'll\b", "you'll"),
    (r"\b[Ww]e\b", "you"), (r"\bus\b", "you"), (r"\bme\b", "you"), (r"\b[Mm]y\b", "your"),
    (r"\b[Oo]ur\b", "your"), (r"\bours\b", "yours"), (r"\bmine\b", "yours"), (r"\bmyself\b", "yourself"),
    (r"\bourselves\b", "yourselves"), (r"\s+(?:also|really|just|honestly|basically|actually)\b", ""),
]
_FINITE = re.compile(r"\b(?:is|are|was|were|has|have|had|can|cannot|can't|will|won't|does|doesn't|do|don't|"
                     r"never|\w{3,}s|\w{3,}ed)\b")
_BAD_OPENERS = {"it", "that", "that's", "this", "there", "they", "he", "she", "those", "these", "which", "what",
                "when", "and", "but", "so", "because", "if", "not", "then", "also", "as", "once", "after",
                "since", "though", "although", "while", "where", "who", "how", "why", "yes", "no", "one", "from", "in",
                "on", "at", "for", "with", "during", "before", "to", "of", "by", "mostly", "not"}
IMPERATIVES = set("close cut match see get keep stop save find know run reduce replace automate track plan build "
                   "ship give put turn catch spot fill schedule hire pay send win grow launch start end fix avoid "
                   "prevent protect answer approve review fill cover swap publish forecast stay stop let make take meet hit reach "
                   "move share show prove report bring turn".split())


def tidy(text: str) -> str:
    """One line, no leading filler word ("Honestly, ..."), first letter capitalised."""
    text = " ".join(text.split())
    prev = None
    while prev != text:
        prev, text = text, _FILLER.sub("", text).strip()
    return text[:1].upper() + text[1:]


_SENTENCE_STARTS = frozenset("The A An Our My Your Their This That These Those When If And But Every Each".split())


def lower_first(text: str) -> str:
    """First letter lower-cased unless the first word is an acronym or a name-like word (SOC, IT)."""
    parts = text.split(" ", 2)
    first = parts[0]
    if first in _SENTENCE_STARTS:  # "The ERP migration ...": a sentence's first word, not a name
        return text[:1].lower() + text[1:]
    if len(first) > 1 and (first[1:2].isupper() or any(c.isdigit() for c in first)) or first == "I":
        return text
    if len(parts) > 1 and parts[1][:1].isupper() and not parts[1].isupper():
        return text  # a name: "Ember Grill House cut ..." (not "Cut CI time": an acronym is no name)
    return text[:1].lower() + text[1:]


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text.rstrip(",;:") + "."


def bare(text: str) -> str:
    return text.strip().rstrip(".!?;:, ")


def whole(text: str) -> bool:
    """A phrase that reads as finished: no cut end, no weak last word, at least two words."""
    return len(text.split()) >= 2 and fragment_problem(text, headline=True) is None


def head(text: str, limit: int, min_words: int = 2) -> str | None:
    """The longest whole phrase at the start of `text` within `limit` characters and of at least
    `min_words` words (see module doc)."""
    text = bare(" ".join(text.split()))
    if len(text) <= limit and whole(text):
        return text
    if re.search(r"\d", text):
        return None  # a statistic is said whole or not at all ("Managers spend 4 hours a week | on ...")
    for pattern in (_PHRASE_END, _PP_END, _AND_END):
        ends = [m.start() for m in pattern.finditer(text) if m.start() <= limit]
        for end in reversed(ends):
            cand = bare(text[:end])
            if pattern is _AND_END and (len(cand.rsplit(",", 1)[-1].split()) < 3 or _joins_names(text, end + 1)
                                        or cand.split()[-2].lower() in _PREPOSITIONS):
                continue  # "match bank, subledger | and ERP", "with predictive-scheduling | and break rules": a list
            if pattern is _PP_END and "," in cand and len(re.split(r",\s+(?:and\s+)?", cand)[-1].split()) < 3:
                continue  # "..., and managers approve | in one tap": a short last clause needs its phrase
            if whole(cand) and len(cand) <= limit and len(cand.split()) >= min_words:
                return cand
    return None


def plural(role: str) -> str:
    """'Controller' -> 'Controllers', 'Director Of Operations' -> 'Directors of Operations'."""
    role = " ".join(w.lower() if w.lower() in ("of", "and", "for", "the", "in") else w
                    for w in (role.strip() or "buyer").split())
    first, sep, rest = role.partition(" of ")
    return (first if first.endswith("s") else first + "s") + (sep + rest if sep else "")


# --------------------------------------------------------------------------- insights


# The reader wanting something ("you want", "you'd love"): a wish, asked as "Ready to ...", met with "helps".
WANTS = r"you(?: want| need| would like| would love|'d love|'d like)"
# Past-tense verbs: regular ("moved", not "need" or "feed") and the irregular ones interviewees use.
_REGULAR_PAST = r"\w+(?<!e)ed"
_IRREGULAR_PAST = ("went|had|got|made|took|began|bought|lost|saw|came|ran|found|kept|left|sent|spent|built|paid|"
                   "said|told|thought|felt|brought|knew|grew|wrote|chose|gave|became")


@dataclass(frozen=True)
class Insight:
    """A persona item in the company's voice: `clause` addresses the reader ("you ...", "your ...")
    when `personal`, else states the situation ("reconciliations are rebuilt ...")."""

    clause: str
    personal: bool

    def statement(self, audience: str) -> str:
        """The insight as a sentence of its own ("For many controllers, ..."); `audience` is plural."""
        return sentence(f"For many {audience}, {self.clause}") if not self.personal else \
            sentence(upper_first(self.clause))

    def conditional(self) -> str:
        return f"If {self.clause}" if self.personal else f"When {self.clause}"

    @property
    def past(self) -> bool:
        """What happened to one interviewee ("you started by migrating ...", "you encountered issues"):
        a story, or a trigger, not a pain or goal the reader has now."""
        return bool(_PAST.match(self.clause))

    def headline_question(self) -> str | None:
        """The insight as a short question for a subject or headline ("Ready to stop paying overtime?",
        "Do you still rebuild the rota by hand?"), or None where the question would be about one
        interviewee's story ("What changed when you acquired ...") or hedged ("Would you say ...")."""
        m = re.match(rf"^{WANTS} to (?:be able to )?((\w+) .+)$",
                     self.clause)
        if m and m.group(2).lower() in IMPERATIVES and m.group(2).lower() not in ("see", "know", "get", "have"):
            return f"Ready to {m.group(1)}?"  # an action the reader takes ("stop paying overtime"), not a state
        q = self.question()
        if q is None or re.match(r"^(?:What changed when|Would you say|How does your team handle it when|Have you)\b",
                                 q):
            return None
        return q

    def question(self) -> str | None:
        """A discovery question from the insight, or None when it does not turn into one."""
        c = self.clause
        for pattern, form in ((r"^you(?:'re| are) not sure (.+)$", "How sure are you that {}?"),
                              (r"^you(?:'re| are) (.+)$", "Are you {}?"),
                              (r"^you(?:'d| would) (?:love|like) for (.+?) to (.+)$", "What if {} could {}?"),
                              (rf"^{WANTS} to (.+)$", "What would it take to {}?"),
                              (r"^you (?:want|need) (?!to )(.+)$", "What would it take to get {}?"),
                              (r"^you would (.+)$", "Would you {}?"),
                              (r"^you have to (.+)$", "How often do you have to {}?"),
                              (r"^your (?:goal|aim|target|plan) is to (.+)$", "What would it take to {}?"),
                              (r"^your (?:goal|aim|target|plan) is (?:a|an|the) (.+)$", "What stands between you and {}?"),
                              (r"^your (?:goal|aim|target|plan) is (.+)$", "How close are you to {}?"),
                              (r"^your (?:\w+ )?(?:concern|worry|fear|risk) is (.+)$", "How much of a worry is {}?"),
                              (rf"^you (?!(?:can|could|will|would|should|must|do|did|were|had|'d|tried|hired|"
                               rf"moved|{_IRREGULAR_PAST})\b)(\w+(?<!ed)) (.+)$",
                               "Do you still {} {}?")):
            m = re.match(pattern, c)
            if m:
                q = form.format(*m.groups())
                return q.replace("between you and ", "between you and a ") if "stands between" in q else q
        if not self.personal:
            for pattern, form in _SITUATION_QUESTIONS:
                m = re.match(pattern, c)
                if m:
                    return form(*m.groups())
            return f"How does your team handle it when {c}?"
        m = re.match(rf"^you ({_REGULAR_PAST}) (.+?)(?: (?:last|this) (?:year|month|quarter|week))?$", c)
        if m:  # one interviewee's event, asked of the reader without presuming it: "Have you moved ... recently?"
            return f"Have you {m.group(1)} {m.group(2)} recently?"
        if re.match(r"^you (?:went|had|got|made|took|began|bought|lost) ", c):
            return f"What changed when {c}?"
        return f"Would you say {c}?"


_PAST = re.compile(rf"^you (?:(?:just |also |then |first |finally |recently )?(?:{_REGULAR_PAST}|{_IRREGULAR_PAST}|"
                   r"were|was|did)\b)(?!(?<=needed|wanted|wished) to\b)(?!(?<=hoped) to\b)")  # "needed to": a want
# Discovery questions for a situation (not addressed to "you"), before the general "how does your team handle".
_SITUATION_QUESTIONS = (
    (r"^(.+?) (?:is|are) (?:the |a |an )?(?:real |biggest |main |constant )?(?:headache|problem|pain|issue|"
     r"nightmare|challenge|struggle)$", lambda np: f"How does your team handle {np} today?"),
    (r"^(.+?) (?:has|have) to be (\w+)$", lambda np, adj: f"How {adj} does {np} have to be?"),
    (r"^(.+?) (matters?) (?:most|too|a lot)$",
     lambda np, verb: f"How much {'does' if verb == 'matters' else 'do'} {np} matter to you?"),
)

# Verbs that need what follows: an insight never ends on one ("you need to see | which ...").
_DANGLING = frozenset("see know show understand find tell ask get make handle do have need want figure check "
                      "track mean think decide explain prove keep give take put spend out up".split())
# "The biggest pain is that X" says X: the frame goes, the situation stays.
_FRAME = re.compile(r"^(?:the |my |our )?(?:biggest |main |real |worst |other )?(?:(?:pain|problem|challenge|issue|"
                    r"headache|worst part|frustration)(?: here)? (?:is|was)(?: that)?|(?:risk|concern|worry|fear) "
                    r"(?:is|was) that|it(?: is|'s) (?:frustrating|annoying|painful|hard) (?:because|that|when))\s+", re.I)
# "Every Sunday I rebuild ...", "After the audit, we had to ...": the time phrase moves behind the clause.
_LEADING_TIME = re.compile(r"^((?:every|each|after|before|since|during|on|at|last|this)\b[^,]{3,40}?),?\s+"
                           r"((?:I|we)\b.*)$", re.I)  # "After the audit on | our cash recs, ..." is no subject
# A count of things is the interviewee's detail, not the reader's: "opening six new stores" -> "opening new
# stores". Durations ("four hours", "two weeks later") are the size of the pain and stay.
_COUNT = re.compile(r"(?<=ing |.ed )(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d+)\s+(?=(?:new\s+)?"
                    r"(?!(?:minutes|hours|days|weeks|months|years|times|percent)\b)[a-z]+s\b)", re.I)
# When one interviewee's event happened is their detail, not the reader's: "moved to a new payroll provider in
# January" -> "moved to a new payroll provider".
_WHEN = re.compile(r"\s+(?:in|since|by|from|last|this|next|early|late)\s+(?:(?:early|late|mid)[- ])?(?:January|February|"
                   r"March|April|May|June|July|August|September|October|November|December|spring|summer|autumn|"
                   r"fall|winter|Q[1-4]|(?:19|20)\d\d)\b", re.I)
# "the break and rest rules": a determiner, a noun, "and": one noun phrase, not two clauses.
_PREPOSITIONS = frozenset("with for of in on at by from to into about".split())
_DETERMINERS = frozenset("the a an our my your their every each this that".split())


def _joins_names(text: str, at: int) -> bool:
    """A break before "and" inside a list, not between clauses: between capitalised words ("Canadian |
    and US rules") or after a determiner and one word ("the break | and rest rules")."""
    before, after = text[:at].split(), text[at:].split()
    return len(after) > 1 and after[0] == "and" and bool(before) and (
        before[-1][:1].isupper() or after[1][:1].isupper() or len(before) > 1 and before[-2].lower() in _DETERMINERS)


def _in_list(text: str, at: int) -> bool:
    """A comma at `at` inside a list ("we support HTTP, | gRPC requests, Kafka, and other integrations"): the
    next item is a short phrase followed by another comma or "and", or the item before it is one."""
    if text[at] != ",":
        return False
    nxt = re.match(r",\s+((?:\S+\s+){0,2}?\S+?)(?:,|\s+and\b|\s+or\b)", text[at:])
    prev = re.search(r",\s+(?:\S+\s+){0,2}\S+$", text[:at])  # "..., gRPC requests, Kafka|, and other ..."
    return nxt is not None or prev is not None


def you_form(text: str) -> str:
    for pattern, repl in _SWAPS:
        text = re.sub(pattern, repl, text)
    return text


def insight(text: str) -> Insight | None:
    """`text` (a persona item) as an Insight, or None (see module doc)."""
    original = words(text)
    first = tidy(_FRAME.sub("", tidy(text)))
    lead = _LEADING_TIME.match(first)
    if lead:
        first = tidy(f"{bare(lead.group(2))} {lower_first(lead.group(1))}")
    first = _WHEN.sub("", _COUNT.sub("", first))
    m = _STRONG_BREAK.search(first)
    clause = first[:m.start()] if m else first
    for m in _WEAK_BREAK.finditer(clause):
        if len(clause[:m.start()].split()) >= 3 and clause[:m.start()].split()[-1].lower() not in _DANGLING \
                and not _joins_names(clause, m.start() + (1 if clause[m.start()] == " " else 0)) \
                and not _in_list(clause, m.start()):
            clause = clause[:m.start()]
            break
    clause = bare(you_form(clause)).replace("’", "'")  # our text now: one apostrophe
    while True:
        w = clause.split()
        if not w or w[0].lower().strip(",") in _BAD_OPENERS:
            return None
        if longest_shared_run(words(clause), original) < QUOTE_RUN_WORDS and whole(clause) \
                and w[-1].lower().strip(".,") not in _DANGLING:
            break
        cuts = sorted([c.start() for c in _TRIM_CLAUSE.finditer(clause) if len(clause[:c.start()].split()) >= 4
                       and not _joins_names(clause, c.start())]
                      + [c.start() for c in _TRIM_PP.finditer(clause) if len(clause[:c.start()].split()) >= 6])
        if not cuts:
            return None
        clause = bare(clause[:cuts[-1]])
        clause = _WEAK_END.sub("", clause)
    clause = lower_first(clause)
    if _ANAPHORA.search(clause):
        return None
    personal = bool(re.match(r"you\b|your\b|you['’]", clause))
    if not personal and (not _FINITE.search(clause) or clause.split()[0].lower() in IMPERATIVES):
        return None  # "SSO with your identity provider", "Close in five days": not a statement
    return Insight(clause, personal=personal)


_MANNER_END = re.compile(r"\s+(?:side by side|at the same time|at once|in parallel|together)$", re.I)
_WORRY_BREAKS = frozenset("and but so if when because until during while with for in on at from".split())


def worry(text: str) -> Insight | None:
    """An objection `insight` cannot restate, as the reader's worry: "My concern is that the rules engine
    will not handle Canadian and US rules side by side" -> "you're worried the rules engine will not handle
    Canadian and US rules", cut at a word boundary where it stays whole and repeats fewer than
    QUOTE_RUN_WORDS consecutive words of the original. None when no such cut exists."""
    original = words(text)
    rest = tidy(_FRAME.sub("", tidy(text)))
    m = re.match(r"^(?:I'm |I am |we're |we are )?(?:also )?(not sure|worried(?: about| that)?)\s+(.+)$", rest, re.I)
    frame, rest = (m.group(1).lower(), m.group(2)) if m else ("worried", rest)
    w = _MANNER_END.sub("", bare(you_form(rest))).split()  # "... Canadian and US rules | side by side"
    for n in range(min(len(w), 14), 1, -1):  # at a phrase boundary: the end, or before a preposition or clause
        if n < len(w) and (w[n].lower() not in _WORRY_BREAKS or _joins_names(" ".join(w), len(" ".join(w[:n])) + 1)):
            continue  # not a boundary, or inside a list ("handle Canadian | and US rules")
        clause = f"you're {frame} {lower_first(' '.join(w[:n]))}"
        if longest_shared_run(words(clause), original) < QUOTE_RUN_WORDS and whole(clause.replace("-", "")) \
                and w[n - 1].lower().strip(".,") not in _DANGLING and not _WEAK_END.search(clause):
            return Insight(clause, personal=True)  # ("lock-in" is one word, not a phrase ending on "in")
    return None


# --------------------------------------------------------------------------- cut to fit (custom channels)


def fit_chars(text: str, limit: int, *, ellipsis: bool = True) -> str:
    """`text` within `limit` characters: its longest leading clause that fits and carries most of
    the room, which reads as finished; else cut at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    clause = leading_clause(text, limit)
    if clause:
        return clause
    room = limit - (1 if ellipsis else 0)
    cut = text[:room + 1].rsplit(" ", 1)[0] if " " in text[:room + 1] else text[:room]
    cut = _WEAK_END.sub("", cut.rstrip(" ,;:-–—.")).rstrip(" ,;:-–—.")
    cut = cut[:room]
    return cut + ("…" if ellipsis else "")


def leading_clause(text: str, limit: int) -> str | None:
    """The longest start of `text` ending at a clause break within `limit` characters and at least
    40% of it, strong breaks (colon, semicolon, dash) before weak ones; None if there is none."""
    floor = max(12, int(limit * 0.4))
    for pattern in (_STRONG_BREAK, _WEAK_BREAK):
        ends = [m.start() for m in pattern.finditer(text[:limit + 1]) if floor <= m.start() <= limit]
        if ends:
            return _WEAK_END.sub("", text[:ends[-1]].rstrip(" ,;:-–—.")).rstrip(" ,;:-–—.") or None
    return None


def fit_words(text: str, limit: int, *, ellipsis: bool = True) -> str:
    """`text` within `limit` words: a whole leading clause when one fits (as `fit_chars`), else cut."""
    w = text.split()
    if len(w) <= limit:
        return " ".join(w)
    clause = leading_clause(" ".join(w), len(" ".join(w[:limit])))
    if clause:
        return clause
    cut = _WEAK_END.sub("", " ".join(w[:limit]).rstrip(" ,;:-–—.")).rstrip(" ,;:-–—.")
    return cut + ("…" if ellipsis else "")

