"""Pictures of a border-crisis run for people who read charts, not tables.

:func:`write_plots` draws three PNGs into a run folder (``stranded.png``, ``flows.png``,
``map.png``); :func:`plot_compare` draws policy variants side by side. The small helpers
(:func:`series`, :func:`road_totals`, :func:`top_roads`, ...) return the very numbers that are
drawn, so tests check numbers rather than pixels.

Everything is drawn offline with matplotlib's Agg canvas on a bare ``Figure`` (no pyplot state,
no tile servers, no map downloads); matplotlib is imported only when a picture is drawn, so
importing this module is cheap.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from borderflow.results.series import FLOW_SEPARATOR

if TYPE_CHECKING:
    import pyarrow as pa

    from borderflow.results.atomic import AtomicOutputs
    from borderflow.scenario.border_io import BorderCase

STRANDED_PNG = "stranded.png"
FLOWS_PNG = "flows.png"
MAP_PNG = "map.png"

#: Separator of the two place names in the location of a ``flow`` row ("From>To").
TOP_ROADS = 6
DPI = 120

_KIND_MARKER = {
    "residence": ("s", "home region"),
    "city": ("o", "city"),
    "post": ("D", "border post"),
    "destination": ("*", "destination"),
    "shelter": ("P", "shelter"),
}
_KIND_SIZE = {"residence": 38, "city": 44, "post": 40, "destination": 120, "shelter": 52}
_COUNTRY_COLOURS = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
    "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
)  # fmt: skip
_LINE_COLOURS = (
    "#0b5fa5", "#d1495b", "#2a9d3f", "#7b4fa0", "#e08a00",
    "#5c4033", "#c2418f", "#1497a8", "#8f8f00", "#555555",
)  # fmt: skip
_STRANDED_CIRCLE = "#e4572e"
_MAX_CIRCLE_PT = 46.0  # diameter, in points, of the circle of the largest peak
_MAX_ROAD_WIDTH = 9.0


# -- the numbers ---------------------------------------------------------------------------


def _rows(table: pa.Table, indicator: str, location: str | None = None) -> pa.Table:
    import pyarrow.compute as pc

    mask = pc.equal(table["indicator"].cast("string"), indicator)
    if location is not None:
        mask = pc.and_(mask, pc.equal(table["location"].cast("string"), location))
    return table.filter(mask)


def series(table: pa.Table, indicator: str, location: str) -> tuple[np.ndarray, np.ndarray]:
    """Dates (``datetime64[D]``) and values of one indicator at one location, by day.

    Both arrays are empty when the table has no such rows.
    """
    rows = _rows(table, indicator, location).sort_by("day")
    dates = rows["date"].to_numpy().astype("datetime64[D]")
    values = rows["value"].to_numpy().astype(float)
    return dates, values


def locations(table: pa.Table, indicator: str) -> list[str]:
    """The locations that carry ``indicator``, in the order they first appear in the table."""
    seen = _rows(table, indicator)["location"].cast("string").to_pylist()
    return list(dict.fromkeys(seen))


def crossings(table: pa.Table, case: BorderCase | None = None) -> list[str]:
    """Crossing names: the case's order if given, else those with a ``stranded`` series."""
    if case is not None:
        return [c.name for c in case.crossings]
    return locations(table, "stranded")


def split_road(location: str) -> tuple[str, str]:
    """``"From>To"`` → ``("From", "To")``."""
    src, sep, dst = location.partition(FLOW_SEPARATOR)
    if not sep:
        raise ValueError(f"'{location}' is not a road (expected 'From{FLOW_SEPARATOR}To')")
    return src, dst


def road_totals(table: pa.Table) -> dict[tuple[str, str], float]:
    """Total people who completed each directed road over the whole run."""
    rows = _rows(table, "flow")
    if rows.num_rows == 0:
        return {}
    import pyarrow as pa

    plain = pa.table({"location": rows["location"].cast(pa.string()), "value": rows["value"]})
    grouped = plain.group_by("location").aggregate([("value", "sum")])
    return {
        split_road(loc): float(total)
        for loc, total in zip(
            grouped["location"].to_pylist(), grouped["value_sum"].to_pylist(), strict=True
        )
    }


def segment_totals(table: pa.Table) -> dict[tuple[str, str], float]:
    """Road totals with both directions summed, keyed by the two place names sorted."""
    out: dict[tuple[str, str], float] = {}
    for (a, b), total in road_totals(table).items():
        key = (a, b) if a <= b else (b, a)
        out[key] = out.get(key, 0.0) + total
    return out


def top_roads(table: pa.Table, n: int = TOP_ROADS) -> list[tuple[str, str]]:
    """The ``n`` directed roads with the largest total flow, largest first (ties by name)."""
    totals = road_totals(table)
    ranked = sorted((t for t in totals.items() if t[1] > 0), key=lambda t: (-t[1], t[0]))
    return [road for road, _ in ranked[:n]]


def peak_stranded(table: pa.Table, case: BorderCase | None = None) -> dict[str, float]:
    """The largest evening count of people stranded at each crossing over the run."""
    out = {}
    for name in crossings(table, case):
        _, values = series(table, "stranded", name)
        out[name] = float(values.max()) if len(values) else 0.0
    return out


def observed_ranges(
    case: BorderCase, indicator: str, location: str
) -> list[tuple[dt.date, float, float]]:
    """The case's reported (date, low, high) of single days, for one indicator and place."""
    rows = [
        (o.date, o.low, o.high)
        for o in case.observations
        if o.indicator == indicator and o.location == location and o.stat == "value"
    ]
    return sorted(rows)


