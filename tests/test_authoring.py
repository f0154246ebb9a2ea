"""Authoring a case as a user would: new-case, check, the no-silent-acceptance rules, score.

Every test goes through the real readers and the real command (typer's runner, in process).
"""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from border_factory import write_case
from borderflow.cli import app
from borderflow.errors import ScenarioError
from borderflow.observe.quantity import quantity_series, reliability_weights
from borderflow.scenario.border_io import read_border_case
from borderflow.scenario.border_schema import ObservationRow
from borderflow.scenario.case_lint import lint_case
from borderflow.scenario.locate import resolve_scenario

OBS_HEADER = "date,end,stat,location,indicator,low,high,source,reliability\n"


def invoke(*args: str | Path):
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "400"})


def add_rows(path: Path, lines: list[str]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in lines))


def observations(root: Path, *rows: str) -> Path:
    (root / "observations.csv").write_text(OBS_HEADER + "".join(r + "\n" for r in rows))
    return root


def error_of(root: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        read_border_case(root)
    return info.value.describe()


# -- new-case -------------------------------------------------------------------------------
def _fill(template: Path, filled_from: Path) -> None:
    """Fill a new case: placeholders replaced, each table given the rows of a working case."""
    toml = (template / "scenario.toml").read_text(encoding="utf-8")
    toml = toml.replace("TODO: a one-line title", "A filled-in case")
    toml = toml.replace("TODO: what happened, in a few sentences", "Test.")
    toml = toml.replace("TODO: outlet, date and grade A-D of the figure, or ASSUMPTION and why",
                        "ASSUMPTION: test")  # fmt: skip
    (template / "scenario.toml").write_text(toml, encoding="utf-8")
    for name in ("places", "routes", "population", "groups", "crossings"):
        path = template / f"{name}.csv"
        header = next(csv.reader(path.open(encoding="utf-8")))
        with (filled_from / f"{name}.csv").open(encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if not r[next(iter(r))].startswith("#")]
        with path.open("a", newline="", encoding="utf-8") as handle:
            w = csv.writer(handle, lineterminator="\n")
            w.writerows([[r.get(c, "") or "" for c in header] for r in rows])


def test_new_case_writes_every_file_and_check_says_what_to_fill(tmp_path: Path) -> None:
    folder = tmp_path / "my-case"
    result = invoke("new-case", folder)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted([
        "scenario.toml", "places.csv", "routes.csv", "population.csv", "groups.csv",
        "crossings.csv", "policies.csv", "events.csv", "needs.csv", "observations.csv",
    ])  # fmt: skip
    events = (folder / "events.csv").read_text().splitlines()
    assert events[0].startswith("start,end,kind,value")
    assert events[1].startswith("#date+start,#date+end,#event+type")
    assert events[2].startswith("# 2025-12-05")  # the commented example row
    # a second new-case into the same folder is refused, nothing touched
    again = invoke("new-case", folder)
    assert again.exit_code == 2 and "not empty" in again.output

    result = invoke("check", folder, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "column 'departure.base_hazard': still a placeholder" in result.output
    assert "daily probability of deciding to leave" in result.output
    assert "places.csv: has no rows yet" in result.output
    assert "crossings.csv: has no rows yet" in result.output

    _fill(folder, write_case(tmp_path / "working"))
    case = read_border_case(folder)  # parses once filled
    assert case.name == "my-case" and len(case.needs) == 5
    result = invoke("check", folder, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    assert (tmp_path / "out" / "map.png").stat().st_size > 10_000


# -- check: warnings ------------------------------------------------------------------------
def test_check_warns_of_what_the_model_cannot_produce(tmp_path: Path) -> None:
    root = write_case(
        tmp_path / "c",
        events=[("2025-01-05", "", "shelter", 0, "A", "S", "daily_transfers")],
        stranded={"readmitted_per_day": 0.5, "return_per_day": 0.3, "irregular_per_day": 0.4},
        policies=[("A", "exit", "2025-01-01", "", "open", 0, 0.0)],
    )
    observations(
        root,
        "2025-01-10,,value,S,sheltered,10,20,outlet 2025-01-11 (B),B",
        "2025-01-10,,value,B,stranded,5,20,outlet 2025-01-11 (B),B",
        "2025-01-10,,value,A,stranded,0,20,outlet 2025-01-11 (B),B",
        "2025-03-10,,value,A,crossed,1,20,TODO,B",
    )
    findings, case = lint_case(root)
    assert case is not None
    text = [f"{f.level}: {f.where}: {f.message}" for f in findings]
    joined = "\n".join(text)
    # a shelter event without end happens once; its label says daily
    assert "events.csv, row 2, column 'end'" in joined and "says 'daily'" in joined
    # night choices above 1, and how they act
    assert "= 1.2 > 1 on nights the exit country readmits" in joined
    assert "irregular_per_day 0" in joined
    # crossing B's entry never refuses: nobody can be stranded there (reported low > 0)
    assert (
        "row 3, column 'indicator': the model cannot produce this count: the entry of "
        "crossing 'B' never refuses anyone" in joined
    )
    # a report of 0-20 at A is reachable (0), so no warning for row 4
    assert "row 4, column 'indicator'" not in joined
    # outside the period, with a placeholder source
    assert "row 5, column 'date': outside the case's 2025-01-01..2025-01-31" in joined
    assert "row 5, column 'source': no source given" in joined
    assert all(f.level == "warning" for f in findings)
    shelter = write_case(tmp_path / "d")
    observations(shelter, "2025-01-10,,value,S,sheltered,10,20,x,B")
    joined = "\n".join(f.message for f in lint_case(shelter)[0])
    assert "no event ever moves anyone into shelter 'S'" in joined


def test_check_knows_people_queued_can_cross_irregularly_where_a_set_row_lets_them(
    tmp_path: Path,
) -> None:
    """Irregular crossings at an entry that never refuses come only from the queue."""
    root = observations(
        write_case(tmp_path / "c"), "2025-01-10,,value,A,irregular_crossing,5,20,x,B"
    )
    warned = "the model cannot produce this count"
    assert warned in "\n".join(f.message for f in lint_case(root)[0])
    (root / "events.csv").write_text(
        "start,end,kind,value,target,to,label,param,source\n"
        "2025-01-01,,set,0.02,A,,boats,waiting_irregular_per_day,test\n"
    )
    assert warned not in "\n".join(f.message for f in lint_case(root)[0])


def test_check_cli_exit_status(tmp_path: Path) -> None:
    root = observations(write_case(tmp_path / "c"), "2025-01-10,,value,A,strandd,1,2,x,B")
    result = invoke("check", root, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "unknown indicator 'strandd' (did you mean 'stranded'?)" in result.output
    ok = invoke("check", write_case(tmp_path / "ok"), "--out", tmp_path / "out2")
    assert ok.exit_code == 0 and "valid, 0 warning(s)" in ok.output
    flee = invoke("check", "mali")
    assert flee.exit_code == 2 and "a Flee scenario: `check` validates border cases" in flee.output


# -- no silent acceptance: errors at load -----------------------------------------------------
@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2025-01-10,,value,A,strandd,1,2,x,B",
         "row 2, column 'indicator': unknown indicator 'strandd' (did you mean 'stranded'?)"),
        ("2025-01-10,,value,Crossing A,stranded,1,2,x,B",
         "column 'location': unknown place or crossing 'Crossing A'"),
        ("2025-01-10,,value,XA,stranded,1,2,x,B",
         "column 'location': 'stranded' is counted at crossings, not at post 'XA'"),
        ("2025-01-10,,value,A,sheltered,1,2,x,B",
         "'sheltered' is counted at shelters, not at crossing 'A'"),
        ("2025-01-10,,value,A,cum_stranded,1,2,x,B",
         "'cum_stranded': stranded is a count of people present each evening"),
        ("2025-01-10,,value,A+Q,crossed,1,2,x,B",
         "unknown place or crossing 'Q'"),
        ("2025-01-10,,value,A,decided,1,2,x,B",
         "'decided' is counted at ALL, not at crossing 'A'"),
        ("2025-01-10T08:00,,value,A,stranded,1,2,x,B",
         "row 2, column 'date': '2025-01-10T08:00' is not a date: use YYYY-MM-DD"),
    ],
)  # fmt: skip
def test_observation_errors(tmp_path: Path, row: str, message: str) -> None:
    root = observations(write_case(tmp_path / "c"), row)
    assert message in error_of(root)


def test_observation_quantities_that_load(tmp_path: Path) -> None:
    root = observations(
        write_case(tmp_path / "c"),
        "2025-01-10,,value,ALL,entered,1,2,x,B",
        "2025-01-10,,value,A+B,cum_crossed+corridor,1,2,x,B",
        "2025-01-10,,value,ALL,state_stranded,1,2,x,B",
        "2025-01-10,,value,R,departed,1,2,x,B",
        "2025-01-10,,value,C>XA,flow,1,2,x,B",
        "2025-01-10,,value,S,water_l,1,2,x,B",
    )
    assert len(read_border_case(root).observations) == 6


def test_event_and_policy_errors(tmp_path: Path) -> None:
    deadline = write_case(
        tmp_path / "a", events=[("2025-01-20", "2025-01-25", "deadline", 0.3, "", "", "d")]
    )
    assert "events.csv, row 2, column 'end': kind 'deadline' has no end date" in error_of(deadline)
    flight = write_case(
        tmp_path / "b", events=[("2025-01-20", "2025-01-25", "return_flight", 50, "A", "", "f")]
    )
    assert "use kind 'removal' with an end and every_days" in error_of(flight)
    quota = write_case(
        tmp_path / "c", policies=[("A", "entry", "2025-01-01", "", "documented_only", 200, 0.0)]
    )
    assert (
        "policies.csv, row 2, column 'quota': quota 200 is ignored by policy 'documented_only'"
        in error_of(quota)
    )
    exit_quota = write_case(
        tmp_path / "e", policies=[("A", "exit", "2025-01-01", "", "open", 50, 0.0)]
    )
    assert "quota 50 on the exit side is ignored" in error_of(exit_quota)
    corridor = write_case(
        tmp_path / "f", policies=[("A", "entry", "2025-01-01", "", "corridor", 50, 0.0)]
    )
    assert read_border_case(corridor).policies[0].quota == 50  # a corridor's daily cap
    when = write_case(
        tmp_path / "d", policies=[("A", "entry", "2025-01-01 10:00", "", "closed", 0, 0.0)]
    )
    assert "column 'start': '2025-01-01 10:00' is not a date: use YYYY-MM-DD" in error_of(when)


VARIANT = """
[variants.response]
default = "none"
[variants.response.options.none]
description = "as happened"
[variants.response.options.no_troops]
description = "no troops"
drop_events = ["trops"]
"""


def test_variant_dropping_an_unknown_label(tmp_path: Path) -> None:
    root = write_case(
        tmp_path / "c",
        events=[("2025-01-05", "", "reinforcement", 0.3, "A", "", "troops")],
        variants=VARIANT,
    )
    message = error_of(root)
    assert "column 'variants.response.options.no_troops.drop_events'" in message
    assert "drops unknown event label 'trops' (did you mean 'troops'?)" in message


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("return_per_day", "retrun_per_day",
         "column 'stranded.retrun_per_day': unknown parameter 'retrun_per_day' "
         "(did you mean 'return_per_day'?)"),
        ("[stranded]", "[strandded]",
         "column 'strandded': unknown section 'strandded' (did you mean 'stranded'?)"),
        ('assumption = "test" }\nchild', 'asumption = "test" }\nchild',
         "unknown key 'asumption' (did you mean 'assumption'?)"),
        ("start = 2025-01-01", "start = 2025-01-01T10:00:00",
         "column 'case.start': 2025-01-01T10:00:00 is not a date: use YYYY-MM-DD"),
    ],
)  # fmt: skip
def test_scenario_toml_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    root = write_case(tmp_path / "c")
    toml = root / "scenario.toml"
    text = toml.read_text()
    assert old in text
    toml.write_text(text.replace(old, new, 1))
    assert message in error_of(root)


