"""`score` and `backtest`: what the history is, which gates and personas apply, and the scored rows.

Decided here, once: the training history (the workspace's CRM exports, planned as `analyze` plans
them), `[scoring] min_support` (validated), the hard gates (the drafted ICP's disqualifiers, else the
analysis' anti-ICP by services.analysis's rule), whether contacts are matched to personas (the file
has titles and personas are drafted), and the confidence cap (`confidence_cap`: no backtest signal, or
too few closed deals for `analyze` to compare anything).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from persona_assistant.errors import InputError, UsageError, missing_file_hint, stray_crm_hint
from persona_assistant.workspace import Workspace

SCORE_COLUMNS = ("score", "tier", "win_probability", "confidence", "persona", "persona_confidence",
                 "persona_reason", "disqualified_by", "factors")


@dataclass
class ScoreRun:
    file: Path
    dimensions: list[str]
    signal: bool  # the backtest shows the score predicts outcomes
    verdict: str
    backtest: Any  # scoring.backtest.Backtest, or None when it could not run
    model_info: dict  # scoring.model.explain
    gates: list  # scoring.gates.Gate
    scored: Any  # scoring.leads.ScoredLeads
    notes: list[str]  # about the data and the model ("note: ...")
    notices: list[str] = field(default_factory=list)  # what the run says, in order

    def summary_lines(self) -> list[str]:
        """Tiers, personas matched and the backtest's verdict: what the CLI and the chat show first."""
        rows = self.scored.rows
        tiers = Counter(r.result["tier"] for r in rows)
        lines = ["tiers: " + ", ".join(f"{t}: {tiers.get(t, 0)}" for t in ("A", "B", "C", "no fit"))]
        if any(r.persona is not None for r in rows):
            personas = Counter((r.persona.persona_name or "no persona fits") for r in rows)
            lines.append("personas: " + ", ".join(f"{k}: {v}" for k, v in personas.most_common()))
        lines.append(f"backtest: {self.verdict}")
        return lines

    def to_json(self) -> dict:
        """Each distinct fit (factors, evidence, gates) once; rows point to theirs by index, which keeps
        --json for 100,000 leads to a size and time that a pipeline can handle."""
        rows = []
        for row in self.scored.rows:
            r, p = row.result, row.persona
            rows.append(row.contact() | {
                "values": row.values, "score": r["score"], "tier": r["tier"], "confidence": r["confidence"],
                "win_probability": r["win_probability"], "fit": row.fit,
                "persona": p.to_dict() if p is not None else None})
        return {"file": str(self.file), "dimensions": self.dimensions, "signal": self.signal,
                "backtest_verdict": self.verdict, "backtest": self.backtest.to_dict() if self.backtest else None,
                "model": self.model_info,
                "gates": [{"gate": g.id, "source": g.source, "reason": g.reason} for g in self.gates],
                "notes": self.notes, "fits": [{"fit": i, **f} for i, f in enumerate(self.scored.fits)],
                "rows": rows}


def load_history(ws: Workspace, source: Any = None) -> Any:
    """The workspace's CRM exports (or the warehouse table `source`, or its [source] table) as the canonical
    deals table (the model's training data), with the dimensions `analyze` judges (every column, leaks out,
    [analysis] settings applied)."""
    from persona_assistant.analysis.segments import load_history as load, workspace_source

    source = source or workspace_source(ws)
    if source is not None:
        return load(ws, source=source)
    if not ws.crm_files():
        from persona_assistant.ingest.csvfile import CRM_SUFFIXES

        raise UsageError(f"no CRM exports in {ws.crm_dir}: scoring learns its weights from won/lost deals there"
                         f"{stray_crm_hint(ws.crm_dir, CRM_SUFFIXES)}")
    return load(ws)


def min_support(ws: Workspace) -> int:
    """[scoring] min_support, else the model's default; a bad value names the settings file."""
    from persona_assistant.scoring.model import MIN_SUPPORT

    value = ws.config().get("scoring", {}).get("min_support", MIN_SUPPORT)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{ws.config_path}: [scoring] min_support must be a positive integer, got {value!r}")
    return value


