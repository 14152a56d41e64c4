"""The offline engine: an ICP (and, through draft/offline_personas, personas) from the data
with no model at all.

It is the default when no endpoint is configured, so it must read the data and
invent nothing: every supported item is a verbatim sentence of an interviewee
(file + lines, checked by draft/evidence.py) or a segment statistic copied from
the CRM analysis. Where nothing supports a field it says "unknown" or leaves the
list empty.

Rules (documented here because they shape the output):
- Who is an interviewee, what each statement is about, themes and persona groups are
  decided by synthesis/ (see synthesis/pipeline.py); this module keeps the helpers both
  drafts share (role words, buying role, names, vocabulary) and the ICP.
- buying_role: C-level finance -> financial_buyer; other C-level and VP ->
  decision_maker; security/procurement/legal -> blocker; IT -> influencer;
  director/manager -> champion; individual contributor -> user; consumer ->
  decision_maker; otherwise unknown.
- A source is B2C when its front matter says segment consumer/b2c/individual, or it
  has front matter without a company and a role that is not a job (student, parent ...).
  B2C personas get icp_id None.
- Name: a first name picked by a stable hash of the persona id from FIRST_NAMES,
  plus the role ("Maya, the Controller").
- ICP: firmographics and qualification signals only from segments the analysis
  marks "better" (weight = ln(lift)); disqualifiers from "worse" segments;
  challenges and goals are the interviewees' pain and goal themes, traits, expansion and
  advocacy their sentences that match the ICP cues, all prefixed "From interviews:".
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from persona_assistant.draft.cues import MIN_SCORE, SECTION_BONUS, SECTION_RES, cue_scores
from persona_assistant.ingest.notes import Sentence, Source, split_sentences
from persona_assistant.roles import parse_title
from persona_assistant.schemas import (
    ICP, Analysis, Claim, DataSufficiency, Disqualifier, Firmographics,
    QualificationSignal, QuoteEvidence, Segment, StatEvidence,
)

ICP_FIELDS = ("traits", "expansion", "advocacy")
MAX_EVIDENCE = 4
MAX_CLAIM_CHARS = 240
MAX_DEAL_IDS = 10  # deal ids cited per statistic (a subset of the segment's)

CONSUMER_SEGMENTS = {"b2c", "consumer", "individual", "personal", "household"}
FIRST_NAMES = ["Sam", "Jonah", "Ines", "Marcus", "Elena", "Maya", "Noah", "Aisha", "Leo", "Grace",
               "Omar", "Hana", "Ivan", "Rosa", "Theo", "Nadia"]
DIMENSION_FIELDS = {
    "industry": "industries", "sector": "industries", "vertical": "industries",
    "employee_band": "employee_bands", "employees": "employee_bands", "company_size": "employee_bands",
    "revenue_band": "revenue_bands", "region": "regions", "office_location": "regions",
    "country": "regions", "state": "regions", "geo": "regions",
    "technology": "technographics", "tech": "technographics", "stack": "technographics",
}

STOP = set("""
a about above after again against all also am an and any are aren't as at be because been before being
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
during each few for from further get gets got had hadn't has hasn't have haven't having he her here hers
herself him himself his how i i'd i'll i'm i've if in into is isn't it it's its itself just let's like
me more most much must my myself no nor not now of off on once only or other our ours ourselves out over
own really right same she should so some such than that that's the their theirs them themselves then
there there's these they they'd they'll they're they've thing things think this those through to too
under until up us very was wasn't way we we'd we'll we're we've well were weren't what what's when where
which while who whom why will with won't would wouldn't yeah yes you you'd you'll you're you've your
yours yourself actually kind sort lot lots going go know mean something someone anything everything
even still maybe pretty quite basically probably definitely able want wanted need needs use used using
make makes made take takes one two three first also every many much people time times year years day
days said say says see seen look looking great good new back around already sure okay ok um uh oh
gonna gotta stuff bit little big work working worked thank thanks hi hello everyone today question
questions talk talking tell told yes yeah right whole able lot let us via per etc able across
""".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+&'’-]*")
_BAD_SENTENCE = re.compile(r"\*\*|\]\(|https?://|`|<[a-z/]", re.I)
_FIRST_PERSON = re.compile(r"\b(?:I|we|our|my|us|me)\b|\b(?:I|we)['’]", re.I)


# --------------------------------------------------------------------------- roles


def classify_role(role: str | None) -> tuple[str, str]:
    """(function, seniority) of a role or title (roles.parse_title); ("unknown", "unknown") when nothing fits."""
    seniority, function = parse_title(role)
    if function == "consumer":
        seniority = "unknown"
    return function, seniority


def buying_role(function: str, seniority: str) -> str:
    """The documented rules in the module docstring."""
    if function == "consumer":
        return "decision_maker"
    if seniority == "c_level":
        return "financial_buyer" if function == "finance" else "decision_maker"
    if seniority == "vp":
        return "decision_maker"
    if function in ("security", "procurement", "legal"):
        return "blocker"
    if function == "it":
        return "influencer"
    if seniority in ("director", "manager"):
        return "champion"
    if seniority == "individual_contributor":
        return "user"
    return "unknown"


def title_case(role: str) -> str:
    """'staff engineer' -> 'Staff Engineer', 'head of finance' -> 'Head of Finance'; acronyms and
    mixed case stay as written, and so do small words after the first."""
    words = []
    for i, w in enumerate(role.split()):
        small = i > 0 and w.lower() in ("of", "and", "the", "at", "for", "in", "on")
        words.append(w.lower() if small else w if any(c.isupper() for c in w) else w[:1].upper() + w[1:])
    return " ".join(words)


def is_b2c(src: Source) -> bool:
    segment = (src.meta.get("segment") or "").strip().lower()
    if segment in CONSUMER_SEGMENTS:
        return True
    if src.front_matter_lines and not src.company:
        return classify_role(src.role_hint)[0] in ("consumer", "unknown") and bool(src.meta)
    return False


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "persona"


def persona_name(persona_id: str, role: str, taken: set[str]) -> str:
    """A stable first name for a persona id (distinct within one set), plus the role."""
    start = int(hashlib.sha256(persona_id.encode()).hexdigest(), 16) % len(FIRST_NAMES)
    for k in range(len(FIRST_NAMES)):
        first = FIRST_NAMES[(start + k) % len(FIRST_NAMES)]
        if first not in taken:
            taken.add(first)
            break
    return f"{first}, the {role}"


# --------------------------------------------------------------------------- sentence scoring


@dataclass
class Candidate:
    field: str
    score: float
    sentence: Sentence
    source: Source
    stems: frozenset[str] = frozenset()


def _stem(word: str) -> str:
    w = word.lower().replace("’", "'")
    for suf in ("ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "s"):
        if len(w) > len(suf) + 3 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def content_words(text: str):
    """The words of `text` that carry content (lower case; no stop words, none under 3 letters)."""
    words = (w.lower().replace("’", "'") for w in _WORD.findall(text))  # "I’m" is the stop word "i'm"
    return (w for w in words if w not in STOP and len(w) > 2)


def content_stems(text: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in content_words(text))


def _field_scores(sent: Sentence) -> dict[str, float]:
    scores = cue_scores(sent.text, ICP_FIELDS)
    for fld in ICP_FIELDS:
        rx_section = SECTION_RES.get(fld)
        if rx_section and sent.section and rx_section.search(sent.section):
            scores[fld] = scores.get(fld, 0.0) + SECTION_BONUS
    return scores


def icp_candidates(syn) -> list[Candidate]:
    """Interviewees' sentences (synthesis people only: never a host's) scored for the ICP-only
    fields: traits of their environment, expansion, advocacy."""
    out: list[Candidate] = []
    for c in syn.casts:
        src = c.source
        for p in c.people:
            for turn in src.turns:
                if turn.speaker not in p.labels or src.is_excluded(turn.line_start):
                    continue
                for sent in split_sentences(turn, src):
                    n = len(sent.text.split())
                    if n < 6 or n > 60 or sent.text.rstrip().endswith("?") or _BAD_SENTENCE.search(sent.text):
                        continue
                    bonus = (1 if 10 <= n <= 35 else 0) + (1 if _FIRST_PERSON.search(sent.text) else 0)
                    for f, score in _field_scores(sent).items():
                        if score >= MIN_SCORE:
                            out.append(Candidate(f, score + bonus, sent, src, content_stems(sent.text)))
    return out


@dataclass
class Cluster:
    members: list[Candidate] = field(default_factory=list)
    stems: set[str] = field(default_factory=set)

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(m.source.id for m in self.members))

    @property
    def score(self) -> float:
        return max(m.score for m in self.members) + 1.5 * (len(self.sources) - 1) + 0.25 * (len(self.members) - 1)


def cluster(cands: list[Candidate]) -> list[Cluster]:
    """Greedy clustering of similar sentences (>= 2 shared content stems covering >= 30%
    of the smaller sentence), best cluster first."""
    clusters: list[Cluster] = []
    seen: set[tuple[str, int, str]] = set()
    for c in sorted(cands, key=lambda c: (-c.score, c.source.id, c.sentence.line_start)):
        key = (c.source.id, c.sentence.line_start, c.sentence.text)
        if key in seen:
            continue
        seen.add(key)
        for cl in clusters:
            rep = cl.members[0].stems
            shared = len(rep & c.stems)
            if shared >= 2 and shared / max(1, min(len(rep), len(c.stems))) >= 0.3:
                cl.members.append(c)
                break
        else:
            clusters.append(Cluster([c], set(c.stems)))
    return sorted(clusters, key=lambda cl: -cl.score)


def quote_of(sent: Sentence, src: Source) -> QuoteEvidence:
    return QuoteEvidence(source_id=src.id, path=src.path, line_start=sent.line_start,
                         line_end=sent.line_end, text=sent.text)


def _confidence(n_sources: int) -> str:
    return "high" if n_sources >= 3 else "medium" if n_sources == 2 else "low"


def _short(text: str, n: int = MAX_CLAIM_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def claim_of(cl: Cluster, prefix: str = "") -> Claim:
    """A supported claim: the best sentence as text, one quote per interview as evidence."""
    best_per_source: dict[str, Candidate] = {}
    for m in cl.members:
        best_per_source.setdefault(m.source.id, m)
    evidence = [quote_of(m.sentence, m.source) for m in list(best_per_source.values())[:MAX_EVIDENCE]]
    return Claim(text=prefix + _short(cl.members[0].sentence.text), evidence=evidence,
                 confidence=_confidence(len(best_per_source)), status="supported")


def _claims(cands: list[Candidate], fld: str, limit: int, prefix: str = "") -> list[Claim]:
    return [claim_of(cl, prefix) for cl in cluster([c for c in cands if c.field == fld])[:limit]]


def vocabulary(sentences: list[Sentence], limit: int = 12) -> list[str]:
    """Frequent domain terms: two-word terms said in >= 2 sentences, then single words in >= 3."""
    bigrams: Counter = Counter()
    unigrams: Counter = Counter()
    for s in sentences:
        words = [w.lower().replace("’", "'").strip("'-") for w in _WORD.findall(s.text)]
        ok = [w if (w not in STOP and len(w) > 2 and not w.isdigit()) else None for w in words]
        bigrams.update({f"{a} {b}" for a, b in zip(ok, ok[1:]) if a and b and a != b})
        unigrams.update({w for w in ok if w and len(w) > 3})
    out = [b for b, n in sorted(bigrams.items(), key=lambda kv: (-kv[1], kv[0])) if n >= 2][: limit * 2 // 3]
    used = {w for b in out for w in b.split()}
    out += [w for w, n in sorted(unigrams.items(), key=lambda kv: (-kv[1], kv[0]))
            if n >= 3 and w not in used][: limit - len(out)]
    return out


# --------------------------------------------------------------------------- ICP


def _pretty(dimensions: dict[str, str]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in dimensions.items())


def _stat(seg: Segment) -> StatEvidence:
    return StatEvidence(segment_id=seg.id, closed=seg.closed, won=seg.won, win_rate=seg.win_rate,
                        ci_low=seg.ci_low, ci_high=seg.ci_high, deal_ids=list(seg.deal_ids[:MAX_DEAL_IDS]))


def _seg_text(seg: Segment, analysis: Analysis) -> str:
    lift = f", lift {seg.lift:.2f}" if seg.lift else ""
    return (f"{_pretty(seg.dimensions)}: win rate {seg.win_rate:.0%} (interval {seg.ci_low:.0%}-"
            f"{seg.ci_high:.0%}) on {seg.closed} closed deals vs {analysis.baseline.win_rate:.0%} overall{lift}")


def _stat_confidence(seg: Segment, analysis: Analysis) -> str:
    """high: sufficient data and >= 4x the minimum support; medium: sufficient; low: directional."""
    if analysis.sufficiency.verdict != "sufficient":
        return "low"
    return "high" if seg.closed >= 4 * analysis.min_support else "medium"


def offline_icp(analysis: Analysis | None, sources: list[Source]) -> ICP:
    """An ICP whose firmographics are only significant CRM segments and whose challenges,
    goals and traits are only interviewee quotes."""
    better: list[Segment] = []
    worse: list[Segment] = []
    if analysis is not None:
        rank = {sid: i for i, sid in enumerate(analysis.icp_candidates)}
        better = sorted((s for s in analysis.segments if s.verdict == "better"),
                        key=lambda s: (rank.get(s.id, len(rank)), -(s.lift or 0), s.id))
        worse = sorted((s for s in analysis.segments if s.verdict == "worse"), key=lambda s: ((s.lift or 0), s.id))
    firmo: dict[str, list[Claim]] = defaultdict(list)
    signals, disqualifiers = [], []
    for seg in better:
        single = len(seg.dimensions) == 1
        dim, value = next(iter(seg.dimensions.items())) if single else (None, seg.id)
        conf = _stat_confidence(seg, analysis)
        firmo[DIMENSION_FIELDS.get(dim or "", "other")].append(
            Claim(text=_seg_text(seg, analysis), evidence=[_stat(seg)], confidence=conf, status="supported"))
        weight = round(math.log(seg.lift), 3) if seg.lift and seg.lift > 0 else 0.0
        signals.append(QualificationSignal(criterion=_pretty(seg.dimensions), dimension=dim, value=value,
                                           weight=weight, evidence=[_stat(seg)], confidence=conf))
    for seg in worse:
        single = len(seg.dimensions) == 1
        dim, value = next(iter(seg.dimensions.items())) if single else (None, seg.id)
        disqualifiers.append(Disqualifier(
            criterion=_pretty(seg.dimensions), dimension=dim, value=value,
            reason=(f"win rate {seg.win_rate:.0%} vs {analysis.baseline.win_rate:.0%} overall "
                    f"on {seg.closed} closed deals"),
            evidence=[_stat(seg)], confidence=_stat_confidence(seg, analysis)))

    from persona_assistant.draft.offline_personas import theme_claim
    from persona_assistant.synthesis.pipeline import synthesize

    syn = synthesize(sources, b2c=is_b2c)
    themes = syn.themes_for(syn.people)
    cands = icp_candidates(syn)
    prefix = "From interviews: "

    def interview_claims(fld: str, limit: int) -> list[Claim]:
        claims = [theme_claim(th) for th in themes if th.field == fld][:limit]
        return [c.model_copy(update={"text": prefix + c.text}) for c in claims]

    expansion = _claims(cands, "expansion", 1, prefix)
    advocacy = _claims(cands, "advocacy", 1, prefix)
    sufficiency = analysis.sufficiency if analysis is not None else DataSufficiency(
        won=0, lost=0, verdict="insufficient", note="no CRM analysis was run")
    if better:
        names = "; ".join(_pretty(s.dimensions) for s in better[:3])
        summary = (f"The CRM data singles out {names} (won {sufficiency.won}, lost {sufficiency.lost}; "
                   f"data {sufficiency.verdict})."
                   + (" Challenges and goals come from interview quotes." if sources else ""))
        name = f"Best fit: {_pretty(better[0].dimensions)}"
    else:
        why = "no CRM analysis was run" if analysis is None else (
            f"won {sufficiency.won}, lost {sufficiency.lost}; data {sufficiency.verdict}")
        summary = (f"The CRM data does not single out a segment ({why}). The profile below "
                   f"rests on interview evidence only.")
        name = "Interview-led profile (no CRM segment stands out)"
    return ICP(
        id="icp-primary", name=name, summary=summary, crm_singles_out_segment=bool(better),
        firmographics=Firmographics(**firmo), segments=[s.id for s in better],
        challenges=interview_claims("pains", 5), goals=interview_claims("goals", 5),
        traits=_claims(cands, "traits", 5, prefix),
        long_term_value=expansion[0] if expansion else Claim(text="unknown"),
        advocacy_potential=advocacy[0] if advocacy else Claim(text="unknown"),
        qualification_signals=signals, disqualifiers=disqualifiers, data_sufficiency=sufficiency)
