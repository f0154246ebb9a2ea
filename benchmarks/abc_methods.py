"""ABC-SMC by importance weights (Beaumont) against replenishment, on learn's reference fits.

For each case: the fit ``borderflow learn`` makes of it first (all its reports, the
hierarchy's reference prior for the shared parameters, the case's uncertain.toml for the
rest, learn's seed for the case), once by each method at the same sizes. Printed per fit:
the parameters fitted, the effective sample size (1 / sum of squared weights, identical
particles merged), the distinct particles, the last tolerance, the simulations, the moves'
acceptance (replenishment) and the seconds taken.

    python benchmarks/abc_methods.py [--cases tijuana-2018 chile-peru-2023]
                                     [--particles 60] [--generations 3] [--workers 1]

No timing is asserted anywhere; the figures go into docs/forecasting.md ("ABC-SMC").
"""

from __future__ import annotations

import argparse
import time

from borderflow.calibrate.abc import METHODS, abc_smc
from borderflow.calibrate.hierarchy import read_hierarchy
from borderflow.calibrate.learn import (
    CASES_DIR,
    LearnSettings,
    _seed,
    load_episode,
    reference_priors,
)
from borderflow.execute import choose_executor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", nargs="+", default=["tijuana-2018", "chile-peru-2023"])
    ap.add_argument("--particles", type=int, default=60)
    ap.add_argument("--generations", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    shared = read_hierarchy()
    settings = LearnSettings(particles=a.particles, generations=a.generations)
    print(f"{'case':<18}{'d':>3}  {'method':<10}{'ESS':>6}{'distinct':>9}{'tolerance':>10}"
          f"{'runs':>6}  {'accepted':<10}{'s':>6}")  # fmt: skip
    for name in a.cases:
        ep = load_episode(CASES_DIR / name)
        priors = reference_priors(ep, shared)
        for method in METHODS:
            t0 = time.perf_counter()
            post = abc_smc(ep.problem, priors, particles=a.particles, generations=a.generations,
                           seed=_seed(settings, name, 0), method=method,
                           executor=choose_executor(a.workers, None, None))  # fmt: skip
            rates = "/".join(f"{r:.0%}" for r in post.acceptance) or "–"
            print(f"{name:<18}{len(post.names):>3}  {method:<10}{post.effective_size():>6.1f}"
                  f"{post.distinct():>9}{post.tolerances[-1]:>10.4f}{post.simulations:>6}  "
                  f"{rates:<10}{time.perf_counter() - t0:>6.1f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
