"""Skill of the forecast cycle as it would have been live (issue 13).

For each case with dated reports, replay the daily cycle through its reports: forecasts from
every origin h = 1, 3 and 7 days before a report's last day, each going on from the previous
one and weighing only the reports that became known since (the cycle weighs every report on
its day; batches change no particle, so these are the forecasts of a cycle run every day).
Each forecast is scored on the reports whose last day is h days after its origin: CRPS of the
members' figure against the range's midpoint, whether the 90 % interval overlaps the range,
and the CRPS of persistence (a point forecast: the last report of the same place, indicator
and statistic known at the origin) on the points where there is one; and the error of the
peak over (origin, origin + h] of each series reported then, against persistence's (a flat
line). Reports of figures the model does not count are left out, as the filter leaves them
out. Also the time of one update (median over the cycle) and of each case's replay. Writes
forecast_cycle.csv (every scored point, leads 1–7) and forecast_cycle.png (skill by horizon)
to --out. Targets: CRPS at least 30 % below persistence at 1 and 3 days averaged over cases,
90 % coverage 80–97 %, one update of a Chile–Peru case with 200 particles under 10 s. Nothing
is asserted.

The cases default to every built-in border case with dated reports (its observations.csv).
Particles run on a process pool (--workers, default all cores) where a run spans several days.
A state holds every person, so memory grows with particles × people: --people caps that
product per case (fewer particles for the cases of millions; each case's count is printed).

    python benchmarks/forecast_cycle.py [--cases chile-peru-2023 chile-peru-2025]
        [--members 200] [--people 7e7] [--seed 0] [--workers N] [--move mcmc|jitter]
        [--out results/forecast-cycle] [--resume] [--score forecast|members|report]

Each case's scored points are kept in OUT/cases/ as it finishes; --resume reads them back
instead of replaying them (same particles, seed and move).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pickle
import statistics
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

HORIZONS = (1, 3, 7)
REPORT_DRAWS = 10  # draws of a report's error per draw of the forecast (--score report)
SCORES = {
    "forecast": "the forecast's bands (members with the model's error)",
    "members": "the members alone",
    "report": "forecasts of the report (the bands with the grade's error)",
}


def member_series(folder: Path, members: int) -> list:
    """Each member's series (read once per forecast, for every report scored on it)."""
    from borderflow.ensemble.runner import MEMBERS_DIR, member_file
    from borderflow.results.series import Series, read_parquet

    return [
        Series.from_table(read_parquet(folder / MEMBERS_DIR / member_file(i)))
        for i in range(members)
    ]


def member_figures(series: list, o) -> np.ndarray | None:
    """Each member's figure for report ``o``; None when the model does not count that figure
    (as the filter, which leaves such reports out: a road without flow counts 0)."""
    from borderflow.calibrate.problem import figure
    from borderflow.observe.quantity import quantity_series

    out = []
    for s in series:
        daily = quantity_series(s, o.location, o.indicator)  # "stranded+waiting", "ALL"…
        if daily is None and o.indicator not in ("flow",):
            return None
        v = None if daily is None else figure(daily, s.start_date, o)
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


