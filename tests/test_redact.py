"""PII placeholders: stable, distinct past _9, restored exactly even when the model mangles them."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from persona_assistant.llm.redact import Redactor

FIRST = ["Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Gray", "Harper", "Indra", "Jules", "Kendall",
         "Logan", "Morgan"]
LAST = ["Okafor", "Lindqvist", "Marchetti", "Nakamura", "Oyelaran", "Petrov", "Quintero", "Rasmussen",
        "Sandoval", "Takahashi", "Umarov", "Vasquez", "Wojcik"]
PEOPLE = [f"{f} {l}" for f, l in zip(FIRST, LAST)]
EMAILS = [f"{f.lower()}.{l.lower()}@example{i}.com" for i, (f, l) in enumerate(zip(FIRST, LAST))]
PHONES = [f"+1 415 555 {1000 + i * 7:04d}" for i in range(13)]


def text_with_all() -> str:
    return "\n".join(f"{p} <{e}> phone {ph}." for p, e, ph in zip(PEOPLE, EMAILS, PHONES))


def test_thirteen_of_each_redacted_to_distinct_placeholders_and_back():
    red = Redactor(people=PEOPLE)  # emails and phones found by pattern
    original = text_with_all()
    redacted = red.redact(original)
    for value in PEOPLE + EMAILS + PHONES + LAST:
        assert value not in redacted
    for kind in ("EMAIL", "PHONE"):
        assert f"<{kind}_1>" in redacted and f"<{kind}_10>" in redacted and f"<{kind}_13>" in redacted
    assert "<PERSON_10>" in redacted and "<PERSON_37>" in redacted  # 13 names, each also by its parts
    restored, unknown = red.restore(redacted)
    assert restored == original and unknown == []
    for n in (1, 10, 11, 13):  # _1 and _10 (and _11, _13) stand for different values
        assert red.restore(f"<EMAIL_{n}>")[0] == EMAILS[n - 1]
        assert red.restore(f"<PHONE_{n}>")[0] == PHONES[n - 1]
    # stable: the same value gets the same placeholder in a later text
    assert red.redact(f"Again {PEOPLE[9]}") == "Again " + redacted.split("\n")[9].split(" ")[0]


@pytest.mark.parametrize("mangled", ["person_10", "[PERSON_10]", "<Person_10>", "(person-10)", "{PERSON_10}"])
def test_mangled_placeholders_are_restored(mangled):
    red = Redactor(people=PEOPLE)
    assert red.redact(PEOPLE[3]) == "<PERSON_10>"  # 3 placeholders per name: full, first, last
    restored, unknown = red.restore(f"Ask {mangled} today")
    assert restored == f"Ask {PEOPLE[3]} today" and unknown == []


def test_unknown_placeholder_is_left_and_flagged():
    red = Redactor(people=["Dana Whitfield"])
    red.redact("Dana Whitfield")
    restored, unknown = red.restore("<PERSON_1> met <PERSON_7>")
    assert restored == "Dana Whitfield met <PERSON_7>" and unknown == ["<PERSON_7>"]


def test_name_parts_are_redacted_and_restored_exactly():
    red = Redactor(people=["Dana Whitfield"])
    redacted = red.redact("Whitfield said: ask Dana, not DANA WHITFIELD.")
    assert "Whitfield" not in redacted and "Dana," not in redacted
    assert red.restore(redacted)[0] == "Whitfield said: ask Dana, not DANA WHITFIELD."


def test_dates_amounts_and_numbers_are_not_phones():
    red = Redactor()
    text = "On 2024-03-12 we paid $1,200,000 for 120000000 rows, 3.5% up, version 1.2.3, call 555-0134."
    assert red.redact(text) == text
    assert red.redact("call (415) 555-0134 or 020 7946 0958") == "call <PHONE_1> or <PHONE_2>"


def test_restore_model_walks_nested_strings_and_reports():
    class Inner(BaseModel):
        quotes: list[str]

    class Outer(BaseModel):
        name: str
        inner: Inner
        n: int

    red = Redactor(people=["Dana Whitfield"], emails=["dana@x.example"])
    red.redact("Dana Whitfield dana@x.example")
    value, notes = red.restore_model(Outer(name="<PERSON_1>", inner=Inner(quotes=["mail email_1", "<PHONE_4>"]), n=3))
    assert value == Outer(name="Dana Whitfield", inner=Inner(quotes=["mail dana@x.example", "<PHONE_4>"]), n=3)
    assert notes == ["inner.quotes[1]: placeholder <PHONE_4> stands for no redacted value; left as is"]


def test_redact_messages_leaves_originals_untouched():
    red = Redactor(people=["Dana Whitfield"])
    msgs = [{"role": "user", "content": "Dana Whitfield"}, {"role": "tool", "content": [{"type": "text", "text": "Dana Whitfield"}]}]
    out = red.redact_messages(msgs)
    assert out[0]["content"] == "<PERSON_1>" and out[1]["content"][0]["text"] == "<PERSON_1>"
    assert msgs[0]["content"] == "Dana Whitfield"