def _load_leads(ws: Workspace, file: Path | None, crm: Any, leads_source: Any = None) -> tuple[Any, list[str]]:
    """The leads file (or warehouse table, beside the history) with the history's dimension columns it holds,
    read the way the history was (placeholders blank, the same bands and codes); and the dimensions it has
    values for."""
    from persona_assistant.analysis.columns import apply_plan
    from persona_assistant.ingest.crm import LEAD_COLUMNS, load_leads

    plan = crm.plan
    canonical = {c for c, _ in LEAD_COLUMNS}
    extras = [plan.labels.get(d, d) for d in plan.chosen if d not in canonical]
    if leads_source is not None:
        from persona_assistant.warehouse.tables import open_table

        leads = open_table(leads_source, mapping_file=ws.mapping_file(), kind="leads",
                           con=crm.con if hasattr(crm.con, "relations") else None, extras_wanted=extras)
    else:
        leads = load_leads(file, mapping_file=ws.mapping_file(), extra_dimensions=extras)
    apply_plan(leads.con, "leads", plan, every_blank=True)
    have = [r[0] for r in leads.con.execute("DESCRIBE leads").fetchall()]
    dims = [d for d in plan.chosen if d in have]
    if dims:
        counts = leads.con.execute("SELECT " + ", ".join(f'count("{d}")' for d in dims) + " FROM leads").fetchone()
        dims = [d for d, n in zip(dims, counts) if n]
    return leads, dims


def _gates(ws: Workspace, crm: Any, icp: Any, notices: list[str]) -> list:
    """Hard gates: the drafted ICP's disqualifiers, else the analysis' anti-ICP segments (computed fresh
    from the history already loaded, as services.analysis's rule says, with the workspace's settings).
    A gate on a channel (`dimensions.is_channel`: how the deal came, not what the company is) is no
    company-fit disqualifier: it is dropped, with a notice; the analysis still reports the segment."""
    from persona_assistant.dimensions import is_channel
    from persona_assistant.scoring.gates import gates_from_analysis, gates_from_icp

    if icp is not None:
        gates = gates_from_icp(icp)
    else:
        from persona_assistant.analysis.segments import analyze, workspace_min_support

        gates = gates_from_analysis(analyze(crm, min_support=workspace_min_support(ws)))
    kept = [g for g in gates if not any(is_channel(d) for d in g.conditions)]
    notices.extend(f"note: {g.id} is a channel, not a company trait: not used as a disqualifier"
                   for g in gates if g not in kept)
    return kept


def _personas(ws: Workspace, con: Any, notices: list[str]) -> list | None:
    """The latest drafted personas when the file has contact titles; None otherwise (with a notice)."""
    from persona_assistant.schemas import PersonaSet

    columns = {r[0] for r in con.execute("DESCRIBE leads").fetchall()}
    if "title" not in columns or not con.execute("SELECT count(title) FROM leads").fetchone()[0]:
        return None
    persona_set = ws.load_version("personas", PersonaSet)
    if persona_set is None:
        notices.append("no drafted personas in the workspace: contacts are not matched to personas "
                       "(run `persona-assistant draft personas`)")
        return None
    return persona_set.personas


def confidence_cap(crm: Any, signal: bool, verdict: str) -> tuple[str | None, list[str]]:
    """THE confidence rule: no row above low confidence (so none is tier A) when the backtest shows no
    signal or the history is too small for `analyze` to compare anything (its sufficiency verdict is
    insufficient); with the warnings saying why, so the tiers and the words agree."""
    from persona_assistant.analysis.segments import sufficiency

    won, lost = crm.con.execute("SELECT count(*) FILTER (WHERE outcome = 'won'), "
                                "count(*) FILTER (WHERE outcome = 'lost') FROM deals").fetchone()
    data = sufficiency(won, lost)
    why = []
    if data.verdict == "insufficient":
        why.append(f"warning: data insufficient ({data.note}) Confidence is capped at low.")
    if not signal:
        why.append(f"warning: backtest {verdict}. The scores rank by resemblance to past wins, but the history "
                   f"does not show that they predict outcomes.")
    return (None if not why else "low"), why


