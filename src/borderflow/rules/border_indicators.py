"""What the border-crisis ruleset counts: its indicators, declared once.

The per-crossing counts are the last axis of ``BorderModel.at_crossing``; the enum gives each its
index and meaning, and the output table, the summary, the calibration and the plots refer to
them by member, never by a hand-kept number. :data:`INDICATORS` declares every indicator a run
writes, where it is counted and what it means.
"""

from __future__ import annotations

from enum import IntEnum


class CrossingCount(IntEnum):
    """Daily counts per crossing (index into the last axis of ``at_crossing``)."""

    doc: str

    def __new__(cls, value: int, doc: str) -> CrossingCount:
        member = int.__new__(cls, value)
        member._value_ = value
        member.doc = doc
        return member

    ARRIVED = 0, "people who reached the exit post"
    CROSSED = 1, "people admitted on arrival"
    REFUSED = 2, "people refused entry on arrival (stranded between the posts)"
    STRANDED = 3, "people between the posts in the evening"
    WAITING = 4, "people queued at the exit post overnight"
    IRREGULAR_CROSSING = 5, "people who crossed irregularly, undetected"
    IRREGULAR_DETECTED = 6, "people caught trying to cross irregularly"
    READMITTED = 7, "stranded people taken back by the exit country"
    RETURNED = 8, "stranded people who walked back to the last city"
    DIVERTED = 9, "stranded people who left for another crossing"
    CORRIDOR = 10, "people stranded earlier and admitted today (corridor, quota, reopening)"
    FLOWN = 11, "people who left on a return flight"
    SHELTERED_MOVED = 12, "people moved to a shelter"
    CHILDREN_STRANDED = 13, "children among the people stranded or waiting"

    @property
    def label(self) -> str:
        """The indicator's name in the outputs."""
        return self.name.lower()


#: Per-crossing counts written as their own series (children enter through the needs).
OUTPUT_COUNTS = tuple(c for c in CrossingCount if c is not CrossingCount.CHILDREN_STRANDED)

#: Every indicator of a border run: name -> (where it is counted, what it means). The needs
#: of the case's table (Sphere standards) are added per case.
INDICATORS: dict[str, tuple[str, str]] = {
    **{c.label: ("crossing", c.doc) for c in OUTPUT_COUNTS},
    "departed": ("home region", "journeys that started from the region"),
    "sheltered": ("shelter", "people in the shelter in the evening"),
    "flow": ("road From>To", "people who reached the end of the road"),
    "people": (
        "crossing, shelter, city",
        "people stranded, waiting or sheltered, and waiting in a city (the needs' base)",
    ),
    "children": ("crossing, shelter, city", "children among them"),
    "decided": ("ALL", "people who decided to leave"),
    # written only for cases with a blockade or [news], when they occur
    "waiting_city": ("city", "people waiting in the city in the evening (blockade, news)"),
    "news_home": ("ALL", "people who gave up and went home on news of a shut crossing"),
    "news_diverted": ("ALL", "people who left for another crossing on news of a shut crossing"),
    "news_resumed": ("ALL", "people waiting in a city who went on towards their crossing"),
    "state_<state>": ("ALL", "people in each state in the evening"),
    # Written only by cases whose events use them (rules/border_places.py, border_inflow.py):
    "inflow": ("home region", "people who joined the population at risk (inflow)"),
    "crowd": ("crossing, exit post, city, shelter", "people of a crowd present from the day"),
    "moved_in": ("shelter", "people moved into the shelter (split moves or moves from cities)"),
    "exited": ("shelter", "people who left the shelter (shelter_exit)"),
    "removed": ("crossing, city, shelter, destination", "people taken away (removal)"),
}
