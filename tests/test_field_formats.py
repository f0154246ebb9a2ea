"""The field's formats: the offline map, DTM flow-monitoring import, GeoJSON and HDX exports."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from border_factory import write_case
from borderflow.observe.store import ImportRejectedError, Store
from borderflow.report.boundaries import boundaries
from borderflow.report.plots.data import peak_stranded, road_totals

DTM = Path(__file__).parent / "data" / "dtm-flow-monitoring.csv"
ENV = {**os.environ, "COLUMNS": "300"}
CODES = {"XA": ("CL15", "CL151"), "YA": ("PE23", "PE2301"), "S": ("CL15", "")}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "borderflow", *args], capture_output=True, text=True, env=ENV
    )


class _NoNetwork:
    """Any attempt to open a connection fails the test (sockets blocked, as in the issue)."""

    def __enter__(self):
        self._saved = socket.socket.connect, socket.create_connection

        def refuse(*_a, **_k):
            raise AssertionError("network access while drawing the map")

        socket.socket.connect = refuse  # type: ignore[method-assign]
        socket.create_connection = refuse  # type: ignore[assignment]
        return self

    def __exit__(self, *exc):
        socket.socket.connect, socket.create_connection = self._saved


def _with_codes(case_dir: Path) -> None:
    """Add the optional p-code columns to the factory's places.csv for some places."""
    path = case_dir / "places.csv"
    rows = list(csv.reader(path.open()))
    rows[0][4:4] = ["adm1_code", "adm2_code"]
    rows[1][4:4] = ["#adm1+code", "#adm2+code"]
    for r in rows[2:]:
        r[4:4] = list(CODES.get(r[0], ("", "")))
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from borderflow.report.geojson import load_run
    from borderflow.runs import run_border

    root = tmp_path_factory.mktemp("field")
    case_dir = write_case(
        root / "case",
        stock=1500,
        hazard=0.02,
        end="2025-01-20",
        origin="2025-01-08",
        policies=[("A", "entry", "2025-01-01", "", "documented_only", 0, 0.5)],
        groups=[("NAT", 1.0, 0.3, 0.4, "A:0.8;B:0.2")],
    )
    _with_codes(case_dir)
    with _NoNetwork():
        run_border(case_dir, seed=3, out_dir=root / "run", plots=True)
    return load_run(root / "run")


def test_boundaries_of_the_chile_peru_border_come_from_the_installed_package():
    with _NoNetwork():
        world = boundaries((-71.0, -68.0, -20.5, -17.5))
    assert len(world.land) >= 1 and len(world.countries) >= 2 and len(world.admin1) >= 3
    # Chile–Peru border reaches the coast near 18.35°S: a country line passes there
    near = [
        line
        for line in world.countries
        if ((abs(line[:, 1] + 18.35) < 0.1) & (abs(line[:, 0] + 70.37) < 0.1)).any()
    ]
    assert near, "no country border at the Chile–Peru coast"


@pytest.mark.slow
def test_map_is_drawn_offline_with_the_world_under_the_network(run):
    from matplotlib.collections import LineCollection, PolyCollection
    from PIL import Image

    from borderflow.report.plots.network import _SEA, plot_map

    png = run.folder / "map.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(png) as img:
        colours = {c for _, c in img.convert("RGB").getcolors(maxcolors=1_000_000)}
    sea = tuple(int(_SEA[k : k + 2], 16) for k in (1, 3, 5))
    assert sea in colours  # the sea is painted
    with _NoNetwork():
        fig = plot_map(run.table, run.case)
    maps = [ax for ax in fig.axes if ax.collections]
    assert maps
    for ax in maps:
        polys = [c for c in ax.collections if isinstance(c, PolyCollection)]
        lines = [c for c in ax.collections if isinstance(c, LineCollection)]
        assert any(len(c.get_paths()) for c in polys), "no land drawn"
        assert sum(len(c.get_segments()) for c in lines) >= 3, "no borders drawn"


