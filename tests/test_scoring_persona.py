import pytest

from persona_assistant.schemas import Persona
from persona_assistant.scoring.persona_match import NO_PERSONA, match_persona, parse_title


@pytest.mark.parametrize("title,seniority,function", [
    ("Chief Financial Officer", "c_level", "finance"),
    ("CFO", "c_level", "finance"),
    ("VP Finance", "vp", "finance"),
    ("Head of Platform Engineering", "vp", "engineering"),
    ("Director of IT", "director", "it"),
    ("SRE Lead", "manager", "engineering"),
    ("Accounts Payable Manager", "manager", "finance"),
    ("Senior Software Engineer", "individual_contributor", "engineering"),
    ("Staff Accountant", "individual_contributor", "finance"),
    ("Procurement Specialist", "individual_contributor", "procurement"),
    ("CISO", "c_level", "security"),
    ("Marketing Manager", "manager", "marketing"),
    ("Office Manager", "manager", "unknown"),
    ("", "unknown", "unknown"),
    (None, "unknown", "unknown"),
])
def test_parse_title(title, seniority, function):
    assert parse_title(title) == (seniority, function)


PERSONAS = [
    Persona(id="finance-leader", name="Fiona Finance", archetype="owns the close", role="Finance leader",
            title_patterns=["VP Finance", "Head of Finance", "CFO"], seniority="vp", function="Finance"),
    Persona(id="platform-lead", name="Pat Platform", archetype="keeps it running", role="Platform lead",
            title_patterns=["Head of Platform*"], seniority="manager", function="engineering"),
    Persona(id="ap-clerk", name="Alex AP", archetype="does the work", role="AP specialist",
            seniority="individual_contributor", function="accounting"),
]


def test_title_pattern_match_is_high_confidence_and_named():
    m = match_persona("VP Finance, EMEA", PERSONAS)
    assert (m.persona_id, m.confidence) == ("finance-leader", "high")
    assert "VP Finance" in m.reason


def test_wildcard_pattern_and_whole_words():
    assert match_persona("Head of Platform Engineering", PERSONAS).persona_id == "platform-lead"
    # "CFO" must not match inside another word
    assert match_persona("CFOX Coordinator", PERSONAS).persona_id is None


def test_function_and_seniority_match_is_medium_function_only_is_low():
    m = match_persona("Senior Accountant", PERSONAS)  # accounting persona function -> finance
    assert (m.persona_id, m.confidence) == ("ap-clerk", "medium")
    assert "function finance" in m.reason and "seniority individual_contributor" in m.reason
    low = match_persona("Finance Director", PERSONAS)  # no pattern; finance function, director seniority
    assert low.confidence == "low" and low.persona_id in {"finance-leader", "ap-clerk"}
    assert "function finance matched" in low.reason


def test_no_persona_fits_bucket():
    for title in ("Marketing Manager", "Office Manager"):
        m = match_persona(title, PERSONAS)
        assert m.persona_id is None and m.confidence == "unknown"
        assert m.to_dict()["persona"] == NO_PERSONA
    assert match_persona("", PERSONAS).reason == "no title"
    assert match_persona("VP Finance", []).persona_id is None
