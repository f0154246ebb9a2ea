"""Flee's ``simsetting.yml``, as a validated pydantic model.

Defaults are Flee's *code* defaults (what an empty settings file gives), so a missing file and
an empty file mean the same run. Switches that change behaviour but that borderflow does not
implement are refused by name rather than silently ignored: a user who sets them expects them
to act. Keys that only control Flee's own logging are accepted and ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from borderflow.errors import ScenarioError


class SpawnRules(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    take_from_population: bool = False
    insert_day0: bool = True
    empty_camps_on_day0: bool = False
    sum_from_camps: bool = True
    conflict_zone_spawning_only: bool = True
    conflict_spawn_decay: list[float] | None = None
    conflict_spawn_decay_interval: int = Field(30, gt=0)
    average_social_connectivity: float = Field(3.0, ge=0)
    camps_are_sinks: bool = False


class MoveRules(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    max_move_speed: float = Field(360.0, gt=0)
    max_walk_speed: float = Field(35.0, gt=0)
    max_crossing_speed: float = Field(20.0, gt=0)
    foreign_weight: float = Field(1.0, ge=0)
    camp_weight: float = Field(1.0, ge=0)
    conflict_weight: float = Field(1.0 / 10.0**0.5, ge=0)
    conflict_movechance: float = Field(1.0, ge=0)
    camp_movechance: float = Field(0.001, ge=0)
    idpcamp_movechance: float = Field(0.1, ge=0)
    default_movechance: float = Field(0.3, ge=0)
    awareness_level: int = Field(1, ge=-1, le=3)
    capacity_buffer: float = Field(0.9, ge=0, lt=1)
    capacity_scaling: float = Field(1.0, gt=0)
    avoid_short_stints: bool = False
    start_on_foot: bool = False
    softening: float = Field(10.0, ge=0)
    weight_softening: float = Field(0.0, ge=0)
    weight_power: float = Field(1.0, gt=0)
    distance_power: float = Field(1.0, ge=0)
    stay_close_to_home: bool = False
    home_distance_power: float = Field(0.5, ge=0)
    use_pop_for_loc_weight: bool = False
    pop_power_for_loc_weight: float = 0.1
    movechance_pop_base: float = Field(10000.0, gt=0)
    movechance_pop_scale_factor: float = 0.0
    pruning_threshold: float = Field(1.0, ge=1.0)
    fixed_routes: bool = False
    use_v1_rules: bool = False
    two_system_decision_making: float = 0.0
    use_economic_pull: bool = False

    @model_validator(mode="after")
    def _awareness(self) -> MoveRules:
        if self.awareness_level == 0:
            raise ValueError("awareness_level 0 makes nobody move in Flee (a quirk); use 1, 2 or 3")
        return self


class RuleChoices(BaseModel):
    """The rules on which Flee's releases differ, one switch each (see docs/flee.md).

    A compatibility profile fixes them all; ``rule_choices`` in a settings file overrides any.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    #: Daily arrivals from the camp series' increments (Flee head) or the total's (3.1).
    spawn_from_camps: bool = True
    #: Day-0 camp populations also use up camp capacity (Flee head; ≤ 0 left = unlimited).
    day0_capacity_cut: bool = True
    #: A conflict ends when its value drops to 0 from any positive value (head), or only
    #: from exactly 1 (3.1).
    conflict_end_from_any: bool = True
    #: An agent with a planned route keeps moving (head) or rolls the move chance (3.1).
    planned_route_moves: bool = True
    #: The location attributes ``capacity_per_day`` and ``initial_idps`` act (head; 3.1 has
    #: neither).
    camp_attributes: bool = True
    #: A conflicts.csv column that names a location with spaces for underscores
    #: (``Distrito Capital`` for ``Distrito_Capital``) is read as that location; Flee (every
    #: version) ignores the column.
    respelled_conflicts: bool = False


#: What each compatibility profile means. "head" and "3.1" follow those Flee versions rule by
#: rule; "borderflow" (the default) takes each rule from whichever was more accurate on the
#: carried scenarios (docs/flee.md, "The default rules").
PROFILES: dict[str, RuleChoices] = {
    "head": RuleChoices(),
    "3.1": RuleChoices(
        spawn_from_camps=False,
        day0_capacity_cut=False,
        conflict_end_from_any=False,
        planned_route_moves=False,
        camp_attributes=False,
    ),
    "borderflow": RuleChoices(day0_capacity_cut=False, respelled_conflicts=True),
}


