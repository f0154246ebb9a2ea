"""Particles written compactly: each state as its differences from the first, streamed.

Why: a forecast stores hundreds of whole model states, and the next forecast of the cycle
loads them; loading was most of a daily update. The states of one case differ little: every
particle has the same population (home, nationality, papers), and most people are still at
home, with the same row in every state. So the first state is written whole and every other
state's large arrays only where they differ from the first's (indices and values); the rest
of a state (its small Python objects) is pickled as usual. The particles are written one at a
time into one zstd stream and read back the same way, so no second copy of the whole set is
ever held. Nothing is rounded: a state read back is the state written, bit for bit.

A large array is matched with the first state's array met at the same place in the pickle
(the k-th large array of each state); one of another shape or type is written whole.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

MAGIC = b"borderflow-particles-2\n"
MIN_BYTES = 1 << 15  # arrays this large are compared with the first state's


class _Capture(pickle.Pickler):
    """A pickler that takes large plain arrays out of the pickle (persistent ids)."""

    def __init__(self, file: BinaryIO) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.arrays: list[np.ndarray] = []
        self._ids: dict[int, int] = {}

    def persistent_id(self, obj: Any) -> int | None:
        if type(obj) is not np.ndarray or obj.nbytes < MIN_BYTES or obj.dtype.hasobject:
            return None
        if not obj.flags.c_contiguous:
            return None
        key = id(obj)
        if key not in self._ids:  # one object met twice stays one object
            self._ids[key] = len(self.arrays)
            self.arrays.append(obj)
        return self._ids[key]


class _Restore(pickle.Unpickler):
    def __init__(self, file: BinaryIO, arrays: list[np.ndarray]) -> None:
        super().__init__(file)
        self.arrays = arrays

    def persistent_load(self, pid: Any) -> np.ndarray:
        return self.arrays[pid]


def _bits(a: np.ndarray) -> np.ndarray:
    """The array's bytes as unsigned integers (so that -0.0, NaN compare by their bits)."""
    flat = a.reshape(-1)
    if a.dtype.itemsize in (1, 2, 4, 8):
        return flat.view(f"u{a.dtype.itemsize}")
    return flat.view(np.uint8)


def encode(a: np.ndarray, ref: np.ndarray | None) -> tuple:
    """``a`` whole, or where it differs from ``ref`` when that is much smaller."""
    if ref is not None and ref.dtype == a.dtype and ref.shape == a.shape:
        bits, ref_bits = _bits(a), _bits(ref)
        where = np.flatnonzero(bits != ref_bits)
        if where.size * (4 + bits.itemsize) < a.nbytes // 2:
            return ("diff", where.astype(np.int32 if a.size < 2**31 else np.int64), bits[where])
    return ("whole", a)


def decode(code: tuple, ref: np.ndarray | None) -> np.ndarray:
    if code[0] == "whole":
        return code[1]
    _, where, values = code
    a = ref.copy()  # type: ignore[union-attr]
    _bits(a)[where] = values
    return a


def _dumps_state(model: Any, refs: list[np.ndarray] | None) -> tuple[bytes, list[tuple]]:
    buffer = io.BytesIO()
    pickler = _Capture(buffer)
    pickler.dump(model)
    arrays = pickler.arrays
    codes = [encode(a, refs[k] if refs and k < len(refs) else None) for k, a in enumerate(arrays)]
    return buffer.getvalue(), codes


def _loads_state(blob: bytes, codes: list[tuple], refs: list[np.ndarray] | None) -> tuple:
    arrays = [decode(c, refs[k] if refs and k < len(refs) else None) for k, c in enumerate(codes)]
    return _Restore(io.BytesIO(blob), arrays).load(), arrays


def save(particles: Any, path: Path) -> None:
    """Write ``particles`` (with a ``models`` list) to ``path``, state by state."""
    import pyarrow as pa

    models = particles.models
    with pa.CompressedOutputStream(str(path), "zstd") as out:
        out.write(MAGIC)
        pickle.dump((replace(particles, models=[]), len(models)), out, pickle.HIGHEST_PROTOCOL)
        refs = None
        for model in models:
            blob, codes = _dumps_state(model, refs)
            if refs is None:
                refs = [c[1] for c in codes]  # the first state's arrays, written whole
            pickle.dump((blob, codes), out, protocol=pickle.HIGHEST_PROTOCOL)


def _states(stream: BinaryIO, count: int) -> Iterator[Any]:
    refs = None
    for _ in range(count):
        blob, codes = pickle.load(stream)
        model, arrays = _loads_state(blob, codes, refs)
        refs = arrays if refs is None else refs
        yield model


def load(path: Path) -> Any:
    """The particles :func:`save` wrote."""
    import pyarrow as pa

    with pa.CompressedInputStream(pa.OSFile(str(path)), "zstd") as stream:
        if stream.read(len(MAGIC)) != MAGIC:
            raise ValueError(f"{path} is not a particles file of this version")
        shell, count = pickle.load(stream)
        return replace(shell, models=list(_states(stream, count)))
