"""Campaign generation: offline copy within limits, traceability, bounded concurrency, resume
after an interrupt (in process and by killing a subprocess), the CLI summary and exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from persona_assistant.errors import UsageError
from persona_assistant.messaging.campaign import (
    Context, ItemSpec, assemble, campaign_id, items_dir, offline_generator, plan_items, run_items,
)
from persona_assistant.services.campaign import run_campaign
from persona_assistant.messaging.channels import BUILTIN, lint_config, load_channels
from persona_assistant.messaging.claims import known_text
from persona_assistant.messaging.lint import errors
from persona_assistant.messaging.attribution import longest_shared_run, words
from persona_assistant.messaging.offline_copy import offline_asset
from persona_assistant.messaging.phrasing import insight
from persona_assistant.schemas import (
    ICP, Asset, Brief, Campaign, Claim, DataSufficiency, Persona, PersonaSet, ProofPoint, QuoteEvidence,
)
from persona_assistant.workspace import Workspace

VENV_BIN = Path(sys.executable).parent
CLI = str(VENV_BIN / "persona-assistant")


# --------------------------------------------------------------------------- fixtures (own text)


def q(path: str, line: int, text: str) -> QuoteEvidence:
    return QuoteEvidence(source_id=Path(path).stem, path=path, line_start=line, line_end=line, text=text)


def claim(text: str, path: str = "notes/a.md", line: int = 3) -> Claim:
    return Claim(text=text, evidence=[q(path, line, text)], confidence="low", status="supported")


def make_brief() -> Brief:
    return Brief(
        product="Ledgerly",
        category="reconciliation software for finance teams",
        value_propositions=["Match bank and ledger lines automatically and review only the exceptions.",
                            "One checklist for every close task, owner and sign-off."],
        proof_points=[ProofPoint(claim="Tallow Foods closed in 4 days instead of 9.", source="Tallow case study"),
                      ProofPoint(claim="Setup takes 3 weeks on average.", source="onboarding data 2024")],
        calls_to_action=["Book a 15-minute walkthrough", "Get the close checklist"],
        tone="plain and specific",
        banned_phrases=["revolutionary", "synergy"],
    )


def make_personas() -> list[Persona]:
    ctrl = Persona(
        id="controller", name="Dana, the Controller", archetype="Owns the close", role="Controller",
        goals=[claim("We want every reconciliation signed off in one place before day four.", "notes/c.md", 7),
               claim("I need to see which accounts are still open without chasing people.", "notes/c.md", 9)],
        pains=[claim("We rebuild the same reconciliation spreadsheets by hand every month.", "notes/c.md", 4),
               claim("Chasing support documents from the plants takes most of my week.", "notes/c.md", 5)],
        objections=[claim("If it cannot read our ERP data reliably we do the work twice.", "notes/c.md", 11),
                    claim("Our security review could take months.", "notes/c.md", 12)],
        triggers=[claim("The ERP migration next spring made us look at close tools.", "notes/c.md", 10)],
        decision_criteria=[claim("It has to plug into the ERP we already run.", "notes/c.md", 13)],
    )
    cfo = Persona(
        id="cfo", name="Sam, the CFO", archetype="Wants a predictable close", role="CFO",
        goals=[claim("Our goal is a five-day close without adding headcount.", "notes/f.md", 6)],
        pains=[claim("The board wants numbers sooner than we can produce them.", "notes/f.md", 4)],
        objections=[claim("Anything over the budget threshold goes to the board.", "notes/f.md", 9)],
        triggers=[claim("Audit findings about reconciliation evidence pushed this up the list.", "notes/f.md", 8)],
    )
    return [ctrl, cfo]


def make_icp() -> ICP:
    return ICP(id="icp-1", name="Mid-market finance teams", summary="Multi-entity companies closing slowly",
               crm_singles_out_segment=False,
               challenges=[claim("Close takes too long because reconciliations are manual.")],
               data_sufficiency=DataSufficiency(won=10, lost=12, verdict="directional only"))


def make_context(config: dict | None = None) -> Context:
    brief, personas = make_brief(), make_personas()
    return Context(personas={p.id: p for p in personas}, brief=brief, channels=load_channels(config or {}),
                   config=lint_config(config or {}), known=known_text(brief, personas), icp=make_icp())


def make_workspace(root: Path, config: str = "") -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    ws = Workspace(root)
    (root / "brief.yaml").write_text(yaml.safe_dump(make_brief().model_dump(mode="json")), encoding="utf-8")
    if config:
        (root / "persona-assistant.toml").write_text(config, encoding="utf-8")
    ws.save_version("personas", PersonaSet(personas=make_personas()))
    ws.save_version("icp", make_icp())
    return ws


# --------------------------------------------------------------------------- offline copy


def test_offline_assets_for_every_channel_pass_their_own_lint():
    ctx = make_context()
    for persona in ctx.personas.values():
        for channel in BUILTIN.values():
            for stage in ("awareness", "consideration", "decision"):
                for variant in (1, 2, 3, 4):
                    a = offline_asset(persona, channel, stage, variant, brief=ctx.brief, config=ctx.config,
                                      known=ctx.known)
                    assert errors(a.lint) == [], (a.id, a.lint, a.fields)
                    assert a.unsupported_claims == []
                    assert a.addresses and a.map_entries, a.id  # every asset names what it uses
                    if a.map_only:
                        assert a.fields == {} and a.note, a.id
                        continue
                    flat = words(json.dumps(a.fields, ensure_ascii=False))
                    if a.channel == "objection_handling":
                        continue  # names every objection, some answered without their words
                    for ref in a.addresses:  # and what it names is really in the copy, in its own words
                        said = words(insight(ref.text).clause)
                        assert longest_shared_run(said, flat) >= 3, (a.id, ref)


def test_offline_copy_is_traceable_and_variants_differ_by_angle():
    ctx = make_context()
    persona = ctx.personas["controller"]
    emails = [offline_asset(persona, BUILTIN["cold_email"], "awareness", v, brief=ctx.brief, config=ctx.config,
                            known=ctx.known) for v in (1, 2, 3)]
    assert [e.angle for e in emails] == ["pain", "proof", "insight"]
    assert len({e.fields["body"] for e in emails}) == 3
    # pain angle says a persona pain to the reader in the company's voice (never as a quote) and records it
    pain = emails[0]
    ref = next(r for r in pain.addresses if r.field == "pains")
    assert ref.text == persona.pains[ref.index].text
    said = insight(ref.text)  # pain and answer together: "If <pain>, Ledgerly ..." or "<question>? Ledgerly ..."
    assert "If " + said.clause + ", Ledgerly" in pain.fields["body"] or said.question() + " Ledgerly" in pain.fields["body"]
    assert not any(q in pain.fields["body"] for q in '“”"') and "said" not in pain.fields["body"]
    assert ref.text.rstrip(".") not in pain.fields["body"]  # the insight is used, the interviewee is not quoted
    assert f"pains[{ref.index}]" in pain.map_entries
    # proof angle uses a brief proof point and records it
    assert emails[1].proof_points and emails[1].proof_points[0] in [p.claim for p in ctx.brief.proof_points]
    assert "Tallow" in emails[1].fields["body"] or "3 weeks" in emails[1].fields["body"]


def test_offline_objection_handling_answers_each_objection_in_order():
    ctx = make_context()
    persona = ctx.personas["controller"]
    a = offline_asset(persona, BUILTIN["objection_handling"], "decision", 1, brief=ctx.brief, config=ctx.config,
                      known=ctx.known)
    assert len(a.fields["responses"]) == len(persona.objections)
    assert [r.index for r in a.addresses if r.field == "objections"] == [0, 1]


def test_offline_skips_items_with_banned_phrases():
    ctx = make_context()
    persona = ctx.personas["cfo"].model_copy(update={
        "pains": [claim("Their revolutionary tool caused synergy problems.")] + ctx.personas["cfo"].pains})
    a = offline_asset(persona, BUILTIN["cold_email"], "awareness", 1, brief=ctx.brief, config=ctx.config,
                      known=known_text(ctx.brief, [persona]))
    assert "revolutionary" not in a.fields["body"].lower()
    assert errors(a.lint) == []


def test_custom_channel_from_config_is_generated_within_its_limits():
    cfg = {"channels": {"sms": {"description": "Text message", "cta": "text",
                                "fields": {"text": {"max_chars": 160, "min_words": 5}}}}}
    ctx = make_context(cfg)
    a = offline_asset(ctx.personas["cfo"], ctx.channels["sms"], "decision", 1, brief=ctx.brief, config=ctx.config,
                      known=ctx.known)
    assert len(a.fields["text"]) <= 160
    assert errors(a.lint) == [], a.lint


# --------------------------------------------------------------------------- the loop


def _specs(ctx: Context) -> list[ItemSpec]:
    return plan_items(list(ctx.personas), ["cold_email", "google_rsa"], ["awareness", "decision"], 2)


def test_run_items_resumes_without_asking_twice(tmp_path):
    ctx = make_context()
    specs = _specs(ctx)
    assert len(specs) == 2 * 2 * 2 * 2
    calls: list[str] = []
    offline = offline_generator(ctx)

    async def flaky(spec: ItemSpec) -> Asset:
        calls.append(spec.id)
        if spec.variant == 2 and spec.channel == "google_rsa":
            raise RuntimeError("endpoint down")
        return await offline(spec)

    first = asyncio.run(run_items(specs, flaky, tmp_path, concurrency=3))
    assert len(first.failed) == 4 and len(first.done) == 12 and first.pending == 0
    assert first.summary() == "12 done / 4 failed / 0 pending" and not first.complete

    calls.clear()
    second = asyncio.run(run_items(specs, offline_generator_counting(ctx, calls), tmp_path))
    assert sorted(calls) == sorted(s.id for s in specs if s.variant == 2 and s.channel == "google_rsa")
    assert second.complete and sorted(second.generated) == sorted(calls)

    calls.clear()
    third = asyncio.run(run_items(specs, offline_generator_counting(ctx, calls), tmp_path))
    assert calls == [] and third.complete and third.generated == []


def offline_generator_counting(ctx: Context, calls: list[str]):
    gen = offline_generator(ctx)

    async def counted(spec: ItemSpec) -> Asset:
        calls.append(spec.id)
        return await gen(spec)
    return counted


def test_concurrency_is_bounded_and_items_are_saved_as_they_finish(tmp_path):
    ctx = make_context()
    specs = _specs(ctx)
    gen = offline_generator(ctx)
    running = 0
    peak = 0
    saved_while_running: list[int] = []

    async def slow(spec: ItemSpec) -> Asset:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        saved_while_running.append(len(list(tmp_path.glob("*.json"))))
        await asyncio.sleep(0.01)
        running -= 1
        return await gen(spec)

    result = asyncio.run(run_items(specs, slow, tmp_path, concurrency=4))
    assert result.complete
    assert peak == 4
    assert max(saved_while_running) > 0  # earlier items were on disk while later ones ran


def test_cancelled_run_keeps_finished_items_and_reports_pending(tmp_path):
    ctx = make_context()
    specs = _specs(ctx)
    gen = offline_generator(ctx)

    async def slow(spec: ItemSpec) -> Asset:
        await asyncio.sleep(0.05 if spec.persona_id == "controller" else 10)
        return await gen(spec)

    async def main():
        task = asyncio.create_task(run_items(specs, slow, tmp_path, concurrency=16))
        await asyncio.sleep(0.5)
        task.cancel()  # what asyncio.run does on Ctrl-C
        return await task

    result = asyncio.run(main())
    assert result.interrupted
    assert len(result.done) == 8 and result.pending == 8
    assert len(list(tmp_path.glob("*.json"))) == 8


def test_campaign_id_changes_with_inputs_only():
    ctx = make_context()
    args = (["controller"], ["cold_email"], ["awareness"], 3, "offline")
    assert campaign_id(ctx, *args) == campaign_id(make_context(), *args)
    assert campaign_id(ctx, ["controller"], ["cold_email"], ["awareness"], 2, "offline") != campaign_id(ctx, *args)
    ctx.brief = ctx.brief.model_copy(update={"product": "Other"})
    assert campaign_id(ctx, *args) != campaign_id(make_context(), *args)


def test_assemble_adds_journeys_and_content_ideas(tmp_path):
    ctx = make_context()
    specs = plan_items(["controller"], ["cold_email", "journey", "content_ideas"], ["awareness"], 1)
    asyncio.run(run_items(specs, offline_generator(ctx), tmp_path))
    c = assemble("cX", specs, tmp_path, ctx, ["controller"], ["cold_email", "journey", "content_ideas"],
                 ["awareness"], 1)
    assert len(c.assets) == 1
    steps = c.journeys[0].steps
    assert [s.stage for s in steps] == ["awareness", "consideration", "decision"]
    assert steps[0].addresses and steps[0].addresses[0].field in ("pains", "triggers")
    decision = steps[2].addresses[0]
    assert decision.field == "objections" and insight(decision.text).clause in steps[2].question
    assert c.content_ideas and c.content_ideas[0].icp_id == "icp-1"
    # the message map of every selected persona is saved with the campaign
    assert [m.persona_id for m in c.message_maps] == ["controller"]
    assert {e.id for e in c.message_maps[0].entries} >= set(c.assets[0].map_entries)


# --------------------------------------------------------------------------- run_campaign


def test_run_campaign_offline_saves_a_version_and_rerun_generates_nothing(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    selection = dict(channels=["cold_email", "journey"], stages=["awareness"], variants=2)
    notices: list[str] = []
    starts: list[tuple[int, int]] = []
    items: list[tuple[str, bool]] = []

    def callbacks() -> dict:
        return dict(on_notice=notices.append, on_start=lambda total, done: starts.append((total, done)),
                    on_item=lambda spec, ok: items.append((spec.id, ok)))

    first = run_campaign(ws, **selection, **callbacks())
    assert first.engine == "offline" and first.notice and notices == [first.notice]  # no model configured
    assert first.result.complete and not first.result.interrupted and first.result.failed == {}
    assert len(first.result.generated) == 4 and starts == [(4, 0)] and sorted(items) == sorted(
        (i, True) for i in first.result.generated)
    assert first.items_dir == items_dir(ws, first.campaign_id)
    assert len(list(first.items_dir.glob("*.json"))) == 4
    assert first.version is not None and first.version.number == 1 and first.lint_errors == 0
    saved = ws.load_version("campaign", Campaign)
    assert saved.id == first.campaign_id and len(saved.assets) == 4 and len(saved.journeys) == 2
    assert first.version.path.with_suffix(".md").is_file()

    notices.clear(), starts.clear(), items.clear()
    second = run_campaign(ws.root, **selection, offline=True, **callbacks())  # a path works too
    assert second.notice is None and notices == []  # asked for offline: nothing to say
    assert second.campaign_id == first.campaign_id and second.result.complete
    assert second.result.generated == [] and items == [] and starts == [(4, 4)]
    # The same campaign again: no second, byte-identical version.
    assert second.version is not None and second.version.number == 1 and second.version.unchanged
    assert [v.number for v in ws.versions("campaign")] == [1]


def test_run_campaign_interrupted_keeps_items_and_rerun_generates_only_the_rest(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    selection = dict(channels=["cold_email"], stages=["awareness", "decision"], variants=2, concurrency=1,
                     offline=True)
    seen: list[str] = []

    def ctrl_c_after_three(spec: ItemSpec, ok: bool) -> None:
        seen.append(spec.id)
        if len(seen) == 3:
            raise KeyboardInterrupt

    first = run_campaign(ws, **selection, on_item=ctrl_c_after_three)
    assert first.result.interrupted and not first.result.complete
    assert sorted(first.result.done) == sorted(seen) and first.result.pending == 8 - 3
    assert first.version is None and ws.load_version("campaign", Campaign) is None
    assert len(list(first.items_dir.glob("*.json"))) == 3

    generated: list[str] = []
    second = run_campaign(ws, **selection, on_item=lambda spec, ok: generated.append(spec.id))
    assert second.campaign_id == first.campaign_id and second.result.complete
    assert sorted(second.result.generated) == sorted(generated) and len(generated) == 5
    assert not set(generated) & set(seen)
    assert second.version is not None and second.version.number == 1


@pytest.mark.parametrize("kwargs, needle", [
    (dict(channels=["fax"]), "--channel: unknown channel 'fax'"),
    (dict(stages=["retention"]), "--stage: unknown stage 'retention'"),
    (dict(persona_ids=["nobody"]), "--persona: no persona 'nobody'"),
    (dict(variants=0), "--variants: must be at least 1, got 0"),
    (dict(concurrency=0), "--concurrency: must be at least 1, got 0"),
])
def test_run_campaign_bad_argument_raises_usage_error_and_writes_nothing(tmp_path, kwargs, needle):
    ws = make_workspace(tmp_path / "ws")
    before = sorted(ws.root.rglob("*"))
    called: list[str] = []
    with pytest.raises(UsageError) as exc:
        run_campaign(ws, **kwargs, on_notice=called.append, on_start=lambda *a: called.append("start"),
                     on_item=lambda *a: called.append("item"))
    assert needle in exc.value.message
    assert sorted(ws.root.rglob("*")) == before and called == []


def test_run_campaign_without_personas_is_a_usage_error(tmp_path):
    (tmp_path / "ws").mkdir()
    with pytest.raises(UsageError, match="draft personas"):
        run_campaign(tmp_path / "ws")
    assert list((tmp_path / "ws").iterdir()) == []


# --------------------------------------------------------------------------- CLI


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout)


def test_cli_campaign_offline_json_and_rerun_generates_nothing(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    r = run_cli("campaign", "-w", str(ws.root), "--channel", "cold_email", "--channel", "journey",
                "--stage", "awareness", "--variants", "2", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["summary"] == "4 done / 0 failed / 0 pending"
    assert out["generated"] == 4 and out["version"] == 1
    saved = ws.load_version("campaign", __import__("persona_assistant.schemas", fromlist=["Campaign"]).Campaign)
    assert len(saved.assets) == 4 and len(saved.journeys) == 2
    r2 = run_cli("campaign", "-w", str(ws.root), "--channel", "cold_email", "--channel", "journey",
                 "--stage", "awareness", "--variants", "2", "--json")
    assert r2.returncode == 0 and json.loads(r2.stdout)["generated"] == 0


def test_cli_campaign_bad_options_are_one_line_usage_errors(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    for args, needle in ((["--channel", "fax"], "--channel: unknown channel 'fax'"),
                         (["--stage", "retention"], "--stage: unknown stage 'retention'"),
                         (["--persona", "nobody"], "--persona: no persona 'nobody'"),
                         (["--variants", "0"], "--variants")):
        r = run_cli("campaign", "-w", str(ws.root), *args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.startswith("error: ") and needle in r.stderr and "Traceback" not in r.stderr
        assert r.stderr.count("\n") == 1


def test_cli_campaign_without_personas_says_what_to_run(tmp_path):
    (tmp_path / "ws").mkdir()
    r = run_cli("campaign", "-w", str(tmp_path / "ws"))
    assert r.returncode == 2 and "draft personas" in r.stderr


SLOW_RUNNER = textwrap.dedent("""
    import asyncio, sys, time
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from persona_assistant.messaging import campaign as c
    from persona_assistant.workspace import Workspace
    from test_campaign import make_context

    ctx = make_context()
    specs = c.plan_items(list(ctx.personas), ["cold_email", "linkedin_post"], ["awareness", "decision"], 2)
    gen = c.offline_generator(ctx)
    log = open({log!r}, "a")

    async def slow(spec):
        await asyncio.sleep(0.15)
        log.write(spec.id + "\\n"); log.flush()
        return await gen(spec)

    res = asyncio.run(c.run_items(specs, slow, Workspace(Path({root!r})).state_dir / "items", concurrency=2))
    print(res.summary())
    sys.exit(0 if res.complete else 3)
