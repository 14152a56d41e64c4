"""What a marketer would catch on a read-through, as lint rules (all errors):

  fragment         a headline, subject or title ending in a preposition, article, conjunction or
                   possessive ("Book a 30-minute pipeline" is fine, "Download the" is not); any
                   text ending in an ellipsis, comma, colon or dash (a clause cut mid-way); a
                   quotation mark that never closes,
  generic_filler   phrases that say nothing about this product or this reader (FILLER),
  missing_product  the brief names a product and the asset never does,
  no_persona_item  the asset addresses no item of its own persona (it was written for nobody),
  repetition       (campaign level) two assets of one channel with the same headline set, the
                   same subject or the same headline.

`copy_findings` checks one asset; `repetition_findings` checks a whole campaign and is applied
when the campaign is assembled. Attribution (quotes) is its own module, `attribution`.

Measures (bench/bench_copy.py prints them; not lint rules, since one asset alone may fail them
fairly): `carried` (the copy says what its subject or headline promises), `opening` (the first
sentence after the greeting, to count how many assets open alike), `raises_doubt` (a subject or
headline that puts an objection to the reader and answers nothing).
"""

from __future__ import annotations

import re
from collections import defaultdict

from persona_assistant.messaging.attribution import field_texts, unbalanced_quotes
from persona_assistant.messaging.message_map import concepts
from persona_assistant.schemas import PERSONA_ITEM_FIELDS, Asset, Brief, LintFinding, Persona

# A headline or subject must not end on one of these: it reads as cut.
WEAK_END_WORDS = frozenset("""
a an the and or but nor so yet to of in on at by for with from into onto over under about as than
that which who whom whose this these those our your their its my his her is are was were be been
being has have had do does did will would can could should may might must not no every each
""".split())
FILLER = (
    "we help companies", "companies like yours", "i hope you're well", "i hope you are well",
    "just checking in", "touch base", "circle back", "reach out", "at the end of the day",
    "innovative solution", "state-of-the-art", "in today's", "you are not alone", "you're not alone",
    "this note is for you", "we'd love to", "don't miss out", "empower", "drive results",
    "boost productivity", "streamline your", "robust", "one-stop shop", "all-in-one solution",
    "take it to the next level", "next-generation", "unlock",
)
_FILLER_RE = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(f).replace("'", "['’]") for f in FILLER) + r")(?!\w)",
                        re.I)
_CUT_END = re.compile(r"(?:…|\.\.\.|[,:;–—-])\s*$")
_LAST_WORD = re.compile(r"([A-Za-z0-9'%$£€]+)[^A-Za-z0-9'%$£€]*$")  # "cut overtime by 31%" ends on "31%"
_HANGING_ADJECTIVE = re.compile(r"\b\d+-(?:minute|hour|day|week|month|year|step|point|page|second)\s*$", re.I)


def has_filler(text: str) -> bool:
    """Whether `text` holds a FILLER phrase (the offline engine does not write from such an item)."""
    return bool(_FILLER_RE.search(text))


def is_headline_field(name: str) -> bool:
    """Fields read as headlines: subject lines, headlines, titles (built-in and custom channels);
    a sub-headline is a sentence, not a headline."""
    name = name.lower()
    return not name.startswith("sub") and any(k in name for k in ("headline", "subject", "title")) \
        or name == "subject"


def fragment_problem(text: str, *, headline: bool) -> str | None:
    """Why `text` reads as a fragment, or None."""
    t = text.strip()
    if not t:
        return None
    open_quote = unbalanced_quotes(t)
    if open_quote:
        return f"the quotation mark {open_quote} never closes"
    if _CUT_END.search(t):
        return f"ends in {t[-1]!r}: a clause cut mid-way"
    if headline:
        m = _LAST_WORD.search(t.rstrip("?!.”\"’' "))
        if m and m.group(1).lower() in WEAK_END_WORDS:
            return f"ends on {m.group(1)!r}: a headline or subject must end on a whole phrase"
        m = _HANGING_ADJECTIVE.search(t)
        if m:
            return f"ends on {m.group(0)!r}, an adjective without its noun"
    return None


_SENTENCES = re.compile(r"(?<=[.?!])\s+|\n+")


