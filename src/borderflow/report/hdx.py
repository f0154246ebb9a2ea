"""A border run as a dataset ready for the Humanitarian Data Exchange (HDX).

Three files in one folder: the daily series as HXL CSV with each location's country and
COD-AB p-codes (``#adm1+code``, ``#adm2+code``) and kind, the route graph as GeoJSON, and
``hdx-metadata.json``: the dataset's fields as HDX asks for them on upload (title,
description, source, methodology, caveats, licence, dates, countries, tags, resources). The
caveats say plainly that these are model projections, not counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from borderflow.report.geojson import BorderRun, write_geojson
from borderflow.results.atomic import atomic_outputs
from borderflow.results.hxl import write_csv
from borderflow.results.series import number_text

if TYPE_CHECKING:
    from borderflow.scenario.border_io import BorderCase

DATA_TAGS = {
    "date": "#date",
    "location": "#loc+name",
    "location_kind": "#loc+type",
    "country": "#country+code",
    "adm1_code": "#adm1+code",
    "adm2_code": "#adm2+code",
    "indicator": "#indicator+code",
    "value": "#indicator+value+num",
}
METADATA = "hdx-metadata.json"


def _locations(case: BorderCase) -> dict[str, tuple[str, str, str, str]]:
    """Location → (kind, country, adm1 code, adm2 code); a crossing takes its exit post's."""
    out = {p.name: (p.kind, p.iso3, p.adm1_code, p.adm2_code) for p in case.places}
    for c in case.crossings:
        _, iso3, adm1, adm2 = out[c.exit_post]
        out[c.name] = ("crossing", iso3, adm1, adm2)
    return out


def _rows(run: BorderRun) -> Iterator[list[object]]:
    where = _locations(run.case)
    table = run.table
    dates = table["date"].to_numpy().astype("datetime64[D]").astype(str)
    columns = zip(
        dates,
        table["location"].cast("string").to_pylist(),
        table["indicator"].cast("string").to_pylist(),
        table["value"].to_pylist(),
        strict=True,
    )
    for date, location, indicator, value in columns:
        kind, iso3, adm1, adm2 = where.get(location, ("road", "", "", ""))
        yield [date, location, kind, iso3, adm1, adm2, indicator, number_text(value)]


def metadata(run: BorderRun, files: dict[str, str]) -> dict[str, Any]:
    """The dataset's HDX fields; ``files`` maps resource file names to descriptions."""
    case = run.case
    countries = sorted({p.iso3 for p in case.places})
    dates = run.table["date"].to_numpy().astype("datetime64[D]")
    variant = ", ".join(f"{k}={v}" for k, v in sorted(run.meta.get("variant", {}).items()))
    return {
        "name": f"borderflow-{case.name}-seed{run.meta.get('seed', 0)}".lower(),
        "title": f"Projected border flows: {case.spec.case.title}",
        "notes": (
            f"Daily projections of people arriving at, crossing, refused at and stranded "
            f"between the border posts of case '{case.name}', the people travelling each road, "
            f"and the needs of those stranded (Sphere standards). Variant: {variant or 'default'}; "
            f"seed {run.meta.get('seed', 0)}."
        ),
        "dataset_source": "borderflow model run (agent-based); inputs cited in the case files",
        "methodology": "Other",
        "methodology_other": (
            "Agent-based simulation of departures, travel and border processing on a route "
            "graph; parameters from published sources or stated assumptions (see the case's "
            "README and `borderflow info`)."
        ),
        "caveats": (
            "Model projections, not observations or registrations. One run with one random "
            "seed; use an ensemble for uncertainty. Aggregated counts only."
        ),
        "license_id": "cc-by",
        "dataset_date": f"[{dates.min()}T00:00:00 TO {dates.max()}T23:59:59]",
        "data_update_frequency": "-1",
        "groups": [{"name": c.lower()} for c in countries],
        "tags": [{"name": t} for t in ("border crossings", "migration", "hxl")],
        "subnational": "1" if any(p.adm1_code for p in case.places) else "0",
        "resources": [
            {"name": name, "format": name.rsplit(".", 1)[-1].upper(), "description": text}
            for name, text in files.items()
        ],
    }


def write_hdx(run: BorderRun, folder: Path) -> list[Path]:
    """The dataset's three files, written all or nothing."""
    stem = f"{run.case.name}-seed{run.meta.get('seed', 0)}"
    files = {
        f"{stem}-series.csv": "Daily series per location and indicator, HXL-tagged, with "
        "country and admin p-codes",
        f"{stem}-routes.geojson": "Places, crossings and roads with flows and peak stranded",
    }
    with atomic_outputs(folder) as out:
        csv_name, geo_name = files
        out.write(csv_name, lambda p: write_csv(p, DATA_TAGS, _rows(run)))
        out.write(geo_name, lambda p: write_geojson(run, p))
        meta = json.dumps(metadata(run, files), ensure_ascii=False, indent=2)
        out.write(METADATA, lambda p: p.write_text(meta, encoding="utf-8"))
    return [folder / name for name in (*files, METADATA)]
