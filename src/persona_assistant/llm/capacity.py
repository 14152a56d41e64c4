"""How many requests one endpoint gets at a time: learnt during a run, remembered per endpoint.

A local server (llama.cpp, Ollama on a laptop) works on one or two requests at a time and
queues the rest: more requests at once do not finish sooner, they wait in its queue, time out
there and, retried, pile up behind themselves. So the number of requests in flight is decided
here, per LLM (one run), and nowhere else (a campaign's item concurrency is only the ceiling):

- **Start.** A local endpoint (loopback, private or link-local address, `localhost`, `*.local`)
  starts at LOCAL_START requests at a time; any other at the ceiling (the run's concurrency).
  An endpoint whose capacity was learnt before starts at what was learnt (llm/endpoints.py,
  `concurrency`) and is not probed further.
- **Grow.** While the wait for the first token stays near the fastest seen this run (at most
  SLOW_FACTOR times it plus SLOW_SLACK_S), each answer adds one slot, up to the ceiling (so the
  limit doubles per round of answers, like TCP's slow start).
- **Settle.** SLOW_RUN of the last SLOW_WINDOW requests waiting too long for their first token
  (beyond that bound), or one timing out waiting for it, while k requests were in flight (the fewest of
  them) show the server holds fewer than k: the limit becomes k - 1 (at least 1) for the rest of
  the run, is remembered for the endpoint, and never grows again. A single late answer is a
  hiccup, and so is a late answer while nothing else was answered on time: a server queueing
  answers the requests it holds on time while the others wait; a busy machine delays them all. Only the wait for a first token counts (streamed answers: llm/provider.py): it is
  the queueing; a long answer that streams steadily is a slow model, not a full server. Whole
  (non-streamed) answers teach only by timing out.
- **Our own delays do not count.** A first token is seen only when the event loop gets to it: a
  busy client (judging and linting other items' answers, or a machine short of CPU) would look
  like a queueing server. While requests are in flight a probe ticks every PROBE_S: how late the
  loop runs when a first token is seen is taken off its wait (`behind`), and every deadline of
  llm/provider.py moves by the loop's total lateness (`stalled`), so a request is never given up
  on for our own slowness.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

from persona_assistant.llm import DEFAULT_CONCURRENCY


LOCAL_START = 2  # requests at a time a local endpoint starts with
SLOW_FACTOR = 1.5  # a first token later than this many times the fastest one seen means queueing...
SLOW_SLACK_S = 0.05  # ...plus this much (scheduling noise on tiny waits)
SLOW_RUN = 3  # late first tokens among the last SLOW_WINDOW answers that show queueing (one timeout is enough)
SLOW_WINDOW = 5
PROBE_S = 0.01  # the event-loop lateness probe's tick
QUIET_SHARE = 0.25  # a wait during which our loop ran late less than this share of it: the server's, not ours


def is_local(base_url: str) -> bool:
    """True for a loopback, private or link-local host (by address or name; nothing is resolved)."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host in ("localhost", "host.docker.internal") or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


