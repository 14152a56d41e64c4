"""`OfflineEngine`: the deterministic engine, the default without a model endpoint."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any


@dataclass
class OfflineEngine:
    settings: Any
    fallback: bool = True  # chosen because nothing is configured (not by --offline)
    label: str = "offline"
    converses: bool = False

    @property
    def notice(self) -> str | None:
        """How to configure a model, when the offline engine was not asked for (--offline)."""
        return self.settings.offline_notice if self.fallback else None

    def announce(self, kind: str) -> str:
        return self.settings.offline_notice

    def draft_icp(self, ws, analysis, sources, notes, progress=None):
        from persona_assistant.draft.offline import offline_icp

        return offline_icp(analysis, sources)

    def draft_personas(self, ws, sources, icp_id, progress=None):
        from persona_assistant.draft.offline_personas import offline_personas
        from persona_assistant.draft.personas import crm_outcomes

        return offline_personas(sources, icp_id=icp_id, outcomes=crm_outcomes(ws))

    def client(self, ws, concurrency: int | None = None) -> contextlib.nullcontext:
        return contextlib.nullcontext(None)

    def copy_generator(self, ctx, ws, client):
        from persona_assistant.messaging.campaign import offline_generator

        return offline_generator(ctx)

    def with_model(self, name: str) -> None:
        return None  # no endpoint, so no model to switch to
