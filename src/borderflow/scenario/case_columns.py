"""The columns of a case folder's tables: HXL hashtag, and an example value, for each.

One table for ``borderflow new-case`` (the header, the HXL row and a commented example row of
every file) and for the case-format reference (``docs/case-format.md``). The columns themselves
come from the row models (:data:`borderflow.scenario.border_io.TABLE_MODELS`), so a column
added to the schema appears in new cases at once (with ``#meta+<column>`` until it is given a
tag here).
"""

from __future__ import annotations

HXL: dict[str, dict[str, str]] = {
    "places": {
        "name": "#loc+name", "pcode": "#loc+code", "iso3": "#country+code",
        "adm1": "#adm1+name", "adm1_code": "#adm1+code", "adm2_code": "#adm2+code",
        "lat": "#geo+lat", "lon": "#geo+lon", "kind": "#loc+type",
    },
    "routes": {
        "from": "#loc+name+origin", "to": "#loc+name+dest",
        "distance_km": "#indicator+distance+km", "mode": "#meta+mode", "source": "#meta+source",
    },
    "population": {
        "residence": "#loc+name+residence", "share": "#population+share",
        "crossing_weights": "#meta+crossing+weights", "source": "#meta+source",
    },
    "groups": {
        "iso3": "#country+code+nationality", "share": "#population+share",
        "documented_share": "#population+documented+share",
        "family_share": "#population+family+share",
        "hazard_multiplier": "#indicator+hazard+multiplier",
        "crossing_weights": "#meta+crossing+weights", "source": "#meta+source",
    },
    "crossings": {
        "name": "#loc+name+crossing", "exit_post": "#loc+name+exit",
        "entry_post": "#loc+name+entry", "destination": "#loc+name+dest",
        "open_hour": "#date+hour+open", "close_hour": "#date+hour+close",
        "capacity_per_day": "#capacity+num+daily",
        "regular_per_day": "#indicator+num+regular+daily", "source": "#meta+source",
    },
    "policies": {
        "crossing": "#loc+name+crossing", "side": "#meta+side", "start": "#date+start",
        "end": "#date+end", "policy": "#status+policy", "quota": "#capacity+quota+daily",
        "detection": "#indicator+detection", "source": "#meta+source",
        "announced": "#date+announced", "nationalities": "#country+code+list",
        "papers": "#meta+papers",
    },
    "events": {
        "start": "#date+start", "end": "#date+end", "kind": "#event+type",
        "value": "#indicator+value", "target": "#loc+name+target", "to": "#loc+name+dest",
        "label": "#event+code", "source": "#meta+source", "reliability": "#meta+reliability",
        "param": "#meta+param", "every_days": "#meta+every+days",
        "announced": "#date+announced",
    },
    "needs": {
        "indicator": "#indicator+code", "per_person": "#indicator+num+per_person",
        "unit": "#meta+unit", "rounding": "#meta+rounding", "standard": "#meta+standard",
    },
    "observations": {
        "date": "#date+start", "end": "#date+end", "stat": "#meta+stat",
        "location": "#loc+name", "indicator": "#indicator+code",
        "low": "#indicator+num+min", "high": "#indicator+num+max",
        "source": "#meta+source", "reliability": "#meta+reliability",
    },
}  # fmt: skip

