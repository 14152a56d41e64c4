"""Where personal data sits in a text: spans of emails, phones, account numbers and people's names.

Pure functions over text; llm/redact.py decides what to do with the spans (placeholders).

- Emails: the usual `local@domain.tld`, and obfuscated spellings people type to dodge
  scrapers: `jane [at] acme [dot] example`, `jane(at)acme(dot)com`, `jane at acme dot com`.
- Phones: `phonenumbers` (Google's libphonenumber data) finds numbers that are valid in the
  number plans of PHONE_REGIONS or carry a +country code, with or without separators and with
  extensions (`4155550124`, `415.555.0124 x12`, `+44 20 7946 0958`); a separator pattern
  keeps numbers libphonenumber calls invalid but that are plainly phone-shaped (`07700 900123`,
  fictional ranges). An unseparated run of digits is a phone only when it is a valid national
  number as written (10 digits, or a leading 0), so order ids, amounts, ZIP codes and years
  are left alone.
- Account numbers: IBANs (mod-97 checked) and card numbers (13-19 digits, Luhn checked).
- Names, without a language model (spaCy models cannot be installed where this runs):
  runs of two or more capitalised words ("Ana María López", "Mary-Kate O'Neil", "Ludwig van
  Berg"), a capitalised word after a title ("Dr. Ng"), beside a speech verb, greeting or role
  noun ("Priya said", "thanks Priya", "my mentor Yuri"), or listed with a known name ("Henrik
  and Adriana"). A word is not a name part when it is common: a built-in list (function
  words, days, months, holidays, job-title, company and product words, places) plus the words
  the caller's vocabulary or the text itself writes in lower case more often than capitalised
  (so Title Case headings like "Pain Points" are not names, while one "priya" typed in chat
  does not make "Priya" common); an all-capitals acronym; a CamelCase product ("NetSuite";
  "McDonald" and "DeShawn" are names); a word beside an acronym or CamelCase word ("HashiCorp
  Nomad"); a term the caller says is not a name (products, companies, regions from the brief
  and CRM). A stutter ("Nomad Nomad") is not a first and last name. Known names (front matter,
  speaker labels, CRM contacts, earlier turns) are matched by llm/redact.py, whatever their case.
Measured on tests/pii_probes.py and two interview corpora: see the commit messages; the known
misses are single first names with no cue ("we hired Tomasz") and the known false positives
two-word product or place names the brief and CRM do not list ("Apache Arrow", "Sunny Austin").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

Span = tuple[int, int, str, str]  # start, end, kind, value

PHONE_REGIONS = ("US", "GB")  # national numbers without +country are read as these; + numbers always

# ----------------------------------------------------------------------------- emails

EMAIL_RE = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
_AT = r"(?:\s*[\[({<]\s*(?:at|@)\s*[\])}>]\s*|\s+(?:at|AT)\s+)"
_DOT = r"(?:\s*[\[({<]\s*(?:dot|\.)\s*[\])}>]\s*|\s+(?:dot|DOT)\s+|\.)"
# `jane [at] acme [dot] example`; a plain " at " needs an obfuscated dot after it, or a local part
# with a dot/underscore/plus ("jane.doe at acme.com"), so "met at example.com" is not an email.
OBFUSCATED_EMAIL_RE = re.compile(
    rf"(?<![\w.+-])(?P<local>[A-Za-z0-9._%+-]+){_AT}(?P<domain>[A-Za-z0-9-]+(?:{_DOT}[A-Za-z0-9-]+)+)(?![\w-])")
_BRACKETED = re.compile(r"[\[({<]")
_DOT_RE = re.compile(_DOT)
_LOCAL_MARK = re.compile(r"[._+]")
_OBFUSCATED_DOT = re.compile(r"[\[({<]\s*(?:dot|\.)\s*[\])}>]|\s(?:dot|DOT)\s")


def find_emails(text: str) -> Iterator[Span]:
    for m in EMAIL_RE.finditer(text):
        yield m.start(), m.end(), "EMAIL", m.group(0)
    for m in OBFUSCATED_EMAIL_RE.finditer(text):
        at = text[m.end("local"):m.start("domain")]
        domain = m.group("domain")
        tld = _DOT_RE.split(domain)[-1]
        if not (len(tld) >= 2 and tld.isascii() and tld.isalpha()):
            continue
        plain_at = not _BRACKETED.search(at)
        if plain_at and not (_OBFUSCATED_DOT.search(domain) or _LOCAL_MARK.search(m.group("local"))):
            continue
        yield m.start(), m.end(), "EMAIL", m.group(0)


# ----------------------------------------------------------------------------- phones

# Digits in groups with separators, optional +country, (area) and extension; 9-15 digits.
PHONE_RE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,6}){1,4}"
    r"(?:\s*(?:ext\.?|x|#)\s*\d{1,6})?(?![\w-]|[.,]\d)")
_EXTENSION = re.compile(r"\s*(?:ext\.?|x|#)\s*\d+$")
_SEPARATOR = re.compile(r"[\s().+-]")
_NOT_PHONE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{5}-\d{4}$")  # an ISO date; a US ZIP+4


def _phone_shaped(value: str) -> bool:
    digits = sum(c.isdigit() for c in _EXTENSION.split(value)[0])
    if not 9 <= digits <= 15 or _NOT_PHONE.match(value):
        return False
    return bool(_SEPARATOR.search(value))


def find_phones(text: str) -> Iterator[Span]:
    import phonenumbers

    for region in PHONE_REGIONS:
        for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            raw = m.raw_string
            # bare digits: only a national number as written (10 digits, or a leading 0), so an
            # 11-digit account or order id that happens to be valid after a "1" is left alone
            if raw.isdigit() and not (len(raw) == 10 or raw.startswith("0")):
                continue
            yield m.start, m.end, "PHONE", raw
    for m in PHONE_RE.finditer(text):
        if _phone_shaped(m.group(0)):
            yield m.start(), m.end(), "PHONE", m.group(0)


# ----------------------------------------------------------------------------- account numbers

_IBAN_RE = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w])")
_CARD_RE = re.compile(r"(?<![\w.,-])\d(?:[ -]?\d){12,18}(?![\w]|[.,]\d)")


def _iban_ok(value: str) -> bool:
    s = value.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _luhn_ok(value: str) -> bool:
    digits = [int(c) for c in value if c.isdigit()]
    if not 13 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def find_accounts(text: str) -> Iterator[Span]:
    for m in _IBAN_RE.finditer(text):
        if _iban_ok(m.group(0)):
            yield m.start(), m.end(), "ACCOUNT", m.group(0)
    for m in _CARD_RE.finditer(text):
        if _luhn_ok(m.group(0)):
            yield m.start(), m.end(), "ACCOUNT", m.group(0)


# ----------------------------------------------------------------------------- names

_TITLES = frozenset({"dr", "mr", "mrs", "ms", "mx", "prof", "professor", "sir", "dame", "miss", "madam"})
_PARTICLES = frozenset({"de", "da", "del", "della", "dos", "das", "di", "du", "van", "von", "der", "den",
                        "ter", "ten", "la", "le", "bin", "ibn", "al", "el", "y", "zu", "st."})
_SPEECH_AFTER = frozenset({"said", "says", "asked", "asks", "told", "tells", "mentioned", "explained", "wrote",
                           "replied", "added", "noted", "thinks", "thought", "wants", "wanted", "agreed",
                           "suggested", "confirmed", "joined", "recalled", "admitted", "argued", "described",
                           "emailed", "called", "pinged", "shared", "laughed", "sighed"})
_SPEECH_BEFORE = frozenset({"hi", "hello", "hey", "dear", "thanks", "cc", "asked", "ask", "told", "tell", "ping",
                            "pinged", "emailed", "email", "call", "met", "meet", "interviewed",
                            "per", "according", "colleague", "boss", "mentor", "mentors", "producer", "friend",
                            "coworker", "teammate", "cofounder", "co-founder", "manager", "ceo", "cfo", "cto"})
_LIST_SEP = r"(?:,?\s+(?:and|&)\s+)"  # not a bare comma: "Excel, Yuri" is no pair of people
_LISTED_AFTER = re.compile(_LIST_SEP + r"([^\W\d_][\w'’-]*)")
_LISTED_BEFORE = re.compile(r"([^\W\d_][\w'’-]*)" + _LIST_SEP + r"$")
_COMMON = frozenset("""
a an the and or but nor so yet for of in on at to from by with without within about above below over under
into onto out up down off than then there here where when while why how what which who whom whose this that
these those it its i me my mine we us our ours you your yours he him his she her hers they them their theirs
is are was were be been being am do does did done have has had having can could will would shall should may
might must not no yes all any each every some most many much more less few both either neither other another
such only own same very just also even still already again ever never always often sometimes usually maybe
perhaps please thanks thank hello hi hey dear okay ok well oh so if because since until unless though although
after before during between among across through per via vs etc re fyi
monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday tonight weekend week
january february march april june july august september october november december jan feb mar apr jun jul
aug sep sept oct nov dec spring summer autumn fall winter quarter year month day morning afternoon evening
mr mrs ms mx dr prof sir dame miss
chief officer president vice director head manager lead senior junior staff principal associate assistant
analyst engineer developer controller accountant consultant architect specialist coordinator administrator
representative executive founder partner owner intern team department group division office board
finance financial accounting sales marketing operations engineering product support customer customers
inc corp corporation company co ltd llc plc gmbh ag sa bv holdings group labs lab systems solutions software
technologies technology health healthcare bank capital partners ventures services consulting clinic clinics
hospital university college school institute foundation association union council agency studio network
global international national regional local
product products platform cloud core suite server studio app apps hub enterprise pro plus premium basic
edition engine framework sdk api console portal workspace analytics insights monitor online desktop mobile web
remarks closing opening welcome intro outro episode session panel
christmas easter thanksgiving hanukkah diwali ramadan eid halloween eve holiday holidays new year
alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho
illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota mississippi
missouri montana nebraska nevada hampshire jersey mexico carolina dakota ohio oklahoma oregon pennsylvania
rhode island tennessee texas utah vermont virginia washington wisconsin wyoming puerto rico rican
north south east west northern southern eastern western central america american europe european asia
asian africa african australia pacific atlantic united states kingdom new york san los las santa st
canada germany france spain italy india china japan brazil mexico england britain british london paris
interviewer interviewee host moderator participant respondent speaker customer question answer note notes
summary agenda attendees action items next steps follow key takeaways background context overview intro
introduction conclusion pain points goals challenges quote quotes
""".split()) | _SPEECH_AFTER | _SPEECH_BEFORE
# A word: letters with inner apostrophes and hyphens; a closing possessive "'s" is not part of it.
WORD_RE = re.compile(r"[^\W\d_]+(?:['’](?!s\b)[^\W\d_]+)*(?:-[^\W\d_]+(?:['’](?!s\b)[^\W\d_]+)*)*")
_CONTRACTION = re.compile(r"^([^\W\d_]+)['’](?:m|ll|ve|re|d|t)$", re.I)
_NAME_CAMEL = re.compile(r"^(?:Mc|Mac|De|Di|Da|La|Le|Van|Von|Fitz|O['’]|D['’])[^\W\d_]")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.I)


@dataclass(frozen=True)
class Lexicon:
    """Words that are not name parts: `common` (lower case: vocabulary of the workspace plus the
    built-in list) and `not_names` (lower-cased words of products, companies, regions)."""

    common: frozenset[str] = frozenset()
    not_names: frozenset[str] = frozenset()

    def is_common(self, word: str) -> bool:
        low = word.lower()
        if _CONTRACTION.match(low):  # I'm, We'll, They've: a contraction is never a name
            return True
        return low in _COMMON or low in self.common or low in self.not_names


def lower_words(text: str, min_count: int = 1) -> set[str]:
    """Common words of `text`: written in lower case at least `min_count` times and more often than
    capitalised. Emails and links are left out first, so "priya.raman@..." does not make "Priya"
    a common word, and neither does one lower-cased "priya" typed in chat beside a "Priya"."""
    text = OBFUSCATED_EMAIL_RE.sub(" ", EMAIL_RE.sub(" ", _URL.sub(" ", text)))
    lower: Counter[str] = Counter()
    capitalised: Counter[str] = Counter()
    for w in WORD_RE.findall(text):
        if w.islower():
            lower[w] += 1
        elif w[0].isupper():
            capitalised[w.lower()] += 1
    return {w for w, n in lower.items() if n >= min_count and n > capitalised[w]}


def name_words(value: str) -> list[str]:
    """The words of a name, for registering its parts."""
    return WORD_RE.findall(value)


def _name_word(word: str) -> bool:
    """Capitalised like a name: 'Jane', 'O'Neil', 'Smith-Jones', 'McDonald'; not 'ERP', 'NetSuite'."""
    if not word[0].isupper() or len(word) < 2:
        return False
    for part in word.split("-"):
        if not part or not part[0].isupper() or part.isupper():
            return False
        rest = part[1:]
        if any(c.isupper() for c in rest) and not _NAME_CAMEL.match(part):
            return False
    return True


