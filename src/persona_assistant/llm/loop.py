"""The structured-output loop: answers are asked for until one is kept, under one re-ask policy.

`structured_async` asks for JSON matching a Pydantic model and returns only an answer that
validated (item by item, llm/answers.py) and passed the caller's code checks. It is the only
loop that re-asks a model for structured output: drafting and the campaign declare their checks
(`Check`) and get one call back.

The re-ask policy (decided here and nowhere else):

- **Answer budget.** One call gets at most `answers` answers (ANSWERS_PER_CALL = 3 unless the
  caller asks for fewer): the first and at most two re-asks, whatever asked for them.
- **Which problems may re-ask**:
  `unusable` - not JSON, no choices, errors outside any list item: while answers remain;
  `dropped` - list items lost in salvage: DROPPED_REASKS (1) re-ask per call;
  each `Check` - code checks of the caller (quotes found in the notes, references that point
  somewhere, copy lint): `reasks` re-asks each; `reasks=None` means the check must pass (re-asked
  while answers remain, never kept failing); with a number, once its re-asks are spent the
  answer is kept and the caller drops or reports what still fails.
  One re-ask carries every re-askable problem of the answer at once, quotes only the latest
  answer (bounded) and goes with a changed seed where the server takes one.
- **What never re-asks:** an answer cut at the output limit (salvaged item by item: asking again
  would run on again), a refusal, the content filter, an answer byte-identical to the previous
  one (the re-asks end at once), HTTP faults (the SDK's own retries, llm/transport.py), and a
  request given up on (llm/provider.py: closed, never resent).
- **What is kept:** of the answers that may be kept, the one with the fewest remaining check
  problems, then the fewest dropped items, the earlier on a tie; none -> NoValidAnswer (one line).

The number of model calls per call (per campaign asset, per extraction chunk, per persona...):
  answers <= ANSWERS_PER_CALL = 3;
  HTTP requests <= ANSWERS_PER_CALL x (max_retries + 1) + REFUSAL_RESENDS (llm/quirks.py: 4)
  = 3 x 3 + 4 = 13 with the default [llm] max_retries = 2, where each answer's extra requests are
  the SDK's retries of 429/5xx/connection failures and each resend is a parameter the server
  refused once per endpoint (learnt, so later calls do not pay it). An item whose answers are
  all bad makes exactly ANSWERS_PER_CALL requests (tests/test_llm_loop.py counts them).
Every request waits for a slot of llm/capacity.py (how many at a time the endpoint takes).
"""

from __future__ import annotations

import time
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Sequence, TypeVar

from pydantic import BaseModel, ValidationError

from persona_assistant.errors import ModelError
from persona_assistant.llm.answers import NoValidAnswer, close_truncated, normalise, reask_messages, salvage
from persona_assistant.llm.budget import max_tokens_for
from persona_assistant.llm.provider import AnswerTimeout, Completion
from persona_assistant.llm.quirks import REFUSAL_RESENDS, request_messages
from persona_assistant.llm.store import Usage, cache_key
from persona_assistant.llm.structured import extract_json, schema_name, strict_schema
from persona_assistant.llm.transport import GAVE_UP_HEADER, REQUESTS

M = TypeVar("M", bound=BaseModel)

ANSWERS_PER_CALL = 3
DROPPED_REASKS = 1


@dataclass(frozen=True)
class Check:
    """A code check of an answer; its problems go back to the model in a re-ask (module docstring)."""

    name: str
    run: Callable[[Any], list[str]]
    reasks: int | None = None  # None: must pass; n: at most n re-asks, then the answer is kept


@dataclass
class StructuredResult(Generic[M]):
    value: M
    usage: Usage  # summed over every answer, including rejected ones
    attempts: int  # answers asked for (1 + re-asks); cache hits are 0
    mode: str  # json_schema | json_object | prompt | cache
    cached: bool = False
    notes: list[str] = field(default_factory=list)
    cost: float | None = None
    unresolved: dict[str, list[str]] = field(default_factory=dict)  # check -> problems left after its re-asks


@dataclass
class Verdict:
    """One answer judged: `value` is None unless it validated (after salvage)."""

    value: Any = None
    problems: list[str] = field(default_factory=list)  # why there is no value (parse, validation)
    notes: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # one line per list item dropped in salvage
    failed: dict[str, list[str]] = field(default_factory=dict)  # check name -> its problems

    def keepable(self, checks: Sequence[Check]) -> bool:
        must = {c.name for c in checks if c.reasks is None}
        return self.value is not None and not any(self.failed.get(n) for n in must)

    def rank(self) -> tuple[int, int]:
        return sum(len(p) for p in self.failed.values()), len(self.dropped)

    def why_not(self) -> str:
        return (self.problems or [p for ps in self.failed.values() for p in ps] or ["no usable answer"])[0]