#: One example row per table (a column not listed is left blank), from the Chile–Peru cases.
EXAMPLES: dict[str, dict[str, str]] = {
    "places": {"name": "Arica", "iso3": "CHL", "adm1": "Arica y Parinacota",
               "adm1_code": "CL15", "lat": "-18.48", "lon": "-70.31", "kind": "city"},
    "routes": {"from": "Arica", "to": "Chacalluta", "distance_km": "18", "mode": "bus",
               "source": "AFP 2025-12-01 (B): Arica to the border complex ~18 km by road"},
    "population": {"residence": "Arica y Parinacota Region", "share": "1.0",
                   "source": "ASSUMPTION: everyone at risk lives in one region"},
    "groups": {"iso3": "VEN", "share": "1.0", "documented_share": "0.3",
               "family_share": "0.35", "hazard_multiplier": "1.0",
               "crossing_weights": "Chacalluta-Santa Rosa:1",
               "source": "ASSUMPTION: one nationality; shares from the case README"},
    "crossings": {"name": "Chacalluta-Santa Rosa", "exit_post": "Chacalluta",
                  "entry_post": "Santa Rosa", "destination": "Tacna", "open_hour": "8",
                  "close_hour": "24", "capacity_per_day": "7500", "regular_per_day": "5500",
                  "source": "latercera.com 2025-11-29 (A): 5,000-6,000 regular exits a day"},
    "policies": {"crossing": "Chacalluta-Santa Rosa", "side": "entry", "start": "2025-11-28",
                 "policy": "documented_only", "quota": "0", "detection": "0.45",
                 "source": "DS 135-2025-PCM (enlinea.pe 2025-11-28; A)"},
    "events": {"start": "2025-12-05", "end": "2025-12-20", "kind": "shelter", "value": "0",
               "target": "Chacalluta-Santa Rosa", "to": "Arica shelters",
               "label": "arica_shelter", "reliability": "B",
               "source": "outlet YYYY-MM-DD (grade): what was reported"},
    "needs": {"indicator": "water_l", "per_person": "15", "unit": "litres per day",
              "rounding": "none", "standard": "Sphere Handbook 2018, water supply standard 2.1"},
    "observations": {"date": "2025-11-26", "stat": "value",
                     "location": "Chacalluta-Santa Rosa", "indicator": "stranded",
                     "low": "100", "high": "250", "reliability": "B",
                     "source": "elmostrador.cl 2025-11-28 (B): more than 100 a night"},
}  # fmt: skip


def tag(table: str, column: str) -> str:
    """The HXL hashtag of a column (``#meta+<column>`` for one not yet tagged here)."""
    return HXL.get(table, {}).get(column, f"#meta+{column.replace('_', '+')}")


#: What each scenario.toml parameter means (for new cases, `check` and the reference).
PARAM_HELP: dict[str, str] = {
    "population.stock": "people at risk of leaving (one row per person is simulated)",
    "population.child_share_in_families": "share of the people in families who are minors",
    "departure.base_hazard": "daily probability of deciding to leave, before any event",
    "departure.social_weight": "hazard multiplier per 1 % of the stock that left in the window",
    "departure.social_window_days": "days a departure stays news among friends and family",
    "departure.preparation_days": "mean days from deciding to setting off (money, tickets)",
    "departure.documented_multiplier": "hazard multiplier for people holding papers",
    "departure.family_multiplier": "hazard multiplier for families with children",
    "travel.bus_km_per_day": "km a day by bus (waits and changes included)",
    "travel.walk_km_per_day": "km a day on foot, with luggage and children",
    "travel.ferry_km_per_day": "km a day on a road of mode ferry",
    "travel.boat_km_per_day": "km a day on a road of mode boat",
    "travel.car_km_per_day": "km a day on a road of mode car",
    "travel.train_km_per_day": "km a day on a road of mode train",
    "stranded.return_per_day": "nightly share of the stranded who walk back to the last city",
    "stranded.divert_per_day": "nightly share who leave for another crossing (when readmitted)",
    "stranded.irregular_per_day": "nightly share who try to cross irregularly",
    "stranded.detection_base": "chance an irregular attempt is caught, before reinforcements",
    "stranded.readmitted_per_day": "nightly share taken back when the exit country readmits",
    "news.delay_days": "days before people preparing or travelling learn of a closure/blockade",
    "news.home_per_day": "daily share of the informed who give up and go home",
    "news.divert_per_day": "daily share of the informed who switch to another crossing",
}
