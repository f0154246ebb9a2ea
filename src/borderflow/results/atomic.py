"""Write a set of output files all-or-nothing.

Every file is first written under a temporary name in the target folder and renamed into place
only when all of them are complete, so a failure midway leaves no half-written output.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class AtomicOutputs:
    """Collects writers; :meth:`commit` renames every finished temporary file into place."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._pending: list[tuple[Path, Path]] = []

    def write(self, name: str, writer: Callable[[Path], None]) -> Path:
        """Call ``writer(tmp_path)``; the file appears as ``folder/name`` on commit."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.folder)
        os.close(fd)
        tmp_path = Path(tmp)
        self._pending.append((tmp_path, self.folder / name))
        writer(tmp_path)
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes owner-only files
        return self.folder / name

    def commit(self) -> list[Path]:
        done = []
        for tmp, final in self._pending:
            os.replace(tmp, final)
            done.append(final)
        self._pending.clear()
        return done

    def discard(self) -> None:
        for tmp, _ in self._pending:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self._pending.clear()


@contextlib.contextmanager
def atomic_outputs(folder: Path) -> Iterator[AtomicOutputs]:
    """``with atomic_outputs(dir) as out: out.write(...)``: all files or none."""
    out = AtomicOutputs(folder)
    try:
        yield out
    except BaseException:
        out.discard()
        raise
    out.commit()
