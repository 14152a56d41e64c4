"""The HTTP side of the LLM layer: the SDK client on an explicit httpx transport, its hooks, and
how a server's refusal of a request parameter is recognised.

Requests go through an explicit httpx.AsyncClient (the SDK's default transport is httpx2,
which respx does not intercept): one code path in production and tests. Hooks: every request
is counted into the running call's counter (REQUESTS, a context variable, so concurrent calls
count their own); a response refusing our response_format is marked (REJECTED_HEADER, and
x-should-retry: false so the SDK does not retry it); the circuit breaker (llm/faults.py) counts
and refuses.

A request that timed out waiting for its answer is given up on, never resent: the server may
still be working on it, and a resend would queue behind it (measured: 28 requests still queued
on a one-slot server after the command exited). `GiveUpTransport` turns such a read timeout into
a final HTTP 408 marked GAVE_UP_HEADER and x-should-retry: false, which the SDK does not retry;
a connect timeout (the server never got the request) stays the SDK's to retry.
"""

from __future__ import annotations

import contextvars
import time
from functools import lru_cache

from persona_assistant.llm.faults import CircuitBreaker
from persona_assistant.llm.settings import LLMSettings

REJECTED_HEADER = "x-persona-assistant-mode-rejected"
GAVE_UP_HEADER = "x-persona-assistant-gave-up"
_REJECTION_WORDS = ("response_format", "json_schema", "json_object")

# HTTP requests of the call running in this context (a one-item list, so the request hook can
# count into the call's own counter): re-asks, refused formats and the SDK's retries all count.
REQUESTS: contextvars.ContextVar[list[int]] = contextvars.ContextVar("requests", default=[0])


# When the running answer's request last left (a one-item list, set by llm/provider.py): the wait
# for a first token starts there, not before the SDK built the request.
SENT_AT: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar("sent_at", default=None)


async def _count_request(request) -> None:
    REQUESTS.get()[0] += 1
    sent = SENT_AT.get()
    if sent is not None:
        sent[0] = time.monotonic()


async def _mark_mode_rejection(response) -> None:
    """httpx response hook: a server refusing our response_format is not a transient failure.

    Marked so the SDK raises at once instead of retrying (x-should-retry), and so the LLM
    recognises it (REJECTED_HEADER) and falls back to the next mode."""
    if response.status_code not in (400, 422, 500):
        return
    try:
        sent = response.request.content
    except Exception:  # a streamed request body: not ours
        return
    if b'"response_format"' not in sent:
        return
    await response.aread()
    body = response.text.lower()
    if any(word in body for word in _REJECTION_WORDS):
        response.headers["x-should-retry"] = "false"
        response.headers[REJECTED_HEADER] = "1"


def _give_up_transport():
    import httpx

    class GiveUpTransport(httpx.AsyncBaseTransport):
        """The default transport, except that a read timeout is a final answer (module docstring)."""

        def __init__(self, **kwargs):
            self._inner = httpx.AsyncHTTPTransport(**kwargs)

        async def handle_async_request(self, request):
            try:
                return await self._inner.handle_async_request(request)
            except (httpx.ReadTimeout, httpx.WriteTimeout):
                return httpx.Response(408, request=request, json={"error": {"message": "gave up waiting"}},
                                      headers={GAVE_UP_HEADER: "1", "x-should-retry": "false"})

        async def aclose(self) -> None:
            await self._inner.aclose()

    return GiveUpTransport


@lru_cache(maxsize=1)
def _ssl_context():
    """Built once: loading the CA bundle costs tens of ms, and the sync wrapper makes a client per call."""
    import httpx

    return httpx.create_ssl_context()


def make_client(settings: LLMSettings, breaker: CircuitBreaker | None = None, *, streamed: bool = False):
    """An AsyncOpenAI client on an explicit httpx.AsyncClient (which respx intercepts); with a
    `breaker`, every HTTP attempt (the SDK's retries too) is counted and refused while it is open.
    `streamed`: the answers are read under llm/provider.py's own deadlines (first token, idle), so
    the socket's read timeout only backs them up."""
    import httpx
    import openai

    read = settings.timeout + settings.idle_timeout if streamed else settings.timeout
    timeout = httpx.Timeout(read, connect=min(10.0, settings.timeout))
    hooks: dict[str, list] = {"request": [_count_request], "response": [_mark_mode_rejection]}
    if breaker is not None:
        hooks["request"].append(breaker.before_request)
        hooks["response"].append(breaker.after_response)  # after the mode-rejection mark it skips
    http = httpx.AsyncClient(timeout=timeout, event_hooks=hooks, transport=_give_up_transport()(verify=_ssl_context()))
    return openai.AsyncOpenAI(api_key=settings.api_key.get_secret_value(), base_url=settings.base_url,
                              http_client=http, max_retries=settings.max_retries, timeout=timeout)


def body_message(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
        if body.get("detail"):
            return str(body["detail"])
    return getattr(exc, "message", "") or str(exc)


_REFUSAL_WORDS = ("unsupported", "not supported", "unrecognized", "unknown", "extra inputs", "not permitted")


def rejects_param(exc, name: str) -> bool:
    """A 400 refusing the request parameter `name` itself (unknown or unsupported), not its value."""
    if getattr(exc, "status_code", None) != 400:
        return False
    message = body_message(exc).lower()
    named = getattr(exc, "param", None) == name or name in message
    return named and (getattr(exc, "code", None) == "unsupported_parameter"
                      or any(w in message for w in _REFUSAL_WORDS))


def wants_max_completion_tokens(exc) -> bool:
    """A 400 saying this model rejects `max_tokens` (o1/o3/gpt-5), not one about its value."""
    return rejects_param(exc, "max_tokens") or (
        getattr(exc, "status_code", None) == 400 and "max_completion_tokens" in body_message(exc).lower())
