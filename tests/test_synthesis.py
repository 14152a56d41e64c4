"""Interview synthesis: speakers, roles from prose, statements in context, themes, personas.

The evaluation-set test holds the figures bench/bench_synthesis.py prints at their targets.
"""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
import yaml

from persona_assistant.draft.evidence import verify_claims
from persona_assistant.draft.offline_personas import offline_personas
from persona_assistant.ingest.notes import load_sources
from persona_assistant.synthesis.embed import Embedder, default_embedder
from persona_assistant.synthesis.pipeline import synthesize
from persona_assistant.synthesis.evaluate import evaluate


def load_dir(d: Path) -> list:
    return load_sources(sorted(d.iterdir()), root=d)


def write(tmp_path: Path, name: str, text: str) -> list:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return load_sources([tmp_path / name], root=tmp_path)


@pytest.fixture(scope="module")
def eval_run():
    root = Path(__file__).resolve().parents[1] / "fixtures" / "synthesis-eval"
    sources = load_dir(root / "notes")
    labels = yaml.safe_load((root / "labels.yaml").read_text(encoding="utf-8"))
    return root, sources, labels, offline_personas(sources, icp_id=None)


def test_eval_set_meets_its_targets(eval_run):
    root, sources, labels, ps = eval_run
    r = evaluate(ps, labels, root / "notes")
    assert r.recall >= 0.85, r.missed
    assert r.precision >= 0.90, [(c.path, c.field, c.text) for c in r.wrong]
    assert r.purity == 1.0, r.persona_families
    assert r.host_share == 0.0
    assert r.off_topic <= 0.05
    # Themes join only statements labelled as saying the same thing (pairwise precision);
    # at least one theme is shared by two interviewees.
    assert r.theme_precision >= 0.9 and r.joined_pairs >= 1 and r.shared_themes >= 1
    # One persona per role family, except revenue operations (two heads, eight managers) and
    # marketing (seven leaders, two managers), each split into leaders and practitioners
    # (grouping.MIN_SPLIT): 6 for 4 families.
    assert r.personas == 6 and r.families == 4
    assert all(sum(f.values()) >= 2 for f in r.persona_families.values())  # no one-interview persona
    assert not any("unknown" in p.id for p in ps.personas)
    _, failures = verify_claims(ps, {s.id: s for s in sources})
    assert failures == []


def test_same_notes_give_the_same_personas(eval_run):
    root, sources, labels, ps = eval_run
    again = offline_personas(load_dir(root / "notes"), icp_id=None)
    assert again.model_dump() == ps.model_dump()


def test_panel_guests_are_people_in_different_personas(eval_run):
    root, sources, labels, ps = eval_run
    panel = [p for p in ps.personas if "28-panel-pipeline" in p.sources]
    assert len(panel) == 3  # marketing, revenue operations, finance
    notes = " ".join(ps.notes)
    assert "28-panel-pipeline: host Dana Whitfield" in notes
    assert "interviewees: Marco Bellini, Keisha Brown, Anya Petrova" in notes


def test_host_found_by_evidence_and_never_quoted(tmp_path):
    sources = write(tmp_path, "t.md", (
        "Welcome everyone, thanks for joining! The session is recorded, pop questions in the chat.\n\n"
        "**Rita Gomez:** Today our guest is Sam. Sam, what slows your team down?\n\n"
        "**Sam Ode:** Our deploys wait two days for a manual approval from another team.\n\n"
        "**Rita Gomez:** What would you like instead?\n\n"
        "**Sam Ode:** I want every team to ship on its own schedule without waiting for approvals.\n\n"
        "**Rita Gomez:** Before we wrap, submit a talk for the summit, we would love to see you there!\n\n"
        "**Sam Ode:** Thanks, bye!\n"))
    syn = synthesize(sources)
    [c] = syn.casts
    assert c.hosts == ["Rita Gomez"] and "asked questions" in c.host_reason
    assert [p.name for p in c.people] == ["Sam Ode"]
    fields = {s.text: s.field for s in syn.statements}
    assert fields == {"Our deploys wait two days for a manual approval from another team.": "pains",
                      "I want every team to ship on its own schedule without waiting for approvals.": "goals"}