@dataclass
class Capacity:
    """The request limit of one endpoint for one run (see the module docstring). `slot()` admits
    a request; `done(slot, first_token_s)` or `timed_out(slot)` reports how it went."""

    ceiling: int = DEFAULT_CONCURRENCY
    limit: int = DEFAULT_CONCURRENCY
    settled: bool = False  # lowered (or learnt before): no more growth
    remember: Callable[[int, str], None] | None = None  # keeps a settled limit (and why) for the endpoint
    in_flight: int = 0
    fastest: float | None = None  # the shortest wait for a first token seen this run
    lowered_by: str | None = None  # why the limit was lowered, for the hint of a timeout
    stalled: float = 0.0  # seconds the event loop ran late while requests were in flight (the probe)
    given_up: int = 0  # requests given up on this run (the server may still be working on them)
    _waiters: deque = field(default_factory=deque, repr=False)
    _probe: object = field(default=None, repr=False)
    _tick_due: float | None = field(default=None, repr=False)
    _last_late: tuple = field(default=(0.0, 0.0), repr=False)  # (when, seconds late) of the last tick
    _recent: deque = field(default_factory=lambda: deque(maxlen=SLOW_WINDOW), repr=False)  # started_with if late, else 0
    _on_time_at: float = field(default=0.0, repr=False)  # when an answer last had its first token on time

    @classmethod
    def for_endpoint(cls, base_url: str, ceiling: int, learnt: str | None, remember=None) -> "Capacity":
        ceiling = max(1, ceiling)
        if learnt and learnt.isdigit() and int(learnt) >= 1:
            return cls(ceiling=ceiling, limit=min(int(learnt), ceiling), settled=True, remember=remember)
        start = min(LOCAL_START, ceiling) if is_local(base_url) else ceiling
        return cls(ceiling=ceiling, limit=start, remember=remember)

    async def acquire(self) -> int:
        """Wait for a free slot; returns the number of requests in flight with this one."""
        while self.in_flight >= self.limit:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                raise
        self.in_flight += 1
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._watch())
        return self.in_flight

    async def _watch(self) -> None:
        """Track how late the event loop runs while any request is in flight (module docstring)."""
        try:
            while self.in_flight > 0:
                self._tick_due = time.monotonic() + PROBE_S
                await asyncio.sleep(PROBE_S)
                now = time.monotonic()
                self._last_late = (now, max(0.0, now - self._tick_due - 0.002))  # 2 ms: timer granularity
                self.stalled += self._last_late[1]
        finally:
            self._tick_due = None  # also when its event loop ends (the sync wrapper runs one per call)

    def behind(self) -> float:
        """How late the event loop runs right now (0 when on time), or ran at the tick that just
        ended: what a first token seen now was delayed by on our side."""
        now = time.monotonic()
        late = max(0.0, now - self._tick_due) if self._tick_due is not None else 0.0
        ended, last = self._last_late
        return max(late, last) if now - ended <= 2 * PROBE_S else late

    def release(self, started_with: int, first_token_s: float | None = None, timed_out: bool = False,
                sent_at: float | None = None, first_token_raw: float | None = None,
                stalled_at: float | None = None) -> None:
        """A request admitted with `started_with` in flight at `sent_at` is over: learn from its wait
        for a first token (less the loop's lateness when it was seen; the fastest is kept as
        measured, `first_token_raw`, which no correction can make shorter than the server took).
        A late answer counts as queueing when another was on time since it was sent, or when our
        event loop ran on time while it was out (`stalled` grew by less than QUIET_SHARE of the time since
        `sent_at`, from `stalled_at`): a deep queue answers nothing on time, but it leaves the client idle."""
        self.in_flight -= 1
        if timed_out:
            self.given_up += 1
            self._lower(started_with, "no first token before the timeout")
        elif first_token_s is not None:
            measured = first_token_raw if first_token_raw is not None else first_token_s
            if self.fastest is None or measured < self.fastest:
                self.fastest = measured
            if first_token_s > self.fastest * SLOW_FACTOR + SLOW_SLACK_S:
                quiet = stalled_at is not None and sent_at is not None \
                    and self.stalled - stalled_at < QUIET_SHARE * (time.monotonic() - sent_at)  # the same window
                if sent_at is None or self._on_time_at >= sent_at or quiet:  # else a busy machine, not the server
                    self._recent.append(started_with)
                late = [k for k in self._recent if k]
                if len(late) >= SLOW_RUN:  # persistent, not a hiccup of a busy machine
                    self._lower(min(late), f"{len(late)} of the last {len(self._recent)} first tokens late (up to "
                                           f"{first_token_s:.2f} s, fastest {self.fastest:.2f} s)")
                    self._recent.clear()
            else:
                self._recent.append(0)  # on time
                self._on_time_at = time.monotonic()
                if not self.settled and self.limit < self.ceiling:
                    self.limit += 1
        self._wake()

    def _lower(self, started_with: int, why: str) -> None:
        if started_with <= 1:
            return  # alone on the server: a slow model, not a full one
        limit = max(1, min(self.limit, started_with - 1))
        if limit < self.limit or not self.settled:
            self.lowered_by = f"{started_with} requests at a time: {why}"
        self.limit, self.settled = limit, True
        if self.remember is not None:
            self.remember(limit, self.lowered_by or why)

    def _wake(self) -> None:
        free = self.limit - self.in_flight
        while free > 0 and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                free -= 1
