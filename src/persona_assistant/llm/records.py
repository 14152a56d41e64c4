"""What every model call leaves behind: its log row, its cost and, when it failed, one line.

A mixin of llm.client.LLM (it uses the LLM's settings, store, mask and breaker). Every error
shown or logged is masked with the key (llm/faults.SecretMask) and cut to one line; the log
records tokens (unknown stays unknown), the cost (None without a price or token counts), the
HTTP requests of the call (llm/transport.REQUESTS) and every response_format mode tried.
"""

from __future__ import annotations

import time

from persona_assistant.errors import ModelError
from persona_assistant.llm.faults import EndpointRefusing, one_line
from persona_assistant.llm.store import Usage
from persona_assistant.llm.transport import GAVE_UP_HEADER, REQUESTS, body_message


class CallRecords:
    def _fail(self, task: str, message: str, *, usage: Usage, started: float, mode: str | None,
              attempts: int, key: str | None, kind: type[ModelError] = ModelError) -> ModelError:
        message = one_line(message, self.mask)
        self._log(task, usage, started, status="error", error=message, mode=mode, attempts=attempts, key=key)
        return kind(message)

    def _api_fail(self, task: str, exc: Exception, **fail) -> ModelError:
        """The ModelError for an SDK error (EndpointRefusing while the breaker is open), logged."""
        if self.breaker.refused(exc):
            return self._fail(task, self.breaker.describe(task, self.settings.endpoint_host), kind=EndpointRefusing,
                              **fail)
        return self._fail(task, self._api_error_message(task, exc), **fail)

    def _api_error_message(self, task: str, exc: Exception) -> str:
        import openai

        host = self.settings.endpoint_host
        tries = self.settings.max_retries + 1
        if isinstance(exc, openai.APITimeoutError):
            return (f"{task}: model endpoint {host} did not answer within {self.settings.timeout:g} s "
                    f"(up to {tries} attempts); raise [llm].timeout or use a smaller model")
        if isinstance(exc, openai.APIConnectionError):
            return f"{task}: cannot reach model endpoint {host} (up to {tries} attempts): {exc.__class__.__name__}"
        if isinstance(exc, openai.APIStatusError) and exc.response.headers.get(GAVE_UP_HEADER):
            return (f"{task}: model endpoint {host} did not answer within {self.settings.timeout:g} s; the request "
                    "was given up on, not resent (the server may still be working on it); raise [llm].timeout, "
                    "lower --concurrency or use a smaller model")
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            hint = ""
            if status == 401:
                hint = " (check the API key: `persona-assistant keys set` or OPENAI_API_KEY)"
            elif status == 404:
                hint = f" (is model {self.settings.model!r} served there?)"
            retried = f" after up to {tries} attempts" if status in (408, 409, 429) or status >= 500 else ""
            return f"{task}: model endpoint {host} answered HTTP {status}{retried}: {body_message(exc)}{hint}"
        return f"{task}: model endpoint {host} failed: {exc.__class__.__name__}: {exc}"

    def _timeout_message(self, task: str, exc, started_with: int) -> str:
        """A streamed answer given up on (llm/provider.AnswerTimeout), worded by its real cause: the
        server queueing our own requests, a model slow to start, or a model streaming too slowly."""
        host = self.settings.endpoint_host
        closed = "the request was closed, not resent"
        if not exc.first_token:
            return (f"{task}: model endpoint {host} stalled: no token for {exc.seconds:g} s after {exc.chunks} "
                    f"chunks, so the model streams too slowly; {closed}; raise [llm].idle_timeout or use a "
                    "smaller model")
        if started_with > 1:
            return (f"{task}: model endpoint {host} sent no first token within {exc.seconds:g} s while "
                    f"{started_with} of our requests were at it: the server was queueing them, not slow to "
                    f"answer; {closed}; this run now sends {self.capacity.limit} at a time (remembered for "
                    "the endpoint)")
        earlier = self.capacity.given_up - 1  # this one is counted already
        if earlier > 0:
            return (f"{task}: model endpoint {host} sent no first token within {exc.seconds:g} s; no other request "
                    f"of ours was in flight, but {earlier} given up on earlier may still occupy "
                    f"the server: it is queueing, not slow to answer; {closed}; this run now sends "
                    f"{self.capacity.limit} at a time")
        return (f"{task}: model endpoint {host} sent no first token within {exc.seconds:g} s with no other "
                f"request of ours at it: the model is slow to start on this prompt; {closed}; raise "
                "[llm].timeout, lower [llm].prompt_budget_tokens or use a smaller model")

    def _log(self, task: str, usage: Usage, started: float, *, status: str, mode: str | None, attempts: int,
             key: str | None, error: str | None = None, cached: bool = False, version: str | None = None,
             redacted: int | None = None) -> None:
        if error is not None:
            error = one_line(error, self.mask)  # every stored error is masked, whoever built it
        self.store.record(
            task=self.mask(task), model=self.mask(self.settings.model), endpoint=self.settings.endpoint_host,
            prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
            latency_ms=int((time.monotonic() - started) * 1000),
            cost=0.0 if cached else self._cost(usage),
            cache_key=key, cached=int(cached), status=status, error=error, mode=mode, attempts=attempts,
            prompt_version=version, redacted=redacted, tokens_known=int(usage.known), requests=REQUESTS.get()[0])

    def _cost(self, usage: Usage) -> float | None:
        """Estimated US dollars; None (unknown) without a price or without token counts."""
        return self.settings.cost(usage.prompt_tokens, usage.completion_tokens) if usage.known else None