def test_third_person_note_labels_and_role_from_prose(tmp_path):
    sources = write(tmp_path, "n.md", (
        "# Call notes\n\n"
        "Ines Duarte leads marketing at a 200-person logistics software company.\n\n"
        'Ines: "We cannot tell which campaigns bring in customers who renew."\n'
        'Goal: "Budget decisions based on revenue per campaign."\n'
        'Ines: "Weekly reports are assembled by hand from four dashboards."\n\n'
        "She was late because of a train strike; we chatted about football.\n"))
    syn = synthesize(sources)
    [p] = syn.people
    assert (p.name, p.role, p.role_line) == ("Ines Duarte", "Head of marketing", 3)
    assert p.facts["company_size"][0] == "200" and p.facts["industry"][0] == "logistics software"
    got = {s.text: (s.field, s.how) for s in syn.statements}
    assert got["Budget decisions based on revenue per campaign."] == ("goals", "label")
    assert not any("train strike" in t or "Ines Duarte leads" in t for t in got)
    assert [g.function for g in syn.groups] == ["marketing"]


def test_question_decides_the_field_and_small_talk_is_dropped(tmp_path):
    sources = write(tmp_path, "q.txt", (
        "Q: How was your weekend?\nA: Lovely, we went sailing and ate far too much.\n"
        "Q: What are you measured on?\nA: Net revenue retention and onboarding time.\n"
        "Q: What frustrates you most?\nA: Every renewal starts with a week of chasing usage numbers.\n"))
    syn = synthesize(sources)
    assert [(s.text, s.field) for s in syn.statements] == [
        ("Net revenue retention and onboarding time.", "success_metrics"),
        ("Every renewal starts with a week of chasing usage numbers.", "pains")]


def test_unknown_role_joins_the_nearest_family_not_a_catch_all(tmp_path):
    for name, role, line in (
            ("a", "CFO", "Our month-end close takes twelve days because reconciliations are manual."),
            ("b", "VP Finance", "Reconciliations are manual and the month-end close takes too long."),
            ("c", "Platform engineer", "Kubernetes upgrades break our deploy pipelines every quarter."),
            ("d", None, "The month-end close drags on because every reconciliation is manual.")):
        front = f"---\nrole: {role}\n---\n" if role else ""
        (tmp_path / f"{name}.md").write_text(f"{front}Q: What hurts?\nA: {line}\n", encoding="utf-8")
    syn = synthesize(load_dir(tmp_path))
    by_fn = {g.function: sorted(p.key for p in g.people) for g in syn.groups}
    assert by_fn == {"finance": ["a", "b", "d"], "engineering": ["c"]}
    reason = next(g.reason for g in syn.groups if g.function == "finance")
    assert "role not stated; closest by what they said" in reason


def test_near_restatements_form_one_theme_counted_by_interviewee(tmp_path):
    for name, line in (("a", "It has to work with HubSpot out of the box."),
                       ("b", "It has to work with HubSpot out of the box, we have no engineers."),
                       ("c", "It must run inside our own data centre for compliance reasons.")):
        (tmp_path / f"{name}.md").write_text(f"---\nrole: RevOps manager\n---\nQ: What would it have to do?\nA: {line}\n",
                                             encoding="utf-8")
    ps = offline_personas(load_dir(tmp_path), icp_id=None)
    [p] = ps.personas
    [shared, alone] = p.decision_criteria
    assert shared.confidence == "medium" and sorted(e.source_id for e in shared.evidence) == ["a", "b"]
    assert shared.text in {e.text for e in shared.evidence}  # the representative is a member, verbatim
    assert alone.confidence == "low" and [e.source_id for e in alone.evidence] == ["c"]
    assert any("decision_criteria theme said by 2 of 3 interviewees" in n for n in ps.notes)


