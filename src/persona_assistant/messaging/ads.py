"""The offline engine's Google responsive search ads: many whole headlines, whole-sentence descriptions.

Headlines (at most HEADLINE_CHARS each) are whole phrases of the brief and of the persona, never
cut clauses (phrasing.head):

- the brand once, with the category's first noun phrase when it fits ("Rosterly shift scheduling");
- value propositions: the head of each of their clauses ("Build next week's rota", "Managers approve
  in one tap");
- proof points that keep their figure (`proof_heads`): the claim whole, or without a trailing scope
  phrase ("Ember Grill House cut overtime by 31% | across 28 sites"), never without the customer it is
  about ("Overtime cut by 31%" would make one customer's result everyone's), or, said of the reader's
  own kind, as what the reader gets ("New sites go live
  in 10 days on average" -> "Go live in 10 days on average"); never without a phrase that hedges the
  figure ("New sites go live in 10 days | on average");
- the persona's own, one per item: a goal the map answers by meaning and holding no figure said as
  an outcome ("Get managers back on the floor"), else its discovery question, shorter where it must
  be ("Want to cut staff turnover?"); never an objection (an ad does not raise a doubt), never one
  that echoes a brief headline; where no item gives one, the persona's role as a keyword ("For
  Controllers"). Every set has one of them, so two personas never share a set;
- the calls to action and the category.

Each slot (stage, variant) has a theme (`theme`): one of the stage's lines, another value
proposition per variant where the map has them. A set is the brand, the theme's headlines (its
item's own, its answer's, its proof points'), then the rest from a per-persona rotation, those the
persona's earlier slots of the stage used least first: SET_SIZE headlines (fewer when the pool is
small, never fewer than MIN_HEADLINES). A variant that would still share more than MAX_SHARED of its
headlines with another of its stage, or repeat any earlier set of the persona, is map-only with a
note (the brief has too few whole headlines for it), never a near-copy.

Descriptions (at most DESCRIPTION_CHARS) are whole sentences, each saying something the others do
not: a persona's discovery question with its answer, never a question left unanswered (`_asked`),
the theme's answer, the proof that backs it (without its source in parentheses: the asset's
proof_points name it), other propositions, each whole or cut at a clause boundary (`said_whole`:
never "... and managers approve."), the stage's call to action after the first with room for it.
The brand is in the headlines, not the descriptions. An RSA that can say no persona item within
these limits is map-only: it would address nobody.
"""

from __future__ import annotations

import re
import zlib
from functools import cached_property

from persona_assistant.messaging.message_map import similarity
from persona_assistant.messaging.phrasing import bare, head, lower_first, sentence, tidy, upper_first, whole
from persona_assistant.messaging.sales_copy import fair_question
from persona_assistant.messaging.writer import PROOF_BACKS, Line, Writer, angle_for, slots_up_to
from persona_assistant.schemas import Stage

HEADLINE_CHARS, DESCRIPTION_CHARS = 30, 90
MIN_HEADLINES, SET_SIZE = 6, 10  # (the channel allows 15; ten whole ones is what the pools give)
MAX_SHARED = 0.7  # a variant sharing more of its headlines with another of its stage is a near-copy: not written
MAX_DESCRIPTIONS = 4
# A goal said as an outcome ("Cut staff turnover"), or a question answered in one description, is the
# product's promise: the map's answer must meet the item more than barely (message_map.ANSWERS, 0.1, is
# enough to ask about it, not to promise it).
OUTCOME_MATCH = 0.15
# A trailing phrase a proof headline may drop: its scope, not its figure's hedge.
_SCOPE = re.compile(r"\s(?=(?:across|in|over|during|within|under|at|for|from|instead of|without|with)\s)")
_HEDGE = re.compile(r"\b(?:on average|average|median|typical(?:ly)?|up to|about|around|approximately|roughly|"
                    r"as (?:much|many|little) as|nearly|almost)\b", re.I)
