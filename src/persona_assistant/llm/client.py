"""One way to ask any OpenAI-compatible endpoint for language, never for numbers.

`LLM` puts the rooms of the model path together, one job each:

- llm/loop.py - `structured_async`: the structured-output loop and its one re-ask policy (the
  number of model calls per item is stated there);
- llm/streaming.py - `stream_chat`: streamed chat answers;
- llm/provider.py - one answer over HTTP (whole, or streamed with first-token and idle deadlines
  for local endpoints); a fake provider may be passed in tests;
- llm/quirks.py - what the endpoint accepts (response_format mode, the limit's name, seed),
  learnt on refusal into llm/endpoints.py;
- llm/capacity.py - how many requests the endpoint gets at a time;
- llm/records.py - the log row, the cost and the one-line error of every call;
- llm/transport.py - the SDK client on an explicit httpx transport (respx intercepts it).

Personal data is redacted before every request and restored in the answer (llm/redact.py);
each LLM owns its `CircuitBreaker` (llm/faults.py), its `Endpoints` and its `Capacity`, so one
run's state never leaks into another's and nothing is held at module level.
"""

from __future__ import annotations

import asyncio
from typing import Any

from persona_assistant.llm import DEFAULT_CONCURRENCY
from persona_assistant.llm.capacity import Capacity, is_local
from persona_assistant.llm.endpoints import Endpoints
from persona_assistant.llm.faults import CircuitBreaker, SecretMask
from persona_assistant.llm.loop import StructuredLoop, StructuredResult
from persona_assistant.llm.provider import OpenAIProvider
from persona_assistant.llm.quirks import Quirks
from persona_assistant.llm.records import CallRecords
from persona_assistant.llm.redact import Redactor
from persona_assistant.llm.settings import LLMSettings
from persona_assistant.llm.store import Store
from persona_assistant.llm.streaming import ChatStreaming
from persona_assistant.llm.transport import REJECTED_HEADER, make_client  # noqa: F401 (make_client re-exported)


class LLM(StructuredLoop, ChatStreaming, CallRecords):
    """A model endpoint with log, cache and redaction; async first, `structured` for sync callers.

    `concurrency`: the most requests at a time this run may send (llm/capacity.py starts a local
    endpoint lower and learns); `provider`: what answers (default: the endpoint over HTTP)."""

    def __init__(self, settings: LLMSettings, store: Store | None = None, redactor: Redactor | None = None,
                 *, ws=None, endpoints: Endpoints | None = None, concurrency: int = DEFAULT_CONCURRENCY,
                 provider=None):
        self.settings = settings
        self.store = store if store is not None else Store.for_workspace(ws)
        self._redactor = redactor
        self._ws = ws
        self.mask = SecretMask(settings.api_key.get_secret_value())
        self.breaker = CircuitBreaker(skip_header=REJECTED_HEADER)  # one per LLM: per run, never shared
        self._clients: dict[int, Any] = {}
        self.endpoints = endpoints if endpoints is not None else Endpoints(ws)  # llm/endpoints.py
        self.quirks = Quirks(settings, self.endpoints)
        self.streamed = is_local(settings.base_url)  # local servers queue: stream, to see and stop the wait
        self.provider = provider if provider is not None else OpenAIProvider(self, streamed=self.streamed)
        self.capacity = Capacity.for_endpoint(settings.base_url, concurrency, self.quirks.get("concurrency"),
                                              remember=self._remember_capacity)

    def _remember_capacity(self, limit: int, why: str) -> None:
        self.quirks.learn("concurrency", str(limit))
        self.quirks.learn("concurrency_why", why)

    # ------------------------------------------------------------------ clients per event loop
    def _client(self):
        """One SDK client per running event loop (an httpx pool cannot cross loops)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(id(loop))
        if client is None:
            client = self._clients[id(loop)] = make_client(self.settings, self.breaker, streamed=self.streamed)
        return client

    async def aclose(self) -> None:
        client = self._clients.pop(id(asyncio.get_running_loop()), None)
        if client is not None:
            await client.close()

    async def __aenter__(self) -> "LLM":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ redaction
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

    # ------------------------------------------------------------------ sync callers
    def structured(self, task: str, messages: list[dict], response_model, **kwargs) -> StructuredResult:
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
