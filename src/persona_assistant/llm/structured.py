"""Structured output: JSON Schemas a strict server accepts, and parsing answers back.

Why a converter: OpenAI's strict json_schema mode (and llama.cpp/vLLM grammars) accept a subset
of JSON Schema: every object closed (additionalProperties false) with every property required,
no `default`, no `oneOf`/`discriminator`, no `$ref` siblings. Pydantic emits all of those. Fields
with defaults stay required with their plain type (the model writes "unknown" or []), so the
answer still validates against the original Pydantic model, which is always the final judge.
A free-form mapping (dict[str, ...]) cannot be strict; the schema is then sent with strict false.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from persona_assistant.schemas import BuyingRole, Contract, Seniority

# Keys a strict server (OpenAI json_schema strict) understands; everything else (title, default,
# minLength, ...) is dropped. Pydantic still enforces the dropped constraints after the answer
# (llm/answers.py drops the invalid items), and lengths are checked by the caller (copy lint).
_KEEP = {"type", "properties", "required", "additionalProperties", "items", "enum", "anyOf",
         "$ref", "$defs", "description"}
# Grammar-constrained servers (llama.cpp's json_object + schema, vLLM, Ollama) also enforce
# bounds and lengths: the "grammar" dialect keeps them, so such a server can only answer a line
# inside the chunk or a headline within its limit. Patterns stay out (grammars differ in what
# regex they take); ids are slugged after the answer instead (llm/answers.normalise).
_GRAMMAR = {"minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"}


@lru_cache(maxsize=64)
def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema, built once per answer model (a campaign asks one model several
    times; callers copy before changing it). A pure function of the class: nothing else is kept."""
    return model.model_json_schema()


def strict_schema(model: type[BaseModel], dialect: str = "strict") -> tuple[dict[str, Any], bool]:
    """(schema, strict_ok): the model's JSON Schema made strict-compatible where possible;
    dialect "grammar" keeps numeric bounds and lengths as well (see _GRAMMAR)."""
    strict_ok = True
    keep = _KEEP | (_GRAMMAR if dialect == "grammar" else set())

    def convert(node: Any) -> Any:
        nonlocal strict_ok
        if isinstance(node, list):
            return [convert(n) for n in node]
        if not isinstance(node, dict):
            return node
        node = dict(node)
        if "const" in node:  # a one-value Literal: enum is what every server takes
            node["enum"] = [node.pop("const")]
        if "oneOf" in node:  # discriminated unions: anyOf is what strict mode supports
            node["anyOf"] = node.pop("oneOf")
        if "$ref" in node:
            return {k: v for k, v in node.items() if k in ("$ref", "description")}
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key not in keep:
                continue
            if key == "properties":
                out[key] = {name: convert(sub) for name, sub in value.items()}
            elif key == "$defs":
                out[key] = {name: convert(sub) for name, sub in value.items()}
            elif key == "additionalProperties":
                if value not in (False, None):
                    strict_ok = False
                    out[key] = convert(value) if isinstance(value, dict) else value
            else:
                out[key] = convert(value)
        if out.get("type") == "object" and "properties" in out:
            out["required"] = list(out["properties"])
            out.setdefault("additionalProperties", False)
        elif out.get("type") == "object" and "additionalProperties" not in out:
            strict_ok = False
        return out

    return convert(model_schema(model)), strict_ok


def schema_name(model: type[BaseModel]) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", model.__name__)[:64]


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def extract_json(text: str) -> Any:
    """The JSON value in an answer: the whole text, a ```json fence, or the outermost {...}.

    Raises ValueError with a short reason when there is none."""
    text = (text or "").strip()
    if not text:
        raise ValueError("the answer was empty")
    candidates = [text]
    fence = _FENCE.search(text)
    if fence:
        candidates.append(fence.group(1).strip())
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    last = "no JSON object found"
    for candidate in candidates:
        try:
            return json.loads(candidate, strict=False)  # raw control characters in strings: grammars allow them
        except json.JSONDecodeError as exc:
            last = f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    raise ValueError(last)


# --------------------------------------------------------------------------- answers of bundled tasks
# The contracts persona_synthesis (schemas.Persona) and icp_draft (schemas.ICP) answer with live in
# schemas.py; these two are intermediate answers of the drafting pipeline.

EvidenceCategory = Literal["goals", "pains", "objections", "motivations", "triggers", "decision_criteria",
                           "channels", "success_metrics"]


class EvidenceCandidate(Contract):
    """A quote the model proposes; draft/evidence.py decides whether it is really in the source."""

    category: EvidenceCategory
    line_start: int = Field(ge=1)
    line_end: int = Field(ge=1)
    quote: str = Field(min_length=1)
    summary: str


class ExtractedEvidence(Contract):
    """Answer of `extract_evidence` for one chunk of one source."""

    source_id: str
    items: list[EvidenceCandidate]
    role: str  # as stated in the text, or "unknown"
    seniority: Seniority
    function: str
    buying_role: BuyingRole


class PersonaGroup(Contract):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: str
    role: str
    function: str
    seniority: Seniority
    source_ids: list[str]
    rationale: str


class PersonaGrouping(Contract):
    """Answer of `persona_grouping`."""

    groups: list[PersonaGroup]
    ungrouped: list[str]


# --------------------------------------------------------------------------- closed sets per request
# Answer models narrowed to one request: what the model may cite is a closed set (enum) or a
# bounded integer, so a server that enforces the schema can only answer valid references, and
# Pydantic drops an invalid item of a server that does not (llm/answers.salvage). Each is a
# subclass of the general answer, so callers read it the same way.


def one_of(values: list[str]) -> Any:
    """Literal of `values` (a closed set; enum in the schema)."""
    return Literal[tuple(dict.fromkeys(values))]  # type: ignore[valid-type]


def evidence_answer(source_id: str, line_start: int, line_end: int) -> type[ExtractedEvidence]:
    """ExtractedEvidence for one chunk: its source id, line numbers within the chunk."""
    line = (int, Field(ge=line_start, le=line_end))
    candidate = create_model("EvidenceCandidate", __base__=EvidenceCandidate, line_start=line, line_end=line)
    return create_model("ExtractedEvidence", __base__=ExtractedEvidence, source_id=(one_of([source_id]), ...),
                        items=(list[candidate], ...))


def grouping_answer(source_ids: list[str]) -> type[PersonaGrouping]:
    """PersonaGrouping whose source ids are the interviews shown."""
    ids = one_of(source_ids)
    group = create_model("PersonaGroup", __base__=PersonaGroup, source_ids=(list[ids], ...))
    return create_model("PersonaGrouping", __base__=PersonaGrouping, groups=(list[group], ...),
                        ungrouped=(list[ids], ...))
