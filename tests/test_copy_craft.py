"""Offline copy a demanding marketer would accept: the pain answered by meaning, the subject or
headline carried by the copy under it, no headline that raises a doubt, an objection nothing in the
brief answers met with an ask (and a note) instead of an answer to something else, and the phrasing
and measures those checks rest on (quality.carried / raises_doubt / opening)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from persona_assistant.messaging.channels import BUILTIN
from persona_assistant.messaging.message_map import build_message_map, cta_weight, lexical_similarity, similarity
from persona_assistant.messaging.offline_copy import ChannelWriter, offline_asset
from persona_assistant.messaging.writer import PROOF_BACKS
from persona_assistant.messaging.phrasing import head, insight
from persona_assistant.messaging.quality import carried, fragment_problem, headline_fields, opening, prose, raises_doubt
from persona_assistant.schemas import Asset, Brief, Claim, ProofPoint
from test_campaign import make_context, make_personas

ROTA = Brief(
    product="Rosterly", category="shift scheduling for multi-site restaurants",
    value_propositions=[
        "Build next week's rota in minutes: demand forecasts, availability and labour rules in one schedule.",
        "See labour cost against sales for every site, every day, before overtime happens.",
        "Staff swap and pick up shifts from their phones, and managers approve in one tap.",
    ],
    proof_points=[ProofPoint(claim="New sites go live in 10 days on average.", source="onboarding data")],
    calls_to_action=["Book a 20-minute rota review", "Start a 14-day trial"])


def every_offline_asset(ctx=None):
    ctx = ctx or make_context()
    for persona in ctx.personas.values():
        for channel in BUILTIN.values():
            for stage in ("awareness", "consideration", "decision"):
                for variant in (1, 2, 3):
                    yield offline_asset(persona, channel, stage, variant, brief=ctx.brief, config=ctx.config,
                                        known=ctx.known)


def test_a_goal_is_answered_by_the_proposition_that_means_it_not_by_shared_words():
    goal = "We need to plan staffing from the occupancy forecast, not from last year's rota."
    forecast, swaps = ROTA.value_propositions[0], ROTA.value_propositions[2]
    assert similarity(goal, forecast) > similarity(goal, swaps)
    persona = make_personas()[0].model_copy(update={"goals": [Claim(text=goal)], "pains": [], "objections": [],
                                                     "triggers": [], "decision_criteria": []})
    (entry,) = build_message_map(persona, ROTA).entries
    assert entry.value_proposition == forecast


def test_similarity_is_zero_for_empty_text_and_keeps_the_lexical_part():
    assert similarity("", "Build next week's rota") == 0.0
    a, b = "We rebuild the rota by hand", "Build the rota automatically"
    assert similarity(a, b) >= lexical_similarity(a, b) / 2 > 0


def test_subjects_and_headlines_are_carried_by_the_copy_under_them():
    ctx = make_context()
    for a in every_offline_asset(ctx):
        ctas = {c.lower() for c in ctx.brief.calls_to_action}
        for h in headline_fields(a):
            asks = h.split(": ", 1)[-1].lower() in ctas  # an ad may head with its stage's ask
            assert asks or carried(h, prose(a)), (a.id, h, prose(a))


def test_no_subject_or_headline_puts_an_objection_to_the_reader():
    for a in every_offline_asset():
        for name, value in a.fields.items():
            for h in [value] if isinstance(value, str) else value if name == "headlines" else []:
                assert not raises_doubt(h), (a.id, h)


def test_an_objection_nothing_in_the_brief_answers_gets_the_ask_and_a_note_not_another_answer():
    ctx = make_context()
    persona = ctx.personas["controller"].model_copy(update={"objections": [
        Claim(text="I'm worried the colours will clash with our brand guidelines."),
        Claim(text="Our security review could take months.")]})
    a = offline_asset(persona, BUILTIN["objection_handling"], "decision", 1, brief=ctx.brief, config=ctx.config,
                      known=ctx.known)
    first, second = a.fields["responses"]
    assert "on your own case:" in first and any(c.lower() in first.lower() for c in ctx.brief.calls_to_action)
    assert not any(v.lower()[:20] in first.lower() for v in ctx.brief.value_propositions)
    assert not any(p.claim.lower()[:20] in first.lower() for p in ctx.brief.proof_points)
    assert "objections[0]" in a.note and "objections[1]" not in a.note
    assert "3 weeks" in second  # the one the brief does answer, with its proof


def test_a_proof_angle_email_shows_a_proof_point_with_its_source_only_where_it_backs_the_answer():
    """A proof point goes in only where it backs what the email says (a marketer reads a survey figure
    about manager hours under a compliance promise as a non-sequitur): then with its source."""
    ctx = make_context()
    shown = 0
    for persona in ctx.personas.values():
        for stage in ("awareness", "consideration", "decision"):
            a = offline_asset(persona, BUILTIN["cold_email"], stage, 2, brief=ctx.brief, config=ctx.config,
                              known=ctx.known)
            assert a.angle == "proof"
            for claim in a.proof_points:
                source = next(p.source for p in ctx.brief.proof_points if p.claim == claim)
                assert source.partition(", ")[2] in a.fields["body"] and source.partition(", ")[0] in a.fields["body"]
                assert any(similarity(claim, ref.text) >= PROOF_BACKS or similarity(claim, v) >= PROOF_BACKS
                           for ref in a.addresses for v in ctx.brief.value_propositions
                           if v.split(":")[0][:25].lower() in a.fields["body"].lower()), (a.id, claim)
                shown += 1
    assert shown  # the brief's proof points do back some of these answers


# --------------------------------------------------------------------------- phrasing


@pytest.mark.parametrize("item, question", [
    ("Last-minute call-outs are the real headache.", "How does your team handle last-minute call-outs today?"),
    ("I'd love for the team to swap shifts themselves and for me to just approve it.",
     "What if the team could swap shifts themselves?"),
    ("We want one record of every shift change so I stop chasing managers.",
     "What would it take to get one record of every shift change?"),
    ("Our goal is labour cost per occupied room reported every day.",
     "How close are you to labour cost per occupied room reported every day?"),
    ("The rollout also has to be quick, because we cannot pause hiring.", "How quick does the rollout have to be?"),
    ("References from other operators matter most.", "How much do references from other operators matter to you?"),
    ("I would track overtime hours per site every week.", "Would you track overtime hours per site every week?"),
])
def test_discovery_questions_read_as_a_person_would_ask_them(item, question):
    assert insight(item).question() == question


@pytest.mark.parametrize("item, clause", [
    ("We want every schedule to follow the break and rest rules automatically.",
     "you want every schedule to follow the break and rest rules automatically"),
    ("We are opening six new stores this year, and that's when the spreadsheets broke.",
     "you are opening new stores this year"),
    ("Every Sunday I rebuild the rota by hand, and it takes me four hours.", "you rebuild the rota by hand"),
    ("After the labour audit last year, we had to rebuild twelve months of break records by hand.",
     "you had to rebuild twelve months of break records by hand"),
    ("The ERP migration next spring made us look at close tools.", "the ERP migration made you look at close tools"),
    ("Every Sunday I rebuild the rota.", "you rebuild the rota every Sunday"),  # the time moves behind, whole
    ("We moved to a new payroll provider in January.", "you moved to a new payroll provider"),
])
def test_an_insight_keeps_whole_noun_phrases_and_drops_the_interviewees_counts(item, clause):
    assert insight(item).clause == clause


def test_a_possessive_after_a_time_phrase_is_not_the_subject_and_a_past_event_is_not_asked_as_a_habit():
    said = insight("After the audit finding last year on our cash reconciliations, the audit committee asked "
                   "me for a remediation plan.")
    assert said is None or not said.clause.startswith("your cash reconciliations")
    got = insight("We got a finding on reconciliation review evidence.")
    assert got.question() == "What changed when you got a finding on reconciliation review evidence?"


def test_a_head_never_cuts_inside_a_list_after_a_preposition():
    vp = "Stay compliant with predictive-scheduling and break rules in every state, with an audit log."
    assert head(vp, 45) != "Stay compliant with predictive-scheduling"
    assert fragment_problem("Ember Grill House cut overtime by 31%", headline=True) is None


# --------------------------------------------------------------------------- measures


def a(fields: dict) -> Asset:
    return Asset(id="p/cold_email/awareness/1", persona_id="p", channel="cold_email", stage="awareness",
                 variant=1, angle="pain", fields=fields)


def test_carried_doubt_and_opening_measures():
    body = "Hi {{first_name}},\n\nIf you rebuild the rota by hand, Rosterly helps you build next week's rota in minutes."
    assert carried("HR Directors: Build next week's rota in minutes", body)
    assert not carried("Ember Grill House cut overtime by 31%", body)
    assert raises_doubt("Are you worried about the price?") and raises_doubt("How much of a worry is the payroll link?")
    assert not raises_doubt("What would it take to stop paying overtime?")
    assert opening(a({"subject": "x", "body": body})) == "if you rebuild the rota by hand, rosterly helps you build next week's rota in minutes."
    call = "Hi {{first_name}}, this is {{sender_name}} from Rosterly. Rosterly helps you see labour cost."
    assert opening(a({"opener": call})) == "rosterly helps you see labour cost."


# ---------------------------------------------------------------- round 2: pairing, statistics, structure

LABELS = Path(__file__).parent / "data" / "pairing_labels.json"
SECOND = Path(__file__).resolve().parents[1] / "fixtures" / "second-workspace" / "brief.yaml"


def test_pairing_matches_a_readers_labels_and_prefers_a_gap_to_a_wrong_answer():
    """The message map pairs most labelled items as a reader did; an item nothing answers gets no value
    proposition (an honest gap) rather than another one. The first round, which always answered, got
    20 of 47 of the second workspace's labels right, with 27 wrong answers."""
    import yaml
    from persona_assistant.schemas import Persona

    brief = Brief(**yaml.safe_load(SECOND.read_text(encoding="utf-8")))
    labels = json.loads(LABELS.read_text(encoding="utf-8"))["labels"]["second"]
    fields: dict[str, list[Claim]] = {}
    for text, lab in labels.items():
        fields.setdefault(lab["field"], []).append(Claim(text=text))
    # one persona per field keeps every item in the map (the map keeps the top items of each field)
    right = wrong = 0
    for field, claims in fields.items():
        for k in range(0, len(claims), 4):
            persona = Persona(id=f"p{k}", name="P", archetype="operator", role="Operator", **{field: claims[k:k + 4]})
            for e in build_message_map(persona, brief).entries:
                ok = [brief.value_propositions[i] for i in labels[e.item.text]["answers"]]
                good = e.value_proposition in ok if e.value_proposition else not ok
                right += good
                wrong += bool(not good and e.value_proposition)
    assert right >= 0.7 * len(labels), (right, len(labels))
    assert wrong <= 0.2 * len(labels), wrong


