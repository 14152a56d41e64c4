"""`ModelEngine`: drafting and copy through the configured OpenAI-compatible endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ModelEngine:
    settings: Any
    converses: bool = True
    notice: str | None = None

    @property
    def label(self) -> str:
        return self.settings.model

    def announce(self, kind: str) -> str:
        return f"drafting {kind} with {self.settings.model} at {self.settings.endpoint_host}"

    def draft_icp(self, ws, analysis, sources, notes, progress=None):
        if analysis is None:  # the model writes an ICP from CRM figures; without them the code does
            from persona_assistant.engine.offline import OfflineEngine

            notes.append("without CRM figures the offline engine drafts the ICP (the model is not asked)")
            return OfflineEngine(self.settings).draft_icp(ws, analysis, sources, notes, progress)
        from persona_assistant.draft.icp import llm_icp

        return llm_icp(ws, self.settings, analysis, sources, notes, progress)

    def draft_personas(self, ws, sources, icp_id, progress=None):
        from persona_assistant.draft.personas import llm_personas

        return llm_personas(ws, self.settings, sources, icp_id, progress)

    def client(self, ws, concurrency: int | None = None):
        from persona_assistant.llm.client import LLM

        if concurrency is None:
            return LLM(self.settings, ws=ws)
        return LLM(self.settings, ws=ws, concurrency=concurrency)

    def copy_generator(self, ctx, ws, client):
        from persona_assistant.messaging.campaign import llm_generator

        return llm_generator(ctx, client, ws)

    def with_model(self, name: str) -> "ModelEngine":
        return ModelEngine(self.settings.model_copy(update={"model": name}))
