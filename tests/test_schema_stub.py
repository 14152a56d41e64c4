"""Against a schema-driven stub (it answers only what the request's schema allows), the model
path completes: draft personas, draft icp and campaign, every item saved."""

from __future__ import annotations

import shutil

import pytest
import respx
from schema_stub import answer, minimal_instance

from persona_assistant.services.drafting import draft_icp
from persona_assistant.services.drafting import draft_personas
from persona_assistant.llm.settings import LLMSettings, SecretStr
from persona_assistant.services.campaign import run_campaign
from persona_assistant.schemas import PersonaSet
from persona_assistant.workspace import Workspace

BASE = "http://llm.test/v1"
URL = f"{BASE}/chat/completions"


def settings() -> LLMSettings:
    return LLMSettings(model="stub", base_url=BASE, api_key=SecretStr("sk-x"), timeout=5.0, max_retries=0)


@pytest.fixture
def ws(tmp_path, fixtures_dir) -> Workspace:
    shutil.copytree(fixtures_dir / "sample-workspace", tmp_path / "ws")
    return Workspace(tmp_path / "ws")


def test_minimal_instance_follows_enums_bounds_lengths_and_refs():
    schema = {"$defs": {"R": {"type": "object", "properties": {"f": {"enum": ["pains"]},
                                                                "i": {"type": "integer", "minimum": 3}}}},
              "type": "object", "properties": {"refs": {"type": "array", "items": {"$ref": "#/$defs/R"}},
                                               "none": {"type": "array", "maxItems": 0, "items": {"type": "string"}},
                                               "t": {"type": "string", "maxLength": 0}}}
    assert minimal_instance(schema) == {"refs": [{"f": "pains", "i": 3}], "none": [], "t": ""}


def test_draft_personas_icp_and_campaign_complete_against_the_schema_stub(ws, monkeypatch):
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(URL).mock(side_effect=answer)
        pset, _, _ = draft_personas(ws, settings())
        icp, icp_version, _ = draft_icp(ws, settings())
        monkeypatch.setenv("PERSONA_ASSISTANT_BASE_URL", BASE)
        monkeypatch.setenv("PERSONA_ASSISTANT_MODEL", "stub")
        outcome = run_campaign(ws, channels=["cold_email", "linkedin_sponsored"], stages=["awareness"], variants=1)
    assert pset.personas and icp_version is not None
    saved = ws.load_version("personas", PersonaSet)
    assert [p.id for p in saved.personas] == [p.id for p in pset.personas]
    result = outcome.result
    assert result.failed == {} and result.complete and result.total == 2 * len(pset.personas)
    assert outcome.version is not None
