"""Crossing and approach mechanisms of issue 12 (SPEC-12) on small synthetic cases.

Blockades and news of shut crossings, ``set`` and ``redirect`` events, ``selective`` entry,
the backlog at the day's capacity left, and rows announced after the origin. The graph is
tests/border_factory.py's: residence R, city C 500 km on, exit posts XA (20 km from C) and
XB (300 km from C).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from border_factory import write_case
from borderflow.ensemble.params import load_params
from borderflow.errors import ScenarioError
from borderflow.rules import border_kernels as K
from borderflow.rules.border import BorderModel
from borderflow.rules.border_indicators import CrossingCount as C
from borderflow.scenario.announced import known_after_origin
from borderflow.scenario.border_io import override, parameter_names, read_border_case

START = dt.date(2025, 1, 1)
EVENT_HEADER = "start,end,kind,value,target,to,label,param,announced,source,reliability"
EVENT_HXL = (
    "#date+start,#date+end,#event+type,#indicator+value,#loc+name+target,#loc+name+dest,"
    "#event+code,#meta+param,#date+announced,#meta+source,#meta+reliability"
)
POLICY_HEADER = "crossing,side,start,end,policy,quota,detection,nationalities,papers,announced"


def day(date: str) -> int:
    return (dt.date.fromisoformat(date) - START).days


def events(root: Path, *rows: str) -> None:
    """events.csv with the new columns: rows as 'start,end,kind,value,target,to,label,param,
    announced'."""
    body = [EVENT_HEADER, EVENT_HXL] + [f"{r},test,A" for r in rows]
    (root / "events.csv").write_text("\n".join(body) + "\n")


def policies(root: Path, *rows: str) -> None:
    """policies.csv with the new columns, rows in POLICY_HEADER's order."""
    (root / "policies.csv").write_text("\n".join([POLICY_HEADER, *rows]) + "\n")


def news(delay: int, home: float, divert: float) -> str:
    def p(v: float) -> str:
        return f'{{ value = {v}, assumption = "test" }}'

    return (
        f"[news]\ndelay_days = {p(delay)}\nhome_per_day = {p(home)}\ndivert_per_day = {p(divert)}\n"
    )


def model(root: Path, seed: int = 1, **kw) -> BorderModel:
    return BorderModel(read_border_case(root, **kw), seed)


def arrived(m: BorderModel, k: int = 0) -> np.ndarray:
    return m.at_crossing[:, k, C.ARRIVED]


# -- blockade -------------------------------------------------------------------------------
def test_blockade_holds_travellers_in_the_last_city_until_it_ends(tmp_path):
    root = write_case(tmp_path / "c", bus_km_per_day=300.0, stock=3000)
    events(root, "2025-01-08,2025-01-15,blockade,1,A,,block,,")
    m = model(root)
    city = m.index["C"]
    seen: dict[int, np.ndarray] = {}

    def look(d: int) -> None:
        a = m.arrays
        waiting = np.flatnonzero(a.state == K.WAITING_CITY)
        seen[d] = a.loc[waiting]

    m.run(look)
    during = arrived(m)[day("2025-01-09") : day("2025-01-15") + 1]
    assert during.sum() == 0  # nobody reaches the exit post while the approach is blocked
    assert arrived(m)[: day("2025-01-08")].sum() > 0
    held = seen[day("2025-01-15")]
    assert len(held) > 50 and (held == city).all()  # they wait in C, the last city
    # the blockade ends: everyone waiting resumes, and reaches the post the next day
    assert len(seen[day("2025-01-16")]) == 0
    assert arrived(m)[day("2025-01-16")] >= len(held)
    assert m.state_counts[day("2025-01-12"), K.WAITING_CITY] == len(seen[day("2025-01-12")])


def test_blockade_writes_the_waiting_state_only_when_used(tmp_path):
    root = write_case(tmp_path / "c", bus_km_per_day=300.0)
    labels = model(root).run().result().table.column("indicator").to_pylist()
    assert "state_waiting_city" not in labels
    events(root, "2025-01-08,2025-01-15,blockade,1,A,,block,,")
    labels = model(root).run().result().table.column("indicator").to_pylist()
    assert "state_waiting_city" in labels


