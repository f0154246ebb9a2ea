"""Leave-one-episode-out forecasts of every built-in border episode, against its reports.

For each case in ``src/borderflow/builtin/cases/`` (found by listing the folder):

1. **The model, leave-one-out** (``borderflow learn``'s fits): hyper-parameters of the shared
   behavioural parameters fitted on all the *other* episodes (all their reports), then this
   episode's parameters by ABC-SMC from that prior on its reports up to its origin only;
   ``--members`` runs drawn from the fit (whole particles).
2. **The model with today's parameters**: the same number of runs drawn from the case's own
   ``uncertain.toml`` as it stands (no fit), or scenario.toml's values if it has none.
3. **Persistence**: the last count reported by the origin stays (where one exists).

Each is scored on every report whose last day is after the origin: share of reported ranges
covered by the 50 % and 90 % bands, CRPS (``borderflow.calibrate.scoring``, the backtest's);
and on the headline series (reported most often after the origin) the peak after the origin
(median and 90 % interval) and its date, and the clearance date (first day below 10 % of the
peak). A fan plot per episode with the reports (``OUT/<case>.png``), the table printed and
written as ``OUT/episodes.csv`` (HXL).

    python benchmarks/episodes.py [--members 100] [--particles 60] [--generations 3]
                                  [--steps 3000] [--workers 2] [--out results/episodes]
                                  [--reuse-fits]

``--reuse-fits`` forecasts from the fits ``borderflow learn`` wrote into the case folders (the
same leave-one-out fits, when they are current) and skips the fitting.

Defaults take about 3 minutes per episode on 2 cores (the fits), plus ~10 s per episode for
the members. No timing is asserted anywhere; the figures go into docs/forecasting.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from borderflow.calibrate import episode_scores as es
from borderflow.calibrate.abc import Posterior
from borderflow.calibrate.diagnostics import posterior_warnings
from borderflow.calibrate.hierarchy import read_hierarchy
from borderflow.calibrate.learn import (
    EpisodeFit,
    LearnSettings,
    builtin_cases,
    learn,
    load_episode,
)
from borderflow.calibrate.predictive import MemberRuns, posterior_sampler
from borderflow.ensemble.params import POSTERIOR, read_posterior
from borderflow.execute import pool_executor
from borderflow.results.hxl import write_csv

COLUMNS = {
    "episode": "#meta+episode", "forecaster": "#meta+forecaster", "series": "#indicator+code",
    "points": "#meta+points", "cover50": "#indicator+score+cover50",
    "cover90": "#indicator+score+cover90", "crps": "#indicator+score+crps",
    "peak_reported": "#indicator+num+peak+reported", "peak_date_reported": "#date+peak+reported",
    "peak_q05": "#value+peak+q05", "peak_median": "#value+peak+median",
    "peak_q95": "#value+peak+q95", "peak_date": "#date+peak", "cleared_reported":
    "#date+cleared+reported", "cleared": "#date+cleared",
}  # fmt: skip


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def rows_of(fit: EpisodeFit, model: MemberRuns, today: MemberRuns, seed: int) -> list[dict]:
    """The forecasters' rows for one episode: the model's members as they are (forecasts of
    the true figure) and with the grade's error (forecasts of the report), today's
    parameters, persistence."""
    ep = fit.episode
    problem, origin = ep.problem, ep.origin
    key = es.headline(es.after_origin(problem, origin))
    reported = es.reported_peak(es.after_origin(problem, origin), key) if key else None
    base = {"episode": ep.name, "series": f"{key[0]} {key[1]}" if key else "",
            "peak_reported": reported.mid if reported else None,
            "peak_date_reported": reported.date if reported else "",
            "cleared_reported": reported.cleared if reported else ""}  # fmt: skip
    out = []
    model_pts = es.points(model, problem, origin)
    for name, pts, runs in (
        ("model, leave-one-out", model_pts, model),
        ("model, leave-one-out, of the report", es.report_points(model_pts, seed), model),
        ("model, today's parameters", es.points(today, problem, origin), today),
        ("persistence", es.persistence_points(model_pts), None),
    ):
        row = {**base, "forecaster": name, **es.scores(pts)}
        peak = es.forecast_peak(runs, key, origin) if runs is not None and key else None
        if peak is not None:
            row |= {"peak_q05": peak.low, "peak_median": peak.mid, "peak_q95": peak.high,
                    "peak_date": peak.date, "cleared": peak.cleared}  # fmt: skip
        out.append(row)
    return out


def fan(fit: EpisodeFit, runs: MemberRuns, path: Path) -> None:
    """The leave-one-out forecast's bands of each reported series, with the reports."""
    from borderflow.calibrate.backtest import OriginResult, chart_panels
    from borderflow.calibrate.predictive import ErrorModel
    from borderflow.report.plots.calibration import plot_backtest

    ep = fit.episode
    pts = es.points(runs, ep.problem, ep.origin)
    result = OriginResult(ep.origin, fit.posterior, ErrorModel(0.0, {}, 0), runs, pts,
                          frozenset())  # fmt: skip
    plot_backtest(f"{ep.name} (leave-one-out)", chart_panels([result], ep.problem), path)


