"""Streaming chat answers: the one place that reads an event stream from the endpoint.

A mixin of llm.client.LLM (it uses the LLM's client, redaction, endpoint profile, log and
fault wording). The output limit goes with every stream (llm/budget.py) and a stream that
stopped at it says so ("cut"); a stream is complete only once a choice carried a finish
reason; token counts are unknown, never 0, when no chunk carried them.
"""

from __future__ import annotations

import time
from typing import Any, AsyncIterator

from persona_assistant.errors import ModelError
from persona_assistant.llm.budget import CUT_NOTICE, max_tokens_for
from persona_assistant.llm.faults import INTERRUPTED, StreamInterrupted, UnusableAnswer
from persona_assistant.llm.provider import check_stream, open_stream
from persona_assistant.llm.store import Usage
from persona_assistant.llm.transport import REQUESTS


class ChatStreaming:
    async def stream_chat(self, messages: list[dict], tools: list[dict] | None = None, *,
                          task: str = "chat") -> AsyncIterator[tuple[str, Any]]:
        """Yields ("text", delta), then ("cut", CUT_NOTICE) when the answer stopped at the output
        limit (llm/budget.py), then ("tool_call", {"id", "name", "arguments"}) per complete
        call, then ("usage", {"prompt_tokens", "completion_tokens"}). Redacted values are restored
        in the text; a delta is held back until a space so a placeholder is never split.

        A stream is complete only once a choice carried a finish reason: one that ends (or breaks
        off) before raises StreamInterrupted after the text already yielded, and no tool call
        or usage is yielded for it; a body that is not an event stream raises UnusableAnswer."""
        import httpx
        import openai

        if self.settings.offline:
            raise ModelError(f"{task}: {self.settings.offline_notice}")
        started = time.monotonic()
        REQUESTS.set([0])
        usage = Usage()
        restore = (lambda t: self.redactor.restore(t)[0]) if self.settings.redact else (lambda t: t)
        extra: dict[str, Any] = {"tools": tools} if tools else {}
        extra[self.quirks.limit_param] = max_tokens_for(task, self.settings)
        calls: dict[int, dict[str, str]] = {}
        pending = ""
        used: set[str] = set()
        request = self._redact(messages, used)

        fail = dict(usage=usage, started=started, mode="stream", attempts=1, key=None)
        finished = capped = counted = False
        chunks = 0
        broke: str | None = None
        try:
            stream = await open_stream(self._client(), self.quirks,
                                       dict(model=self.settings.model, messages=request, **extra))
            await check_stream(stream, task, self.settings.endpoint_host)
            try:
                async for chunk in stream:
                    chunks += 1
                    if getattr(chunk, "usage", None) is not None:  # most chunks carry none; one at the end may
                        usage.add(chunk.usage)
                        counted = True
                    for choice in chunk.choices or []:
                        finished = finished or bool(choice.finish_reason)
                        capped = capped or choice.finish_reason == "length"
                        delta = choice.delta
                        if delta is None:
                            continue
                        if delta.content:
                            pending += delta.content
                            cut = max(pending.rfind(" "), pending.rfind("\n"))
                            if cut >= 0 or len(pending) > 80:
                                cut = cut if cut >= 0 else len(pending) - 1
                                text, pending = pending[: cut + 1], pending[cut + 1:]
                                yield "text", restore(text)
                        for tc in delta.tool_calls or []:
                            slot = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                            slot["id"] = tc.id or slot["id"]
                            if tc.function is not None:
                                slot["name"] += tc.function.name or ""
                                slot["arguments"] += tc.function.arguments or ""
            except (httpx.HTTPError, ValueError) as exc:  # the connection broke, a chunk did not parse
                broke = f"{type(exc).__name__}: {exc}"
        except UnusableAnswer as exc:
            raise self._fail(task, exc.message, **fail) from None
        except openai.APIError as exc:
            raise self._api_fail(task, exc, **fail) from None
        if not finished:
            if pending:  # shown, like all that arrived, and then not kept
                yield "text", restore(pending)
            why = f"broke off ({broke})" if broke else "ended"
            raise self._fail(task, f"{task}: {INTERRUPTED} (model endpoint {self.settings.endpoint_host}: the "
                                   f"stream {why} after {chunks} chunks; the answer was not kept)",
                             kind=StreamInterrupted, **fail)
        if pending:
            yield "text", restore(pending)
        if capped:
            yield "cut", CUT_NOTICE
        usage.known = usage.known and counted  # no usage chunk: token counts unknown, not 0
        for index in sorted(calls):
            yield "tool_call", {**calls[index], "arguments": restore(calls[index]["arguments"])}
        self._log(task, usage, started, status="ok", mode="stream", attempts=1, key=None,
                  redacted=self._redacted(used))
        yield "usage", usage.as_dict()
