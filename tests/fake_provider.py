"""A fake model at the Python level (like simonw/llm's MockModel), beside respx at the HTTP level.

`LLM(settings, provider=FakeProvider([...]))` answers from a queue without any HTTP: everything
above the provider seam (llm/provider.py) runs for real - redaction, the structured-output loop
and its re-ask policy, salvage, checks, the cache and the log. Use it where HTTP detail (status
codes, bodies, headers, the SDK's retries) does not matter; use respx where it does.

An answer is a str (the content, finish_reason "stop"), a dict (JSON-encoded content), a
`Completion` (any finish reason, refusal, usage) or an exception to raise. When the queue runs
dry the last answer repeats. `requests` keeps every request as the provider received it.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from persona_assistant.llm.provider import Completion


class FakeProvider:
    def __init__(self, answers: list[Any]):
        if not answers:
            raise ValueError("FakeProvider needs at least one answer")
        self.answers = list(answers)
        self.requests: list[dict] = []

    @property
    def calls(self) -> int:
        return len(self.requests)

    def sent(self, i: int = -1) -> str:
        """The text of the last message of request `i` (a re-ask carries the problems there)."""
        return self.requests[i]["messages"][-1]["content"]

    async def complete(self, task: str, request: dict) -> Completion:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, Completion):
            return answer
        content = json.dumps(answer) if isinstance(answer, dict) else answer
        usage = SimpleNamespace(prompt_tokens=10, completion_tokens=5)
        return Completion(content, "stop", usage=usage)
