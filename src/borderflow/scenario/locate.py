"""Resolve a scenario argument: a directory on disk, or the name of a built-in case."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from borderflow.errors import ScenarioError

# Flee's own scenarios, then FabFlee's validation set (see builtin/flee/README.md).
BUILTIN_FLEE = (
    "mali",
    "burundi",
    "mali2017_adm1",
    "nigeria2016",
    "nigeria2022_adm2",
    "ssudan2016",
    "tigray2020",
    "ukraine2022",
    "venezuela2022",
)
# The Chile–Peru cases, then the historical episodes authored for issue 12 (each folder's
# README); their counts after the origin are what forecasts are scored against.
BUILTIN_CASES = (
    "chile-peru-2025",
    "chile-peru-2023",
    "pazarkule-2020",
    "ceuta-2021",
    "tijuana-2018",
    "necocli-2021",
    "peru-visa-2019",
    "colchane-2021",
)


def builtin_root() -> Path:
    return Path(str(resources.files("borderflow") / "builtin"))


def resolve_scenario(arg: str) -> Path:
    """A path if it exists, else a built-in case of that name."""
    path = Path(arg)
    if path.exists():
        return path
    if arg in BUILTIN_FLEE:
        return builtin_root() / "flee" / arg
    if arg in BUILTIN_CASES:
        return builtin_root() / "cases" / arg
    raise ScenarioError(
        "no such scenario folder, and not a built-in case "
        f"({', '.join(BUILTIN_CASES + BUILTIN_FLEE)})",
        file=arg,
    )


def scenario_kind(path: Path) -> str:
    """``border`` for a case folder (or its scenario.toml), ``flee`` for a Flee scenario."""
    if path.is_file() and path.suffix == ".toml":
        return "border"
    if (path / "scenario.toml").is_file():
        return "border"
    if (path / "input_csv").is_dir():
        return "flee"
    raise ScenarioError(
        "neither a border case (no scenario.toml) nor a Flee scenario (no input_csv/)", file=path
    )
