"""One answer from the endpoint: the seam between the structured-output loop and HTTP.

The loop (llm/loop.py) asks a provider for one `Completion` per answer; the provider here is the
openai SDK on llm/transport.py's httpx client, and tests may plug in a fake at this seam
(tests/fake_provider.py) when HTTP detail does not matter.

Two ways to get an answer, chosen per endpoint:

- **Whole** (remote endpoints): one request, one body; a body that is not a completion (HTML
  with status 200, empty, unparsable JSON) is UnusableAnswer, detected here and nowhere else.
  One total timeout ([llm].timeout); a request that timed out is given up on and not retried
  (llm/transport.py turns the timeout into a final answer, so the SDK does not resend it while
  the server may still be working on it).
- **Streamed** (local endpoints, llm/capacity.is_local): the same request with `stream: true`,
  read under two deadlines instead of one total timeout: the first token within [llm].timeout
  (a wait that is queueing at the server, or a slow start), then no gap longer than
  [llm].idle_timeout between chunks (a model streaming too slowly). A request given up on is
  closed, which stops the work on servers that notice (llama.cpp does), and is not retried.
  The wait for the first token is reported to llm/capacity.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from persona_assistant.errors import ModelError
from persona_assistant.llm.faults import (
    INTERRUPTED, StreamInterrupted, UnusableAnswer, looks_like_sse, unusable_answer,
)
from persona_assistant.llm.transport import SENT_AT, rejects_param


@dataclass
class Completion:
    """One answer as the loop judges it."""

    content: str | None
    finish_reason: str | None = "stop"
    refusal: str | None = None
    usage: Any = None  # the SDK's usage object, None when the server sent no counts
    has_choices: bool = True
    first_token_s: float | None = None  # streamed answers: the wait for the first token, less our own lateness
    first_token_raw: float | None = None  # ...and as measured (never shorter than the server took)


class AnswerTimeout(ModelError):
    """A streamed answer given up on: no first token in time (`first_token`), or stalled."""

    def __init__(self, first_token: bool, seconds: float, chunks: int = 0):
        super().__init__("no first token" if first_token else "stalled")
        self.first_token, self.seconds, self.chunks = first_token, seconds, chunks


async def open_stream(client, quirks, request: dict):
    """An SDK stream for `request` (stream_options include_usage unless the endpoint refuses it:
    older servers, e.g. Azure API versions before 2024-09, are asked again without it, once, and
    that is learnt; their token counts stay unknown, never 0)."""
    import openai

    extra = {} if quirks.get("stream_usage") == "off" else {"stream_options": {"include_usage": True}}
    try:
        return await client.chat.completions.create(stream=True, **request, **extra)
    except openai.BadRequestError as exc:
        if not extra or not rejects_param(exc, "stream_options"):
            raise
        quirks.learn("stream_usage", "off")
        return await client.chat.completions.create(stream=True, **request)


async def check_stream(stream, task: str, host: str) -> None:
    """UnusableAnswer unless the body is an event stream (by content type, or by its first bytes
    for servers that mislabel one); a non-stream body is small, so it is read whole to say so."""
    response = stream.response
    content_type = response.headers.get("content-type", "")
    if "event-stream" in content_type:
        return
    await response.aread()  # the SDK's iterator then reads the same bytes from memory
    if not looks_like_sse(response.text):
        raise UnusableAnswer(unusable_answer(task, host, content_type, response.content, "an event stream"))


class OpenAIProvider:
    """Answers through the LLM's SDK client (one per event loop), streamed for local endpoints."""

    def __init__(self, llm, streamed: bool):
        import openai  # noqa: F401  (seconds on a busy machine: imported now, not inside the first timed request)

        self.llm = llm
        self.streamed = streamed

    async def complete(self, task: str, request: dict) -> Completion:
        if self.streamed:
            return await self._streamed(task, request)
        return await self._whole(task, request)

    async def _whole(self, task: str, request: dict) -> Completion:
        """The SDK parses a body that is not labelled JSON (an HTML page with status 200, an empty
        body) to a str, labelled JSON that does not parse raises ValueError, other JSON gives a
        model without `choices`: each is UnusableAnswer."""
        raw = await self.llm._client().chat.completions.with_raw_response.create(**request)
        try:
            response = raw.parse()
        except ValueError:  # json.JSONDecodeError
            response = None
        if not isinstance(getattr(response, "choices", None), list):
            http = raw.http_response
            raise UnusableAnswer(unusable_answer(task, self.llm.settings.endpoint_host,
                                                 http.headers.get("content-type"), http.content,
                                                 "a chat completion (JSON)"))
        if not response.choices:
            return Completion(None, None, usage=response.usage, has_choices=False)
        choice = response.choices[0]
        return Completion(choice.message.content, choice.finish_reason, getattr(choice.message, "refusal", None),
                          response.usage)

    async def _streamed(self, task: str, request: dict) -> Completion:
        import asyncio

        import httpx

        settings = self.llm.settings
        capacity = self.llm.capacity
        started = time.monotonic()
        stream = None
        parts: list[str] = []
        refusal: list[str] = []
        finish: str | None = None
        usage = None
        first: float | None = None
        raw: float | None = None
        chunks = 0
        mark = (started, capacity.stalled)  # the wait runs from here; our own stalls since do not count
        sent = [started]
        SENT_AT.set(sent)  # the request hook notes when the request left (after the SDK built it)

        def deadline() -> float:
            allowed = settings.idle_timeout if first is not None else settings.timeout
            return mark[0] + allowed + (capacity.stalled - mark[1])

        async def opened():
            nonlocal stream
            stream = await open_stream(self.llm._client(), self.llm.quirks, request)
            await check_stream(stream, task, settings.endpoint_host)
            return stream.__aiter__()

        try:
            chunk_iter = await within(opened(), deadline)
            while True:
                try:
                    chunk = await within(chunk_iter.__anext__(), deadline)
                except StopAsyncIteration:
                    break
                chunks += 1
                if getattr(chunk, "usage", None) is not None:
                    usage = chunk.usage
                for choice in chunk.choices or []:
                    delta = choice.delta
                    if delta is not None and (delta.content or getattr(delta, "refusal", None)):
                        if first is None:  # from when it left, less our lateness in getting to it
                            raw = time.monotonic() - sent[0]
                            first = max(0.0, raw - capacity.behind())
                        parts.append(delta.content or "")
                        refusal.append(getattr(delta, "refusal", None) or "")
                    finish = choice.finish_reason or finish
                if first is not None:
                    mark = (time.monotonic(), capacity.stalled)  # the idle deadline runs from the last chunk
        except asyncio.TimeoutError:
            raise AnswerTimeout(first is None, settings.timeout if first is None else settings.idle_timeout,
                                chunks) from None
        except httpx.HTTPError as exc:  # the connection broke mid-stream: not a complete answer
            raise ModelError(f"{task}: model endpoint {settings.endpoint_host}: the stream broke off after "
                             f"{chunks} chunks ({type(exc).__name__})") from None
        finally:
            if stream is not None:
                await stream.close()  # given up on or done: the server stops working on it
        if finish is None:
            raise StreamInterrupted(f"{task}: {INTERRUPTED} (model endpoint {settings.endpoint_host}: the stream "
                                    f"ended after {chunks} chunks; the answer was not kept)")
        if first is None:
            first = raw = time.monotonic() - sent[0]
        return Completion("".join(parts), finish, "".join(refusal) or None, usage, first_token_s=first,
                          first_token_raw=raw)


async def within(awaitable, deadline):
    """`awaitable`'s result, or asyncio.TimeoutError (the awaitable cancelled) once `deadline()`
    (a clock time that moves later while our own event loop stalls) has passed."""
    import asyncio

    task = asyncio.ensure_future(awaitable)
    while True:
        done, _ = await asyncio.wait({task}, timeout=max(0.0, deadline() - time.monotonic()))
        if done:
            return task.result()
        if deadline() <= time.monotonic():
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
            raise asyncio.TimeoutError
