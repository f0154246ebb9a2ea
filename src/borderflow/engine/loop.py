"""The daily loop: an explicit, ordered list of named phases.

A ruleset is a list of phases; a later ruleset extends it with :meth:`Plan.insert` rather than
by editing the core. ``print(plan)`` shows the order, and :meth:`Plan.run` reports the time
spent in each phase so that the loop can be profiled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

PhaseFn = Callable[[int], None]


@dataclass
class Phase:
    """One step of a day: ``fn(day)`` mutates the model's state in place."""

    name: str
    fn: PhaseFn
    doc: str = ""


@dataclass
class Plan:
    """An ordered list of phases run once per simulated day."""

    phases: list[Phase] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        return "\n".join(
            f"{i + 1}. {p.name}" + (f": {p.doc}" if p.doc else "")
            for i, p in enumerate(self.phases)
        )

    def names(self) -> list[str]:
        return [p.name for p in self.phases]

    def insert(self, phase: Phase, *, before: str | None = None, after: str | None = None) -> None:
        """Add a phase next to a named one (at the end when neither is given)."""
        names = self.names()
        if before is not None:
            self.phases.insert(names.index(before), phase)
        elif after is not None:
            self.phases.insert(names.index(after) + 1, phase)
        else:
            self.phases.append(phase)

    def run(self, days: Iterable[int], on_day: Callable[[int], None] | None = None) -> None:
        """Run every phase, in order, for each day."""
        clock = time.perf_counter
        for day in days:
            for phase in self.phases:
                t0 = clock()
                phase.fn(day)
                self.seconds[phase.name] = self.seconds.get(phase.name, 0.0) + clock() - t0
            if on_day is not None:
                on_day(day)
