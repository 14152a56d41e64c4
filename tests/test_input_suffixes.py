"""One list of file suffixes per input kind, used by the workspace listing and the readers alike:
a `.markdown` note is listed and read like a `.md` one; an `.xlsm` export is listed and read like `.xlsx`."""

from __future__ import annotations

from openpyxl import Workbook

from persona_assistant.ingest.crm import load_crm
from persona_assistant.ingest.notes import load_sources
from persona_assistant.workspace import Workspace

NOTE = """---
name: Dana Reyes
role: Controller
company: Northwind
---

**Interviewer:** How long does the close take?

**Dana Reyes:** We reconcile bank feeds by hand and it takes three full days every month.
"""


def test_a_markdown_note_is_listed_and_read(tmp_path):
    ws = Workspace(tmp_path)
    ws.notes_dir.mkdir(parents=True)
    (ws.notes_dir / "dana.markdown").write_text(NOTE, encoding="utf-8")
    (ws.notes_dir / "ignored.pdf").write_bytes(b"%PDF-1.4")
    files = ws.note_files()
    assert [p.name for p in files] == ["dana.markdown"]
    (src,) = load_sources(files, root=tmp_path)
    assert src.id == "dana" and src.meta["role"] == "Controller"
    (sentence,) = src.sentences()
    assert sentence.text.startswith("We reconcile bank feeds by hand")
    assert src.lines[sentence.line_start - 1].startswith("**Dana Reyes:**")


def test_an_xlsm_export_is_listed_and_read(tmp_path):
    ws = Workspace(tmp_path)
    ws.crm_dir.mkdir(parents=True)
    wb = Workbook()
    sheet = wb.active
    sheet.title = "Deals"
    for row in (("deal_id", "stage", "industry"), ("1", "Closed Won", "Software"), ("2", "Closed Lost", "Retail")):
        sheet.append(row)
    wb.save(ws.crm_dir / "deals.xlsm")
    (ws.crm_dir / "notes.docx").write_bytes(b"not an export")
    files = ws.crm_files()
    assert [p.name for p in files] == ["deals.xlsm"]
    crm = load_crm(files)
    assert crm.report.files[0].encoding == "xlsx"
    assert crm.con.execute("SELECT deal_id, outcome, industry FROM deals ORDER BY deal_id").fetchall() == [
        ("1", "won", "Software"), ("2", "lost", "Retail")]
