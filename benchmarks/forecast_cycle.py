"""Skill of the forecast cycle as it would have been live (issue 13).

For each case with dated reports, replay the daily cycle: on every day that has a report due
within the longest horizon, make the forecast from that origin (going on from the previous
one, weighing only the reports that became known since), then score it on every report whose
last day falls within 1, 3 and 7 days after the origin: CRPS of the members' figure against
the range's midpoint, whether the 90 % interval overlaps the range, and the CRPS of
persistence (a point forecast: the last report of the same place, indicator and statistic
known at the origin) on the points where there is one. Reports of figures the model does not
count are left out, as the filter leaves them out. Also the time of one update (median over
the cycle). Writes forecast_cycle.csv (every scored point) and forecast_cycle.png (skill by
horizon) to --out.
Targets: CRPS at least 30 % below persistence at 1 and 3 days averaged over cases, 90 %
coverage 80–97 %, one update of a Chile–Peru case with 200 particles under 10 s. Nothing is
asserted.

The cases default to every built-in border case with dated reports (its observations.csv).
Particles run on a process pool (--workers, default all cores) where a run spans several days.

    python benchmarks/forecast_cycle.py [--cases chile-peru-2023 chile-peru-2025]
        [--members 200] [--seed 0] [--workers N] [--move jitter|mcmc]
        [--out results/forecast-cycle]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
from pathlib import Path

import numpy as np

for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

HORIZONS = (1, 3, 7)


def member_figures(folder: Path, members: int, o) -> np.ndarray | None:
    """Each member's figure for report ``o``; None when the model does not count that figure
    (as the filter, which leaves such reports out: a road without flow counts 0)."""
    from borderflow.calibrate.problem import figure
    from borderflow.ensemble.runner import MEMBERS_DIR, member_file
    from borderflow.results.series import Series, read_parquet

    out = []
    for i in range(members):
        series = Series.from_table(read_parquet(folder / MEMBERS_DIR / member_file(i)))
        daily = series.values(o.indicator, o.location)
        if daily is None and o.indicator not in ("flow",):
            return None
        v = None if daily is None else figure(daily, series.start_date, o)
        out.append(0.0 if v is None else v)
    return np.array(out)


def cases_with_reports() -> list[str]:
    """Built-in border cases (the folders of builtin/cases) whose observations.csv holds
    dated reports."""
    import borderflow
    from borderflow.scenario.border_io import read_border_case

    root = Path(borderflow.__file__).parent / "builtin" / "cases"
    folders = sorted(p for p in root.iterdir() if (p / "scenario.toml").exists())
    return [p.name for p in folders if read_border_case(p).observations]


def replay(
    case_name: str, members: int, seed: int, store_dir: Path, executor=None, move: str = "jitter"
) -> tuple[list, list]:
    """Scored points (case, origin, horizon-lead, report, CRPS, covered, persistence CRPS)."""
    import borderflow
    from borderflow.calibrate.problem import last_day
    from borderflow.calibrate.scoring import ForecastPoint, baselines, crps
    from borderflow.forecast.cycle import ForecastSpec, forecast
    from borderflow.forecast.store import PARTICLES
    from borderflow.scenario.border_io import read_border_case
    from borderflow.scenario.locate import resolve_scenario

    builtin = Path(borderflow.__file__).parent / "builtin" / "cases" / case_name
    path = builtin if builtin.is_dir() else resolve_scenario(case_name)
    case = read_border_case(path)
    reports = [o for o in case.observations if o.date >= case.spec.case.start]
    due = sorted({last_day(o) for o in reports})
    start, end = case.spec.case.start, case.spec.case.end
    candidates = {d - dt.timedelta(days=k) for d in due for k in range(1, max(HORIZONS) + 1)}
    origins = sorted(d for d in candidates if start < d < end)
    spec = ForecastSpec(
        path, store_dir / case_name, members, seed, horizon=max(HORIZONS), move=move,
        executor=executor,
    )  # fmt: skip
    points, updates, previous = [], [], None
    for origin in origins:
        r = forecast(spec, origin)
        if r.parent is not None:
            updates.append(r.update_seconds)
        if previous is not None:  # the replay keeps only the latest particles (disk)
            (previous / PARTICLES).unlink(missing_ok=True)
        previous = r.folder
        known = [o for o in reports if last_day(o) <= origin]
        for o in reports:
            lead = (last_day(o) - origin).days
            if not 0 < lead <= max(HORIZONS):
                continue
            x = member_figures(r.folder, members, o)
            if x is None:
                continue
            same_stat = [k for k in known if k.stat == o.stat]  # a peak persists as a peak
            p = ForecastPoint(origin, o, x, baselines(same_stat, o)[0], None)
            pers = None if p.persistence is None else abs(p.persistence - p.observed)
            points.append((case_name, origin, lead, o, crps(x, p.observed), p.covered(0.9), pers))
    return points, updates


def table(points: list, cases: list[str]) -> list[tuple]:
    """Per case and horizon: points, CRPS, 90 % coverage, persistence's CRPS, the ratio."""
    rows = []
    for case in [*cases, "all cases"]:
        for h in HORIZONS:
            mine = [p for p in points if (case == "all cases" or p[0] == case) and p[2] <= h]
            both = [p for p in mine if p[6] is not None]
            model = np.mean([p[4] for p in mine]) if mine else np.nan
            cover = np.mean([p[5] for p in mine]) if mine else np.nan
            pers = np.mean([p[6] for p in both]) if both else np.nan
            paired = np.mean([p[4] for p in both]) if both else np.nan
            ratio = paired / pers if both and pers > 0 else np.nan
            rows.append((case, h, len(mine), model, cover, len(both), pers, ratio))
    return rows