def test_a_statistic_is_said_whole_or_not_at_all():
    claim = "Managers spend 4 hours a week on scheduling instead of 11."
    assert head(claim, 30) is None  # never "Managers spend 4 hours a week"
    assert head(claim, 80) == claim.rstrip(".")
    assert head("Build next week's rota in minutes: demand forecasts in one schedule.", 40) == \
        "Build next week's rota in minutes"


def test_an_objection_insight_cannot_say_is_restated_as_the_readers_worry_not_quoted():
    from persona_assistant.messaging.attribution import QUOTE_RUN_WORDS, longest_shared_run, words
    from persona_assistant.messaging.phrasing import worry

    for text, clause in [
        ("Not sure the budget is there until the next fiscal year.",
         "you're not sure the budget is there until the next fiscal year"),
        ("I'm also worried about vendor lock-in if the reconciliation history cannot be exported.",
         "you're worried about vendor lock-in")]:
        said = worry(text)
        assert said is not None and said.clause == clause
        assert longest_shared_run(words(said.clause), words(text)) < QUOTE_RUN_WORDS
    # never cut inside a list ("... will not handle Canadian | and US rules", which a rep cannot say aloud);
    # a trailing manner phrase goes instead, so it no longer repeats the interviewee word for word
    said = worry("My concern is that the rules engine will not handle Canadian and US rules side by side.")
    assert said.clause == "you're worried the rules engine will not handle Canadian and US rules"