def score(ws: Workspace, file: Path | None, *, out: Path | None = None, source: Any = None,
          leads_table: str | None = None, out_table: str | None = None) -> ScoreRun:
    """Score every row of `file` (accounts or contacts), or of the warehouse table `leads_table` (beside the
    history of `source` or [source]); with `out`, write every input row and column with the score columns
    appended; with `out_table`, the same as a new table in the warehouse (`warehouse/scores.py`)."""
    from persona_assistant.warehouse.scores import leads_source as leads_source_of
    from persona_assistant.schemas import ICP
    from persona_assistant.scoring.backtest import run_backtest
    from persona_assistant.scoring.leads import score_leads
    from persona_assistant.scoring.model import explain, fit, icp_signal_index

    leads_source = leads_source_of(ws, file, source, leads_table, out_table)
    if leads_source is None and not file.is_file():
        raise UsageError(f"score: {file} is not a file{missing_file_hint(file)}")
    crm = load_history(ws, source)
    leads, dims = _load_leads(ws, file, crm, leads_source)
    file = file or leads_source.where()
    if not dims:
        raise InputError(f"{file}: no column matches a dimension of the CRM history "
                         f"({', '.join(crm.dimensions) or 'none'}); nothing to score on")
    support = min_support(ws)
    model = fit(crm.con, dims, min_support=support)
    try:
        bt = run_backtest(crm.con, dims, min_support=support)
        signal, verdict = bt.signal, bt.verdict
    except InputError as exc:
        bt, signal, verdict = None, False, f"not checked: {exc.message}"
    icp = ws.load_version("icp", ICP)
    notices: list[str] = []
    gates = _gates(ws, crm, icp, notices)
    personas = _personas(ws, leads.con, notices)
    cap, why = confidence_cap(crm, signal, verdict)
    scored = score_leads(leads.con, model, gates=gates, personas=personas, icp_signals=icp_signal_index(icp),
                         max_confidence=cap)
    notes = scored.notes + model.notes
    notices.append(f"scored {len(scored.rows)} rows of {file} ({scored.combinations} distinct combinations) on "
                   f"{', '.join(dims)}; weights learned from {model.closed} closed deals")
    notices.extend(f"note: {n}" for n in notes)
    notices.extend(why)
    if leads_source is not None and (out or out_table):
        from persona_assistant.warehouse.scores import write_scores

        written = write_scores(leads.con, scored, _factor_text, out_table=out_table, out_csv=out)
        notices.append(f"wrote {written} rows to {out or f'table {out_table} in {leads_source.shown}'}")
    elif out is not None:
        _write_scored(out, file, leads.con, scored)
        notices.append(f"wrote {out}")
    return ScoreRun(file, dims, signal, verdict, bt, explain(model), gates, scored, notes, notices)


def backtest(ws: Workspace, *, split: float = 0.7, source: Any = None) -> Any:
    """Learn on the earlier closed deals, test on the later ones (scoring.backtest.Backtest)."""
    from persona_assistant.scoring.backtest import run_backtest

    if not 0 < split < 1:
        raise UsageError(f"--split: must be between 0 and 1 (exclusive), got {split}")
    crm = load_history(ws, source)
    return run_backtest(crm.con, crm.dimensions, split=split, min_support=min_support(ws))


def _factor_text(result: dict) -> str:
    parts = [f"base {result['base_points']}"]
    for f in result["factors"]:
        label = f["feature"] or f"{f['dimension']}={f['value'] if f['value'] is not None else 'unknown'}"
        parts.append(f"{label} {f['points']:+d}" + ("" if f["status"] in ("meets", "misses", "neutral")
                                                    else f" ({f['status']})"))
    return "; ".join(parts)


def _write_scored(out: Path, file: Path, con: Any, scored: Any) -> None:
    """Every input row and column, in the file's order (so the lead's own id goes back into the CRM),
    with SCORE_COLUMNS appended; a score column whose name the input already uses gets a "pa_" prefix."""
    from persona_assistant.export.csv_safe import write_csv
    from persona_assistant.ingest.csvfile import quote_ident, read_table

    raw = read_table(con, file, "scored_input")
    by_row = {row.row_number: row for row in scored.rows}
    taken = {c.lower() for c in raw.columns}
    header = [*raw.columns, *(f"pa_{c}" if c.lower() in taken else c for c in SCORE_COLUMNS)]
    select = ", ".join(quote_ident(c) for c in raw.columns)

    def rows():
        cursor = con.execute(f"SELECT {select} FROM scored_input ORDER BY rowid")
        number = 0
        while batch := cursor.fetchmany(10_000):
            for values in batch:
                number += 1
                row = by_row[number]
                r, p = row.result, row.persona
                yield [*values, r["score"], r["tier"], r["win_probability"], r["confidence"],
                       (p.persona_name or "no persona fits") if p else "", p.confidence if p else "",
                       p.reason if p else "", "; ".join(f"{g['gate']}: {g['reason']}" for g in r["disqualified_by"]),
                       _factor_text(r)]

    write_csv(out, header, rows())
