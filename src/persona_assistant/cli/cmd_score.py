"""`score` (ICP-fit scores for accounts or contacts) and `backtest` (does the score predict?)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from persona_assistant.cli.common import JsonOpt, WorkspaceOpt, emit_json, notices
from persona_assistant.cli.warehouse_opts import SourceOpt, TableOpt, cli_source

TOP_ROWS = 20


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
    from persona_assistant.services.scoring import score as run
    from persona_assistant.workspace import open_workspace

    ws = open_workspace(workspace)
    result = run(ws, file, out=out, source=cli_source(ws, source, table), leads_table=leads_table,
                 out_table=out_table)
    notices(result.notices)
    if json_out:
        emit_json(result.to_json())
        return
    _print_scores(result, explain_model)


def _print_scores(run: Any, explain_model: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from persona_assistant.safe_text import as_rich_text

    console = Console(highlight=False)
    if explain_model:
        _print_model(console, run.model_info)
    for line in run.summary_lines():
        console.print(as_rich_text(line))
    scored = run.scored
    table = Table("row", "account / title", "score", "tier", "conf.", "persona", "main factors")
    top = sorted(scored.rows, key=lambda r: (r.result["tier"] == "no fit", -r.result["score"],
                                             r.row_number or 0))[:TOP_ROWS]
    for r in top:
        res, p = r.result, r.persona
        main = sorted(res["factors"], key=lambda f: -abs(f["points"]))[:2]
        factors = ", ".join(f"{f['feature'] or f['dimension'] + ' ' + f['status']} {f['points']:+d}" for f in main)
        if res["disqualified_by"]:
            factors = "NO FIT: " + "; ".join(g["reason"] for g in res["disqualified_by"])
        who = " / ".join(x for x in (r.account, r.title) if x)
        table.add_row(str(r.row_number), as_rich_text(who), str(res["score"]), res["tier"], res["confidence"],
                      as_rich_text(f"{p.persona_name or 'no persona fits'} ({p.confidence})" if p else ""),
                      as_rich_text(factors))
    console.print(table)
    if len(scored.rows) > TOP_ROWS:
        console.print(as_rich_text(f"... {len(scored.rows) - TOP_ROWS} more rows (use --out FILE.csv or --json)"))


def backtest(
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
    split: Annotated[float, typer.Option("--split", help="Share of closed deals (earliest by close date) "
                                                         "to learn from; the rest tests.")] = 0.7,
    source: SourceOpt = None,
    table: TableOpt = None,
) -> None:
    """Check whether the score predicts: learn on earlier closed deals, test on later ones."""
    from persona_assistant.services.scoring import backtest as run
    from persona_assistant.workspace import open_workspace

    ws = open_workspace(workspace)
    result = run(ws, split=split, source=cli_source(ws, source, table))
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
