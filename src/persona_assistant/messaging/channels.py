"""Channels and their limits, as data: one table that the offline engine writes to,
the lint checks against and the LLM prompt quotes.

Built-in limits (the platforms' documented maxima, or the team's rules where the
platform has none):

    cold_email, follow_up_email  subject <= 60 chars; body 50-150 words; exactly one call to action
    linkedin_post                post <= 3000 chars; the hook (first line/sentence) ends within 140
    linkedin_sponsored           intro <= 150 chars; headline <= 70 chars
    google_rsa                   3-15 headlines <= 30 chars; 2-4 descriptions <= 90 chars
    landing_hero                 headline <= 10 words; sub-headline; call to action
    call_opener                  opener; >= 3 discovery questions
    objection_handling           one response per persona objection

`content_ideas` (per ICP) and `journey` (per persona) are not copy assets: they are
planned from the data, not written per variant, and are selected with the same
--channel option (see PLANNING_CHANNELS).

A workspace adds or overrides channels in persona-assistant.toml:

    [channels.sms]
    description = "Text message"
    cta = "text"                       # field that must hold exactly one call to action
    [channels.sms.fields.text]
    max_chars = 160
    min_words = 5
    [channels.sms.fields.options]      # a list field
    list = true
    min_count = 2
    max_count = 3
    max_chars = 40                     # per item
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from persona_assistant.errors import InputError, UsageError

PLANNING_CHANNELS = ("content_ideas", "journey")


@dataclass(frozen=True)
class FieldRule:
    """Limits of one field of an asset. Character/word limits apply to each item of a list."""

    name: str
    is_list: bool = False
    required: bool = True
    max_chars: int | None = None
    min_words: int | None = None
    max_words: int | None = None
    min_count: int | None = None
    max_count: int | None = None
    hook_max_chars: int | None = None  # the first line/sentence must end within this many chars
    per_objection: bool = False  # list: exactly one item per persona objection

    def describe(self) -> str:
        """The limits in words, for prompts and help."""
        parts = []
        if self.is_list:
            if self.per_objection:
                parts.append("a list with exactly one item per persona objection, in order")
            elif self.min_count is not None and self.max_count is not None:
                parts.append(f"a list of {self.min_count}-{self.max_count} items")
            elif self.min_count is not None:
                parts.append(f"a list of at least {self.min_count} items")
            else:
                parts.append("a list")
        else:
            parts.append("text")
        each = "each item " if self.is_list else ""
        if self.max_chars is not None:
            parts.append(f"{each}at most {self.max_chars} characters")
        if self.min_words is not None and self.max_words is not None:
            parts.append(f"{each}{self.min_words}-{self.max_words} words")
        elif self.max_words is not None:
            parts.append(f"{each}at most {self.max_words} words")
        elif self.min_words is not None:
            parts.append(f"{each}at least {self.min_words} words")
        if self.hook_max_chars is not None:
            parts.append(f"the first line or sentence (the hook) ends within {self.hook_max_chars} characters")
        if not self.required:
            parts.append("optional")
        return "; ".join(parts)


@dataclass(frozen=True)
class Channel:
    name: str
    description: str
    fields: tuple[FieldRule, ...]
    cta_field: str | None = None  # this field must contain exactly one call to action
    custom: bool = False

    def rule(self, name: str) -> FieldRule | None:
        return next((f for f in self.fields if f.name == name), None)


BUILTIN: dict[str, Channel] = {
    c.name: c
    for c in (
        Channel("cold_email", "First-touch sales email",
                (FieldRule("subject", max_chars=60), FieldRule("body", min_words=50, max_words=150)),
                cta_field="body"),
        Channel("follow_up_email", "Follow-up email after no reply",
                (FieldRule("subject", max_chars=60), FieldRule("body", min_words=50, max_words=150)),
                cta_field="body"),
        Channel("linkedin_post", "Organic LinkedIn post",
                (FieldRule("post", max_chars=3000, hook_max_chars=140),)),
        Channel("linkedin_sponsored", "LinkedIn sponsored content ad",
                (FieldRule("intro", max_chars=150), FieldRule("headline", max_chars=70))),
        Channel("google_rsa", "Google responsive search ad",
                (FieldRule("headlines", is_list=True, min_count=3, max_count=15, max_chars=30),
                 FieldRule("descriptions", is_list=True, min_count=2, max_count=4, max_chars=90))),
        Channel("landing_hero", "Landing page hero section",
                (FieldRule("headline", max_words=10), FieldRule("subheadline"), FieldRule("cta")),
                cta_field="cta"),
        Channel("call_opener", "Cold call opener with discovery questions",
                (FieldRule("opener"), FieldRule("questions", is_list=True, min_count=3))),
        Channel("objection_handling", "Responses to the persona's objections",
                (FieldRule("responses", is_list=True, per_objection=True),)),
    )
}

DEFAULT_CHANNELS = tuple(BUILTIN) + PLANNING_CHANNELS

_INT_KEYS = ("max_chars", "min_words", "max_words", "min_count", "max_count", "hook_max_chars")


def _custom_field(where: str, name: str, table: Any) -> FieldRule:
    if not isinstance(table, dict):
        raise InputError(f"{where}.fields.{name}: must be a table of limits")
    unknown = set(table) - set(_INT_KEYS) - {"list", "required"}
    if unknown:
        raise InputError(f"{where}.fields.{name}: unknown key {sorted(unknown)[0]!r} "
                         f"(allowed: {', '.join(_INT_KEYS)}, list, required)")
    values: dict[str, Any] = {}
    for key in _INT_KEYS:
        if key in table:
            v = table[key]
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise InputError(f"{where}.fields.{name}.{key}: expected a whole number >= 0, got {v!r}")
            values[key] = v
    for key in ("list", "required"):
        if key in table and not isinstance(table[key], bool):
            raise InputError(f"{where}.fields.{name}.{key}: expected true or false, got {table[key]!r}")
    for lo, hi in (("min_words", "max_words"), ("min_count", "max_count")):
        if lo in values and hi in values and values[lo] > values[hi]:
            raise InputError(f"{where}.fields.{name}: {lo} ({values[lo]}) is above {hi} ({values[hi]})")
    is_list = bool(table.get("list", False))
    if not is_list and ("min_count" in values or "max_count" in values):
        raise InputError(f"{where}.fields.{name}: min_count/max_count need list = true")
    return FieldRule(name=name, is_list=is_list, required=bool(table.get("required", True)), **values)


def load_channels(config: dict[str, Any], where: str = "persona-assistant.toml") -> dict[str, Channel]:
    """Built-in channels plus the workspace's [channels.<name>] tables (which may override one)."""
    channels = dict(BUILTIN)
    tables = config.get("channels")
    if tables is None:
        return channels
    if not isinstance(tables, dict):
        raise InputError(f"{where}: [channels] must be a table of channel tables")
    for name, table in tables.items():
        at = f"{where}: channels.{name}"
        if name in PLANNING_CHANNELS:
            raise InputError(f"{at}: '{name}' is reserved for the planning output")
        if not isinstance(table, dict):
            raise InputError(f"{at}: must be a table")
        unknown = set(table) - {"description", "fields", "cta"}
        if unknown:
            raise InputError(f"{at}: unknown key {sorted(unknown)[0]!r} (allowed: description, fields, cta)")
        fields_t = table.get("fields")
        if not isinstance(fields_t, dict) or not fields_t:
            raise InputError(f"{at}: needs at least one [channels.{name}.fields.<field>] table")
        rules = tuple(_custom_field(at, fname, ft) for fname, ft in fields_t.items())
        cta = table.get("cta")
        if cta is not None and cta not in fields_t:
            raise InputError(f"{at}.cta: {cta!r} is not one of its fields ({', '.join(fields_t)})")
        desc = table.get("description", name)
        if not isinstance(desc, str):
            raise InputError(f"{at}.description: expected text")
        channels[name] = Channel(name, desc, rules, cta_field=cta, custom=True)
    return channels


