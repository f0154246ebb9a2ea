"""What a border-crisis run reports: the tidy daily series, humanitarian needs, a summary.

Indicators, per crossing (location = the crossing's name): ``arrived``, ``crossed``,
``refused``, ``stranded`` (people between the posts in the evening), ``waiting`` (queued at the
exit post overnight), ``irregular_crossing``, ``irregular_detected``, ``readmitted``,
``returned``, ``diverted``, ``corridor``, ``flown``, ``sheltered_moved``; per residence place:
``departed``; per shelter: ``sheltered``; per road (location ``From>To``): ``flow``; and the
needs of the people stranded, waiting or sheltered at each place: ``people``, ``children`` and
one indicator per row of the case's needs table (Sphere standards).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from borderflow.results.series import FLOW_SEPARATOR, SeriesBuilder
from borderflow.rules.border import CROSSING_INDICATORS, INDICATOR_INDEX, BorderModel
from borderflow.rules.border_kernels import STATE_NAMES


def needs_table(model: BorderModel) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Places with people in need, and their people and children per day."""
    names = list(model.crossing_names)
    people = (
        model.at_crossing[:, :, INDICATOR_INDEX["stranded"]]
        + model.at_crossing[:, :, INDICATOR_INDEX["waiting"]]
    )
    children = model.at_crossing[:, :, INDICATOR_INDEX["children_stranded"]]
    shelters = [i for i, k in enumerate(model.kind) if k == "shelter"]
    names += [model.places[i] for i in shelters]
    people = np.hstack([people, model.sheltered[:, shelters]])
    children = np.hstack([children, model.children_sheltered[:, shelters]])
    return names, people, children


def need_values(model: BorderModel, people: np.ndarray) -> dict[str, np.ndarray]:
    """Each need of the case's table for ``people`` (any shape)."""
    out = {}
    for row in model.case.needs:
        value = people * row.per_person
        out[row.indicator] = np.ceil(value) if row.rounding == "ceil" else value
    return out


def border_series(model: BorderModel) -> SeriesBuilder:
    b = SeriesBuilder(model.start_date, model.days)
    for name in CROSSING_INDICATORS:
        if name == "children_stranded":
            continue
        b.add(name, model.crossing_names, model.at_crossing[:, :, INDICATOR_INDEX[name]])
    residences = [i for i, k in enumerate(model.kind) if k == "residence"]
    b.add("departed", [model.places[i] for i in residences], model.departed[:, residences])
    shelters = [i for i, k in enumerate(model.kind) if k == "shelter"]
    if shelters:
        b.add("sheltered", [model.places[i] for i in shelters], model.sheltered[:, shelters])
    used = np.flatnonzero(model.flow.sum(axis=0) > 0)
    g = model.graph
    roads = [f"{g.names[g.src[lk]]}{FLOW_SEPARATOR}{g.names[g.dst[lk]]}" for lk in used]
    b.add("flow", roads, model.flow[:, used])
    names, people, children = needs_table(model)
    b.add("people", names, people)
    b.add("children", names, children)
    for indicator, values in need_values(model, people).items():
        if indicator != "people":
            b.add(indicator, names, values)
    b.add("decided", ["ALL"], model.decided)
    for k, state in enumerate(STATE_NAMES):
        b.add(f"state_{state}", ["ALL"], model.state_counts[:, k])
    return b


@dataclass(frozen=True)
class CrossingSummary:
    crossing: str
    peak_stranded: int
    peak_date: str
    days_with_stranded: int
    person_days_stranded: int
    crossed: int
    refused: int
    irregular: int
    needs_at_peak: dict[str, float]


def summarise(model: BorderModel, since: int = 0) -> list[CrossingSummary]:
    """Headline figures per crossing, from day ``since`` (e.g. the forecast origin) on."""
    out = []
    _names, people, children = needs_table(model)
    for k, name in enumerate(model.crossing_names):
        stranded = model.at_crossing[since:, k, INDICATOR_INDEX["stranded"]]
        peak = int(np.argmax(stranded)) if len(stranded) else 0
        day = since + peak
        at_peak = people[day, k]
        needs = {"people": float(at_peak), "children": float(children[day, k])}
        for indicator, value in need_values(model, np.array(at_peak, dtype=float)).items():
            needs[indicator] = float(value)
        out.append(
            CrossingSummary(
                crossing=name,
                peak_stranded=int(stranded[peak]) if len(stranded) else 0,
                peak_date=model.date(day).isoformat(),
                days_with_stranded=int((stranded > 0).sum()),
                person_days_stranded=int(stranded.sum()),
                crossed=int(model.at_crossing[since:, k, INDICATOR_INDEX["crossed"]].sum()),
                refused=int(model.at_crossing[since:, k, INDICATOR_INDEX["refused"]].sum()),
                irregular=int(
                    model.at_crossing[since:, k, INDICATOR_INDEX["irregular_crossing"]].sum()
                ),
                needs_at_peak=needs,
            )
        )
    return out


def fmt_need(value: float) -> str:
    return f"{value:,.0f}" if math.isfinite(value) else "n/a"