def test_objection_handling_variants_are_written_in_their_own_shape_and_never_say_on_this_concern():
    ctx = make_context()
    persona = ctx.personas["controller"]
    first, again = (offline_asset(persona, BUILTIN["objection_handling"], "decision", v, brief=ctx.brief,
                                  config=ctx.config, known=ctx.known) for v in (1, 2))
    assert first.fields and not any(r.startswith("On this concern") for r in first.fields["responses"])
    assert not again.map_only and first.id not in again.note  # a variant of its own, not a pointer to the first
    assert again.fields["responses"] != first.fields["responses"]


def test_emails_of_a_persona_differ_in_structure_by_angle():
    ctx = make_context()
    persona = ctx.personas["controller"]
    bodies = [offline_asset(persona, BUILTIN["cold_email"], "awareness", v, brief=ctx.brief, config=ctx.config,
                            known=ctx.known).fields["body"] for v in (1, 2, 3)]
    starts = [b.split("\n\n")[1].split()[0] for b in bodies]  # the first word after the greeting
    assert len(set(starts)) >= 2, bodies
    assert sum(b.count("\n\nAnd if") for b in bodies) <= 1  # not every email is "If X ... And if Y"


def test_a_call_opener_asks_questions_of_different_shapes_where_it_can():
    ctx = make_context()
    for persona in ctx.personas.values():
        a = offline_asset(persona, BUILTIN["call_opener"], "awareness", 1, brief=ctx.brief, config=ctx.config,
                          known=ctx.known)
        if a.map_only:
            continue
        shapes = [" ".join(q.split()[:3]) for q in a.fields["questions"]]
        assert len(set(shapes)) >= 2, a.fields["questions"]


