"""The message map: what a persona hears, decided once, before any copy is written.

Per persona: its top items (pains, goals, objections, triggers, decision criteria; ranked by
how many distinct interviewees stand behind each; every objection, the top TOP_PER_FIELD of the
other fields), the brief's value proposition that answers each item, the proof point that
backs that answer (with its index and source), the call to action per stage, and the words the
persona uses. Per stage, the entries it leads with: awareness pains and triggers,
consideration goals and decision criteria, decision objections.

Every asset is written from the map (offline engine and model prompt alike) and names the
entries it used (`Asset.map_entries`); the map is saved in the campaign version.

Matching by meaning, offline: `similarity` is the mean of two scores. One is lexical: words
reduced to crude stems and then to concepts through a small table of business synonyms
(CONCEPTS: "spreadsheet", "manual" and "by hand" are one concept), compared by idf-weighted
cosine, which is precise but misses paraphrase. The other is the cosine of the two sentences'
WordLlama embeddings (synthesis/embed.py, the one sentence embedder of the project), rescaled so
that what two unrelated sentences share (EMBED_FLOOR) counts as nothing: it meets "plan staffing
from the occupancy forecast" with "demand forecasts ... in one schedule" where no stem is shared.
An item is answered by the value proposition with the highest similarity, when that reaches ANSWERS
(OBJECTION_ANSWERS for an objection or decision criterion, which a promise meets only when it
clearly speaks to it); below that the entry has no value proposition: the copy leaves the item
unanswered (a gap, a question, the call to action) rather than answer it with something else.
The thresholds were set against tests/data/pairing_labels.json (a reader's pairing of 88 items
of the demo and second workspaces), which bench/bench_copy.py scores as "pairing accuracy".
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from persona_assistant.draft.evidence import interviewees
from persona_assistant.errors import InputError
from persona_assistant.schemas import (
    Brief, ItemRef, MapEntry, MessageMap, Persona, Stage, StageMessage,
)
from persona_assistant.synthesis.embed import default_embedder

STAGE_ORDER: tuple[Stage, ...] = ("awareness", "consideration", "decision")
STAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "awareness": ("pains", "triggers"),
    "consideration": ("goals", "decision_criteria", "pains"),
    "decision": ("objections", "decision_criteria"),
}
MAP_FIELDS = ("pains", "goals", "objections", "triggers", "decision_criteria")
TOP_PER_FIELD = 4
ANSWERS = 0.1  # below this similarity an answer does not really meet the item it is paired with
OBJECTION_ANSWERS = 0.25  # an objection or criterion: a value proposition answers it only when it clearly meets it
EMBED_FLOOR = 0.15  # WordLlama cosine of two unrelated business sentences: only what lies above it is meaning
REUSE_PENALTY = 0.015  # per earlier use of a proposition or proof point: only near ties go to the unused one
PROOF_REUSE = 0.05  # per earlier use of a proof point: one survey figure does not back every entry

_STOP = frozenset("""
a an the and or but so to of in on at by for with from into as than that which who this these those
it its is are was were be been being has have had do does did will would can could should may might
must not no i we you he she they me us him them my our your his her their what when where how why
all any some every each more most other such only own same just very also there here then now
about over after before because while if up out one two get got go going want need like really
i'm i've it's we're that's don't worried worry concern sure under available take make
last new instead average took nine ten three four five six seven eight across next
""".split())
# Business synonyms: every word of a group maps to the group's concept (its first word).
CONCEPTS = (
    "time fast faster quick quickly speed slow slower minutes days weeks months hours forever long wait "
    "delay late deadline drag sooner weekend night",
    "manual manually hand spreadsheet spreadsheets excel rebuild copy paste tedious repetitive "
    "automate automatic automatically automation template formula",
    "error mistake wrong break broken trust accurate accuracy correct fix adjustment mismatch "
    "exception exceptions overwrote",
    "visibility see status glance track tracking dashboard view live real-time transparency chase "
    "chasing follow-up know open visible",
    "integrate integration connector api erp sync export import plug system systems connect link flow feed "
    "re-key rekey re-keying two-way",
    "payroll timesheet timesheets pay-run",
    "security secure soc compliance compliant sso nda gdpr hipaa privacy protection protect sensitive",
    "rule rules law laws legal fine fines dispute claim claims breaks predictive-scheduling regulation",
    "audit auditor auditors evidence trail sign-off signoff approval review reviewer reviewers finding "
    "record log history",
    "cost price budget expensive spend money roi save saving cheap afford fiscal license overtime wage "
    "wages labor labour",
    "headcount hire hiring staff people burn burnout workload freeze accountants employees workers "
    "turnover retention quit",
    "implement implementation adopt adoption learn training onboard onboarding setup rollout migrate "
    "migration switch go-live deploy",
    "scale growth grow entities volume multi locations sites site stores",
    "reconcile reconciliation reconciliations match matching bank ledger subledger",
    "close closing month-end period books",
    "schedule scheduling shift shifts rota roster coverage staffing swap no-show no-shows call-out absent",
    "customer customers client clients patient guests guest",
    "report reporting reports numbers board forecast forecasting",
)


def stem(word: str) -> str:
    """A crude suffix-stripping stem, enough to meet "reconciliations" and "reconciling"."""
    w = re.sub(r"['’]s$", "", word.lower()).strip("'’-")  # "week's" is "week"
    for suffix in ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ed", "es", "s", "ly"):
        if suffix == "es" and not re.search(r"(?:[sxz]|[cs]h)es$", w):
            continue  # "phones" -> "phone" (by "s"), "matches" -> "match"
        if len(w) - len(suffix) >= 4 and w.endswith(suffix):
            return w[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return w


@lru_cache(maxsize=1)
def concept_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for group in CONCEPTS:
        words = group.split()
        for w in words:
            table.setdefault(stem(w), "@" + words[0])
            if w.endswith("e"):  # "closed" stems to "clos": it still means "close"
                table.setdefault(w[:-1], "@" + words[0])
    return table


_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+\b")  # two or more capitalised words in a row


def concepts(text: str) -> list[str]:
    """Concept tokens of `text`: synonyms folded, stop words dropped, other words stemmed."""
    table = concept_table()
    tokens = text.split()
    if sum(t[:1].isupper() for t in tokens) * 2 <= len(tokens):  # (a Title Case headline is no run of names)
        text = _NAME.sub(" ", text)  # "Ember Grill House cut overtime": a customer's name is not what it says
    text = re.sub(r"\bby hand\b", "manual", text.lower())
    text = re.sub(r"\bgo(?:es|ing)? live\b", "go-live", text)
    text = re.sub(r"\bset(?:ting)? up\b", "setup", text)
    out = []
    for w in re.findall(r"[a-z0-9][a-z0-9'’-]*", text):
        if w in _STOP or len(w) < 3:
            continue
        s = stem(w)
        out.append(table.get(s, table.get(w, s)))
    return out


def content_stems(text: str) -> set[str]:
    """The stems of `text`'s content words (stop words dropped, no synonyms folded)."""
    return {stem(w) for w in re.findall(r"[a-z0-9][a-z0-9'’-]*", text.lower()) if w not in _STOP and len(w) >= 3}