@pytest.mark.slow
def test_geojson_export_is_valid_and_carries_the_runs_numbers(run, tmp_path):
    from geojson_pydantic import FeatureCollection

    out = tmp_path / "routes.geojson"
    res = cli("export", "geojson", str(run.folder), "--out", str(out))
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text())
    FeatureCollection.model_validate(data)  # the spec's structure (RFC 7946)
    by_kind: dict[str, list[dict]] = {}
    for f in data["features"]:
        by_kind.setdefault(f["properties"]["feature"], []).append(f)
        for lon, lat in _points(f["geometry"]):
            assert -71 < lon < -67 and -21 < lat < -17  # longitude first, then latitude
    peaks = peak_stranded(run.table, run.case)
    for f in by_kind["crossing"]:
        assert f["properties"]["peak_stranded"] == peaks[f["properties"]["name"]]
    assert max(peaks.values()) > 0
    flows = road_totals(run.table)
    assert sum(f["properties"]["people_total"] for f in by_kind["road"]) == sum(flows.values())
    places = {f["properties"]["name"]: f["properties"] for f in by_kind["place"]}
    for name, (adm1, adm2) in CODES.items():
        assert (places[name]["adm1_code"], places[name]["adm2_code"]) == (adm1, adm2)
    assert places["R"]["adm1_code"] == ""


def _points(geometry: dict) -> list[list[float]]:
    coords = geometry["coordinates"]
    return [coords] if geometry["type"] == "Point" else coords


@pytest.mark.slow
def test_hdx_dataset_is_hxl_with_pcodes_and_metadata(run, tmp_path):
    import hxl

    res = cli("export", "hdx", str(run.folder), "--out", str(tmp_path / "hdx"))
    assert res.returncode == 0, res.stderr
    meta = json.loads((tmp_path / "hdx" / "hdx-metadata.json").read_text())
    for key in ("title", "notes", "dataset_source", "license_id", "dataset_date", "caveats"):
        assert meta[key]
    for resource in meta["resources"]:
        assert (tmp_path / "hdx" / resource["name"]).is_file()
    series = next((tmp_path / "hdx").glob("*-series.csv"))
    source = hxl.data(str(series), hxl.InputOptions(allow_local=True))
    tags = [c.display_tag for c in source.columns]
    assert "#adm1+code" in tags and "#adm2+code" in tags
    rows = list(source)
    assert len(rows) == run.table.num_rows
    crossing_a = {r.get("#adm1+code") for r in rows if r.get("#loc+name") == "A"}
    assert crossing_a == {"CL15"}  # a crossing takes its exit post's codes


def test_export_of_a_folder_that_is_no_run_exits_2(tmp_path):
    res = cli("export", "geojson", str(tmp_path))
    assert res.returncode == 2
    assert "run.json" in res.stderr and "Traceback" not in res.stderr


# -- DTM flow monitoring --------------------------------------------------------------------


def test_dtm_file_with_an_unmapped_point_and_a_bad_row_is_rejected_whole(tmp_path):
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    res = cli("obs", "import-dtm", str(DTM), "--case", "chile-peru-2025", "--db", url)
    assert res.returncode == 2
    assert "row 8, field 'point': flow monitoring point 'Pisiga Bolívar' is not mapped" in (
        res.stderr
    )
    assert "row 9, field 'value'" in res.stderr
    assert "Traceback" not in res.stderr
    assert Store(url).query() == []


def test_dtm_counts_land_at_the_case_crossings(tmp_path):
    url = f"sqlite:///{tmp_path / 'obs.db'}"
    good = tmp_path / "dtm.csv"
    good.write_text("".join(DTM.read_text().splitlines(keepends=True)[:8]))  # without row 9
    args = ("obs", "import-dtm", str(good), "--case", "chile-peru-2025", "--db", url)
    res = cli(*args, "--point", "Pisiga Bolívar=Colchane-Pisiga")
    assert res.returncode == 0, res.stderr
    assert "6 counts, 6 added" in res.stdout
    rows = Store(url).query(indicator="flow_monitored")
    got = {(r.place_name, r.direction, r.nationality, r.sex_age, r.value_low) for r in rows}
    assert got == {
        ("Chacalluta-Santa Rosa", "incoming", "VEN", "f 18-59", 412.0),
        ("Chacalluta-Santa Rosa", "incoming", "VEN", "m 18-59", 498.0),
        ("Chacalluta-Santa Rosa", "incoming", "VEN", "f 0-17", 133.0),
        ("Chacalluta-Santa Rosa", "outgoing", "PER", "", 1210.0),
        ("Chacalluta-Santa Rosa", "outgoing", "COL", "", 87.0),
        ("Colchane-Pisiga", "incoming", "VEN", "", 57.0),
    }
    assert {r.place_code for r in rows if r.place_name == "Colchane-Pisiga"} == {"BO04-FMP02"}
    again = cli(*args, "--point", "Pisiga Bolívar=Colchane-Pisiga")
    assert "6 counts, 0 added, 0 revised, 6 already stored" in again.stdout