def test_names_are_compared_in_nfc(tmp_path: Path) -> None:
    """`Necoclí` typed precomposed in one file and decomposed in another is one place."""
    nfc_name = unicodedata.normalize("NFC", "Necoclí")
    nfd_name = unicodedata.normalize("NFD", "Necoclí")
    assert nfc_name != nfd_name
    root = write_case(tmp_path / "c")
    add_rows(root / "places.csv", [f"{nfc_name},,HOM,,-18.6,-70.4,city"])
    add_rows(root / "routes.csv", [f"C,{nfd_name},10,bus,test"])
    observations(root, f"2025-01-10,,value,{nfd_name}>C,flow,0,5,x,B")
    case = read_border_case(root)
    assert [p.name for p in case.places].count(nfc_name) == 1
    assert case.routes[-1].to == nfc_name
    assert case.observations[0].location == f"{nfc_name}>C"


# -- quantities and weights -----------------------------------------------------------------
def test_quantity_sums_all_and_cumulative(tmp_path: Path) -> None:
    from borderflow.rules.border import BorderModel

    root = write_case(
        tmp_path / "c",
        groups=[("NAT", 1.0, 0.5, 0.0, "A:0.7;B:0.3")],
        policies=[("A", "entry", "2025-01-01", "", "documented_only", 0, 0.0)],
        stranded={"irregular_per_day": 0.5},
    )
    series = BorderModel(read_border_case(root), 1).run().result().series

    def one(indicator: str, place: str) -> np.ndarray:
        values = series.values(indicator, place)
        assert values is not None
        return values

    entered = quantity_series(series, "A", "entered")
    manual = one("crossed", "A") + one("corridor", "A") + one("irregular_crossing", "A")
    assert np.array_equal(entered, manual) and manual.sum() > 0
    both = quantity_series(series, "A+B", "crossed")
    assert np.array_equal(both, one("crossed", "A") + one("crossed", "B"))
    assert np.array_equal(quantity_series(series, "ALL", "crossed"), both)
    cum = quantity_series(series, "ALL", "cum_entered")
    total = quantity_series(series, "A", "entered") + quantity_series(series, "B", "entered")
    assert np.allclose(cum, np.cumsum(total)) and cum[-1] == total.sum()
    plain = quantity_series(series, "A", "stranded")  # the run's own column, untouched
    assert np.shares_memory(plain, one("stranded", "A"))
    assert quantity_series(series, "A", "nothing") is None
    assert np.array_equal(quantity_series(series, "ALL", "state_waiting_city"),
                          np.zeros(series.days))  # fmt: skip


