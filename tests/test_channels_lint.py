"""Lint: each channel constraint, placeholders, banned/machine phrases, CTAs, unsupported claims,
and custom channels from the workspace config."""

from __future__ import annotations

import pytest

from persona_assistant.errors import InputError, UsageError
from persona_assistant.messaging.channels import BUILTIN, lint_config, load_channels, select_channels
from persona_assistant.messaging.claims import known_text, unsupported_claims
from persona_assistant.messaging.lint import count_ctas, hook_end, lint_asset
from persona_assistant.schemas import Asset, Brief, ProofPoint

from test_campaign import make_brief, make_personas

BRIEF = make_brief()
PERSONAS = make_personas()
KNOWN = known_text(BRIEF, PERSONAS)
CFG = lint_config({})
WORDS = "We rebuild reconciliation spreadsheets by hand every month and chase support documents and "  # 13 words, one sentence


def body(words: int, cta: str = "Book a 15-minute walkthrough.") -> str:
    filler = (WORDS * 20).split()
    return "Hi {{first_name}}, " + " ".join(filler[:words - 6]) + ". " + cta


def lint(channel: str, fields: dict, *, brief: Brief = BRIEF, config=CFG, persona=None, channels=None) -> list:
    ch = (channels or BUILTIN)[channel]
    a = Asset(id=f"p/{channel}/awareness/1", persona_id="controller", channel=channel, stage="awareness",
              variant=1, angle="pain", fields=fields)
    return lint_asset(a, ch, brief=brief, config=config, known=known_text(brief, PERSONAS),
                      persona=persona or PERSONAS[0]).lint


# Rules about the copy as a whole (tests/test_copy_quality.py); these tests are about channel limits.
WHOLE_COPY_RULES = {"missing_product", "no_persona_item"}


def rules(findings) -> set[str]:
    return {f.rule for f in findings if f.severity == "error"} - WHOLE_COPY_RULES


def good_email(**over) -> dict:
    return {"subject": "Reconciliations without the spreadsheet rebuild", "body": body(80), **over}


@pytest.mark.parametrize("channel", ["cold_email", "follow_up_email"])
def test_valid_email_has_no_errors(channel):
    assert rules(lint(channel, good_email())) == set()


@pytest.mark.parametrize("channel", ["cold_email", "follow_up_email"])
def test_email_subject_over_60_chars(channel):
    found = lint(channel, good_email(subject="x" * 30 + " " + "y" * 30))
    assert "subject_max_chars" in rules(found)
    assert any("61 characters" in f.message for f in found)
    assert rules(lint(channel, good_email(subject="s" * 60))) == set()


def test_email_body_word_range():
    assert "body_min_words" in rules(lint("cold_email", good_email(body=body(49))))
    assert "body_max_words" in rules(lint("cold_email", good_email(body=body(151))))
    assert rules(lint("cold_email", good_email(body=body(50)))) == set()
    assert rules(lint("cold_email", good_email(body=body(150)))) == set()


def test_email_needs_exactly_one_call_to_action():
    none = body(80, cta="Thanks.")
    two = body(80, cta="Book a 15-minute walkthrough or get the close checklist.")
    link_too = body(80, cta="Book a 15-minute walkthrough at https://example.com/demo.")
    for text in (none, two, link_too):
        assert "cta_count" in rules(lint("cold_email", good_email(body=text))), text
    # without brief CTAs, one link or one ask is the call to action
    bare = BRIEF.model_copy(update={"calls_to_action": []})
    assert count_ctas("Read more. Reply and we will book a time.", bare) == 1
    assert count_ctas("See https://a.example and https://b.example", bare) == 2


@pytest.mark.parametrize("placeholder", ["[Name]", "<PERSON_1>", "{{unknown}}", "{company}", "TODO", "XXX",
                                         "Lorem ipsum", "[insert stat]"])
def test_leftover_placeholders(placeholder):
    found = lint("cold_email", good_email(body=body(80).replace("We rebuild", f"We {placeholder} rebuild", 1)))
    assert "leftover_placeholder" in rules(found), placeholder


def test_allowed_merge_fields_and_custom_merge_list():
    text = body(80).replace("Hi {{first_name}}", "Hi {{first_name}} at {{ company }}")
    assert rules(lint("cold_email", good_email(body=text))) == set()
    strict = lint_config({"lint": {"merge_fields": ["first_name"]}})
    assert "leftover_placeholder" in rules(lint("cold_email", good_email(body=text), config=strict))