def observed_periods(
    case: BorderCase, indicator: str, location: str
) -> list[tuple[dt.date, dt.date, str, float, float]]:
    """Reported means or peaks over a period: (start, end, stat, low, high), by start."""
    rows = [
        (o.date, o.end or o.date, o.stat, o.low, o.high)
        for o in case.observations
        if o.indicator == indicator and o.location == location and o.stat != "value"
    ]
    return sorted(rows)


def _draw_periods(ax, periods, colour: str) -> bool:
    """Shade each reported period's range (mean: filled box; peak: hatched box)."""
    from matplotlib.patches import Rectangle

    for start, end, stat, low, high in periods:
        x0 = np.datetime64(start, "D")
        width = (np.datetime64(end, "D") + 1 - x0).astype(int)
        ax.add_patch(
            Rectangle(
                (x0, low),
                np.timedelta64(int(width), "D"),
                high - low,
                facecolor=colour if stat == "mean" else "none",
                edgecolor=colour,
                hatch=None if stat == "mean" else "///",
                alpha=0.25 if stat == "mean" else 0.6,
                zorder=2,
            )
        )
    return bool(periods)


def difference(
    table: pa.Table, baseline: pa.Table, indicator: str, location: str
) -> tuple[np.ndarray, np.ndarray]:
    """Day-by-day ``table − baseline`` of one series, on the dates both tables share."""
    d1, v1 = series(table, indicator, location)
    d0, v0 = series(baseline, indicator, location)
    common, i1, i0 = np.intersect1d(d1, d0, assume_unique=True, return_indices=True)
    return common, v1[i1] - v0[i0]


# -- drawing helpers -----------------------------------------------------------------------


def _figure(width: float, height: float, layout: str | None = "constrained"):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> None:
    fig.savefig(path, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})


def _write(fig, name: str, out: AtomicOutputs) -> Path:
    return out.write(name, lambda p: _save(fig, p))


def _wrap(text: str, width: int = 95) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _case_title(case: BorderCase) -> str:
    return _wrap(f"{case.spec.case.title} (case {case.name})")


def _years(dates: Sequence[Any]) -> str:
    years = sorted({np.datetime64(d, "Y").astype(int) + 1970 for d in dates})
    if not years:
        return ""
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def _date_axis(ax, dates: Sequence[Any]) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    years = _years(dates)
    ax.set_xlabel(f"Date ({years})" if years else "Date")
    ax.grid(True, color="#dddddd", linewidth=0.7)
    ax.set_axisbelow(True)


def _origin_line(ax, origin: dt.date, *, label: bool = True) -> None:
    x = np.datetime64(origin, "D")
    ax.axvline(x, color="#333333", linestyle="--", linewidth=1.2, zorder=1)
    if label:
        ax.annotate(
            "forecast origin",
            xy=(x, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(4, -4),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=9,
            color="#333333",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
        )


def _people_axis(ax, label: str, *, signed: bool = False) -> None:
    """Whole-number ticks with thousands separators, at least 4 people tall (after plotting).

    ``signed``: the values may be negative (differences); else the axis starts at 0.
    """
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.set_ylabel(label)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v + 0.0:,.0f}"))
    lo, hi = ax.get_ylim()
    if signed:
        if hi - lo < 4:
            mid = (lo + hi) / 2
            ax.set_ylim(mid - 2, mid + 2)
    else:
        ax.set_ylim(0, max(hi, 4))


def _run_dates(table: pa.Table) -> np.ndarray:
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return np.array([], dtype="datetime64[D]")
    lo, hi = pc.min_max(table["date"]).values()
    return np.arange(
        np.datetime64(lo.as_py(), "D"), np.datetime64(hi.as_py(), "D") + 1, dtype="datetime64[D]"
    )


def _colour(i: int) -> str:
    return _LINE_COLOURS[i % len(_LINE_COLOURS)]


# -- stranded.png --------------------------------------------------------------------------


def plot_stranded(table: pa.Table, case: BorderCase):
    """People stranded each evening per crossing, with reported ranges and the origin."""
    fig = _figure(11, 6)
    ax = fig.add_subplot()
    has_obs = has_periods = False
    for i, name in enumerate(crossings(table, case)):
        dates, values = series(table, "stranded", name)
        colour = _colour(i)
        ax.plot(dates, values, color=colour, linewidth=2, label=f"{name}: model")
        obs = observed_ranges(case, "stranded", name)
        if obs:
            has_obs = True
            x = np.array([np.datetime64(o[0], "D") for o in obs])
            low = np.array([o[1] for o in obs])
            high = np.array([o[2] for o in obs])
            ax.vlines(x, low, high, color=colour, linewidth=2.2, alpha=0.5, zorder=3)
            for y in (low, high):
                ax.scatter(x, y, marker="_", s=40, color=colour, alpha=0.8, zorder=3)
            ax.plot([], [], color=colour, linewidth=2.2, alpha=0.5, label=f"{name}: reported range")
        if _draw_periods(ax, observed_periods(case, "stranded", name), colour):
            has_obs = has_periods = True
            label = f"{name}: reported mean (box) / peak (hatched) over a period"
            ax.plot([], [], color=colour, linewidth=6, alpha=0.25, label=label)
    _origin_line(ax, case.spec.case.origin)
    _date_axis(ax, _run_dates(table))
    _people_axis(ax, "People stranded at the border (count each evening)")
    ax.set_title("People stranded between the border posts each night", fontsize=13)
    fig.suptitle(_case_title(case), fontsize=11, color="#444444")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    note = "Lines: the model's count of people stranded each evening."
    if has_obs:
        note += (
            " Vertical bars: range reported by the press or authorities (low to high)."
            " Left of the dashed line (forecast origin) the model is checked against these"
            " reports; right of it, it forecasts."
        )
    else:
        note += " Right of the dashed line (forecast origin) the model forecasts."
    if has_periods:
        note += " Boxes: a reported mean (filled) or peak (hatched) over the period they span."
    fig.text(0.01, 0.01, _wrap(note, 150), fontsize=8.5, color="#555555", va="bottom")
    fig.get_layout_engine().set(rect=(0, 0.06, 1, 0.94))
    return fig


