"""A schema-driven stub server: it answers exactly what the request's schema allows.

`minimal_instance(schema)` builds a small valid instance of the JSON Schema the request sent
(response_format json_schema or json_object + schema): every required property, the first
enum value, the first anyOf branch, one item per array where maxItems allows, integers at
their minimum, strings of their minLength (at least "x") cut to maxLength. It knows nothing
of the task, as a grammar-constrained server knows nothing: whatever it answers is what the
schema sent lets through.
"""

from __future__ import annotations

import json
from typing import Any

import httpx


def minimal_instance(node: Any, defs: dict | None = None) -> Any:
    defs = defs if defs is not None else node.get("$defs", {})
    if "$ref" in node:
        return minimal_instance(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    if "enum" in node:
        return node["enum"][0]
    if "anyOf" in node:
        return minimal_instance(node["anyOf"][0], defs)
    kind = node.get("type")
    if kind == "object":
        return {name: minimal_instance(sub, defs) for name, sub in node.get("properties", {}).items()}
    if kind == "array":
        count = max(node.get("minItems", 1), 1)
        if node.get("maxItems") is not None:
            count = min(count, node["maxItems"])
        return [minimal_instance(node.get("items", {}), defs) for _ in range(count)]
    if kind == "integer":
        return node.get("minimum", 1)
    if kind == "number":
        return node.get("minimum", 0)
    if kind == "boolean":
        return False
    text = "x" * max(node.get("minLength", 1), 1)
    return text[: node["maxLength"]] if node.get("maxLength") is not None else text


def schema_of(request: httpx.Request) -> dict:
    fmt = json.loads(request.content).get("response_format") or {}
    return fmt.get("json_schema", {}).get("schema") or fmt.get("schema") or {}


def answer(request: httpx.Request) -> httpx.Response:
    """respx side effect: a chat completion holding the minimal instance of the request's schema."""
    content = json.dumps(minimal_instance(schema_of(request)))
    return httpx.Response(200, json={
        "id": "stub", "object": "chat.completion", "created": 0, "model": "stub",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