def test_calls_to_action_rise_with_the_stage():
    """A cold reader is offered something to read, a warm one a conversation, a deciding one the trial;
    the brief's order (first = strongest) breaks ties."""
    from persona_assistant.messaging.message_map import stage_cta
    brief = Brief(product="Rosterly", value_propositions=["Build the rota in minutes."],
                  calls_to_action=["Get the labour-cost benchmark", "Start a 14-day trial",
                                   "Book a 20-minute rota review"])
    assert [stage_cta(brief, s) for s in ("awareness", "consideration", "decision")] == \
        ["Get the labour-cost benchmark", "Book a 20-minute rota review", "Start a 14-day trial"]
    two_talks = brief.model_copy(update={"calls_to_action": ["Book a demo", "Book a call"]})
    assert [stage_cta(two_talks, s) for s in ("awareness", "consideration", "decision")] == \
        ["Book a call", "Book a demo", "Book a demo"]
    four = brief.model_copy(update={"calls_to_action": ["Book a demo", "Book a call", "Book a review", "Book a chat"]})
    assert stage_cta(four, "decision") == "Book a demo"  # the strongest, first in the brief


def test_no_role_label_on_subjects_and_no_sales_ask_in_organic_posts():
    ctx = make_context()
    for persona in ctx.personas.values():
        w = offline_asset(persona, BUILTIN["cold_email"], "awareness", 1, brief=ctx.brief, config=ctx.config,
                          known=ctx.known)
        for stage in ("awareness", "consideration", "decision"):
            for v in (1, 2, 3):
                for ch in ("cold_email", "landing_hero", "linkedin_sponsored", "linkedin_post"):
                    a = offline_asset(persona, BUILTIN[ch], stage, v, brief=ctx.brief, config=ctx.config,
                                      known=ctx.known)
                    for h in headline_fields(a):
                        assert ": " not in h and not h.lower().startswith(persona.role.lower()), (a.id, h)
                        assert not any(c.lower() in h.lower() for c in ctx.brief.calls_to_action), (a.id, h)
                    if ch == "linkedin_post" and not a.map_only:  # content may be offered, nothing sold
                        sold = [c for c in ctx.brief.calls_to_action if cta_weight(c) > 0]
                        assert not any(c.partition(" ")[2].lower() in a.fields["post"].lower() for c in sold), a.id
        signed = w.fields["body"].split("Best,\n{{sender_name}}")
        assert len(signed) == 2 and (not signed[1].strip() or signed[1].strip().startswith("P.S. "))