# -- flows.png -----------------------------------------------------------------------------


def plot_flows(table: pa.Table, case: BorderCase):
    """Daily people on the busiest roads, and daily crossings and refusals per crossing."""
    fig = _figure(11, 8.5)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(1, 1))
    roads = top_roads(table)
    for i, (a, b) in enumerate(roads):
        dates, values = series(table, "flow", f"{a}{FLOW_SEPARATOR}{b}")
        top.plot(dates, values, color=_colour(i), linewidth=1.6, label=f"{a} → {b}")
    if not roads:
        top.text(0.5, 0.5, "no travel on any road", transform=top.transAxes, ha="center")
    top.set_title(
        f"Busiest roads: people arriving at the end of the road each day (top {len(roads)})"
    )
    _people_axis(top, "People per day")
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    for i, name in enumerate(crossings(table, case)):
        colour = _colour(i)
        dates, crossed = series(table, "crossed", name)
        bottom.plot(dates, crossed, color=colour, linewidth=1.8, label=f"{name}: crossed")
        dates, refused = series(table, "refused", name)
        bottom.plot(
            dates, refused, color=colour, linewidth=1.6, linestyle=":", label=f"{name}: refused"
        )
    bottom.set_title("Border crossings: people let through and people turned back each day")
    _people_axis(bottom, "People per day")
    bottom.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    run_dates = _run_dates(table)
    for ax in (top, bottom):
        _date_axis(ax, run_dates)
        _origin_line(ax, case.spec.case.origin)
    top.set_xlabel("")
    top.tick_params(labelbottom=True)
    fig.suptitle(_case_title(case), fontsize=11, color="#444444")
    return fig


# -- map.png -------------------------------------------------------------------------------


def _nice(value: float) -> float:
    """A round number not above ``value`` (1, 2, 5 × 10^k)."""
    if value <= 0:
        return 0.0
    exp = 10 ** math.floor(math.log10(value))
    for step in (5, 2, 1):
        if step * exp <= value:
            return float(step * exp)
    return float(exp)


def _road_width(total: float, largest: float) -> float:
    return 0.8 + _MAX_ROAD_WIDTH * (total / largest if largest > 0 else 0.0)


def _circle_size(peak: float, largest: float) -> float:
    """Marker area (points²) of a crossing's circle: area ∝ peak stranded."""
    if largest <= 0 or peak <= 0:
        return 0.0
    return _MAX_CIRCLE_PT**2 * peak / largest


def _overlap(a, b) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return w * h if w > 0 and h > 0 else 0.0


_LABEL_OFFSETS = [
    (7, 0, "left", "center"),
    (-7, 0, "right", "center"),
    (0, 7, "center", "bottom"),
    (0, -7, "center", "top"),
    (6, 6, "left", "bottom"),
    (-6, 6, "right", "bottom"),
    (6, -6, "left", "top"),
    (-6, -6, "right", "top"),
]


def _place_labels(fig, ax, labels: list[tuple[str, float, float]], avoid) -> None:
    """Label points without overlaps: try positions around each point, then further out.

    ``avoid`` holds display-space boxes (e.g. markers) that labels should not cover.
    """
    from matplotlib.transforms import Bbox

    renderer = fig.canvas.get_renderer()
    axbox = ax.get_window_extent(renderer)
    placed = list(avoid)
    for text, x, y in labels:
        best = None
        for ring in (1.0, 2.6, 4.2):
            for dx, dy, ha, va in _LABEL_OFFSETS:
                ann = ax.annotate(
                    text,
                    xy=(x, y),
                    xytext=(dx * ring, dy * ring),
                    textcoords="offset points",
                    ha=ha,
                    va=va,
                    fontsize=8.5,
                    zorder=6,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
                    arrowprops=(
                        {"arrowstyle": "-", "color": "#777777", "lw": 0.6, "shrinkB": 3}
                        if ring > 1
                        else None
                    ),
                )
                box = ann.get_window_extent(renderer)
                outside = _overlap(box, axbox) < box.width * box.height - 1e-6
                cost = sum(_overlap(box, p) for p in placed) + (1e6 if outside else 0.0)
                cost += ring  # prefer close positions when otherwise equal
                if best is None or cost < best[0]:
                    if best is not None:
                        best[1].remove()
                    best = (cost, ann, box)
                else:
                    ann.remove()
            if best is not None and best[0] < 10:
                break
        if best is not None:
            placed.append(Bbox.from_extents(*best[2].extents))


def _zoom_box(case: BorderCase) -> tuple[float, float, float, float] | None:
    """(lon0, lon1, lat0, lat1) around the border posts, when they are crowded on the map."""
    lons = [p.lon for p in case.places]
    lats = [p.lat for p in case.places]
    posts = [p for p in case.places if p.kind == "post"]
    if not posts:
        return None
    plon = [p.lon for p in posts]
    plat = [p.lat for p in posts]
    pad = max(0.6, 0.35 * max(max(plon) - min(plon), max(plat) - min(plat)))
    box = (min(plon) - pad, max(plon) + pad, min(plat) - pad, max(plat) + pad)
    span_lon, span_lat = max(lons) - min(lons), max(lats) - min(lats)
    if (box[1] - box[0]) > 0.4 * span_lon and (box[3] - box[2]) > 0.4 * span_lat:
        return None
    return box


