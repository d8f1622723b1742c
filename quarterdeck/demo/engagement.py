"""What the CS team does with accounts: onboarding milestones, QBRs, meetings, calls, emails.

Models CSMs who meet healthy, engaged customers more often and whose QBRs (Mid-Market and
Enterprise only) get skipped when the account goes quiet; onboarding that reaches go-live later
for struggling accounts; and a pooled digital programme that only emails unowned accounts.
"""

from __future__ import annotations

import numpy as np

from quarterdeck.demo import names
from quarterdeck.demo.company import Company
from quarterdeck.demo.timeline import DAY_US, Timeline, rng_for, scatter_in_weeks, sigmoid

# Weekly rates for an engaged, owned account: (email, call, meeting, note) by segment.
TOUCH_RATES = {
    "email": np.array([0.15, 0.5, 0.9]),
    "call": np.array([0.03, 0.12, 0.25]),
    "meeting": np.array([0.01, 0.06, 0.15]),
    "note": np.array([0.02, 0.06, 0.12]),
}
POOLED_EMAIL_RATE = 0.1


def build_activities(company: Company, health: np.ndarray, activity: np.ndarray,
                     timeline: Timeline, seed: int) -> dict[str, object]:
    """Every account's activities, oldest first."""
    rng = rng_for(seed, "activities")
    owned = np.array([o is not None for o in company.owner])
    engaged = sigmoid(0.2 + 1.2 * health) * (activity > 0)
    parts: list[tuple[str, np.ndarray, np.ndarray]] = []
    for kind, rates in TOUCH_RATES.items():
        rate = (rates[company.segment] * owned)[:, None] * engaged
        if kind == "email":
            rate = rate + (POOLED_EMAIL_RATE * ~owned)[:, None] * (activity > 0)
        account, instant = scatter_in_weeks(rng.poisson(rate), timeline, rng, 14.0,
                                            company.signup_day)
        parts.append((kind, account, instant))

    # A QBR slot every 13 weeks for owned Mid-Market and Enterprise accounts, kept if engaged.
    weeks = np.arange(timeline.n_weeks)
    phase = rng.integers(0, 13, company.n)
    slot = ((weeks[None, :] - phase[:, None]) % 13 == 0) & (activity >= 1)
    held = rng.random(slot.shape) < sigmoid(0.8 + 1.8 * health)
    qbr = slot & held & ((company.segment >= 1) & owned)[:, None]
    parts.append(("qbr", *scatter_in_weeks(qbr.astype(np.int64), timeline, rng, 15.0,
                                                company.signup_day)))

    # Onboarding: kickoff a few days in; go-live later for accounts that struggle.
    signup = company.signup_day
    start_week = np.clip(timeline.week_of(signup), 0, timeline.n_weeks - 1)
    h0 = health[np.arange(company.n), start_week]
    kickoff = signup * DAY_US + rng.integers(2, 8, company.n) * DAY_US + 15 * 3_600_000_000
    go_live_days = np.round(rng.lognormal(np.log(40), 0.4, company.n) * np.exp(-0.4 * h0))
    go_live = kickoff + go_live_days.astype(np.int64) * DAY_US
    everyone = np.arange(company.n)
    for label, instant in (("Kickoff", kickoff), ("Go-live", go_live)):
        keep = instant < timeline.now_us
        parts.append((f"milestone:{label}", everyone[keep], instant[keep]))

    kind = np.concatenate([np.full(p[1].size, p[0], dtype=object) for p in parts])
    account = np.concatenate([p[1] for p in parts])
    instant = np.concatenate([p[2] for p in parts])
    order = np.lexsort((account, instant))
    kind, account, instant = kind[order], account[order], instant[order]
    subjects, kinds = [], []
    for k in kind:
        if k.startswith("milestone:"):
            kinds.append("milestone")
            subjects.append(k.split(":", 1)[1])
        else:
            kinds.append(k)
            options = names.ACTIVITY_SUBJECTS[k]
            subjects.append(options[rng.integers(len(options))])
    return {
        "activity_id": [f"act-{i + 1:07d}" for i in range(account.size)],
        "account_id": [company.account_id[a] for a in account],
        "kind": kinds,
        "occurred_at": instant,
        "owner_email": [company.owner[a] for a in account],
        "subject": subjects,
    }
