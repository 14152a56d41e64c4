"""Lint of one asset: channel limits, leftover placeholders, banned and machine-sounding
phrases, the single call to action, unsupported claims.

Every finding names its rule and field, so the LLM can be re-asked with them and a
reader sees why an asset is marked. Rules, all "error" unless noted:
  <field>_max_chars / _min_words / _max_words / _min_count / _max_count / _hook_max_chars
  missing_field, unexpected_field (warning), responses_per_objection,
  cta_count          the channel's CTA field holds exactly one call to action: an occurrence
                     of one of the brief's calls_to_action or a link (with no CTAs in the
                     brief: a link or an ask such as "book", "reply", "schedule"),
  leftover_placeholder  [Name], <PERSON_1>, {{unknown}}, {name}, TODO, XXX, TBD, lorem ipsum
                     ({{first_name}}-style merge fields from LintConfig.merge_fields are fine),
  banned_phrase      a phrase from the brief's banned_phrases,
  ai_phrase          a phrase that makes copy read as machine-written (LintConfig.ai_phrases),
  unsupported_claim  a figure or name found in neither brief nor evidence (messaging/claims.py),
  misattribution, interview_quote   whose words copy may show (messaging/attribution.py),
  fragment, generic_filler, missing_product, no_persona_item   a marketer's read (messaging/quality.py);
  repetition across a campaign is checked when it is assembled (quality.repetition_findings).
"""

from __future__ import annotations

import re

from persona_assistant.messaging.attribution import QuotePolicy, attribution_findings, field_texts, quote_policy
from persona_assistant.messaging.channels import Channel, FieldRule, LintConfig
from persona_assistant.messaging.claims import unsupported_claims
from persona_assistant.messaging.message_map import cta_object
from persona_assistant.messaging.quality import copy_findings
from persona_assistant.schemas import Asset, Brief, LintFinding, Persona

_MERGE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_PLACEHOLDERS = [
    (re.compile(r"(?<!\{)\{\s*[A-Za-z_][\w ]*\}(?!\})"), "single-brace placeholder"),
    (re.compile(r"\[\s*(?:[A-Z][\w'’-]*|(?i:insert|your|add)\b)[^\]\n]{0,40}\](?!\()"), "bracket placeholder"),
    (re.compile(r"<\s*[A-Z][A-Z0-9_]*(?:\s*[A-Z0-9_]+)*\s*>"), "angle-bracket placeholder"),
    (re.compile(r"\b(?:TODO|FIXME|TBD|XXX+)\b"), "unfinished marker"),
    (re.compile(r"\blorem ipsum\b", re.I), "filler text"),
]
_URL = re.compile(r"https?://\S+|www\.\S+", re.I)
_ASK = re.compile(r"\b(?:book|schedule|reply|register|sign up|download|grab|let me know|"
                  r"are you open|would you be open|worth a)\b", re.I)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")


def word_count(text: str) -> int:
    return len(re.findall(r"\S+", text))


def hook_end(text: str) -> int:
    """Where the hook (first line, or first sentence if it ends sooner) ends, in characters."""
    body = text.lstrip()
    offset = len(text) - len(body)
    ends = [len(body)]
    nl = body.find("\n")
    if nl >= 0:
        ends.append(nl)
    m = re.search(r"[.!?](?=\s|$)", body)
    if m:
        ends.append(m.end())
    return offset + min(ends)


def phrase_re(phrase: str) -> re.Pattern[str]:
    """A case-insensitive whole-word pattern for a phrase; apostrophes match ' or ’."""
    body = re.escape(phrase.strip()).replace("'", "['’]").replace("’", "['’]")
    body = re.sub(r"(\\ )+", r"\\s+", body)
    return re.compile(r"(?<![\w])" + body + r"(?![\w])", re.I)


def count_ctas(text: str, brief: Brief) -> int:
    """Calls to action in `text`: brief CTAs (overlapping matches count once) plus links."""
    spans: list[tuple[int, int]] = []
    for cta in brief.calls_to_action:
        if cta.strip():
            spans += [m.span() for m in phrase_re(cta.strip().rstrip(".!?")).finditer(text)]
            obj = cta_object(cta)  # "Open to a 20-minute rota review?" asks for it too (voice.cta_sentence)
            if obj:
                spans += [m.span() for m in phrase_re(obj).finditer(text)]
    spans.sort()
    merged = 0
    last_end = -1
    for start, end in spans:
        if start >= last_end:
            merged += 1
        last_end = max(last_end, end)
    links = sum(1 for m in _URL.finditer(text)
                if not any(s <= m.start() < e for s, e in spans))
    if brief.calls_to_action:
        return merged + links
    asks = sum(1 for s in _SENTENCE_SPLIT.split(text) if _ASK.search(s) and not _URL.search(s))
    return links + asks