def test_an_email_asks_for_the_call_to_action_as_a_question_the_lint_counts_once():
    from persona_assistant.messaging.lint import count_ctas
    from persona_assistant.messaging.voice import cta_sentence

    brief = Brief(product="Rosterly", value_propositions=["Build the rota in minutes."],
                  calls_to_action=["Book a 20-minute rota review", "Get the labour-cost benchmark",
                                   "Start a 14-day trial", "Contact sales"])
    brief = brief.model_copy(update={"calls_to_action": [*brief.calls_to_action, "Book a demo", "Get the guide"]})
    asks = {c: {cta_sentence(c, f) for f in range(3)} for c in brief.calls_to_action}
    assert asks["Book a demo"] == {"Book a demo."}  # "Open to a demo?" would name too little to count
    assert asks["Book a 20-minute rota review"] >= {"Open to a 20-minute rota review?"}
    assert "Want the labour-cost benchmark?" in asks["Get the labour-cost benchmark"]
    assert asks["Contact sales"] == {"Contact sales."}  # no verb it knows: said as it is
    for c, said in asks.items():
        for s in said:
            assert count_ctas(f"Hi there. {s}", brief) == 1, s
    assert count_ctas("Open to a 20-minute rota review? Or start a 14-day trial.", brief) == 2


def test_a_proposition_that_promises_several_things_answers_by_its_best_part():
    from persona_assistant.messaging.message_map import answer_similarity
    vp = "Stay compliant with predictive-scheduling and break rules in every state, with an audit log for each change."
    item = "We want one record of every shift change."
    assert answer_similarity(item, vp) > similarity(item, vp)


def test_a_wish_is_met_and_a_pain_is_changed():
    from persona_assistant.messaging.voice import value_sentence
    vp = "Staff swap and pick up shifts from their phones, and managers approve in one tap."
    wished = {value_sentence(vp, "Rosterly", f, after_clause="wish") for f in range(2)}
    pained = {value_sentence(vp, "Rosterly", f, after_clause="pain") for f in range(2)}
    assert not any("changes that" in s for s in wished) and any("helps:" in s for s in wished)
    assert any("changes that" in s for s in pained)


def test_a_customers_name_is_not_what_a_proof_point_says():
    """'Ember Grill House cut overtime by 31%' backs 'see labour cost ... before overtime happens': the name
    is who said it, not what; it no longer dilutes the match below the proof floor."""
    from persona_assistant.messaging.message_map import concepts
    claim = "Ember Grill House cut overtime by 31% across 28 sites in one quarter."
    assert not {"ember", "grill", "house"} & set(concepts(claim))
    assert similarity("See labour cost against sales for every site, every day, before overtime happens.",
                      claim) >= PROOF_BACKS


def test_a_call_script_says_a_proof_points_source_aloud_not_in_brackets():
    from persona_assistant.messaging.voice import proof_sentence
    p = ProofPoint(claim="New sites go live in 10 days on average.", source="Rosterly onboarding data, 2024-2025")
    assert proof_sentence(p) == "In the Rosterly onboarding data (2024-2025), new sites go live in 10 days on average."
    page = ProofPoint(claim="Two-way sync with Toast, Square and ADP payroll.", source="Rosterly integrations page")
    assert proof_sentence(page) == "Two-way sync with Toast, Square and ADP payroll (Rosterly integrations page)."
    assert proof_sentence(p, spoken=True) == \
        "New sites go live in 10 days on average. That's from the Rosterly onboarding data."
    named = ProofPoint(claim="Teams cut rework by half.", source="Gartner, 2024")
    assert proof_sentence(named, spoken=True).endswith("That's from Gartner.")