def test_dtm_file_without_hxl_tags_is_read_by_its_headers(tmp_path):
    from borderflow.observe.dtm import read_dtm_rows

    lines = DTM.read_text().splitlines(keepends=True)
    plain = tmp_path / "plain.csv"
    plain.write_text(lines[0] + lines[2])
    (row,) = read_dtm_rows(plain)
    assert row.cells["point"] == "Santa Rosa" and row.cells["count"] == "412"
    assert row.cells["nationality"] == "VEN" and row.cells["age"] == "18-59"


def test_dtm_point_mapped_to_an_unknown_crossing_exits_2(tmp_path):
    db = f"sqlite:///{tmp_path / 'obs.db'}"
    res = cli(
        "obs",
        "import-dtm",
        str(DTM),
        "--case",
        "chile-peru-2025",
        "--point",
        "X=Nowhere",
        "--db",
        db,
    )
    assert res.returncode == 2
    assert "'Nowhere' is not a crossing of the case" in res.stderr


# -- the dashboard's map background ---------------------------------------------------------


def test_dashboard_serves_the_boundaries_of_a_scenario_offline(tmp_path):
    from fastapi.testclient import TestClient
    from geojson_pydantic import FeatureCollection

    from borderflow.web.accounts import add_token, add_user
    from borderflow.web.app import create_app
    from borderflow.web.schemas import UserIn

    app = create_app(f"sqlite:///{tmp_path / 'web.db'}", tmp_path / "data", workers=1)
    user = UserIn(username="vic", password="vic-password", role="viewer", organisation="T")
    add_user(app.state.store.engine, user, by="test")
    token = add_token(app.state.store.engine, "vic", "test", by="test")[1]
    with TestClient(app) as client, _NoNetwork():
        url = "/api/scenarios/chile-peru-2025/boundaries"
        assert client.get(url).status_code == 401
        res = client.get(url, headers={"Authorization": f"Bearer {token}"})
        places = client.get(
            "/api/scenarios/chile-peru-2025", headers={"Authorization": f"Bearer {token}"}
        ).json()["places"]
        missing = client.get(
            "/api/scenarios/nowhere/boundaries", headers={"Authorization": f"Bearer {token}"}
        )
    app.state.store.engine.dispose()
    assert res.status_code == 200
    data = res.json()
    FeatureCollection.model_validate(data)
    layers = {f["properties"]["layer"]: f["geometry"]["coordinates"] for f in data["features"]}
    assert set(layers) == {"land", "lakes", "countries", "admin1"}
    assert len(layers["countries"]) >= 3 and len(layers["admin1"]) >= 20
    assert missing.status_code == 404
    codes = {p["name"]: (p["adm1_code"], p["adm2_code"]) for p in places}
    assert codes["Chacalluta"] == ("CL15", "CL151") and codes["Santa Rosa"] == ("PE23", "PE2301")


def test_dtm_counts_by_sex_and_age_in_columns_of_their_own(tmp_path):
    from borderflow.observe.dtm import point_map, read_dtm_rows, to_observations
    from borderflow.scenario.border_io import read_border_case
    from borderflow.scenario.locate import resolve_scenario

    wide = tmp_path / "wide.csv"
    wide.write_text(
        "Date,FMP,Direction,Total,Women,Men,Girls,Boys\n"
        "#date,#loc+name,#meta+direction,#affected+total,#affected+f+adults,"
        "#affected+m+adults,#affected+f+children,#affected+m+children\n"
        "2025-11-20,Colchane,Outgoing,100,30,40,10,20\n"
        "2025-11-21,Colchane,Outgoing,55,,,,\n"
        "2025-11-22,Colchane,Outgoing,12,x,,,\n"
    )
    points = point_map(read_border_case(resolve_scenario("chile-peru-2025")).crossings, {})
    rows = read_dtm_rows(wide)
    with pytest.raises(ImportRejectedError) as caught:
        to_observations(wide, rows, points, "test", "B")
    (bad,) = caught.value.errors
    assert (bad.row, bad.field) == (5, "count (#affected+f+adults)")
    obs = to_observations(wide, [r for r in rows if r.line != 5], points, "test", "B")
    got = {(o.date.isoformat(), o.sex_age, o.value_low) for o in obs}
    assert got == {
        ("2025-11-20", "", 100.0),
        ("2025-11-20", "f adults", 30.0),
        ("2025-11-20", "m adults", 40.0),
        ("2025-11-20", "f children", 10.0),
        ("2025-11-20", "m children", 20.0),
        ("2025-11-21", "", 55.0),
    }
    assert {o.place_name for o in obs} == {"Colchane-Pisiga"}
