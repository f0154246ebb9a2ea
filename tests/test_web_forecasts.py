"""The API's forecasts: the history of a scenario's forecasts, each one's bands and reports."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from borderflow.forecast.cycle import ForecastSpec, forecast
from borderflow.scenario.locate import resolve_scenario
from test_web_api import make_app

CASE = "chile-peru-2023"


@pytest.mark.slow
def test_forecasts_and_their_history(tmp_path):
    data = tmp_path / "data"
    app, tokens = make_app(f"sqlite:///{tmp_path / 'obs.db'}", data)
    h = {"Authorization": f"Bearer {tokens['viewer']}"}
    with TestClient(app) as c:
        assert c.get(f"/api/forecasts/{CASE}", headers=h).json() == []
        spec = ForecastSpec(resolve_scenario(CASE), data / "forecasts" / CASE, members=4, seed=1)
        forecast(spec, dt.date(2023, 5, 7))
        forecast(spec, dt.date(2023, 5, 8))
        listed = c.get(f"/api/forecasts/{CASE}", headers=h).json()
        assert [f["origin"] for f in listed] == ["2023-05-07", "2023-05-08"]
        assert listed[0]["parent"] is None and listed[1]["parent"] == "2023-05-07"
        assert listed[1]["new_reports"] == 1 and listed[1]["reports"] == listed[0]["reports"] + 1
        bands = c.get(
            f"/api/forecasts/{CASE}/2023-05-08/bands",
            params={"indicator": "stranded", "location": "Chacalluta-Santa Rosa"},
            headers=h,
        ).json()
        assert bands and all(b["q05"] <= b["q50"] <= b["q95"] for b in bands)
        rows = c.get(f"/api/forecasts/{CASE}/2023-05-08/assimilated", headers=h).json()
        assert [r["indicator"] for r in rows] == ["sheltered_moved"]
        assert rows[0]["reliability"] == "B" and rows[0]["ess"] > 0
        assert c.get(f"/api/forecasts/{CASE}/2023-05-09/bands", headers=h).status_code == 404
        assert c.get("/api/forecasts/mali", headers=h).status_code == 404
        assert c.get("/api/forecasts/nowhere", headers=h).status_code == 404
        assert c.get(f"/api/forecasts/{CASE}").status_code == 401
    app.state.store.engine.dispose()
