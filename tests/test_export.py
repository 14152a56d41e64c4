"""Exports: Markdown playbook, JSON of everything, formula-safe CSV, and the self-contained HTML
report (escaping checked in headless Chromium, no network request), plus the acceptance run
against a mocked OpenAI-compatible endpoint."""

from __future__ import annotations

import asyncio
import csv
import http.server
import io
import json
import re
import shutil
import subprocess
import threading
from pathlib import Path

import httpx
import pytest
import respx
from typer.testing import CliRunner

from persona_assistant.export.html import CSP, render_report
from persona_assistant.draft.markdown import playbook_markdown
from persona_assistant.messaging.campaign import assemble, offline_generator, plan_items, run_items
from persona_assistant.schemas import Campaign, PersonaSet

from test_campaign import claim, make_context, make_icp, make_personas, make_workspace, q, run_cli

XSS_NAME = "<script>document.title='pwned'</script>"
XSS_QUOTE = "It breaks <img src=x onerror=\"document.title='pwned2'\"> every month."


def hostile_personas(pixel_url: str = "http://127.0.0.1:9/p.png") -> list:
    ps = make_personas()
    evil_quote = XSS_QUOTE + f' <img src="{pixel_url}"> <link rel=stylesheet href="{pixel_url}">'
    ps[0] = ps[0].model_copy(update={
        "name": XSS_NAME,
        "pains": [claim(evil_quote)] + ps[0].pains,
        "quotes": [q("notes/c.md", 4, evil_quote)],
    })
    return ps


def campaign_for(tmp_path: Path, personas) -> Campaign:
    ctx = make_context()
    ctx.personas = {p.id: p for p in personas}
    channels = ["cold_email", "google_rsa", "journey", "content_ideas"]
    specs = plan_items(list(ctx.personas), channels, ["awareness"], 1)
    asyncio.run(run_items(specs, offline_generator(ctx), tmp_path / "items"))
    return assemble("cT", specs, tmp_path / "items", ctx, list(ctx.personas), channels, ["awareness"], 1)


# --------------------------------------------------------------------------- markdown / json / csv


def test_markdown_playbook_has_every_part_and_escapes_html(tmp_path):
    personas = hostile_personas()
    md = playbook_markdown(make_icp(), personas, campaign_for(tmp_path, personas))
    assert "# ICP: Mid-market finance teams" in md
    assert "notes/c.md:4" in md  # evidence cited with file and line
    assert "## Journey:" in md and "cold_email" in md and "Content ideas" in md
    assert not re.search(r"(?<!\\)<(script|img)", md)  # only ever as escaped, literal text
    assert "\\<script>" in md


