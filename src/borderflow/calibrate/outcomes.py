"""``borderflow score``: a run or an ensemble against reported outcomes (observations format).

Each report's figure is read from every member's series exactly as the fit reads it
(:func:`~borderflow.observe.quantity.quantity_series`, then the day's value, the period's mean
or maximum). A run has one value per report; an ensemble, one per member, from which the median,
the 90 % band and the CRPS (against the middle of the reported range) follow. A report is
*inside* when the value (a run) or the 90 % band (an ensemble) meets its range.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from borderflow.calibrate.problem import figure, last_day
from borderflow.calibrate.scoring import crps
from borderflow.errors import ScenarioError
from borderflow.observe.quantity import indicator_terms, location_parts, quantity_series
from borderflow.results.series import Series
from borderflow.scenario.border_checks import did_you_mean
from borderflow.scenario.border_schema import ObservationRow

SCORE_CSV, SCORE_PNG = "score.csv", "score.png"
SCORE_TAGS = {
    "date": "#date+start", "end": "#date+end", "stat": "#meta+stat", "location": "#loc+name",
    "indicator": "#indicator+code", "low": "#indicator+num+min", "high": "#indicator+num+max",
    "reliability": "#meta+reliability", "model": "#indicator+num+median",
    "q05": "#indicator+num+q05", "q95": "#indicator+num+q95", "inside": "#meta+inside",
    "crps": "#indicator+crps",
}  # fmt: skip


@dataclass(frozen=True)
class Scored:
    """One report and what the run (one value) or the ensemble (members' values) said."""

    obs: ObservationRow
    values: np.ndarray

    @property
    def ensemble(self) -> bool:
        return len(self.values) > 1

    @property
    def median(self) -> float:
        return float(np.median(self.values))

    def band(self) -> tuple[float, float]:
        return float(np.quantile(self.values, 0.05)), float(np.quantile(self.values, 0.95))

    @property
    def inside(self) -> bool:
        lo, hi = self.band()
        return lo <= self.obs.high and hi >= self.obs.low

    @property
    def crps(self) -> float:
        return crps(self.values, 0.5 * (self.obs.low + self.obs.high))

    def row(self) -> list[object]:
        o, (lo, hi) = self.obs, self.band()
        ens = self.ensemble
        return [
            o.date, o.end or "", o.stat, o.location, o.indicator, _num(o.low), _num(o.high),
            o.reliability, _num(self.median), _num(lo) if ens else "", _num(hi) if ens else "",
            int(self.inside), _num(self.crps) if ens else "",
        ]  # fmt: skip


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.6g}"


def load_members(folder: Path) -> tuple[list[Series], str]:
    """The series of a run folder (one) or an ensemble folder (its members), and which."""
    from borderflow.ensemble.runner import MEMBERS_DIR
    from borderflow.results.series import read_parquet

    members = sorted((folder / MEMBERS_DIR).glob("member-*.parquet"))
    if members:
        return [Series.from_table(read_parquet(p)) for p in members], "ensemble"
    run = folder / "series.parquet"
    if run.is_file():
        return [Series.from_table(read_parquet(run))], "run"
    raise ScenarioError(
        "neither a run folder (series.parquet) nor an ensemble folder (members/*.parquet)",
        file=folder,
    )


def _not_counted(series: Series, o: ObservationRow) -> tuple[str, str]:
    """The column and the reason a run has no series for a report (with the nearest names)."""
    indicators = series.indicators()
    for t in indicator_terms(o.indicator):
        if t.indicator not in indicators:
            hint = did_you_mean(t.indicator, indicators)
            return "indicator", f"the run does not count '{t.indicator}'{hint}"
    places = sorted({p for i in indicators for p in series.places(i)} | {"ALL"})
    for part in location_parts(o.location, frozenset(places)):
        if part not in places:
            return "location", f"the run has no place '{part}'{did_you_mean(part, places)}"
    return "location", f"the run does not count '{o.indicator}' at '{o.location}'"


def score_outcomes(members: list[Series], outcomes: Path) -> tuple[list[Scored], list[str]]:
    """Every report of ``outcomes`` the run covers, scored; and notes on those it does not."""
    from borderflow.scenario.border_io import read_table

    rows, lines = read_table(outcomes, ObservationRow)
    if not rows:
        raise ScenarioError("no reports to score", file=outcomes)
    first = members[0]
    end = first.start_date + dt.timedelta(days=first.days - 1)
    scored, notes = [], []
    for o, line in zip(rows, lines, strict=True):
        if quantity_series(first, o.location, o.indicator) is None:
            column, message = _not_counted(first, o)
            raise ScenarioError(message, file=outcomes, row=line, column=column)
        if o.date < first.start_date or last_day(o) > end:
            notes.append(f"row {line}: {o.date}..{last_day(o)} is outside the run, not scored")
            continue
        values = []
        for s in members:
            daily = quantity_series(s, o.location, o.indicator)
            v = None if daily is None else figure(daily, s.start_date, o)
            values.append(0.0 if v is None else v)
        scored.append(Scored(o, np.array(values)))
    return scored, notes


def summary(scored: list[Scored]) -> dict[str, float]:
    """Coverage (share of reports inside) and, for an ensemble, the mean CRPS."""
    if not scored:
        return {"reports": 0, "coverage": float("nan"), "crps": float("nan")}
    out = {"reports": len(scored), "coverage": float(np.mean([s.inside for s in scored]))}
    out["crps"] = float(np.mean([s.crps for s in scored])) if scored[0].ensemble else float("nan")
    return out


def plot_scores(scored: list[Scored], title: str, lang: str = "en"):
    """Reported ranges (grey bars) against the model's value or median and 90 % band."""
    from matplotlib.ticker import FuncFormatter

    from borderflow.i18n import fmt_number, translator
    from borderflow.report.plots.common import figure as new_figure
    from borderflow.report.plots.common import indicator_name, wrap

    T = translator(lang)

    fig = new_figure(11, 2.5 + 0.32 * len(scored))
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(scored))[::-1]
    for yi, s in zip(y, scored, strict=True):
        o = s.obs
        ax.plot([o.low, o.high], [yi, yi], color="#999999", lw=7, solid_capstyle="butt")
        colour = "#2a9d3f" if s.inside else "#d1495b"
        if s.ensemble:
            lo, hi = s.band()
            ax.plot([lo, hi], [yi, yi], color=colour, lw=1.6)
        ax.plot([s.median], [yi], "o", color=colour, ms=5)
    stats = {"value": T("value"), "mean": T("mean"), "max": T("max")}
    labels = [
        f"{s.obs.date}{'..' + str(s.obs.end) if s.obs.end else ''} {stats[s.obs.stat]} "
        f"{indicator_name(s.obs.indicator, lang)} @ {s.obs.location}"
        for s in scored
    ]
    ax.set_yticks(y, [wrap(label, 60) for label in labels], fontsize=8)
    ax.set_xscale("symlog", linthresh=10)
    top = max(max(s.obs.high, float(np.max(s.values))) for s in scored)
    ax.set_xlim(0, max(top * 1.4, 10))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_number(v + 0.0, lang)))
    ax.set_xlabel(
        T("people")
        + "\n"
        + wrap(
            T(
                "grey: reported range; dot: the model's value or median, line: its 90 % band; "
                "green: inside the range, red: outside"
            ),
            110,
        ),
        fontsize=9,
    )
    ax.set_title(wrap(title, 100), fontsize=11)
    return fig
