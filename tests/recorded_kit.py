"""The recorded-response kit: answers of real small models (fixtures/recorded/*.json) replayed
through respx, so the model path meets what real servers send, not only clean mocks.

Each fixture holds one answer's text as the server sent it (`content`, `finish_reason`) and
where it came from (`origin`: "recorded ..." with model and server, or "hand-written: ..."
for a kind of bad answer the recording run did not produce). A replay serves each request
the answer recorded for its task, told apart by the schema the request sends, exactly as a
grammar-constrained server sees it; a task with no answer given fails the test loudly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

import httpx

from persona_assistant.llm.settings import LLMSettings, SecretStr
from persona_assistant.workspace import Workspace

BASE = "http://recorded.test/v1"
URL = f"{BASE}/chat/completions"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
RECORDED = FIXTURES / "recorded"
# The workspace the recordings were made in: the sample workspace with one interview.
NOTE = "2024-03-12-cfo-northwind.md"


def load(name: str) -> dict:
    data = json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))
    assert data["origin"].startswith(("recorded", "hand-written")), name
    return data


def completion(answer: dict) -> httpx.Response:
    """A chat completion as llama.cpp's server sends it, holding one fixture's answer."""
    return httpx.Response(200, json={
        "id": "chatcmpl-recorded", "object": "chat.completion", "created": 0, "model": "local",
        "choices": [{"index": 0, "finish_reason": answer.get("finish_reason", "stop"), "logprobs": None,
                     "message": {"role": "assistant", "content": answer["content"]}}],
        "usage": answer.get("usage")})


def schema_sent(request: httpx.Request) -> dict:
    fmt = json.loads(request.content).get("response_format") or {}
    return fmt.get("json_schema", {}).get("schema") or fmt.get("schema") or {}


def task_of(request: httpx.Request) -> str:
    """Which task a request is, from the schema it sends (the prompt-mode schema sits in the text)."""
    schema = schema_sent(request)
    text = json.dumps(schema) if schema else request.content.decode("utf-8", "replace")
    for task, marker in (("extract_evidence", "EvidenceCandidate"), ("persona_grouping", '"groups"'),
                         ("asset", '"addresses"'), ("icp_draft", '"firmographics"'),
                         ("persona_synthesis", '"archetype"')):
        if marker in text:
            return task
    raise AssertionError(f"no task recognised in the request: {text[:200]}")


def refuse_json_schema(request: httpx.Request) -> httpx.Response | None:
    """llama-cpp-python's server refuses response_format json_schema as it did in the recording run."""
    fmt = json.loads(request.content).get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return httpx.Response(500, json={"error": {
            "message": "1 validation error: ('body', 'response_format', 'type'): Input should be 'text' or "
                       "'json_object'", "type": "internal_server_error"}})
    return None


def replay(answers: dict[str, list[dict]]) -> Callable[[httpx.Request], httpx.Response]:
    """A respx side effect: per task, the given answers in turn (the last one again for a re-ask)."""
    served: dict[str, int] = {}

    def respond(request: httpx.Request) -> httpx.Response:
        refused = refuse_json_schema(request)
        if refused is not None:
            return refused
        task = task_of(request)
        assert task in answers, f"the test gave no answer for {task}"
        i = served.get(task, 0)
        served[task] = i + 1
        return completion(answers[task][min(i, len(answers[task]) - 1)])

    return respond


def settings() -> LLMSettings:
    return LLMSettings(model="local", base_url=BASE, api_key=SecretStr("sk-local"), timeout=5.0, max_retries=0)


def workspace(root: Path) -> Workspace:
    """The recording run's workspace: the sample workspace's brief and CRM, one interview."""
    sample = FIXTURES / "sample-workspace"
    root.mkdir(parents=True)
    shutil.copy(sample / "brief.yaml", root / "brief.yaml")
    shutil.copytree(sample / "crm", root / "crm")
    (root / "notes").mkdir()
    shutil.copy(sample / "notes" / NOTE, root / "notes" / NOTE)
    return Workspace(root)