# -- news ------------------------------------------------------------------------------------
def test_news_of_a_closure_stops_arrivals_after_the_delay_then_divert_home_and_resume(tmp_path):
    kw = {
        "bus_km_per_day": 300.0,
        "stock": 4000,
        "preparation_days": 3.0,
        "groups": [("NAT", 1.0, 0.0, 0.0, "A:0.9;B:0.1")],
        "policies": [("A", "entry", "2025-01-05", "2025-01-14", "closed", 0, 0.0)],
    }
    plain = write_case(tmp_path / "plain", **kw)
    told = write_case(tmp_path / "told", variants=news(2, 0.1, 0.3), **kw)
    before, after = model(plain).run(), model(told)
    turned_off: list[int] = []  # travellers stopping in C to turn off to B the next day

    def look(d: int) -> None:
        a, n = after.arrays, after.news
        turned_off.append(int(((a.state == K.WAITING_CITY) & (n.pending == 1)).sum()))

    after.run(look)
    # known from 7 Jan: after the people already past the last city, nobody arrives at A
    # until the reopening on 15 Jan is known (17 Jan)
    assert arrived(before)[day("2025-01-08") : day("2025-01-17")].sum() > 100
    assert arrived(after)[day("2025-01-08") : day("2025-01-17")].sum() == 0
    assert arrived(after)[day("2025-01-17")] > 0  # waiting people resume
    # diverting: B gets more people; going home: people returned without ever being stranded
    assert arrived(after, 1).sum() > arrived(before, 1).sum() + 50
    assert after.state_counts[-1, K.RETURNED] > 50 and before.state_counts[-1, K.RETURNED] == 0
    assert after.state_counts[:, K.WAITING_CITY].max() > 0
    assert max(turned_off) > 0
    # and before the news arrives both runs are the same
    np.testing.assert_array_equal(
        before.at_crossing[: day("2025-01-07")], after.at_crossing[: day("2025-01-07")]
    )


def test_without_news_section_nobody_reacts_to_a_closure(tmp_path):
    kw = {"policies": [("A", "entry", "2025-01-05", "", "closed", 0, 0.0)]}
    m = model(write_case(tmp_path / "c", **kw)).run()
    assert arrived(m)[day("2025-01-10") :].min() > 0
    assert m.news is None


# -- set -------------------------------------------------------------------------------------
def test_set_changes_a_rate_while_active_and_later_rows_win(tmp_path):
    closed = [("A", "entry", "2025-01-01", "", "closed", 0, 0.0)]
    # every attempt is caught (detection_base 1) except while a blank-target row sets it to 0
    root = write_case(tmp_path / "c", policies=closed, stranded={"detection_base": 1.0})
    events(
        root,
        "2025-01-10,2025-01-20,set,0.5,A,,irregular,irregular_per_day,",
        "2025-01-10,2025-01-20,set,0.0,,,detect,detection_base,",
        "2025-01-15,2025-01-20,set,0.0,A,,calm,irregular_per_day,",
    )
    m = model(root).run()
    irregular = m.at_crossing[:, 0, C.IRREGULAR_CROSSING]
    assert m.at_crossing[: day("2025-01-10"), 0, C.IRREGULAR_DETECTED].sum() == 0
    assert irregular[: day("2025-01-10")].sum() == 0
    assert irregular[day("2025-01-10") : day("2025-01-15")].sum() > 20
    assert irregular[day("2025-01-15") :].sum() == 0  # the later row wins, then none is active
    # without the blank-target row, every attempt in the window is caught
    events(root, "2025-01-10,2025-01-20,set,0.5,A,,irregular,irregular_per_day,")
    m = model(root).run()
    assert m.at_crossing[:, 0, C.IRREGULAR_CROSSING].sum() == 0
    assert m.at_crossing[:, 0, C.IRREGULAR_DETECTED].sum() > 20


