"""Which CRM segments win more (or less) often than the rest, and how sure we are.

Everything is computed by DuckDB GROUP BYs (`analysis.grouped`) over the canonical `deals`
table that ingestion builds, so a million-deal export never becomes Python objects; Python
only sees one row per segment. On a warehouse table the same SQL runs there (`warehouse/`)
and the statistics below are computed here over the returned aggregates, so the figures and
verdicts are the same whatever the engine. The result is deterministic for the same input.

Method, in short (the words also land in `Analysis.correction` and `.verdict`):
- Only closed deals (won or lost) count. Win rate = won / closed. Median value and
  median cycle days are over won deals (what a win is worth, how long it takes).
- Each segment (one dimension value, or a pair of values) gets a Wilson 95%
  interval and a two-sided score-test p-value against the baseline win rate.
- Segments with fewer than `min_support` closed deals are "insufficient support"
  and are not tested. Pairs below `min_support` are left out altogether (there are
  many of them and none of them could be judged).
- A tested segment is "better"/"worse" only when its Wilson interval at the
  Bonferroni level alpha = 0.05 / (number of tested segments) excludes the
  baseline; otherwise "not significant". Every column is a candidate dimension
  (`analysis.columns`), so the family can be large: each tested segment also gets a
  Benjamini-Hochberg q-value (false discovery rate), and the correction text says how
  many tests ran and how many segments BH would call discoveries at 5%. The verdicts,
  the ICP and the anti-ICP stay on Bonferroni (no false winner in 20 runs).
- Which columns are dimensions, and why the others are not (ids, dates, free text,
  outcome leaks), is decided once by `analysis.columns.plan_dimensions`.
- ICP candidates are the significantly better segments, ranked by expected value
  per day of sales cycle: win_rate x median won value / median won cycle days
  (falls back to win_rate x median won value without dates, to lift without values).
  A pair ranks among the singles only when its corrected Wilson interval lies above both
  of its singles' win rates; a pair that merely contains a strong value ranks after them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from persona_assistant.analysis.columns import Settings, plan_dimensions, resolve, workspace_settings
from persona_assistant.analysis.grouped import CLOSED, MEDIANS, counts_sql, segment_rows
from persona_assistant.analysis.stats import benjamini_hochberg, bonferroni_alpha, score_test_p, wilson_interval
from persona_assistant.errors import InputError, UsageError, missing_file_hint, stray_crm_hint
from persona_assistant.schemas import (Analysis, DataSufficiency, ExcludedColumn, Segment, SegmentStats, segment_id,
                                       segment_text)

if TYPE_CHECKING:  # the ingestion module imports duckdb; keep this module import-light
    from persona_assistant.ingest.crm import CrmData

ALPHA = 0.05
# Sufficiency thresholds (closed deals overall).
MIN_WON_SUFFICIENT = 50
MIN_WON = 10
MIN_LOST = 20

def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _columns(con) -> list[str]:
    try:
        return [row[0] for row in con.execute("DESCRIBE deals").fetchall()]
    except Exception:  # duckdb.CatalogException, without importing duckdb here
        raise InputError("no deals table: the CRM files held no deals (won/lost/open opportunities)") from None


def pick_dimensions(crm: "CrmData", dimensions: Sequence[str] | None, columns: list[str]) -> list[str]:
    """The dimensions to analyse, in a fixed (alphabetical) order so segment ids are stable.

    `dimensions` (from --dimension) may name the export's header or the canonical field; an outcome leak
    is refused unless the settings allow it.
    """
    if dimensions is None:
        return sorted(set(crm.dimensions))
    plan = getattr(crm, "plan", None)
    chosen = []
    for name in dimensions:
        col = resolve(name, columns, plan.labels if plan else {}, "--dimension",
                      plan and plan.chosen + [c for c, _ in plan.excluded])
        leak = plan and dict(plan.excluded).get(col) == "an outcome leak"
        if leak:
            why = next((x for x in plan.leaks if x.startswith(plan.labels.get(col, col) + ":")), col)
            raise UsageError(f"--dimension {name}: {why}; let it in with [analysis] allow = [\"{name}\"] "
                             "in the workspace settings")
        chosen.append(plan.renamed.get(col, col) if plan else col)
    return sorted(set(chosen))


def _stats(closed: int, won: int, lost: int, total_won_value, median_won_value, median_cycle_days) -> dict:
    lo, hi = wilson_interval(won, closed, alpha=ALPHA)
    return dict(
        closed=closed, won=won, lost=lost,
        win_rate=won / closed if closed else 0.0, ci_low=lo, ci_high=hi,
        median_won_value=_float(median_won_value),
        total_won_value=_float(total_won_value) or 0.0,
        median_cycle_days=_float(median_cycle_days),
    )


def _baseline(con) -> SegmentStats:
    closed, won, lost, total = con.execute(f"SELECT {counts_sql(False)} FROM deals WHERE {CLOSED}").fetchone()
    medians = con.execute(f"SELECT {MEDIANS} FROM deals WHERE outcome = 'won'").fetchone()
    return SegmentStats(**_stats(closed, won, lost, total, *medians))


def sufficiency(won: int, lost: int) -> DataSufficiency:
    if won < MIN_WON or lost < MIN_LOST:
        verdict, note = "insufficient", (
            f"{won} won and {lost} lost closed deals: at least {MIN_WON} won and {MIN_LOST} lost are "
            "needed before any win-rate comparison means anything; treat every figure as anecdote.")
    elif won < MIN_WON_SUFFICIENT:
        verdict, note = "directional only", (
            f"only {won} won deals (fewer than {MIN_WON_SUFFICIENT}): segment differences are directional "
            "only; few segments can reach significance.")
    else:
        verdict, note = "sufficient", f"{won} won and {lost} lost closed deals: enough to compare segments."
    return DataSufficiency(won=won, lost=lost, verdict=verdict, note=note)


EV_FORMULAS = {
    "per_day": "win rate x median won value / median won cycle days",
    "value": "win rate x median won value (no close dates to measure cycle length)",
    "lift": "lift over baseline (no deal amounts)",
}


def _ev_kind(baseline: SegmentStats) -> str:
    """One formula for the whole analysis, so candidates are ranked in the same unit."""
    if baseline.median_won_value is not None and baseline.median_cycle_days:
        return "per_day"
    if baseline.median_won_value is not None:
        return "value"
    return "lift"


def _expected_value(seg: Segment, kind: str) -> float | None:
    if kind == "lift":
        return seg.lift
    if seg.median_won_value is None:
        return None
    if kind == "per_day":
        return seg.win_rate * seg.median_won_value / seg.median_cycle_days if seg.median_cycle_days else None
    return seg.win_rate * seg.median_won_value


def _pct(x: float) -> str:
    return f"{x:.1%}"


def _verdict(baseline: SegmentStats, segments: list[Segment], icp: list[str], anti: list[str],
             tests: int, suff: DataSufficiency, formula: str) -> str:
    if baseline.closed == 0:
        return "There are no closed (won or lost) deals, so the CRM data says nothing yet about who wins."
    base = (f"the baseline of {_pct(baseline.win_rate)} ({baseline.won} won of {baseline.closed} closed, "
            f"95% CI {_pct(baseline.ci_low)}-{_pct(baseline.ci_high)})")
    by_id = {s.id: s for s in segments}
    parts = []
    if tests == 0:
        parts.append(f"No segment has enough closed deals to be tested against {base}; "
                     "the CRM data does not single out an ICP.")
    elif not icp:
        how = "is significantly higher than" if anti else "differs significantly from"
        parts.append(f"No segment's win rate {how} {base} after a Bonferroni correction for {tests} "
                     "tests; the CRM data does not single out an ICP.")
    else:
        top = by_id[icp[0]]
        parts.append(
            f"{len(icp)} segment(s) win significantly more often than {base} after a Bonferroni correction "
            f"for {tests} tests. Best by expected value ({formula}): {segment_text(top.dimensions)}, winning "
            f"{_pct(top.win_rate)} of {top.closed} closed deals (95% CI {_pct(top.ci_low)}-{_pct(top.ci_high)}, "
            f"lift {top.lift:.2f}x).")
    if anti:
        worst = by_id[anti[0]]
        parts.append(
            f"{len(anti)} segment(s) win significantly less often (anti-ICP); lowest: {segment_text(worst.dimensions)} at "
            f"{_pct(worst.win_rate)} of {worst.closed} closed deals (lift {worst.lift:.2f}x).")
    elif icp:
        parts.append("No segment wins significantly less often than the baseline.")
    if suff.verdict != "sufficient":
        parts.append(f"Data: {suff.verdict} ({suff.note})")
    return " ".join(parts)


def _adds(seg: Segment, singles: dict, alpha: float) -> bool:
    """A single, or a pair whose win rate (its Wilson interval at the corrected level) is above both of its
    singles' own: a pair riding on one strong value does not outrank that value."""
    if len(seg.dimensions) == 1:
        return True
    parents = [singles.get(item) for item in seg.dimensions.items()]
    lo, _ = wilson_interval(seg.won, seg.closed, alpha=alpha)
    return lo > max((p.win_rate for p in parents if p is not None), default=0.0)


