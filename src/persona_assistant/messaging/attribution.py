"""Attribution rules: whose words outbound copy may present, decided in one place.

The product promises never to invent a quote. In copy that means:

1. Text inside quotation marks (“…”, "…", ‘…’, '…'), and any sentence that introduces
   someone's words ("X said", "one customer told us", "we hear", "according to …", "put it
   this way"), must be a verified interview quote (persona evidence, checked by
   draft/evidence) from a source whose front matter says `consent: public`. Anything else
   fails with rule `misattribution`; a brief proof point or value proposition shown as a
   quote gets its own message, because the brief speaks in the company's voice, never a
   person's.
2. Interview text from a source without `consent: public` never appears in outbound copy,
   quoted or not: a run of QUOTE_RUN_WORDS or more consecutive words of such a quote fails
   with rule `interview_quote`. The insight may be used (a short clause, in the company's
   voice); the person may not.

`QuotePolicy` carries what the checks need (built once per campaign by `quote_policy`);
`attribution_findings` applies it to an asset's fields. The offline engine never quotes at
all; the model path is linted with the same rules and re-asked with their findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from persona_assistant.draft.evidence import evidence_items
from persona_assistant.errors import InputError
from persona_assistant.schemas import Brief, LintFinding, Persona, QuoteEvidence

# This many consecutive words of a non-public interview quote make it a quote, not an insight.
QUOTE_RUN_WORDS = 12
# Shorter quoted spans ("“day three”") are scare quotes or terms, not someone's words.
MIN_QUOTED_WORDS = 3

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_QUOTED = [
    re.compile(r"“([^“”]+)”"),
    re.compile(r"«([^«»]+)»"),
    re.compile(r"(?<![\w\"])\"([^\"\n]+)\"(?![\w])"),
    re.compile(r"‘([^‘’]+?)’(?![a-z])"),
    re.compile(r"(?<![\w'’])'(?=[A-Za-z])([^'\n]+?[^\s'])'(?![\w])"),
]
_CUES = re.compile(
    r"\b(?:said|says|saying|told (?:us|me|them)|tells (?:us|me)|we (?:keep )?hear(?:d)?|"
    r"put it (?:this way|like this|best)|in (?:his|her|their|the customer's) (?:own )?words|"
    r"according to|as (?:one|a|an) [\w ,&-]{1,40}? (?:said|put it|told us|explained)|"
    r"(?:customers?|clients?|users?|buyers?|interviewees?|prospects?) (?:told|said|shared|explained|admitted)|"
    r"shared with us|explained to us|admitted)\b", re.I)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[”\"’']?|$)")


def words(text: str) -> list[str]:
    """Lower-case word tokens (apostrophes kept inside words), for comparing copy and quotes."""
    return _WORD.findall(text.lower().replace("’", "'"))


def quoted_spans(text: str) -> list[str]:
    """Every span of `text` inside quotation marks, outermost pairs first, in order found."""
    out: list[str] = []
    for pattern in _QUOTED:
        out += [m.group(1) for m in pattern.finditer(text)]
    return out


def unbalanced_quotes(text: str) -> str | None:
    """The quotation mark left open in `text`, or None when every quote closes."""
    if text.count("“") != text.count("”"):
        return "“" if text.count("“") > text.count("”") else "”"
    if text.count("«") != text.count("»"):
        return "«"
    if text.count('"') % 2:
        return '"'
    return None


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


def longest_shared_run(a: list[str], b: list[str]) -> int:
    """Length of the longest run of consecutive words common to `a` and `b`."""
    best, prev = 0, [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


@dataclass(frozen=True)
class Quote:
    source_id: str
    text: str
    words: tuple[str, ...]


@dataclass
class QuotePolicy:
    """What attribution needs: interview quotes split by consent, and the brief's own claims."""

    public: list[Quote] = field(default_factory=list)  # verified, from `consent: public` sources
    private: list[Quote] = field(default_factory=list)  # verified, any other source
    brief_claims: list[tuple[str, list[str]]] = field(default_factory=list)  # (kind, words)

    def is_public_quote(self, span: str) -> bool:
        w = words(span)
        return any(_contains(list(q.words), w) for q in self.public)

    def brief_kind(self, span: str) -> str | None:
        """'proof point' or 'value proposition' when `span` is (a piece of) one of the brief's."""
        w = words(span)
        for kind, claim in self.brief_claims:
            if len(w) >= MIN_QUOTED_WORDS and (_contains(claim, w) or _contains(w, claim)):
                return kind
        return None

    def private_source(self, text: str) -> str | None:
        """The source id of a non-public quote that `text` repeats for QUOTE_RUN_WORDS+ words."""
        w = words(text)
        if len(w) < QUOTE_RUN_WORDS:
            return None
        for q in self.private:
            if len(q.words) >= QUOTE_RUN_WORDS and longest_shared_run(w, list(q.words)) >= QUOTE_RUN_WORDS:
                return q.source_id
        return None