def copy_findings(asset: Asset, brief: Brief, persona: Persona | None) -> list[LintFinding]:
    """fragment, generic_filler, repetition (a sentence twice in one text), missing_product and
    no_persona_item findings for one asset."""
    out: list[LintFinding] = []
    for name, value in asset.fields.items():
        headline = is_headline_field(name) or (isinstance(value, list) and name != "responses"
                                               and name != "questions")
        for suffix, text in field_texts(value):
            problem = fragment_problem(text, headline=headline)
            if problem:
                out.append(LintFinding(rule="fragment", field=name + suffix, message=problem))
            for m in _FILLER_RE.finditer(text):
                out.append(LintFinding(rule="generic_filler", field=name + suffix,
                                       message=f"{m.group(0)!r} says nothing about this product or reader"))
    flat = " ".join(t for v in asset.fields.values() for _, t in field_texts(v))
    said: set[str] = set()
    for name, value in asset.fields.items():  # one sentence twice in one text: the asset says it twice
        for suffix, text in field_texts(value):
            for sent in (x.strip().lower() for x in _SENTENCES.split(text) if len(x.strip()) >= 30):
                if (name + suffix, sent) in said:  # (one response of a list may share a sentence with another)
                    out.append(LintFinding(rule="repetition", field=name + suffix,
                                           message=f"says {sent[:40]!r}... twice"))
                said.add((name + suffix, sent))
    product = brief.product.strip()
    if product and asset.fields and not re.search(r"(?<!\w)" + re.escape(product) + r"(?!\w)", flat, re.I):
        out.append(LintFinding(rule="missing_product", field="*",
                               message=f"the asset never names the product ({product!r})"))
    if persona is not None and not any(_own_item(r.field, r.index, r.text, persona) for r in asset.addresses):
        out.append(LintFinding(rule="no_persona_item", field="addresses",
                               message=f"the asset addresses no item of persona {persona.id}"))
    return out


def _own_item(fname: str, index: int, text: str, persona: Persona) -> bool:
    items = getattr(persona, fname, None) if fname in PERSONA_ITEM_FIELDS else None
    return items is not None and index < len(items) and (not text or items[index].text == text)


def _key(value: str | list[str]) -> str | frozenset[str]:
    if isinstance(value, list):
        return frozenset(" ".join(v.lower().split()) for v in value)
    return " ".join(value.lower().split())


def repetition_findings(assets: list[Asset]) -> dict[str, list[LintFinding]]:
    """Per asset id, `repetition` findings: another asset of the same channel has the same headline
    set (anywhere in the campaign), or the same subject or headline for the same persona where one
    reader would see both: the same stage (its variants are tried against each other) or the same
    variant (an A/B arm a reader follows through the stages). Two audiences may share a benefit line.
    The first asset keeps it unflagged."""
    first: dict[tuple, list[Asset]] = defaultdict(list)
    out: dict[str, list[LintFinding]] = defaultdict(list)
    for a in assets:
        for name, value in a.fields.items():
            if not is_headline_field(name) or not value:
                continue
            key = (a.channel, "" if isinstance(value, list) else a.persona_id, name, _key(value))
            clash = next((b for b in first[key] if isinstance(value, list)
                          or b.stage == a.stage or b.variant == a.variant), None)
            if clash is not None:
                what = "headline set" if isinstance(value, list) else name
                out[a.id].append(LintFinding(rule="repetition", field=name, message=f"same {what} as {clash.id}"))
            first[key].append(a)
    return dict(out)


# --------------------------------------------------------------------------- measures

_GREETING = re.compile(r"^\s*(?:hi|hello|hey|dear)\b|^\s*(?:one more thought|this is \{\{)", re.I)
_DOUBT = re.compile(r"^(?:are|is) you (?:\w+ )?(?:worried|concerned|unsure|not sure)\b|^how much of a worry\b|"
                    r"^how sure are you\b|\b(?:concern|worry|risk) (?:is|was)\b", re.I)


def headline_fields(asset: Asset) -> list[str]:
    """The asset's subjects and single headlines (not an ad's list of headlines)."""
    return [v for k, v in asset.fields.items() if is_headline_field(k) and isinstance(v, str) and v.strip()]


def prose(asset: Asset) -> str:
    """The asset's text other than its subjects and headlines."""
    return "\n".join(t for k, v in asset.fields.items() if not is_headline_field(k) for _, t in field_texts(v))


def carried(headline: str, body: str) -> bool:
    """The copy says what its subject or headline promises: at least half of the headline's concepts
    are in the body."""
    want = set(concepts(headline))
    return not want or 2 * len(want & set(concepts(body))) >= len(want)


def opening(asset: Asset) -> str:
    """The first sentence of the asset's prose after a greeting line, lower-cased ('' if none)."""
    sentences = [t for t in re.split(r"(?<=[.?!])\s+|\n+", prose(asset)) if t.strip()]
    first = next((t for t in sentences if not _GREETING.match(t)), "")
    return " ".join(first.lower().split())


def raises_doubt(text: str) -> bool:
    """A subject or headline that puts a worry to the reader ("Are you worried about ...?")."""
    return bool(_DOUBT.search(text.strip()))
