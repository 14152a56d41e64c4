"""Slash commands, offline behaviour, edit validation, the prompt and the saved conversation."""

from __future__ import annotations

import json

import pytest

from chat_helpers import make_analysis, make_workspace, run_lines, settings
from persona_assistant.chat import commands
from persona_assistant.chat.session import Session
from persona_assistant.chat.tools import Context, EditRejected, prepare_edit, run_tool, system_prompt
from persona_assistant.errors import InputError, UsageError


@pytest.fixture
def ws(tmp_path):
    return make_workspace(tmp_path / "ws")


def offline(ws, *lines):
    return run_lines(ws, [*lines, "/exit"], settings_obj=settings(offline=True))[0]


# --------------------------------------------------------------------------- commands


def test_help_lists_every_command(ws):
    shown = offline(ws, "/help")
    for name in ("/help", "/icp", "/personas", "/show NAME", "/draft icp|personas", "/message PERSONA CHANNEL",
                 "/score FILE", "/export FORMAT", "/history", "/undo", "/model NAME", "/usage", "/exit"):
        assert name in shown


def test_export_help_names_exactly_the_formats_export_takes(ws):
    import re

    from persona_assistant.services.export import FORMATS

    line = next(row for row in offline(ws, "/help").splitlines() if row.startswith("/export"))
    assert set(re.findall(r"\b(md|markdown|json|csv|html|xlsx|pdf|docx)\b", line)) == set(FORMATS)
    for fmt in FORMATS:
        assert "unknown format" not in offline(ws, f"/export {fmt}")


def test_unknown_command_gets_a_suggestion(ws):
    shown = offline(ws, "/persnas", "/zzzzzz")
    assert "unknown command /persnas; did you mean /personas?" in shown
    assert "unknown command /zzzzzz; /help lists them" in shown


def test_personas_show_and_missing_persona(ws):
    shown = offline(ws, "/personas", "/show maya", "/show Mayaa")
    assert "cfo: Maya, the CFO - CFO (financial_buyer, c_level); 1 pains, 1 goals, 1 quotes" in shown
    import re

    assert re.search(r"Manual bank reconciliation takes three days .*\[notes/dana\.md:7\]", shown)
    assert "Close in five days (inferred)" in shown or "Close in five days _(inferred)_" in shown
    assert "error: /show: no persona 'Mayaa'; did you mean Maya, the CFO?" in shown


def test_commands_without_drafts_say_what_to_do(tmp_path):
    from persona_assistant.workspace import Workspace

    ws = Workspace(tmp_path)
    shown = offline(ws, "/icp", "/personas", "/undo", "/show x")
    assert "no ICP draft yet: /draft icp" in shown
    assert "no personas draft yet: /draft personas" in shown
    assert "error: /undo: no edit of this conversation to undo" in shown


def test_offline_free_text_maps_to_a_command_or_hints(ws):
    assert commands.offline_intent("write a cold email for Maya", Context(ws)) == "/message cfo email"
    assert commands.offline_intent("Draft LinkedIn copy for maya please", Context(ws)) == "/message cfo linkedin"
    assert commands.offline_intent("who is maya?", Context(ws)) == "/show cfo"
    assert commands.offline_intent("regenerate the personas", Context(ws)) == "/draft personas"
    assert commands.offline_intent("score leads.csv", Context(ws)) == "/score leads.csv"
    assert commands.offline_intent("what is the weather", Context(ws)) is None
    shown = offline(ws, "who is Maya?", "what is the weather")
    assert "(offline) /show cfo" in shown and "# Maya, the CFO" in shown
    assert "no model configured" in shown and "slash commands work offline" in shown


def test_model_and_usage(ws):
    shown = offline(ws, "/model gpt-x", "/usage")
    assert "error: /model: no endpoint configured" in shown
    assert "this conversation: 0 prompt + 0 completion tokens (model offline)" in shown
    shown, chat = run_lines(ws, ["/model other-model", "/usage", "/exit"])
    assert "model: other-model" in shown and "(model other-model)" in shown
    assert chat.settings.model == "other-model"
    assert json.loads((ws.state_dir / "chat" / "conversation.json").read_text())["model"] == "other-model"


def test_score_refuses_paths_outside_the_workspace(ws, tmp_path):
    (tmp_path / "outside.csv").write_text("a\n1\n")
    shown = offline(ws, "/score ../outside.csv", "/score missing.csv", "/score")
    assert "error: ../outside.csv: outside the workspace" in shown
    assert "error: missing.csv: no such file in the workspace" in shown
    assert "error: usage: /score FILE" in shown


def test_bad_quoting_is_an_error_not_a_crash(ws):
    assert "error: /show:" in offline(ws, '/show "unterminated')


