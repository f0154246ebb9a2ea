"""Whether a run of a case can produce an observed count at all (for ``borderflow check``).

A report of 300 people sheltered at a shelter no event ever fills, or of people stranded at a
crossing whose entry never refuses anyone, can never be matched: the fit would chase it with
whatever parameter moves the figure least badly. These are the mechanisms' preconditions, read
from the case's rows (the file's and every variant's), not from a run.
"""

from __future__ import annotations

from typing import Any

from borderflow.observe.quantity import ALL, indicator_terms, location_parts
from borderflow.scenario.border_checks import Vocabulary

#: Entry policies that refuse some arrivals (the rest admit everyone who reaches the post).
REFUSING = ("documented_only", "closed", "quota", "selective")
#: Crossing counts that stay 0 unless the entry refuses someone.
NEED_REFUSALS = frozenset({
    "stranded", "refused", "irregular_crossing", "irregular_detected", "readmitted",
    "returned", "diverted", "corridor",
})  # fmt: skip
#: Of those, the counts people queued at the post also make when a ``set`` event lets them go
#: round it (``waiting_irregular_per_day``).
AROUND_THE_QUEUE = frozenset({"irregular_crossing", "irregular_detected"})
#: Counts at a shelter, all 0 while nobody is moved in.
AT_SHELTER = frozenset({"sheltered", "people", "children"})


def all_rows(case: Any, table: str) -> list[Any]:
    """The case's rows of ``policies`` or ``events`` and those every variant option adds."""
    rows = list(getattr(case, table))
    for dim in case.spec.variants.values():
        for option in dim.options.values():
            rows += list(getattr(option, table))
    return rows


def split_names(text: str) -> list[str]:
    """The places of a ``to`` cell, a plain name or a split ``A:0.6;B:0.4``."""
    names = []
    for part in text.split(";"):
        name, sep, share = part.rpartition(":")
        names.append((name if sep and share.strip() else part).strip())
    return [n for n in names if n]


def _crossing_reason(case: Any, term: str, crossing: str) -> str | None:
    rows = all_rows(case, "events")
    events = [e for e in rows if e.target == crossing]
    policies = [p for p in all_rows(case, "policies") if p.crossing == crossing]
    crowd = any(e.kind == "crowd" for e in events)
    refuses = any(p.side == "entry" and p.policy in REFUSING for p in policies)
    round_the_post = term in AROUND_THE_QUEUE and any(
        e.kind == "set" and e.param == "waiting_irregular_per_day" and e.value > 0
        and e.target in ("", crossing)
        for e in rows
    )  # fmt: skip
    if term in NEED_REFUSALS and not crowd and not refuses and not round_the_post:
        return (
            f"the entry of crossing '{crossing}' never refuses anyone (no row of policies.csv "
            f"or a variant sets {', '.join(REFUSING)})"
        )
    readmits = any(p.side == "exit" and p.policy != "closed" for p in policies)
    if term == "readmitted" and not readmits:
        return (
            f"the exit country of crossing '{crossing}' never readmits anyone (no exit row "
            "that is not 'closed')"
        )
    if term == "flown" and not any(e.kind in ("return_flight", "removal") for e in events):
        return f"no return_flight or removal event takes people from crossing '{crossing}'"
    if term == "sheltered_moved" and not any(e.kind == "shelter" for e in events):
        return f"no shelter event moves people from crossing '{crossing}'"
    return None


def _shelter_reason(case: Any, shelter: str) -> str | None:
    for e in all_rows(case, "events"):
        if e.kind == "shelter" and shelter in split_names(e.to):
            return None
        if e.kind == "crowd" and e.target == shelter:
            return None
    return (
        f"no event ever moves anyone into shelter '{shelter}' (a 'shelter' event naming it "
        "in 'to', or a 'crowd' there)"
    )


def unreachable(case: Any, vocabulary: Vocabulary, o: Any) -> str | None:
    """Why no run of ``case`` can give ``o`` a value above 0, or None if one can."""
    needs = {n.indicator for n in case.needs}
    reasons = []
    for term in indicator_terms(o.indicator):
        kinds = vocabulary.kinds(term.indicator) or ()
        for part in location_parts(o.location, frozenset(vocabulary.kind_of)):
            places = [part]
            if part == ALL and "ALL" not in kinds:
                places = [n for n, k in vocabulary.kind_of.items() if k in kinds]
            for place in places:
                kind = vocabulary.kind_of.get(place)
                reason = None
                if kind == "crossing":
                    reason = _crossing_reason(case, term.indicator, place)
                elif kind == "shelter" and (term.indicator in AT_SHELTER | needs):
                    reason = _shelter_reason(case, place)
                elif kind == "residence" and not any(
                    r.residence == place and r.share > 0 for r in case.population
                ):
                    reason = f"nobody lives in '{place}' (no share of it in population.csv)"
                if reason is None:
                    return None
                reasons.append(reason)
    return reasons[0] if reasons else None
