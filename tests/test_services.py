"""The service layer under the CLI and the chat: `/draft` works in the chat (offline and with a model
mocked at the HTTP layer), every slash command that does a command's work calls that command's service,
and the chat imports nothing from the CLI."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import httpx
import pytest
import respx
from typer.testing import CliRunner

import persona_assistant
from chat_helpers import BASE_URL, make_workspace, run_lines, settings
from persona_assistant.errors import UsageError
from persona_assistant.schemas import ICP, PersonaSet
from persona_assistant.workspace import Workspace
from test_draft import completion  # one mocked chat-completion body for draft tests

PACKAGE = Path(persona_assistant.__file__).parent
DANA_LINE_7 = "We reconcile bank feeds by hand and it takes three full days every month."


def schema_of(request: httpx.Request) -> str:
    return json.loads(request.content)["response_format"]["json_schema"]["name"]


def quote(text: str, line: int) -> dict:
    return {"kind": "quote", "source_id": "dana", "path": "notes/dana.md", "line_start": line, "line_end": line,
            "text": text}


def model_answers(icp: dict | None = None):
    """A stand-in endpoint: extraction finds Dana's line 7 (without an ICP to give) or nothing, synthesis
    writes a persona citing it, the ICP request gets `icp`. Returns (side effect, schema names asked)."""
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        name = schema_of(request)
        asked.append(name)
        if name == "ExtractedEvidence":
            found = icp is None
            return completion({"source_id": "dana", "role": "CFO", "seniority": "c_level", "function": "finance",
                               "buying_role": "financial_buyer", "items": [
                                   {"category": "pains", "line_start": 7, "line_end": 7, "quote": DANA_LINE_7,
                                    "summary": "manual reconciliation"}] if found else []})
        if name == "ICPAnswer":  # the ICP without the data sufficiency code sets (draft/icp.ICPAnswer)
            return completion(icp)
        return completion({"id": "x", "name": "Dana, the CFO", "archetype": "A CFO who closes by hand",
                           "role": "CFO", "seniority": "c_level", "function": "finance",
                           "buying_role": "financial_buyer",
                           "pains": [{"text": "Bank reconciliation is manual", "evidence": [quote(DANA_LINE_7, 7)],
                                      "confidence": "medium", "status": "supported"}],
                           "quotes": [quote(DANA_LINE_7, 7)]})
    return answer, asked


# --------------------------------------------------------------------------- /draft in the chat


def test_chat_draft_personas_and_icp_offline(tmp_path):
    ws = make_workspace(tmp_path / "ws")  # one note, personas v0001
    shown, _ = run_lines(ws, ["/draft personas", "/draft personas", "/draft icp", "/exit"],
                         settings_obj=settings(offline=True))
    assert "not available" not in shown and "error:" not in shown, shown
    assert f"saved 1 persona(s) as personas v0002: {ws.drafts_dir / 'personas' / 'v0002.json'}" in shown
    assert f"saved the ICP as icp v0001: {ws.drafts_dir / 'icp' / 'v0001.json'} (and v0001.md)" in shown
    assert "unchanged: personas v0002 already holds this draft" in shown  # the same notes: the same draft
    assert "offline engine: no model endpoint configured" in shown  # which engine drafted, as the CLI says
    pset = PersonaSet.model_validate_json((ws.drafts_dir / "personas" / "v0002.json").read_text())
    assert pset.personas and all(q.path == "notes/dana.md" for p in pset.personas for q in p.quotes)
    assert (ws.drafts_dir / "personas" / "v0002.md").is_file() and (ws.drafts_dir / "icp" / "v0001.md").is_file()
    assert "note: no CRM exports in" in shown  # the draft's notes are shown in the conversation
    assert [v.label for v in ws.versions("personas")] == ["v0001", "v0002"]


def test_chat_draft_personas_with_a_mocked_model(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    answer, asked = model_answers()
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(f"{BASE_URL}/chat/completions").mock(side_effect=answer)
        shown, _ = run_lines(ws, ["/draft personas", "/draft icp", "/exit"])
    assert "drafting personas with stub-model at chat-stub.test" in shown, shown
    assert "saved 1 persona(s) as personas v0002" in shown and "error:" not in shown
    assert asked == ["ExtractedEvidence", "Persona"] and route.call_count == 2  # ICP without CRM: not asked
    assert "note: without CRM figures the offline engine drafts the ICP (the model is not asked)" in shown
    assert "saved the ICP as icp v0001" in shown
    persona = PersonaSet.model_validate_json((ws.drafts_dir / "personas" / "v0002.json").read_text()).personas[0]
    assert persona.name == "Dana, the CFO" and persona.pains[0].status == "supported"
    assert persona.pains[0].evidence[0].text == DANA_LINE_7


def test_chat_draft_icp_with_a_mocked_model_keeps_the_analysis_it_used(tmp_path, fixtures_dir):
    shutil.copytree(fixtures_dir / "sample-workspace", tmp_path / "ws")
    ws = Workspace(tmp_path / "ws")
    from persona_assistant.analysis.segments import analyze_workspace

    sufficiency = analyze_workspace(ws).sufficiency.model_dump()
    icp = {"id": "x", "name": "Mid-market finance teams", "summary": "s", "crm_singles_out_segment": False,
           "firmographics": {"industries": [], "employee_bands": [], "revenue_bands": [], "regions": [],
                             "technographics": [], "other": []},
           "data_sufficiency": sufficiency}
    answer, asked = model_answers(icp)
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(f"{BASE_URL}/chat/completions").mock(side_effect=answer)
        shown, _ = run_lines(ws, ["/draft icp", "/exit"])
    assert "saved the ICP as icp v0001" in shown and "error:" not in shown, shown
    assert asked.count("ICPAnswer") == 1 and asked.count("ExtractedEvidence") == len(ws.note_files())
    saved = ICP.model_validate_json((ws.drafts_dir / "icp" / "v0001.json").read_text())
    assert saved.name == "Mid-market finance teams"
    # The figures an export shows are the ones the ICP was drafted from (services.analysis's rule).
    assert [v.label for v in ws.versions("analysis")] == ["v0001"]


# --------------------------------------------------------------------------- one service per command


SAME_SERVICE = [
    ("/draft personas", ["draft", "personas", "--offline"], "persona_assistant.services.drafting", "draft"),
    ("/draft icp", ["draft", "icp", "--offline"], "persona_assistant.services.drafting", "draft"),
    ("/score leads.csv", ["score", "LEADS"], "persona_assistant.services.scoring", "score"),
    ("/export html", ["export", "--format", "html"], "persona_assistant.services.export", "export"),
]


@pytest.mark.parametrize("slash, argv, module, name", SAME_SERVICE)
def test_slash_commands_call_the_same_service_as_their_cli_command(tmp_path, monkeypatch, slash, argv, module,
                                                                   name):
    import importlib

    from persona_assistant.cli.app import app

    ws = make_workspace(tmp_path / "ws")
    (ws.root / "leads.csv").write_text("company,industry\nAcme,Software\n", encoding="utf-8")
    calls: list[Path] = []

    def spy(workspace, *args, **kwargs):
        calls.append(Path(workspace.root))
        raise UsageError("stopped by the spy")

    monkeypatch.setattr(importlib.import_module(module), name, spy)
    shown, _ = run_lines(ws, [slash, "/exit"], settings_obj=settings(offline=True))
    assert "error: stopped by the spy" in shown
    argv = [str(ws.root / "leads.csv") if a == "LEADS" else a for a in argv]
    result = CliRunner().invoke(app, [*argv, "-w", str(ws.root)])
    assert isinstance(result.exception, UsageError) and result.exception.message == "stopped by the spy"
    assert calls == [ws.root, ws.root]  # once from the chat, once from the CLI


# --------------------------------------------------------------------------- layers


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (absolute names; relative imports resolved against its package)."""
    inside = path.is_relative_to(PACKAGE.parent)
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]) if inside else ""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)  # `from persona_assistant import cli`
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(
                "persona_assistant."):  # importlib.import_module("persona_assistant.cli.x") by name
            names.add(node.value.rstrip("."))
    return names