def similarity(a: str, b: str, idf: dict[str, float] | None = None) -> float:
    """How far `a` and `b` say the same thing: the mean of the lexical concept score and the
    rescaled embedding cosine (see module doc); 0 when they share nothing."""
    if not a.strip() or not b.strip():
        return 0.0
    semantic = max(0.0, (float(_vector(a) @ _vector(b)) - EMBED_FLOOR) / (1 - EMBED_FLOOR))
    return (lexical_similarity(a, b, idf) + semantic) / 2


@lru_cache(maxsize=4096)
def _vector(text: str):
    return default_embedder().embed([text])[0]


def lexical_similarity(a: str, b: str, idf: dict[str, float] | None = None) -> float:
    """idf-weighted cosine between the concept bags of `a` and `b` (0 when nothing is shared)."""
    ca, cb = Counter(set(concepts(a))), Counter(set(concepts(b)))  # presence: a repeated concept counts once
    if not ca or not cb:
        return 0.0
    weight = (lambda t: (idf or {}).get(t, 1.0))
    dot = sum(ca[t] * cb[t] * weight(t) ** 2 for t in ca.keys() & cb.keys())
    na = math.sqrt(sum((n * weight(t)) ** 2 for t, n in ca.items()))
    nb = math.sqrt(sum((n * weight(t)) ** 2 for t, n in cb.items()))
    return dot / (na * nb) if na and nb else 0.0


