"""Keep scenario readers inside their scenario folder.

A scenario names the files it is made of (``data_layout.csv`` lists Flee's series,
``scenario.toml`` its tables), and any of them may be a symbolic link. A reader given
``../../../etc/passwd``, or a ``routes.csv`` linked to a file elsewhere, must refuse it before
opening it: otherwise it reads a file the scenario's author chose anywhere on the machine, and
its error messages echo that file's first lines.
"""

from __future__ import annotations

from pathlib import Path

from borderflow.errors import ScenarioError


def inside(
    root: Path,
    path: Path,
    *,
    named_in: Path | None = None,
    row: int | None = None,
    column: str | None = None,
) -> Path:
    """``path`` unchanged if it resolves (links followed) to ``root`` or below it.

    Otherwise a ScenarioError, naming ``named_in`` (the file that named ``path``, with its
    ``row`` and ``column``) when given, else ``path`` itself; never the target's contents.
    """
    base = root.resolve()
    try:
        target = path.resolve()
        target.exists()  # a name too long for the system fails here, not later as "missing"
    except (ValueError, OSError) as exc:  # a NUL in the name, a loop of links
        where = {"file": named_in, "row": row, "column": column} if named_in else {"file": path}
        raise ScenarioError(f"not a usable file name ({exc})", **where) from None
    if target == base or target.is_relative_to(base):
        return path
    if named_in is not None:
        try:
            shown = path.relative_to(root)
        except ValueError:
            shown = path
        raise ScenarioError(
            f"names '{shown}', which is outside the scenario folder",
            file=named_in,
            row=row,
            column=column,
        )
    raise ScenarioError("a link to a file outside the scenario folder: refused", file=path)
