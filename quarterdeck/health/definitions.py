"""`definitions/health_models.yml`: health models as data, validated with file, line and field.

A model is a weighted set of components. Each component scores one registered feature
(`quarterdeck.health.features`) from 0 to 100 points, by thresholds or by a linear map; the
model's score is the weighted mean of the points of the components that have a value (a
component without a value is skipped and its weight shared out among the others). Bands turn
the score into red, yellow or green. A model listing `segments` applies to accounts of those
segments; the one model without `segments` applies to every other account.

Example: load_health_models(Path("definitions/health_models.yml")).model_for("SMB").name.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from quarterdeck.health.features import FEATURES
from quarterdeck.workspace.yaml_source import load_model

DEFAULT_HEALTH_MODELS_PATH = Path(__file__).with_name("default_health_models.yml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Threshold(_Strict):
    below: float | None = Field(None, description="Upper bound (exclusive) of this step; "
                                "omitted on the last step, which takes every higher value.")
    score: float = Field(ge=0, le=100, description="Points for a value in this step.")


class Linear(_Strict):
    from_: float = Field(alias="from", description="Value scoring 0 points.")
    to: float = Field(description="Value scoring 100 points; values beyond are clamped.")

    @model_validator(mode="after")
    def _distinct(self) -> Linear:
        if self.from_ == self.to:
            raise ValueError("`from` and `to` must differ")
        return self


class Component(_Strict):
    feature: str = Field(description="Name of a registered feature.")
    weight: float = Field(gt=0, description="Relative weight; weights are normalised.")
    thresholds: list[Threshold] | None = Field(None, description="Steps, lowest first.")
    linear: Linear | None = Field(None, description="A straight line from 0 to 100 points.")
    if_missing: float | None = Field(None, ge=0, le=100, description="Points when the value "
                                     "is missing; when omitted the component is skipped.")

    @field_validator("feature")
    @classmethod
    def _known(cls, name: str) -> str:
        if name not in FEATURES:
            raise ValueError(f"unknown feature {name!r}; known: {', '.join(FEATURES)}")
        return name

    @field_validator("thresholds")
    @classmethod
    def _ordered(cls, steps: list[Threshold] | None) -> list[Threshold] | None:
        if steps is None:
            return None
        if not steps or steps[-1].below is not None:
            raise ValueError("the last threshold must have no `below`: it scores every "
                             "higher value")
        bounds = [s.below for s in steps[:-1]]
        if any(b is None for b in bounds):
            raise ValueError("every threshold but the last needs `below`")
        if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):  # type: ignore[type-var]
            raise ValueError("`below` values must increase from one threshold to the next")
        return steps

    @model_validator(mode="after")
    def _one_rule(self) -> Component:
        if (self.thresholds is None) == (self.linear is None):
            raise ValueError("give exactly one scoring rule: `thresholds` or `linear`")
        return self


class Bands(_Strict):
    red: float = Field(40, ge=0, le=100, description="Scores below this are red.")
    yellow: float = Field(70, ge=0, le=100, description="Scores below this (and not red) "
                          "are yellow; the rest green.")

    @model_validator(mode="after")
    def _ordered(self) -> Bands:
        if self.red > self.yellow:
            raise ValueError("`red` must not be above `yellow`")
        return self


class HealthModel(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$", description="Model name.")
    description: str = ""
    segments: list[str] = Field(default_factory=list, description="Segments it applies to; "
                                "empty for the default model.")
    bands: Bands | None = Field(None, description="Bands; the file's `bands` when omitted.")
    min_weight_covered: float = Field(0.5, gt=0, le=1, description="Least share of the weight "
                                      "that must have data for the account to get a score.")
    components: list[Component] = Field(min_length=1)

    @field_validator("components")
    @classmethod
    def _unique(cls, components: list[Component]) -> list[Component]:
        names = [c.feature for c in components]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"feature listed twice: {', '.join(twice)}")
        return components


class HealthModels(_Strict):
    bands: Bands = Field(default_factory=Bands, description="Default bands of every model.")
    models: list[HealthModel] = Field(min_length=1)

    @model_validator(mode="after")
    def _segments(self) -> HealthModels:
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ValueError("model names must be unique")
        if sum(1 for m in self.models if not m.segments) > 1:
            raise ValueError("only one model may leave out `segments` (the default model)")
        seen: dict[str, str] = {}
        for m in self.models:
            for s in m.segments:
                if s in seen:
                    raise ValueError(f"segment {s!r} is in models {seen[s]!r} and {m.name!r}")
                seen[s] = m.name
        for m in self.models:
            if m.bands is None:
                m.bands = self.bands
        return self

    def model(self, name: str) -> HealthModel:
        """The model called `name` (KeyError naming the known ones otherwise)."""
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(f"no health model {name!r}; models: {', '.join(self.names)}")

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.models]

    @property
    def default(self) -> HealthModel | None:
        return next((m for m in self.models if not m.segments), None)

    def model_for(self, segment: str | None) -> HealthModel | None:
        """The model scoring accounts of `segment`: its own, else the default one."""
        for m in self.models:
            if segment in m.segments:
                return m
        return self.default

    def only(self, name: str) -> HealthModels:
        """These models reduced to `name`, applied to every account (for validation)."""
        chosen = self.model(name).model_copy(update={"segments": []})
        return HealthModels(bands=self.bands, models=[chosen])

    @property
    def features(self) -> list[str]:
        """Every feature some model uses, in first-use order."""
        out: list[str] = []
        for m in self.models:
            out += [c.feature for c in m.components if c.feature not in out]
        return out


def load_health_models(path: Path) -> HealthModels:
    """Read and validate a health models file; a problem raises WorkspaceError naming the
    file, line and field. Example: load_health_models(DEFAULT_HEALTH_MODELS_PATH).
    """
    return load_model(Path(path), HealthModels)
