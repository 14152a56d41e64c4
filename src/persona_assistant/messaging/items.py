"""The campaign's items and the loop that makes them: concurrent, resumable, one file per item.

Why files per item: a run may be interrupted (Ctrl-C, kill, a failing endpoint) after
paying for half its items. Each finished item is written at once, atomically, to its own
file; a rerun skips every item already on disk and asks only for the rest.

The loop takes any async `generate_item(spec) -> Asset`: the offline engine and the LLM
path plug into the same loop (messaging/campaign.py), and tests plug in a slow fake. Its
concurrency is the most items in progress at once; how many of their requests reach a model
endpoint at a time is llm/capacity.py's to decide.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from persona_assistant.errors import StorageError
from persona_assistant.llm import DEFAULT_CONCURRENCY
from persona_assistant.messaging.channels import PLANNING_CHANNELS
from persona_assistant.messaging.offline_copy import angle_for, asset_id
from persona_assistant.schemas import Asset, Stage
from persona_assistant.workspace import atomic_write


@dataclass(frozen=True)
class ItemSpec:
    """One cell of the matrix."""

    persona_id: str
    channel: str
    stage: Stage
    variant: int

    @property
    def id(self) -> str:
        return asset_id(self.persona_id, self.channel, self.stage, self.variant)

    @property
    def angle(self):
        return angle_for(self.variant)

    @property
    def filename(self) -> str:
        return re.sub(r"[^\w.-]+", "_", self.id.replace("/", "--")) + ".json"


def plan_items(persona_ids: list[str], channels: list[str], stages: list[Stage], variants: int) -> list[ItemSpec]:
    """Copy items of the matrix, in a stable order; planning channels are not items."""
    return [ItemSpec(p, c, s, v) for p in persona_ids for c in channels if c not in PLANNING_CHANNELS
            for s in stages for v in range(1, variants + 1)]


@dataclass
class RunResult:
    total: int
    done: list[str] = field(default_factory=list)  # on disk (earlier runs and this one)
    generated: list[str] = field(default_factory=list)  # written by this run
    failed: dict[str, str] = field(default_factory=dict)  # item id -> one-line reason
    interrupted: bool = False
    stopped: str | None = None  # why the run stopped starting items (the endpoint refusing), one line

    @property
    def pending(self) -> int:
        return self.total - len(self.done) - len(self.failed)

    @property
    def complete(self) -> bool:
        return len(self.done) == self.total

    def summary(self) -> str:
        return f"{len(self.done)} done / {len(self.failed)} failed / {self.pending} pending"

    def failures_by_cause(self) -> dict[str, list[str]]:
        """Failed item ids grouped by their one-line reason, in item order."""
        causes: dict[str, list[str]] = {}
        for item_id, reason in sorted(self.failed.items()):
            causes.setdefault(reason, []).append(item_id)
        return causes

    def failure_lines(self, limit: int = 20) -> list[str]:
        """One line per cause: "failed ITEM: REASON", or "N items failed: REASON (first: ITEM)" when
        several items share it, so a failure storm (an endpoint down, a quota) is one line, not N; at
        most `limit` lines; then why the run stopped."""
        lines = [f"failed {ids[0]}: {reason}" if len(ids) == 1 else f"{len(ids)} items failed: {reason} (first: {ids[0]})"
                 for reason, ids in self.failures_by_cause().items()]
        if len(lines) > limit:
            lines = lines[:limit] + [f"... and {len(lines) - limit} more distinct failures (--json lists all)"]
        if self.stopped:
            lines.append(f"stopped: {self.stopped}; finished items are saved")
        return lines


def load_item(out_dir: Path, spec: ItemSpec) -> Asset | None:
    path = out_dir / spec.filename
    if path.is_symlink() or not path.is_file():  # the tool never writes a link: one is not its item
        return None
    try:
        asset = Asset.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, UnicodeDecodeError):
        return None  # unreadable: generate again
    return asset if asset.id == spec.id else None


GenerateItem = Callable[[ItemSpec], Awaitable[Asset]]


async def run_items(specs: list[ItemSpec], generate_item: GenerateItem, out_dir: Path, *,
                    concurrency: int = DEFAULT_CONCURRENCY, on_item: Callable[[ItemSpec, bool], None] | None = None,
                    on_start: Callable[[int, int], None] | None = None) -> RunResult:
    """Generate the items missing from `out_dir`, at most `concurrency` at a time, each saved
    as soon as it is finished. Cancellation (Ctrl-C) or a StorageError (disk full: no item's fault,
    raised once) stops the rest; what is saved stays. An error marked `stops_run` (the LLM's
    circuit breaker, llm/faults.EndpointRefusing; a prompt template over its budget,
    prompts.TemplateBudgetError) stops starting items: they stay pending, `result.stopped` says
    why. `on_start(total, already on disk)` is called once, before the first item."""
    result = RunResult(total=len(specs))
    todo = []
    for spec in specs:
        if load_item(out_dir, spec) is not None:
            result.done.append(spec.id)
        else:
            todo.append(spec)
    if on_start:
        on_start(len(specs), len(result.done))
    sem = asyncio.Semaphore(max(1, concurrency))

    async def one(spec: ItemSpec) -> None:
        async with sem:
            if result.stopped or result.interrupted:  # the item stays pending for a rerun
                return
            try:
                asset = await generate_item(spec)
                atomic_write(out_dir / spec.filename, asset.model_dump_json(indent=2) + "\n")
            except (asyncio.CancelledError, StorageError):
                result.interrupted = True  # no item waiting for a slot starts after a failed write
                raise
            except Exception as exc:  # one failing item must not stop the others...
                message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                if getattr(exc, "stops_run", False):  # ...unless it would stop every one the same way
                    result.stopped = result.stopped or " ".join(str(message).split())[:300]
                    return
                result.failed[spec.id] = " ".join(str(message).split())[:300]
                if on_item:
                    on_item(spec, False)
                return
            result.done.append(spec.id)
            result.generated.append(spec.id)
            if on_item:
                on_item(spec, True)

    tasks = [asyncio.create_task(one(s)) for s in todo]
    try:
        await asyncio.gather(*tasks)
    except (asyncio.CancelledError, KeyboardInterrupt, StorageError) as exc:
        result.interrupted = True
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if isinstance(exc, StorageError):
            raise
    return result