def _obs(grade: str, low: float = 10, location: str = "A") -> ObservationRow:
    return ObservationRow(date="2025-01-10", location=location, indicator="stranded", low=low,
                          high=low + 10, reliability=grade)  # fmt: skip


def test_conflicting_reports_weighed_by_grade() -> None:
    lone = [_obs("A"), _obs("D", location="B")]
    assert reliability_weights(lone) == [1.0, 1.0]
    same = [_obs("B"), _obs("B", low=50)]
    assert reliability_weights(same) == [1.0, 1.0]
    a, d = reliability_weights([_obs("A"), _obs("D", low=100)])
    assert a + d == pytest.approx(2.0)
    assert a / d == pytest.approx((0.5 / 0.05) ** 2)  # precision ratio of grades A and D
    # the same quantity named two ways is one quantity
    assert reliability_weights([_obs("A", location="A+B"), _obs("D", location="B+A")])[0] > 1.9


def test_calibration_distance_follows_the_reliable_report(tmp_path: Path) -> None:
    from borderflow.calibrate.problem import range_loss

    official, rumour = _obs("A", low=100), _obs("D", low=1000)
    near_official = range_loss([(official, 105.0), (rumour, 105.0)])[0]
    near_rumour = range_loss([(official, 1005.0), (rumour, 1005.0)])[0]
    assert near_official < near_rumour