def committed_fit(path: Path) -> EpisodeFit:
    """A case's leave-one-out fit as `borderflow learn` wrote it (its posterior.csv)."""
    ep = load_episode(path)
    sampler = read_posterior(path / POSTERIOR, ep.problem)
    post = Posterior(sampler.names, sampler.particles, sampler.weights, [], 0)
    priors = {n: d for n, d in ep.own.items() if n not in sampler.names}  # fixed ones
    # The fit's prior for a shared parameter was the other episodes' (not kept in the case
    # folder), not the case's own range: edges are checked for its own parameters only.
    own = {n: d for n, d in ep.own.items() if n not in read_hierarchy()}
    return EpisodeFit(ep, priors, post, None, posterior_warnings(post, own))  # type: ignore[arg-type]


def fmt(v, pct: bool = False) -> str:
    if v is None or v == "" or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, str):
        return v
    return f"{v:.0%}" if pct else (f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}")


def print_table(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Episodes: forecasts from the origin against the reports after it")
    heads = [("episode", "episode"), ("forecaster", "forecaster"), ("points", "reports"),
             ("cover50", "50 % cover"), ("cover90", "90 % cover"), ("crps", "CRPS"),
             ("peak_reported", "peak reported"), ("peak", "peak forecast [90 %]"),
             ("peak_date_reported", "peak date rep."), ("peak_date", "peak date fc."),
             ("cleared_reported", "cleared rep."), ("cleared", "cleared fc.")]  # fmt: skip
    for _, h in heads:
        table.add_column(h, justify="left" if h in ("episode", "forecaster") else "right")
    for r in rows:
        cells = []
        for k, _ in heads:
            if k == "peak":
                cells.append("–" if r.get("peak_median") is None else
                             f"{fmt(r['peak_median'])} [{fmt(r['peak_q05'])}–"
                             f"{fmt(r['peak_q95'])}]")  # fmt: skip
            elif k == "points":
                cells.append(str(int(r.get(k, 0))))
            else:
                cells.append(fmt(r.get(k), pct=k.startswith("cover")))
        table.add_row(*cells)
    Console(width=200).print(table)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=100, help="members per forecast (>= 100)")
    ap.add_argument("--particles", type=int, default=60, help="ABC particles per fit")
    ap.add_argument("--generations", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3000, help="emcee steps")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("results/episodes"))
    ap.add_argument("--reuse-fits", action="store_true",
                    help="forecast from the leave-one-out fits `borderflow learn` wrote in each "
                    "case folder (posterior.csv) instead of fitting again")  # fmt: skip
    a = ap.parse_args()
    t0 = time.perf_counter()
    executor = pool_executor(a.workers)
    cases = builtin_cases()
    log(f"{len(cases)} episodes: {', '.join(p.name for p in cases)}")
    if a.reuse_fits:
        fits = [committed_fit(p) for p in cases]
    else:
        settings = LearnSettings(a.particles, a.generations, a.steps, a.seed)
        fits = list(learn(cases, read_hierarchy(), settings, executor=executor,
                          say=lambda m: log(f"[{time.perf_counter() - t0:7.1f} s] {m}"))
                    .fits.values())  # fmt: skip
    a.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, fit in enumerate(fits):
        problem = fit.episode.problem
        sampler = posterior_sampler(fit.posterior, fit.priors)
        model = es.forecast_runs(problem, sampler, members=a.members, seed=a.seed,
                                 stream=2 * i + 1, executor=executor)  # fmt: skip
        today = es.forecast_runs(problem, fit.episode.own, members=a.members, seed=a.seed,
                                 stream=2 * i + 2, executor=executor)  # fmt: skip
        rows += rows_of(fit, model, today, a.seed)
        fan(fit, model, a.out / f"{fit.episode.name}.png")
        for w in fit.warnings:
            log(f"warning: {fit.episode.name}: {w}")
        log(f"[{time.perf_counter() - t0:7.1f} s] {fit.episode.name}: forecasts scored")
    print_table(rows)
    write_csv(a.out / "episodes.csv", COLUMNS,
              ([_cell(r.get(k)) for k in COLUMNS] for r in rows))  # fmt: skip
    fitted = ("the fits in the case folders" if a.reuse_fits
              else f"{a.particles} particles, {a.generations} generations")  # fmt: skip
    print(
        f"wrote {a.out}/episodes.csv and a fan plot per episode; "
        f"{time.perf_counter() - t0:.0f} s with {a.members} members, {fitted} "
        f"on {a.workers} workers"
    )


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}" if np.isfinite(v) else ""
    return str(v)


if __name__ == "__main__":
    main()
