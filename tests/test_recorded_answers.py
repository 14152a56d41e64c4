"""Real small-model answers (fixtures/recorded, see its README) replayed through respx into the
drafts and the campaign: what survives, what is noted, and that one bad item fails nothing."""

from __future__ import annotations

import json

import respx
import recorded_kit as kit
from test_campaign import make_workspace as campaign_workspace

from persona_assistant.services.drafting import draft_personas
from persona_assistant.services.campaign import run_campaign
from persona_assistant.schemas import PersonaSet

NOTE_PATH = f"notes/{kit.NOTE}"
SYNTHESIS = {"origin": "hand-written: a plain persona answer, so the test looks at the extraction",
             "content": json.dumps({"id": "Finance Leaders", "name": "Carla, the CFO", "archetype": "Owns the close",
                                    "role": "unknown", "seniority": "c_level", "function": "finance",
                                    "buying_role": "financial_buyer"})}


def requests_of(route, task: str) -> list[dict]:
    return [json.loads(c.request.content) for c in route.calls
            if kit.refuse_json_schema(c.request) is None and kit.task_of(c.request) == task]


def test_a_recorded_run_on_extraction_is_salvaged_and_its_invented_quotes_dropped(tmp_path):
    ws = kit.workspace(tmp_path / "ws")
    run_on = kit.load("smollm2-extract-run-on")
    assert run_on["finish_reason"] == "length"
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(kit.URL).mock(side_effect=kit.replay(
            {"extract_evidence": [run_on], "persona_synthesis": [SYNTHESIS]}))
        pset, version, notes = draft_personas(ws, kit.settings())
    assert version.number == 1 and ws.load_version("personas", PersonaSet) == pset
    # the cut answer is closed after its last complete item; the incomplete one is noted, not fatal
    assert any("answer cut at max_tokens" in n for n in notes)
    assert any("dropped items.4" in n for n in notes)
    # every quote the model invented (".* This line should not be included ...") is dropped by code
    invented = [n for n in notes if n.startswith(f"dropped a quote not found in {NOTE_PATH}")]
    assert len(invented) == 4
    (persona,) = pset.personas
    assert persona.quotes == [] and all(not getattr(persona, f) for f in ("pains", "goals", "objections"))
    assert persona.id == "finance-c-level" and persona.sources == [kit.NOTE.removesuffix(".md")]
    assert len(requests_of(route, "extract_evidence")) == 1  # a cut answer is salvaged, not asked again


def test_recorded_invented_role_hints_do_not_replace_the_notes_own_role(tmp_path):
    """SmolLM2 answered role 'object', function 'returnedjson' for an interview whose note says CFO."""
    ws = kit.workspace(tmp_path / "ws")
    empty = kit.load("smollm2-extract-empty-items")
    assert json.loads(empty["content"])["items"] == []
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(kit.URL).mock(side_effect=kit.replay(
            {"extract_evidence": [empty], "persona_synthesis": [SYNTHESIS]}))
        pset, version, notes = draft_personas(ws, kit.settings())
    assert version.number == 1 and len(pset.personas) == 1
    (synthesis,) = requests_of(route, "persona_synthesis")
    prompt = synthesis["messages"][-1]["content"]
    assert f"({NOTE_PATH}): role CFO," in prompt  # the note's front matter, not the model's guess
    assert "role object" not in prompt


def test_a_hand_written_asset_with_prose_and_an_invented_field_is_kept_without_it(tmp_path):
    ws = campaign_workspace(tmp_path / "ws", f'[llm]\nbase_url = "{kit.BASE}"\nmodel = "local"\n')
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(kit.URL).mock(side_effect=kit.replay(
            {"asset": [kit.load("hand-asset-prose-invented-field")]}))
        out = run_campaign(ws, channels=["linkedin_sponsored"], stages=["awareness"], variants=1,
                           persona_ids=["controller"], concurrency=1)
    assert out.result.failed == {} and out.result.generated == ["controller/linkedin_sponsored/awareness/1"]
    assert out.version is not None and out.version.number == 1
    asset = json.loads(next(out.items_dir.glob("*.json")).read_text())
    assert sorted(asset["fields"]) == ["headline", "intro"]  # 'pains' is no field of the channel
    assert asset["fields"]["headline"] == "Close in four days, not nine"
    dropped = [f for f in asset["lint"] if f["rule"] == "answer_item_dropped"]
    assert len(dropped) == 1 and "fields.2" in dropped[0]["message"]
    # the schema sent names the channel's fields only: a server that enforces it cannot answer 'pains'
    field_names = [d["properties"]["name"]["enum"] for d in kit.schema_sent(route.calls[1].request)["$defs"].values()
                   if "name" in d.get("properties", {})]
    assert sorted(field_names) == [["headline"], ["intro"]]