class Optimisations(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    hasten: int = Field(1, ge=1)


class FleeSettings(BaseModel):
    """The subset of Flee's settings that a default run reads."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    spawn_rules: SpawnRules = SpawnRules()
    move_rules: MoveRules = MoveRules()
    optimisations: Optimisations = Optimisations()
    log_levels: dict[str, Any] = {}
    number_of_steps: int = -1
    default_conflict_intensity: float = 1.0
    # borderflow's own key: which Flee to behave like. "head" is Flee's current code (the
    # spec); "3.1" is the release on PyPI, which spawns from the total series, never lowers
    # camp capacity on day 0, dates out.csv rows StartDate + t, ends a conflict only from an
    # intensity of exactly 1, and does not keep agents with a planned route moving;
    # "borderflow" (the default) picks each of those rules by accuracy (PROFILES).
    compatibility: Literal["borderflow", "head", "3.1"] = "borderflow"
    # borderflow's own key: override single rules of the profile, e.g. {day0_capacity_cut: true}.
    rule_choices: dict[str, bool] = {}
    # borderflow's own key: a multiplier of each named location's attractiveness (1 when not
    # named). Calibration fits it per camp; Flee has no such knob, so it is empty by default.
    location_weights: dict[str, float] = {}
    _choices: RuleChoices = PrivateAttr(default_factory=RuleChoices)

    @model_validator(mode="after")
    def _weights(self) -> FleeSettings:
        for name, w in self.location_weights.items():
            if not (w > 0 and w < float("inf")):
                raise ValueError(f"location_weights.{name} must be a positive number, not {w}")
        return self

    @model_validator(mode="after")
    def _v1_bundle(self) -> FleeSettings:
        """``use_v1_rules`` forces Flee 1's speed and weights, as Flee does."""
        m = self.move_rules
        if m.use_v1_rules:
            m.max_move_speed = 200.0
            m.start_on_foot = False
            m.avoid_short_stints = False
            m.camp_weight = 2.0
            m.conflict_weight = 0.25
        return self

    @model_validator(mode="after")
    def _rules(self) -> FleeSettings:
        """Fix the rule choices: profile, file's ``sum_from_camps``, then ``rule_choices``.

        ``spawn_rules.sum_from_camps`` is Flee's own switch (3.1's run script has none).

        ``sum_from_camps`` is then set to the choice, so a dump of the settings says how the
        run spawned.
        """
        unknown = sorted(set(self.rule_choices) - set(RuleChoices.model_fields))
        if unknown:
            raise ValueError(
                f"rule_choices: unknown rule(s) {', '.join(unknown)} "
                f"(known: {', '.join(RuleChoices.model_fields)})"
            )
        update: dict[str, bool] = {}
        if "sum_from_camps" in self.spawn_rules.model_fields_set and self.compatibility != "3.1":
            update["spawn_from_camps"] = self.spawn_rules.sum_from_camps
        update.update(self.rule_choices)
        self._choices = PROFILES[self.compatibility].model_copy(update=update)
        self.spawn_rules.sum_from_camps = self._choices.spawn_from_camps
        return self

    @property
    def rules(self) -> RuleChoices:
        """The rule choices in force."""
        return self._choices

    @property
    def flee31(self) -> bool:
        """Flee 3.1's out.csv dates (StartDate + t); every rule is in :attr:`rules`."""
        return self.compatibility == "3.1"

    @property
    def awareness(self) -> int:
        """Route search depth; Flee treats -1 exactly like 1."""
        return max(1, self.move_rules.awareness_level)


# Switches that change Flee's behaviour but that this engine does not implement.
_UNSUPPORTED: dict[tuple[str, str], Any] = {
    ("move_rules", "avoid_short_stints"): False,
    ("move_rules", "fixed_routes"): False,
    ("move_rules", "use_economic_pull"): False,
    ("spawn_rules", "take_from_population"): False,
    ("spawn_rules", "camps_are_sinks"): False,
}

# Keys Flee reads for optional rule sets (demographics, food, floods) that borderflow does not
# implement; setting them to anything but "off" is refused.
_OPTIONAL_RULESETS = (
    "ChildrenAvoidHazards",
    "WomenAvoidHazards",
    "ElderlyAvoidHazards",
    "BoysTakeRisk",
    "MatchCampEthnicity",
    "MatchConflictEthnicity",
    "MatchTownEthnicity",
    "MatchCampReligion",
    "MatchConflictReligion",
    "MatchTownReligion",
    "flee_when_starving",
    "avoid_food_deprived_locations",
    "flood_rules",
    "harvest_months",
    "conflict_driven_spawning",
    "read_from_agents_csv_file",
)


def _strip_optional(section: dict[str, Any], path: Path, name: str) -> dict[str, Any]:
    out = {}
    for key, value in section.items():
        if key in _OPTIONAL_RULESETS:
            if value not in (False, None, 0, [], {}):
                raise ScenarioError(
                    f"'{name}.{key}' is an optional Flee rule set that borderflow does not "
                    "implement; remove it or set it to False",
                    file=path,
                    column=f"{name}.{key}",
                )
            continue
        out[key] = value
    return out


def load_flee_settings(path: str | Path | None, compatibility: str | None = None) -> FleeSettings:
    """Read ``simsetting.yml``; ``None`` gives Flee's code defaults.

    ``compatibility`` ("head" or "3.1"), when given, overrides the file's key of that name.
    """
    if path is None:
        raw_default: dict[str, Any] = {}
        if compatibility is not None:
            raw_default["compatibility"] = compatibility
        return FleeSettings.model_validate(raw_default)
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError("settings file not found", file=p) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text ({exc.reason})", file=p) from None
    except OSError as exc:
        raise ScenarioError(f"cannot be read ({exc.strerror or exc})", file=p) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise ScenarioError(
            f"not valid YAML ({getattr(exc, 'problem', exc)})", file=p, row=row
        ) from None
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ScenarioError("must be a mapping of sections", file=p)
    for section in ("spawn_rules", "move_rules"):
        if isinstance(raw.get(section), dict):
            raw[section] = _strip_optional(raw[section], p, section)
    if compatibility is not None:
        raw["compatibility"] = compatibility
    try:
        settings = FleeSettings.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ScenarioError(err["msg"], file=p, column=where) from None
    for (section, key), default in _UNSUPPORTED.items():
        if getattr(getattr(settings, section), key) != default:
            raise ScenarioError(
                f"'{section}.{key}' is not supported by borderflow's flee ruleset",
                file=p,
                column=f"{section}.{key}",
            )
    return settings
