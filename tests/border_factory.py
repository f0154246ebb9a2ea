"""Write small synthetic border-crisis cases, so tests go through the real readers.

The graph: a residence R and a city C in country HOM; crossing "A" (exit post XA in HOM, entry
post YA in country AAA, destination DA) and crossing "B" (XB in HOM, YB in BBB, destination
DB); a shelter S near C.
"""

from __future__ import annotations

from pathlib import Path

PLACES = [
    ("R", "HOM", "residence", -20.0, -70.0),
    ("C", "HOM", "city", -18.5, -70.3),
    ("XA", "HOM", "post", -18.3, -70.3),
    ("YA", "AAA", "post", -18.25, -70.3),
    ("DA", "AAA", "destination", -18.0, -70.2),
    ("XB", "HOM", "post", -19.2, -68.6),
    ("YB", "BBB", "post", -19.25, -68.6),
    ("DB", "BBB", "destination", -18.0, -67.1),
    ("S", "HOM", "shelter", -18.48, -70.31),
]
ROUTES = [
    ("R", "C", 500, "bus"),
    ("C", "XA", 20, "bus"),
    ("XA", "YA", 5, "walk"),
    ("YA", "DA", 50, "bus"),
    ("C", "XB", 300, "bus"),
    ("XB", "YB", 3, "walk"),
    ("YB", "DB", 200, "bus"),
    ("C", "S", 5, "bus"),
]


def _param(value: float) -> str:
    return f'{{ value = {value}, assumption = "test" }}'


def write_case(
    root: Path,
    *,
    stock: int = 2000,
    hazard: float = 0.01,
    start: str = "2025-01-01",
    end: str = "2025-01-31",
    origin: str | None = None,
    groups: list[tuple[str, float, float, float, str]] | None = None,
    policies: list[tuple[str, str, str, str, str, int, float]] | None = None,
    events: list[tuple[str, str, str, float, str, str, str]] | None = None,
    capacity: tuple[int, int] = (10_000, 10_000),
    regular: tuple[int, int] = (0, 0),
    hours: tuple[float, float] = (0.0, 24.0),
    stranded: dict[str, float] | None = None,
    preparation_days: float = 1.0,
    bus_km_per_day: float = 1000.0,
    social_weight: float = 0.0,
    documented_multiplier: float = 1.0,
    family_multiplier: float = 1.0,
    variants: str = "",
    routes: list[tuple[str, str, float, str]] | None = None,
    places: list[tuple[str, str, str, float, float]] | None = None,
    travel: dict[str, float] | None = None,
) -> Path:
    """A case folder; ``groups`` rows are (iso3, share, documented_share, family_share,
    crossing_weights); policies (crossing, side, start, end, policy, quota, detection);
    events (start, end, kind, value, target, to, label[, every_days]); ``routes`` and
    ``places`` replace the graph's, ``travel`` adds speeds (``ferry_km_per_day``: 10)."""
    root.mkdir(parents=True, exist_ok=True)
    st = {
        "return_per_day": 0.0,
        "divert_per_day": 0.0,
        "irregular_per_day": 0.0,
        "detection_base": 0.0,
        "readmitted_per_day": 0.0,
    }
    st.update(stranded or {})
    toml = (
        f"""
[case]
name = "test-case"
title = "A synthetic case"
start = {start}
end = {end}
origin = {origin or start}

[population]
stock = {_param(stock)}
child_share_in_families = {_param(0.5)}

[departure]
base_hazard = {_param(hazard)}
social_weight = {_param(social_weight)}
social_window_days = {_param(7)}
preparation_days = {_param(preparation_days)}
documented_multiplier = {_param(documented_multiplier)}
family_multiplier = {_param(family_multiplier)}

[travel]
bus_km_per_day = {_param(bus_km_per_day)}
walk_km_per_day = {_param(25)}
"""
        + "".join(f"{k} = {_param(v)}\n" for k, v in (travel or {}).items())
        + """

[stranded]
"""
        + "\n".join(f"{k} = {_param(v)}" for k, v in st.items())
        + "\n"
        + variants
    )
    (root / "scenario.toml").write_text(toml)
    rows = [
        "name,pcode,iso3,adm1,lat,lon,kind",
        "#loc+name,#loc+code,#country+code,#adm1+name,#geo+lat,#geo+lon,#loc+type",
    ]
    rows += [f"{n},,{iso},,{lat},{lon},{k}" for n, iso, k, lat, lon in places or PLACES]
    (root / "places.csv").write_text("\n".join(rows) + "\n")
    rows = ["from,to,distance_km,mode,source"]
    rows += [f"{a},{b},{d},{m},test" for a, b, d, m in routes or ROUTES]
    (root / "routes.csv").write_text("\n".join(rows) + "\n")
    (root / "population.csv").write_text("residence,share,source\nR,1.0,test\n")
    groups = groups or [("NAT", 1.0, 0.0, 0.0, "A:1")]
    rows = ["iso3,share,documented_share,family_share,hazard_multiplier,crossing_weights,source"]
    rows += [f"{g[0]},{g[1]},{g[2]},{g[3]},1.0,{g[4]},test" for g in groups]
    (root / "groups.csv").write_text("\n".join(rows) + "\n")
    rows = [
        "name,exit_post,entry_post,destination,open_hour,close_hour,capacity_per_day,regular_per_day,source"
    ]
    rows.append(f"A,XA,YA,DA,{hours[0]},{hours[1]},{capacity[0]},{regular[0]},test")
    rows.append(f"B,XB,YB,DB,0,24,{capacity[1]},{regular[1]},test")
    (root / "crossings.csv").write_text("\n".join(rows) + "\n")
    rows = ["crossing,side,start,end,policy,quota,detection,source"]
    rows += [f"{c},{s},{a},{b},{p},{q},{d},test" for c, s, a, b, p, q, d in policies or []]
    (root / "policies.csv").write_text("\n".join(rows) + "\n")
    events = events or []
    if any(len(e) == 8 for e in events):  # with the optional every_days column
        rows = ["start,end,kind,value,target,to,label,source,reliability,every_days"]
        rows += [",".join(map(str, (*e[:7], "test", "A", *e[7:]))) for e in events]
    else:
        rows = ["start,end,kind,value,target,to,label,source,reliability"]
        rows += [f"{a},{b},{k},{v},{t},{to},{lab},test,A" for a, b, k, v, t, to, lab in events]
    (root / "events.csv").write_text("\n".join(rows) + "\n")
    (root / "needs.csv").write_text(
        "indicator,per_person,unit,rounding,standard\n"
        "people,1,person,none,count\n"
        "shelter_m2,3.5,m2,none,Sphere\n"
        "water_l,15,litre/day,none,Sphere\n"
        "food_kcal,2100,kcal/day,none,Sphere\n"
        "latrines,0.05,latrine,ceil,Sphere\n"
    )
    (root / "observations.csv").write_text("date,location,indicator,low,high,source,reliability\n")
    return root
