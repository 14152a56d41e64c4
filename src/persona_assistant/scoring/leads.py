"""Scoring a leads table: every row of a file, each distinct combination of values scored once.

Rows come back typed (`ScoredRow`); rows with the same combination share one result (`fit`, an
index into `ScoredLeads.fits` in the order rows first use them), so a file of 100,000 leads carries
a few thousand explanations, not 100,000.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from persona_assistant.schemas import Confidence
from persona_assistant.scoring.gates import Gate
from persona_assistant.scoring.model import Model, score_combo

CONTACT_COLUMNS = ("row_number", "account", "contact_name", "title", "email", "phone")


@dataclass(slots=True)
class ScoredRow:
    row_number: int | None
    account: str | None
    contact_name: str | None
    title: str | None
    email: str | None
    phone: str | None
    values: dict[str, str | None]  # the row's value per dimension (model dimensions, then gate-only ones)
    fit: int  # index into ScoredLeads.fits
    result: dict  # fits[fit]: score, tier, win probability, confidence, factors, gates hit (shared)
    persona: Any  # scoring.persona_match.PersonaMatch, or None when personas were not matched

    def contact(self) -> dict:
        return {c: getattr(self, c) for c in CONTACT_COLUMNS}


@dataclass
class ScoredLeads:
    dimensions: list[str]  # model dimensions, then dimensions only gates look at
    rows: list[ScoredRow]
    fits: list[dict]  # each distinct combination's result once, in the order rows first use them
    notes: list[str]

    @property
    def combinations(self) -> int:
        return len(self.fits)


def score_leads(con: Any, model: Model, *, table: str = "leads", gates: Sequence[Gate] = (),
                personas: Sequence[Any] | None = None,
                icp_signals: dict[tuple[str, str], str] | None = None,
                max_confidence: Confidence | None = None) -> ScoredLeads:
    """Score every row of a leads table set-based: each distinct combination of values once."""
    from persona_assistant.scoring.persona_match import match_persona

    columns = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    notes = []
    usable = []
    for g in gates:
        missing = [d for d in g.conditions if d not in columns]
        if missing:
            notes.append(f"gate {g.id} not applied: the file has no {', '.join(missing)} column")
        else:
            usable.append(g)
    extra = sorted({d for g in usable for d in g.conditions} - set(model.dimensions))
    dims = list(model.dimensions) + extra

    def col(name: str) -> str:
        return f'CAST("{name}" AS VARCHAR)' if name in columns else "NULL"

    select = ", ".join(col(d) for d in dims) or "NULL"
    results: dict[tuple, dict] = {}
    n_model = len(model.dimensions)
    for combo in con.execute(f"SELECT DISTINCT {select} FROM {table}").fetchall():
        combo = tuple(combo) if dims else ()
        results[combo] = score_combo(model, combo[:n_model], gates=usable,
                                     extra_values=dict(zip(extra, combo[n_model:])), icp_signals=icp_signals,
                                     max_confidence=max_confidence)
    contact = ", ".join('"row_number"' if c == "row_number" and c in columns else col(c)
                        for c in CONTACT_COLUMNS)
    order = "ORDER BY row_number" if "row_number" in columns else ""
    personas = list(personas or [])
    matches: dict[str | None, Any] = {}
    fits: list[dict] = []
    fit_of: dict[tuple, int] = {}
    rows = []
    n_contact = len(CONTACT_COLUMNS)
    for r in con.execute(f"SELECT {contact}, {select} FROM {table} {order}").fetchall():
        combo = tuple(r[n_contact:]) if dims else ()
        fit = fit_of.get(combo)
        if fit is None:
            fit = fit_of[combo] = len(fits)
            fits.append(results[combo])
        title = r[3]
        persona = None
        if personas:
            if title not in matches:
                matches[title] = match_persona(title, personas)
            persona = matches[title]
        rows.append(ScoredRow(*r[:n_contact], dict(zip(dims, combo)), fit, fits[fit], persona))
    return ScoredLeads(dims, rows, fits, notes)
