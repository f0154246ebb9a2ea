"""One place that configures numba for every kernel of the project.

Compiled code is cached on disk in the folder :func:`borderflow.engine.kernel_cache.cache_dir`
names (a hash of every kernel source file and the versions; see there why). Kernel modules
import :data:`njit` from here, never numba's directly. A Flee run whose kernel was compiled
ahead of time (:mod:`borderflow.engine.aot`) does not import this module at all.

Start-up: before loading a cached kernel, numba loads the typing and lowering registries of
everything it supports (about 0.3 s of CPU), which only compiling needs; a cache load here
skips them (:func:`_load_cached`). When a kernel must be compiled, the target is set up first
without SciPy's BLAS bindings (``scipy.linalg``, another 0.3 s, imported by numba to offer
``np.dot`` inside kernels, which no borderflow kernel uses; :func:`_target_without_blas`);
SciPy itself stays importable for everything else.
"""

from __future__ import annotations

import functools
import sys

import numba
from numba.core import caching

from borderflow.engine.kernel_cache import cache_dir

numba.config.CACHE_DIR = str(cache_dir())


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


_target_ready = False


def _ensure_target() -> None:
    """Load the target's registries (once), the way :func:`_target_without_blas` does."""
    global _target_ready
    if not _target_ready:
        _target_without_blas()
        _target_ready = True


def _load_cached(self: caching.Cache, sig: object, target_context: object) -> object | None:
    """Load a cached kernel as ``Cache.load_overload`` does, without every registry first.

    numba refreshes the target before each cache load: it imports and registers the typing
    and lowering of everything numba supports (about 0.3 s of CPU), which only *compiling*
    needs. Rebuilding cached machine code needs the runtime (NRT: kernels allocate arrays)
    and the C helpers the context installs when created. On a miss the full target is
    loaded here, before numba compiles (its compiler refreshes the target too).
    """
    from numba.core.runtime import rtsys

    rtsys.initialize(target_context)
    cres = None
    with self._guard_against_spurious_io_errors():
        cres = self._load_overload(sig, target_context)
    if cres is None:
        _ensure_target()
    return cres


caching.Cache.load_overload = _load_cached  # type: ignore[method-assign]

#: numba's ``njit`` with the project's defaults: cached, NumPy's error model (no Python
#: exception checks on division).
njit = functools.partial(numba.njit, cache=True, error_model="numpy")