# -- score ----------------------------------------------------------------------------------
def test_score_a_run_and_an_ensemble(tmp_path: Path) -> None:
    root = write_case(
        tmp_path / "c",
        policies=[("A", "entry", "2025-01-01", "", "documented_only", 0, 0.0)],
        stranded={"irregular_per_day": 0.3},
    )
    (root / "uncertain.toml").write_text(
        '["departure.base_hazard"]\ndist = "uniform"\nlow = 0.005\nhigh = 0.02\nwhy = "test"\n'
    )
    run, ens = tmp_path / "run", tmp_path / "ens"
    assert invoke("run", root, "--out", run, "--no-plots").exit_code == 0
    result = invoke("ensemble", root, "--members", "4", "--workers", "1", "--out", ens)
    assert result.exit_code == 0, result.output
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text(
        OBS_HEADER
        + "2025-01-15,,value,A,stranded,0,100000,x,B\n"
        + "2025-01-20,,value,ALL,cum_entered,0,0,x,C\n"
        + "2025-01-05,2025-01-10,mean,A+B,crossed+corridor,0,100000,x,B\n"
        + "2025-03-01,,value,A,stranded,0,10,x,B\n"
    )
    result = invoke("score", run, outcomes)
    assert result.exit_code == 0, result.output
    assert "coverage 67% of 3 report(s)" in result.output
    assert "outside the run, not scored" in result.output
    rows = list(csv.reader((run / "score.csv").open()))
    assert rows[1][0] == "#date+start" and len(rows) == 2 + 3
    assert [r[11] for r in rows[2:]] == ["1", "0", "1"]  # cum_entered > 0 is outside 0-0
    assert (run / "score.png").stat().st_size > 5_000

    result = invoke("score", ens, outcomes, "--out", tmp_path / "s")
    assert result.exit_code == 0, result.output
    assert "mean CRPS" in result.output and "90 % band" in result.output
    rows = list(csv.reader((tmp_path / "s" / "score.csv").open()))
    crps = [float(r[12]) for r in rows[2:]]
    assert crps[0] >= 0 and crps[1] > 0  # the members all say more than the reported 0

    bad = tmp_path / "bad.csv"
    bad.write_text(OBS_HEADER + "2025-01-15,,value,A,strandd,0,10,x,B\n")
    result = invoke("score", run, bad)
    assert result.exit_code == 2
    assert "row 2, column 'indicator': the run does not count 'strandd'" in result.output
    assert "did you mean 'stranded'" in result.output