def test_banned_phrase_from_brief():
    found = lint("cold_email", good_email(subject="A revolutionary close"))
    assert "banned_phrase" in rules(found)
    # whole words only
    assert "banned_phrase" not in rules(lint("cold_email", good_email(subject="Synergyless close")))


def test_machine_phrases_default_and_overridable():
    text = body(80).replace("We rebuild", "Let us delve into how we rebuild", 1)
    assert "ai_phrase" in rules(lint("cold_email", good_email(body=text)))
    assert "ai_phrase" in rules(lint("cold_email", good_email(subject="I hope this email finds you well")))
    assert "ai_phrase" in rules(lint("cold_email", good_email(subject="I hope this email finds you well")))
    custom = lint_config({"lint": {"ai_phrases": ["circle back"]}})
    assert "ai_phrase" not in rules(lint("cold_email", good_email(body=text), config=custom))
    assert "ai_phrase" in rules(lint("cold_email", good_email(subject="Let me circle back"), config=custom))
    extra = lint_config({"lint": {"extra_ai_phrases": ["circle back"]}})
    assert "ai_phrase" in rules(lint("cold_email", good_email(body=text), config=extra))


def test_linkedin_post_hook_and_total():
    long_first = "a" * 139 + "b, still the first sentence and line.\nMore."
    assert "post_hook_max_chars" in rules(lint("linkedin_post", {"post": long_first}))
    assert rules(lint("linkedin_post", {"post": "Short hook.\n" + "word " * 500})) == set()
    assert "post_max_chars" in rules(lint("linkedin_post", {"post": "Hook.\n" + "w" * 3000}))
    assert hook_end("  First sentence. Second") == len("  First sentence.")


def test_linkedin_sponsored_limits():
    assert "intro_max_chars" in rules(lint("linkedin_sponsored", {"intro": "i" * 151, "headline": "ok"}))
    assert "headline_max_chars" in rules(lint("linkedin_sponsored", {"intro": "ok", "headline": "h" * 71}))
    assert rules(lint("linkedin_sponsored", {"intro": "i" * 150, "headline": "h" * 70})) == set()


def test_google_rsa_counts_and_lengths():
    ok = {"headlines": ["Close faster", "Fewer manual recs", "Ledgerly"], "descriptions": ["d one", "d two"]}
    assert rules(lint("google_rsa", ok)) == set()
    assert "headlines_min_count" in rules(lint("google_rsa", {**ok, "headlines": ok["headlines"][:2]}))
    assert "headlines_max_count" in rules(lint("google_rsa", {**ok, "headlines": [f"h{i}" for i in range(16)]}))
    assert "headlines_max_chars" in rules(lint("google_rsa", {**ok, "headlines": ok["headlines"] + ["h" * 31]}))
    assert "descriptions_min_count" in rules(lint("google_rsa", {**ok, "descriptions": ["one"]}))
    assert "descriptions_max_count" in rules(lint("google_rsa", {**ok, "descriptions": ["d"] * 5}))
    found = lint("google_rsa", {**ok, "descriptions": ["d", "x" * 91]})
    assert any(f.rule == "descriptions_max_chars" and f.field == "descriptions[1]" for f in found)
    assert "field_type" in rules(lint("google_rsa", {**ok, "headlines": "one string"}))


def test_landing_hero():
    ok = {"headline": "Close the books in days", "subheadline": "sub", "cta": "Book a 15-minute walkthrough"}
    assert rules(lint("landing_hero", ok)) == set()
    assert "headline_max_words" in rules(lint("landing_hero", {**ok, "headline": "w " * 11}))
    assert "missing_field" in rules(lint("landing_hero", {"headline": "h", "cta": ok["cta"]}))
    assert "cta_count" in rules(lint("landing_hero", {**ok, "cta": "Learn more"}))


def test_call_opener_needs_three_questions():
    assert "questions_min_count" in rules(lint("call_opener", {"opener": "Hi", "questions": ["a?", "b?"]}))
    assert rules(lint("call_opener", {"opener": "Hi", "questions": ["a?", "b?", "c?"]})) == set()


def test_objection_handling_one_response_per_objection():
    persona = PERSONAS[0]
    assert len(persona.objections) == 2
    assert "responses_per_objection" in rules(lint("objection_handling", {"responses": ["only one"]}))
    assert rules(lint("objection_handling", {"responses": ["one", "two"]})) == set()