_STRONG = re.compile(r"[:;]\s|\s[-–—]\s")  # what follows is the mechanism (often a list): no headline
_AND_CLAUSE = re.compile(r",\s(?:and|but)\s")  # what follows is a clause of its own ("and managers approve ...")
# Where a description may end: a strong break, or a comma before a clause or adjunct, never inside a list.
# (and before "with", which adds the means: "Cut CI time in half | with remote caching"; a cut leaves 4+ words)
_SENTENCE_END = re.compile(r"[:;](?=\s)|\s[-–—]\s|,(?=\s(?:and|but|so|which|who|with|before|after|while|when|"
                           r"without|because|not|across|every|until|unless)\b)|\s(?=with\s)")
_FIGURE = re.compile(r"(?<![\w.])\d[\d.,]*\s?%?")  # "31%", "4 days"; not the 95 of "p95"
# A claim about the reader's own kind ("New sites go live ...", "Customers go live ..."): its predicate is
# what the reader gets, said to them ("Go live in 10 days on average"), hedge and all.
_GENERIC_SUBJECT = re.compile(r"^(?:new |most |our )?(?:sites|stores|customers|teams|managers|users|companies)\s+"
                              r"((?:go|get|see|save|cut|spend|close|ship|run)\b.+)$", re.I)
_CLAUSE_WORDS = frozenset("without before after so because while when until unless across during once not instead "
                          "and but".split())
# "Book a 20-minute close assessment" -> "Book a close assessment": a call to action without its length
_DURATION = re.compile(r"\b\d+-(?:minute|hour|day|week)\s+")
_NUMBER_WORDS = re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                           r"(?:\w+-)?(?:day|week|month|hour))\b", re.I)


def proof_heads(claim: str, limit: int = HEADLINE_CHARS) -> list[str]:
    """Whole phrases of a proof point that keep its figure (see module doc); [] when none fits."""
    text = bare(tidy(claim))
    out = [text] if len(text) <= limit and whole(text) else []
    figure = bool(_FIGURE.search(text))
    for m in reversed(list(_SCOPE.finditer(text))):
        kept, dropped = bare(text[:m.start()]), text[m.start():]
        if len(kept) <= limit and whole(kept) and len(kept.split()) >= 3 and not _HEDGE.search(dropped) \
                and (not figure or _FIGURE.search(kept)):
            out.append(kept)
            break
    m = _GENERIC_SUBJECT.match(text)
    if not out and m and len(m.group(1)) <= limit and (not figure or _FIGURE.search(m.group(1))):
        out.append(upper_first(m.group(1)))  # "New sites go live in 10 days on average" -> "Go live in 10 ..."
    return list(dict.fromkeys(out))


def clause_heads(text: str, limit: int = HEADLINE_CHARS) -> list[str]:
    """The head of each clause of a value proposition ("Staff swap and pick up shifts", "Managers
    approve in one tap")."""
    parts = [p for p in _AND_CLAUSE.split(_STRONG.split(bare(tidy(text)))[0]) if p.strip()]
    return [upper_first(h) for p in parts if (h := head(upper_first(p.strip()), limit))]


def clause_head(text: str, limit: int = HEADLINE_CHARS) -> str | None:
    """The head of `text` (phrasing.head, 3+ words) when it is the text or ends before a clause ("cut CI
    time | without rewriting every pipeline"), not before a phrase its verb needs ("spend board
    meetings | on forecasting")."""
    h = head(text, limit, 3)
    rest = text[len(h):].lstrip(" ,").split() if h else []
    return h if h and (not rest or rest[0].lower() in _CLAUSE_WORDS) else None


def said_whole(text: str, limit: int = DESCRIPTION_CHARS) -> str | None:
    """`text` as a sentence of at most `limit` characters: whole, or its longest start ending at a
    clause boundary (_SENTENCE_END) that reads as finished; None when there is none."""
    text = bare(tidy(text))
    if len(text) + 1 <= limit:
        return sentence(text)
    ends = [m.start() for m in _SENTENCE_END.finditer(text) if m.start() + 1 <= limit]
    for end in reversed(ends):
        cut = bare(text[:end])
        if len(cut.split()) >= 4 and whole(cut):
            return sentence(cut)
    return None


