"""One way to ask any OpenAI-compatible endpoint for language, never for numbers.

`LLM.structured_async` asks for JSON matching a Pydantic model and returns only an answer that
validated and passed the caller's code `check` (e.g. every quote found in its source). Modes, in
order: strict json_schema, then json_object with the schema, then the schema in the prompt. A
server that rejects a mode (HTTP 400/422/500 naming response_format/json_schema/json_object,
e.g. llama.cpp's "Input should be 'text' or 'json_object'") moves the endpoint to the next mode,
remembered per endpoint (llm/endpoints.py: shared by concurrent items, kept in the workspace);
an answer that does not parse is the model's fault, not a refusal, and never changes the mode.
A rejection is marked on the response (x-should-retry: false) so the SDK does not spend its
retries on it; every other retry is the SDK's own (max_retries), there is no second retry
layer. Each answer is judged item by item (llm/answers.py: normalised, invalid list items dropped with a note, re-asks and the number of
calls per item); an answer with nothing usable is re-asked with the errors fed back, at most
MAX_REASKS times, then ModelError.

The output limit goes out as `max_tokens` (what llama.cpp and older servers know); when a 400
says the model wants `max_completion_tokens` (o1/o3/gpt-5), the same request is resent once
with that name, which this endpoint and model keep (llm/endpoints.py). A stream whose
server refuses `stream_options` (include_usage) is asked again without it, likewise remembered.

Faults end as one line (llm/faults.py): a body that is not a completion (HTML with status 200,
empty, unparsable JSON) is detected in `_complete` for structured calls and `_check_stream`
(llm/streaming.py: chat streams) for streams, naming the host and what came back; a stream that ends without a finish reason is
`StreamInterrupted`; each LLM owns a `CircuitBreaker` that stops its run after consecutive
429/5xx (EndpointRefusing); every error shown or logged is masked with the key (`SecretMask`).

Requests go through llm/transport.py (an explicit httpx client that respx intercepts, the
request counter and the refusal mark). Personal data is redacted before
every request and restored in the answer (llm/redact.py); each call is logged (llm/store.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from persona_assistant.errors import ModelError
from persona_assistant.llm.answers import MAX_REASKS, NoValidAnswer, close_truncated, normalise, reask_messages, salvage
from persona_assistant.llm.budget import max_tokens_for
from persona_assistant.llm.endpoints import Endpoints
from persona_assistant.llm.faults import (
    CircuitBreaker, EndpointRefusing, SecretMask, UnusableAnswer, one_line, unusable_answer,
)
from persona_assistant.llm.redact import Redactor
from persona_assistant.llm.settings import LLMSettings
from persona_assistant.llm.store import Store, Usage, cache_key
from persona_assistant.llm.transport import (  # make_client: re-exported for callers and tests
    REJECTED_HEADER, REQUESTS, body_message, make_client, rejects_param, wants_max_completion_tokens,
)
from persona_assistant.llm.streaming import ChatStreaming
from persona_assistant.llm.structured import extract_json, schema_name, strict_schema

M = TypeVar("M", bound=BaseModel)
MODES = ("json_schema", "json_object", "prompt")


@dataclass
class StructuredResult(Generic[M]):
    value: M
    usage: Usage  # summed over every attempt, including rejected ones
    attempts: int  # answers asked for (1 + re-asks); cache hits are 0
    mode: str  # json_schema | json_object | prompt | cache
    cached: bool = False
    notes: list[str] = field(default_factory=list)
    cost: float | None = None


@dataclass
class Verdict:
    """One answer judged: `value` is None unless it validated (after salvage)."""

    value: Any = None
    problems: list[str] = field(default_factory=list)  # errors for a re-ask (validation or `check`)
    notes: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # one line per list item dropped in salvage

    @property
    def usable(self) -> bool:
        return self.value is not None and not self.problems

    def better(self, other: "Verdict | None") -> "Verdict":
        """Of two usable answers, the one that lost fewer items (the earlier on a tie)."""
        return self if other is None or len(self.dropped) < len(other.dropped) else other


# --------------------------------------------------------------------------- the LLM


class LLM(ChatStreaming):
    """A model endpoint with log, cache and redaction; async first, `structured` for sync callers."""

    def __init__(self, settings: LLMSettings, store: Store | None = None, redactor: Redactor | None = None,
                 *, ws=None, endpoints: Endpoints | None = None):
        self.settings = settings
        self.store = store if store is not None else Store.for_workspace(ws)
        self._redactor = redactor
        self._ws = ws
        self.mask = SecretMask(settings.api_key.get_secret_value())
        self.breaker = CircuitBreaker(skip_header=REJECTED_HEADER)  # one per LLM: per run, never shared
        self._clients: dict[int, Any] = {}
        self.endpoints = endpoints if endpoints is not None else Endpoints(ws)  # llm/endpoints.py

    # ------------------------------------------------------------------ clients per event loop
    def _client(self):
        """One SDK client per running event loop (an httpx pool cannot cross loops)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(id(loop))
        if client is None:
            client = self._clients[id(loop)] = make_client(self.settings, self.breaker)
        return client

    async def aclose(self) -> None:
        client = self._clients.pop(id(asyncio.get_running_loop()), None)
        if client is not None:
            await client.close()

    async def __aenter__(self) -> "LLM":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    def _learnt_get(self, name: str, default: str | None = None) -> str | None:
        return self.endpoints.get(self.settings.base_url, self.settings.model, name, default)

    def _learn(self, name: str, value: str) -> None:
        self.endpoints.learn(self.settings.base_url, self.settings.model, name, value)

    @property
    def _limit_param(self) -> str:
        """max_tokens (what llama.cpp and older servers know) until the model asks for the newer name."""
        return self._learnt_get("limit", "max_tokens")

    @property
    def redactor(self) -> Redactor:
        """The caller's, else the workspace's (llm/known_people.py: names from notes and CRM), built
        on first use; a bare Redactor (patterns only) without a workspace."""
        if self._redactor is None:
            from persona_assistant.llm.known_people import workspace_redactor

            self._redactor = workspace_redactor(self._ws) if self._ws is not None else Redactor()
        return self._redactor

    def _redact(self, messages: list[dict], used: set[str] | None = None) -> list[dict]:
        """Messages as sent; `used` collects the placeholders put in (their count is logged)."""
        return self.redactor.redact_messages(messages, used) if self.settings.redact else messages

    def _redacted(self, used: set[str]) -> int | None:
        return len(used) if self.settings.redact else None

    # ------------------------------------------------------------------ errors
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

    # ------------------------------------------------------------------ log
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

    # ------------------------------------------------------------------ structured output
    @staticmethod
    def _request_messages(messages: list[dict], mode: str, schema: dict) -> list[dict]:
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

    @staticmethod
    def _format(mode: str, name: str, schema: dict, strict: bool) -> dict:
        if mode == "json_schema":
            return {"response_format": {"type": "json_schema",
                                        "json_schema": {"name": name, "schema": schema, "strict": strict}}}
        if mode == "json_object":
            return {"response_format": {"type": "json_object", "schema": schema}}
        return {}

    def _next_mode(self, mode: str) -> str:
        nxt = self._later_mode(MODES[min(MODES.index(mode) + 1, len(MODES) - 1)])  # never back
        self._learn("mode", nxt)
        return nxt

    def _later_mode(self, mode: str) -> str:
        """`mode`, or the later mode this endpoint has since been found to need."""
        learnt = self._learnt_get("mode", mode)
        return learnt if MODES.index(learnt) > MODES.index(mode) else mode

    async def structured_async(self, task: str, messages: list[dict], response_model: type[M], *,
                               check: Callable[[M], list[str]] | None = None,
                               cache_key_parts: dict | None = None,
                               max_tokens: int | None = None) -> StructuredResult[M]:
        """A validated, checked answer; ModelError (one line) when there is none after re-asks.

        cache_key_parts: what else identifies the request, at least {"prompt": name, "version": v}
        (RenderedPrompt.name/.version); it is part of the cache key and the log."""
        import openai

        if self.settings.offline:
            raise ModelError(f"{task}: {self.settings.offline_notice}")
        started = time.monotonic()
        REQUESTS.set([0])
        max_tokens = max_tokens or max_tokens_for(task, self.settings)
        schema, strict = strict_schema(response_model)
        grammar, _ = strict_schema(response_model, "grammar")  # for json_object and prompt modes
        parts = cache_key_parts or {}
        version = str(parts.get("version")) if parts.get("version") is not None else None
        key = cache_key(model=self.settings.model, endpoint=self.settings.base_url, task=task, parts=parts,
                        schema=schema, messages=messages, max_tokens=max_tokens, redact=self.settings.redact)
        usage = Usage()
        notes: list[str] = []

        if self.settings.cache:
            hit = self.store.cache_get(key)
            if hit is not None:
                try:
                    value = response_model.model_validate_json(hit)
                    if not (check and check(value)):
                        self._log(task, usage, started, status="ok", mode="cache", attempts=0, key=key,
                                  cached=True, version=version)
                        return StructuredResult(value, usage, 0, "cache", cached=True, cost=0.0)
                except ValidationError:
                    pass  # the contract changed since: ask again

        client = self._client()
        mode = self._learnt_get("mode", "json_schema")
        convo = list(messages)
        attempts = 0
        used: set[str] = set()
        best: Verdict | None = None  # the usable answer kept so far
        previous: str | None = None  # the previous answer's text: the same again ends the re-asks
        partial_asked = False
        modes = [mode]  # logged as "json_schema>json_object" when the server refused one
        while True:
            attempts += 1
            mode = self._later_mode(mode)  # what a concurrent item learnt meanwhile
            if mode != modes[-1]:
                modes.append(mode)
            sent = schema if mode == "json_schema" else grammar
            request = self._redact(self._request_messages(convo, mode, sent), used)
            extra: dict[str, Any] = self._format(mode, schema_name(response_model), sent, strict)
            extra[self._limit_param] = max_tokens
            if attempts > 1 and self._learnt_get("seed") != "off":
                extra["seed"] = attempts  # a re-ask changes something: small models repeat themselves otherwise
            try:
                response = await self._complete(client, task, model=self.settings.model, messages=request,
                                                **extra)
            except UnusableAnswer as exc:
                raise self._fail(task, exc.message, usage=usage, started=started, mode=">".join(modes),
                                 attempts=attempts, key=key) from None
            except openai.APIStatusError as exc:
                if "seed" in extra and rejects_param(exc, "seed"):
                    self._learn("seed", "off")
                    attempts -= 1  # the server refused the parameter; the model was not asked
                    continue
                if "max_tokens" in extra and wants_max_completion_tokens(exc):
                    self._learn("limit", "max_completion_tokens")
                    notes.append(f"{self.settings.model} rejected max_tokens; using max_completion_tokens")
                    attempts -= 1  # the server refused the parameter; the model was not asked
                    continue
                if exc.response.headers.get(REJECTED_HEADER) and mode != "prompt":
                    old, mode = mode, self._next_mode(mode)
                    modes.append(mode)
                    notes.append(f"{self.settings.endpoint_host} rejected response_format {old}; using {mode}")
                    attempts -= 1  # the server refused the format; the model was not asked
                    continue
                raise self._api_fail(task, exc, usage=usage, started=started, mode=">".join(modes),
                                     attempts=attempts, key=key) from None
            except openai.APIError as exc:
                raise self._api_fail(task, exc, usage=usage, started=started, mode=">".join(modes),
                                     attempts=attempts, key=key) from None
            usage.add(response.usage)
            fail = dict(usage=usage, started=started, mode=">".join(modes), attempts=attempts, key=key)
            if not response.choices:
                verdict = Verdict(problems=["the answer had no choices"])
                content = ""
            else:
                choice = response.choices[0]
                message = choice.message
                if getattr(message, "refusal", None):
                    raise self._fail(task, f"{task}: the model refused: {message.refusal}", **fail)
                if choice.finish_reason == "length":  # salvaged item by item, never re-asked (it would run on again)
                    limit = f"{self._limit_param}={max_tokens}"
                    # judged without `check`: a cut answer is not re-asked, so what the check would ask to
                    # fix is dropped by the caller's own checks (verify_claims) instead of losing it all
                    verdict = self._judge(close_truncated(message.content or "") or "", response_model, None)
                    if verdict.usable:
                        verdict.notes.append(f"answer cut at {limit}: kept what was complete")
                        return self._accept(task, verdict.better(best), usage, started, modes, attempts, key,
                                            version, used, notes)
                    raise self._fail(task, f"{task}: answer from {self.settings.endpoint_host} truncated at {limit} "
                                           "with nothing complete to keep; raise --max-tokens (or [llm] max_tokens) "
                                           "or lower the prompt budget ([llm].prompt_budget_tokens)",
                                     kind=NoValidAnswer, **fail)
                if choice.finish_reason == "content_filter":
                    raise self._fail(task, f"{task}: the endpoint's content filter stopped the answer", **fail)
                content = message.content or ""
                verdict = self._judge(content, response_model, check)
            repeated = content == previous
            previous = content
            if verdict.usable:
                best = verdict.better(best)
                if not verdict.dropped or partial_asked or attempts > MAX_REASKS or repeated:
                    return self._accept(task, best, usage, started, modes, attempts, key, version, used, notes)
                partial_asked = True  # lost items: one re-ask for them, then the better answer is kept
                convo = reask_messages(messages, content, verdict.dropped, partial=True)
                continue
            if best is not None and (attempts > MAX_REASKS or repeated):
                return self._accept(task, best, usage, started, modes, attempts, key, version, used, notes)
            if attempts > MAX_REASKS or repeated:
                why = "the same answer again" if repeated else f"{attempts} attempts"
                raise self._fail(task, f"{task}: no valid answer from {self.settings.model} at "
                                       f"{self.settings.endpoint_host} after {why}: {verdict.problems[0]}",
                                 kind=NoValidAnswer, **fail)
            convo = reask_messages(messages, content, verdict.problems)

    def _accept(self, task: str, verdict: "Verdict", usage: Usage, started: float, modes: list[str], attempts: int,
                key: str, version: str | None, used: set[str], notes: list[str]) -> StructuredResult:
        """The kept answer: cached (only when it lost nothing), logged (with every mode tried, e.g.
        "json_schema>json_object"), returned with its notes."""
        mode = modes[-1]
        notes = notes + verdict.notes + verdict.dropped
        if self.settings.cache and not verdict.dropped:
            self.store.cache_put(key, verdict.value.model_dump_json(), task=task, model=self.settings.model)
        self._log(task, usage, started, status="ok", mode=">".join(modes), attempts=attempts, key=key,
                  version=version, redacted=self._redacted(used))
        return StructuredResult(verdict.value, usage, attempts, mode, notes=notes, cost=self._cost(usage))

    async def _complete(self, client, task: str, **request) -> Any:
        """One chat completion; UnusableAnswer when the body is not one. The one place that sees
        what the SDK does with such a body: a str when it is not labelled JSON (an HTML page with
        status 200, an empty body), ValueError when labelled JSON does not parse, a model without
        `choices` when it is some other JSON."""
        raw = await client.chat.completions.with_raw_response.create(**request)
        try:
            response = raw.parse()
        except ValueError:  # json.JSONDecodeError
            response = None
        if not isinstance(getattr(response, "choices", None), list):
            http = raw.http_response
            raise UnusableAnswer(unusable_answer(task, self.settings.endpoint_host, http.headers.get("content-type"),
                                                 http.content, "a chat completion (JSON)"))
        return response

    def _judge(self, content: str, response_model: type[M], check) -> "Verdict":
        """Parse, restore redacted values, normalise, salvage item by item (llm/answers.py), check."""
        try:
            data = extract_json(content)
        except ValueError as exc:
            return Verdict(problems=[f"not JSON: {exc}"])
        notes: list[str] = []
        if self.settings.redact:
            data, notes = self.redactor.restore_data(data)
        data = normalise(data, response_model, notes)
        value, dropped, problems = salvage(response_model, data)
        if value is None:
            return Verdict(problems=problems, dropped=dropped)
        problems = list(check(value) or []) if check else []
        return Verdict(value=value, problems=problems, notes=notes, dropped=dropped)

    def structured(self, task: str, messages: list[dict], response_model: type[M], **kwargs) -> StructuredResult[M]:
        """Sync wrapper of structured_async (its own event loop; a worker thread inside a running loop)."""

        async def once():
            try:
                return await self.structured_async(task, messages, response_model, **kwargs)
            finally:
                await self.aclose()

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(once())
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, once()).result()