def test_set_capacity_and_quota_by_date_and_fitted_like_any_event(tmp_path):
    root = write_case(tmp_path / "c", stock=4000)
    events(root, "2025-01-05,,set,15,A,,cap,capacity_per_day,")
    m = model(root).run()
    crossed = m.at_crossing[:, 0, C.CROSSED]
    assert crossed[: day("2025-01-05")].max() > 15
    assert crossed[day("2025-01-05") :].max() == 15  # capacity binds: ~40 arrive a day
    assert "event.cap" in parameter_names(read_border_case(root))
    case = override(read_border_case(root), {"event.cap": 5.0})
    assert BorderModel(case, 1).run().at_crossing[day("2025-01-05") :, 0, C.CROSSED].max() == 5
    (root / "uncertain.toml").write_text(
        '["event.cap"]\ndist = "uniform"\nlow = 5\nhigh = 20\nwhy = "test"\n'
    )
    assert "event.cap" in load_params(root / "uncertain.toml", read_border_case(root))


def test_people_queued_go_round_the_post_only_while_a_set_event_lets_them(tmp_path):
    """At Necoclí (2021) people waiting weeks for a licensed boat also left on smugglers'
    boats. ``waiting_irregular_per_day`` gives people queued at the post a nightly chance to
    cross irregularly; without a row nobody queued leaves but by the post."""
    root = write_case(tmp_path / "c", stock=4000, capacity=(15, 10_000))
    events(root)
    alone = model(root).run()
    waiting = alone.at_crossing[:, 0, C.WAITING]
    assert waiting[day("2025-01-09")] > 100  # ~40 arrive a day, 15 pass: a queue
    assert alone.at_crossing[:, 0, C.IRREGULAR_CROSSING].sum() == 0
    events(root, "2025-01-10,2025-01-20,set,0.2,A,,round,waiting_irregular_per_day,")
    m = model(root).run()
    went = m.at_crossing[:, 0, C.IRREGULAR_CROSSING]
    window = slice(day("2025-01-10"), day("2025-01-20") + 1)
    assert went[: window.start].sum() == 0 and went[window.stop :].sum() == 0
    share = went[window].sum() / m.at_crossing[window, 0, C.WAITING].sum()
    assert 0.15 < share < 0.25  # a fifth of those waiting each night
    assert m.at_crossing[-1, 0, C.WAITING] < waiting[-1]
    assert (m.at_crossing[:, 0, C.CROSSED] == alone.at_crossing[:, 0, C.CROSSED]).all()
    assert m.state_counts[-1].sum() == alone.state_counts[-1].sum()  # nobody lost
    # every attempt caught: they keep their place in the queue, which runs as without the row
    root = write_case(tmp_path / "c", stock=4000, capacity=(15, 10_000),
                      stranded={"detection_base": 1.0})  # fmt: skip
    events(root, "2025-01-10,2025-01-20,set,0.2,A,,round,waiting_irregular_per_day,")
    caught = model(root).run()
    assert caught.at_crossing[:, 0, C.IRREGULAR_CROSSING].sum() == 0
    assert caught.at_crossing[window, 0, C.IRREGULAR_DETECTED].sum() > 100
    assert (caught.at_crossing[:, 0, C.WAITING] == waiting).all()
    assert "event.round" in parameter_names(read_border_case(root))


# -- redirect --------------------------------------------------------------------------------
def test_redirect_moves_a_share_of_the_choosers_while_active(tmp_path):
    root = write_case(tmp_path / "c", stock=6000, hazard=0.02)
    events(root, "2025-01-10,2025-01-19,redirect,0.4,A,B,redir,,")
    m = model(root).run()
    to_b = arrived(m, 1)
    assert to_b[: day("2025-01-10")].sum() == 0 and to_b[day("2025-01-22") :].sum() == 0
    window = slice(day("2025-01-10"), day("2025-01-22"))
    share = to_b[window].sum() / (to_b[window].sum() + arrived(m, 0)[window].sum())
    assert 0.3 < share < 0.5
    every = override(read_border_case(root), {"event.redir": 1.0})
    m = BorderModel(every, 1).run()
    assert arrived(m, 0)[day("2025-01-11") : day("2025-01-20")].sum() == 0


