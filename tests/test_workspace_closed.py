"""The workspace is closed: links and `..` leading outside are not read (a notice names them) and
nothing is written through them (one-line error naming the path); what the user names on the
command line (`analyze FILES`, `--out`) is their explicit choice."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import respx

from persona_assistant.analysis.segments import analyze_workspace
from persona_assistant.services.drafting import draft_icp
from persona_assistant.errors import InputError
from persona_assistant.workspace import Workspace, atomic_write, outside_of
from test_draft_icp_llm import URL, completion, schema_of, settings, sufficiency

SECRET = "OUTSIDE-SECRET-7731"
SECRET_NOTE = f"""---
name: Olga Outsider
role: CFO
company: Elsewhere Ltd
---

**Interviewer:** What is hard?

**Olga:** {SECRET} our close takes twelve days and the reconciliations are manual every month.
"""


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "persona_assistant", *args], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def sample(tmp_path, fixtures_dir) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(fixtures_dir / "sample-workspace", root)
    return root


@pytest.fixture
def outside(tmp_path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "note.md").write_text(SECRET_NOTE)
    return folder


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- the rule


def test_outside_of_follows_links_and_dotdot(tmp_path, outside):
    root = tmp_path / "ws"
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "in.md").write_text("x")
    (root / "notes" / "link-in.md").symlink_to(root / "notes" / "in.md")
    (root / "notes" / "link-out.md").symlink_to(outside / "note.md")
    assert outside_of(root / "notes" / "in.md", root) is None
    assert outside_of(root / "notes" / "link-in.md", root) is None
    assert outside_of(root / "notes" / "link-out.md", root) == (outside / "note.md").resolve()
    assert outside_of(root / "notes" / ".." / ".." / "outside" / "note.md", root) == (outside / "note.md").resolve()
    assert outside_of(root / "not-yet" / "deeper" / "file.json", root) is None  # need not exist


def test_listings_skip_links_leading_outside_once_each_with_a_notice(tmp_path, outside):
    root = tmp_path / "ws"
    for d in ("crm", "notes/2024"):
        (root / d).mkdir(parents=True)
    (root / "notes" / "a.md").write_text("inside")
    (root / "notes" / "2024" / "b.txt").write_text("inside too")
    (root / "notes" / "alias.md").symlink_to(root / "notes" / "a.md")  # a link inside: fine
    (root / "notes" / "x.md").symlink_to(outside / "note.md")
    (root / "notes" / "elsewhere").symlink_to(outside, target_is_directory=True)
    (root / "notes" / "loop").symlink_to(root / "notes", target_is_directory=True)  # a loop: no hang
    (root / "crm" / "deals.csv").symlink_to("/etc/passwd")
    (root / "mapping.toml").symlink_to(outside / "note.md")
    told: list[str] = []
    ws = Workspace(root, notify=told.append)
    for _ in range(2):  # a listing repeated in one run says it once
        notes = ws.note_files()
        assert [p.relative_to(root).as_posix() for p in notes] == ["notes/2024/b.txt", "notes/a.md",
                                                                  "notes/alias.md"]
        assert ws.crm_files() == []
        assert ws.mapping_file() is None
    assert len(told) == 4, told
    joined = "\n".join(told)
    for name in ("notes/x.md", "notes/elsewhere", "crm/deals.csv", "mapping.toml"):
        assert f"skipped {name}: it leads to " in joined
    assert "/etc/passwd" in joined and "outside the workspace" in joined


def test_linked_brief_config_and_prompt_override_are_not_read(tmp_path, outside):
    from persona_assistant.prompts import render
    from persona_assistant.workspace import load_brief

    (outside / "brief.yaml").write_text(f"product: {SECRET}\n")
    (outside / "settings.toml").write_text(f'[llm]\nmodel = "{SECRET}"\n')
    (outside / "asset.j2").write_text("{# version: 9 #}{% block system %}" + SECRET + "{% endblock %}"
                                      "{% block user %}x{% endblock %}")
    root = tmp_path / "ws"
    (root / "prompts").mkdir(parents=True)
    (root / "brief.yaml").symlink_to(outside / "brief.yaml")
    (root / "persona-assistant.toml").symlink_to(outside / "settings.toml")
    (root / "prompts" / "asset.j2").symlink_to(outside / "asset.j2")
    told: list[str] = []
    ws = Workspace(root, notify=told.append)
    assert load_brief(ws).product in (None, "")
    assert ws.config() == {}
    with pytest.raises(Exception) as exc:  # the bundled template is used, needing its own variables
        render("asset", ws)
    assert SECRET not in str(exc.value)
    assert len(told) == 3 and all("outside the workspace" in t for t in told)


def test_cli_analyze_skips_a_linked_crm_file_and_reads_it_when_named(sample, outside):
    shutil.move(sample / "crm" / "deals.csv", outside / "deals.csv")
    (sample / "crm" / "deals.csv").symlink_to(outside / "deals.csv")
    r = run_cli("analyze", "-w", str(sample), "--json")
    assert r.returncode != 0
    assert "skipped crm/deals.csv: it leads to" in r.stderr and str(outside / "deals.csv") in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error: ")  # companies alone hold no deals
    named = run_cli("analyze", str(outside / "deals.csv"), str(sample / "crm" / "companies.csv"),
                    "-w", str(sample), "--json")  # the user's explicit choice
    assert named.returncode == 0, named.stderr
    assert json.loads(named.stdout)["baseline"]["closed"] > 500


def test_a_linked_note_outside_is_never_sent_to_the_model(sample, outside):
    (sample / "notes" / "zz-outside.md").symlink_to(outside / "note.md")
    told: list[str] = []
    ws = Workspace(sample, notify=told.append)
    analysis = analyze_workspace(ws)
    icp = {"id": "x", "name": "Mid-market", "summary": "From the figures.", "crm_singles_out_segment": False,
           "firmographics": {k: [] for k in ("industries", "employee_bands", "revenue_bands", "regions",
                                             "technographics", "other")},
           "segments": [], "challenges": [], "goals": [], "traits": [],
           "long_term_value": {"text": "unknown", "evidence": [], "confidence": "unknown", "status": "unknown"},
           "advocacy_potential": {"text": "unknown", "evidence": [], "confidence": "unknown", "status": "unknown"},
           "qualification_signals": [], "disqualifiers": [], "data_sufficiency": sufficiency(analysis)}

    def answer(request):
        if schema_of(request) == "ICPAnswer":
            return completion(icp)
        return completion({"source_id": "x", "items": [], "role": "unknown", "seniority": "unknown",
                           "function": "unknown", "buying_role": "unknown"})

    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.post(URL).mock(side_effect=answer)
        _, version, _ = draft_icp(ws, settings())
    bodies = [c.request.content.decode("utf-8") for c in route.calls]
    assert len(bodies) > 5 and any("Lucia" in b or "Ironclad" in b or "reconciliation" in b for b in bodies)
    assert not any(SECRET in b or "Olga" in b for b in bodies)
    assert SECRET not in version.path.read_text() + version.path.with_suffix(".md").read_text()
    assert told == [f"skipped notes/zz-outside.md: it leads to {(outside / 'note.md').resolve()}, outside the "
                    f"workspace; copy it into {sample} to use it"]


# --------------------------------------------------------------------------- writing


@pytest.mark.parametrize("linked", ["output", ".persona-assistant", "drafts", "drafts/campaign",
                                    ".persona-assistant/campaign"])
def test_nothing_is_written_through_a_linked_folder(sample, tmp_path, linked):
    """The whole offline pipeline with one of the tool's folders linked outside: a one-line error
    naming it, and the outside folder stays empty."""
    target = tmp_path / "target"
    target.mkdir()
    (sample / linked).parent.mkdir(parents=True, exist_ok=True)
    (sample / linked).symlink_to(target, target_is_directory=True)
    errors = []
    for args in (("draft", "icp"), ("draft", "personas"), ("campaign", "--variants", "1", "--channel", "cold_email"),
                 ("export", "--format", "md"), ("export", "--format", "csv"), ("export", "--format", "html")):
        r = run_cli(*args, "-w", str(sample), "--offline" if args[0] in ("draft", "campaign") else "--json")
        if r.returncode:
            assert r.stderr.count("error: ") == 1 and "Traceback" not in r.stderr
            errors.append(r.stderr.strip().splitlines()[-1])
    # The first refusal names the link; later commands may only miss what it did not write.
    assert errors and errors[0].startswith(f"error: {sample / linked}") and "outside the workspace" in errors[0]
    assert all("outside the workspace" in e or "nothing to export" in e or "no personas" in e
               or "no campaign yet" in e for e in errors), errors
    assert files_under(target) == [], files_under(target)


def test_a_linked_output_file_is_refused_but_out_is_the_users_choice(sample, tmp_path):
    assert run_cli("draft", "icp", "-w", str(sample), "--offline").returncode == 0
    elsewhere = tmp_path / "elsewhere.md"
    elsewhere.write_text("keep me")
    (sample / "output").mkdir()
    (sample / "output" / "playbook.md").symlink_to(elsewhere)
    r = run_cli("export", "-w", str(sample), "--format", "md")
    assert r.returncode == 1 and elsewhere.read_text() == "keep me"
    assert r.stderr.count("\n") == 1 and "output/playbook.md: leads to" in r.stderr
    chosen = tmp_path / "chosen" / "playbook.md"
    r = run_cli("export", "-w", str(sample), "--format", "md", "--out", str(chosen))
    assert r.returncode == 0, r.stderr
    assert chosen.read_text().startswith("# Persona playbook")


def test_atomic_write_within_refuses_a_parent_link_and_writes_nothing(tmp_path):
    root, target = tmp_path / "ws", tmp_path / "target"
    root.mkdir(), target.mkdir()
    (root / "sub").symlink_to(target, target_is_directory=True)
    with pytest.raises(InputError) as exc:
        atomic_write(root / "sub" / "deeper" / "f.json", "{}", within=root)
    assert str(root / "sub" / "deeper" / "f.json") in exc.value.message
    assert list(target.iterdir()) == []
    atomic_write(root / "sub" / "f.json", "{}")  # without `within`: the caller's explicit path
    assert (target / "f.json").read_text() == "{}"
    assert os.path.islink(root / "sub")


def test_chat_refuses_a_history_file_linked_outside(sample, tmp_path):
    (sample / ".persona-assistant" / "chat").mkdir(parents=True)
    (sample / ".persona-assistant" / "chat" / "input-history").symlink_to(tmp_path / "elsewhere")
    r = subprocess.run([sys.executable, "-m", "persona_assistant", "chat", "-w", str(sample)], input="/quit\n",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and not (tmp_path / "elsewhere").exists()
    assert r.stderr.strip().splitlines()[-1].startswith(
        f"error: {sample / '.persona-assistant' / 'chat' / 'input-history'}: leads to {tmp_path / 'elsewhere'}")


def test_a_folder_named_like_a_csv_in_crm_is_one_error_not_silence(sample):
    (sample / "crm" / "more-deals.csv").mkdir()
    (sample / "crm" / "more-deals.csv" / "q3.csv").write_text("deal,stage\nA,won\n")
    r = run_cli("analyze", "-w", str(sample), "--json")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip().splitlines()[-1:] == [
        f"error: {sample / 'crm' / 'more-deals.csv'}: is a folder, not a CSV file; move its files up a level "
        "or rename it"]


def test_a_campaign_item_file_linked_outside_is_not_read_and_is_generated_again(tmp_path, outside):
    import asyncio

    from persona_assistant.messaging.campaign import ItemSpec, load_item, run_items
    from persona_assistant.schemas import Asset

    spec = ItemSpec(persona_id="cfo", channel="cold_email", stage="awareness", variant=1)
    planted = Asset(id=spec.id, persona_id="cfo", channel="cold_email", stage="awareness", variant=1, angle="pain",
                    fields={"subject": SECRET, "body": SECRET})
    (outside / spec.filename.replace("/", "_")).write_text(planted.model_dump_json())
    items = tmp_path / "items"
    (items / spec.filename).parent.mkdir(parents=True)
    (items / spec.filename).symlink_to(outside / spec.filename.replace("/", "_"))
    assert load_item(items, spec) is None
    fresh = planted.model_copy(update={"fields": {"subject": "ok", "body": "ok"}})

    async def generate(_spec):
        return fresh
    result = asyncio.run(run_items([spec], generate, items))
    assert len(result.generated) == 1
    assert not (items / spec.filename).is_symlink() and SECRET not in (items / spec.filename).read_text()
    assert SECRET in (outside / spec.filename.replace("/", "_")).read_text()  # nothing written through it
