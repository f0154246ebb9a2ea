"""Kernels compiled ahead of time, so that a run need not import numba.

Importing numba and loading a kernel from its JIT cache costs about 0.3 s of CPU per process,
as much as a whole short Flee run's simulation. :func:`compiled` turns a numba kernel into a
small CPython extension (numba's ``pycc``, the same compiler with the same options as the
project's ``njit``: NumPy's error model, the GIL released) the first time it is asked for,
keeps it in the kernel cache folder (:func:`borderflow.engine.kernel_cache.cache_dir`, named
after a hash of the kernels' sources, so an edited kernel is rebuilt), and from then on
imports the extension, which needs NumPy but not numba.

Building needs a C compiler (numba's ``pycc`` links the extension with the platform's
toolchain). Where it cannot be built or loaded, one warning says why, a marker file stops
later runs from retrying, and the kernel runs through numba's JIT as before: same code, same
numbers.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from borderflow.engine.kernel_cache import cache_dir

_SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]


def _extension_name(module: str, name: str) -> str:
    return f"aot_{module.rpartition('.')[2]}_{name}"


def extension_path(module: str, name: str) -> Path:
    """Where the compiled extension of ``module.name`` lives (it may not exist yet)."""
    return cache_dir() / "aot" / f"{_extension_name(module, name)}{_SUFFIX}"


def compiled(module: str, name: str, signature: str) -> Callable[..., Any]:
    """``module.name`` compiled ahead of time for ``signature`` (numba's signature syntax).

    Arguments must match the signature exactly (array dtypes, C-contiguous 1-D arrays). Falls
    back to the numba dispatcher where the extension cannot be built (see the module docstring).
    """
    path = extension_path(module, name)
    failed = path.with_suffix(".failed")
    if failed.exists():
        return getattr(importlib.import_module(module), name)
    try:
        if not path.exists():
            _build(module, name, signature, path)
        return getattr(_load(_extension_name(module, name), path), name)
    except Exception as exc:  # no compiler, a pycc limitation, a broken file: use the JIT
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            failed.write_text(f"{type(exc).__name__}: {exc}\n")
        except OSError:  # a read-only cache: the run goes on without the marker
            pass
        warnings.warn(
            f"{module}.{name} could not be compiled ahead of time ({type(exc).__name__}: "
            f"{exc}); numba's JIT runs it instead (about 0.3 s more start-up per run). "
            f"Delete {failed} to try again.",
            RuntimeWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(module), name)


def _load(ext_name: str, path: Path) -> Any:
    """Import an extension module from a file outside ``sys.path``."""
    loader = importlib.machinery.ExtensionFileLoader(ext_name, str(path))
    spec = importlib.util.spec_from_file_location(ext_name, path, loader=loader)
    assert spec is not None
    ext = importlib.util.module_from_spec(spec)
    loader.exec_module(ext)
    return ext


def _build(module: str, name: str, signature: str, path: Path) -> None:
    """Compile ``module.name`` with numba's ``pycc`` into ``path`` (atomically).

    ``pycc`` compiles with numba's default flags; the project's kernels are written for
    ``error_model="numpy"`` (a division by zero gives inf or nan, as in NumPy, instead of an
    exception) and release the GIL (``nogil``), so both flags are set for this build.
    """
    with warnings.catch_warnings():  # pycc is "pending deprecation"; it still works
        warnings.simplefilter("ignore")
        from numba.core import compiler
        from numba.pycc import CC
        from numba.pycc import compiler as pycc_compiler

    kernel = getattr(importlib.import_module(module), name)
    path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=path.parent))

    class _Flags(compiler.Flags):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.error_model = "numpy"
            self.release_gil = True

    try:
        cc = CC(_extension_name(module, name))
        cc.output_dir = str(work)
        cc.export(name, signature)(kernel.py_func)
        pycc_compiler.Flags, saved = _Flags, pycc_compiler.Flags
        try:
            cc.compile()
        finally:
            pycc_compiler.Flags = saved
        built = work / Path(cc.output_file).name
        os.replace(built, path)  # atomic: a concurrent run sees the whole file or none
    finally:
        shutil.rmtree(work, ignore_errors=True)
