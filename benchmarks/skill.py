"""Forecast skill on Flee's own validation data: calibrated borderflow against Flee's default.

For each scenario (the project's copies of Mali and Burundi, with UNHCR camp counts):

1. **Flee's default run**: Flee 3.1 from PyPI (its own venv, as in ``flee_parity.py``), run
   here, once, with its default settings.
2. **borderflow, calibrated on the first half**: ABC-SMC fits the scenario's
   ``uncertain.toml`` (each camp's attractiveness and two of Flee's move rules) to the camp
   counts observed in the first half of the period only. Spawning follows the observed totals,
   as in Flee's validation, so the score measures where people go.
3. **The forecast of the second half**: posterior-predictive members run from the origin (the
   last day of the first half), starting from the camp counts observed by then, with the error
   model fitted before the origin (``borderflow backtest`` does exactly this at each origin).

Scores on the second half, against the same daily camp series (Flee's out.csv "data"
columns): Flee's averaged relative difference (simulated camps rescaled to the observed
total), for Flee's run and for the median of borderflow's members; then, on every observed
point of the second half, coverage of the 50 % and 90 % intervals, CRPS and MASE against
persistence. For transparency the table also shows borderflow without calibration and the
calibrated model run freely from day 0 (no start from the observed state), so that the gain
of each step is visible.

Targets: calibrated error at least 20 % below Flee's default on both; 90 % intervals cover
80–97 % of the observed points.

    python benchmarks/skill.py [--scenarios mali burundi] [--particles 60] [--generations 4]
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from borderflow.calibrate.backtest import BacktestSettings, backtest
from borderflow.calibrate.predictive import posterior_sampler, run_members
from borderflow.calibrate.problem import CAMP_INDICATOR, FleeProblem
from borderflow.calibrate.scoring import score
from borderflow.ensemble.params import read_uncertain
from borderflow.execute import pool_executor
from borderflow.results.flee_out import read_out_csv
from borderflow.results.metrics import averaged_relative_difference, rescaled
from flee_parity import DRIVER, REPO, ensure_flee_venv, flee_env, scenario_path


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def flee_default(name: str, work: Path) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, float]:
    """Flee 3.1's default run: camps, simulated and observed daily camp counts, seconds."""
    py = ensure_flee_venv()
    out_csv = work / f"{name}-flee.csv"
    t0 = time.perf_counter()
    with out_csv.open("w") as handle:
        cmd = [str(py), str(DRIVER), scenario_path(name), "0"]
        subprocess.run(cmd, cwd=REPO, stdout=handle, stderr=subprocess.DEVNULL, env=flee_env(),
                       check=True)  # fmt: skip
    seconds = time.perf_counter() - t0
    series = read_out_csv(out_csv)
    return series.camps, series.sim.astype(float), series.data.astype(float), seconds


def camp_matrix(values: np.ndarray, keys: list, camps) -> np.ndarray:
    """(days, camps) in ``camps`` order from a members' (days, keys) block."""
    return np.column_stack([values[:, keys.index((c, CAMP_INDICATOR))] for c in camps])


def ard(sim: np.ndarray, data: np.ndarray) -> float:
    return averaged_relative_difference(rescaled(sim, data), data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", nargs="+", default=["mali", "burundi"])
    ap.add_argument("--particles", type=int, default=60)
    ap.add_argument("--generations", type=int, default=4)
    ap.add_argument("--members", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args(argv)

    rows = []
    executor = pool_executor(args.workers)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.scenarios:
            log(f"{name}: Flee 3.1 default run ...")
            camps, flee_sim, data, flee_s = flee_default(name, Path(tmp))
            problem = FleeProblem.load(REPO / scenario_path(name))
            half = problem.days // 2
            origin = problem.start + dt.timedelta(days=half - 1)
            second = slice(half, min(len(data), problem.days))
            priors = read_uncertain(problem.priors_path(), problem)
            keys = [(c, CAMP_INDICATOR) for c in camps]
            t0 = time.perf_counter()

            # borderflow without calibration (Flee's rules, default values), free from day 0;
            # camps it holds closed until they opened are dated from the first half only
            plain = problem.restrict(origin).simulate({}, args.seed, problem.days - 1)
            plain_sim = np.column_stack([plain.daily(c, CAMP_INDICATOR) for c in camps])

            # calibrated on the first half, forecast of the second half from the origin
            log(f"{name}: calibrating on the first half (to {origin}) and forecasting ...")
            settings = BacktestSettings(
                horizon=problem.days - half, particles=args.particles,
                generations=args.generations, members=args.members, seed=args.seed,
            )  # fmt: skip
            (result,) = backtest(problem, priors, [origin], settings, executor=executor,
                                 report=log)  # fmt: skip
            forecast = np.median(result.runs.values, axis=0)
            forecast = camp_matrix(forecast, result.runs.keys, camps)

            # the same posterior, run freely from day 0 (no start from the observed state)
            fit = problem.restrict(origin)
            free = run_members(fit, posterior_sampler(result.posterior, priors), keys,
                               members=args.members, until=problem.days - 1, origin=None,
                               seed=args.seed, stream=99, executor=executor)  # fmt: skip
            free_sim = camp_matrix(np.median(free.values, axis=0), free.keys, camps)
            seconds = time.perf_counter() - t0

            s = score(result.points)
            rows.append({
                "scenario": name,
                "flee": ard(flee_sim[second], data[second]),
                "plain": ard(plain_sim[second].astype(float), data[second]),
                "free": ard(free_sim[second], data[second]),
                "forecast": ard(forecast[second], data[second]),
                "points": s["points"], "cover50": s["cover50"], "cover90": s["cover90"],
                "crps": s["crps"], "mase": s["mase_persistence"], "sigma": result.errors.pooled,
                "runs": result.posterior.simulations, "seconds": seconds, "flee_s": flee_s,
                "origin": origin, "days": problem.days - half,
            })  # fmt: skip

    print()
    print("Averaged relative difference on the second half (Flee's measure, lower is better)")
    print()
    print("| scenario | second half | Flee 3.1 default | borderflow, not calibrated | "
          "calibrated, run from day 0 | calibrated forecast from the origin | "
          "change vs Flee (target ≤ −20 %) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        change = r["forecast"] / r["flee"] - 1
        print(f"| {r['scenario']} | {r['days']} days after {r['origin']} | {r['flee']:.4f} | "
              f"{r['plain']:.4f} | {r['free']:.4f} | {r['forecast']:.4f} | "
              f"{change:+.1%} {'met' if change <= -0.2 else 'NOT met'} |")  # fmt: skip
    print()
    print("The forecast's intervals on the observed points of the second half")
    print()
    print(
        "| scenario | points | 50 % cover | 90 % cover (target 80–97 %) | CRPS | "
        "MASE vs persistence | pooled error sd (log) | ABC runs | borderflow time | Flee run |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ok = 0.80 <= r["cover90"] <= 0.97
        print(f"| {r['scenario']} | {r['points']} | {r['cover50']:.0%} | {r['cover90']:.0%} "
              f"{'met' if ok else 'NOT met'} | {r['crps']:,.0f} | {r['mase']:.3f} | "
              f"{r['sigma']:.3f} | {r['runs']} | {r['seconds']:.0f} s | "
              f"{r['flee_s']:.0f} s |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
