"""Where compiled kernels are kept: one folder per version of the kernels' sources.

numba's on-disk cache notices when the file of a cached function changes, but not when a
function it calls from *another* file does (our kernels inline ``rng_kernels.uniform``): the
stale machine code would be loaded silently. So compiled code lives in a folder named after a
hash of every kernel source file, the package version and the numba and NumPy versions; any
change gives a fresh folder. Both numba's JIT cache (:mod:`borderflow.engine.jit`) and the
kernels compiled ahead of time (:mod:`borderflow.engine.aot`) live there.

This module does not import numba (0.3 s of CPU): a run whose kernels were compiled ahead of
time never loads it. numba's version is read from its ``_version.py`` file instead.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from pathlib import Path

import numpy as np

import borderflow

_PACKAGE = Path(borderflow.__file__).parent
KERNEL_SOURCES = (
    "engine/rng_kernels.py",
    "engine/jit.py",
    "engine/kernel_cache.py",
    "engine/aot.py",
    "rules/flee_kernels.py",
    "rules/flee_compiled.py",  # the wake constants and the kernel's exported signature
    "rules/border_kernels.py",
    "rules/border_news.py",
    "rules/border_indicators.py",  # CrossingCount indices are constants in border kernels
)


def _numba_version_file() -> bytes:
    """The bytes of numba's ``_version.py`` (its release number), read without importing it."""
    spec = importlib.util.find_spec("numba")
    if spec is None or spec.origin is None:
        return b""
    path = Path(spec.origin).with_name("_version.py")
    return path.read_bytes() if path.exists() else b""


@functools.cache
def cache_dir() -> Path:
    """The folder of this version's compiled kernels (created by whoever writes to it)."""
    digest = hashlib.sha1(f"{borderflow.__version__}|{np.__version__}".encode())
    digest.update(_numba_version_file())
    for rel in KERNEL_SOURCES:
        path = _PACKAGE / rel
        if path.exists():
            digest.update(path.read_bytes())
    base = os.environ.get("BORDERFLOW_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    if not os.environ.get("BORDERFLOW_CACHE_DIR"):
        root = root / "borderflow"
    return root / "numba" / digest.hexdigest()[:16]