# -- selective entry and backlog ----------------------------------------------------------------
def test_selective_admits_listed_nationalities_with_papers_up_to_the_cap(tmp_path):
    groups = [
        ("SYR", 0.4, 0.5, 0.0, "A:1"),
        ("IRQ", 0.3, 0.5, 0.0, "A:1"),
        ("AFG", 0.3, 0.5, 0.0, "A:1"),
    ]
    root = write_case(tmp_path / "c", stock=6000, groups=groups)
    policies(root, "A,entry,2025-01-01,,selective,10,0,SYR;IRQ,documented,")
    m = model(root).run()
    a = m.arrays
    crossed = (a.state == K.ONWARD) | (a.state == K.ARRIVED)
    nat, papers = a.klass[crossed] // 4, (a.klass[crossed] & 2) > 0
    assert crossed.sum() > 50
    assert set(nat.tolist()) == {0, 1} and papers.all()
    per_day = m.at_crossing[:, 0, C.CROSSED] + m.at_crossing[:, 0, C.CORRIDOR]
    assert per_day.max() == 10  # the cap binds (more qualify than 10 a day)
    # quota 0: no cap; people refused stay stranded
    policies(root, "A,entry,2025-01-01,,selective,0,0,SYR,,")
    m = model(root).run()
    assert (m.at_crossing[:, 0, C.CROSSED]).max() > 10
    a = m.arrays
    assert (a.klass[(a.state == K.ONWARD) | (a.state == K.ARRIVED)] // 4 == 0).all()
    assert m.at_crossing[-1, 0, C.STRANDED] > 0


def test_backlog_passes_at_the_capacity_left_in_order_of_arrival(tmp_path):
    root = write_case(tmp_path / "c", stock=4000, capacity=(80, 10_000), regular=(20, 0))
    policies(root, "A,entry,2025-01-01,2025-01-10,closed,0,0,,,")
    m = model(root)
    reopen = day("2025-01-11")
    stranded_on: dict[str, np.ndarray] = {}

    def look(d: int) -> None:
        a = m.arrays
        if d == reopen - 1:
            who = np.flatnonzero(a.state == K.STRANDED)
            stranded_on["who"], stranded_on["day"] = who, a.t_state[who].copy()
        elif d == reopen:
            stranded_on["left"] = a.state[stranded_on["who"]] != K.STRANDED

    m.run(look)
    crossed, backlog = m.at_crossing[:, 0, C.CROSSED], m.at_crossing[:, 0, C.CORRIDOR]
    assert stranded_on["who"].size > 300
    assert (crossed + backlog).max() <= 60  # capacity 80 less 20 regular crossings
    assert (backlog[reopen:] > 0).sum() >= 5  # the backlog takes days, not one
    assert backlog[reopen] == 60 - crossed[reopen]
    # in order of arrival: whoever passed on the first day had been stranded no later than
    # anyone still stranded after it
    when, first = stranded_on["day"], stranded_on["left"]
    assert first.sum() == backlog[reopen]
    assert when[first].max() <= when[~first].min()


# -- announced after the origin -----------------------------------------------------------------
def test_rows_announced_after_the_origin_are_listed_and_dropped_on_request(tmp_path):
    root = write_case(tmp_path / "c", origin="2025-01-10", bus_km_per_day=300.0)
    events(
        root,
        "2025-01-12,2025-01-20,blockade,1,A,,late_block,,2025-01-11",
        "2025-01-05,,hazard,1.0,,,known,,2025-01-04",
    )
    policies(root, "A,entry,2025-01-15,,closed,0,0,,,2025-01-13", "B,entry,2025-01-01,,open,0,0,,,")
    case = read_border_case(root)
    late = known_after_origin(case)
    assert [(r.table, r.row) for r in late] == [("policies", 2), ("events", 3)]
    assert "announced 2025-01-11" in late[1].describe()
    known = read_border_case(root, known_at_origin=True)
    assert [e.label for e in known.events] == ["known"]
    assert [p.crossing for p in known.policies] == ["B"]
    assert known_after_origin(known) == []
    a, b = BorderModel(case, 1).run(), BorderModel(known, 1).run()
    assert arrived(a)[day("2025-01-13") : day("2025-01-20")].sum() == 0
    assert arrived(b)[day("2025-01-13") : day("2025-01-20")].sum() > 0


def test_cli_run_known_at_origin(tmp_path):
    root = write_case(tmp_path / "c", origin="2025-01-10")
    events(root, "2025-01-12,,set,0,A,,late,capacity_per_day,2025-01-11")
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "borderflow", "run", str(root), "--out", str(out), "--no-plots"]
    subprocess.run([*cmd, "--known-at-origin"], check=True, capture_output=True)
    meta = (out / "run.json").read_text()
    assert '"known_at_origin": true' in meta
    series = (out / "series.csv").read_text()
    assert series.count(",crossed,") > 0


