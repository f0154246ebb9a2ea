"""The forecast store: one folder per forecast origin, written whole or not at all.

``OUT/origin-YYYY-MM-DD/`` holds a forecast: its members and bands (as an ensemble's),
``assimilated.csv`` (what it weighed, step by step), ``particles.bin`` (the filter's state on
the origin day, from which the next forecast goes on) and ``forecast.json`` (its settings,
origin, the forecast it went on from and how many reports it used). A forecast is built in a
hidden folder and renamed into place when complete, so a killed forecast leaves nothing
behind but a hidden folder that the next run removes: the cycle resumes from the last
complete forecast, and, every number being a function of the seed, computes the same.
Forecasts are never overwritten: anyone can see what was forecast on each day.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
import shutil
from pathlib import Path
from typing import Any

from borderflow.errors import ScenarioError

MANIFEST = "forecast.json"
PARTICLES = "particles.bin"
ASSIMILATED = "assimilated.csv"
PREFIX = "origin-"


def folder_of(out_dir: Path, origin: dt.date) -> Path:
    return out_dir / f"{PREFIX}{origin.isoformat()}"


def clean(out_dir: Path) -> None:
    """Remove forecasts left half-written by a killed run."""
    for stale in out_dir.glob(f".{PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)


def manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / MANIFEST).read_text())


def stored(out_dir: Path) -> list[Path]:
    """Complete forecasts, oldest origin first."""
    if not out_dir.is_dir():
        return []
    return sorted(f for f in out_dir.glob(f"{PREFIX}*") if (f / MANIFEST).exists())


def latest_before(out_dir: Path, settings: dict[str, Any], origin: dt.date) -> Path | None:
    """The last stored forecast with the same settings, an earlier origin and its particles.

    A forecast whose particles were deleted (to save space) is passed over.
    """
    found = None
    for folder in stored(out_dir):
        m = manifest(folder)
        if dt.date.fromisoformat(m["origin"]) >= origin:
            break
        if m["settings"] == settings:
            found = folder if (folder / PARTICLES).exists() else found
        else:
            raise ScenarioError(
                "the folder holds forecasts made with other settings "
                f"({', '.join(k for k in settings if m['settings'].get(k) != settings[k])} "
                "differ); use another --out",
                file=folder / MANIFEST,
            )
    return found


def save_particles(particles: Any, path: Path) -> None:
    """The filter's state, each particle as its differences from the first (:mod:`.packing`)."""
    from borderflow.forecast import packing

    packing.save(particles, path)


def load_particles(path: Path) -> Any:
    from borderflow.forecast import packing

    try:
        return packing.load(path)
    except (ValueError, OSError, EOFError, pickle.UnpicklingError):
        raise ScenarioError(
            "these particles cannot be read (stored by an earlier version of borderflow, or "
            "damaged): start the cycle again with --refit (or another --out)",
            file=path,
        ) from None


def publish(tmp: Path, folder: Path) -> None:
    """Move a complete forecast into place (one rename)."""
    if folder.exists():
        raise ScenarioError("a forecast for this origin is already stored", file=folder)
    tmp.rename(folder)
