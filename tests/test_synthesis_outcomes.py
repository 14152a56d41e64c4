"""Themes against CRM outcomes: Fisher's exact test with Bonferroni, and honesty about small samples."""

from __future__ import annotations

import math
import shutil

import pytest

from persona_assistant.ingest.notes import load_sources
from persona_assistant.synthesis.outcomes import (
    MIN_LINKED, fisher_two_sided, normalise_account, themes_against_outcomes,
)
from persona_assistant.synthesis.pipeline import synthesize


def test_fisher_exact_matches_known_tables():
    assert fisher_two_sided(3, 1, 1, 3) == pytest.approx(0.4857142857)  # the lady tasting tea
    assert fisher_two_sided(10, 0, 0, 10) == pytest.approx(2 / math.comb(20, 10))
    assert fisher_two_sided(2, 2, 2, 2) == pytest.approx(1.0)
    assert fisher_two_sided(1, 3, 3, 1) == fisher_two_sided(3, 1, 1, 3)


def test_account_names_match_across_case_punctuation_and_suffixes():
    assert normalise_account("Acme, Inc.") == normalise_account("ACME") == "acme"
    assert normalise_account("Northwind Analytics GmbH") == "northwind analytics"


def write_notes(tmp_path, n_theme: int, n_other: int):
    for i in range(n_theme + n_other):
        line = ("Every month we rebuild the reconciliation spreadsheets by hand." if i < n_theme
                else f"Our board meets in city number {i} and wants a forecast by region {i}.")
        (tmp_path / f"n{i:02d}.md").write_text(
            f"---\nrole: Controller\ncompany: Co {chr(65 + i)} Ltd\n---\nQ: What frustrates you most?\nA: {line}\n",
            encoding="utf-8")
    return synthesize(load_sources(sorted(tmp_path.iterdir()), root=tmp_path))


def test_a_theme_said_only_by_won_accounts_is_called_so(tmp_path):
    syn = write_notes(tmp_path, 5, 5)
    outcomes = {normalise_account(f"Co {chr(65 + i)}"): "won" if i < 5 else "lost" for i in range(10)}
    report = themes_against_outcomes(syn.themes_for(syn.people), syn.people, outcomes)
    top = report.results[0]
    assert (top.won_with, top.lost_with, top.won, top.lost) == (5, 0, 5, 5)
    assert top.p == pytest.approx(2 / math.comb(10, 5))
    assert top.verdict == "more common with won accounts"
    assert "Fisher" in report.note and "Bonferroni" in report.note
    # the same theme with mixed outcomes is not called
    mixed = {k: ("won" if i % 2 else "lost") for i, k in enumerate(sorted(outcomes))}
    report = themes_against_outcomes(syn.themes_for(syn.people), syn.people, mixed)
    assert all(r.verdict == "no difference shown" for r in report.results)


def test_too_few_linked_interviews_gives_no_figure(tmp_path):
    syn = write_notes(tmp_path, 2, 1)
    outcomes = {normalise_account("Co A"): "won", normalise_account("Co B"): "lost", normalise_account("Co C"): "open"}
    report = themes_against_outcomes(syn.themes_for(syn.people), syn.people, outcomes)
    assert report.results == [] and report.note.startswith("too few linked interviews")
    assert f"at least {MIN_LINKED}" in report.note and "2 interviewee(s)" in report.note


def test_draft_personas_reports_outcomes_from_the_workspace_crm(tmp_path, fixtures_dir):
    from persona_assistant.services.drafting import draft_personas
    from persona_assistant.llm.settings import LLMSettings
    from persona_assistant.workspace import Workspace

    shutil.copytree(fixtures_dir / "sample-workspace", tmp_path / "ws")
    pset, _, notes = draft_personas(Workspace(tmp_path / "ws"), LLMSettings(offline=True))
    linked = [n for n in notes if "too few linked interviews" in n]
    assert len(linked) == len(pset.personas)  # the sample links 7 interviews to closed accounts: too few
    assert "4 interviewee(s) on closed CRM accounts: 2 won, 2 lost" in " ".join(linked)
