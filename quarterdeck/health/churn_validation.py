"""How the churn model's candidates are judged on the history a company has.

- *Time split* (preferred): decisions sorted by date, trained on the older 75% and judged on
  the most recent 25%, as the model will be used: on decisions after its training.
- It needs at least 2 churns on each side and 2 non-churns before the split. When the history
  cannot give that (every churn is recent, or all are old), the reason is stated precisely
  ("the 900 decisions before 2025-04-01 hold 0 churns, …") and the candidates are judged by
  *cross-validation grouped by account* instead: `CV_FOLDS` folds (fewer when fewer accounts
  churned), stratified by outcome, every decision of one account in the same fold, so no
  account is judged by a model that saw its other renewals. Each decision is then scored once,
  by the model of the folds it was not in.
- With fewer than 2 accounts that churned, nothing can be judged: the card says so.

Example: validation_plan(dates, y, accounts) → ValidationPlan(method="time split", …).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

VALIDATION_SHARE = 0.25
CV_FOLDS = 5
MIN_SIDE_CHURNS = 2

TIME_SPLIT = "time split"
GROUPED_CV = "cross-validation grouped by account"


@dataclass
class ValidationPlan:
    """The folds to judge candidates on: (train rows, judged rows) index pairs."""

    method: str | None
    folds: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    note: str | None = None
    split: date | None = None

    @property
    def judged(self) -> np.ndarray:
        """Indices of the decisions that get an out-of-sample probability."""
        if not self.folds:
            return np.empty(0, dtype=int)
        return np.sort(np.concatenate([test for _, test in self.folds]))


def _time_split(dates: np.ndarray, y: np.ndarray) -> tuple[ValidationPlan | None, str]:
    split = sorted(dates)[int(len(dates) * (1 - VALIDATION_SHARE))]
    old, new = dates < split, dates >= split
    old_churns, new_churns = int(y[old].sum()), int(y[new].sum())
    old_kept = int((1 - y[old]).sum())
    if min(old_churns, new_churns) >= MIN_SIDE_CHURNS and old_kept >= MIN_SIDE_CHURNS:
        plan = ValidationPlan(TIME_SPLIT, [(np.flatnonzero(old), np.flatnonzero(new))],
                              split=split)
        return plan, ""
    why = (f"no time split: the {int(old.sum()):,} decisions before {split} hold "
           f"{old_churns:,} churns and {old_kept:,} renewals, the {int(new.sum()):,} from "
           f"{split} on hold {new_churns:,} churns; a time split needs at least "
           f"{MIN_SIDE_CHURNS} churns on each side and {MIN_SIDE_CHURNS} renewals before")
    return None, why


def validation_plan(dates: np.ndarray, y: np.ndarray, accounts: np.ndarray,
                    seed: int = 0) -> ValidationPlan:
    """A time split when the history allows one, else cross-validation grouped by account
    (see the module)."""
    from sklearn.model_selection import StratifiedGroupKFold

    plan, why = _time_split(dates, y)
    if plan is not None:
        return plan
    churned_accounts = len(set(accounts[y == 1]))
    kept_accounts = len(set(accounts[y == 0]))
    k = min(CV_FOLDS, churned_accounts, kept_accounts)
    if k < 2:
        return ValidationPlan(None, note=f"{why}; and {churned_accounts} account(s) that "
                              "churned are too few for cross-validation grouped by account")
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    folds = [(train, test) for train, test in cv.split(np.zeros(len(y)), y, accounts)
             if 0 < y[train].sum() < len(train)]
    return ValidationPlan(GROUPED_CV, folds,
                          note=f"{why}; judged instead by {k}-fold {GROUPED_CV}")
