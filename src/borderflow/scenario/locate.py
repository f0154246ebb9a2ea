"""Resolve a scenario argument: a directory on disk, or the name of a built-in case."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from borderflow.errors import ScenarioError

BUILTIN_FLEE = ("mali", "burundi")


def builtin_root() -> Path:
    return Path(str(resources.files("borderflow") / "builtin"))


def resolve_scenario(arg: str) -> Path:
    """A path if it exists, else a built-in case of that name."""
    path = Path(arg)
    if path.exists():
        return path
    if arg in BUILTIN_FLEE:
        return builtin_root() / "flee" / arg
    raise ScenarioError(
        f"no such scenario directory, and not a built-in case ({', '.join(BUILTIN_FLEE)})",
        file=arg,
    )