def _draw_network(ax, case, segs, largest_seg, peaks, largest_peak, colour_of) -> None:
    pos = {p.name: (p.lon, p.lat) for p in case.places}
    drawn = set()
    for r in case.routes:
        key = (r.from_, r.to) if r.from_ <= r.to else (r.to, r.from_)
        if key in drawn or r.from_ not in pos or r.to not in pos:
            continue
        drawn.add(key)
        (x0, y0), (x1, y1) = pos[r.from_], pos[r.to]
        total = segs.get(key, 0.0)
        if total > 0:
            ax.plot(
                [x0, x1],
                [y0, y1],
                color="#6b7a8f",
                alpha=0.75,
                linewidth=_road_width(total, largest_seg),
                solid_capstyle="round",
                zorder=2,
            )
        else:
            ax.plot([x0, x1], [y0, y1], color="#b0b0b0", linewidth=0.8, linestyle="--", zorder=1.5)
    for kind, (marker, _label) in _KIND_MARKER.items():
        ps = [p for p in case.places if p.kind == kind]
        if ps:
            ax.scatter(
                [p.lon for p in ps],
                [p.lat for p in ps],
                marker=marker,
                s=_KIND_SIZE[kind],
                c=[colour_of[p.iso3] for p in ps],
                edgecolors="black",
                linewidths=0.6,
                zorder=4,
            )
    centres = {}
    for c in case.crossings:
        if c.exit_post in pos and c.entry_post in pos:
            (x0, y0), (x1, y1) = pos[c.exit_post], pos[c.entry_post]
            centres[c.name] = ((x0 + x1) / 2, (y0 + y1) / 2)
            s = _circle_size(peaks.get(c.name, 0.0), largest_peak)
            if s > 0:
                ax.scatter(
                    [centres[c.name][0]],
                    [centres[c.name][1]],
                    s=s,
                    facecolor=_STRANDED_CIRCLE,
                    edgecolor="#8a2a0f",
                    alpha=0.45,
                    linewidths=1.2,
                    zorder=3,
                )


def _fit_limits(fig, ax, lon0, lon1, lat0, lat1, min_pad=0.15, pad_frac=0.06) -> None:
    """Set limits around a lon/lat box, widened so the axes cell is filled at true aspect.

    One degree of longitude is drawn cos(latitude) as long as one degree of latitude.
    """
    pad_x = max(min_pad, pad_frac * (lon1 - lon0))
    pad_y = max(min_pad, pad_frac * (lat1 - lat0))
    lon0, lon1, lat0, lat1 = lon0 - pad_x, lon1 + pad_x, lat0 - pad_y, lat1 + pad_y
    aspect = 1.0 / max(math.cos(math.radians((lat0 + lat1) / 2)), 0.1)
    pos = ax.get_position()
    width_in = pos.width * fig.get_figwidth()
    height_in = pos.height * fig.get_figheight()
    dx, dy = lon1 - lon0, lat1 - lat0
    if dy * aspect / dx < height_in / width_in:  # too wide a box: add latitude
        grow = (dx * height_in / width_in / aspect - dy) / 2
        lat0, lat1 = lat0 - grow, lat1 + grow
    else:
        grow = (dy * aspect * width_in / height_in - dx) / 2
        lon0, lon1 = lon0 - grow, lon1 + grow
    ax.set_xlim(lon0, lon1)
    ax.set_ylim(lat0, lat1)
    ax.set_aspect(aspect, adjustable="box")
    ax.set_xlabel("Longitude (°)")
    ax.set_ylabel("Latitude (°)")
    ax.grid(True, color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=8)


def _labelled(case: BorderCase, through: Mapping[str, float], n_cities: int = 8) -> list:
    """Places worth a name on the map.

    Posts, destinations, the busiest cities, and home regions that do not sit on one of those.
    """
    cities = [p for p in case.places if p.kind == "city"]
    cities.sort(key=lambda p: (-through.get(p.name, 0.0), p.name))
    out = [p for p in case.places if p.kind in ("post", "destination")] + cities[:n_cities]
    for p in case.places:
        if p.kind == "residence" and not any(
            abs(p.lon - q.lon) < 0.1 and abs(p.lat - q.lat) < 0.1 for q in out
        ):
            out.append(p)
    return out


_LABEL_ORDER = {"post": 0, "city": 1, "destination": 2, "shelter": 3, "residence": 4}