# --------------------------------------------------------------------------- edits


def _set_and_sources(ws):
    ctx = Context(ws)
    return ctx.personas(), ctx.sources


def test_prepare_edit_appends_replaces_removes(ws):
    ps, sources = _set_and_sources(ws)
    edit = prepare_edit(ps, "cfo", "goals[1]", {"text": "Fewer audit findings"}, sources=sources, base_version=1)
    assert [g.text for g in edit.persona_set.personas[0].goals] == ["Close in five days", "Fewer audit findings"]
    assert edit.diff.startswith("--- cfo (v0001)\n+++ cfo (proposed)\n")
    assert '+      "text": "Fewer audit findings",' in edit.diff
    edit = prepare_edit(ps, "cfo", "pains[0].text", "Reconciliation is manual", sources=sources)
    assert edit.persona_set.personas[0].pains[0].text == "Reconciliation is manual"
    assert edit.persona_set.personas[0].pains[0].evidence == ps.personas[0].pains[0].evidence
    edit = prepare_edit(ps, "cfo", "goals[0]", None, sources=sources)
    assert edit.persona_set.personas[0].goals == []
    assert ps.personas[0].goals[0].text == "Close in five days"  # the original is untouched


@pytest.mark.parametrize("path, value, message", [
    ("pains[5]", {"text": "x"}, "past the end"),
    ("goals[3]", None, "no item 3 to remove"),
    ("archetype.x", "y", "is not a list or object"),
    ("role[0]", "y", "not a list"),
    ("Pains", [], "expected a field"),
    ("nonsense", 1, "not a persona field"),
    ("pains[0].colour", "red", "no field 'colour'"),
    ("seniority", "emperor", "seniority"),
    ("archetype", "Owns the close and the audit", "same as the current"),
    ("quotes[0].text", "We reconcile bank feeds by machine", "quote not found"),  # changed text: re-verified
    ("pains[0].evidence[1]", {"kind": "statistic", "segment_id": "industry=X", "closed": 10, "won": 5,
                              "win_rate": 0.5, "ci_low": 0.2, "ci_high": 0.8}, "no analysis"),
])
def test_prepare_edit_rejects(ws, path, value, message):
    ps, sources = _set_and_sources(ws)
    with pytest.raises(EditRejected, match=message):
        prepare_edit(ps, "cfo", path, value, sources=sources)


def test_new_quote_must_be_the_interviewees_words(ws):
    ps, sources = _set_and_sources(ws)
    base = {"source_id": "dana", "path": "notes/dana.md", "line_start": 5, "line_end": 5}
    with pytest.raises(EditRejected, match="notes/dana.md:6 is not the interviewee's words"):
        prepare_edit(ps, "cfo", "quotes[1]", {**base, "text": "What slows your month-end close?"}, sources=sources)
    ok = prepare_edit(ps, "cfo", "quotes[1]", {**base, "text": "We reconcile bank feeds by hand"}, sources=sources)
    assert ok.persona_set.personas[0].quotes[1].line_start == 7


def test_run_tool_never_raises_on_bad_arguments(ws):
    ctx = Context(ws)
    assert "not a JSON object" in json.loads(run_tool(ctx, "get_persona", "{not json"))["error"]
    assert "unknown tool" in json.loads(run_tool(ctx, "rm_rf", "{}"))["error"]
    assert json.loads(run_tool(ctx, "get_icp", "{}")) == {"error": "no ICP draft yet"}
    assert json.loads(run_tool(ctx, "lookup_segments", "{}"))["error"] == "no CRM analysis: no CRM exports in the workspace"
    only_valid = json.loads(run_tool(ctx, "propose_edit", {"persona_id": "cfo", "path": "role", "value": "Finance"}))
    assert only_valid["status"].startswith("valid, not applied") and len(ws.versions("personas")) == 1


def test_undo_refuses_when_personas_changed_after_the_edit(ws):
    session = Session.open(ws, resume=False)
    ps, sources = _set_and_sources(ws)
    edit = prepare_edit(ps, "cfo", "role", "Finance chief", sources=sources)
    session.apply(edit.persona_set, "cfo", "role")
    ws.save_version("personas", ps)  # e.g. a new draft after the edit
    with pytest.raises(UsageError, match="personas changed since that edit"):
        session.undo()
    assert len(ws.versions("personas")) == 3


# --------------------------------------------------------------------------- prompt and session