def test_unexpected_field_is_a_warning():
    found = lint("linkedin_sponsored", {"intro": "ok", "headline": "ok", "cta": "x"})
    assert any(f.rule == "unexpected_field" and f.severity == "warning" for f in found)


def test_unsupported_claims_numbers_and_names():
    known = KNOWN
    # backed: figures from the brief's proof points, names from brief and personas
    assert unsupported_claims("Tallow Foods closed in 4 days instead of 9 with Ledgerly.", known) == []
    # not backed: a new figure, a percentage, money, a customer name
    found = unsupported_claims("Acme Corp cut close time by 73% and saved $250,000 in 2 weeks.", known)
    assert "Acme Corp" in found and "73%" in found and "$250,000" in found and "2" in found
    # a single capitalised word starting a sentence is not taken for a name; one inside is
    assert unsupported_claims("Reconciliations are slow. Ask Globex about it.", known) == ["Globex"]
    assert unsupported_claims("Hi {{first_name}}, the CFO and ERP teams agree.", known) == []


def test_unsupported_claim_becomes_lint_finding_and_field():
    a = Asset(id="p/cold_email/awareness/1", persona_id="controller", channel="cold_email", stage="awareness",
              variant=1, angle="proof", fields=good_email(subject="How Initech closed in 3 days"))
    out = lint_asset(a, BUILTIN["cold_email"], brief=BRIEF, config=CFG, known=KNOWN, persona=PERSONAS[0])
    assert out.unsupported_claims == ["Initech"] or set(out.unsupported_claims) == {"Initech"}
    assert any(f.rule == "unsupported_claim" and f.field == "subject" for f in out.lint)


# --------------------------------------------------------------------------- channels config


def test_custom_channel_limits_are_checked():
    channels = load_channels({"channels": {"sms": {"cta": "text", "fields": {
        "text": {"max_chars": 160, "min_words": 5},
        "options": {"list": True, "min_count": 2, "max_count": 3, "max_chars": 20}}}}})
    ok = {"text": "Month-end close in days. Book a 15-minute walkthrough.", "options": ["Monday", "Friday"]}
    assert rules(lint("sms", ok, channels=channels)) == set()
    assert "text_max_chars" in rules(lint("sms", {**ok, "text": ok["text"] + " x" * 60}, channels=channels))
    assert "text_min_words" in rules(lint("sms", {**ok, "text": "Book a 15-minute walkthrough"}, channels=channels))
    assert "options_max_count" in rules(lint("sms", {**ok, "options": ["a"] * 4}, channels=channels))
    assert "options_max_chars" in rules(lint("sms", {**ok, "options": ["a", "b" * 21]}, channels=channels))
    assert "cta_count" in rules(lint("sms", {**ok, "text": "Month-end close in days, five words."},
                                     channels=channels))


@pytest.mark.parametrize("table, needle", [
    ({"sms": {"fields": {}}}, "channels.sms: needs at least one"),
    ({"sms": {"fields": {"text": {"max_chars": "160"}}}}, "channels.sms.fields.text.max_chars"),
    ({"sms": {"fields": {"text": {"maxchars": 160}}}}, "unknown key 'maxchars'"),
    ({"sms": {"fields": {"text": {"min_words": 9, "max_words": 3}}}}, "min_words (9) is above max_words (3)"),
    ({"sms": {"cta": "body", "fields": {"text": {}}}}, "channels.sms.cta"),
    ({"journey": {"fields": {"t": {}}}}, "reserved"),
])
def test_bad_custom_channel_config_names_the_key(table, needle):
    with pytest.raises(InputError) as exc:
        load_channels({"channels": table}, "ws/persona-assistant.toml")
    assert needle in exc.value.message and exc.value.message.startswith("ws/persona-assistant.toml")
    assert "\n" not in exc.value.message


def test_select_channels():
    channels = load_channels({})
    assert select_channels(None, channels)[-2:] == ["content_ideas", "journey"]
    assert select_channels(["cold_email", "cold_email", "journey"], channels) == ["cold_email", "journey"]
    with pytest.raises(UsageError, match="--channel: unknown channel 'fax'"):
        select_channels(["fax"], channels)


def test_proof_point_brief_with_source_is_known():
    brief = Brief(product="X", proof_points=[ProofPoint(claim="Saved 12 hours a week", source="Umbrella study")])
    assert unsupported_claims("Umbrella saved 12 hours.", known_text(brief)) == []
