"""Model-endpoint faults that end cleanly: unusable answers, refusing endpoints, echoed secrets.

Three policies, each decided here and nowhere else:

- **Unusable answers.** A body that is not what was asked for (an HTML error page with status
  200, an empty body, JSON that does not parse, a JSON error object instead of an event stream)
  becomes one line naming the endpoint host and what came back: its content type and its first
  SNIPPET_CHARS characters, cleaned. `unusable_answer` words it; llm/provider.py detects it at one
  place for whole answers and one place for streams.
- **The circuit breaker.** A run (a campaign's concurrent items, a draft's sequence of calls, a
  chat session) stops asking once the endpoint answered BREAKER_THRESHOLD consecutive HTTP
  429/5xx responses, counting every HTTP attempt including the SDK's own retries. Any other
  answer resets the count. An open breaker refuses further requests before they are sent, for
  BREAKER_COOLDOWN_SECONDS or the endpoint's Retry-After if longer; then one request may try
  again (and a refusal reopens it). The refusal is `EndpointRefusing`, "the endpoint is
  refusing: retry later", which tells a campaign to stop starting items (finished ones stay
  saved). The SDK keeps its own retries and their Retry-After waits until the breaker opens.
  One `CircuitBreaker` belongs to one `LLM` object (so to one run), never to the module.
- **Echoed secrets.** Servers echo the API key in error bodies, whole, masked in the middle or
  without its `sk-` prefix. `SecretMask` replaces the key, and any run of SECRET_RUN or more
  characters copied from it, by `***`, plus anything shaped like a key (`sk-...`). Every error
  the LLM layer raises, prints or logs passes through it.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Callable
from email.utils import parsedate_to_datetime

from persona_assistant.errors import ModelError
from persona_assistant.safe_text import clean

BREAKER_THRESHOLD = 5  # consecutive HTTP 429/5xx answers that stop a run
BREAKER_COOLDOWN_SECONDS = 30.0  # how long an open breaker refuses (longer when Retry-After says so)
SNIPPET_CHARS = 80  # characters of an unusable body quoted in its error
SECRET_RUN = 8  # a run of this many characters copied from the key is masked
REFUSING = "the endpoint is refusing: retry later"
INTERRUPTED = "answer interrupted: the stream ended without a finish reason"

_KEYLIKE = re.compile(r"\b(?:sk|pk|key)-[A-Za-z0-9_*\-]{4,}")


class EndpointRefusing(ModelError):
    """The circuit breaker is open: the run stops asking (see the module docstring)."""

    stops_run = True  # messaging.campaign.run_items starts no further item


class UnusableAnswer(ModelError):
    """The endpoint's body is not a completion (HTML, empty, unparsable, not an event stream)."""


class StreamInterrupted(ModelError):
    """A streamed answer ended without a finish reason: it is not a complete answer."""


# --------------------------------------------------------------------------- secrets


@dataclass(frozen=True)
class SecretMask:
    """Masks one API key in any text: whole, without its prefix, or any long run copied from it."""

    secret: str | None = None

    def _runs(self) -> set[str]:
        s = self.secret or ""
        if len(s) < SECRET_RUN:
            return set()
        return {s[i:i + SECRET_RUN] for i in range(len(s) - SECRET_RUN + 1)}

    def __call__(self, text: str) -> str:
        text = str(text)
        s = self.secret or ""
        if len(s) >= 4:
            text = text.replace(s, "***")
        runs = self._runs()
        if runs and len(text) >= SECRET_RUN:
            hit = [False] * len(text)
            for i in range(len(text) - SECRET_RUN + 1):
                if text[i:i + SECRET_RUN] in runs:
                    hit[i:i + SECRET_RUN] = [True] * SECRET_RUN
            if any(hit):
                out, i = [], 0
                while i < len(text):
                    if hit[i]:
                        while i < len(text) and hit[i]:
                            i += 1
                        out.append("***")
                    else:
                        out.append(text[i])
                        i += 1
                text = "".join(out)
        return _KEYLIKE.sub("***", text)