def test_system_prompt_holds_workspace_data_as_data_and_fits_the_budget(ws):
    ps = Context(ws).personas()
    evil = ps.model_copy(update={"personas": [ps.personas[0].model_copy(update={
        "archetype": "{{ 7*7 }} {% for x in range(3) %}loop{% endfor %}",
        "pains": ps.personas[0].pains * 40})]})
    ws.save_version("personas", evil)
    text = system_prompt(Context(ws), budget_tokens=3000)
    assert "{{ 7*7 }} {% for x in range(3) %}loop{% endfor %}" in text and "49" not in text
    assert "lookup_segments" in text and len(text) <= 3000 * 4
    small = system_prompt(Context(ws), budget_tokens=200)
    assert len(small) <= 800 and small.endswith("[workspace facts truncated]\n")


def test_workspace_prompt_override_is_used(ws):
    ws.prompts_dir.mkdir()
    (ws.prompts_dir / "chat.j2").write_text(
        "{# version: 9 #}{% block system %}Custom. {{ facts.personas[0].name }}{% endblock %}"
        "{% block user %}{% endblock %}")
    assert system_prompt(Context(ws)) == "Custom. Maya, the CFO"


def test_broken_saved_conversation_is_a_one_line_input_error(ws):
    path = ws.state_dir / "chat" / "conversation.json"
    path.parent.mkdir(parents=True)
    path.write_text("{broken")
    with pytest.raises(InputError, match=r"conversation.json: not a saved conversation") as err:
        Session.open(ws, resume=True)
    assert "\n" not in err.value.message
    assert Session.open(ws, resume=False).messages == []  # a fresh start is still possible



def test_segment_lookup_and_prompt_use_the_analysis_figures(ws):
    ctx = Context(ws)
    ctx._analysis = make_analysis()
    result = json.loads(run_tool(ctx, "lookup_segments", {"query": "industry"}))
    assert [s["id"] for s in result["segments"]] == ["industry=Software", "industry=Retail", "industry=Media"]
    software = result["segments"][0]
    assert (software["won"], software["closed"], software["ci_low"], software["deal_count"]) == (45, 70, 0.53, 70)
    assert software["deal_ids_sample"] == ["D0", "D1", "D2", "D3", "D4"]
    only = json.loads(run_tool(ctx, "lookup_segments", {"verdict": "worse"}))
    assert [s["id"] for s in only["segments"]] == ["industry=Retail"]
    prompt = system_prompt(ctx)
    assert "CRM analysis: Software wins more often." in prompt
    assert "ICP candidate [segment:industry=Software]: 45/70 won, win rate 64% (95% CI 53%-75%), better" in prompt
    assert "anti-ICP [segment:industry=Retail]: 10/60 won" in prompt


def test_new_statistic_must_match_the_analysis(ws):
    ps, sources = _set_and_sources(ws)
    a = make_analysis()
    s = a.segment("industry=Software")
    good = {"kind": "statistic", "segment_id": s.id, "closed": 70, "won": 45, "win_rate": s.win_rate,
            "ci_low": 0.53, "ci_high": 0.75, "deal_ids": ["D1"]}
    edit = prepare_edit(ps, "cfo", "pains[0].evidence[1]", good, sources=sources, analysis=a)
    assert edit.persona_set.personas[0].pains[0].evidence[1].segment_id == "industry=Software"
    with pytest.raises(EditRejected, match="closed/won 70/44 != analysis 70/45"):
        prepare_edit(ps, "cfo", "pains[0].evidence[1]", {**good, "won": 44}, sources=sources, analysis=a)


def test_segment_lookup_on_the_real_crm_export(ws, shared_dir):
    pytest.importorskip("persona_assistant.ingest.crm")
    import shutil

    ws.crm_dir.mkdir()
    for name in ("accounts.csv", "sales_pipeline.csv", "products.csv", "sales_teams.csv"):
        shutil.copy(shared_dir / "datasets" / "maven-crm" / name, ws.crm_dir / name)
    ctx = Context(ws)
    result = json.loads(run_tool(ctx, "lookup_segments", {"limit": 30}))
    assert result["segments"], result
    analysis = ctx.analysis()
    for seg in result["segments"]:
        real = analysis.segment(seg["id"])
        assert (seg["won"], seg["closed"], seg["verdict"]) == (real.won, real.closed, real.verdict)


def test_message_writes_offline_copy_that_names_what_it_addresses(ws):
    shown = offline(ws, "/message maya email", "/message maya fax", "/message maya email later", "/draft foo")
    assert "## Maya, the CFO: cold_email, awareness, variant 1 (pain)" in shown  # draft.markdown's asset
    assert "Addresses: pains[0] “Manual bank reconciliation takes three days" in shown
    assert "error: /message: unknown channel 'fax'" in shown and "cold_email" in shown
    assert "error: /message: stage 'later': expected awareness, consideration or decision" in shown
    assert "error: /draft: expected icp or personas, got 'foo'" in shown
