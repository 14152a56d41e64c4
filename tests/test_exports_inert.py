"""Exports and saved drafts are inert: given notes, CRM cells and model text holding escape
sequences, BEL and `javascript:` links, no export format (md, json, csv, html) and no saved
draft .md carries a control character or a live non-http(s) link; the text itself stays visible."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from persona_assistant.draft.markdown import persona_set_markdown
from persona_assistant.safe_text import md_escape
from persona_assistant.schemas import PersonaSet
from persona_assistant.workspace import Workspace

CRM_EVIL = "Soft\x1b[31mware\x07 [crm](javascript:alert(1))"
NOTE_EVIL = ("**Lucia:** The close \x1b]8;;javascript:alert(2)\x07breaks\x1b]8;;\x07 every month "
             "[click](javascript:alert(3)) and we rebuild the reconciliations by hand.\n")
MODEL_EVIL = ("We rebuild \x1b[2J\x1b[Hreconciliations\x07 by hand [see](javascript:alert(4)) "
              "![px](http://tracker.invalid/p.png) [docs](https://example.com/docs)\n[ref]: javascript:alert(5)")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A live link to anything but http(s)/mailto, a reference definition, or an image.
LIVE_BAD_LINK = re.compile(r"\]\(\s*(?!https?://|mailto:)[a-z][a-z0-9+.-]*:|\]:\s*javascript:|!\[[^\[\]]*\]\(",
                           re.I)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "persona_assistant", *args], capture_output=True, text=True,
                          timeout=180)


@pytest.mark.parametrize("text, expected", [
    ("[x](javascript:alert(1))", "[x&#93;(javascript:alert(1))"),
    ("[x](JavaScript:alert(1))", "[x&#93;(JavaScript:alert(1))"),
    ("[x](data:text/html,hi)", "[x&#93;(data:text/html,hi)"),
    ("[x][r]\n[r]: javascript:y", "[x&#93;[r]\n[r&#93;: javascript:y"),
    ("![p](https://t.invalid/p.png)", "![p&#93;(https://t.invalid/p.png)"),
    ("\\[x](javascript:y)", "\\\\[x&#93;(javascript:y)"),
    ("[docs](https://example.com/a?b=1)", "[docs](https://example.com/a?b=1)"),
    ("[mail](mailto:a@b.example)", "[mail](mailto:a@b.example)"),
    ("[inferred] and [x]", "[inferred] and [x]"),
    ("a\x1b[31mred\x1b[0m\x07 <b>", "ared \\<b>"),
])
def test_md_escape_keeps_only_http_and_mailto_links_live(text, expected):
    assert md_escape(text) == expected


@pytest.fixture(scope="module")
def exported(tmp_path_factory, fixtures_dir=Path(__file__).resolve().parents[1] / "fixtures") -> Path:
    root = tmp_path_factory.mktemp("inert") / "ws"
    shutil.copytree(fixtures_dir / "sample-workspace", root)
    companies = root / "crm" / "companies.csv"
    companies.write_text(companies.read_text().replace(",Software,", f',"{CRM_EVIL}",'))
    with (root / "notes" / "controller-ironclad.md").open("a") as fh:
        fh.write("\n**Interviewer:** Anything else?\n\n" + NOTE_EVIL)
    for args in (("analyze",), ("draft", "icp", "--offline"), ("draft", "personas", "--offline")):
        r = run_cli(*args, "-w", str(root))
        assert r.returncode == 0, (args, r.stderr)
    ws = Workspace(root)
    pset = ws.load_version("personas", PersonaSet)
    first = pset.personas[0]
    pains = [first.pains[0].model_copy(update={"text": MODEL_EVIL})] + first.pains[1:]
    first = first.model_copy(update={"name": "Dana\x1b]0;owned\x07 [me](javascript:alert(6))", "pains": pains})
    pset = pset.model_copy(update={"personas": [first] + pset.personas[1:]})
    ws.save_version("personas", pset, persona_set_markdown(pset))  # as a model would have written it
    r = run_cli("campaign", "-w", str(root), "--offline", "--variants", "1")
    assert r.returncode == 0, r.stderr
    for fmt in ("md", "json", "csv", "html"):
        r = run_cli("export", "-w", str(root), "--format", fmt)
        assert r.returncode == 0, r.stderr
    return root


def outputs(root: Path) -> dict[str, str]:
    files = sorted((root / "output").iterdir()) + sorted((root / "drafts").rglob("*.md"))
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in files}


def test_no_control_character_in_any_export_or_saved_draft(exported):
    texts = outputs(exported)
    assert {"output/playbook.md", "output/playbook.json", "output/assets.csv", "output/report.html"} <= set(texts)
    assert any(name.startswith("drafts/personas/") for name in texts)
    for name, text in texts.items():
        body = text.replace("\r\n", "\n") if name.endswith(".csv") else text
        assert not CONTROL.search(body), (name, CONTROL.search(body))
        assert "\\u001b" not in text and "\\u0007" not in text, name  # not even escaped in JSON


def test_hostile_text_reaches_every_format_but_only_as_text(exported):
    texts = outputs(exported)
    for name in ("output/playbook.md", "output/playbook.json", "output/report.html"):
        assert "alert(4)" in texts[name] and "alert(1)" in texts[name], name  # model and CRM text shown
    assert "alert(6)" in texts["output/assets.csv"] or "Dana" in texts["output/assets.csv"]
    for name, text in texts.items():
        if name.endswith(".md"):
            assert not LIVE_BAD_LINK.search(text), (name, LIVE_BAD_LINK.search(text))
    assert "[docs](https://example.com/docs)" in texts["output/playbook.md"]  # an http(s) link stays a link
    html = texts["output/report.html"]
    assert "href" not in html.lower() and "<img" not in html.lower()
    data = json.loads(texts["output/playbook.json"])
    assert "Software [crm](javascript:alert(1))" in json.dumps(data, ensure_ascii=False)
    rows = list(csv.reader(io.StringIO(texts["output/assets.csv"])))
    assert len(rows) > 10 and not any(CONTROL.sub("", c) != c.replace("\r", "") for r in rows for c in r)