# -- input errors ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("2025-01-05,,set,0.5,A,,x,,", "param", "kind 'set' needs param"),
        ("2025-01-05,,set,0.5,A,,x,capacity,", "param", "needs param, one of return_per_day"),
        ("2025-01-05,,set,1.5,A,,x,return_per_day,", "(row)", "out of range for return_per_day"),
        ("2025-01-05,,hazard,1.5,,,x,quota,", "param", "'quota' is only for kind 'set'"),
        ("2025-01-05,,redirect,1.5,A,B,x,,", "value", "a share, from 0 to 1"),
        ("2025-01-05,,redirect,0.5,A,A,x,,", "to", "redirect from 'A' to itself"),
        ("2025-01-05,,redirect,0.5,A,Z,x,,", "to", "unknown crossing 'Z'"),
        ("2025-01-05,,blockade,1,Z,,x,,", "target", "unknown crossing 'Z'"),
        ("2025-01-05,,set,5,Z,,x,quota,", "target", "unknown crossing 'Z'"),
        ("2025-01-05,,blockade,1,A,,x,,2025-13-01", "announced", "date"),
    ],
)
def test_event_errors_name_file_row_and_field(tmp_path, row, column, message):
    root = write_case(tmp_path / "c")
    events(root, row)
    with pytest.raises(ScenarioError) as exc:
        read_border_case(root)
    e = exc.value
    assert message in str(e)
    assert Path(e.file).name == "events.csv" and e.row == 3
    if column != "(row)":
        assert e.column == column


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("A,entry,2025-01-01,,open,0,0,SYR,,", "nationalities", "only for policy 'selective'"),
        ("A,entry,2025-01-01,,quota,5,0,,documented,", "papers", "only for policy 'selective'"),
        ("A,entry,2025-01-01,,selective,5,0,SYR;XXX,,", "nationalities", "'XXX' is not in"),
        ("A,entry,2025-01-01,,selective,5,0,syria,,", "nationalities", "'syria' is not an ISO3"),
        ("A,entry,2025-01-01,,selective,5,0,,some,", "papers", "'any' or 'documented'"),
    ],
)
def test_policy_errors_name_file_row_and_field(tmp_path, row, column, message):
    root = write_case(tmp_path / "c", groups=[("SYR", 1.0, 0.5, 0.0, "A:1")])
    policies(root, row)
    with pytest.raises(ScenarioError) as exc:
        read_border_case(root)
    assert message in str(exc.value)
    e = exc.value
    assert Path(e.file).name == "policies.csv" and e.row == 2 and e.column == column