def test_a_hand_written_run_on_asset_keeps_its_complete_field_and_reports_the_rest(tmp_path):
    ws = campaign_workspace(tmp_path / "ws", f'[llm]\nbase_url = "{kit.BASE}"\nmodel = "local"\n')
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(kit.URL).mock(side_effect=kit.replay({"asset": [kit.load("hand-asset-run-on")]}))
        out = run_campaign(ws, channels=["linkedin_sponsored"], stages=["awareness"], variants=1,
                           persona_ids=["controller"], concurrency=1)
    assert out.result.failed == {}  # saved and reported, not a failed campaign
    asset = json.loads(next(out.items_dir.glob("*.json")).read_text())
    assert asset["fields"] == {"headline": "Close in four days, not nine"}
    rules = {f["rule"] for f in asset["lint"]}
    assert {"missing_field", "answer_item_dropped"} <= rules
    assert out.lint_failed == [f"{asset['id']}: missing_field, missing_product, no_persona_item"]


def test_a_recorded_run_on_icp_with_invented_figures_is_saved_without_them(tmp_path):
    """SmolLM2's ICP ran on to the limit inventing figures (win rate 0.0 of 3569/4179 won, ci_low 356
    above ci_high 82): the draft keeps what was complete, drops every figure, and is saved."""
    from persona_assistant.services.drafting import draft_icp
    from persona_assistant.schemas import ICP

    ws = kit.workspace(tmp_path / "ws")
    icp_answer = kit.load("smollm2-icp-run-on")
    assert icp_answer["finish_reason"] == "length" and "data_sufficiency" not in icp_answer["content"]
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(kit.URL).mock(side_effect=kit.replay(
            {"extract_evidence": [kit.load("smollm2-extract-run-on")], "icp_draft": [icp_answer]}))
        icp, version, notes = draft_icp(ws, kit.settings())
    assert version.number == 1 and ws.load_version("icp", ICP) == icp
    assert "icp: answer cut at max_tokens=4000: kept what was complete" in notes
    dropped = [n for n in notes if n.startswith("icp: dropped firmographics.")]
    assert len(dropped) == 4  # the four invented statistics
    firmo = icp.firmographics
    claims = firmo.industries + firmo.employee_bands + firmo.revenue_bands + firmo.regions
    assert len(claims) == 4 and all(c.evidence == [] and c.status in ("inferred", "unknown") for c in claims)
    # the data sufficiency is the analysis's, never the model's (its cut answer had none)
    assert icp.data_sufficiency.verdict == "sufficient" and icp.data_sufficiency.won == 155


def test_a_recorded_run_on_persona_with_invented_quotes_is_saved_without_them(tmp_path):
    """SmolLM2's persona ran on to the limit citing an invented URL and image path for its quotes:
    the cut answer is kept item by item and its quotes dropped by code, not the whole draft failed."""
    ws = kit.workspace(tmp_path / "ws")
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(kit.URL).mock(side_effect=kit.replay(
            {"extract_evidence": [kit.load("smollm2-extract-empty-items")],
             "persona_synthesis": [kit.load("smollm2-persona-run-on")]}))
        pset, version, notes = draft_personas(ws, kit.settings())
    assert version.number == 1
    (persona,) = pset.personas
    assert persona.id == "finance-c-level"  # the tool's id, not the model's uuid
    # its only claim rested on invented quotes: kept as unknown, with no evidence
    assert [(c.evidence, c.status) for c in persona.demographics] == [([], "unknown")] and persona.quotes == []
    assert "finance-c-level: answer cut at max_tokens=4000: kept what was complete" in notes
    assert sum(n.startswith("finance-c-level: dropped demographics") for n in notes) == 3
    assert len(requests_of(route, "persona_synthesis")) == 1  # not re-asked: it would run on again