def one_line(text: str, mask: SecretMask, limit: int = 300) -> str:
    """What the LLM layer shows or stores of an error: masked, cleaned, one line, at most `limit`."""
    text = " ".join(clean(mask(str(text)[: limit * 4])).split())  # cut first: a body may be megabytes
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- unusable answers


def snippet(body: str | bytes) -> str:
    """The first SNIPPET_CHARS characters of a body, cleaned to one line; 'an empty body' when blank."""
    if isinstance(body, bytes):
        body = body[: SNIPPET_CHARS * 4].decode("utf-8", "replace")
    text = " ".join(clean(body[: SNIPPET_CHARS * 4]).split())
    if not text:
        return "an empty body"
    return "'" + (text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS] + "...") + "'"


def unusable_answer(task: str, host: str, content_type: str | None, body: str | bytes, expected: str) -> str:
    """One line: which endpoint answered what instead of `expected` (JSON, an event stream)."""
    kind = (content_type or "").split(";")[0].strip() or "no content type"
    return f"{task}: model endpoint {host} answered {kind} instead of {expected}: {snippet(body)}"


def looks_like_sse(body: str) -> bool:
    """A body that is an event stream whatever its content type says (a few servers mislabel it)."""
    head = body.lstrip()[:20]
    return head.startswith(("data:", "event:", "id:", ":"))


# --------------------------------------------------------------------------- the circuit breaker


def _retry_after(headers) -> float | None:
    """Seconds asked for by Retry-After (seconds, milliseconds or an HTTP date); None when absent."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            try:
                seconds = parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError):
                continue
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    return None


@dataclass
class CircuitBreaker:
    """Counts consecutive 429/5xx answers of one endpoint for one run; see the module docstring.

    Wired into the httpx client as a request hook (`before_request`: refuse while open) and a
    response hook (`after_response`: count). Skips responses marked `skip_header` (a server
    refusing a response_format is not refusing service)."""

    threshold: int = BREAKER_THRESHOLD
    cooldown: float = BREAKER_COOLDOWN_SECONDS
    skip_header: str = ""
    failures: int = 0
    open_until: float = 0.0
    last_status: int | None = None
    retry_after: float | None = None
    streak: int = 0  # consecutive refusals seen when the breaker last opened
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @property
    def is_open(self) -> bool:
        return self.open_until > self.clock()

    def describe(self, task: str, host: str) -> str:
        wait = f"; it asked to wait {self.retry_after:g} s" if self.retry_after else ""
        return (f"{task}: {REFUSING} ({host} answered {self.streak} consecutive HTTP 429/5xx, last "
                f"{self.last_status}{wait})")

    async def before_request(self, request) -> None:
        """httpx request hook: no request leaves while the breaker is open.

        Raised as an openai error so the SDK passes it on at once instead of retrying; the LLM
        turns it into EndpointRefusing (`refused`)."""
        if self.is_open:
            import openai

            exc = openai.APIConnectionError(message=REFUSING, request=request)
            exc.breaker_open = True  # type: ignore[attr-defined]
            raise exc

    async def after_response(self, response) -> None:
        """httpx response hook: count 429/5xx, reset on anything else; open at the threshold."""
        status = response.status_code
        if self.skip_header and response.headers.get(self.skip_header):
            return
        if status != 429 and status < 500:
            self.failures = 0
            return
        self.failures += 1
        self.last_status = status
        if self.failures >= self.threshold:
            self.retry_after = _retry_after(response.headers)
            self.open_until = self.clock() + max(self.cooldown, self.retry_after or 0.0)
            self.streak = self.failures
            self.failures = self.threshold - 1  # half-open after the cooldown: one more refusal reopens
            response.headers["x-should-retry"] = "false"  # the SDK stops retrying this one too

    def refused(self, exc: BaseException) -> bool:
        """True for the error `before_request` raised, or any SDK error raised while open."""
        return bool(getattr(exc, "breaker_open", False)) or self.is_open