def test_embedder_loads_from_the_installed_package_without_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    emb = Embedder()
    v = emb.embed(["The close takes twelve days.", "Closing the books takes twelve days.",
                   "Kubernetes upgrades break deploys.", ""])
    assert v.shape == (4, 256) and np.allclose(np.linalg.norm(v[:3], axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]
    assert np.isfinite(v).all()  # empty text too
    assert default_embedder() is default_embedder()


def test_cue_scores_skip_by_literal_without_changing_any_score(eval_run):
    """The literal prefilter is exact: the same scores as searching every cue."""
    from persona_assistant.draft.cues import CUES, compiled, cue_scores, required_literal

    assert required_literal(r"\bcan'?t\b") == "can" and required_literal(r"\bwast(?:e|ed)\b") == "wast"
    assert required_literal(r"[^.]{0,40}\bconcern") == "concern" and required_literal(r"\b(?:I|we) spend") == " spend"
    root, sources, labels, ps = eval_run
    texts = [s.text for src in sources for s in src.sentences(respondents_only=False)]
    texts += ["Weeks late again.", "I’d like it, we can’t wait", "alleviate some of those concerns", "97% of KPIs",
              "We cannot wait, I can’t see it and can’t  say", "burned and burnt out, the breaker broke"]
    for text in texts:
        brute = {f: float(sum(w for rx, w in pats if rx.search(text))) for f, pats in compiled().items()}
        assert cue_scores(text, list(CUES)) == {f: s for f, s in brute.items() if s > 0}, text


def test_themes_are_complete_linkage_across_blocks(monkeypatch):
    """Block-wise theme building gives what the rule says, row by row, at any block size."""
    from persona_assistant.synthesis import themes

    rng = np.random.default_rng(3)
    centres = rng.normal(size=(6, 16))
    vec = np.concatenate([c + rng.normal(scale=s, size=(9, 16)) for c in centres for s in (0.3,)])
    vec = (vec / np.linalg.norm(vec, axis=1, keepdims=True))[rng.permutation(len(vec))].astype(np.float32)

    def reference(threshold):
        groups = []
        for p in range(len(vec)):
            scored = [(float(np.mean(vec[g] @ vec[p])), -k) for k, g in enumerate(groups)
                      if min(vec[g] @ vec[p]) >= threshold]
            if scored:
                groups[-max(scored)[1]].append(p)
            else:
                groups.append([p])
        return groups

    for threshold in (0.5, 0.8):
        want = reference(threshold)
        assert 6 <= len(want) < len(vec)
        for block in (5, 512):
            monkeypatch.setattr(themes, "BLOCK", block)
            assert themes._complete_linkage(vec, threshold) == want


def test_contact_details_are_found_and_plain_sentences_are_not():
    from persona_assistant.synthesis.topics import is_contact

    for text in ("Mail me at jo.smith@example.org", "Call +44 20 7946 0958 any time", "You can reach me at the booth",
                 "Just call my assistant"):
        assert is_contact(text), text
    for text in ("We close the books on day twelve.", "Leads sit unassigned over the weekend", "Q3 is busy"):
        assert not is_contact(text), text


def test_only_a_question_that_asks_for_a_field_files_an_answer_by_itself():
    from persona_assistant.synthesis.statements import question_kind

    assert question_kind("What frustrates you most?") == ("pains", True)
    # remarks before the question do not decide; "metrics" alone is telemetry, not a KPI
    assert question_kind("Maybe the signals for metrics and logs aren't mature yet? Is that the reason?") == (None, True)
    assert question_kind("Are you using the span metrics connector?")[0] is None
    assert question_kind("Which metrics do you report to the board?")[0] == "success_metrics"
    assert question_kind("Stephen, do you want to introduce yourself?")[0] == "role"
    assert question_kind("And finally, Joel?")[0] is None
    assert question_kind("What made the company finally invest in it?")[0] == "triggers"
    assert question_kind("That sounds painful.") == ("pains", False)


def test_themes_said_by_as_many_people_rank_by_how_surely_they_state_the_field(tmp_path):
    sources = write(tmp_path, "q.txt", (
        "Q: What are you trying to achieve?\nA: We rewrote the billing service last year.\n"
        "Q: And what is your goal for next year?\nA: I want a forecast that is within five percent of actuals.\n"))
    syn = synthesize(sources)
    goals = [th for th in syn.themes_for(syn.people) if th.field == "goals"]
    assert [th.representative.text for th in goals][0] == "I want a forecast that is within five percent of actuals."
    assert goals[0].members[0].weight > goals[-1].members[0].weight


@pytest.mark.parametrize("name, text, kept", [
    # A remark files only answers whose content agrees; empty answers are dropped.
    ("r.md", "**Host:** Welcome! That sounds painful.\n\n**Guest:** We run one collector per pod and it "
             "scales nicely. Our alerts are broken and slow every night.\n\n**Host:** What frustrates you most?"
             "\n\n**Guest:** No, not at the moment.\n",
     ("Our alerts are broken and slow every night.", "pains")),
    # Audience logistics and holiday plans are never statements.
    ("t.md", "**Host:** Where do you learn about new tools?\n\n"
             "**Guest:** For those who joined us later, pop your questions into the live chat on YouTube or LinkedIn. "
             "I learn most from the CNCF Slack and KubeCon talks.\n\n"
             "**Host:** Any fun Christmas plans?\n\n"
             "**Guest:** We will be traveling to see family, which should be hectic but lovely.\n",
     ("I learn most from the CNCF Slack and KubeCon talks.", "channels")),
    # An answer about the old way is a pain; "how was your weekend before we start?" is small talk.
    ("o.txt", "Q: What was invoicing like before?\n"
              "A: Each site kept its own ledger and posted totals on Friday.\n"
              "Q: How was your weekend before we start?\n"
              "A: Quiet, mostly gardening in the sun.\n",
     ("Each site kept its own ledger and posted totals on Friday.", "pains")),
])
def test_only_the_on_topic_answer_is_kept_with_its_field(tmp_path, name, text, kept):
    syn = synthesize(write(tmp_path, name, text))
    assert [(s.text, s.field) for s in syn.statements] == [kept]


def test_survey_prompts_are_questions_that_decide_the_field(tmp_path):
    sources = write(tmp_path, "s.md", (
        "Written survey answers from Ada Quist, Head of Customer Support at Dunmore Rail (200 staff).\n\n"
        "The thing that annoyed you most before: Tickets were copied between two inboxes every morning.\n\n"
        "What pushed you to act: We missed a contract SLA three months running.\n\n"
        "What a tool has to get right: Routing by language without anyone tagging tickets.\n\n"
        "Worries: I did not want agents to learn a third screen.\n\n"
        "How you will know it worked: First reply inside an hour on every queue.\n\n"
        "Where you find new tools: A support leaders forum and the odd podcast.\n"))
    syn = synthesize(sources)
    assert [(p.name, p.role) for p in syn.people] == [("Ada Quist", "Head of Customer Support")]
    got = {s.text: (s.field, s.how) for s in syn.statements}
    assert got == {
        "Tickets were copied between two inboxes every morning.": ("pains", "label"),
        "We missed a contract SLA three months running.": ("triggers", "label"),
        "Routing by language without anyone tagging tickets.": ("decision_criteria", "label"),
        "First reply inside an hour on every queue.": ("success_metrics", "label"),
        "I did not want agents to learn a third screen.": ("objections", "label"),
        "A support leaders forum and the odd podcast.": ("channels", "label"),
    }


def test_a_general_manager_runs_a_site_not_the_company():
    from persona_assistant.roles import parse_title

    assert parse_title("General Manager")[0] == "director"
    assert parse_title("Practice Manager") == ("manager", "operations")


def test_call_notes_title_line_gives_the_role_and_a_lost_deal_reason_is_an_objection(tmp_path):
    sources = write(tmp_path, "c.md", (
        "Call notes - Orchard Vets - clinic operations manager (Lou Park) - 2 Apr 2024\n"
        "Lost deal.\n\n"
        "Lou: We book about two hundred appointments a day across three clinics.\n"
        "Q: Why did you pick the other vendor?\n"
        "Lou: Their reminders were already bundled with our lab contract.\n"
        "Q: What would have changed your mind?\n"
        "Lou: Two-way texting with owners would have got you a second look.\n"
        "Lou: I also wanted vets to see tomorrow's list on their phones.\n"))
    syn = synthesize(sources)
    assert [(p.name, p.role, p.role_line) for p in syn.people] == [("Lou Park", "clinic operations manager", 1)]
    got = {s.text: s.field for s in syn.statements}
    assert got == {
        "We book about two hundred appointments a day across three clinics.": "day_in_life",
        "Their reminders were already bundled with our lab contract.": "objections",
        "Two-way texting with owners would have got you a second look.": "decision_criteria",
        "I also wanted vets to see tomorrow's list on their phones.": "goals",
    }