def test_news_section_is_validated_and_its_parameters_can_be_varied(tmp_path):
    root = write_case(tmp_path / "c", variants=news(2, 0.7, 0.5))
    with pytest.raises(ScenarioError, match=r"home_per_day \+ divert_per_day is 1.2"):
        read_border_case(root)
    root = write_case(tmp_path / "d", variants=news(2, 0.1, 0.2))
    case = read_border_case(root)
    assert {"news.delay_days", "news.home_per_day", "news.divert_per_day"} <= set(
        parameter_names(case)
    )
    assert override(case, {"news.home_per_day": 0.3}).spec.news.home_per_day.value == 0.3
    assert "news.delay_days" not in parameter_names(read_border_case(write_case(tmp_path / "e")))


def test_a_variant_event_naming_an_unknown_crossing_is_an_error(tmp_path):
    variants = """
[variants.route]
default = "base"
[variants.route.options.base]
[variants.route.options.away]
events = [{ start = 2025-01-05, kind = "redirect", value = 0.5, target = "A", to = "Q" }]
"""
    root = write_case(tmp_path / "c", variants=variants)
    read_border_case(root)  # the default option adds nothing
    with pytest.raises(ScenarioError, match="unknown crossing 'Q'") as exc:
        read_border_case(root, {"route": "away"})
    assert exc.value.column == "variants.route.options.away.events.0.to"


def test_ensemble_known_at_origin_is_recorded_and_drops_late_rows(tmp_path):
    from borderflow.ensemble.runner import run_ensemble

    root = write_case(tmp_path / "c", origin="2025-01-10", end="2025-01-20")
    events(root, "2025-01-12,,set,0,A,,late,capacity_per_day,2025-01-11")
    (root / "uncertain.toml").write_text(
        '["departure.base_hazard"]\ndist = "uniform"\nlow = 0.005\nhigh = 0.02\nwhy = "test"\n'
    )
    out = tmp_path / "ens"
    run_ensemble(root, root / "uncertain.toml", out, members=2, known_at_origin=True)
    assert json.loads((out / "ensemble.json").read_text())["known_at_origin"] is True
    plain = tmp_path / "plain"
    run_ensemble(root, root / "uncertain.toml", plain, members=2)
    assert "known_at_origin" not in json.loads((plain / "ensemble.json").read_text())


def test_people_waiting_in_a_city_are_counted_with_their_needs(tmp_path):
    root = write_case(tmp_path / "c", bus_km_per_day=300.0, variants=news(1, 0.05, 0.0))
    events(root, "2025-01-08,2025-01-15,blockade,1,A,,block,,")
    m = model(root).run()
    table = m.result().table.to_pandas()
    waiting = table[(table.indicator == "waiting_city") & (table.location == "C")]
    assert waiting.value.max() == m.state_counts[:, K.WAITING_CITY].max() > 0
    water = table[(table.indicator == "water_l") & (table.location == "C")]
    assert water.value.max() == 15 * waiting.value.max()
    home = table[table.indicator == "news_home"].value.sum()
    assert home > 0 and set(table.indicator) >= {"news_resumed", "state_waiting_city"}


def test_set_quota_replaces_the_policy_rows_quota_while_active(tmp_path):
    root = write_case(tmp_path / "c", stock=4000)
    policies(root, "A,entry,2025-01-01,,quota,5,0,,,")
    events(root, "2025-01-10,2025-01-20,set,20,A,,quota_up,quota,")
    m = model(root).run()
    per_day = m.at_crossing[:, 0, C.CROSSED] + m.at_crossing[:, 0, C.CORRIDOR]
    window = slice(day("2025-01-10"), day("2025-01-21"))
    assert per_day[: day("2025-01-10")].max() == 5 and per_day[day("2025-01-21") :].max() == 5
    assert per_day[window].max() == 20