def analyze(crm: "CrmData", *, min_support: int = 30, dimensions: Sequence[str] | None = None,
            pairs: bool = True, settings: Settings | None = None) -> Analysis:
    """Baseline, per-segment statistics with verdicts, ICP and anti-ICP candidates (pure, deterministic)."""
    check_min_support(min_support)
    con = crm.con
    columns = _columns(con)
    plan = plan_dimensions(crm, settings)
    dims = pick_dimensions(crm, dimensions, columns)
    baseline = _baseline(con)
    p0 = baseline.win_rate

    segments: list[Segment] = []
    for key, agg in segment_rows(con, dims, pairs=pairs, min_support=min_support):
        stats = _stats(*agg[:6])
        won_ids, lost_ids = agg[6] or [], agg[7] or []
        segments.append(Segment(
            id=segment_id(key),  # key is in the sorted dimension order
            dimensions=key,
            lift=stats["win_rate"] / p0 if p0 > 0 else None,
            share_won_revenue=(stats["total_won_value"] / baseline.total_won_value
                               if baseline.total_won_value else 0.0),
            deal_ids=list(won_ids) + list(lost_ids),
            **stats,
        ))

    tested = [s for s in segments if s.closed >= min_support]
    tests = len(tested)
    alpha_c = bonferroni_alpha(ALPHA, tests)
    for seg in segments:
        if seg.closed < min_support:
            seg.verdict = "insufficient support"
            continue
        seg.p_value = score_test_p(seg.won, seg.closed, p0)
        if seg.p_value is None:
            seg.verdict = "not significant"  # a baseline of 0% or 100% leaves nothing to compare
            continue
        lo, hi = wilson_interval(seg.won, seg.closed, alpha=alpha_c)
        seg.verdict = "better" if lo > p0 else "worse" if hi < p0 else "not significant"
    judged = [s for s in tested if s.p_value is not None]
    for seg, q in zip(judged, benjamini_hochberg([s.p_value for s in judged])):
        seg.q_value = q
    discoveries = sum(1 for s in judged if s.q_value < ALPHA)

    kind = _ev_kind(baseline)
    for seg in segments:
        seg.expected_value = _expected_value(seg, kind)

    better = [s for s in segments if s.verdict == "better"]
    # Highest expected value first; segments missing a figure go last, by lift; id breaks ties. A pair
    # ranks among the singles only when it adds to them (`_adds`); otherwise after every single.
    singles = {next(iter(s.dimensions.items())): s for s in segments if len(s.dimensions) == 1}
    better.sort(key=lambda s: (not _adds(s, singles, alpha_c), s.expected_value is None,
                               -(s.expected_value or 0.0), -(s.lift or 0.0), s.id))
    worse = sorted((s for s in segments if s.verdict == "worse"), key=lambda s: (s.win_rate, -s.closed, s.id))
    segments.sort(key=lambda s: (len(s.dimensions), list(s.dimensions), -s.closed, s.id))

    suff = sufficiency(baseline.won, baseline.lost)
    icp, anti = [s.id for s in better], [s.id for s in worse]
    correction = (
        f"Bonferroni: {tests} segment(s) with at least {min_support} closed deals tested, each at "
        f"alpha = 0.05 / {tests} = {alpha_c:.2g} (family-wise 5%); a segment is better or worse only when "
        f"its Wilson interval at that level excludes the baseline win rate. p-values: two-sided score test "
        f"against the baseline (normal approximation), the test the Wilson interval inverts. "
        f"Benjamini-Hochberg over the same {tests} tests (q, false discovery rate 5%): {discoveries} "
        f"segment(s) with q < 0.05; the verdicts use Bonferroni."
        if tests else
        f"none: no segment had at least {min_support} closed deals, so nothing was tested.")
    return Analysis(
        baseline=baseline, dimensions=dims, min_support=min_support, correction=correction,
        segments=segments, icp_candidates=icp, anti_icp=anti, sufficiency=suff,
        verdict=_verdict(baseline, segments, icp, anti, tests, suff, EV_FORMULAS[kind]),
        ingest=getattr(crm, "report", None), tests=tests,
        excluded=[ExcludedColumn(column=plan.shown(c), reason=r) for c, r in plan.excluded],
        leaks=plan.leaks, findings=plan.findings, column_notices=plan.notices,
    )


