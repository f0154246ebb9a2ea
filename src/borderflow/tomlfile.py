"""Reading a TOML file whose every problem is reported as a ScenarioError naming the file.

Scenario files, parameter priors, fit grids and the hierarchy all go through :func:`read_toml`,
so a missing, unreadable, non-UTF-8 or malformed file gets the same one-line message everywhere
(the CSV counterpart is :mod:`borderflow.csvfile`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from borderflow.errors import ScenarioError


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed file; any problem reading it is one ScenarioError naming ``path``."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError("file not found", file=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML ({exc})", file=path) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text ({exc.reason})", file=path) from None
    except OSError as exc:
        raise ScenarioError(f"cannot be read ({exc.strerror or exc})", file=path) from None