def looks_like_name(value: str) -> bool:
    """Two to four capitalised name words and nothing else ("Rafe Okoro", "Ana María López")."""
    words = WORD_RE.findall(value)
    rest = WORD_RE.sub("", value).replace(".", "").strip()
    return 2 <= len(words) <= 4 and not rest and all(
        _name_word(w) or w.lower() in _PARTICLES for w in words) and not any(Lexicon().is_common(w) for w in words)


def find_names(text: str, lexicon: Lexicon, text_words: set[str] | None = None,
               is_known: Callable[[str], bool] | None = None) -> list[str]:
    """Values in `text` that look like people's names (see the module docstring). `is_known` says
    whether a word is a known name: one capitalised word listed with one ("Yuri and Adriana",
    "Ines, Bo and Adriana") is a name too."""
    words = text_words if text_words is not None else lower_words(text)
    tokens = list(WORD_RE.finditer(text))
    found: list[str] = []

    def common(w: str) -> bool:
        return lexicon.is_common(w) or w.lower() in words

    i = 0
    while i < len(tokens):
        m = tokens[i]
        w = m.group(0)
        if not _name_word(w):
            i += 1
            continue
        # a run: name words joined by one space (or ". " after an initial), particles inside
        run = [i]
        j = i + 1
        while j < len(tokens):
            gap = text[tokens[j - 1].end():tokens[j].start()]
            prev = tokens[j - 1].group(0)
            nxt = tokens[j].group(0)
            if not (gap == " " or (gap == ". " and len(prev) == 1)):
                break
            if _name_word(nxt) or (len(nxt) == 1 and nxt.isupper()):
                run.append(j)
            elif nxt.lower() in _PARTICLES and j + 1 < len(tokens) and _name_word(tokens[j + 1].group(0)):
                run.append(j)
            else:
                break
            j += 1
        found.extend(_names_in_run(text, tokens, run, common, is_known))
        i = j
    return found


