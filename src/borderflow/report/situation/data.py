"""What a situation report says, gathered from a run folder or an ensemble (forecast) folder.

A run folder (``run.json`` and ``series.parquet``) gives one trajectory: its figures have no
range. An ensemble folder (``ensemble.json``, ``bands.parquet`` and ``members/``; the forecast
command writes the same files) gives every member's trajectory: each figure is the median with
the 5–95 % range over members, computed from the members' files with the same definitions as
the run summary (:mod:`borderflow.results.headline`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from borderflow.errors import ScenarioError
from borderflow.results.headline import ALL_CROSSINGS, FIGURES, figures, summarise

REPORT_JSON = "report.json"  # the last report's headline, for "what changed"
# an ensemble folder's files (borderflow.ensemble.runner's names; the report layer reads them
# without importing the services, and a test checks that the names agree)
MANIFEST, MEMBERS_DIR, BANDS = "ensemble.json", "members", "bands.parquet"
QUANTILES = (0.05, 0.5, 0.95)


@dataclass(frozen=True)
class Figure:
    """A headline figure: the median and its 90 % range (equal for a single run)."""

    low: float
    mid: float
    high: float


@dataclass(frozen=True)
class Fan:
    """Daily people stranded at one crossing (quantiles over members) and reported counts."""

    dates: np.ndarray
    q05: np.ndarray
    q50: np.ndarray
    q95: np.ndarray
    reported: list[tuple[dt.date, float, float]]


@dataclass
class SituationData:
    folder: Path
    title: str
    case_name: str
    variant: dict[str, str]
    members: int  # 1 for a single run
    seed: int
    origin: dt.date
    start: dt.date
    end: dt.date
    crossings: list[str]
    headline: dict[tuple[str, str], Figure]  # (figure key, crossing or ALL_CROSSINGS)
    needs: dict[str, dict[str, float]]  # crossing → need → median at each member's peak
    need_units: dict[str, str]
    fans: dict[str, Fan]
    comparison: list[list[str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    assumptions: list[tuple[str, str]] = field(default_factory=list)
    previous: dict[str, float] | None = None

    def headline_json(self) -> dict[str, float]:
        """The medians, keyed ``figure|crossing``: what the next report compares against."""
        return {f"{k}|{c}": v.mid for (k, c), v in sorted(self.headline.items())}


def _member_tables(folder: Path) -> tuple[dict, list]:
    from borderflow.results.series import read_parquet

    if (folder / MANIFEST).exists() and (folder / BANDS).exists():
        meta = json.loads((folder / MANIFEST).read_text())
        files = sorted((folder / MEMBERS_DIR).glob("*.parquet"))
        if not files:
            raise ScenarioError(f"{folder / MEMBERS_DIR}: no member files")
        return meta, [read_parquet(f) for f in files]
    if (folder / "run.json").exists() and (folder / "series.parquet").exists():
        meta = json.loads((folder / "run.json").read_text())
        if meta.get("ruleset") != "border":
            raise ScenarioError(f"{folder / 'run.json'}: not a border-crisis run")
        meta["case_dir"] = meta["case_path"]
        return meta, [read_parquet(folder / "series.parquet")]
    raise ScenarioError(
        f"{folder}: neither a run folder (run.json, series.parquet) nor an ensemble folder"
        " (ensemble.json, bands.parquet, members/)"
    )


def _figure(values: list[float]) -> Figure:
    lo, mid, hi = np.quantile(np.asarray(values, dtype=float), QUANTILES)
    return Figure(float(lo), float(mid), float(hi))


def _fan(series_list, crossing: str, case) -> Fan:
    from borderflow.report.plots.data import observed_ranges

    first = series_list[0]
    block = np.stack([s.values("stranded", crossing) for s in series_list])
    q05, q50, q95 = np.quantile(block, QUANTILES, axis=0)
    dates = np.datetime64(first.start_date, "D") + np.arange(first.days)
    return Fan(dates, q05, q50, q95, observed_ranges(case, "stranded", crossing))


def load_situation(folder: Path) -> SituationData:
    """Read a run or ensemble folder and compute everything the report shows."""
    from borderflow.results.series import Series
    from borderflow.scenario.border_io import read_border_case

    meta, tables = _member_tables(folder)
    case = read_border_case(meta["case_dir"], meta.get("variant") or {})
    series_list = [Series.from_table(t) for t in tables]
    first = series_list[0]
    names = [x.name for x in case.crossings]
    since = max(0, (case.spec.case.origin - first.start_date).days)
    keys = [*names, ALL_CROSSINGS]
    per_member = [figures(s, keys, since) for s in series_list]
    headline = {
        (key, c): _figure([m[(label, c)] for m in per_member])
        for key, label, _, _ in FIGURES
        for c in keys
    }
    needs_names = tuple(row.indicator for row in case.needs)
    summaries = [summarise(s, names, since, needs_names) for s in series_list]
    needs = {
        c: {
            k: float(np.median([m[i].needs_at_peak.get(k, np.nan) for m in summaries]))
            for k in summaries[0][i].needs_at_peak
        }
        for i, c in enumerate(names)
    }
    spec = case.spec.case
    return SituationData(
        folder=folder,
        title=spec.title,
        case_name=case.name,
        variant=dict(case.variant),
        members=len(series_list),
        seed=int(meta.get("seed", 0)),
        origin=spec.origin,
        start=first.start_date,
        end=first.start_date + dt.timedelta(days=first.days - 1),
        crossings=names,
        headline=headline,
        needs=needs,
        need_units={row.indicator: row.unit for row in case.needs},
        fans={c: _fan(series_list, c, case) for c in names},
        comparison=read_comparison(folder),
        sources=_sources(case),
        assumptions=_assumptions(case),
    )


COMPARED = ("peak stranded", "people in need at the peak")


def read_comparison(path: Path) -> list[list[str]]:
    """A compare.csv's rows (metric, crossing, variant, value, difference) of :data:`COMPARED`.

    ``path`` is a compare.csv or a folder holding one; a missing file gives no rows.
    """
    import csv

    from borderflow.report.run_folder import COMPARE_CSV

    if path.is_dir():
        path = path / COMPARE_CSV
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[2:]  # header and HXL hashtag row
    try:
        return [
            [m, c, v, f"{float(x):g}", f"{float(d):g}"] for m, c, v, x, d in rows if m in COMPARED
        ]
    except ValueError as exc:
        raise ScenarioError(f"{path}: not a compare.csv ({exc})") from None


def _sources(case) -> list[str]:
    """The distinct sources of the case's reported counts, in order of first use."""
    seen: dict[str, None] = {}
    for o in case.observations:
        text = o.source.split(" ASSUMPTION:")[0].strip()
        seen.setdefault(text, None)
    return list(seen)


def _assumptions(case, limit: int = 6) -> list[tuple[str, str]]:
    """The first assumptions of the case, each cut to its first sentence (the rest: ``info``)."""
    from borderflow.scenario.border_io import parameter_sources

    rows = []
    for p in parameter_sources(case):
        if p.assumption:
            first = p.assumption.split(". ")[0].rstrip(".")
            rows.append((p.parameter, first + "."))
    return rows[:limit]


def read_previous(path: Path) -> dict[str, float] | None:
    """The headline of the last report written at ``path`` (``report.json``), if any."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        return {str(k): float(v) for k, v in data["headline"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ScenarioError(f"{path}: not a report summary ({exc})") from None
