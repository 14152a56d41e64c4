"""Endpoint quirks: what one server accepts, and how a request is shaped for it.

Structured output modes, in order: strict json_schema, then json_object with the schema, then
the schema in the prompt. A server that rejects a mode (HTTP 400/422/500 naming
response_format/json_schema/json_object, e.g. llama.cpp's "Input should be 'text' or
'json_object'", marked by llm/transport.py) moves the endpoint to the next mode, never back.
The output limit goes out as `max_tokens` until a model asks for `max_completion_tokens`
(o1/o3/gpt-5); a re-ask sends a changed `seed` until a server refuses the parameter. Each
refusal is learnt once per endpoint and model (llm/endpoints.py: shared by concurrent items, kept
in the workspace) and the request is resent without the model having been asked: at most
len(MODES) - 1 + 2 such resends per call (REFUSAL_RESENDS). An answer that does not parse is the
model's fault, never a refusal, and changes nothing here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from persona_assistant.llm.endpoints import Endpoints
from persona_assistant.llm.settings import LLMSettings
from persona_assistant.llm.transport import REJECTED_HEADER, rejects_param, wants_max_completion_tokens

MODES = ("json_schema", "json_object", "prompt")
REFUSAL_RESENDS = len(MODES) - 1 + 2  # mode fallbacks, the limit's name, the seed: resends per call at most


def request_messages(messages: list[dict], mode: str, schema: dict) -> list[dict]:
    """The messages as sent in `mode`: outside json_schema the schema also goes in the system prompt."""
    if mode == "json_schema":
        return list(messages)
    instruction = ("Answer with one JSON object and nothing else (no prose, no code fence). "
                   "It must match this JSON Schema:\n" + json.dumps(schema, ensure_ascii=False))
    out = list(messages)
    if out and out[0].get("role") == "system":
        out[0] = {**out[0], "content": f"{out[0]['content']}\n\n{instruction}"}
    else:
        out.insert(0, {"role": "system", "content": instruction})
    return out


def response_format(mode: str, name: str, schema: dict, strict: bool) -> dict:
    if mode == "json_schema":
        return {"response_format": {"type": "json_schema",
                                    "json_schema": {"name": name, "schema": schema, "strict": strict}}}
    if mode == "json_object":
        return {"response_format": {"type": "json_object", "schema": schema}}
    return {}


@dataclass
class Quirks:
    """The learnt profile of one (base URL, model), read and taught through `Endpoints`."""

    settings: LLMSettings
    endpoints: Endpoints

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.endpoints.get(self.settings.base_url, self.settings.model, name, default)

    def learn(self, name: str, value: str) -> None:
        self.endpoints.learn(self.settings.base_url, self.settings.model, name, value)

    @property
    def limit_param(self) -> str:
        """max_tokens (what llama.cpp and older servers know) until the model asks for the newer name."""
        return self.get("limit", "max_tokens")

    def later_mode(self, mode: str) -> str:
        """`mode`, or the later mode this endpoint has since been found to need."""
        learnt = self.get("mode", mode)
        return learnt if MODES.index(learnt) > MODES.index(mode) else mode

    def request_extra(self, mode: str, name: str, schema: dict, strict: bool, max_tokens: int,
                      answer_number: int) -> dict:
        """response_format, the output limit and (for a re-ask, where the server takes it) a seed."""
        extra = response_format(mode, name, schema, strict)
        extra[self.limit_param] = max_tokens
        if answer_number > 1 and self.get("seed") != "off":
            extra["seed"] = answer_number  # a re-ask changes something: small models repeat themselves otherwise
        return extra

    def refusal(self, exc, extra: dict, mode: str) -> tuple[str, str | None] | None:
        """(mode to use, note or None) when `exc` is the server refusing a parameter of ours (learnt
        here, the request is to be resent); None when it is any other error."""
        if "seed" in extra and rejects_param(exc, "seed"):
            self.learn("seed", "off")
            return mode, None
        if "max_tokens" in extra and wants_max_completion_tokens(exc):
            self.learn("limit", "max_completion_tokens")
            return mode, f"{self.settings.model} rejected max_tokens; using max_completion_tokens"
        if exc.response.headers.get(REJECTED_HEADER) and mode != "prompt":
            nxt = self.later_mode(MODES[MODES.index(mode) + 1])
            self.learn("mode", nxt)
            return nxt, f"{self.settings.endpoint_host} rejected response_format {mode}; using {nxt}"
        return None