@pytest.mark.parametrize("item, clause", [
    # held-out transcripts (public OpenTelemetry interviews) said these; none is a pain a reader has
    ("We decided to take that step.", None),  # "that step": what the interviewee said before
    ("We don't yet have the OpenTelemetry collector deployed there.", None),
    ("However, we simplified our tests.", "you simplified your tests"),  # the discourse marker goes
    ("Currently, we support HTTP, gRPC requests, Kafka, and other integrations like Cypress.",
     "you support HTTP, gRPC requests, Kafka, and other integrations like Cypress"),  # never cut inside the list
])
def test_an_insight_from_a_messy_transcript_drops_markers_and_never_points_at_what_was_said_before(item, clause):
    said = insight(item)
    assert (said.clause if said else None) == clause


def test_one_interviewees_past_is_asked_about_never_made_the_premise_of_copy():
    said = insight("We started by migrating the existing front-end application.")
    assert said.past and not insight("We rebuild the rota by hand every week.").past
    assert not insight("We needed to be able to move a break.").past  # a want, said in the past tense


def test_a_possessive_and_minutes_are_what_they_say():
    from persona_assistant.messaging.message_map import concepts
    assert concepts("Build next week's rota in minutes") == ["build", "@time", "@schedule", "@time"]


def test_prose_meets_an_objection_only_with_evidence_never_with_a_promise():
    ctx = make_context()
    for persona in ctx.personas.values():
        w = ChannelWriter(persona, ctx.brief, ctx.config)
        for stage in ("awareness", "consideration", "decision"):
            for angle in ("pain", "proof", "insight"):
                assert all(ln.proof_answers for ln in w.leads(stage, angle) if ln.entry.item.field == "objections")


def test_an_item_is_clearly_answered_only_if_its_shortened_words_still_meet_the_answer():
    """'We want to stop paying overtime just because the schedule went out late' is fairly answered by a
    faster rota; shortened to 'you want to stop paying overtime' it is not, and prose turns to it last."""
    from persona_assistant.messaging.writer import Line
    from persona_assistant.schemas import ItemRef, MapEntry
    vp = "Build next week's rota in minutes: demand forecasts, availability and labour rules in one schedule."
    text = "We want to stop paying overtime just because the schedule went out late."
    said = insight(text)
    assert said.clause == "you want to stop paying overtime"
    entry = MapEntry(id="goals[0]", item=ItemRef(field="goals", index=0, text=text), interviewees=1,
                     value_proposition=vp, match=0.3)  # the whole item meets the answer well
    assert not Line(entry, said, None).clearly_answered
    whole = insight("We rebuild next week's rota by hand.")
    assert Line(entry.model_copy(update={"item": ItemRef(field="pains", index=0, text="x")}), whole,
                None).clearly_answered


def test_an_item_said_in_the_answers_own_words_is_said_once():
    from persona_assistant.messaging.writer import Line
    from persona_assistant.schemas import ItemRef, MapEntry
    vp = "See labour cost against sales for every site, every day, before overtime happens."
    text = "I want to see labour against sales for each restaurant every morning."
    entry = MapEntry(id="goals[0]", item=ItemRef(field="goals", index=0, text=text), interviewees=1,
                     value_proposition=vp, match=0.4)
    line = Line(entry, insight(text), None)
    assert line.echoes and not line.opener("Rosterly", 0).startswith("If ")
    paired = "We rebuild the same reconciliation spreadsheets by hand every month."  # answered, not echoed
    other = Line(entry.model_copy(update={"value_proposition": "Match bank and ledger lines automatically."}),
                 insight(paired), None)
    assert not other.echoes and other.opener("Ledgerly", 0).startswith("If ")
