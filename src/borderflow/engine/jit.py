"""One place that configures numba for every kernel of the project.

numba's on-disk cache notices when the file of a cached function changes, but not when a
function it calls from *another* file does (our kernels inline ``rng.uniform``): the stale
machine code would be loaded silently. So the cache lives in a folder named after a hash of
every kernel source file, the package version and the numba version; any change gives a fresh
folder. Kernel modules import :data:`njit` from here, never numba's directly.

Start-up: loading a cached kernel is cheap, but numba's CPU target first imports SciPy's BLAS
bindings (``scipy.linalg``, about 0.3 s) to offer ``np.dot`` and friends inside kernels. No
borderflow kernel does linear algebra, so the target is set up here with that probe failing
fast (:func:`_target_without_blas`); SciPy itself stays importable for everything else.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from pathlib import Path

import numba

import borderflow

_PACKAGE = Path(borderflow.__file__).parent
KERNEL_SOURCES = (
    "engine/rng.py",
    "engine/jit.py",
    "rules/flee_kernels.py",
    "rules/border_kernels.py",
    "rules/border_news.py",
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


def _target_without_blas() -> None:
    """Load numba's CPU target registries without SciPy's BLAS (see the module docstring).

    numba probes BLAS once, when the target first loads its registries; a ``None`` entry in
    ``sys.modules`` makes that import fail at once, so numba records "no BLAS". A kernel that
    ever uses ``np.dot`` then fails to compile with numba's own message ("scipy 0.16+ is
    required for linear algebra") instead of running without it. Nothing is saved, and
    nothing changed, when SciPy's BLAS is already loaded.
    """
    probe = "scipy.linalg.cython_blas"
    if probe in sys.modules:
        return
    sys.modules[probe] = None  # type: ignore[assignment]
    try:
        from numba.core.registry import cpu_target

        cpu_target.target_context.refresh()
    finally:
        del sys.modules[probe]


_target_without_blas()

#: numba's ``njit`` with the project's defaults: cached, NumPy's error model (no Python
#: exception checks on division).
njit = functools.partial(numba.njit, cache=True, error_model="numpy")
