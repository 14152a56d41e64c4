"""Score's policies from the cold user review: confidence on insufficient data, channels as gates."""

from __future__ import annotations

from types import SimpleNamespace

import duckdb
import pytest

from persona_assistant.dimensions import is_channel
from persona_assistant.services.scoring import _gates, confidence_cap


def _crm(won: int, lost: int):
    con = duckdb.connect()
    con.execute("CREATE TABLE deals (outcome VARCHAR)")
    con.execute("INSERT INTO deals SELECT CASE WHEN i < ? THEN 'won' ELSE 'lost' END FROM range(?) t(i)",
                [won, won + lost])
    return SimpleNamespace(con=con)


def test_insufficient_history_caps_confidence_even_when_the_backtest_shows_a_signal():
    cap, why = confidence_cap(_crm(5, 29), True, "signal")
    assert cap == "low"
    assert len(why) == 1 and why[0].startswith("warning: data insufficient (5 won and 29 lost")
    assert "treat every figure as anecdote" in why[0]


def test_enough_history_and_a_signal_leave_confidence_alone_and_no_signal_caps_it():
    assert confidence_cap(_crm(60, 140), True, "signal") == (None, [])
    cap, why = confidence_cap(_crm(60, 140), False, "no predictive signal")
    assert cap == "low" and why[0].startswith("warning: backtest no predictive signal")


@pytest.mark.parametrize("column,channel", [("lead_source", True), ("Campaign Name", True), ("Channel", True),
                                            ("utm_medium", True), ("Source", True), ("industry", False),
                                            ("employee_band", False), ("Resource Type", False)])
def test_channel_dimensions(column, channel):
    assert is_channel(column) is channel


def test_a_channel_disqualifier_is_not_a_company_fit_gate():
    def dq(dimension, value):
        return SimpleNamespace(dimension=dimension, value=value, reason=f"{dimension}={value} win rate 0%",
                               criterion="", evidence=[])
    icp = SimpleNamespace(disqualifiers=[dq("lead_source", "Paid Search"), dq("industry", "Retail")])
    notices: list[str] = []
    gates = _gates(None, None, icp, notices)
    assert [g.conditions for g in gates] == [{"industry": "Retail"}]
    assert notices == ["note: lead_source=Paid Search is a channel, not a company trait: not used as a disqualifier"]
