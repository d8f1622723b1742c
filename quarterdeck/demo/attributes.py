"""What a CRM and a billing system record about each customer beyond the contract fields.

For the demo company that has no product analytics or help desk (`sources="billing-crm"`),
two custom account columns, `lead_source` and `payment_method`, and the account's industry
carry part of its hidden health, as they do in real subscription businesses (customers won
through partners stay longer than self-serve sign-ups; card payers who fail to pay leave
more often). They are drawn from a stream of their own, so the rest of the company is the
same as the full demo's for the same seed.
"""

from __future__ import annotations

import numpy as np

from quarterdeck.demo import names
from quarterdeck.demo.company import Company
from quarterdeck.demo.timeline import rng_for

LEAD_SOURCES = ("partner", "outbound", "inbound", "self-serve")
LEAD_SHARE = (0.15, 0.25, 0.35, 0.25)
LEAD_EFFECT = (0.35, 0.1, 0.0, -0.45)
PAYMENT_METHODS = ("invoice", "card", "direct debit")
PAYMENT_SHARE = (0.45, 0.35, 0.2)
PAYMENT_EFFECT = (0.1, -0.35, 0.25)
INDUSTRY_SPREAD = 0.25


def account_attributes(company: Company, seed: int) -> tuple[dict[str, list[str]], np.ndarray]:
    """The custom account columns and the shift of each account's health level they carry.

    Example: columns, shift = account_attributes(company, 7); columns["lead_source"][0].
    """
    rng = rng_for(seed, "attributes")
    n = company.n
    lead = rng.choice(len(LEAD_SOURCES), n, p=LEAD_SHARE)
    # Enterprise customers pay by invoice far more often than small ones.
    invoice_bias = np.array([0.0, 0.15, 0.4])[company.segment]
    payment = np.where(rng.random(n) < invoice_bias, 0,
                       rng.choice(len(PAYMENT_METHODS), n, p=PAYMENT_SHARE))
    industry_effect = dict(zip(names.INDUSTRIES, rng.normal(0, INDUSTRY_SPREAD,
                                                            len(names.INDUSTRIES)), strict=True))
    shift = (np.array(LEAD_EFFECT)[lead] + np.array(PAYMENT_EFFECT)[payment]
             + np.array([industry_effect[i] for i in company.industry]))
    columns = {"lead_source": [LEAD_SOURCES[i] for i in lead],
               "payment_method": [PAYMENT_METHODS[i] for i in payment]}
    return columns, shift
