"""The data-quality problems real sources have, injected on purpose.

Models what a CS Ops team finds when it first loads its systems: the same company under a
second id from the help desk (a differently spelled name, the same or no domain, tickets but no
subscriptions), optional fields left blank, and a help-desk export that
stopped running three weeks ago. Every file still meets the contract.
"""

from __future__ import annotations

import numpy as np

from quarterdeck.demo.company import Company
from quarterdeck.demo.timeline import DAY_US, Timeline, rng_for

DUPLICATE_SHARE = 0.02
BLANK_SHARE = {"domain": 0.05, "industry": 0.1, "region": 0.06, "country": 0.03}
STALE_TICKET_DAYS = 21
HELP_DESK_PREFIX = "zd"


def _spelling(rng: np.random.Generator, name: str) -> str:
    """How another system typed the same company name."""
    base, _, suffix = name.rpartition(" ")
    variants = (
        f"{base.upper()}, {suffix}",
        base,
        f"{base.lower()} {suffix.lower().rstrip('.')}",
        f"{base} {suffix}".replace(" ", "  ", 1),
    )
    return variants[rng.integers(len(variants))]


def add_duplicates(accounts: dict[str, list], company: Company,
                   tickets: dict[str, np.ndarray], seed: int) -> list[dict]:
    """Append duplicate accounts to `accounts`; returns the truth: who duplicates whom.

    The help desk creates its own organisation for companies that file tickets, so duplicates
    are drawn among accounts with at least two tickets, created with the first of them.
    """
    rng = rng_for(seed, "duplicates")
    ticket_account = tickets["account"]
    ticketed = np.bincount(ticket_account, minlength=company.n) >= 2
    first_ticket = dict(zip(*np.unique(ticket_account, return_index=True), strict=True))
    candidates = np.flatnonzero((company.parent < 0) & ticketed)
    n = min(candidates.size, max(2, int(round(DUPLICATE_SHARE * company.n))))
    originals = np.sort(rng.choice(candidates, n, replace=False))
    truth = []
    for k, a in enumerate(originals):
        dup_id = f"{HELP_DESK_PREFIX}-{10_000 + 37 * k + int(rng.integers(0, 37))}"
        domain = company.domain[a]
        roll = rng.random()
        row = {
            "account_id": dup_id,
            "name": _spelling(rng, company.name[a]),
            "domain": domain if roll < 0.5 else f"www.{domain}" if roll < 0.7 else None,
            "parent_account_id": None,
            "segment": None,
            "industry": accounts["industry"][a] if rng.random() < 0.5 else None,
            "region": accounts["region"][a],
            "country": accounts["country"][a],
            "owner_email": None,
            "created_at": int(tickets["created"][first_ticket[a]] - rng.integers(1, 3_600_000_000)),
        }
        for key, value in row.items():
            accounts[key].append(value)
        truth.append({"account_id": dup_id, "duplicate_of_account_id": company.account_id[a],
                      "source": "help desk", "original": int(a)})
    return truth


def blank_optional_fields(accounts: dict[str, list], seed: int) -> None:
    """Leave some optional account fields empty, as CRMs do."""
    rng = rng_for(seed, "blanks")
    for column, share in BLANK_SHARE.items():
        values = accounts[column]
        for i in np.flatnonzero(rng.random(len(values)) < share):
            values[i] = None


def split_tickets(ticket_account: np.ndarray, truth: list[dict], account_ids: list[str],
                  seed: int) -> list[str]:
    """Account ids of tickets: the help desk files about half a duplicated company's tickets
    (always its first) under its own id for that company."""
    rng = rng_for(seed, "split_tickets")
    ids = [account_ids[a] for a in ticket_account]
    by_original = {d["original"]: d["account_id"] for d in truth}
    first = np.zeros(ticket_account.size, dtype=bool)
    first[np.unique(ticket_account, return_index=True)[1]] = True
    moved = first | (rng.random(ticket_account.size) < 0.5)
    for i in np.flatnonzero(moved):
        dup = by_original.get(int(ticket_account[i]))
        if dup is not None:
            ids[i] = dup
    return ids


def stale_ticket_cutoff(timeline: Timeline) -> int:
    """The help-desk export stopped this many days ago: the instant its data ends."""
    return (timeline.today_day - STALE_TICKET_DAYS) * DAY_US


def drop_after(tickets: dict[str, np.ndarray], cutoff_us: int) -> dict[str, np.ndarray]:
    """Tickets the stale export never saw are missing from it."""
    keep = tickets["created"] < cutoff_us
    return {k: v[keep] for k, v in tickets.items()}
