"""The dashboard's situation report: "what changed" compares with the last report of the case."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from border_factory import write_case
from borderflow.runs import run_border
from borderflow.web.models import Run
from test_web_api import make_app

FIRST = "This is the first report."
CHANGED = "What changed since the last report"


def _done_run(engine, scenario: str, folder: str) -> int:
    with Session(engine) as s:
        run = Run(scenario=scenario, variant={}, capacity={}, seed=0, members=0, status="done",
                  progress=1.0, created_by="test", folder=folder)  # fmt: skip
        s.add(run)
        s.commit()
        return run.id


def _changes(html: str) -> str:
    """The report's "what changed" section (up to the next section)."""
    part = html.split(CHANGED, 1)[1]
    return part.split("<h2", 1)[0]


def test_what_changed_compares_with_the_last_report_of_the_same_case(tmp_path):
    data = tmp_path / "data"
    case = write_case(tmp_path / "case", stock=800, hazard=0.03, end="2025-01-20",
                      origin="2025-01-08")  # fmt: skip
    for seed in (1, 2):  # two runs of the case whose headline figures differ
        run_border(case, seed=seed, out_dir=data / f"run-{seed}", plots=False)
    app, tokens = make_app(f"sqlite:///{tmp_path / 'web.db'}", data)
    h = {"Authorization": f"Bearer {tokens['viewer']}"}
    engine = app.state.store.engine
    first = _done_run(engine, "case-a", "run-1")
    other = _done_run(engine, "case-b", "run-2")  # another case: never compared with
    with TestClient(app) as c:

        def report(run_id: int, lang: str = "en") -> str:
            r = c.get(f"/api/runs/{run_id}/report?format=html&lang={lang}", headers=h)
            assert r.status_code == 200, r.text
            return r.text

        assert FIRST in _changes(report(first))
        assert (data / "run-1" / "report.json").is_file()  # the next report compares with it
        assert FIRST in _changes(report(other))
        second = _done_run(engine, "case-a", "run-2")
        changes = _changes(report(second))
        assert FIRST not in changes and "Last report" in changes and "Change" in changes
        spanish = report(second, "es").split("Qué cambió desde el último informe", 1)[1]
        assert "Último informe" in spanish.split("<h2", 1)[0]
        # an old run's report again: still its own first report, never compared with a newer run
        assert FIRST in _changes(report(first))
        third = _done_run(engine, "case-a", "run-1")  # the same outputs as the first run
        assert FIRST not in _changes(report(third))  # compared with the second run's report
    engine.dispose()
