"""Workspace prompt overrides render within a budget: a runaway template ends in one line naming it."""

from __future__ import annotations

import pytest
import respx

from persona_assistant import prompts
from persona_assistant.prompts import RENDER_CHARS, RENDER_STEPS, TemplateBudgetError, render
from persona_assistant.workspace import Workspace


def override(tmp_path, system: str, name: str = "persona_grouping") -> Workspace:
    ws = Workspace(tmp_path)
    ws.prompts_dir.mkdir(exist_ok=True)
    (ws.prompts_dir / f"{name}.j2").write_text(
        "{# version: 1 #}\n{% block system %}" + system + "{% endblock %}{% block user %}u{% endblock %}")
    return ws


VARS = dict(sources=[{"source_id": "a"}, {"source_id": "b"}], max_personas=4)


@pytest.mark.parametrize("system", [
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",  # no output at all
    "{% for a in range(100000) %}{% for b in range(100000) %}{{ b }}{% endfor %}{% endfor %}",
    "{% for a in sources * 1000 %}{% for b in sources * 1000 %}{% for c in sources * 100 %}"
    "{% endfor %}{% endfor %}{% endfor %}",  # loops over data, not range
])
def test_nested_loops_stop_at_the_step_budget(tmp_path, system):
    ws = override(tmp_path, system)
    with pytest.raises(TemplateBudgetError) as err:
        render("persona_grouping", ws, **VARS)
    message = err.value.message
    assert message.startswith(f"{ws.prompts_dir / 'persona_grouping.j2'}: rendering stopped: ")
    assert (f"more than {RENDER_STEPS:,} loop iterations and calls" in message
            or f"more than {RENDER_CHARS:,} characters of output" in message) and "\n" not in message


@pytest.mark.parametrize("system", [
    "{{ 'x' * 1000000000 }}",
    "{{ 'x'.ljust(100000000) }}",
    "{{ 'x' | center(100000000) }}",
    "{{ range(100000) | join('y' * 100000) }}",
    "{% set ns = namespace(s='xx') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "{% macro grow(s, n) %}{% if n %}{{ grow(s ~ s, n - 1) }}{% endif %}{% endmacro %}{{ grow('ab', 60) }}",
    "{% for i in range(2000) %}" + "z" * 5000 + "{% endfor %}",
])
def test_oversized_values_and_output_are_refused(tmp_path, system):
    ws = override(tmp_path, system)
    with pytest.raises(TemplateBudgetError, match=f"rendering stopped: .*more than {RENDER_CHARS:,} characters"):
        render("persona_grouping", ws, **VARS)


def test_a_huge_power_and_endless_recursion_are_one_line(tmp_path):
    with pytest.raises(TemplateBudgetError, match="a power of more than"):
        render("persona_grouping", override(tmp_path, "{{ 7 ** 100000000 }}"), **VARS)
    with pytest.raises(TemplateBudgetError, match="RecursionError"):
        render("persona_grouping", override(tmp_path, "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"), **VARS)


def test_work_without_loops_stops_at_the_clock(tmp_path, monkeypatch):
    monkeypatch.setattr(prompts, "RENDER_SECONDS", 0.2)
    ws = override(tmp_path, "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
                            "{{ f(40) }}")
    with pytest.raises(TemplateBudgetError, match=r"rendering stopped: (it ran over 0.2 s|more than)"):
        render("persona_grouping", ws, **VARS)


def test_ordinary_loops_still_work(tmp_path):
    ws = override(tmp_path, "{% for s in sources %}{{ s.source_id }}{% if not loop.last %},{% endif %}{% endfor %}"
                            "|{% for s in [] %}x{% else %}none{% endfor %}|{{ sources | length }}"
                            "|{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}"
                            "{% endfor %}{{ ns.n }}|{{ 2 ** 10 }}|{{ '-' * 3 }}")
    assert render("persona_grouping", ws, **VARS).system == "a,b|none|2|3|1024|---"


def test_a_runaway_override_stops_a_campaign_after_one_item(tmp_path):
    from persona_assistant.services.campaign import run_campaign
    from test_campaign import make_workspace

    ws = make_workspace(tmp_path / "ws", config='[llm]\nbase_url = "http://llm.test/v1"\n')
    override(ws.root, "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
             name="asset")
    with respx.mock(assert_all_mocked=True):  # no route: any request would fail the test
        outcome = run_campaign(ws, channels=["cold_email"], variants=3, concurrency=2)
    result = outcome.result
    assert result.stopped and "asset.j2: rendering stopped" in result.stopped
    assert result.failed == {} and result.pending == result.total == 18 and outcome.version is None
