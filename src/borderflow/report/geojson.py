"""A border run's route graph as GeoJSON (RFC 7946), for QGIS, kepler.gl and the like.

One FeatureCollection: a Point per place (kind, country, admin names and COD-AB p-codes, the
people who passed through), a Point per crossing halfway between its posts (peak stranded and
its date, people crossed, refused, crossing irregularly) and a LineString per road (people who
travelled it each way). Coordinates are WGS 84 longitude, latitude, as the spec requires.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from borderflow.errors import ScenarioError

if TYPE_CHECKING:
    import pyarrow as pa

    from borderflow.scenario.border_io import BorderCase

CROSSING_TOTALS = ("crossed", "refused", "irregular_crossing", "readmitted", "returned")


@dataclass(frozen=True)
class BorderRun:
    """What an export needs of a run folder: its case (with the run's variant) and series."""

    folder: Path
    case: BorderCase
    table: pa.Table
    meta: dict[str, Any]


def load_run(folder: Path) -> BorderRun:
    """Read a border run's folder (``run.json`` and ``series.parquet``) and its case."""
    from borderflow.results.series import read_parquet
    from borderflow.scenario.border_io import read_border_case
    from borderflow.scenario.locate import resolve_scenario

    run_json = folder / "run.json"
    try:
        meta = json.loads(run_json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError("not a run folder (no run.json)", file=folder) from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"not valid JSON ({exc})", file=run_json) from None
    if meta.get("ruleset") != "border":
        raise ScenarioError("not a border-case run (ruleset is not 'border')", file=run_json)
    case_path = Path(meta.get("case_path", ""))
    if not (case_path / "scenario.toml").is_file():
        case_path = resolve_scenario(str(meta.get("case", "")))
    case = read_border_case(case_path, meta.get("variant") or {})
    parquet = folder / "series.parquet"
    if not parquet.is_file():
        raise ScenarioError("file not found", file=parquet)
    return BorderRun(folder, case, read_parquet(parquet), meta)


def _totals(table: pa.Table, indicator: str) -> dict[str, float]:
    """Sum over the run of one indicator, per location."""
    import pyarrow as pa

    from borderflow.report.plots.data import select

    rows = select(table, indicator)
    plain = pa.table({"location": rows["location"].cast(pa.string()), "value": rows["value"]})
    grouped = plain.group_by("location").aggregate([("value", "sum")])
    return dict(zip(grouped["location"].to_pylist(), grouped["value_sum"].to_pylist(), strict=True))


def _peak(table: pa.Table, crossing: str) -> tuple[float, str | None]:
    """Peak evening count stranded at a crossing and its first date (None when no one)."""
    from borderflow.report.plots.data import series

    dates, values = series(table, "stranded", crossing)
    if len(values) == 0 or values.max() <= 0:
        return 0.0, None
    k = int(values.argmax())
    return float(values[k]), str(dates[k])


def _point(lon: float, lat: float, props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def place_features(run: BorderRun) -> list[dict[str, Any]]:
    from borderflow.report.plots.data import road_totals

    through: dict[str, float] = {}
    for (a, b), total in road_totals(run.table).items():
        through[a] = through.get(a, 0.0) + total
        through[b] = through.get(b, 0.0) + total
    return [
        _point(
            p.lon,
            p.lat,
            {
                "feature": "place",
                "name": p.name,
                "kind": p.kind,
                "country": p.iso3,
                "pcode": p.pcode,
                "adm1_name": p.adm1,
                "adm1_code": p.adm1_code,
                "adm2_code": p.adm2_code,
                "people_through": through.get(p.name, 0.0),
            },
        )
        for p in run.case.places
    ]


def crossing_features(run: BorderRun) -> list[dict[str, Any]]:
    pos = {p.name: p for p in run.case.places}
    sums = {ind: _totals(run.table, ind) for ind in CROSSING_TOTALS}
    out = []
    for c in run.case.crossings:
        exit_, entry = pos[c.exit_post], pos[c.entry_post]
        peak, peak_date = _peak(run.table, c.name)
        props: dict[str, Any] = {
            "feature": "crossing",
            "name": c.name,
            "exit_post": c.exit_post,
            "entry_post": c.entry_post,
            "exit_adm1_code": exit_.adm1_code,
            "entry_adm1_code": entry.adm1_code,
            "peak_stranded": peak,
            "peak_stranded_date": peak_date,
        }
        props |= {ind: sums[ind].get(c.name, 0.0) for ind in CROSSING_TOTALS}
        out.append(_point((exit_.lon + entry.lon) / 2, (exit_.lat + entry.lat) / 2, props))
    return out


def road_features(run: BorderRun) -> list[dict[str, Any]]:
    from borderflow.report.plots.data import road_totals

    pos = {p.name: p for p in run.case.places}
    flows = road_totals(run.table)
    out, seen = [], set()
    for r in run.case.routes:
        key = tuple(sorted((r.from_, r.to)))
        if key in seen:
            continue
        seen.add(key)
        a, b = pos[r.from_], pos[r.to]
        forward, back = flows.get((r.from_, r.to), 0.0), flows.get((r.to, r.from_), 0.0)
        props = {
            "feature": "road",
            "from": r.from_,
            "to": r.to,
            "distance_km": r.distance_km,
            "mode": r.mode,
            "people_forward": forward,
            "people_back": back,
            "people_total": forward + back,
        }
        geometry = {"type": "LineString", "coordinates": [[a.lon, a.lat], [b.lon, b.lat]]}
        out.append({"type": "Feature", "geometry": geometry, "properties": props})
    return out


def run_geojson(run: BorderRun) -> dict[str, Any]:
    """The FeatureCollection: roads first, so that points are drawn over them."""
    features = road_features(run) + place_features(run) + crossing_features(run)
    lons = [p.lon for p in run.case.places]
    lats = [p.lat for p in run.case.places]
    return {
        "type": "FeatureCollection",
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "features": features,
    }


def write_geojson(run: BorderRun, path: Path) -> None:
    path.write_text(json.dumps(run_geojson(run), ensure_ascii=False, indent=1), encoding="utf-8")