def _limit_findings(rule: FieldRule, value: str | list[str], persona: Persona | None) -> list[LintFinding]:
    out: list[LintFinding] = []
    name = rule.name

    def add(kind: str, where: str, message: str) -> None:
        out.append(LintFinding(rule=f"{name}_{kind}", field=where, message=message))

    if rule.is_list != isinstance(value, list):
        out.append(LintFinding(rule="field_type", field=name,
                               message=f"{name} must be {'a list' if rule.is_list else 'text'}"))
        return out
    if isinstance(value, list):
        n = len(value)
        if rule.min_count is not None and n < rule.min_count:
            add("min_count", name, f"{n} items, need at least {rule.min_count}")
        if rule.max_count is not None and n > rule.max_count:
            add("max_count", name, f"{n} items, at most {rule.max_count} allowed")
        if rule.per_objection and persona is not None and n != len(persona.objections):
            out.append(LintFinding(rule="responses_per_objection", field=name,
                                   message=f"{n} responses for {len(persona.objections)} persona objections"))
    for suffix, text in field_texts(value):
        where = name + suffix
        if not text.strip():
            out.append(LintFinding(rule="empty_field", field=where, message=f"{where} is empty"))
            continue
        if rule.max_chars is not None and len(text) > rule.max_chars:
            add("max_chars", where, f"{len(text)} characters, at most {rule.max_chars} allowed")
        words = word_count(text)
        if rule.min_words is not None and words < rule.min_words:
            add("min_words", where, f"{words} words, need at least {rule.min_words}")
        if rule.max_words is not None and words > rule.max_words:
            add("max_words", where, f"{words} words, at most {rule.max_words} allowed")
        if rule.hook_max_chars is not None and hook_end(text) > rule.hook_max_chars:
            add("hook_max_chars", where, f"the first line/sentence ends at character {hook_end(text)}, "
                                         f"it must end within {rule.hook_max_chars}")
    return out


def lint_fields(fields: dict[str, str | list[str]], channel: Channel, *, brief: Brief,
                config: LintConfig, persona: Persona | None = None) -> list[LintFinding]:
    """Findings for an asset's fields, without the claim check (see lint_asset)."""
    out: list[LintFinding] = []
    for rule in channel.fields:
        value = fields.get(rule.name)
        if value is None or value == "" or value == []:
            if rule.required:
                out.append(LintFinding(rule="missing_field", field=rule.name,
                                       message=f"{channel.name} needs {rule.name} ({rule.describe()})"))
            continue
        out += _limit_findings(rule, value, persona)
    for name in fields:
        if channel.rule(name) is None:
            out.append(LintFinding(rule="unexpected_field", field=name, severity="warning",
                                   message=f"{channel.name} has no field {name}"))
    if channel.cta_field and isinstance(fields.get(channel.cta_field), str) and fields[channel.cta_field]:
        n = count_ctas(fields[channel.cta_field], brief)
        if n != 1:
            choices = "; ".join(f'"{c}"' for c in brief.calls_to_action) or "one link or ask"
            out.append(LintFinding(rule="cta_count", field=channel.cta_field,
                                   message=f"{n} calls to action, need exactly one (use one of: {choices})"))
    merge_ok = {m.lower() for m in config.merge_fields}
    for name, value in fields.items():
        for suffix, text in field_texts(value):
            where = name + suffix
            for m in _MERGE.finditer(text):
                if m.group(1).strip().lower() not in merge_ok:
                    out.append(LintFinding(rule="leftover_placeholder", field=where,
                                           message=f"unknown merge field {m.group(0)!r} "
                                                   f"(allowed: {', '.join(config.merge_fields)})"))
            plain = _MERGE.sub(" ", text)
            for pattern, what in _PLACEHOLDERS:
                for m in pattern.finditer(plain):
                    out.append(LintFinding(rule="leftover_placeholder", field=where,
                                           message=f"{what} {m.group(0)!r} left in the copy"))
            for phrase in brief.banned_phrases:
                if phrase.strip() and phrase_re(phrase).search(text):
                    out.append(LintFinding(rule="banned_phrase", field=where,
                                           message=f"banned phrase {phrase!r} (brief)"))
            for phrase in config.ai_phrases:
                if phrase.strip() and phrase_re(phrase).search(text):
                    out.append(LintFinding(rule="ai_phrase", field=where,
                                           message=f"{phrase!r} makes copy read as machine-written"))
    return out


def claim_findings(fields: dict[str, str | list[str]], known: str) -> tuple[list[str], list[LintFinding]]:
    """Unsupported figures and names per field, and the matching findings."""
    claims: list[str] = []
    out: list[LintFinding] = []
    for name, value in fields.items():
        for suffix, text in field_texts(value):
            for claim in unsupported_claims(text, known):
                out.append(LintFinding(rule="unsupported_claim", field=name + suffix,
                                       message=f"{claim!r} is in neither the brief nor the evidence"))
                if claim not in claims:
                    claims.append(claim)
    return claims, out


def lint_asset(asset: Asset, channel: Channel, *, brief: Brief, config: LintConfig,
               known: str, persona: Persona | None = None, quotes: QuotePolicy | None = None) -> Asset:
    """The asset with `lint` and `unsupported_claims` recomputed (earlier findings replaced).

    `quotes` says which interview quotes may be shown; without it no interview may be quoted
    (the persona's own quotes count as without consent). A map-only asset (the offline engine
    had no good copy for the channel) has no fields to check: it gets one warning saying so."""
    if asset.map_only:
        note = LintFinding(rule="map_only", field="*", severity="warning",
                           message=asset.note or "no copy: the message map entry stands in for it")
        return asset.model_copy(update={"lint": [note], "unsupported_claims": []})
    if quotes is None:
        quotes = quote_policy([persona] if persona is not None else [], brief, ())
    findings = lint_fields(asset.fields, channel, brief=brief, config=config, persona=persona)
    findings += attribution_findings(asset.fields, quotes) + copy_findings(asset, brief, persona)
    claims, claim_lint = claim_findings(asset.fields, known)
    return asset.model_copy(update={"lint": findings + claim_lint, "unsupported_claims": claims})


def errors(findings: list[LintFinding]) -> list[LintFinding]:
    return [f for f in findings if f.severity == "error"]
