"""Checks of the place-and-people inputs of a border case: road modes, and people-moving events.

The events move people between places (``shelter``, ``shelter_exit``, ``removal``) or bring
them in (``inflow``, ``crowd``).

Each event kind names its places in ``target`` and ``to``; what each may be is fixed here, and a
wrong name is one error naming events.csv, the row and the field, before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from borderflow.errors import ScenarioError

if TYPE_CHECKING:
    from borderflow.scenario.border_io import BorderCase
    from borderflow.scenario.border_schema import EventOverride, EventRow

Where = Callable[[int, str], dict[str, Any]]

SHARE_TOLERANCE = 1e-6
#: ``to`` of a shelter_exit that is no place: back home, or out of the system beyond the border
EXIT_HOME, EXIT_ONWARD = "home", "onward"


def split_shelters(text: str) -> list[tuple[str, float]]:
    """``"Shelter A:0.6;Shelter B:0.4"`` as (name, share) pairs; a plain name takes everyone.

    Raises ValueError with the reason when a share is not a number.
    """
    if ":" not in text:
        return [(text.strip(), 1.0)]
    out = []
    for part in text.split(";"):
        if not part.strip():
            continue
        name, _, share = part.rpartition(":")
        try:
            value = float(share)
        except ValueError:
            raise ValueError(f"'{share.strip()}' is not a share in '{part.strip()}'") from None
        out.append((name.strip(), value))
    return out


def check_modes(case: BorderCase) -> None:
    """Every route's mode has a speed in ``[travel]`` (bus and walking always do)."""
    travel = case.spec.travel
    for i, r in enumerate(case.routes):
        if getattr(travel, f"{r.mode}_km_per_day") is None:
            raise ScenarioError(
                f"mode '{r.mode}' has no speed: add {r.mode}_km_per_day to [travel] "
                "in scenario.toml",
                **case.where("routes", i, "mode"),
            )


class _Names:
    """The places and crossings of a case by kind, to check an event's names against."""

    def __init__(self, case: BorderCase, where: Where) -> None:
        self.where = where
        self.kind = {p.name: p.kind for p in case.places}
        self.crossings = {c.name for c in case.crossings}
        self.exit_posts = {c.exit_post for c in case.crossings}

    def is_a(self, name: str, *kinds: str) -> bool:
        if "crossing" in kinds and name in self.crossings:
            return True
        if "exit_post" in kinds and name in self.exit_posts:
            return True
        return self.kind.get(name) in kinds

    def fail(self, i: int, column: str, message: str) -> None:
        raise ScenarioError(message, **self.where(i, column))

    def need(self, i: int, column: str, name: str, *kinds: str) -> None:
        if not self.is_a(name, *kinds):
            what = " or ".join(k.replace("_", " ") for k in kinds)
            self.fail(i, column, f"'{name}' is not a {what} of the case")

    def blank(self, i: int, column: str, value: object, kind: str) -> None:
        if value not in ("", None):
            self.fail(i, column, f"a {kind} event takes no {column} (got '{value}')")


def _check_shelter_to(names: _Names, i: int, text: str) -> None:
    try:
        parts = split_shelters(text)
    except ValueError as exc:
        names.fail(i, "to", f"{exc}: write 'Shelter A:0.6;Shelter B:0.4'")
    if not parts or not parts[0][0]:
        names.fail(i, "to", "needs a shelter, or shares 'Shelter A:0.6;Shelter B:0.4'")
    for name, share in parts:
        names.need(i, "to", name, "shelter")
        if not 0 < share <= 1:
            names.fail(i, "to", f"share {share:g} of '{name}' is not above 0 and at most 1")
    total = sum(share for _, share in parts)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        names.fail(i, "to", f"shares sum to {total:.6f}, not 1")


def _check_event(names: _Names, i: int, e: EventRow | EventOverride) -> None:
    if e.kind == "shelter":
        names.need(i, "target", e.target, "crossing", "city")
        _check_shelter_to(names, i, e.to)
    elif e.kind == "shelter_exit":
        names.need(i, "target", e.target, "shelter")
        if e.to not in (EXIT_HOME, EXIT_ONWARD) and not names.is_a(
            e.to, "crossing", "city", "shelter"
        ):
            names.fail(
                i, "to", f"'{e.to}' is not a city, a crossing, a shelter, 'home' or 'onward'"
            )
        if e.to == e.target:
            names.fail(i, "to", f"a shelter_exit from '{e.target}' to itself")
    elif e.kind == "removal":
        names.need(i, "target", e.target, "crossing", "shelter", "city", "destination")
        names.blank(i, "to", e.to, e.kind)
    elif e.kind == "inflow":
        if e.target:
            names.need(i, "target", e.target, "residence")
        names.blank(i, "to", e.to, e.kind)
        if e.end is None:
            names.fail(i, "end", "an inflow needs an end date: people a day from start to end")
    elif e.kind == "crowd":
        names.need(i, "target", e.target, "crossing", "exit_post", "city", "shelter")
        if names.is_a(e.target, "city") and not names.is_a(e.target, "crossing"):
            names.need(i, "to", e.to, "crossing")
        else:
            names.blank(i, "to", e.to, "crowd (other than at a city)")
        names.blank(i, "end", e.end, e.kind)


def check_place_events(
    case: BorderCase,
    events: Sequence[EventRow | EventOverride] | None = None,
    where: Where | None = None,
) -> None:
    """The targets and destinations of the events that move people or bring them in.

    By default the rows of events.csv; a variant's events are checked with ``where`` naming
    them in scenario.toml.
    """
    names = _Names(case, where or (lambda i, column: case.where("events", i, column)))
    for i, e in enumerate(case.events if events is None else events):
        _check_event(names, i, e)