_PARTS = re.compile(r":\s+|;\s+|,\s+(?:with|and|so|before|without)\s+|\s+(?:before|so that|without)\s+")
PART_WEIGHT = 0.9  # a match on one part of a proposition counts a little less than one on the whole


def answer_similarity(item: str, vp: str, idf: dict[str, float] | None = None) -> float:
    """How far `vp` answers `item`: the whole proposition, or its best part, for a proposition that
    promises several things ("Stay compliant ... in every state, with an audit log for each change"
    answers "one record of every shift change" by its second part)."""
    parts = [p for p in _PARTS.split(vp) if len(p.split()) >= 3]
    whole = similarity(item, vp, idf)
    return max([whole] + [PART_WEIGHT * similarity(item, p, idf) for p in parts if p != vp])


def idf_of(texts: list[str]) -> dict[str, float]:
    docs = [set(concepts(t)) for t in texts if t.strip()]
    df = Counter(t for d in docs for t in d)
    return {t: math.log((1 + len(docs)) / (1 + n)) + 1.0 for t, n in df.items()}


def _usable(text: str) -> bool:
    return bool(text.strip()) and text.strip().lower() != "unknown"


def answer_floor(field: str) -> float:
    """The similarity a value proposition needs to answer an item of `field`."""
    return OBJECTION_ANSWERS if field in ("objections", "decision_criteria") else ANSWERS


# How much a call to action asks of a reader: something to read or watch, a conversation, a trial or purchase.
_ASKS = ((0, re.compile(r"\b(?:download|read|watch|checklist|guide|benchmark|report|e-?book|template|webinar|tour|"
                       r"playbook|whitepaper|calculator)\b", re.I)),
         (2, re.compile(r"\b(?:trial|start|try|sign up|buy|subscribe|free account)\b", re.I)),
         (1, re.compile(r".")))


def cta_weight(cta: str) -> int:
    """0 for content (a checklist, a tour), 1 for a conversation (a review, a demo), 2 for a trial."""
    return next(w for w, pattern in _ASKS if pattern.search(cta))


_ASK_VERBS = frozenset("book schedule request arrange get download see read watch grab claim start try join".split())


def cta_object(cta: str) -> str | None:
    """What a call to action asks for ("Book a 20-minute rota review" -> "a 20-minute rota review") when
    it starts with a verb and its object says enough to be recognised alone (two words besides an
    article): the copy may ask for the object ("Open to a 20-minute rota review?") and the lint counts it."""
    verb, _, obj = bare_cta(cta).partition(" ")
    meaningful = [w for w in obj.split() if w.lower() not in ("a", "an", "the", "your", "our")]
    return obj if verb.lower() in _ASK_VERBS and len(meaningful) >= 2 else None


def bare_cta(cta: str) -> str:
    return " ".join(cta.split()).rstrip(".!?;:, ")


def stage_cta(brief: Brief, stage: Stage) -> str:
    """Awareness copy asks for the lightest call to action, decision copy for the heaviest (a cold
    reader is offered the benchmark, not a trial); the brief's order breaks ties, first = strongest."""
    ctas = [c for c in brief.calls_to_action if c.strip()]
    if not ctas:
        return ""
    ranked = sorted(range(len(ctas)), key=lambda i: (cta_weight(ctas[i]), -i))  # lightest first
    spread = STAGE_ORDER.index(stage) * (len(ctas) - 1) / (len(STAGE_ORDER) - 1)  # decision: the heaviest
    return ctas[ranked[int(spread + 0.5)]]