def test_cli_exports_json_and_csv(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    # call_opener for a list field: the fixture brief has too few whole 30-character headlines for an RSA
    # that says a persona item, so its RSAs are (honestly) map-only
    assert run_cli("campaign", "-w", str(ws.root), "--channel", "cold_email", "--channel", "call_opener",
                   "--stage", "decision", "--variants", "1").returncode == 0
    r = run_cli("export", "-w", str(ws.root), "--format", "json", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(Path(json.loads(r.stdout)["path"]).read_text())
    assert data["icp"]["id"] == "icp-1" and len(data["personas"]["personas"]) == 2
    assert data["analysis"] is None and len(data["campaign"]["assets"]) == 4

    out = tmp_path / "assets.csv"
    r = run_cli("export", "-w", str(ws.root), "--format", "csv", "--out", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 4
    email = next(r for r in rows if r["channel"] == "cold_email")
    assert email["subject"] and "{{first_name}}" in email["body"] and email["addresses"]
    assert next(r for r in rows if r["channel"] == "call_opener")["questions"].count(" | ") >= 2


def test_csv_neutralises_formulas_from_copy(tmp_path):
    from persona_assistant.export.csv_assets import write_assets_csv

    personas = make_personas()
    camp = campaign_for(tmp_path, personas)
    evil = camp.assets[0].model_copy(update={"fields": {"subject": "=HYPERLINK(\"http://x\")",
                                                        "body": "+1 555 0100"}})
    camp = camp.model_copy(update={"assets": [evil]})
    path = write_assets_csv(tmp_path / "a.csv", camp, personas)
    row = next(csv.DictReader(io.StringIO(path.read_text())))
    assert row["subject"].startswith("'=") and row["body"] == "+1 555 0100"


def test_export_bad_format_and_empty_workspace(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    r = run_cli("export", "-w", str(ws.root), "--format", "pdf")
    assert r.returncode == 2 and "--format: unknown format 'pdf'" in r.stderr
    r = run_cli("export", "-w", str(ws.root), "--format", "csv")
    assert r.returncode == 2 and "no campaign yet" in r.stderr
    (tmp_path / "empty").mkdir()
    r = run_cli("export", "-w", str(tmp_path / "empty"), "--format", "md")
    assert r.returncode == 2 and r.stderr.startswith("error: nothing to export")


# --------------------------------------------------------------------------- html


def test_html_report_is_escaped_and_self_contained(tmp_path):
    personas = hostile_personas()
    page = render_report(make_icp(), personas, campaign_for(tmp_path, personas))
    import html as html_mod

    assert f'content="{html_mod.escape(CSP).replace("&#x27;", "&#39;")}"' in page
    assert "<script" not in page and "<img" not in page and "<link" not in page
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in page
    # no attribute loads anything (the quote's <img src=...> is text, not an element)
    assert not re.search(r"<[^>]*\b(?:src|href)\s*=", page)
    assert "url(" not in page


def test_html_chart_draws_intervals_from_the_analysis(tmp_path):
    from persona_assistant.schemas import Analysis, DataSufficiency, Segment, SegmentStats

    seg = Segment(id="industry=<b>Retail</b>", dimensions={"industry": "Retail"}, closed=40, won=30, lost=10,
                  win_rate=0.75, ci_low=0.6, ci_high=0.86, verdict="better")
    analysis = Analysis(baseline=SegmentStats(closed=100, won=40, lost=60, win_rate=0.4, ci_low=0.31, ci_high=0.5),
                        dimensions=["industry"], min_support=30, correction="Holm", segments=[seg],
                        icp_candidates=[seg.id], sufficiency=DataSufficiency(won=40, lost=60, verdict="sufficient"),
                        verdict="Retail wins more")
    page = render_report(make_icp(), make_personas(), None, analysis)
    svg = page[page.index("<svg"):page.index("</svg>")]
    # 75% with [60%, 86%] on a 440px plot starting at x=310, axis 0-100% (86% rounds up to 100%)
    assert 'cx="640.0"' in svg and 'x1="574.0"' in svg and 'x2="688.4"' in svg
    assert 'x1="486.0"' in svg  # dashed baseline at 40%
    assert "&lt;b&gt;Retail&lt;/b&gt;" in page and "<b>Retail" not in page


CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser", shutil.which("chromium") or "")
                 if p and Path(p).exists()), None)


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_html_in_headless_chromium_runs_no_script_and_requests_nothing(tmp_path):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recorder.hits = []
    pixel = f"http://127.0.0.1:{server.server_port}/pixel.png"
    try:
        personas = hostile_personas(pixel)
        page = tmp_path / "report.html"
        page.write_text(render_report(make_icp(), personas, campaign_for(tmp_path, personas), title="Report"))
        r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
                           capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
    dom = r.stdout
    assert "<title>Report</title>" in dom, r.stderr[-2000:]
    assert "pwned" not in dom.split("</title>")[0]
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "&lt;img src=x onerror=" in dom
    assert "<script" not in dom and "<img" not in dom
    assert _Recorder.hits == []


# --------------------------------------------------------------------------- acceptance: mocked endpoint

BASE = "http://llm.test/v1"


def _answer(subject: str, body: str) -> httpx.Response:
    content = json.dumps({"fields": [{"name": "subject", "text": subject, "items": []},
                                     {"name": "body", "text": body, "items": []}],
                          "addresses": [{"field": "pains", "index": 0, "text": ""}], "proof_points": []})
    return httpx.Response(200, json={
        "id": "c1", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}})


def test_acceptance_llm_long_subject_is_flagged_and_html_has_no_script(tmp_path, monkeypatch):
    from persona_assistant.cli.main import app  # registers every command
    ws = make_workspace(tmp_path / "ws")
    ws.save_version("personas", PersonaSet(personas=hostile_personas()))
    monkeypatch.setenv("PERSONA_ASSISTANT_BASE_URL", BASE)
    monkeypatch.setenv("PERSONA_ASSISTANT_MODEL", "test-model")
    subject = "S" * 40 + " " + "u" * 49  # 90 characters
    body = ("Hi {{first_name}}, " + "we rebuild reconciliation spreadsheets by hand every month and chase "
            "documents. " * 6 + "Book a 15-minute walkthrough. <script>alert(1)</script>")
    with respx.mock(base_url=BASE, assert_all_called=True) as mock:
        route = mock.post("/chat/completions").mock(return_value=_answer(subject, body))
        result = CliRunner().invoke(app, ["campaign", "-w", str(ws.root), "--channel", "cold_email",
                                          "--stage", "awareness", "--variants", "1", "--persona", "controller",
                                          "--allow-lint-failures", "--json"])
    assert result.exit_code == 0, (result.output, result.exception)  # kept on request, despite lint errors
    assert "subject_max_chars" in json.loads(result.stdout)["lint_failures"][0]
    assert route.call_count == 2  # first answer + 1 re-ask with the lint findings, answered identically: no third
    reask = json.loads(route.calls[1].request.content)["messages"][-1]["content"]
    assert "subject_max_chars" in reask and "90 characters" in reask
    camp = ws.load_version("campaign", Campaign)
    (asset,) = camp.assets
    assert asset.engine == "test-model" and len(asset.fields["subject"]) == 90
    assert any(f.rule == "subject_max_chars" for f in asset.lint)
    assert asset.addresses[0].text == hostile_personas()[0].pains[0].text  # text filled from the persona

    out = tmp_path / "r.html"
    r = CliRunner().invoke(app, ["export", "-w", str(ws.root), "--format", "html", "--out", str(out)])
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;script&gt;document.title=" in page
