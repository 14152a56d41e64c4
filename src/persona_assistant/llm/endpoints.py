"""What an endpoint turned out to accept, learnt once and shared.

Per (base URL, model): `mode`, the first response_format worth trying (json_schema ->
json_object -> prompt); `limit`, the name of the output-token limit (max_tokens or
max_completion_tokens); `stream_usage`, "off" when the server refuses stream_options; `seed`,
"off" when it refuses a seed; `concurrency`, the requests at a time it was found to take
(llm/capacity.py: from late or timed-out first tokens), with `concurrency_why`. The request
parameters are taught only by a refusal of the server (an HTTP error naming the parameter); an
answer that does not parse never teaches anything (llm/answers.py).

One `Endpoints` object belongs to one LLM (so to one run); the items of a campaign share it:
an item starting (or re-asking) after a rejection uses the mode learnt, and only requests
already in flight when it was learnt are rejected too (at most the concurrency, once per
endpoint, not per item and command). With a workspace, what was learnt is kept
in <state>/endpoints.json, written atomically through the workspace's writer, so the next
command starts where this one ended. Nothing is held at module level.
"""

from __future__ import annotations

import json
from pathlib import Path

ENDPOINTS_FILE = "endpoints.json"


class Endpoints:
    def __init__(self, ws=None):
        self._ws = ws
        self._path: Path | None = ws.state_dir / ENDPOINTS_FILE if ws is not None else None
        self._learnt: dict[str, dict[str, str]] = self._read()

    @staticmethod
    def key(base_url: str, model: str) -> str:
        return f"{base_url} {model}"

    def _read(self) -> dict[str, dict[str, str]]:
        if self._path is None or not self._path.is_file():
            return {}
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # unreadable state: learn again (and rewrite it)
        if not isinstance(data, dict):
            return {}
        return {k: {a: b for a, b in v.items() if isinstance(b, str)} for k, v in data.items() if isinstance(v, dict)}

    def get(self, base_url: str, model: str, name: str, default: str | None = None) -> str | None:
        return self._learnt.get(self.key(base_url, model), {}).get(name, default)

    def learn(self, base_url: str, model: str, name: str, value: str) -> None:
        profile = self._learnt.setdefault(self.key(base_url, model), {})
        if profile.get(name) == value:
            return
        profile[name] = value
        if self._ws is not None:
            self._ws.make_dir(self._path.parent)
            self._ws.write(self._path, json.dumps(self._learnt, indent=2, sort_keys=True) + "\n")

    def forget(self) -> None:
        """Forget everything learnt (a restarted or replaced server)."""
        self._learnt.clear()
        if self._path is not None and self._path.is_file():
            self._path.unlink()
