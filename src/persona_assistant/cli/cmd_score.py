"""`score` (ICP-fit scores for accounts or contacts) and `backtest` (does the score predict?)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from persona_assistant.cli.app import JsonOpt, WorkspaceOpt, app, emit_json, notice
from persona_assistant.cli.warehouse_opts import SourceOpt, TableOpt, cli_source

TOP_ROWS = 20


def _load_history(ws: Any, source: Any = None) -> Any:
    """The workspace's CRM exports (or the warehouse table `source`, or [source]) as the canonical deals table
    (the model's training data), with the dimensions `analyze` judges (every column, leaks out, [analysis]
    settings applied)."""
    from persona_assistant.analysis.segments import load_history, workspace_source
    from persona_assistant.errors import UsageError

    source = source or workspace_source(ws)
    if source is not None:
        return load_history(ws, source=source)
    if not ws.crm_files():
        raise UsageError(f"no CRM exports in {ws.crm_dir}: scoring learns its weights from won/lost deals there")
    return load_history(ws)


def _load_leads(ws: Any, file: Path | None, crm: Any, leads_source: Any = None) -> tuple[Any, list[str]]:
    """The leads file (or warehouse table) with the history's dimension columns it holds, read the way the
    history was (placeholders blank, the same bands and codes); and the dimensions it has values for."""
    from persona_assistant.analysis.columns import apply_plan
    from persona_assistant.ingest.crm import LEAD_COLUMNS, load_leads

    plan = crm.plan
    canonical = {c for c, _ in LEAD_COLUMNS}
    extras = [plan.labels.get(d, d) for d in plan.chosen if d not in canonical]
    if leads_source is not None:  # beside the history, on the same connection
        from persona_assistant.warehouse.tables import open_table

        leads = open_table(leads_source, mapping_file=ws.mapping_file(), kind="leads",
                           con=crm.con if hasattr(crm.con, "relations") else None,
                           extras_wanted=extras)
    else:
        leads = load_leads(file, mapping_file=ws.mapping_file(), extra_dimensions=extras)
    apply_plan(leads.con, "leads", plan, every_blank=True)
    have = [r[0] for r in leads.con.execute("DESCRIBE leads").fetchall()]
    dims = [d for d in plan.chosen if d in have]
    if dims:
        counts = leads.con.execute("SELECT " + ", ".join(f'count("{d}")' for d in dims) + " FROM leads").fetchone()
        dims = [d for d, n in zip(dims, counts) if n]
    return leads, dims


def _min_support(ws: Any) -> int:
    from persona_assistant.errors import InputError
    from persona_assistant.scoring.model import MIN_SUPPORT

    value = ws.config().get("scoring", {}).get("min_support", MIN_SUPPORT)
    if not isinstance(value, int) or value < 1:
        raise InputError(f"{ws.config_path}: [scoring] min_support must be a positive integer, got {value!r}")
    return value


def _factor_text(result: dict) -> str:
    parts = [f"base {result['base_points']}"]
    for f in result["factors"]:
        label = f["feature"] or f"{f['dimension']}={f['value'] if f['value'] is not None else 'unknown'}"
        parts.append(f"{label} {f['points']:+d}" + ("" if f["status"] in ("meets", "misses", "neutral")
                                                    else f" ({f['status']})"))
    return "; ".join(parts)


def _json_payload(scored: Any) -> tuple[list[dict], list[dict]]:
    """(fits, rows): each distinct fit (factors, evidence, gates) once; rows point to theirs by index.

    Rows sharing a combination of values share one fit, which keeps --json for 100,000 leads
    to a size and time that a pipeline can handle.
    """
    fits: list[dict] = []
    index: dict[int, int] = {}
    rows = []
    for row in scored.rows:
        r = row["result"]
        key = id(r)
        if key not in index:
            index[key] = len(fits)
            fits.append({"fit": len(fits), **r})
        p = row["persona"]
        rows.append({k: row[k] for k in ("row_number", "account", "contact_name", "title", "email", "phone")} | {
            "values": row["values"], "score": r["score"], "tier": r["tier"], "confidence": r["confidence"],
            "win_probability": r["win_probability"], "fit": index[key],
            "persona": p.to_dict() if p is not None else None})
    return fits, rows


SCORE_COLUMNS = ("score", "tier", "win_probability", "confidence", "persona", "persona_confidence",
                 "persona_reason", "disqualified_by", "factors")


def _write_scored(out: Path, file: Path, con: Any, scored: Any) -> None:
    """Every input row and column, in the file's order (so the lead's own id goes back into the CRM),
    with SCORE_COLUMNS appended; a score column whose name the input already uses gets a "pa_" prefix."""
    from persona_assistant.export.csv_safe import write_csv
    from persona_assistant.ingest.csvfile import quote_ident, read_table

    raw = read_table(con, file, "scored_input")
    by_row = {row["row_number"]: row for row in scored.rows}
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
                r, p = row["result"], row["persona"]
                yield [*values, r["score"], r["tier"], r["win_probability"], r["confidence"],
                       (p.persona_name or "no persona fits") if p else "", p.confidence if p else "",
                       p.reason if p else "", "; ".join(f"{g['gate']}: {g['reason']}" for g in r["disqualified_by"]),
                       _factor_text(r)]

    write_csv(out, header, rows())


def _print_model(console: Any, model_info: dict) -> None:
    from rich.table import Table

    from persona_assistant.safe_text import as_rich_text

    console.print(as_rich_text(f"model: {model_info['kind']}"))
    console.print(as_rich_text(
        f"regularisation: L2 = {model_info['regularisation']['l2']} ({model_info['regularisation']['penalised']}); "
        f"a value needs {model_info['min_support']} closed deals to get a weight; trained on "
        f"{model_info['trained_on']['closed']} closed deals ({model_info['trained_on']['won']} won)"))
    console.print(as_rich_text(f"intercept: {model_info['intercept']!r}   base: {model_info['base']!r}   "
                               f"scale: {model_info['scale']!r}"))
    console.print(as_rich_text(model_info["score_formula"]))
    table = Table("feature", "coefficient", "points", "support", "won")
    for c in model_info["coefficients"]:
        table.add_row(as_rich_text(c["feature"]), f"{c['coef']!r}",
                      f"{model_info['scale'] * c['coef']:+.2f}", str(c["support"]), str(c["won"]))
    console.print(table)
    t = model_info["tier_thresholds"]
    console.print(as_rich_text(f"tiers: A win probability >= {t['A']:.1%} (and confidence high or medium), "
                               f"B >= {t['B']:.1%}, C below (against a base rate of "
                               f"{model_info['trained_on']['win_rate'] or 0:.1%}); "
                               f"'no fit' = anti-ICP disqualifier (hard gate)"))
    for note in model_info["notes"]:
        console.print(as_rich_text(f"note: {note}"))


@app.command()
def score(
    file: Annotated[Optional[Path], typer.Argument(
        help="CSV/XLSX of accounts or contacts (leads) to score (or --leads-table).", show_default=False)] = None,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write all scored rows to this CSV.")] = None,
    explain_model: Annotated[bool, typer.Option("--explain", help="Print the model: every coefficient.")] = False,
    source: SourceOpt = None,
    table: TableOpt = None,
    leads_table: Annotated[Optional[str], typer.Option(
        "--leads-table", metavar="NAME", show_default=False,
        help="Score this table of the --source warehouse instead of FILE.")] = None,
    out_table: Annotated[Optional[str], typer.Option(
        "--out-table", metavar="NAME", show_default=False,
        help="With --leads-table: write the scored leads as this new table in the warehouse.")] = None,
) -> None:
    """Score accounts or contacts 0-100 against the ICP, with tier, factors, confidence and persona."""
    from persona_assistant.errors import InputError, UsageError
    from persona_assistant.schemas import ICP
    from persona_assistant.scoring.backtest import run_backtest
    from persona_assistant.scoring.model import explain, fit, icp_signal_index, score_leads
    from persona_assistant.warehouse.scores import leads_source as leads_source_of
    from persona_assistant.workspace import open_workspace

    ws = open_workspace(workspace)
    history = cli_source(ws, source, table)
    leads_source = leads_source_of(ws, file, history, leads_table, out_table)
    if leads_source is None and not file.is_file():
        raise UsageError(f"score: {file} is not a file")
    crm = _load_history(ws, history)
    leads, dims = _load_leads(ws, file, crm, leads_source)
    file = file or leads_source.where()
    if not dims:
        raise InputError(f"{file}: no column matches a dimension of the CRM history "
                         f"({', '.join(crm.dimensions) or 'none'}); nothing to score on")
    min_support = _min_support(ws)
    model = fit(crm.con, dims, min_support=min_support)
    try:
        bt = run_backtest(crm.con, dims, min_support=min_support)
        signal, verdict = bt.signal, bt.verdict
    except InputError as exc:
        bt, signal, verdict = None, False, f"not checked: {exc.message}"
    icp = ws.load_version("icp", ICP)
    gates = _gates(ws, crm, icp)
    personas = _personas(ws, leads.con)
    # Without a backtest showing that the score predicts, no row is scored with more than low confidence
    # (so none is tier A): the warning below and the tiers say the same thing.
    scored = score_leads(leads.con, model, gates=gates, personas=personas, icp_signals=icp_signal_index(icp),
                         max_confidence=None if signal else "low")
    notice(f"scored {len(scored.rows)} rows of {file} ({scored.combinations} distinct combinations) on "
           f"{', '.join(dims)}; weights learned from {model.closed} closed deals")
    for note in scored.notes + model.notes:
        notice(f"note: {note}")
    if not signal:
        notice(f"warning: backtest {verdict}. The scores rank by resemblance to past wins, but the history "
               f"does not show that they predict outcomes.")
    if leads_source is not None and (out or out_table):
        from persona_assistant.warehouse.scores import write_scores

        written = write_scores(leads.con, scored, _factor_text, out_table=out_table, out_csv=out)
        notice(f"wrote {written} rows to {out or f'table {out_table} in {leads_source.shown}'}")
    elif out is not None:
        _write_scored(out, file, leads.con, scored)
        notice(f"wrote {out}")
    model_info = explain(model)
    if json_out:
        fits, rows = _json_payload(scored)
        emit_json({"file": str(file), "dimensions": dims, "signal": signal, "backtest_verdict": verdict,
                   "backtest": bt.to_dict() if bt else None, "model": model_info,
                   "gates": [{"gate": g.id, "source": g.source, "reason": g.reason} for g in gates],
                   "notes": scored.notes + model.notes,
                   "fits": fits, "rows": rows})
        return
    _print_scores(scored, model_info if explain_model else None, verdict)


def _gates(ws: Any, crm: Any, icp: Any) -> list:
    """Hard gates: the drafted ICP's disqualifiers, else the analysis' anti-ICP segments."""
    from persona_assistant.scoring.model import gates_from_analysis, gates_from_icp

    if icp is not None:
        return gates_from_icp(icp)
    from persona_assistant.analysis.segments import analyze

    return gates_from_analysis(analyze(crm, min_support=ws.config().get("analysis", {}).get("min_support", 30)))


def _personas(ws: Any, con: Any) -> list | None:
    """The latest drafted personas when the file has contact titles; None otherwise (with a notice)."""
    from persona_assistant.schemas import PersonaSet

    columns = {r[0] for r in con.execute("DESCRIBE leads").fetchall()}
    if "title" not in columns or not con.execute("SELECT count(title) FROM leads").fetchone()[0]:
        return None
    persona_set = ws.load_version("personas", PersonaSet)
    if persona_set is None:
        notice("no drafted personas in the workspace: contacts are not matched to personas "
               "(run `persona-assistant draft personas`)")
        return None
    return persona_set.personas


def _print_scores(scored: Any, model_info: dict | None, verdict: str) -> None:
    from collections import Counter

    from rich.console import Console
    from rich.table import Table

    from persona_assistant.safe_text import as_rich_text

    console = Console(highlight=False)
    if model_info is not None:
        _print_model(console, model_info)
    tiers = Counter(r["result"]["tier"] for r in scored.rows)
    console.print(as_rich_text("tiers: " + ", ".join(f"{t}: {tiers.get(t, 0)}" for t in ("A", "B", "C", "no fit"))))
    if any(r["persona"] is not None for r in scored.rows):
        personas = Counter((r["persona"].persona_name or "no persona fits") for r in scored.rows)
        console.print(as_rich_text("personas: " + ", ".join(f"{k}: {v}" for k, v in personas.most_common())))
    console.print(as_rich_text(f"backtest: {verdict}"))
    table = Table("row", "account / title", "score", "tier", "conf.", "persona", "main factors")
    top = sorted(scored.rows, key=lambda r: (r["result"]["tier"] == "no fit", -r["result"]["score"],
                                             r["row_number"] or 0))[:TOP_ROWS]
    for r in top:
        res, p = r["result"], r["persona"]
        main = sorted(res["factors"], key=lambda f: -abs(f["points"]))[:2]
        factors = ", ".join(f"{f['feature'] or f['dimension'] + ' ' + f['status']} {f['points']:+d}" for f in main)
        if res["disqualified_by"]:
            factors = "NO FIT: " + "; ".join(g["reason"] for g in res["disqualified_by"])
        who = " / ".join(x for x in (r["account"], r["title"]) if x)
        table.add_row(str(r["row_number"]), as_rich_text(who), str(res["score"]), res["tier"], res["confidence"],
                      as_rich_text(f"{p.persona_name or 'no persona fits'} ({p.confidence})" if p else ""),
                      as_rich_text(factors))
    console.print(table)
    if len(scored.rows) > TOP_ROWS:
        console.print(as_rich_text(f"... {len(scored.rows) - TOP_ROWS} more rows (use --out FILE.csv or --json)"))


@app.command()
def backtest(
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
    split: Annotated[float, typer.Option("--split", help="Share of closed deals (earliest by close date) "
                                                         "to learn from; the rest tests.")] = 0.7,
    source: SourceOpt = None,
    table: TableOpt = None,
) -> None:
    """Check whether the score predicts: learn on earlier closed deals, test on later ones."""
    from persona_assistant.scoring.backtest import run_backtest
    from persona_assistant.workspace import open_workspace

    ws = open_workspace(workspace)
    if not 0 < split < 1:
        from persona_assistant.errors import UsageError

        raise UsageError(f"--split: must be between 0 and 1 (exclusive), got {split}")
    crm = _load_history(ws, cli_source(ws, source, table))
    result = run_backtest(crm.con, crm.dimensions, split=split, min_support=_min_support(ws))
    if json_out:
        emit_json(result.to_dict())
        return
    from rich.console import Console
    from rich.table import Table

    from persona_assistant.safe_text import as_rich_text

    console = Console(highlight=False)
    console.print(as_rich_text(
        f"learned on {result.train['deals']} deals {result.order_by} through {result.cutoff} "
        f"({result.train['won']} won); tested on {result.test['deals']} deals {result.order_by} after "
        f"({result.test['won']} won); "
        f"dimensions: {', '.join(result.dimensions)}"))
    if result.auc is not None:
        console.print(as_rich_text(f"AUC {result.auc:.3f} (95% CI {result.auc_ci[0]:.3f}-{result.auc_ci[1]:.3f}, "
                                   f"Hanley-McNeil); 0.5 = chance"))
    if result.top_decile_win_rate is not None and result.baseline_win_rate is not None:
        console.print(as_rich_text(f"top-decile win rate {result.top_decile_win_rate:.1%} vs baseline "
                                   f"{result.baseline_win_rate:.1%}"))
    table = Table("bin", "deals", "predicted win rate", "observed win rate", title="calibration")
    for b in result.calibration:
        table.add_row(str(b["bin"]), str(b["deals"]), f"{b['predicted_win_rate']:.1%}",
                      f"{b['observed_win_rate']:.1%}")
    console.print(table)
    for note in result.notes:
        console.print(as_rich_text(f"note: {note}"))
    console.print(as_rich_text(("" if result.signal else "verdict: ") + result.verdict,
                               style=None if result.signal else "bold"))