""")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_killed_run_resumes_with_only_the_missing_items(tmp_path, sig):
    log = tmp_path / "calls.log"
    script = tmp_path / "runner.py"
    script.write_text(SLOW_RUNNER.format(tests=str(Path(__file__).parent), log=str(log), root=str(tmp_path)))
    out_dir = tmp_path / ".persona-assistant" / "items"
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(list(out_dir.glob("*.json"))) < 8:
        time.sleep(0.02)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=30)
    first = set(p.name for p in out_dir.glob("*.json"))
    assert 8 <= len(first) < 16, (len(first), stderr)
    if sig == signal.SIGINT:  # a clean interrupt says what is left
        assert proc.returncode == 3 and "done / 0 failed /" in stdout and "pending" in stdout, (stdout, stderr)
    first_calls = log.read_text().split()
    log.write_text("")
    rerun = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.strip() == "16 done / 0 failed / 0 pending"
    second_calls = log.read_text().split()
    assert len(list(out_dir.glob("*.json"))) == 16
    # nothing saved in the first run was asked for again, and every item was saved exactly once
    saved_first = {c for c in first_calls if (c.replace("/", "--") + ".json") in first}
    assert not saved_first & set(second_calls)
    assert len(second_calls) == 16 - len(first)
    assert len(set(second_calls)) == len(second_calls)


@pytest.mark.parametrize("text, limit, expected", [
    # a strong break (colon) wins over a later comma
    ("Close the books in days, not weeks: every reconciliation, task and sign-off in one checklist.", 70,
     "Close the books in days, not weeks"),
    # a clause before a conjunction, weak words at the end dropped, no ellipsis: it reads as finished
    ("Reconciliations are rebuilt manually every month and reviewers cannot see what changed.", 60,
     "Reconciliations are rebuilt manually every month"),
    # a list of names is not split at its comma; no clause fits, so a word cut with an ellipsis
    ("Customers go live on NetSuite, Sage Intacct or Microsoft Dynamics in 6 weeks on average.", 60,
     "Customers go live on NetSuite, Sage Intacct or Microsoft…"),
    # numbers and times are not clause breaks
    ("We paid $1,200 for 10:30 sessions and nothing else changed at all in the end.", 30,
     "We paid $1,200 for 10:30…"),
    # a clause shorter than 40% of the room is not worth it
    ("Yes: spreadsheet errors in the deferred revenue schedule caused two audit adjustments.", 60,
     "Yes: spreadsheet errors in the deferred revenue schedule…"),
    ("Short enough.", 60, "Short enough."),
])
def test_fit_chars_prefers_a_whole_clause(text, limit, expected):
    from persona_assistant.messaging.offline_copy import fit_chars

    got = fit_chars(text, limit)
    assert got == expected and len(got) <= limit


def test_fit_words_prefers_a_whole_clause():
    from persona_assistant.messaging.offline_copy import fit_words

    text = "Close the books in days, not weeks: every reconciliation, task and sign-off in one checklist."
    assert fit_words(text, 10) == "Close the books in days, not weeks"
    assert fit_words("one two three four five six seven eight", 5) == "one two three four five…"
    assert fit_words("one two three", 5) == "one two three"
