"""Which of Flee's version-dependent rules are more accurate: the evidence for the default.

Flee's current code ("head") and its 3.1 release differ in a handful of rules
(``borderflow.scenario.flee_settings.RuleChoices``). This runs borderflow on every carried
scenario under each profile and under Flee head with one rule switched to 3.1's choice, and
prints the mean Error (rescaled) over seeds: the table in docs/flee.md ("The default rules")
that the ``borderflow`` profile's choices are taken from. Only borderflow runs (in-process, a
pool of ``--jobs`` processes), so it takes minutes, not Flee's hours::

    python benchmarks/flee_rules.py [--scenarios all] [--seeds 3] [--jobs 2] [--days N]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import statistics
import sys
import time
from collections.abc import Sequence

from borderflow.results.metrics import scores
from borderflow.rules.flee import FleeModel
from borderflow.scenario.flee_io import read_flee_scenario
from borderflow.scenario.flee_settings import FleeSettings
from borderflow.scenario.locate import BUILTIN_FLEE, resolve_scenario

# (label, compatibility profile, rule overrides)
CONFIGS: tuple[tuple[str, str, dict[str, bool]], ...] = (
    ("head", "head", {}),
    ("3.1", "3.1", {}),
    ("head, total spawn", "head", {"spawn_from_camps": False}),
    ("head, no day-0 cut", "head", {"day0_capacity_cut": False}),
    ("head, end from 1", "head", {"conflict_end_from_any": False}),
    ("head, respelled", "head", {"respelled_conflicts": True}),
    ("3.1, respelled", "3.1", {"respelled_conflicts": True}),
    ("borderflow", "borderflow", {}),
)


def one_run(scenario: str, compat: str, rules: dict[str, bool], seed: int, days: int) -> float:
    """Error (rescaled) of one borderflow run."""
    settings = FleeSettings.model_validate({"compatibility": compat, "rule_choices": rules})
    sc = read_flee_scenario(resolve_scenario(scenario), days=days or None)
    model = FleeModel(sc, settings, seed).run()
    return scores(model.camp_series())["error_rescaled"]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenarios", nargs="+", default=["all"])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--days", type=int, default=0, help="a prefix of N days (0: all)")
    p.add_argument(
        "--configs", nargs="+", help="labels of CONFIGS to run (default: all)", default=None
    )
    args = p.parse_args(argv)
    names = list(BUILTIN_FLEE) if args.scenarios == ["all"] else args.scenarios
    configs = [c for c in CONFIGS if args.configs is None or c[0] in args.configs]
    t0 = time.perf_counter()
    errors: dict[tuple[str, str], list[float]] = {}
    with cf.ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futs = {
            pool.submit(one_run, s, compat, rules, seed, args.days): (s, label)
            for s in names
            for label, compat, rules in configs
            for seed in range(1, args.seeds + 1)
        }
        for fut in cf.as_completed(futs):
            errors.setdefault(futs[fut], []).append(fut.result())
            print(f"{futs[fut]}: {errors[futs[fut]][-1]:.4f}", file=sys.stderr, flush=True)
    width = max(len(c[0]) for c in configs)
    print(f"Error (rescaled), mean of {args.seeds} seed(s) per cell; days: {args.days or 'all'}")
    print(f"{'scenario':<18}" + "".join(f" {c[0]:>{width}}" for c in configs))
    means: dict[str, list[float]] = {c[0]: [] for c in configs}
    for s in names:
        cells = []
        for label, _, _ in configs:
            m = statistics.fmean(errors[(s, label)])
            means[label].append(m)
            cells.append(f" {m:>{width}.4f}")
        print(f"{s:<18}" + "".join(cells))
    print(
        f"{'mean':<18}" + "".join(f" {statistics.fmean(means[c[0]]):>{width}.4f}" for c in configs)
    )
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