def write_outputs(points: list, rows: list, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    with (out / "forecast_cycle.csv").open("w", encoding="utf-8") as f:
        f.write("case,origin,lead,date,end,stat,location,indicator,low,high,crps,covered90,"
                "persistence_crps\n")  # fmt: skip
        for case, origin, lead, o, c, cov, pers in points:
            f.write(f"{case},{origin},{lead},{o.date},{o.end or ''},{o.stat},{o.location},"
                    f"{o.indicator},{o.low:g},{o.high:g},{c:.3f},{int(cov)},"
                    f"{'' if pers is None else f'{pers:.3f}'}\n")  # fmt: skip
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for case in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == case]
        ax.plot([r[1] for r in mine], [r[7] for r in mine], marker="o", label=case)
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.axhline(0.7, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("horizon (days)")
    ax.set_ylabel("CRPS / persistence's CRPS")
    ax.set_xticks(HORIZONS)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "forecast_cycle.png", dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", default=None)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--move", choices=("jitter", "mcmc"), default="jitter")
    parser.add_argument("--out", type=Path, default=Path("results/forecast-cycle"))
    args = parser.parse_args()
    from borderflow.execute import pool_executor

    args.cases = args.cases or cases_with_reports()
    executor = pool_executor(args.workers)
    points, updates = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases:
            p, u = replay(case, args.members, args.seed, Path(tmp), executor, args.move)
            points += p
            updates += u
    rows = table(points, args.cases)
    print(f"forecast cycle replayed day by day, {args.members} particles, seed {args.seed}, "
          f"move {args.move}, {executor.workers} workers")  # fmt: skip
    header = (f"{'case':>16} {'h':>2} {'points':>6} {'CRPS':>9} {'cover90':>7} "
              f"{'paired':>6} {'persist.':>9} {'ratio':>6}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for case, h, n, crps_, cover, n2, pers, ratio in rows:
        print(f"{case:>16} {h:>2} {n:>6} {crps_:>9.1f} {cover:>7.0%} {n2:>6} {pers:>9.1f} "
              f"{ratio:>6.2f}")  # fmt: skip
    if updates:
        print(f"one update: median {statistics.median(updates):.2f} s over {len(updates)} "
              f"(target 10 s with 200 particles)")  # fmt: skip
    write_outputs(points, rows, args.out)
    print(f"wrote {args.out / 'forecast_cycle.csv'} and {args.out / 'forecast_cycle.png'}")


if __name__ == "__main__":
    main()
