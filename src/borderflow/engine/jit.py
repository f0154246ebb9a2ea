"""One place that configures numba for every kernel of the project.

numba's on-disk cache notices when the file of a cached function changes, but not when a
function it calls from *another* file does (our kernels inline ``rng.uniform``): the stale
machine code would be loaded silently. So the cache lives in a folder named after a hash of
every kernel source file, the package version and the numba version; any change gives a fresh
folder. Kernel modules import :data:`njit` from here, never numba's directly.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import numba

import borderflow

_PACKAGE = Path(borderflow.__file__).parent
KERNEL_SOURCES = (
    "engine/rng.py",
    "engine/jit.py",
    "rules/flee_kernels.py",
    "rules/border_kernels.py",
    "rules/border_indicators.py",  # CrossingCount indices are constants in border kernels
)


def _cache_dir() -> Path:
    digest = hashlib.sha1(f"{borderflow.__version__}|{numba.__version__}".encode())
    for rel in KERNEL_SOURCES:
        path = _PACKAGE / rel
        if path.exists():
            digest.update(path.read_bytes())
    base = os.environ.get("BORDERFLOW_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    if not os.environ.get("BORDERFLOW_CACHE_DIR"):
        root = root / "borderflow"
    return root / "numba" / digest.hexdigest()[:16]


numba.config.CACHE_DIR = str(_cache_dir())

#: numba's ``njit`` with the project's defaults: cached, NumPy's error model (no Python
#: exception checks on division).
njit = functools.partial(numba.njit, cache=True, error_model="numpy")