def test_check_lists_every_parameter_without_provenance(tmp_path: Path) -> None:
    root = write_case(tmp_path / "c")
    toml = root / "scenario.toml"
    text = toml.read_text()
    text = text.replace('base_hazard = { value = 0.01, assumption = "test" }',
                        "base_hazard = { value = 0.01 }")  # fmt: skip
    text = text.replace('walk_km_per_day = { value = 25, assumption = "test" }',
                        'walk_km_per_day = { value = 25, source = "TODO: find it" }')  # fmt: skip
    toml.write_text(text)
    findings, case = lint_case(root)
    assert case is None
    joined = "\n".join(f"{f.level}: {f.where}: {f.message}" for f in findings)
    assert "column 'departure.base_hazard': has neither a source nor an assumption" in joined
    assert "column 'travel.walk_km_per_day': still a placeholder" in joined


def test_check_lists_rows_announced_after_the_origin(tmp_path: Path) -> None:
    """Rows made public after the origin, from the file and from the default variant."""
    variant = """
[variants.x]
default = "more"
[variants.x.options.more]
description = "a later decision"
[[variants.x.options.more.events]]
start = 2025-01-25
kind = "hazard"
value = 1.5
label = "variant_late"
announced = 2025-01-24
"""
    root = write_case(tmp_path / "c", origin="2025-01-10", variants=variant)
    (root / "events.csv").write_text(
        "start,end,kind,value,target,to,label,source,reliability,announced\n"
        "2025-01-05,,hazard,2.0,,,early,outlet 2025-01-04 (B),B,2025-01-04\n"
        "2025-01-20,,hazard,2.0,,,late,outlet 2025-01-15 (B),B,2025-01-15\n"
    )
    findings, case = lint_case(root)
    assert case is not None
    late = [f for f in findings if "known after the origin" in f.message]
    assert [f.where.rsplit("/", 1)[-1] for f in late] == [
        "events.csv, row 3, column 'announced'",
        "scenario.toml, column 'announced'",
    ]
    assert "2025-01-15 > 2025-01-10" in late[0].message
    assert "`--known-at-origin` drops it" in late[1].message


def test_unknown_names_suggest_the_nearest(tmp_path: Path) -> None:
    root = write_case(tmp_path / "a", events=[("2025-01-05", "", "reinforcement", 0.3, "AA",
                                              "", "troops")])  # fmt: skip
    assert "column 'target': unknown crossing 'AA' (did you mean 'A'?)" in error_of(root)
    root = write_case(tmp_path / "b")
    add_rows(root / "routes.csv", ["Cc,XA,10,bus,test"])
    assert "column 'from': unknown place 'Cc' (did you mean 'C'?)" in error_of(root)