def _question_forms(q: str) -> list[str]:
    """A discovery question, then shorter: "Do you still X?" -> "Still X?", "What would it take to X?"
    -> "Want to X?", "What stands between you and X?" -> "Want X?" (not "Still have ...?": a state is
    no habit)."""
    short = [s + q[len(ask):] for ask, s in (("Do you still ", "Still "), ("What would it take to ", "Want to "),
                                             ("What stands between you and ", "Want "))
             if q.startswith(ask) and not q.startswith(("Do you still have ", "Do you still get "))]
    return [q, *short]


def _echoes(a: str, b: str) -> bool:
    """Two headlines that say the same words, one the start of the other ("Cut CI time" / "... in half")."""
    x, y = a.lower().rstrip("?").split(), b.lower().rstrip("?").split()
    return x[:len(y)] == y or y[:len(x)] == x


def _shared(chosen: list[str], others: list[frozenset[str]]) -> float:
    """The largest share of `chosen` that one of `others` also has."""
    mine = {h.lower() for h in chosen}
    return max((len(mine & o) / len(mine) for o in others), default=0.0) if mine else 0.0


class SearchAds(Writer):
    """Google responsive search ads (see module doc)."""

    def rsa(self, stage: Stage, variant: int) -> dict | str:
        if len(self.headline_pool) < MIN_HEADLINES:
            return (f"only {len(self.headline_pool)} whole headlines of {HEADLINE_CHARS} characters in the brief "
                    f"and this persona's items ({MIN_HEADLINES} needed)")
        line = self.theme(stage, variant)
        if line is None:
            return "no persona item the engine can say in its own words"
        if not self.own_heads:
            return (f"no headline of this persona's own within {HEADLINE_CHARS} characters, not even its role "
                    "(its ads would repeat another persona's)")
        headlines = self._headline_set(stage, variant)
        if headlines is None:
            return (f"too few whole headlines of {HEADLINE_CHARS} characters for another headline set (distinct, and "
                    f"sharing at most {MAX_SHARED:.0%} with the stage's other variants)")
        descriptions = self._descriptions(line, stage, variant)
        if len(descriptions) < 2:
            return f"fewer than two whole descriptions of {DESCRIPTION_CHARS} characters"
        asked = self._asked(line, stage, variant)
        said = [ln for ln in self.lines if self._persona_head(ln) in headlines] + \
            ([asked[0]] if asked and any(d.startswith(asked[1]) for d in descriptions) else [])
        if not said:  # the role alone is no persona item: the ad would address nobody
            return f"no persona item said within {HEADLINE_CHARS} or {DESCRIPTION_CHARS} characters"
        for ln in said:
            self.use(ln, ln.insight.clause)
        return {"headlines": headlines, "descriptions": descriptions}

    def theme(self, stage: Stage, variant: int) -> Line | None:
        """The slot's theme: the stage's lines for the angle, one per value proposition, taken in turn by
        variant (so the variants of a stage are about different answers where the map has them)."""
        pool = self.leads(stage, angle_for(variant))
        distinct = list({ln.entry.value_proposition or ln.entry.id: ln for ln in reversed(pool)}.values())[::-1]
        return distinct[(variant - 1 + self.turn) % len(distinct)] if distinct else None

    # ------------------------------------------------------------------ headlines

    @cached_property
    def own_heads(self) -> list[str]:
        """The persona's own headlines, one per item, what makes its ads its own (none that repeats a
        brief headline's words: "Cut CI time" beside "Cut CI time in half"); where no item gives one,
        its role as the searcher's keyword ("For Controllers"), so that two personas never share a set."""
        brief = [h for h, _ in self.brief_heads]
        heads = [h for ln in self.lines if (h := self._persona_head(ln)) and not any(_echoes(h, b) for b in brief)]
        role = f"For {self.audience}"
        return list(dict.fromkeys(heads)) or ([role] if len(role) <= HEADLINE_CHARS else [])

    @cached_property
    def brief_heads(self) -> list[tuple[str, str | None]]:
        """The brief's whole headlines, each with what it is about (a value proposition or a proof claim;
        None for the brand, category and calls to action), brand first."""
        parts = re.split(r",\s|\s(?:and|with)\s|\s(?=for\s)", self.brief.category or "")
        heads = [upper_first(h) for p in parts if p.strip() and (h := head(p.strip(), HEADLINE_CHARS))]
        first = lower_first(heads[0]) if heads and not heads[0].startswith("For ") else None
        brand = f"{self.product} {first}" if first and len(f"{self.product} {first}") <= HEADLINE_CHARS \
            else self.product
        out: list[tuple[str, str | None]] = [(brand, None)]
        out += [(h, None) for h in heads if h.lower() not in brand.lower()]  # the category's other phrases
        for v in self.vps:
            out += [(h, v) for h in clause_heads(v)]
        for p in self.proofs:
            out += [(h, p.claim) for h in proof_heads(p.claim)]
        out += [(h, None) for c in self.ctas
                if (h := head(c, HEADLINE_CHARS) or head(_DURATION.sub("", c), HEADLINE_CHARS))]
        kept: list[tuple[str, str | None]] = []
        for h, about in out:
            if not any(_echoes(h, k) for k, _ in kept):
                kept.append((h, about))
        return kept

    @cached_property
    def headline_pool(self) -> list[tuple[str, str | None]]:
        """Every whole headline for this persona: the brief's (brand first), then its own."""
        return self.brief_heads + [(h, None) for h in self.own_heads]

    @staticmethod
    def _persona_head(line: Line) -> str | None:
        """The persona's headline from one of its items, whole: a goal the map answers by meaning, without
        a figure, said as the outcome ("Stop paying overtime"); else its discovery question, shorter where
        it must be ("Still ...?", "Want to ...?"). Never an objection or a doubt."""
        q = fair_question(line.insight) if line.entry.item.field != "objections" else None
        if not q:
            return None
        goal = re.sub(r"^be able to ", "", q[len("What would it take to "):-1]) \
            if q.startswith("What would it take to ") else None
        outcome = upper_first(clause_head(goal, HEADLINE_CHARS) or "") \
            if goal and line.entry.match >= OUTCOME_MATCH and not _NUMBER_WORDS.search(goal) else None
        forms = [outcome, *_question_forms(q)]  # an outcome reads better than a question in a headline
        return next((h for h in forms if h and len(h) <= HEADLINE_CHARS), None)

    def _theme_heads(self, stage: Stage, variant: int) -> list[str]:
        """Headlines about this slot's theme: its item's own, its answer's, those of the proof points
        that back the answer (all of them: an earlier slot's set is worked out again, so nothing here
        may depend on which asset is being written)."""
        line = self.theme(stage, variant)
        if line is None:
            return []
        vp = line.entry.value_proposition or ""
        about = {vp, line.proof.claim if line.proof else ""} - {""}
        about |= {p.claim for p in self.proofs if vp and similarity(vp, p.claim) >= PROOF_BACKS}
        own = self._persona_head(line)
        own = own if own in self.own_heads else None
        return ([own] if own else []) + [h for h, a in self.headline_pool if a in about and h != own]

    def _headline_set(self, stage: Stage, variant: int) -> list[str] | None:
        """This slot's headlines (see _pick); None when every set left repeats an earlier slot's.
        The persona's earlier slots are worked out again (cheap, deterministic)."""
        taken: list[tuple[Stage, frozenset[str]]] = []
        chosen: list[str] | None = None
        for st, v in slots_up_to(stage, variant):
            with self.as_written((st, v), (stage, variant)):
                chosen = self._pick(st, v, taken)
            if chosen is not None:
                taken.append((st, frozenset(h.lower() for h in chosen)))
        return chosen

    def _pick(self, stage: Stage, variant: int, taken: list[tuple[Stage, frozenset[str]]]) -> list[str] | None:
        """SET_SIZE headlines (all but two when the pool is smaller): the brand, the theme's (at most
        half), then those the persona's earlier slots used least (of this stage first), from a
        per-persona, per-variant rotation, with at least one of the persona's own."""
        pool = [h for h, _ in self.headline_pool]
        size = SET_SIZE if len(pool) >= SET_SIZE + 2 else max(MIN_HEADLINES, len(pool) - 2)
        lead = [pool[0]] + self._theme_heads(stage, variant)[:size // 2]
        rest = [h for h in pool[1:] if h not in lead]
        shift = (zlib.crc32(self.persona.id.encode()) + variant) % max(1, len(rest))
        rest = rest[shift:] + rest[:shift]
        here = [s for st, s in taken if st == stage]
        rest.sort(key=lambda h: (sum(h.lower() in s for s in here), sum(h.lower() in s for _, s in taken)))
        own = {h.lower() for h in self.own_heads}
        if not any(h.lower() in own for h in lead):
            rest.sort(key=lambda h: h.lower() not in own)
        chosen, spare = lead + rest[:size - len(lead)], rest[size - len(lead):]
        while len(chosen) > max(MIN_HEADLINES, len(lead)) and _shared(chosen, here) > MAX_SHARED:
            chosen.pop()  # the most used go first: a smaller set rather than a near-copy of another variant
        if _shared(chosen, here) > MAX_SHARED:
            return None
        sets = {s for _, s in taken}
        if frozenset(h.lower() for h in chosen) not in sets:
            return chosen
        for at in range(len(chosen) - 1, len(lead) - 1, -1):  # one headline swapped for a spare, last first
            for h in spare:
                other = chosen[:at] + [h] + chosen[at + 1:]
                if frozenset(x.lower() for x in other) not in sets:
                    return other
        return None

    # ------------------------------------------------------------------ descriptions

    def _asked(self, line: Line, stage: Stage, variant: int) -> tuple[Line, str] | None:
        """A discovery question and its answer in one description ("Still rebuild the rota by hand? Build
        next week's rota in minutes."), never a question left unanswered: for the theme, else the stage's
        next line with the same answer, else any (a trigger's last: "What changed when you moved ... in
        January?" is no question for a searcher); the question shorter where the whole one leaves no room."""
        pool = self.leads(stage, angle_for(variant))
        vp = line.entry.value_proposition
        lines = [line] + [x for x in pool if x.entry.value_proposition == vp] + pool
        for ln in [x for x in lines if x.entry.item.field != "triggers"] + lines:  # a one-off event last
            q = fair_question(ln.insight) if ln.entry.item.field != "objections" else None
            answer = ln.proof.claim if ln.proof_answers and ln.proof else \
                ln.entry.value_proposition if ln.entry.match >= OUTCOME_MATCH else ""  # an answer is a promise
            for ask in _question_forms(q) if q and answer else []:
                said = said_whole(answer, DESCRIPTION_CHARS - len(ask) - 1)
                if said:
                    return ln, f"{ask} {said}"
        return None

    def _descriptions(self, line: Line, stage: Stage, variant: int) -> list[str]:
        """Whole sentences of at most DESCRIPTION_CHARS, each saying something the others do not: a
        discovery question with its answer (`_asked`), the theme's answer, the proof that backs it,
        other propositions; the stage's call to action after the first that has room for it."""
        vp = line.entry.value_proposition
        asked = self._asked(line, stage, variant)
        proof = self.backer(vp) if vp else line.proof  # what backs the answer (Writer.backer turns among near ties)
        others = [v for v in self.vps if v != vp]
        k = (variant - 1) % max(1, len(others))
        cands = [asked[1] if asked else None, said_whole(vp) if vp else None,
                 sentence(tidy(proof.claim)) if proof else None,
                 *(said_whole(v) for v in others[k:] + others[:k])]
        out: list[str] = []
        for c in cands:  # each says something the others do not
            if c and len(c) <= DESCRIPTION_CHARS and not any(c in o or o in c for o in out):
                out.append(c)
        out = out[:MAX_DESCRIPTIONS]
        cta = sentence(bare(self.cta(stage))) if self.cta(stage) else ""
        for i, d in enumerate(out):
            if cta and len(d) + 1 + len(cta) <= DESCRIPTION_CHARS:
                out[i] = f"{d} {cta}"
                break
        return out