def persona_quotes(personas: Iterable[Persona]) -> list[QuoteEvidence]:
    """Every verified quote the personas carry (items' evidence and the persona's quotes)."""
    return [e for _, e in evidence_items(list(personas)) if isinstance(e, QuoteEvidence)]


def quote_policy(personas: Iterable[Persona], brief: Brief, public_sources: Iterable[str]) -> QuotePolicy:
    """The policy for a campaign: `public_sources` are the ids of notes with `consent: public`."""
    public_ids = set(public_sources)
    policy = QuotePolicy()
    seen: set[tuple[str, str]] = set()
    for q in persona_quotes(personas):
        key = (q.source_id, q.text)
        if key in seen:
            continue
        seen.add(key)
        quote = Quote(q.source_id, q.text, tuple(words(q.text)))
        (policy.public if q.source_id in public_ids else policy.private).append(quote)
    policy.brief_claims = [("proof point", words(p.claim)) for p in brief.proof_points if p.claim.strip()]
    policy.brief_claims += [("value proposition", words(v)) for v in brief.value_propositions if v.strip()]
    return policy


def field_texts(value: str | list[str]) -> list[tuple[str, str]]:
    """An asset field's texts with their suffix for findings: ("", text), or ("[i]", text) per item of
    a list field (headlines, descriptions); the one walk every lint rule uses."""
    return [("", value)] if isinstance(value, str) else [(f"[{i}]", v) for i, v in enumerate(value)]


def attribution_findings(fields: dict[str, str | list[str]], policy: QuotePolicy) -> list[LintFinding]:
    """`misattribution` and `interview_quote` findings for an asset's fields (see module doc)."""
    out: list[LintFinding] = []

    def add(rule: str, where: str, message: str) -> None:
        out.append(LintFinding(rule=rule, field=where, message=message))

    for name, value in fields.items():
        for suffix, text in field_texts(value):
            where = name + suffix
            spans = [s for s in quoted_spans(text) if len(words(s)) >= MIN_QUOTED_WORDS]
            for span in spans:
                if policy.is_public_quote(span):
                    continue
                kind = policy.brief_kind(span)
                shown = " ".join(span.split())[:60]
                if kind:
                    add("misattribution", where, f"a brief {kind} is shown as someone's words ({shown!r}): "
                                                 "state it in the company's voice, without quotation marks")
                else:
                    add("misattribution", where, f"quoted text {shown!r} is not a verified interview quote "
                                                 "from a source with `consent: public`")
            for m in _SENTENCE.finditer(text):
                sentence = m.group(0)
                cue = _CUES.search(sentence)
                if cue and not any(policy.is_public_quote(s) for s in quoted_spans(sentence)) \
                        and not any(s in sentence for s in spans):
                    add("misattribution", where, f"{cue.group(0)!r} presents words as someone's without a "
                                                 "verified public quote: say it in the company's voice")
            source = policy.private_source(text)
            if source:
                add("interview_quote", where, f"repeats interview text from {source} (no `consent: public` in "
                                              "its front matter): use the insight in your own words")
    return out


def public_sources(ws) -> tuple[str, ...]:
    """Ids of the interview notes whose front matter says `consent: public` (their verified quotes
    may appear in copy); unreadable notes grant no consent."""
    from persona_assistant.ingest.notes import load_sources

    files = ws.note_files()
    try:
        sources = load_sources(files, root=ws.root) if files else []
    except InputError:
        return ()
    return tuple(sorted(s.id for s in sources if str(s.extra.get("consent", "")).strip().lower() == "public"))