def reask_problems(verdict: Verdict, checks: Sequence[Check], spent: Counter) -> dict[str, list[str]]:
    """The re-askable problems of one answer by reason (`unusable`, `dropped`, each Check's name), before the answer budget."""
    if verdict.value is None:
        return {"unusable": verdict.problems or ["the answer had no usable content"]}
    reasons = {c.name: verdict.failed[c.name] for c in checks
               if verdict.failed.get(c.name) and (c.reasks is None or spent[c.name] < c.reasks)}
    if verdict.dropped and spent["dropped"] < DROPPED_REASKS:
        reasons["dropped"] = verdict.dropped
    return reasons


@dataclass
class _Ticket:
    started_with: int
    sent_at: float = field(default_factory=time.monotonic)
    first_token_s: float | None = None
    first_token_raw: float | None = None
    timed_out: bool = False
    stalled_at: float = 0.0  # the capacity probe's total lateness when it was sent


class StructuredLoop:
    """A mixin of llm.client.LLM: the loop, its judging and its one slot per request."""

    async def structured_async(self, task: str, messages: list[dict], response_model: type[M], *,
                               check: Callable[[M], list[str]] | None = None, checks: Sequence[Check] = (),
                               cache_key_parts: dict | None = None, max_tokens: int | None = None,
                               answers: int = ANSWERS_PER_CALL) -> StructuredResult[M]:
        """A validated, checked answer; ModelError (one line) when there is none (module docstring).

        `check` is a must-pass Check named "check"; `checks` declare their own re-asks.
        cache_key_parts: what else identifies the request, at least {"prompt": name, "version": v}
        (RenderedPrompt.name/.version); it is part of the cache key and the log."""
        import openai

        if self.settings.offline:
            raise ModelError(f"{task}: {self.settings.offline_notice}")
        checks = list(checks) + ([Check("check", check)] if check else [])
        answers = max(1, min(answers, ANSWERS_PER_CALL))
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
                    if not any(c.run(value) for c in checks):
                        self._log(task, usage, started, status="ok", mode="cache", attempts=0, key=key,
                                  cached=True, version=version)
                        return StructuredResult(value, usage, 0, "cache", cached=True, cost=0.0)
                except ValidationError:
                    pass  # the contract changed since: ask again

        mode = self.quirks.get("mode", "json_schema")
        modes = [mode]  # logged as "json_schema>json_object" when the server refused one
        convo = list(messages)
        answered = resends = 0
        used: set[str] = set()
        spent: Counter = Counter()
        best: Verdict | None = None
        previous: str | None = None  # the previous answer's text: the same again ends the re-asks

        def fail(message: str, kind: type[ModelError] = ModelError) -> ModelError:
            return self._fail(task, message, usage=usage, started=started, mode=">".join(modes),
                              attempts=answered, key=key, kind=kind)

        def keep(verdict: Verdict) -> StructuredResult:
            return self._accept(task, verdict, checks, usage, started, modes, answered, key, version, used, notes)

        while True:
            mode = self.quirks.later_mode(mode)  # what a concurrent item learnt meanwhile
            if mode != modes[-1]:
                modes.append(mode)
            sent = schema if mode == "json_schema" else grammar
            request = self._redact(request_messages(convo, mode, sent), used)
            extra = self.quirks.request_extra(mode, schema_name(response_model), sent, strict, max_tokens,
                                              answered + 1)
            try:
                completion = await self._answer(task, dict(model=self.settings.model, messages=request, **extra))
            except ModelError as exc:  # unusable body, interrupted stream, given up on
                raise fail(exc.message, type(exc)) from None
            except openai.APIStatusError as exc:
                refused = self.quirks.refusal(exc, extra, mode) if resends < REFUSAL_RESENDS else None
                if refused is not None:  # the server refused a parameter; the model was not asked
                    resends += 1
                    mode, note = refused
                    if mode != modes[-1]:
                        modes.append(mode)
                    notes.extend([note] if note else [])
                    continue
                raise self._api_fail(task, exc, usage=usage, started=started, mode=">".join(modes),
                                     attempts=answered + 1, key=key) from None
            except openai.APIError as exc:
                raise self._api_fail(task, exc, usage=usage, started=started, mode=">".join(modes),
                                     attempts=answered + 1, key=key) from None
            answered += 1
            usage.add(completion.usage)
            content = completion.content or ""
            if not completion.has_choices:
                verdict = Verdict(problems=["the answer had no choices"])
            elif completion.refusal:
                raise fail(f"{task}: the model refused: {completion.refusal}")
            elif completion.finish_reason == "content_filter":
                raise fail(f"{task}: the endpoint's content filter stopped the answer")
            elif completion.finish_reason == "length":  # salvaged item by item, never re-asked
                limit = f"{self.quirks.limit_param}={max_tokens}"
                verdict = self._judge(close_truncated(content) or "", response_model, checks)
                if verdict.keepable(checks):
                    verdict.notes.append(f"answer cut at {limit}: kept what was complete")
                    return keep(verdict if best is None or verdict.rank() < best.rank() else best)
                if best is not None:
                    return keep(best)
                raise fail(f"{task}: answer from {self.settings.endpoint_host} truncated at {limit} with nothing "
                           "complete to keep; raise --max-tokens (or [llm] max_tokens) or lower the prompt budget "
                           "([llm].prompt_budget_tokens)", NoValidAnswer)
            else:
                verdict = self._judge(content, response_model, checks)
            repeated = content == previous
            previous = content
            if verdict.keepable(checks) and (best is None or verdict.rank() < best.rank()):
                best = verdict
            reasons = reask_problems(verdict, checks, spent)
            if reasons and answered < answers and not repeated:
                spent.update(reasons.keys())
                convo = reask_messages(messages, content, [p for ps in reasons.values() for p in ps],
                                       partial=set(reasons) == {"dropped"})
                continue
            if best is not None:
                return keep(best)
            why = "the same answer again" if repeated else f"{answered} attempts"
            raise fail(f"{task}: no valid answer from {self.settings.model} at {self.settings.endpoint_host} "
                       f"after {why}: {verdict.why_not()}", NoValidAnswer)

    async def _answer(self, task: str, request: dict) -> Completion:
        """One answer from the provider inside a capacity slot (llm/capacity.py learns from it); a
        request given up on ends as one line naming the cause: queueing at the server or a slow model."""
        import openai

        ticket = None
        try:
            async with self._slot() as ticket:
                try:
                    completion = await self.provider.complete(task, request)
                except AnswerTimeout as exc:
                    ticket.timed_out = exc.first_token
                    raise
                except openai.APIStatusError as exc:
                    ticket.timed_out = bool(exc.response.headers.get(GAVE_UP_HEADER))
                    raise
                ticket.first_token_s, ticket.first_token_raw = completion.first_token_s, completion.first_token_raw
                return completion
        except AnswerTimeout as exc:
            raise ModelError(self._timeout_message(task, exc, ticket.started_with if ticket else 1)) from None

    @asynccontextmanager
    async def _slot(self):
        ticket = _Ticket(await self.capacity.acquire(), stalled_at=self.capacity.stalled)
        try:
            yield ticket
        finally:
            self.capacity.release(ticket.started_with, ticket.first_token_s, ticket.timed_out, ticket.sent_at,
                                  ticket.first_token_raw, ticket.stalled_at)

    def _accept(self, task: str, verdict: Verdict, checks: Sequence[Check], usage: Usage, started: float,
                modes: list[str], attempts: int, key: str, version: str | None, used: set[str],
                notes: list[str]) -> StructuredResult:
        """The kept answer: cached (only when it lost nothing and every check passed), logged (with
        every mode tried, e.g. "json_schema>json_object"), returned with its notes."""
        notes = notes + verdict.notes + verdict.dropped
        if self.settings.cache and not verdict.dropped and not any(verdict.failed.values()):
            self.store.cache_put(key, verdict.value.model_dump_json(), task=task, model=self.settings.model)
        self._log(task, usage, started, status="ok", mode=">".join(modes), attempts=attempts, key=key,
                  version=version, redacted=self._redacted(used))
        return StructuredResult(verdict.value, usage, attempts, modes[-1], notes=notes, cost=self._cost(usage),
                                unresolved={k: v for k, v in verdict.failed.items() if v})

    def _judge(self, content: str, response_model: type[M], checks: Sequence[Check]) -> Verdict:
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
        failed = {c.name: list(c.run(value) or []) for c in checks}
        return Verdict(value=value, notes=notes, dropped=dropped, failed=failed)
