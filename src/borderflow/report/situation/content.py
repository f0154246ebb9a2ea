"""The situation report's text and tables in one language, shared by its PDF and HTML forms.

Every phrase goes through the gettext catalog (:mod:`borderflow.i18n`); numbers and dates use
the language's conventions; crossing and place names stay as the case spells them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from borderflow.i18n import N_, fmt_date, fmt_number, translator
from borderflow.report.situation.data import ALL_CROSSINGS, Figure, SituationData

HEADLINE_LABELS = {
    "peak_stranded": N_("Peak number of people stranded"),
    "person_days_stranded": N_("Person-days stranded"),
    "crossed": N_("Crossed regularly"),
    "refused": N_("Refused entry"),
    "irregular": N_("Crossed irregularly"),
}
NEED_LABELS = {
    "people": N_("People (stranded or waiting)"),
    "children": N_("of whom children"),
    "shelter_m2": N_("Covered shelter, m²"),
    "water_l": N_("Water, litres a day"),
    "food_kcal": N_("Food, kcal a day"),
    "latrines": N_("Latrines"),
}


@dataclass
class Section:
    """A heading, an optional table (first row: the column heads) and notes under it."""

    heading: str
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ReportText:
    lang: str
    title: str
    subtitle: str
    fan_title: str
    fan_note: str
    sections: list[Section]
    date_label: str  # the fan chart's x axis
    people_label: str  # its y axis
    legend: tuple[str, str, str]  # median, 90 % range, reported


def figure_text(f: Figure, lang: str, single: bool) -> str:
    T = translator(lang)
    mid = fmt_number(f.mid, lang)
    if single:
        return mid
    return T("{mid} ({low}–{high})", mid=mid, low=fmt_number(f.low, lang),
             high=fmt_number(f.high, lang))  # fmt: skip


def _headline(data: SituationData, lang: str) -> Section:
    T = translator(lang)
    single = data.members == 1
    head = [T("Figure, from the forecast origin on"), *data.crossings, T("All crossings")]
    rows = [head]
    for key, label in HEADLINE_LABELS.items():
        cells = [figure_text(data.headline[(key, c)], lang, single) for c in data.crossings]
        rows.append(
            [T(label), *cells, figure_text(data.headline[(key, ALL_CROSSINGS)], lang, single)]
        )
    latest = [T("Latest reported count")]
    for c in data.crossings:
        rep = data.fans[c].reported
        if rep:
            day, low, high = rep[-1]
            count = (
                fmt_number(low, lang)
                if low == high
                else f"{fmt_number(low, lang)}–{fmt_number(high, lang)}"
            )
            latest.append(T("{count} on {date}", count=count, date=fmt_date(day, lang)))
        else:
            latest.append(T("none"))
    rows.append([*latest, ""])
    if single:
        note = T("A single run: one trajectory, so no range. Run an ensemble for 90 % ranges.")
    else:
        note = T(
            "Median over {members} ensemble members, with the 90 % range (5th to 95th"
            " percentile) in brackets.",
            members=fmt_number(data.members, lang),
        )
    return Section(T("Headline figures"), rows, [note])


def _needs(data: SituationData, lang: str) -> Section:
    T = translator(lang)
    keys = list(next(iter(data.needs.values()), {}))
    rows = [[T("Need at the peak (Sphere standards)"), *data.crossings]]
    for k in keys:
        label = T(NEED_LABELS[k]) if k in NEED_LABELS else f"{k} ({data.need_units.get(k, '')})"
        rows.append([label, *(fmt_number(data.needs[c][k], lang) for c in data.crossings)])
    note = T("On each crossing's peak day; for an ensemble, the median over members.")
    return Section(T("Needs"), rows, [note])


COMPARE_LABELS = {
    "peak stranded": HEADLINE_LABELS["peak_stranded"],
    "person-days stranded": HEADLINE_LABELS["person_days_stranded"],
    "people in need at the peak": N_("People in need at the peak"),
}


def _comparison(data: SituationData, lang: str) -> Section | None:
    if not data.comparison:
        return None
    T = translator(lang)
    rows = [[T("Figure"), T("Crossing"), T("Variant"), T("Value"), T("Change from the baseline")]]
    for metric, crossing, variant, value, diff in data.comparison:
        rows.append([T(COMPARE_LABELS.get(metric, metric)), crossing, variant,
                     fmt_number(float(value), lang), fmt_number(float(diff), lang)])  # fmt: skip
    note = T("The first variant is the baseline; each run uses the same random numbers.")
    return Section(T("Policy comparison"), rows, [note])


def _changes(data: SituationData, lang: str) -> Section:
    T = translator(lang)
    if data.previous is None:
        return Section(
            T("What changed since the last report"), [], [T("This is the first report.")]
        )
    rows = [[T("Figure"), T("Place"), T("Last report"), T("Now"), T("Change")]]
    now = data.headline_json()
    for key, value in now.items():
        old = data.previous.get(key)
        if old is None or round(old) == round(value):
            continue
        figure, _, place = key.partition("|")
        place = T("All crossings") if place == ALL_CROSSINGS else place
        rows.append([T(HEADLINE_LABELS.get(figure, figure)), place, fmt_number(old, lang),
                     fmt_number(value, lang), fmt_number(value - old, lang)])  # fmt: skip
    if len(rows) == 1:
        return Section(
            T("What changed since the last report"), [], [T("No headline figure changed.")]
        )
    return Section(T("What changed since the last report"), rows)


def _sources(data: SituationData, lang: str) -> Section:
    T = translator(lang)
    notes = [T("Reported counts: {sources}", sources="; ".join(data.sources) or T("none"))]
    notes += [T("Assumption ({name}): {text}", name=n, text=t) for n, t in data.assumptions]
    notes.append(
        T(
            "Model: borderflow, an agent-based model of the people at risk; run"
            " `borderflow info {case}` for every parameter and its source.",
            case=data.case_name,
        )
    )
    return Section(T("Sources and main assumptions"), [], notes)


def report_text(data: SituationData, lang: str, today: dt.date) -> ReportText:
    """Everything the report says, in ``lang``."""
    T = translator(lang)
    variant = ", ".join(f"{k}={v}" for k, v in sorted(data.variant.items())) or T("default")
    members = fmt_number(data.members, lang)
    kind = (
        T("single run")
        if data.members == 1
        else T("ensemble of {members} members", members=members)
    )
    subtitle = T(
        "Case {case} ({variant}); {kind}, seed {seed}. Period {start} to {end}; forecast from"
        " {origin}. Report of {today}.",
        case=data.case_name, variant=variant, kind=kind, seed=data.seed,
        start=fmt_date(data.start, lang), end=fmt_date(data.end, lang),
        origin=fmt_date(data.origin, lang), today=fmt_date(today, lang),
    )  # fmt: skip
    sections = [_headline(data, lang), _needs(data, lang)]
    compare = _comparison(data, lang)
    if compare:
        sections.append(compare)
    sections += [_changes(data, lang), _sources(data, lang)]
    return ReportText(
        lang=lang,
        title=T("Situation report: {title}", title=data.title),
        subtitle=subtitle,
        fan_title=T("People stranded between the border posts each night"),
        fan_note=T(
            "Line: median forecast; band: 90 % range; bars: reported counts (low to high);"
            " dashed line: forecast origin."
        ),
        sections=sections,
        date_label=T("Date"),
        people_label=T("People stranded"),
        legend=(T("median"), T("90 % range"), T("reported")),
    )