def check_min_support(min_support: int) -> None:
    """--min-support below 1 is a usage error (checked before a large file is read, and again here)."""
    if min_support < 1:
        raise UsageError(f"--min-support: must be at least 1, got {min_support}")


def workspace_min_support(ws) -> int:
    """[analysis].min_support from the workspace settings, else 30; a bad value names the file."""
    value = ws.config().get("analysis", {}).get("min_support", 30)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{ws.config_path}: [analysis] min_support must be a positive integer, got {value!r}")
    return value


def analyze_workspace(ws, files: Sequence[Path] | None = None, *, mapping_file: Path | None = None,
                      min_support: int | None = None, dimensions: Sequence[str] | None = None,
                      pairs: bool = True, source=None) -> Analysis:
    """Load a workspace's CRM exports (or the given files) and analyse them with its settings.

    The one place that applies the defaults `analyze`, drafting and chat share: the workspace's
    crm/ files, its mapping.toml when present, and [analysis].min_support.
    """
    source = source or workspace_source(ws, files)
    if files and source is not None:
        raise UsageError("FILES and --source: analyse either exports or a warehouse table")
    if files:
        for path in files:
            if not Path(path).is_file():
                raise UsageError(f"FILES: {path} is not a file{missing_file_hint(path)}")
    elif source is None:
        files = ws.crm_files()
        if not files:
            from persona_assistant.ingest.csvfile import CRM_SUFFIXES
            raise UsageError(f"no CRM files in {ws.crm_dir}: put CSV/XLSX exports there or pass FILES"
                             f"{stray_crm_hint(ws.crm_dir, CRM_SUFFIXES)}")
    if mapping_file is not None:
        if not Path(mapping_file).is_file():
            raise UsageError(f"--map: {mapping_file} is not a file")
    if min_support is None:
        min_support = workspace_min_support(ws)
    check_min_support(min_support)
    crm = load_history(ws, files, mapping_file=mapping_file, source=source)
    return analyze(crm, min_support=min_support, dimensions=dimensions or None, pairs=pairs)