def test_people_waiting_in_a_city_can_be_reported_and_scored(tmp_path):
    """A blockade's waiting crowd is counted at the city, so a report of it there loads and the
    fit reads the model's count of the people waiting (not zero)."""
    from borderflow.calibrate.problem import Simulation

    root = write_case(tmp_path / "c", bus_km_per_day=300.0, stock=3000)
    events(root, "2025-01-08,2025-01-15,blockade,1,A,,block,,")
    (root / "observations.csv").write_text(
        "date,end,stat,location,indicator,low,high,source,reliability\n"
        "2025-01-12,,value,C,people,50,500,x,B\n"
    )
    case = read_border_case(root)
    m = BorderModel(case, 1)
    result = m.run().result()
    waiting = m.state_counts[day("2025-01-12"), K.WAITING_CITY]
    assert waiting > 0
    assert Simulation(result).value(case.observations[0]) == waiting


def test_a_closed_gate_refuses_everyone_at_once_whatever_its_capacity(tmp_path):
    """A shut entry processes nobody, so refusing arrivals takes no slot of the post's capacity:
    a crowd larger than the capacity is stranded at the line the day it arrives, not queued."""
    root = write_case(tmp_path / "c", stock=4000, capacity=(30, 10_000))
    policies(root, "A,entry,2025-01-01,,closed,0,0,,,")
    m = model(root)
    m.run()
    arrived_a, refused = arrived(m), m.at_crossing[:, 0, C.REFUSED]
    assert arrived_a.max() > 30  # more arrive on some day than the post could process
    assert m.at_crossing[:, 0, C.WAITING].sum() == 0  # nobody left queued overnight
    assert refused.sum() == arrived_a.sum()


def _two_residences(root: Path, weights: str) -> Path:
    """The factory's case with a second residence R2 (as far from C as R) giving ``weights``."""
    from border_factory import PLACES, ROUTES

    write_case(
        root,
        hazard=0.05,
        places=[*PLACES, ("R2", "HOM", "residence", -20.5, -70.0)],
        routes=[*ROUTES, ("R2", "C", 500, "bus")],
    )
    (root / "population.csv").write_text(
        "residence,share,crossing_weights,source\n"
        "#loc+name+residence,#population+share,#meta+crossing+weights,#meta+source\n"
        f"R,0.5,,test\nR2,0.5,{weights},test\n"
    )
    return root


def test_a_residence_s_own_crossing_weights_override_the_nationality_s(tmp_path):
    """People living in R2 pick by R2's weights (all to B); those in R by their nationality's
    (all to A)."""
    case = read_border_case(_two_residences(tmp_path / "c", "B:1"))
    m = BorderModel(case, 0).run()
    a, r, r2 = m.arrays, m.index["R"], m.index["R2"]
    a_, b_ = m.crossing_names.index("A"), m.crossing_names.index("B")
    gone = a.state != 0  # everyone who decided to leave has a crossing
    from_r, from_r2 = gone & (a.home == r), gone & (a.home == r2)
    assert from_r.sum() > 100 and from_r2.sum() > 100
    assert (a.crossing[from_r] == a_).all() and (a.crossing[from_r2] == b_).all()
    # a residence giving no weights of its own leaves today's rule untouched
    plain = read_border_case(_two_residences(tmp_path / "p", ""))
    p = BorderModel(plain, 0).run()
    assert (p.arrays.crossing[p.arrays.state != 0] == a_).all()


def test_a_residence_s_weights_are_checked_and_old_states_load(tmp_path):
    with pytest.raises(ScenarioError, match=r"unknown crossing 'Bb'.*did you mean 'B'") as e:
        read_border_case(_two_residences(tmp_path / "c", "Bb:1"))
    assert "population.csv" in str(e.value) and "crossing_weights" in str(e.value)
    with pytest.raises(ScenarioError, match="needs 'crossing:weight"):
        read_border_case(_two_residences(tmp_path / "z", "B:0"))
    # a state stored before residences had weights of their own reads as "none has any"
    m = BorderModel(read_border_case(_two_residences(tmp_path / "ok", "B:1")), 0)
    state = m.__getstate__()
    del state["choice_row"]
    old = BorderModel.__new__(BorderModel)
    old.__setstate__(state)
    assert (old.choice_row == -1).all() and len(old.choice_row) == len(m.places)
