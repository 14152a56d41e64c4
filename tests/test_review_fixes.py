"""Fixes from a cold user review: each test names the surprise it guards against."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib import resources

import pytest
import yaml

from persona_assistant.errors import InputError
from persona_assistant.schemas import Brief
from persona_assistant.workspace import Workspace, load_brief


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "persona_assistant", *args], capture_output=True,
                          text=True, cwd=cwd)


def _workspace(tmp_path, brief: str) -> Workspace:
    root = tmp_path / "ws"
    (root / "crm").mkdir(parents=True)
    (root / "notes").mkdir()
    (root / "brief.yaml").write_text(brief, encoding="utf-8")
    return Workspace(root)


# ------------------------------------------------------------------ 1. product is a name


@pytest.mark.parametrize("line, short", [
    ("Tallyhop: shift scheduling for multi-location restaurants and clinics", "Tallyhop"),
    ("Tallyhop - shift scheduling for restaurants", "Tallyhop"),
    ("Shift scheduling software for multi-location restaurants and clinics", None),
])
def test_a_product_written_as_a_sentence_is_one_line_error_naming_the_brief_and_field(tmp_path, line, short):
    ws = _workspace(tmp_path, f'product: "{line}"\n')
    with pytest.raises(InputError) as err:
        load_brief(ws)
    msg = str(err.value)
    assert "\n" not in msg and "brief.yaml" in msg and "product" in msg and "category" in msg
    if short:
        assert f"'{short}'" in msg


def test_a_short_product_name_loads_and_template_and_sample_briefs_stay_valid(tmp_path):
    assert load_brief(_workspace(tmp_path, 'product: "Tallyhop"\n')).product == "Tallyhop"
    pkg = resources.files("persona_assistant")
    template = yaml.safe_load(pkg.joinpath("brief_template.yaml").read_text(encoding="utf-8"))
    Brief.model_validate(template)
    assert "name" in pkg.joinpath("brief_template.yaml").read_text(encoding="utf-8").split("product", 1)[1][:60]
    sample = yaml.safe_load(pkg.joinpath("sample_workspace/brief.yaml").read_text(encoding="utf-8"))
    sample["proof_points"] = [p if isinstance(p, dict) else {"claim": p} for p in sample.get("proof_points", [])]
    Brief.model_validate(sample)


# ------------------------------------------------------------------ 2. unread files are named


def test_files_in_notes_and_crm_that_are_not_read_are_named_in_a_notice(tmp_path):
    told: list[str] = []
    ws = _workspace(tmp_path, "")
    ws = Workspace(ws.root, notify=told.append)
    (ws.notes_dir / "dana.md").write_text("**Dana:** hello\n", encoding="utf-8")
    (ws.notes_dir / "interview.docx").write_bytes(b"PK\x03\x04")
    (ws.notes_dir / ".DS_Store").write_bytes(b"\0")
    (ws.crm_dir / "deals.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (ws.crm_dir / "old.xls").write_bytes(b"\xd0\xcf")
    (ws.crm_dir / "archive").mkdir()
    assert [p.name for p in ws.note_files()] == ["dana.md"]
    assert [p.name for p in ws.crm_files()] == ["deals.csv"]
    ws.note_files()  # a listing repeated within a run says it once
    assert told == ["skipped notes/interview.docx: Word files are not read; save it as .txt or .md",
                    "skipped crm/archive: subfolders of crm/ are not read; move its files up a level",
                    "skipped crm/old.xls: old Excel .xls files are not read; save it as .csv or .xlsx"]


def test_draft_personas_says_it_skipped_a_word_file(tmp_path):
    root = tmp_path / "ws"
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "dana.md").write_text(
        "---\nname: Dana Ruiz\nrole: Controller\ncompany: Acme\n---\n\n"
        "**Dana:** We reconcile bank feeds by hand and it takes three full days every month.\n", encoding="utf-8")
    (root / "notes" / "interview.docx").write_bytes(b"PK\x03\x04")
    out = run_cli("draft", "personas", "-w", str(root))
    assert "skipped notes/interview.docx: Word files are not read; save it as .txt or .md" in out.stderr


# ------------------------------------------------------------------ 3. Markdown shows no entities


def test_markdown_shows_a_persona_name_as_written_and_keeps_it_inert():
    from persona_assistant.draft.markdown import persona_markdown
    from persona_assistant.schemas import Persona

    p = Persona(id="it", name="Elena, the IT & ERP <b>Systems</b> *Manager*", archetype="Runs the ERP",
                role="IT Manager")
    heading = persona_markdown(p).splitlines()[0]
    assert heading == "## Elena, the IT & ERP \\<b>Systems\\</b> \\*Manager\\* (it)"
    assert "&amp;" not in heading and "&lt;" not in heading


# ------------------------------------------------------------------ 4. how a comma in money was read


def test_a_thousands_comma_notice_says_the_comma_was_a_thousands_separator(tmp_path):
    from persona_assistant.ingest.crm import load_crm

    path = tmp_path / "deals.csv"
    path.write_text('stage,amount\nWon,"$4,800"\nLost,"$1,250"\n', encoding="utf-8")
    crm = load_crm([path])
    assert [r[0] for r in crm.con.execute("SELECT amount FROM deals ORDER BY rowid").fetchall()] == [4800.0, 1250.0]
    notes = [n for n in crm.report.value_notices if n.startswith("deals.csv:amount:")]
    assert len(notes) == 1 and "'$4,800', read as 4800" in notes[0]
    assert "',' taken as the thousands separator" in notes[0] and "read with the decimal point" not in notes[0]


# ------------------------------------------------------------------ 5. errors that say what to do


def test_score_with_a_typo_suggests_the_file(tmp_path):
    ws = _workspace(tmp_path, "")
    (ws.root / "leads.csv").write_text("company,industry\nA,Retail\n", encoding="utf-8")
    out = run_cli("score", "leads.cvs", "-w", str(ws.root), cwd=ws.root)
    assert out.returncode == 2 and "did you mean leads.csv?" in out.stderr and "Traceback" not in out.stderr


def test_campaign_accepts_the_channel_names_chat_accepts_and_lists_them_when_wrong():
    from persona_assistant.errors import UsageError
    from persona_assistant.messaging.channels import load_channels, select_channels

    channels = load_channels({})
    assert select_channels(["email", "ads"], channels) == ["cold_email", "google_rsa"]
    with pytest.raises(UsageError) as err:
        select_channels(["emial"], channels)
    assert "did you mean email?" in str(err.value) and "cold_email" in str(err.value)


def test_a_csv_in_the_workspace_root_is_pointed_out_when_crm_is_empty(tmp_path):
    ws = _workspace(tmp_path, "")
    (ws.root / "deals.csv").write_text("stage,amount\nWon,10\n", encoding="utf-8")
    out = run_cli("analyze", "-w", str(ws.root))
    assert out.returncode == 2
    assert f"found deals.csv in {ws.root}: move it into crm/" in out.stderr


# ------------------------------------------------------------------ 6. smaller surprises


@pytest.mark.parametrize("word", ["/quit", "/exit", "/q"])
def test_leaving_a_piped_offline_chat_says_so(tmp_path, word):
    from chat_helpers import make_workspace, run_lines, settings

    ws = make_workspace(tmp_path / "ws")
    shown, _ = run_lines(ws, [word, "/personas"], settings_obj=settings(offline=True))
    assert "left the chat (nothing said, nothing saved)" in shown
    assert "Maya" not in shown  # nothing after the exit line runs


def test_no_segment_standing_out_is_not_styled_as_good_news():
    import re

    from persona_assistant.export.html import render_report
    from test_campaign import make_icp, make_personas
    from test_report_html import analysis_of

    a = analysis_of([("Software", 120, 60, 0.41, 0.59, "better"), ("Retail", 90, 9, 0.05, 0.18, "worse")], 0.3)
    best = render_report(make_icp().model_copy(update={"crm_singles_out_segment": True}), make_personas(), None, a)
    none = render_report(make_icp(), make_personas(), None, a.model_copy(update={"icp_candidates": []}))

    def styled(page):  # the class of the headline span and the colour CSS gives that class
        cls = re.search(r'<span class="(headline[^"]*)">', page)[1].split()
        rules = dict(re.findall(r"\.(headline(?:\.\w+)?)\{([^}]*)\}", page))
        return " ".join(rules.get(".".join(["headline", c]) if c != "headline" else "headline", "") for c in cls)

    assert "No segment stands out" in none and "#1e5a32" not in styled(none)
    assert "Best fit" in best and "#1e5a32" in styled(best)


def test_history_lists_analysis_and_campaign_versions_too(tmp_path):
    from persona_assistant.schemas import Campaign, PersonaSet
    from persona_assistant.services.drafting import history
    from test_campaign import make_icp, make_personas
    from test_report_html import analysis_of

    ws = _workspace(tmp_path, "")
    ws.save_version("icp", make_icp())
    ws.save_version("personas", PersonaSet(personas=make_personas()))
    ws.save_version("analysis", analysis_of([("Software", 120, 60, 0.41, 0.59, "better")], 0.3))
    ws.save_version("campaign", Campaign(id="c1", personas=[p.id for p in make_personas()], channels=["cold_email"],
                                         stages=["decision"], variants=1))
    rows = history(ws)
    assert [(r.kind, r.version) for r in rows] == [("icp", "v0001"), ("personas", "v0001"),
                                                   ("analysis", "v0001"), ("campaign", "v0001")]
    assert rows[2].counts["segments"] == 1 and rows[3].counts["assets"] == 0
    assert [r.kind for r in history(ws, "campaign")] == ["campaign"]