def plot_map(table: pa.Table, case: BorderCase):
    """The route graph on longitude/latitude, roads by total travellers, crossings by peak."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    segs = segment_totals(table)
    largest_seg = max(segs.values(), default=0.0)
    peaks = peak_stranded(table, case)
    largest_peak = max(peaks.values(), default=0.0)
    countries = sorted({p.iso3 for p in case.places})
    colour_of = {c: _COUNTRY_COLOURS[i % len(_COUNTRY_COLOURS)] for i, c in enumerate(countries)}
    through: dict[str, float] = {}
    for (a, b), total in segs.items():
        through[a] = through.get(a, 0.0) + total
        through[b] = through.get(b, 0.0) + total

    box = _zoom_box(case)
    fig = _figure(14 if box else 11, 8.5, layout=None)
    if box is not None:
        grid = fig.add_gridspec(1, 3, width_ratios=(1.0, 1.3, 0.6), wspace=0.2)
        overview, closeup = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
        axes = [overview, closeup]
        legend_ax = fig.add_subplot(grid[0, 2])
    else:
        grid = fig.add_gridspec(1, 2, width_ratios=(1.6, 0.55), wspace=0.1)
        overview, closeup = fig.add_subplot(grid[0, 0]), None
        axes = [overview]
        legend_ax = fig.add_subplot(grid[0, 1])
    legend_ax.axis("off")
    fig.subplots_adjust(left=0.06, right=0.99, top=0.87, bottom=0.1)

    lons = [p.lon for p in case.places]
    lats = [p.lat for p in case.places]
    _fit_limits(fig, overview, min(lons), max(lons), min(lats), max(lats))
    # in the overview, the crossings' circles would hide the roads: the close-up shows them
    _draw_network(
        overview, case, segs, largest_seg, peaks if closeup is None else {}, largest_peak, colour_of
    )
    overview.set_title("Whole route network" if closeup else "Route network", fontsize=11)
    if closeup is not None:
        _fit_limits(fig, closeup, *box, min_pad=0.0, pad_frac=0.0)
        _draw_network(closeup, case, segs, largest_seg, peaks, largest_peak, colour_of)
        closeup.set_title("Close-up of the border crossings", fontsize=11)
        (x0, x1), (y0, y1) = closeup.get_xlim(), closeup.get_ylim()
        overview.add_patch(
            Rectangle(
                (x0, y0),
                x1 - x0,
                y1 - y0,
                fill=False,
                edgecolor="#444444",
                linestyle=":",
                linewidth=1.0,
                zorder=5,
            )
        )

    fig.canvas.draw()
    wanted = _labelled(case, through)
    for ax in axes:
        (xlo, xhi), (ylo, yhi) = ax.get_xlim(), ax.get_ylim()
        shown = [p for p in wanted if xlo <= p.lon <= xhi and ylo <= p.lat <= yhi]
        if ax is overview and closeup is not None:
            # the overview leaves the crowded border area to the close-up
            (cx0, cx1), (cy0, cy1) = closeup.get_xlim(), closeup.get_ylim()
            shown = [p for p in shown if not (cx0 <= p.lon <= cx1 and cy0 <= p.lat <= cy1)]
        if ax is closeup:
            shown += [
                p
                for p in case.places
                if p.kind == "shelter" and xlo <= p.lon <= xhi and ylo <= p.lat <= yhi
            ]
        shown.sort(key=lambda p: (_LABEL_ORDER[p.kind], -through.get(p.name, 0.0), p.name))
        avoid = []
        for p in case.places:
            x, y = ax.transData.transform((p.lon, p.lat))
            avoid.append(_point_box(x, y, 4.5 * fig.dpi / 72))
        _place_labels(fig, ax, [(p.name, p.lon, p.lat) for p in shown], avoid)

    # legend: place kinds, countries, road widths, stranded circles
    handles: list[Any] = [Line2D([], [], linestyle="none", label="$\\bf{Places}$")]
    for kind, (marker, label) in _KIND_MARKER.items():
        if any(p.kind == kind for p in case.places):
            handles.append(
                Line2D(
                    [],
                    [],
                    marker=marker,
                    linestyle="none",
                    markerfacecolor="white",
                    markeredgecolor="black",
                    markersize=math.sqrt(_KIND_SIZE[kind]),
                    label=label,
                )
            )
    handles.append(Line2D([], [], linestyle="none", label="$\\bf{Country}$ (colour)"))
    handles += [Patch(facecolor=colour_of[c], edgecolor="black", label=c) for c in countries]
    handles.append(Line2D([], [], linestyle="none", label="$\\bf{Roads}$ (people, both ways)"))
    if largest_seg > 0:
        for value in sorted({_nice(largest_seg), _nice(largest_seg / 4)}, reverse=True):
            if value > 0:
                handles.append(
                    Line2D(
                        [],
                        [],
                        color="#6b7a8f",
                        alpha=0.75,
                        linewidth=_road_width(value, largest_seg),
                        label=f"{value:,.0f} people",
                    )
                )
    handles.append(
        Line2D([], [], color="#b0b0b0", linestyle="--", linewidth=0.8, label="no one travelled")
    )
    first = legend_ax.legend(
        handles=handles,
        loc="upper left",
        frameon=False,
        fontsize=9,
        handlelength=2.6,
        labelspacing=0.9,
        borderaxespad=0.0,
    )
    legend_ax.add_artist(first)
    # the circles get a legend of their own, spaced for their size, under the first one
    circles = []
    for name, peak in peaks.items():
        circles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="none",
                markerfacecolor=_STRANDED_CIRCLE,
                markeredgecolor="#8a2a0f",
                alpha=0.45,
                markersize=max(math.sqrt(_circle_size(peak, largest_peak)), 1.0),
                label=_wrap(f"{name}: {peak:,.0f} people", 24),
            )
        )
    diameter = max((h.get_markersize() for h in circles), default=0.0)
    fontsize = 9
    bottom = first.get_window_extent(fig.canvas.get_renderer()).y0
    top_pt = legend_ax.transAxes.inverted().transform((0, bottom - diameter * fig.dpi / 72))[1]
    legend_ax.legend(
        handles=circles,
        title="$\\bf{Crossings}$ (peak stranded)",
        title_fontsize=fontsize,
        loc="upper left",
        bbox_to_anchor=(0.0, top_pt),
        frameon=False,
        fontsize=fontsize,
        handlelength=max(2.6, diameter / fontsize + 0.4),
        labelspacing=max(0.9, diameter / fontsize - 0.5),
        borderaxespad=0.0,
        alignment="left",
    )
    fig.suptitle(
        _wrap(f"Where people travelled and where they were stranded — {case.spec.case.title}", 110)
        + f"\n(case {case.name}; {_run_span(table)})",
        fontsize=12,
    )
    fig.text(
        0.06,
        0.02,
        "roads: total people over the run; circles: peak stranded",
        fontsize=10,
        color="#333333",
    )
    fig.text(
        0.99,
        0.02,
        "Drawn from the case's coordinates; no background map.",
        fontsize=8,
        color="#777777",
        ha="right",
    )
    return fig


def _point_box(x: float, y: float, r: float):
    from matplotlib.transforms import Bbox

    return Bbox.from_extents(x - r, y - r, x + r, y + r)


def _run_span(table: pa.Table) -> str:
    dates = _run_dates(table)
    if len(dates) == 0:
        return "no days"
    first, last = (d.astype(dt.date) for d in (dates[0], dates[-1]))
    return f"{first:%d %b %Y} to {last:%d %b %Y}"


# -- the run folder and comparisons --------------------------------------------------------


def write_plots(table: pa.Table, case: BorderCase, out: AtomicOutputs) -> list[Path]:
    """Write ``stranded.png``, ``flows.png`` and ``map.png`` of a run through ``out``."""
    written = []
    for name, draw in ((STRANDED_PNG, plot_stranded), (FLOWS_PNG, plot_flows), (MAP_PNG, plot_map)):
        fig = draw(table, case)
        written.append(_write(fig, name, out))
    return written


def plot_compare(
    series_by_label: Mapping[str, pa.Table],
    case: BorderCase,
    path: Path | str,
    baseline: str,
) -> Path:
    """Compare runs of the same case (e.g. policy variants) and save a PNG at ``path``.

    One row per crossing: on the left, people stranded each evening in every run; on the
    right, each run minus the ``baseline`` run, day by day. ``path`` is written directly (its
    folder is created); to write it all-or-nothing with other files, call this inside an
    :class:`~borderflow.results.atomic.AtomicOutputs` writer:
    ``out.write("compare.png", lambda p: plot_compare(tables, case, p, baseline))``.
    """
    if baseline not in series_by_label:
        raise ValueError(f"baseline '{baseline}' is not one of {sorted(series_by_label)}")
    path = Path(path)
    names = [c.name for c in case.crossings]
    labels = [baseline] + [k for k in series_by_label if k != baseline]
    colour = {label: _colour(i) for i, label in enumerate(labels)}
    fig = _figure(13, 1.0 + 3.3 * max(len(names), 1))
    axes = fig.subplots(max(len(names), 1), 2, sharex=True, squeeze=False)
    base = series_by_label[baseline]
    run_dates = _run_dates(base)
    for row, name in enumerate(names):
        left, right = axes[row]
        for label in labels:
            dates, values = series(series_by_label[label], "stranded", name)
            is_base = label == baseline
            left.plot(
                dates,
                values,
                color=colour[label],
                linewidth=3.0 if is_base else 1.6,
                label=f"{label} (baseline)" if is_base else label,
                zorder=2 if is_base else 3,  # variants stay visible where they equal it
            )
            if not is_base:  # the baseline's own difference is the zero line
                dates, diff = difference(series_by_label[label], base, "stranded", name)
                right.plot(dates, diff, color=colour[label], linewidth=1.6, zorder=3)
        left.set_title(f"{name}: people stranded each night", fontsize=11)
        right.set_title(f"{name}: difference from '{baseline}'", fontsize=11)
        _people_axis(left, "People stranded (evening count)")
        right.axhline(0, color=colour[baseline], linewidth=2.0, zorder=2)  # the baseline
        _people_axis(right, "People (run − baseline)", signed=True)
        for ax in (left, right):
            _date_axis(ax, run_dates)
            _origin_line(ax, case.spec.case.origin, label=row == 0)
            if row < len(names) - 1:
                ax.set_xlabel("")
                ax.tick_params(labelbottom=True)
    handles, texts = axes[0][0].get_legend_handles_labels()
    fig.legend(
        handles,
        texts,
        loc="outside lower center",
        ncol=min(len(labels), 5),
        fontsize=10,
        title="Runs compared",
        title_fontsize=10,
        frameon=False,
    )
    fig.suptitle(
        _wrap(f"Variants compared: people stranded at each crossing — {case.spec.case.title}", 120)
        + f"\n(case {case.name}; above zero on the right = more people stranded than baseline)",
        fontsize=12,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    _save(fig, path)
    return path


# -- fan.png (ensembles) ---------------------------------------------------------------------


def band_series(bands: pa.Table, indicator: str, location: str) -> dict[str, np.ndarray]:
    """Dates and the quantile columns of one indicator at one place, in day order."""
    rows = _rows(bands, indicator, location)
    order = np.argsort(rows.column("day").to_numpy())
    out = {"dates": np.array(rows.column("date").to_pylist(), dtype="datetime64[D]")[order]}
    for col in ("q05", "q25", "q50", "q75", "q95"):
        out[col] = rows.column(col).to_numpy()[order]
    return out


def plot_fan(bands: pa.Table, case: BorderCase, path: Path, members: int) -> None:
    """Fan charts of stranded people and daily crossings per crossing.

    Median and 50/90 % bands over members, with the reported ranges overlaid.
    """
    names = crossings(bands, case)
    fig = _figure(13, 3.6 * len(names))
    axes = fig.subplots(len(names), 2, squeeze=False)
    for i, name in enumerate(names):
        colour = _colour(i)
        for j, (indicator, label) in enumerate(
            (("stranded", "People stranded (evening count)"), ("crossed", "People crossing a day"))
        ):
            ax = axes[i][j]
            b = band_series(bands, indicator, name)
            ax.fill_between(b["dates"], b["q05"], b["q95"], color=colour, alpha=0.18, lw=0,
                            label="90 % of members")  # fmt: skip
            ax.fill_between(b["dates"], b["q25"], b["q75"], color=colour, alpha=0.35, lw=0,
                            label="50 % of members")  # fmt: skip
            ax.plot(b["dates"], b["q50"], color=colour, linewidth=2, label="median")
            if indicator == "stranded":
                obs = observed_ranges(case, "stranded", name)
                if obs:
                    x = np.array([np.datetime64(o[0], "D") for o in obs])
                    ax.vlines(x, [o[1] for o in obs], [o[2] for o in obs], color="black",
                              linewidth=2, label="reported range")  # fmt: skip
            _origin_line(ax, case.spec.case.origin, label=(i == 0 and j == 0))
            _date_axis(ax, b["dates"])
            _people_axis(ax, label)
            ax.set_title(f"{name}: {label.lower()}", fontsize=11)
            if i == 0:
                ax.legend(loc="upper right", frameon=False, fontsize=8)
    fig.suptitle(
        f"{_case_title(case)}: ensemble of {members} members (median, 50 % and 90 % bands)",
        fontsize=12,
    )
    _save(fig, path)


# -- compare.png (ensembles) -----------------------------------------------------------------


def plot_effects(result, path: Path) -> None:
    """Each variant's effect against the baseline: median and 90 % interval, per figure."""
    keys = list(result.values)
    variants = result.labels[1:]
    fig = _figure(11, 0.55 * len(keys) * max(len(variants), 1) + 1.8)
    ax = fig.add_subplot()
    y = 0
    ticks, labels = [], []
    for key in keys:
        for k, label in enumerate(variants, start=1):
            mid, lo, hi = result.interval(key, k, diff=True)
            scale = max(abs(result.interval(key, 0, diff=False)[0]), 1.0)
            colour = _colour(k)
            ax.plot([lo / scale * 100, hi / scale * 100], [y, y], color=colour, linewidth=3)
            ax.plot([mid / scale * 100], [y], "o", color=colour)
            ax.annotate(
                f"{mid:+,.0f} [{lo:+,.0f} to {hi:+,.0f}]",
                xy=(hi / scale * 100, y),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
            ticks.append(y)
            labels.append(f"{key[0]}, {key[1]}: {label}")
            y -= 1
        y -= 0.5
    ax.axvline(0, color="#333333", linewidth=1)
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.set_xlabel(f"Change from the baseline ({result.labels[0]}), % of the baseline's median")
    ax.grid(True, axis="x", color="#dddddd")
    ax.set_title(
        f"{result.case}: effect of each variant, member by member over {result.members} members "
        "(dot: median; bar: 90 % interval; labels in people)",
        fontsize=11,
    )
    _save(fig, path)


# -- sobol.png -------------------------------------------------------------------------------


def plot_sobol(result, path: Path) -> None:
    """Sobol' indices per headline output: total (ST) and first-order (S1) bars, ranked."""
    outputs = list(result.indices)
    fig = _figure(13, 2.2 + 0.35 * len(result.names) * ((len(outputs) + 1) // 2))
    axes = fig.subplots((len(outputs) + 1) // 2, 2, squeeze=False).ravel()
    for ax, output in zip(axes, outputs, strict=False):
        ind = result.indices[output]
        order = np.argsort(ind["ST"])
        yy = np.arange(len(order))
        names = [result.names[j] for j in order]
        ax.barh(yy + 0.2, ind["ST"][order], height=0.4, xerr=ind["ST_conf"][order],
                color="#1f5fa8", label="total (ST)")  # fmt: skip
        ax.barh(yy - 0.2, ind["S1"][order], height=0.4, xerr=ind["S1_conf"][order],
                color="#9dc3e6", label="first order (S1)")  # fmt: skip
        ax.set_yticks(yy, names, fontsize=8)
        ax.set_xlim(left=min(0.0, float(np.min(ind["S1"])) - 0.05))
        ax.set_title(output, fontsize=11)
        ax.set_xlabel("share of the output's variance")
        ax.grid(True, axis="x", color="#dddddd")
        ax.legend(loc="lower right", frameon=False, fontsize=8)
    for ax in axes[len(outputs) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"{result.case}: what drives the forecast (Sobol' indices, {result.runs} runs; "
        "bars: 95 % confidence)",
        fontsize=12,
    )
    _save(fig, path)


# -- backtest.png ------------------------------------------------------------------------------
BACKTEST_ROWS = 4  # series shown (those with the most scored points)


def plot_backtest(results, problem, path: Path) -> None:
    """Forecast against observed, one column per origin, one row per observed series.

    Each panel spans one horizon before and after its origin: the predictive 50 % and 90 %
    bands (members with the error model), their median, the observations known at the origin
    (grey) and those it was scored on (black), and persistence (dotted).
    """
    import matplotlib.dates as mdates

    from borderflow.calibrate.predictive import with_error
    from borderflow.calibrate.problem import last_day

    counts: dict[tuple[str, str], int] = {}
    for r in results:
        for p in r.points:
            key = (p.obs.location, p.obs.indicator)
            counts[key] = counts.get(key, 0) + 1
    keys = sorted(counts, key=lambda k: (-counts[k], k))[:BACKTEST_ROWS]
    if not keys:
        keys = sorted({k for r in results for k in r.runs.keys})[:BACKTEST_ROWS]
    ncol = len(results)
    fig = _figure(max(4.2 * ncol, 7), 3.0 * max(len(keys), 1))
    axes = fig.subplots(max(len(keys), 1), max(ncol, 1), squeeze=False)
    for c, r in enumerate(results):
        origin = (r.origin - problem.start).days
        span = max((p.lead for p in r.points), default=7)
        first = max(0, origin - span)
        last = r.runs.values.shape[1] - 1
        day0 = np.datetime64(problem.start, "D")
        dates = day0 + np.arange(first, last + 1).astype("timedelta64[D]")
        for row, key in enumerate(keys):
            ax = axes[row][c]
            if key in r.runs.keys:
                j = r.runs.keys.index(key)
                sigma = r.sigma(key)
                draws = with_error(r.runs.values[:, first : last + 1, j], sigma, 0)
                draws = np.moveaxis(draws, 0, -1).reshape(len(dates), -1)  # day × draws
                q = np.quantile(draws, [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
                ax.fill_between(dates, q[0], q[4], color=_colour(0), alpha=0.18, lw=0,
                                label="90 % interval")  # fmt: skip
                ax.fill_between(dates, q[1], q[3], color=_colour(0), alpha=0.35, lw=0,
                                label="50 % interval")  # fmt: skip
                ax.plot(dates, q[2], color=_colour(0), linewidth=1.8, label="median")
            known = [
                o for o in problem.observations
                if (o.location, o.indicator) == key and last_day(o) <= r.origin
                and (last_day(o) - problem.start).days >= first
            ]  # fmt: skip
            scored = [p for p in r.points if (p.obs.location, p.obs.indicator) == key]
            for obs_rows, colour, label in (
                (known, "#999999", "known at the origin"),
                ([p.obs for p in scored], "black", "scored"),
            ):
                for k, o in enumerate(obs_rows):
                    x0, x1 = np.datetime64(o.date, "D"), np.datetime64(last_day(o), "D")
                    if o.low == o.high and x0 == x1:
                        ax.plot([x0], [o.low], "o", color=colour, markersize=3.5,
                                label=label if k == 0 else None)  # fmt: skip
                    else:
                        ax.add_patch(_period_box(x0, x1, o.low, o.high, colour))
                        if k == 0:
                            ax.plot([], [], "s", color=colour, label=label)
            if scored and scored[0].persistence is not None:
                ax.axhline(scored[0].persistence, color="#555555", linestyle=":", linewidth=1,
                           label="persistence")  # fmt: skip
            _origin_line(ax, r.origin, label=False)
            _date_axis(ax, dates)
            ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=5))
            _people_axis(ax, key[1].replace("_", " "))
            ax.set_title(_wrap(f"{key[0]} — origin {r.origin}", 45), fontsize=9)
            if row == 0 and c == 0:
                ax.legend(loc="best", frameon=True, framealpha=0.85, fontsize=7)
    fig.suptitle(
        _wrap(f"{problem.name}: backtest, forecast vs observed at {ncol} origin(s)"), fontsize=11
    )
    _save(fig, path)


def _period_box(x0, x1, low: float, high: float, colour: str):
    import matplotlib.dates as mdates
    from matplotlib.patches import Rectangle

    a, b = mdates.date2num(x0), mdates.date2num(x1 + np.timedelta64(1, "D"))
    return Rectangle((a, low), b - a, max(high - low, 0.5), facecolor="none",
                     edgecolor=colour, linewidth=1.3)  # fmt: skip


def plot_camp_fan(runs, problem, members: int, path: Path) -> None:
    """Posterior-predictive bands of each observed camp with its observed counts."""
    keys = runs.keys
    ncol = 2 if len(keys) > 1 else 1
    nrow = (len(keys) + ncol - 1) // ncol
    fig = _figure(6.5 * ncol, 2.8 * nrow)
    axes = fig.subplots(nrow, ncol, squeeze=False)
    day0 = np.datetime64(problem.start, "D")
    dates = day0 + np.arange(runs.values.shape[1]).astype("timedelta64[D]")
    q = np.quantile(runs.values, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    for j, (loc, ind) in enumerate(keys):
        ax = axes[j // ncol][j % ncol]
        ax.fill_between(dates, q[0, :, j], q[4, :, j], color=_colour(0), alpha=0.18, lw=0,
                        label="90 % of members")  # fmt: skip
        ax.fill_between(dates, q[1, :, j], q[3, :, j], color=_colour(0), alpha=0.35, lw=0,
                        label="50 % of members")  # fmt: skip
        ax.plot(dates, q[2, :, j], color=_colour(0), linewidth=1.8, label="median")
        pts = [o for o in problem.observations if (o.location, o.indicator) == (loc, ind)]
        ax.plot([np.datetime64(o.date, "D") for o in pts], [o.low for o in pts], "o",
                color="black", markersize=3, label="observed")  # fmt: skip
        _date_axis(ax, dates)
        _people_axis(ax, ind.replace("_", " "))
        ax.set_title(loc, fontsize=10)
        if j == 0:
            ax.legend(loc="upper left", frameon=False, fontsize=7)
    for j in range(len(keys), nrow * ncol):
        axes[j // ncol][j % ncol].set_visible(False)
    fig.suptitle(f"{problem.name}: posterior-predictive ensemble of {members} members", fontsize=11)
    _save(fig, path)