def build_message_map(persona: Persona, brief: Brief) -> MessageMap:
    """The persona's message map (see module doc); deterministic for the same inputs."""
    vps = [v for v in brief.value_propositions if _usable(v)]
    proofs = [(i, p) for i, p in enumerate(brief.proof_points) if _usable(p.claim)]
    items: list[tuple[str, int, str, int]] = []  # field, index, text, interviewees
    for fname in MAP_FIELDS:
        ranked = sorted(((i, c) for i, c in enumerate(getattr(persona, fname)) if _usable(c.text)),
                        key=lambda ic: (-interviewees(ic[1]), ic[0]))
        top = ranked if fname == "objections" else ranked[:TOP_PER_FIELD]  # objection handling answers all
        items += [(fname, i, c.text, interviewees(c)) for i, c in top]
    idf = idf_of([t for _, _, t, _ in items] + vps + [p.claim for _, p in proofs])
    used = Counter()
    entries: list[MapEntry] = []
    for fname, index, text, n in items:
        vp, score = "", 0.0
        if vps:  # best by meaning; on near ties the proposition used least so far, so the map varies
            sims = [answer_similarity(text, v, idf) for v in vps]
            _, k, vp = max((s - REUSE_PENALTY * used[v], -k, v) for k, (s, v) in enumerate(zip(sims, vps)))
            score = sims[-k]
            if score < answer_floor(fname):
                vp = ""  # nothing in the brief answers it: an honest gap, never an answer to something else
            else:
                used[vp] += 1
        proof_index, proof = None, None
        if proofs:
            best = max(proofs, key=lambda ip: (2 * similarity(text, ip[1].claim, idf)
                                              + similarity(vp, ip[1].claim, idf)
                                              - PROOF_REUSE * used[("proof", ip[0])], -ip[0]))
            proof_index, proof = best
            used[("proof", proof_index)] += 1
        entries.append(MapEntry(
            id=f"{fname}[{index}]", item=ItemRef(field=fname, index=index, text=text), interviewees=n,
            value_proposition=vp, match=round(score, 3), proof_point=proof.claim if proof else "",
            proof_source=proof.source if proof else "", proof_index=proof_index))
    stages = []
    for stage in STAGE_ORDER:
        ids = [e.id for f in STAGE_FIELDS[stage] for e in entries if e.item.field == f]
        stages.append(StageMessage(stage=stage, entries=ids, call_to_action=stage_cta(brief, stage)))
    vocab = [w for w in persona.vocabulary if w.strip() and w.lower() not in _STOP]
    return MessageMap(persona_id=persona.id, entries=entries, stages=stages, vocabulary=vocab)


def stage_entries(mmap: MessageMap, stage: Stage) -> list[MapEntry]:
    """The entries a stage leads with, in order (all entries when the stage names none)."""
    plan = next((s for s in mmap.stages if s.stage == stage), None)
    chosen = [e for i in (plan.entries if plan else []) if (e := mmap.entry(i)) is not None]
    return chosen or list(mmap.entries)


def map_for_prompt(mmap: MessageMap, stage: Stage) -> dict:
    """The stage's part of the message map as the asset prompt shows it."""
    plan = next((p for p in mmap.stages if p.stage == stage), None)
    ids = plan.entries if plan else [e.id for e in mmap.entries]
    return {"cta": plan.call_to_action if plan else "", "vocabulary": mmap.vocabulary,
            "entries": [e.model_dump(mode="json") for i in ids if (e := mmap.entry(i)) is not None]}


BRIEF_REQUIRED = ("product", "value_propositions", "calls_to_action")


def check_brief(brief: Brief, path: Path) -> None:
    """Copy needs a product, value propositions and calls to action: an empty or template brief
    stops the campaign with one line naming what is missing."""
    missing = [f for f in BRIEF_REQUIRED if not (getattr(brief, f).strip() if isinstance(getattr(brief, f), str)
                                                 else [x for x in getattr(brief, f) if x.strip()])]
    if missing:
        where = path if path.is_file() else f"{path} (not found)"
        raise InputError(f"{where}: missing {', '.join(missing)}; fill them in before writing a campaign")
