"""Compare variants with uncertainty: paired, member-by-member differences of ensembles.

Every variant runs the same members: member ``i`` has the same parameter draws and the same
simulation seed in each variant (they depend only on the root seed and ``i``), so its random
numbers are common to all variants. The difference between two variants is taken member by
member, and its spread is the uncertainty of the *effect* of the policy, much narrower than the
spread of either ensemble on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from borderflow.ensemble.runner import MEMBERS_DIR, member_file, run_ensemble
from borderflow.errors import ScenarioError
from borderflow.execute import Executor
from borderflow.results.atomic import atomic_outputs
from borderflow.results.hxl import write_csv

COMPARE_CSV = "compare.csv"
COMPARE_PNG = "compare.png"


@dataclass
class EnsembleComparison:
    case: str
    labels: list[str]
    members: int
    # (metric, crossing) -> per variant: values over members (array)
    values: dict[tuple[str, str], list[np.ndarray]]
    files: list[Path]

    def interval(self, key: tuple[str, str], k: int, diff: bool) -> tuple[float, float, float]:
        """Median and 90 % interval of variant ``k`` (or of its difference from the baseline)."""
        v = self.values[key][k] - (self.values[key][0] if diff else 0.0)
        lo, mid, hi = np.quantile(v, [0.05, 0.5, 0.95])
        return float(mid), float(lo), float(hi)


def compare_ensembles(
    case_dir: Path,
    choices: list[dict[str, str]],
    labels: list[str],
    params_file: Path,
    out_dir: Path,
    *,
    members: int,
    seed: int = 0,
    capacity: dict[str, int] | None = None,
    executor: Executor | None = None,
    on_member: Callable[[int], None] | None = None,
    lang: str = "en",
) -> EnsembleComparison:
    """Run (or resume) one ensemble per variant in ``out_dir/<k>/``; compare member by member.

    ``lang``: the language of the charts (compare.png and each variant's fan.png).
    """
    if len(choices) < 2:
        raise ScenarioError("compare needs at least two variants (the first is the baseline)")
    from borderflow.results.headline import figures
    from borderflow.results.series import Series, read_parquet
    from borderflow.scenario.border_io import read_border_case

    folders = []
    for k, choice in enumerate(choices):
        folder = out_dir / f"variant-{k}"
        run_ensemble(
            case_dir, params_file, folder, members=members, seed=seed, variant=choice,
            capacity=capacity, executor=executor, lang=lang, on_member=on_member,
        )  # fmt: skip
        folders.append(folder)
    case = read_border_case(case_dir, choices[0])
    crossings = [c.name for c in case.crossings]
    values: dict[tuple[str, str], list[np.ndarray]] = {}
    for folder in folders:
        rows = [
            figures(
                Series.from_table(read_parquet(folder / MEMBERS_DIR / member_file(i))),
                crossings,
                case.origin_day,
            )
            for i in range(members)
        ]
        for key in rows[0]:
            values.setdefault(key, []).append(np.array([r[key] for r in rows]))
    result = EnsembleComparison(case.name, labels, members, values, [])

    tags = {
        "metric": "#indicator+name",
        "crossing": "#loc+name",
        "variant": "#meta+variant",
        "median": "#indicator+num+median",
        "q05": "#indicator+num+q05",
        "q95": "#indicator+num+q95",
        "difference_median": "#indicator+diff+median",
        "difference_q05": "#indicator+diff+q05",
        "difference_q95": "#indicator+diff+q95",
    }

    def table():
        for key in values:
            for k, label in enumerate(labels):
                mid, lo, hi = result.interval(key, k, diff=False)
                dmid, dlo, dhi = result.interval(key, k, diff=True)
                yield [*key, label, *(f"{x:g}" for x in (mid, lo, hi, dmid, dlo, dhi))]

    from borderflow.report.plots.ensemble import plot_effects

    with atomic_outputs(out_dir) as out:
        out.write(COMPARE_CSV, lambda p: write_csv(p, tags, table()))
        out.write(COMPARE_PNG, lambda p: plot_effects(result, p, lang))
    result.files = [out_dir / COMPARE_CSV, out_dir / COMPARE_PNG]
    return result