def workspace_channels(ws) -> dict[str, Channel]:
    return load_channels(ws.config(), str(ws.config_path))


# The short names people use for a channel, accepted wherever a channel is named (`campaign --channel`,
# chat's /message), so the two never disagree.
CHANNEL_ALIASES = {"email": "cold_email", "linkedin": "linkedin_post", "ads": "google_rsa", "ad": "google_rsa",
                   "landing": "landing_hero", "call": "call_opener", "objections": "objection_handling",
                   "follow_up": "follow_up_email"}


def select_channels(requested: list[str] | None, channels: dict[str, Channel]) -> list[str]:
    """The --channel values (a channel's name or alias), checked; default every built-in, custom and
    planning channel."""
    if not requested:
        return list(channels) + list(PLANNING_CHANNELS)
    known = list(channels) + list(PLANNING_CHANNELS)
    out: list[str] = []
    for asked in requested:
        name = CHANNEL_ALIASES.get(asked.lower(), asked)
        if name not in known:
            near = difflib.get_close_matches(asked.lower(), known + list(CHANNEL_ALIASES), n=1)
            raise UsageError(f"--channel: unknown channel {asked!r}" + (f"; did you mean {near[0]}?" if near else "")
                             + f" (known: {', '.join(known)}; short names: {', '.join(CHANNEL_ALIASES)})")
        if name not in out:
            out.append(name)
    return out


@dataclass
class LintConfig:
    """Lint settings from the workspace's [lint] table."""

    ai_phrases: list[str] = field(default_factory=list)
    merge_fields: list[str] = field(default_factory=list)


DEFAULT_AI_PHRASES = [
    "delve", "in today's fast-paced world", "unlock the power", "elevate", "seamless",
    "game-changer", "game changer", "i hope this email finds you well", "leverage synergies",
    "in the ever-evolving", "navigate the complexities", "look no further", "supercharge",
    "cutting-edge", "take it to the next level", "harness the power",
]
DEFAULT_MERGE_FIELDS = ["first_name", "last_name", "company", "title", "sender_name"]


def lint_config(config: dict[str, Any], where: str = "persona-assistant.toml") -> LintConfig:
    """[lint] ai_phrases = [...] replaces the default list; extra_ai_phrases adds to it;
    merge_fields = [...] replaces the allowed {{merge}} fields."""
    table = config.get("lint") or {}
    if not isinstance(table, dict):
        raise InputError(f"{where}: [lint] must be a table")

    def strings(key: str, default: list[str]) -> list[str]:
        if key not in table:
            return list(default)
        v = table[key]
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise InputError(f"{where}: lint.{key}: expected a list of strings")
        return list(v)

    phrases = strings("ai_phrases", DEFAULT_AI_PHRASES) + strings("extra_ai_phrases", [])
    return LintConfig(ai_phrases=phrases, merge_fields=strings("merge_fields", DEFAULT_MERGE_FIELDS))
