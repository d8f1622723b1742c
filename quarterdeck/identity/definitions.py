"""`definitions/identity.yml`: how accounts are matched into customers, and the manual overrides.

Every setting has a default, so the file is optional. Example::

    threshold: 0.9            # pairs scoring at least this merge
    review_band: 0.4          # pairs scoring 0.5 up to the threshold go to review
    source_priority: [files, crm, stripe, zendesk]
    survivorship:
      owner_email: [crm, files]     # the CRM says who owns the account
      segment: [files, crm]
    confirm:
      - [acct-000123, "zendesk:361"]   # the same company: always merge
    split:
      - [acct-000200, acct-000201]     # different companies: never merge

Errors name the file, line and field (see `quarterdeck.workspace.yaml_source`).
Example: load_identity_definitions(ws.definitions_dir).threshold.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from quarterdeck.contract.entities import ENTITIES
from quarterdeck.workspace.yaml_source import load_model

IDENTITY_FILE = "identity.yml"
_SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
SURVIVING_FIELDS = tuple(c for c in ENTITIES["accounts"].column_names
                         if c not in ("account_id", "created_at", "external_ids"))


def _pair(pair: list[str]) -> list[str]:
    if len(pair) != 2 or not all(pair):
        raise ValueError("each entry is a pair of account ids, e.g. [a1, a2]")
    if pair[0] == pair[1]:
        raise ValueError(f"[{pair[0]}, {pair[1]}] names one account twice")
    return pair


def _source_name(name: str) -> str:
    if not _SOURCE_NAME.match(name):
        raise ValueError(f"{name!r} is not a source name (lowercase letters, digits, - and _; "
                         "`files` for loaded files)")
    return name


def _surviving_field(name: str) -> str:
    if name not in SURVIVING_FIELDS:
        raise ValueError(f"{name!r} is not an account field with a source of truth "
                         f"({', '.join(SURVIVING_FIELDS)})")
    return name


def _distinct(names: list[str]) -> list[str]:
    if len(set(names)) != len(names):
        raise ValueError("a source is listed twice")
    return names


Pair = Annotated[list[str], AfterValidator(_pair)]
SourceName = Annotated[str, AfterValidator(_source_name)]
SourceOrder = Annotated[list[SourceName], AfterValidator(_distinct)]
SurvivingField = Annotated[str, AfterValidator(_surviving_field)]


class IdentityDefinitions(BaseModel):
    """`definitions/identity.yml`."""

    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(
        0.9, gt=0, le=1, description="Match probability at or above which two accounts "
        "merge into one customer.")
    review_band: float = Field(
        0.4, ge=0, lt=1, description="Pairs scoring from `threshold - review_band` up to "
        "the threshold are listed for review (`quarterdeck identity matches --decision "
        "review`) and not merged.")
    source_priority: SourceOrder = Field(
        default_factory=list, description="Sources from the most trusted to the least. "
        "Sources left out follow in the default order: files, warehouse tables, CRMs "
        "(HubSpot, Salesforce), billing (Stripe), help desk (Zendesk).")
    survivorship: dict[SurvivingField, SourceOrder] = Field(
        default_factory=dict, description="Per account field, the sources whose value wins, "
        "in order; sources left out follow in `source_priority` order.")
    tie_break: Literal["oldest", "newest"] = Field(
        "oldest", description="Between accounts of one source, whose non-empty value "
        "wins: the oldest record (the original, usually the curated one) or the newest.")
    merge_paying_accounts: bool = Field(
        False, description="Whether a probabilistic match may merge two accounts that both "
        "have paying subscriptions; by default such pairs go to review (shared ids, equal "
        "domains and confirmations still merge them).")
    confirm: list[Pair] = Field(
        default_factory=list, description="Pairs of account ids that are the same company: "
        "always merged (a split still wins).")
    split: list[Pair] = Field(
        default_factory=list, description="Pairs of account ids that are different "
        "companies: never in one customer, whatever links them.")

    @model_validator(mode="before")
    @classmethod
    def _empty_lists(cls, data: object) -> object:
        # `split:` with every entry removed reads as null: an empty list.
        if isinstance(data, dict):
            empty = {"source_priority": [], "survivorship": {}, "confirm": [], "split": []}
            return {k: (empty[k] if v is None and k in empty else v) for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> IdentityDefinitions:
        if self.review_band >= self.threshold:
            raise ValueError("review_band must be smaller than threshold")
        both = {frozenset(p) for p in self.confirm} & {frozenset(p) for p in self.split}
        if both:
            a, b = sorted(next(iter(both)))
            raise ValueError(f"[{a}, {b}] is both confirmed and split")
        return self

    @property
    def review_floor(self) -> float:
        """Lowest match probability listed for review."""
        return self.threshold - self.review_band


def load_identity_definitions(definitions_dir: Path) -> IdentityDefinitions:
    """The workspace's identity settings and overrides; the defaults when the file is absent."""
    path = definitions_dir / IDENTITY_FILE
    if not path.exists():
        return IdentityDefinitions()
    return load_model(path, IdentityDefinitions)
