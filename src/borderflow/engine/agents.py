"""Agents as one set of typed arrays (never one Python object per person).

A ruleset declares the fields it needs (name → dtype and initial value); the arrays grow by
doubling so that spawning is amortised O(1) per agent. ``agents.loc`` etc. are views of the
live part, so kernels receive plain contiguous NumPy arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace

import numpy as np

# name: (dtype, value for a new agent)
CORE_FIELDS: dict[str, tuple[np.dtype, int | float]] = {
    "loc": (np.dtype(np.int32), -1),  # place index (for a traveller, where it last was)
    "home": (np.dtype(np.int32), -1),  # place where the agent appeared
}


class Agents:
    """Struct-of-arrays store of every agent of a run."""

    def __init__(
        self, fields: Mapping[str, tuple[np.dtype, int | float]] | None = None, capacity: int = 1024
    ) -> None:
        self._spec = dict(CORE_FIELDS)
        self._spec.update(fields or {})
        self._n = 0
        self._data = {
            name: np.full(max(capacity, 1), init, dtype=dtype)
            for name, (dtype, init) in self._spec.items()
        }

    def __len__(self) -> int:
        return self._n

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self._spec)

    def __getattr__(self, name: str) -> np.ndarray:
        data = self.__dict__.get("_data")
        if data is None or name not in data:
            raise AttributeError(name)
        return data[name][: self._n]

    def views(self) -> SimpleNamespace:
        """Every field's live array as a plain attribute.

        For code that reads the fields many times a day (``agents.state`` costs a lookup each
        time). Valid until the next :meth:`add` or :meth:`keep`, which may reallocate.
        """
        return SimpleNamespace(**{name: data[: self._n] for name, data in self._data.items()})

    def nbytes_per_agent(self) -> int:
        """Bytes one agent costs in the live arrays."""
        return sum(dtype.itemsize for dtype, _ in self._spec.values())

    def add(self, count: int, **values: np.ndarray | int | float) -> slice:
        """Append ``count`` agents; unspecified fields take their initial value."""
        start, stop = self._n, self._n + count
        capacity = len(next(iter(self._data.values())))
        if stop > capacity:
            new_capacity = max(stop, 2 * capacity)
            for name, (dtype, init) in self._spec.items():
                grown = np.full(new_capacity, init, dtype=dtype)
                grown[:start] = self._data[name][:start]
                self._data[name] = grown
        unknown = [name for name in values if name not in self._data]
        if unknown:
            raise KeyError(f"unknown agent field '{unknown[0]}'")
        for name, (_dtype, init) in self._spec.items():
            # The slots may hold agents dropped by keep(): every field starts afresh.
            self._data[name][start:stop] = values.get(name, init)
        self._n = stop
        return slice(start, stop)

    def keep(self, mask: np.ndarray) -> None:
        """Drop the agents where ``mask`` is False, keeping the others in order."""
        n = int(np.count_nonzero(mask))
        for name in self._spec:
            live = self._data[name][: self._n]
            self._data[name][:n] = live[mask]
        self._n = n