@pytest.mark.parametrize("room", ["chat", "services", "engine"])
def test_rooms_below_the_cli_import_nothing_from_it(room):
    files = sorted((PACKAGE / room).glob("*.py"))
    assert files
    for path in files:
        bad = sorted(m for m in imported_modules(path) if m == "persona_assistant.cli"
                     or m.startswith("persona_assistant.cli."))
        assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_the_import_walk_sees_an_import_of_the_cli(tmp_path):
    assert "persona_assistant.services.drafting" in imported_modules(PACKAGE / "chat" / "commands.py")  # lazy too
    assert "persona_assistant.cli.app" in imported_modules(PACKAGE / "cli" / "main.py")
    probe = tmp_path / "probe.py"  # what chat/commands._run_cli did: a CLI module by name
    probe.write_text('import importlib\nimportlib.import_module(f"persona_assistant.cli.{name}")\n')
    assert "persona_assistant.cli" in imported_modules(probe)


def test_no_feature_reads_the_offline_setting_itself():
    """engine/ decides offline vs model; the client's own refusal (llm/) is a safety net."""
    readers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in ("engine", "llm"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("offline", "offline_notice"):
                readers.append(f"{rel}:{node.lineno}")
    assert readers == []


# --------------------------------------------------------------------------- model requests per draft


def test_persona_draft_requests_grow_with_notes_as_documented():
    """notes x answers for extraction, one grouping, one synthesis per group (docs/ARCHITECTURE.md); the
    same counter as bench/bench_requests.py."""
    import importlib.util

    from persona_assistant.llm.loop import ANSWERS_PER_CALL

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("bench_requests", root / "bench" / "bench_requests.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    asked, outcome = bench.draft(4, usable=True)  # 4 notes over 3 role families
    assert (asked["ExtractedEvidence"], asked["PersonaGrouping"], asked["Persona"]) == (4, 1, 3)
    assert asked["total"] == 4 + 1 + 3 and outcome == "3 personas"
    asked, outcome = bench.draft(2, usable=False)  # every extraction answer unusable: the whole budget, no more
    assert asked["total"] == asked["ExtractedEvidence"] == 2 * ANSWERS_PER_CALL
    assert outcome.startswith("stopped: no usable answer for any of 2 note part(s)")


# --------------------------------------------------------------------------- the one analysis rule


def test_the_report_shows_the_figures_the_icp_was_drafted_from(tmp_path, fixtures_dir):
    """analyze with other settings, then draft icp: the ICP draft keeps the analysis it used, and the
    export shows that one, not the older figures."""
    from persona_assistant.services import analysis as analysis_service
    from persona_assistant.services.drafting import draft_icp
    from persona_assistant.services.export import export

    shutil.copytree(fixtures_dir / "sample-workspace", tmp_path / "ws")
    ws = Workspace(tmp_path / "ws")
    first = analysis_service.analyze(ws, min_support=5, pairs=False)
    assert first.version.label == "v0001" and first.notices == [f"saved analysis v0001: {first.version.path}"]
    draft_icp(ws, settings(offline=True))
    used = analysis_service.workspace_analysis(ws, keep=False)
    assert [v.label for v in ws.versions("analysis")] == ["v0001", "v0002"]
    assert analysis_service.stored_analysis(ws) == used != first.analysis
    exported = json.loads(export(ws, "json").path.read_text())["analysis"]
    assert exported["min_support"] == used.min_support != first.analysis.min_support
    again = analysis_service.analyze(ws)  # the same figures as the ICP's: nothing new to keep
    assert again.version.unchanged and again.notices == []


def test_engine_for_is_the_one_offline_or_model_decision():
    from persona_assistant.engine import engine_for

    offline, model = engine_for(settings(offline=True)), engine_for(settings(model="m-1"))
    assert (offline.label, offline.converses, model.label, model.converses) == ("offline", False, "m-1", True)
    assert offline.notice and "no model endpoint configured" in offline.notice  # said when it is a fallback
    assert engine_for(settings(offline=True), offline_requested=True).notice is None  # asked for: nothing to say
    assert offline.with_model("m-2") is None and model.with_model("m-2").label == "m-2"
    assert model.announce("personas") == "drafting personas with m-1 at chat-stub.test"
    for name in ("draft_icp", "draft_personas", "client", "copy_generator", "with_model", "announce"):
        assert callable(getattr(offline, name)) and callable(getattr(model, name))