def workspace_source(ws, files: Sequence[Path] | None = None):
    """The workspace's warehouse table ([source] url and table in its settings) when no FILES are named."""
    if files:
        return None
    from persona_assistant.warehouse.source import source_from

    return source_from(None, None, ws.config())


def load_history(ws, files: Sequence[Path] | None = None, *, mapping_file: Path | None = None,
                 source=None) -> "CrmData":
    """A workspace's CRM exports (or `files`, or the warehouse table `source`, or the one its [source] settings
    name) with every column, planned with its [analysis] settings.

    The one loader behind `analyze`, `draft icp`, `score`, `backtest` and chat, so they all judge the
    same dimensions.
    """
    from persona_assistant.ingest.crm import load_crm

    source = source or workspace_source(ws, files)
    if mapping_file is None:
        mapping_file = ws.mapping_file()  # None, with a notice, when it leads outside the workspace
    settings = workspace_settings(ws)
    if source is not None:
        from persona_assistant.warehouse.tables import open_table

        crm = open_table(source, mapping_file=mapping_file)
        plan_dimensions(crm, settings)
        return crm
    files = list(files) if files else ws.crm_files()
    crm = load_crm(files, mapping_file=mapping_file, all_columns=True)
    plan_dimensions(crm, settings)
    return crm
