"""The plain baseline churn risk is judged against: a logistic regression on the observable
columns a company has (term, ARR, tenure, days to renewal, every account attribute one-hot),
trained on who churned in the window after an earlier day.

Example: plain_logistic_auc(tables, date(2025, 9, 30), date(2026, 3, 29), 180) → (0.80, {...})
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np


def plain_logistic_auc(tables: dict, train_day: date, test_day: date, window: int) -> tuple:
    """A plain logistic regression on the observable columns (term, ARR, tenure, days to
    renewal, every account attribute one-hot), trained on who churned in the window after
    `train_day`, judged on who churned in the window after `test_day`: its AUC and the
    test labels (account_id → churned)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from quarterdeck.health.account_attributes import candidate_attributes
    from quarterdeck.health.feature_table import feature_table_at, paying_accounts, points_for
    from quarterdeck.health.validation import auc

    numbers = ["term_months", "arr", "tenure_days", "days_to_renewal"]
    attributes = candidate_attributes(tables)

    def frame(day: date):
        paying = paying_accounts(tables, as_of=day, base_currency="USD")
        later = paying_accounts(tables, as_of=day + timedelta(days=window), base_currency="USD")
        f = feature_table_at(tables, points_for(paying, [day]), base_currency="USD",
                             features=numbers + attributes).order_by("account_id").to_pandas()
        still = set(later.account_id.to_pyarrow().to_pylist())
        for a in attributes:
            f[a] = f[a].fillna("missing").astype(str)
        return f, np.array([a not in still for a in f["account_id"]], dtype=int)

    train, y_train = frame(train_day)
    test, y_test = frame(test_day)
    plain = make_pipeline(
        ColumnTransformer([("numbers", make_pipeline(SimpleImputer(), StandardScaler()), numbers),
                           ("levels", OneHotEncoder(handle_unknown="ignore"), attributes)]),
        LogisticRegression(max_iter=2000))
    plain.fit(train[numbers + attributes], y_train)
    p = plain.predict_proba(test[numbers + attributes])[:, 1]
    return auc(y_test, p), dict(zip(test["account_id"], y_test, strict=True))
