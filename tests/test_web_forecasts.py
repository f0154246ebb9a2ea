"""The API's forecasts: the history of a scenario's forecasts, each one's bands and reports."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from fastapi.testclient import TestClient

from borderflow.forecast.cycle import ForecastSpec, forecast
from borderflow.scenario.locate import resolve_scenario
from test_web_api import ORG, make_app

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
        assert all(f["error_variance_per_day"] >= 0 for f in listed)
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
        assert c.get("/api/forecasts/mali/pending", headers=h).status_code == 404  # was 422
        assert c.get("/api/forecasts/nowhere", headers=h).status_code == 404
        assert c.get(f"/api/forecasts/{CASE}").status_code == 401
    app.state.store.engine.dispose()


def _wait(c: TestClient, job: int, h: dict) -> dict:
    deadline = time.monotonic() + 300
    while True:
        run = c.get(f"/api/runs/{job}", headers=h).json()
        if run["status"] in ("done", "failed"):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.2)


def _counts(c: TestClient, h: dict, rows: list[tuple[str, int, int]]) -> dict:
    body = [
        {"date": d, "place_name": "Chacalluta-Santa Rosa", "indicator": "stranded",
         "value_low": lo, "value_high": hi, "source_publisher": ORG, "reliability": "B"}
        for d, lo, hi in rows
    ]  # fmt: skip
    r = c.post("/api/observations", json=body, headers=h)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.slow
def test_update_after_an_upload_and_on_upload_when_an_admin_says_so(tmp_path):
    app, tokens = make_app(f"sqlite:///{tmp_path / 'obs.db'}", tmp_path / "data")
    h = {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}
    update = f"/api/forecasts/{CASE}/update"
    with TestClient(app) as c:
        _counts(c, h["entry"], [("2023-04-20", 100, 140), ("2023-04-22", 150, 190)])
        pending = c.get(f"/api/forecasts/{CASE}/pending", headers=h["viewer"]).json()
        assert [p["date"] for p in pending] == ["2023-04-20", "2023-04-22"]
        assert c.post(update, json={"members": 4}, headers=h["viewer"]).status_code == 403
        assert c.post(update, json={"members": 1}, headers=h["analyst"]).status_code == 422
        job = c.post(update, json={"members": 4, "seed": 3}, headers=h["analyst"]).json()["id"]
        done = _wait(c, job, h["viewer"])
        assert done["status"] == "done" and done["kind"] == "forecast", done
        assert "forecast from 2023-04-22: weighed 2 new reports" in done["message"]
        assert job not in [r["id"] for r in c.get("/api/runs", headers=h["viewer"]).json()]
        assert c.get(f"/api/runs/{job}/summary", headers=h["viewer"]).status_code == 404
        first = c.get(f"/api/forecasts/{CASE}", headers=h["viewer"]).json()
        assert [(f["origin"], f["members"], f["seed"]) for f in first] == [("2023-04-22", 4, 3)]
        assert c.get(f"/api/forecasts/{CASE}/pending", headers=h["viewer"]).json() == []
        again = _wait(c, c.post(update, json={}, headers=h["analyst"]).json()["id"], h["viewer"])
        assert again["status"] == "done" and "already weighs every" in again["message"]

        settings = "/api/forecast-settings"
        assert c.get(settings, headers=h["viewer"]).json()["update_on_upload"] is False
        on = {"update_on_upload": True}
        assert c.put(settings, json=on, headers=h["analyst"]).status_code == 403
        saved = c.put(settings, json=on, headers=h["admin"]).json()
        assert saved["update_on_upload"] is True and saved["updated_by"] == "admin"
        queued = _counts(c, h["entry"], [("2023-04-25", 200, 260)])["forecast_jobs"]
        assert len(queued) == 1  # chile-peru-2025 has no forecast yet: not updated
        assert _wait(c, queued[0], h["viewer"])["status"] == "done"
        listed = c.get(f"/api/forecasts/{CASE}", headers=h["viewer"]).json()
        assert [(f["origin"], f["parent"], f["members"]) for f in listed] == [
            ("2023-04-22", None, 4), ("2023-04-25", "2023-04-22", 4)
        ]  # fmt: skip
        assert listed[1]["new_reports"] == 1 and listed[1]["reports"] == 3
        c.put(settings, json={"update_on_upload": False}, headers=h["admin"])
        assert "forecast_jobs" not in _counts(c, h["entry"], [("2023-04-26", 200, 260)])
    app.state.store.engine.dispose()


@pytest.mark.slow
def test_an_update_goes_on_with_the_move_its_stored_cycle_used(tmp_path):
    """A cycle stored with the jitter (the earlier default; its settings name no move) goes on
    under the jitter, not from day 0 under the MCMC default."""
    data = tmp_path / "data"
    app, tokens = make_app(f"sqlite:///{tmp_path / 'obs.db'}", data)
    h = {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}
    spec = ForecastSpec(resolve_scenario(CASE), data / "forecasts" / CASE, members=4, seed=1,
                        horizon=3, move="jitter")  # fmt: skip
    forecast(spec, dt.date(2023, 4, 22))
    with TestClient(app) as c:
        _counts(c, h["entry"], [("2023-04-25", 200, 260)])
        job = c.post(f"/api/forecasts/{CASE}/update", json={}, headers=h["analyst"]).json()["id"]
        assert _wait(c, job, h["viewer"])["status"] == "done"
        listed = c.get(f"/api/forecasts/{CASE}", headers=h["viewer"]).json()
        assert [(f["origin"], f["parent"]) for f in listed] == [
            ("2023-04-22", None), ("2023-04-25", "2023-04-22")
        ]  # fmt: skip
    app.state.store.engine.dispose()