def particles_for(case_name: str, members: int, people: float) -> int:
    """``members``, or fewer for a case so large that they would not fit (at least 10)."""
    from borderflow.scenario.border_io import read_border_case
    from borderflow.scenario.locate import resolve_scenario

    stock = read_border_case(resolve_scenario(case_name)).spec.population.stock.value
    return int(min(members, max(10, people // max(stock, 1))))


def replay(
    case_name: str, members: int, seed: int, store_dir: Path, executor=None, move: str = "mcmc"
) -> tuple[list[Point], list[float]]:
    """The scored points of one case, and the time of each update."""
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
    # the forecasts scored: h days before a report's last day. The cycle in between weighs
    # every report on its day all the same; batches change no particle (tested), so these
    # forecasts are those of a cycle run every day.
    candidates = {d - dt.timedelta(days=h) for d in due for h in HORIZONS}
    origins = sorted(d for d in candidates if start < d < end)
    spec = ForecastSpec(
        path, store_dir / case_name, members, seed, horizon=max(HORIZONS), move=move,
        executor=executor,
    )  # fmt: skip
    points, updates, previous = [], [], None
    for origin in origins:
        r = forecast(spec, origin)
        error = r.model_error
        if r.parent is not None:
            updates.append(r.update_seconds)
        if previous is not None:  # the replay keeps only the latest particles (disk)
            (previous / PARTICLES).unlink(missing_ok=True)
        previous = r.folder
        known = [o for o in reports if last_day(o) <= origin]
        series = member_series(r.folder, members)
        for o in reports:
            lead = (last_day(o) - origin).days
            if not 0 < lead <= max(HORIZONS):  # all leads for the peaks; h alone for the rest
                continue
            x = member_figures(series, o)
            if x is None:
                continue
            same_stat = [k for k in known if k.stat == o.stat]  # a peak persists as a peak
            p = ForecastPoint(origin, o, x, baselines(same_stat, o)[0], None)
            pers = None if p.persistence is None else abs(p.persistence - p.observed)
            points.append(
                Point(case_name, origin, lead, o, crps(x, p.observed), p.covered(0.9), pers, x,
                      p.persistence, model_sd(error, last_day(o)))
            )  # fmt: skip
    return points, updates


def model_sd(error: dict, day: dt.date) -> float:
    """The sd of the forecast's model error on ``day`` (its bands', forecast/model_error.py)."""
    last = error.get("last_report_day")
    if not error.get("reports") or last is None:
        return 0.0
    days = max((day - dt.date.fromisoformat(last)).days, 0)
    return float(np.sqrt(error["variance_per_day"] * days))


@dataclass
class Point:
    """One report scored from one origin."""

    case: str
    origin: dt.date
    lead: int
    obs: Any  # ObservationRow
    crps: float
    covered: bool
    persistence_crps: float | None  # |persistence − observed|: a point forecast's CRPS
    members: np.ndarray  # each member's figure
    persistence: float | None
    model_sd: float = 0.0  # the forecast's model error on the report's last day (log scale)

    @property
    def observed(self) -> float:
        return 0.5 * (self.obs.low + self.obs.high)

    @property
    def series(self) -> tuple[str, str, str]:
        return (self.obs.location, self.obs.indicator, self.obs.stat)


def scored_as(points: list[Point], kind: str, seed: int) -> list[Point] | None:
    """The points scored as the members alone, as the forecast's bands, or of the report.

    ``members``: each member's figure (None: the points as replayed). ``forecast``: the
    figures with the model error the forecast's bands carry (forecast/model_error.py: draws
    (x + 1)·exp(s z) − 1, s its sd on the report's last day). ``report``: those draws again
    with the error of the report's grade, the law by which the filter weighs reports
    (log((reported + 1)/(true + 1)) ~ N(0, σ²), ``forecast/observation_error.toml``).
    """
    if kind == "members":
        return None
    from borderflow.calibrate.scoring import ForecastPoint, crps
    from borderflow.forecast.likelihood import report_draws
    from borderflow.forecast.model_error import widen

    out = []
    for k, p in enumerate(points):
        rng = np.random.default_rng([seed, k, 7])
        draws = widen(p.members[:, None], np.array([p.model_sd]), rng).ravel()
        if kind == "report":
            draws = report_draws(draws, p.obs, rng, REPORT_DRAWS)
        fp = ForecastPoint(p.origin, p.obs, draws, p.persistence, None)
        out.append(replace(p, members=draws, crps=crps(draws, p.observed), covered=fp.covered(0.9)))
    return out


def peak_errors(points: list[Point], h: int) -> list[tuple[str, float, float | None]]:
    """Relative error of the peak of each series over the h days after the origin.

    Per case, origin and series (place, indicator, statistic) with a report in the window
    (origin, origin + h]:
    the reported peak is the highest midpoint; the model's, the median over members of each
    member's highest figure on those reports; persistence's, the last value known (flat).
    Errors are |forecast − reported| / max(reported, 1). Returns (case, model's, persistence's
    or None).
    """
    groups: dict[tuple, list[Point]] = {}
    for p in points:
        if p.lead <= h:
            groups.setdefault((p.case, p.origin, p.series), []).append(p)
    out = []
    for (case, _, _), group in sorted(groups.items(), key=lambda kv: str(kv[0])):
        observed = max(p.observed for p in group)
        model = float(np.median(np.max([p.members for p in group], axis=0)))
        pers = group[0].persistence
        scale = max(observed, 1.0)
        out.append(
            (case, abs(model - observed) / scale,
             None if pers is None else abs(pers - observed) / scale)
        )  # fmt: skip
    return out


def table(points: list[Point], cases: list[str], scored: list[Point] | None = None) -> list[tuple]:
    """Per case and horizon: points, CRPS, 90 % coverage, persistence's CRPS, the ratio, and
    the peak's relative error (model, persistence on the same windows).

    ``scored`` (default ``points``) are the points whose CRPS and coverage count; peaks are
    always the members' own (the median of each member's highest figure).
    """
    peak_points, points = points, scored or points
    rows = []
    for case in [*cases, "all cases"]:
        for h in HORIZONS:
            mine = [p for p in points if (case == "all cases" or p.case == case) and p.lead == h]
            both = [p for p in mine if p.persistence_crps is not None]
            model = np.mean([p.crps for p in mine]) if mine else np.nan
            cover = np.mean([p.covered for p in mine]) if mine else np.nan
            pers = np.mean([p.persistence_crps for p in both]) if both else np.nan
            paired = np.mean([p.crps for p in both]) if both else np.nan
            ratio = paired / pers if both and pers > 0 else np.nan
            window = [p for p in peak_points if (case == "all cases" or p.case == case)]
            peaks = [e for e in peak_errors(window, h) if e[2] is not None]
            peak = np.mean([e[1] for e in peaks]) if peaks else np.nan
            peak_pers = np.mean([e[2] for e in peaks]) if peaks else np.nan
            rows.append((case, h, len(mine), model, cover, len(both), pers, ratio, len(peaks),
                         peak, peak_pers))  # fmt: skip
    return rows


def averages(rows: list[tuple], cases: list[str]) -> list[tuple]:
    """Per horizon, the mean over cases of the CRPS ratio (and its geometric mean, which a
    ratio from a handful of points sways less), coverage and peak errors. Each case counts
    once, whatever its number of points; cases without a value are left out."""
    out = []
    for h in HORIZONS:
        mine = [r for r in rows if r[1] == h and r[0] in cases]

        def mean(j: int, rs: list[tuple] = mine) -> tuple[float, int]:
            vals = [r[j] for r in rs if np.isfinite(r[j])]
            return (float(np.mean(vals)) if vals else np.nan), len(vals)

        ratios = [r[7] for r in mine if np.isfinite(r[7]) and r[7] > 0]
        geo = float(np.exp(np.mean(np.log(ratios)))) if ratios else np.nan
        out.append((h, *mean(7), geo, *mean(4), *mean(9), *mean(10)))
    return out


def write_outputs(
    points: list[Point], rows: list, out: Path, covers: dict[str, list[tuple]] | None = None
) -> None:
    """forecast_cycle.csv and forecast_cycle.png: CRPS skill by horizon and, with ``covers``
    (per way of scoring, its :func:`averages`), the mean 90 % coverage against its target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    with (out / "forecast_cycle.csv").open("w", encoding="utf-8") as f:
        f.write("case,origin,lead,date,end,stat,location,indicator,low,high,crps,covered90,"
                "persistence_crps,median,persistence\n")  # fmt: skip
        for p in points:
            o = p.obs
            pers = "" if p.persistence_crps is None else f"{p.persistence_crps:.3f}"
            last = "" if p.persistence is None else f"{p.persistence:g}"
            f.write(f"{p.case},{p.origin},{p.lead},{o.date},{o.end or ''},{o.stat},"
                    f"{o.location},{o.indicator},{o.low:g},{o.high:g},{p.crps:.3f},"
                    f"{int(p.covered)},{pers},{np.median(p.members):.3f},{last}\n")  # fmt: skip
    fig, axes = plt.subplots(1, 2 if covers else 1, figsize=(11 if covers else 6.4, 3.8),
                             squeeze=False)  # fmt: skip
    ax = axes[0][0]
    cases = [c for c in dict.fromkeys(r[0] for r in rows) if c != "all cases"]
    for case in cases:
        mine = [r for r in rows if r[0] == case]
        ax.plot([r[1] for r in mine], [1 - r[7] for r in mine], marker="o", lw=1, label=case)
    avg = averages(rows, cases)
    ax.plot([a[0] for a in avg], [1 - a[1] for a in avg], marker="s", lw=2.5, color="black",
            label="mean over cases")  # fmt: skip
    ax.plot([a[0] for a in avg], [1 - a[3] for a in avg], marker="s", lw=2.5, color="black",
            ls=":", label="geometric mean")  # fmt: skip
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.axhline(0.3, color="grey", lw=0.8, ls="--")
    ax.set_ylim(max(ax.get_ylim()[0], -2.0), 1.0)  # a ratio from two points may be off scale
    ax.set_xlabel("horizon (days)")
    ax.set_ylabel("CRPS skill vs persistence (1 − ratio)")
    ax.set_xticks(HORIZONS)
    ax.legend(fontsize=7, ncol=2)
    if covers:
        cov = axes[0][1]
        cov.axhspan(0.80, 0.97, color="tab:green", alpha=0.15, label="target 80–97 %")
        styles = {"forecast": ("black", "-"), "members": ("tab:red", "--"),
                  "report": ("tab:blue", ":")}  # fmt: skip
        for kind, avg in covers.items():
            color, ls = styles[kind]
            cov.plot([a[0] for a in avg], [a[4] for a in avg], marker="s", lw=2, color=color,
                     ls=ls, label=SCORES[kind])  # fmt: skip
        cov.set_ylim(0.4, 1.0)
        cov.set_xticks(HORIZONS)
        cov.set_xlabel("horizon (days)")
        cov.set_ylabel("90 % interval coverage, mean over cases")
        cov.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(out / "forecast_cycle.png", dpi=120)


def print_tables(rows: list[tuple], cases: list[str]) -> None:
    header = (f"{'case':>16} {'h':>2} {'points':>6} {'CRPS':>9} {'cover90':>7} "
              f"{'paired':>6} {'persist.':>9} {'ratio':>6} {'peaks':>5} {'peak err':>8} "
              f"{'pers. peak err':>14}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for case, h, n, crps_, cover, n2, pers, ratio, n3, peak, peak_pers in rows:
        print(f"{case:>16} {h:>2} {n:>6} {crps_:>9.1f} {cover:>7.0%} {n2:>6} {pers:>9.1f} "
              f"{ratio:>6.2f} {n3:>5} {peak:>8.2f} {peak_pers:>14.2f}")  # fmt: skip
    print("\nmean over cases (each case once; n: cases with a value)")
    print_means(rows, cases)


def print_means(rows: list[tuple], cases: list[str]) -> None:
    print(f"{'h':>2} {'CRPS ratio':>10} {'n':>2} {'geometric':>9} {'cover90':>7} {'n':>2} "
          f"{'peak err':>8} {'n':>2} {'pers. peak err':>14} {'n':>2}")  # fmt: skip
    for h, ratio, nr, geo, cover, nc, peak, npk, pers, npp in averages(rows, cases):
        print(f"{h:>2} {ratio:>10.2f} {nr:>2} {geo:>9.2f} {cover:>7.0%} {nc:>2} {peak:>8.2f} "
              f"{npk:>2} {pers:>14.2f} {npp:>2}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", default=None)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument(
        "--people",
        type=float,
        default=7e7,
        help="at most this many particles × people at risk a case (memory)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None, help="0: all in this process")
    parser.add_argument("--move", choices=("jitter", "mcmc"), default="mcmc")  # forecast's
    parser.add_argument("--out", type=Path, default=Path("results/forecast-cycle"))
    parser.add_argument(
        "--score",
        choices=("forecast", "members", "report"),
        default="forecast",
        help="the bands forecast writes (members with the model's error, the default), the "
        "members alone, or forecasts of the report (with the report's grade's error too)",
    )
    parser.add_argument(
        "--report-error", dest="score", action="store_const", const="report",
        help="the same as --score report",
    )  # fmt: skip
    parser.add_argument(
        "--resume", action="store_true", help="read back the cases an earlier run replayed"
    )
    args = parser.parse_args()
    from borderflow.execute import pool_executor

    args.cases = args.cases or cases_with_reports()
    executor = None if args.workers == 0 else pool_executor(args.workers)
    points, updates, seconds = [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in args.cases:
            n = particles_for(case, args.members, args.people)
            done = args.out / "cases" / f"{case}-{n}-seed{args.seed}-{args.move}.pickle"
            if args.resume and done.exists():  # replayed by an earlier run
                p, u, wall = pickle.loads(done.read_bytes())
            else:
                t0 = time.perf_counter()
                p, u = replay(case, n, args.seed, Path(tmp), executor, args.move)
                wall = time.perf_counter() - t0
                done.parent.mkdir(parents=True, exist_ok=True)
                done.write_bytes(pickle.dumps((p, u, wall)))  # kept if a later case fails
            seconds[case] = (n, wall, len({x.origin for x in p}), u)
            points += p
            updates += u
    scored = scored_as(points, args.score, args.seed)
    rows = table(points, args.cases, scored)
    print(f"forecast cycle replayed day by day, up to {args.members} particles "
          f"(at most {args.people:.3g} person-states a case), seed {args.seed}, "
          f"move {args.move}, {executor.workers if executor else 'no'} workers")  # fmt: skip
    print(f"CRPS and coverage scored as: {SCORES[args.score]}")
    print_tables(rows, args.cases)
    covers = {args.score: averages(rows, args.cases)}
    for kind in (k for k in SCORES if k != args.score):
        print(f"\nmean over cases, scored as {SCORES[kind]}")
        other = table(points, args.cases, scored_as(points, kind, args.seed))
        print_means(other, args.cases)
        covers[kind] = averages(other, args.cases)
    print("\nper case: particles, replay s, origins scored, median update s")
    for case, (n, wall, origins, upd) in seconds.items():
        med = f"{statistics.median(upd):.2f}" if upd else "-"
        print(f"{case:>16} {n:>4} {wall:>8.0f} {origins:>4} {med:>6}")
    if updates:
        print(f"one update: median {statistics.median(updates):.2f} s over {len(updates)} "
              f"(target 10 s with 200 particles)")  # fmt: skip
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    write_outputs(scored or points, rows, args.out, covers)  # the points as scored
    print(f"wrote {args.out / 'forecast_cycle.csv'} and {args.out / 'forecast_cycle.png'}")


if __name__ == "__main__":
    main()