def test_fit_and_filter_read_a_compound_report_alike(tmp_path: Path) -> None:
    """The calibration's Simulation and the forecast filter give a sum report the same value."""
    from borderflow.calibrate.problem import Simulation
    from borderflow.forecast.filter import simulated
    from borderflow.rules.border import BorderModel

    root = write_case(
        tmp_path / "c",
        groups=[("NAT", 1.0, 0.5, 0.0, "A:0.7;B:0.3")],
        policies=[("A", "entry", "2025-01-01", "", "documented_only", 0, 0.0)],
        stranded={"irregular_per_day": 0.5},
    )
    observations(root, "2025-01-05,2025-01-20,mean,ALL,cum_entered,0,10,x,B")
    case = read_border_case(root)
    model = BorderModel(case, 3).run()
    o = case.observations[0]
    value = Simulation(model.result()).value(o)
    series = model.result().series
    ways = ("crossed", "corridor", "irregular_crossing")
    daily = np.cumsum(sum(series.values(i, c) for i in ways for c in "AB"))
    assert value == pytest.approx(daily[4:20].mean()) and value > 0
    assert simulated(model, o) == value


def test_night_choices_raised_by_set_events(tmp_path: Path) -> None:
    root = write_case(tmp_path / "c", stranded={"return_per_day": 0.3, "irregular_per_day": 0.5})
    (root / "events.csv").write_text(
        "start,end,kind,value,target,to,label,source,reliability,param\n"
        "2025-01-10,2025-01-20,set,0.9,A,,night_rush,outlet (B),B,irregular_per_day\n"
    )
    findings, _ = lint_case(root)
    night = [f for f in findings if "irregular_per_day" in f.message]
    assert len(night) == 1 and night[0].where == "events.csv: crossing 'A'"
    assert "return_per_day + irregular_per_day = 1.2 > 1 on some nights" in night[0].message
    assert "irregular_per_day 0.7" in night[0].message


def test_misspelt_parameter_names_in_grids_and_priors(tmp_path: Path) -> None:
    from borderflow.scenario.border_io import override

    case = read_border_case(
        write_case(tmp_path / "c", events=[("2025-01-05", "", "hazard", 2.0, "", "", "rush")])
    )
    with pytest.raises(ScenarioError, match=r"did you mean 'departure.base_hazard'\?"):
        override(case, {"departure.base_hazzard": 0.1})
    with pytest.raises(ScenarioError, match=r"no event labelled 'rushh' \(did you mean 'rush'\?\)"):
        override(case, {"event.rushh": 2.0})


def test_indicators_written_only_when_used_read_as_zero(tmp_path: Path) -> None:
    """A run where no blockade or news acted has no waiting_city series: its reports read 0."""
    from borderflow.calibrate.problem import Simulation
    from borderflow.rules.border import BorderModel

    root = observations(write_case(tmp_path / "c"), "2025-01-10,,value,C,waiting_city,0,5,x,B")
    case = read_border_case(root)
    result = BorderModel(case, 1).run().result()
    assert result.series.block("waiting_city") is None
    assert Simulation(result).value(case.observations[0]) == 0.0
    assert quantity_series(result.series, "C", "stranded") is None  # not counted at a city


def test_command_line_names_in_nfc() -> None:
    from borderflow.cli.common import capacities

    decomposed = unicodedata.normalize("NFD", "Necoclí-Capurganá")
    assert capacities([f"{decomposed}=500"]) == {"Necoclí-Capurganá": 500}


def test_check_reads_uncertain_toml_and_lists_ranges_set_after_the_origin(tmp_path: Path) -> None:
    """A misspelt parameter in uncertain.toml is an error (exit 2); a range marked
    after_origin is listed, as chile-peru-2023's grid-fitted ones are."""
    root = write_case(tmp_path / "c")
    (root / "uncertain.toml").write_text(
        '["stranded.return_per_dy"]\ndist = "uniform"\nlow = 0.0\nhigh = 0.1\nwhy = "w"\n'
    )
    bad = invoke("check", root, "--out", tmp_path / "out")
    assert bad.exit_code == 2
    assert "uncertain.toml" in bad.output and "stranded.return_per_dy" in bad.output
    (root / "uncertain.toml").write_text(
        '["stranded.return_per_day"]\ndist = "uniform"\nlow = 0.0\nhigh = 0.1\nwhy = "w"\n'
        "after_origin = true\n"
    )
    findings, case = lint_case(root)
    assert case is not None
    late = [f for f in findings if "after_origin" in f.message]
    assert len(late) == 1 and "stranded.return_per_day" in late[0].where
    builtin = lint_case(resolve_scenario("chile-peru-2023"))[0]
    # irregular attempts, return and the emergency; the base hazard's range is set blind
    assert sum("after_origin" in f.message for f in builtin) == 3