def _after_title(text: str, tokens: list[re.Match[str]], k: int) -> bool:
    """Token k follows a title: "Dr. Ng", "Ms Okafor"."""
    if k == 0:
        return False
    prev = tokens[k - 1]
    return prev.group(0).lower() in _TITLES and text[prev.end():tokens[k].start()] in (" ", ". ")


def _product_word(word: str) -> bool:
    """An acronym or CamelCase word ("AWS", "HashiCorp"): the words beside it name a product or company."""
    return len(word) > 1 and word[0].isupper() and not _name_word(word)


def _in_product_phrase(text: str, tokens: list[re.Match[str]], piece: list[int]) -> bool:
    first, last = piece[0], piece[-1]
    if first > 0 and text[tokens[first - 1].end():tokens[first].start()] == " " \
            and _product_word(tokens[first - 1].group(0)):
        return True
    return last + 1 < len(tokens) and text[tokens[last].end():tokens[last + 1].start()] == " " \
        and _product_word(tokens[last + 1].group(0))


def _names_in_run(text: str, tokens: list[re.Match[str]], run: list[int], common,
                  is_known: Callable[[str], bool] | None = None) -> Iterable[str]:
    # split at words that are not name parts; keep stretches of name parts
    pieces: list[list[int]] = [[]]
    for k in run:
        w = tokens[k].group(0)
        if w.lower() in _PARTICLES and not w[0].isupper():
            pieces[-1].append(k)
        elif _after_title(text, tokens, k):
            pieces.append([k])  # "Dr. Strange": after a title any capitalised word is a name
        elif w.lower() in _TITLES or common(w):
            pieces.append([])
        else:
            pieces[-1].append(k)
    for piece in pieces:
        while piece and tokens[piece[-1]].group(0).lower() in _PARTICLES:
            piece.pop()
        while piece and tokens[piece[0]].group(0).lower() in _PARTICLES:
            piece.pop(0)
        caps = [k for k in piece if len(tokens[k].group(0)) > 1 and tokens[k].group(0)[0].isupper()]
        if not caps:
            continue
        value = text[tokens[piece[0]].start():tokens[piece[-1]].end()]
        if len({tokens[k].group(0).lower() for k in caps}) < len(caps):
            continue  # "Nomad Nomad", "Dial Dial": a stutter in a transcript, not a first and last name
        if _in_product_phrase(text, tokens, piece) and not _after_title(text, tokens, piece[0]):
            continue  # "HashiCorp Nomad Core", "Azure Data Factory"
        if len(caps) >= 2 or _after_title(text, tokens, piece[0]) or _cued(text, tokens, piece) \
                or (is_known is not None and _listed_with_known(text, tokens, piece, is_known)):
            yield value


def _listed_with_known(text: str, tokens: list[re.Match[str]], piece: list[int], is_known) -> bool:
    """A word in a list beside a known name: "Jurassi and Yuri" when Yuri is known."""
    after = _LISTED_AFTER.match(text, tokens[piece[-1]].end())
    if after is not None and is_known(after.group(1)):
        return True
    start = tokens[piece[0]].start()
    before = _LISTED_BEFORE.search(text[max(0, start - 80):start])  # a window: never a scan from 0
    return before is not None and is_known(before.group(1))


def _cued(text: str, tokens: list[re.Match[str]], piece: list[int]) -> bool:
    """One name word beside a speech verb or greeting: "Priya said", "thanks Priya"."""
    first, last = piece[0], piece[-1]
    after = tokens[last + 1] if last + 1 < len(tokens) else None
    if after is not None and text[tokens[last].end():after.start()] in (" ", "'s ", "’s ") \
            and after.group(0).lower() in _SPEECH_AFTER:
        return True
    if first > 0:
        prev = tokens[first - 1]
        gap = text[prev.end():tokens[first].start()]
        if prev.group(0).lower() in _SPEECH_BEFORE and gap.strip(" ,") == "":
            return True
    return False
