"""The voice of the customer: support tickets and NPS/CSAT survey answers.

Models tickets that come more often and more urgently from unhealthy accounts (and from bigger
ones), are solved faster the more urgent they are, and are rated lower when the account is
struggling; twice-yearly NPS surveys and quarterly CSAT pulses answered by the contacts in
place at the time, with scores that follow health.
"""

from __future__ import annotations

import numpy as np

from quarterdeck.demo import names
from quarterdeck.demo.company import Company
from quarterdeck.demo.people import Contacts
from quarterdeck.demo.timeline import DAY_US, NULL_INT, Timeline, rng_for, scatter_in_weeks

TICKETS_PER_WEEK = np.array([0.04, 0.1, 0.22])  # by segment, for a neutral-health account
PRIORITIES = np.array(["low", "normal", "high", "urgent"], dtype=object)
HOURS_TO_SOLVE = np.array([60.0, 30.0, 12.0, 5.0])  # median by priority
HOUR_US = 3_600_000_000


def build_tickets(company: Company, health: np.ndarray, activity: np.ndarray,
                  timeline: Timeline, seed: int) -> dict[str, np.ndarray]:
    """Tickets per account; `account` holds account indices (ids are assigned later)."""
    rng = rng_for(seed, "tickets")
    size = (company.seats / np.array([8, 45, 320])[company.segment]) ** 0.3
    rate = (TICKETS_PER_WEEK[company.segment] * size)[:, None] * np.exp(-0.7 * health)
    rate *= activity > 0
    account, created = scatter_in_weeks(rng.poisson(rate), timeline, rng, 13.0,
                                       company.signup_day)
    order = np.lexsort((account, created))
    account, created = account[order], created[order]
    n = account.size
    h = health[account, timeline.week_of(created // DAY_US)]
    urgency = -0.8 * h + rng.normal(0, 1, n)
    priority = np.searchsorted([-1.0, 0.9, 1.9], urgency)
    hours = HOURS_TO_SOLVE[priority] * rng.lognormal(0, 1.0, n) * np.exp(-0.2 * h)
    solved = created + (hours * HOUR_US).astype(np.int64)
    csat_given = rng.random(n) < 0.35
    csat = np.clip(np.round(3.9 + 0.8 * h - 0.3 * (priority >= 2) + rng.normal(0, 0.9, n)), 1, 5)
    return {"account": account, "created": created, "solved": solved, "priority": priority,
            "csat": np.where(csat_given, csat, NULL_INT).astype(np.int64)}


def ticket_columns(tickets: dict[str, np.ndarray], account_ids: list[str],
                   cutoff_us: int) -> dict[str, object]:
    """The tickets file as exported at `cutoff_us`: later solutions are still open then."""
    solved = tickets["solved"]
    still_open = solved >= cutoff_us
    n = solved.size
    status = np.where(still_open, np.where(tickets["priority"] >= 2, "open", "pending"), "solved")
    return {
        "ticket_id": [str(48_000 + i) for i in range(n)],
        "account_id": account_ids,
        "created_at": tickets["created"],
        "solved_at": np.where(still_open, NULL_INT, solved),
        "priority": list(PRIORITIES[tickets["priority"]]),
        "status": list(status),
        "csat": np.where(still_open, NULL_INT, tickets["csat"]),
    }


def _respondent(rng: np.random.Generator, contacts: Contacts, first: np.ndarray,
                count: np.ndarray, account: np.ndarray, instant: np.ndarray) -> np.ndarray:
    """A contact of the account in place at `instant`, or -1 when the one asked had gone."""
    pick = first[account] + (rng.random(account.size) * count[account]).astype(np.int64)
    left = contacts.left_us[pick]
    present = (contacts.created_us[pick] <= instant) & ((left == NULL_INT) | (left > instant))
    return np.where(present, pick, -1)


def build_surveys(company: Company, contacts: Contacts, health: np.ndarray,
                  activity: np.ndarray, timeline: Timeline, seed: int) -> dict[str, object]:
    """NPS every 26 weeks and a CSAT pulse every 13 weeks, answered by some contacts."""
    rng = rng_for(seed, "surveys")
    weeks = np.arange(timeline.n_weeks)
    phase = rng.integers(0, 26, company.n)
    invited = (activity >= 1) & ((weeks[None, :] - phase[:, None]) % 26 == 0)
    nps_n = rng.binomial(invited * (1 + company.segment[:, None]), 0.55)
    pulse = (activity >= 1) & ((weeks[None, :] - phase[:, None]) % 13 == 6)
    csat_n = rng.binomial(pulse.astype(np.int64), 0.3)
    first = np.searchsorted(contacts.account, np.arange(company.n))
    count = np.bincount(contacts.account, minlength=company.n)
    parts = []
    for kind, n_matrix in (("nps", nps_n), ("csat", csat_n)):
        account, instant = scatter_in_weeks(n_matrix, timeline, rng, 15.0, company.signup_day)
        contact = _respondent(rng, contacts, first, count, account, instant)
        keep = contact >= 0
        account, instant, contact = account[keep], instant[keep], contact[keep]
        h = health[account, timeline.week_of(instant // DAY_US)]
        if kind == "nps":
            score = np.clip(np.round(7.3 + 1.7 * h + rng.normal(0, 1.3, account.size)), 0, 10)
        else:
            score = np.clip(np.round(3.8 + 0.7 * h + rng.normal(0, 0.7, account.size)), 1, 5)
        parts.append((kind, account, instant, contact, score.astype(np.int64)))
    account = np.concatenate([p[1] for p in parts])
    instant = np.concatenate([p[2] for p in parts])
    contact = np.concatenate([p[3] for p in parts])
    score = np.concatenate([p[4] for p in parts])
    kind = np.concatenate([np.full(p[1].size, p[0], dtype=object) for p in parts])
    order = np.lexsort((account, instant))
    account, instant, contact, score, kind = (x[order] for x in
                                              (account, instant, contact, score, kind))
    comment = []
    for k, s in zip(kind, score, strict=True):
        band = ("detractor" if s <= 6 else "passive" if s <= 8 else "promoter") if k == "nps" \
            else ("detractor" if s <= 2 else "passive" if s <= 3 else "promoter")
        texts = names.NPS_COMMENTS[band]
        comment.append(texts[rng.integers(len(texts))] if rng.random() < 0.3 else None)
    contact_ids = contacts.columns["contact_id"]
    return {
        "response_id": [f"r-{i + 1:07d}" for i in range(account.size)],
        "account_id": [company.account_id[a] for a in account],
        "contact_id": [contact_ids[c] for c in contact],
        "kind": list(kind),
        "score": score,
        "comment": comment,
        "responded_at": instant,
    }

