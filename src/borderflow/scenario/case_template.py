"""``borderflow new-case DIR``: a case folder to fill in, that ``borderflow check`` explains.

Every file is written with its header, its HXL hashtag row and one commented example row
(``# ...``: the readers skip it); ``scenario.toml`` has every section of the schema with each
parameter at an example value and a ``TODO`` placeholder where its source or assumption goes
(optional sections and parameters commented out). The sections and columns are read from the
schema, so what other mechanisms add to it appears in new cases without editing this module.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

from pydantic import BaseModel

from borderflow.errors import ScenarioError
from borderflow.scenario.border_checks import inner_model, is_param_section
from borderflow.scenario.border_schema import Files, ScenarioFile
from borderflow.scenario.case_columns import EXAMPLES, HXL, PARAM_HELP, tag

#: Example values of scenario.toml parameters (1 where not listed: inside every range).
VALUES = {
    "stock": 10000, "child_share_in_families": 0.4, "base_hazard": 1e-4, "social_weight": 0.5,
    "social_window_days": 14, "preparation_days": 3, "bus_km_per_day": 800,
    "walk_km_per_day": 15, "ferry_km_per_day": 300, "boat_km_per_day": 200,
    "car_km_per_day": 600, "train_km_per_day": 500, "return_per_day": 0.05,
    "divert_per_day": 0.02, "irregular_per_day": 0.2, "detection_base": 0.1,
    "readmitted_per_day": 0.3, "delay_days": 2, "home_per_day": 0.05,
}  # fmt: skip
#: Sphere minimum standards (the needs every case uses unless it has reason not to).
SPHERE = [
    ["people", "1", "person", "none", "head count (1 per person)"],
    ["shelter_m2", "3.5", "m2 of covered living space", "none",
     "Sphere Handbook 2018, shelter and settlement standard 3: minimum 3.5 m2 per person"],
    ["water_l", "15", "litres per day", "none",
     "Sphere Handbook 2018, water supply standard 2.1: 15 litres per person per day"],
    ["food_kcal", "2100", "kcal per day", "none",
     "Sphere Handbook 2018, food security and nutrition: 2,100 kcal per person per day"],
    ["latrines", "0.05", "latrines", "ceil",
     "Sphere Handbook 2018, excreta management standard 3.2: 1 toilet per 20 people "
     "(rounded up)"],
]  # fmt: skip
PLACEHOLDER = "TODO: outlet, date and grade A-D of the figure, or ASSUMPTION and why"


def columns(table: str, model: type[BaseModel]) -> list[str]:
    """The columns of a table: in the order of the reference, then any the schema adds."""
    fields = [f.alias or name for name, f in model.model_fields.items()]
    known = [c for c in HXL.get(table, {}) if c in fields]
    return known + [c for c in fields if c not in known]


def table_text(table: str, model: type[BaseModel]) -> str:
    """Header, HXL row and the commented example row (or Sphere's rows for needs.csv)."""
    cols = columns(table, model)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    w.writerow([tag(table, c) for c in cols])
    if table == "needs":
        w.writerows(SPHERE)
        return buf.getvalue()
    example = [EXAMPLES.get(table, {}).get(c, "") for c in cols]
    example[0] = f"# {example[0]}"
    w.writerow(example)
    return buf.getvalue()


def _section_lines(name: str, model: type[BaseModel], optional: bool) -> list[str]:
    doc = (model.__doc__ or "").strip().splitlines()
    lead = "# " if optional else ""
    out = [f"# {doc[0]}"] if doc else []
    if optional:
        out.append("# Optional: remove the '# ' of this section's lines to use it.")
    out.append(f"{lead}[{name}]")
    for key, f in model.model_fields.items():
        value = VALUES.get(key, 1)
        if (help_text := PARAM_HELP.get(f"{name}.{key}")) is not None:
            out.append(f"# {key}: {help_text}")
        line = f'{key} = {{ value = {value!r}, assumption = "{PLACEHOLDER}" }}'
        out.append(f"{'# ' if optional or not f.is_required() else ''}{line}")
    return [*out, ""]


def scenario_text(name: str) -> str:
    lines = [
        "# Every parameter needs a `source` (outlet, date, reliability grade A-D) or an",
        "# `assumption` (with its reasoning). `borderflow check DIR` lists what is left to do.",
        "",
        "[case]",
        f'name = "{name}"',
        'title = "TODO: a one-line title"',
        "start = 2025-01-01  # first day simulated (YYYY-MM-DD)",
        "end = 2025-03-31  # last day simulated",
        "origin = 2025-02-01  # forecast origin: files hold what was known by then",
        'description = "TODO: what happened, in a few sentences"',
        "",
    ]
    for section, f in ScenarioFile.model_fields.items():
        inner = inner_model(f.annotation)
        if inner is None or inner[0] != "model" or not is_param_section(inner[1]):
            continue
        lines += _section_lines(section, inner[1], optional=not f.is_required())
    lines += ["# File names, if not the defaults:", "# [files]"]
    lines += [f'# {k} = "{v}"' for k, v in Files().model_dump().items()]
    lines += [
        "",
        "# Variants a user picks with -v DIMENSION=OPTION (see docs/case-format.md):",
        "# [variants.policy]",
        '# default = "as_decided"',
        "# [variants.policy.options.as_decided]",
        '# description = "As decided."',
        "# [variants.policy.options.corridor]",
        '# description = "Counterfactual: a humanitarian corridor from the origin."',
        "# drop_policies_from = 2025-02-01",
        "# [[variants.policy.options.corridor.policies]]",
        '# crossing = "Chacalluta-Santa Rosa"',
        '# side = "entry"',
        "# start = 2025-02-01",
        '# policy = "corridor"',
        "",
    ]
    return "\n".join(lines)


def write_new_case(folder: Path) -> list[Path]:
    """Write a new case folder (it must not exist, or be empty); all files or none."""
    from borderflow.scenario.border_io import TABLE_MODELS

    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ScenarioError("already exists and is not empty: choose a new folder", file=folder)
    texts = {"scenario.toml": scenario_text(folder.resolve().name)}
    files = Files()
    for table, model in TABLE_MODELS.items():
        texts[getattr(files, table)] = table_text(table, model)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for name, text in texts.items():
            (tmp / name).write_text(text, encoding="utf-8")
        if folder.exists():
            folder.rmdir()
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [folder / name for name in texts]
