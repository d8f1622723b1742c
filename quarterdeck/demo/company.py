"""The vendor's customer-success team and its customer accounts.

Models a B2B SaaS customer base: SMB, Mid-Market and Enterprise companies in several countries,
signing up over the years (faster as the business grows), a few Enterprise groups with child
accounts, and a CSM team whose books are uneven and which leaves some small accounts unowned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quarterdeck.demo import names
from quarterdeck.demo.timeline import DAY_US, Timeline, rng_for

SEGMENTS = ("SMB", "Mid-Market", "Enterprise")
SEGMENT_SHARE = (0.6, 0.3, 0.1)
COUNTRIES = ("US", "CA", "GB", "DE", "FR", "NL", "ES", "AU", "SG")
COUNTRY_SHARE = (0.44, 0.06, 0.14, 0.1, 0.07, 0.05, 0.03, 0.08, 0.03)
REGION = {"US": "NA", "CA": "NA", "GB": "EMEA", "DE": "EMEA", "FR": "EMEA", "NL": "EMEA",
          "ES": "EMEA", "AU": "APAC", "SG": "APAC"}
CURRENCY = {"US": "USD", "CA": "CAD", "GB": "GBP", "DE": "EUR", "FR": "EUR", "NL": "EUR",
            "ES": "EUR", "AU": "AUD", "SG": "USD"}
# Licensed seats: median and spread of a lognormal per segment.
SEAT_MEDIAN = (8.0, 45.0, 320.0)
SEAT_SIGMA = (0.6, 0.5, 0.7)
SEAT_RANGE = ((2, 60), (15, 300), (80, 4000))
VENDOR_DOMAIN = "quarterdeck-demo.com"


@dataclass
class Company:
    """The customer accounts, one array entry per account (index = position)."""

    account_id: list[str]
    name: list[str]
    domain: list[str]
    parent: np.ndarray  # index of the parent account, -1 for none
    segment: np.ndarray  # 0 SMB, 1 Mid-Market, 2 Enterprise
    industry: np.ndarray
    country: np.ndarray
    currency: np.ndarray
    owner: list[str | None]
    signup_day: np.ndarray  # first day of trial or service
    created_us: np.ndarray
    seats: np.ndarray  # licensed seats at signup

    @property
    def n(self) -> int:
        return len(self.account_id)

    def segment_names(self) -> list[str]:
        return [SEGMENTS[s] for s in self.segment]


@dataclass
class Team:
    email: list[str]
    name: list[str]
    role: list[str]
    manager_email: list[str | None]
    capacity_accounts: list[int | None]
    capacity_arr: list[float]
    csm_segment: dict[str, int]  # CSM email -> the segment they cover

    def columns(self) -> dict[str, object]:
        return {"email": self.email, "name": self.name, "role": self.role,
                "manager_email": self.manager_email, "capacity_accounts": self.capacity_accounts,
                "capacity_arr": self.capacity_arr}


def _person_names(rng: np.random.Generator, n: int) -> list[str]:
    pairs = rng.permutation(len(names.FIRST_NAMES) * len(names.LAST_NAMES))[:n]
    n_last = len(names.LAST_NAMES)
    return [f"{names.FIRST_NAMES[p // n_last]} {names.LAST_NAMES[p % n_last]}" for p in pairs]


def build_team(n_accounts: int, seed: int) -> Team:
    """A VP, two managers, 8-15 CSMs by segment, two ops people, an admin and a viewer."""
    rng = rng_for(seed, "team")
    n_csm = int(np.clip(round(n_accounts / 170), 8, 15))
    csm_segments = [2] * max(2, n_csm // 5) + [1] * max(3, n_csm * 2 // 5)
    csm_segments += [0] * (n_csm - len(csm_segments))
    roles = ["manager"] * 3 + ["csm"] * n_csm + ["ops", "ops", "admin", "viewer"]
    people = _person_names(rng, len(roles))
    emails = [f"{p.lower().replace(' ', '.')}@{VENDOR_DOMAIN}" for p in people]
    vp, managers = emails[0], emails[1:3]
    manager_email: list[str | None] = [None, vp, vp]
    manager_email += [managers[i % 2] for i in range(n_csm)] + [vp, vp, None, None]
    capacity_accounts: list[int | None] = [None] * len(roles)
    capacity_arr = [float("nan")] * len(roles)
    csm_segment: dict[str, int] = {}
    for i, seg in enumerate(csm_segments):
        k = 3 + i
        csm_segment[emails[k]] = seg
        book = n_accounts * SEGMENT_SHARE[seg] / csm_segments.count(seg)
        capacity_accounts[k] = max(5, int(round(book * rng.uniform(0.8, 1.25))))
        capacity_arr[k] = float((1_000_000, 2_000_000, 4_000_000)[seg])
    return Team(emails, people, roles, manager_email, capacity_accounts, capacity_arr,
                csm_segment)


def _company_names(rng: np.random.Generator, country: np.ndarray) -> tuple[list[str], list[str]]:
    taken: set[str] = set()
    out_names, out_domains = [], []
    for c in country:
        while True:
            words = [names.COMPANY_PREFIXES[rng.integers(len(names.COMPANY_PREFIXES))]]
            if rng.random() < 0.35:
                words.append(names.COMPANY_PREFIXES[rng.integers(len(names.COMPANY_PREFIXES))])
            words.append(names.COMPANY_CORES[rng.integers(len(names.COMPANY_CORES))])
            base = " ".join(words)
            if base not in taken and len(set(words)) == len(words):
                break
        taken.add(base)
        suffixes = names.LEGAL_SUFFIX[c]
        out_names.append(f"{base} {suffixes[rng.integers(len(suffixes))]}")
        out_domains.append(f"{base.lower().replace(' ', '')}.{names.TLD[c]}")
    return out_names, out_domains


def _signup_days(rng: np.random.Generator, n: int, timeline: Timeline) -> np.ndarray:
    """A third are the installed base at the start; the rest sign up ever faster as it grows."""
    start, span = timeline.start_day, timeline.today_day - timeline.start_day
    base = start + rng.integers(0, 60, n)
    later = start + 30 + ((span - 45) * rng.random(n) ** 0.8).astype(np.int64)
    return np.where(rng.random(n) < 0.33, base, later).astype(np.int64)


def _link_children(rng: np.random.Generator, segment: np.ndarray) -> np.ndarray:
    """Some Enterprise accounts are groups whose subsidiaries are accounts of their own."""
    parent = np.full(segment.size, -1, dtype=np.int64)
    enterprise = np.flatnonzero(segment == 2)
    n_parents = max(1, int(round(0.12 * enterprise.size))) if enterprise.size >= 2 else 0
    parents = rng.choice(enterprise, n_parents, replace=False) if n_parents else []
    is_parent = set(int(p) for p in parents)
    pool = [i for i in rng.permutation(np.flatnonzero(segment >= 1)) if int(i) not in is_parent]
    for p in parents:
        for _ in range(int(rng.integers(1, 4))):
            if pool:
                parent[pool.pop()] = p
    return parent


def build_company(n_accounts: int, timeline: Timeline, team: Team, seed: int) -> Company:
    """`n_accounts` customer accounts with segment, country, size, owner and signup date."""
    rng = rng_for(seed, "company")
    n = n_accounts
    segment = rng.choice(3, n, p=SEGMENT_SHARE)
    country = rng.choice(np.array(COUNTRIES), n, p=COUNTRY_SHARE)
    currency = np.array([CURRENCY[c] for c in country], dtype=object)
    currency[(country == "CA") & (rng.random(n) < 0.3)] = "USD"  # some Canadians pay in USD
    industry = rng.choice(np.array(names.INDUSTRIES, dtype=object), n)
    account_names, domains = _company_names(rng, country)
    signup = _signup_days(rng, n, timeline)
    seat_median, seat_sigma = np.array(SEAT_MEDIAN)[segment], np.array(SEAT_SIGMA)[segment]
    seats = np.round(seat_median * np.exp(rng.normal(0, 1, n) * seat_sigma))
    low, high = np.array(SEAT_RANGE)[segment].T
    seats = np.clip(seats, low, high).astype(np.int64)

    parent = _link_children(rng, segment)
    for child in np.flatnonzero(parent >= 0):
        p = parent[child]
        base = account_names[p].rsplit(" ", 1)[0]
        unit = names.CHILD_UNIT[rng.integers(len(names.CHILD_UNIT))]
        account_names[child] = f"{base} {unit}"
        domains[child] = f"{unit.lower()}.{domains[p]}"
        signup[child] = max(signup[child], signup[p] + 30)
    signup = np.minimum(signup, timeline.today_day - 1)
    created = signup * DAY_US - rng.integers(3, 90, n) * DAY_US - rng.integers(0, DAY_US, n)
    created = np.where(parent >= 0, np.maximum(created, created[np.maximum(parent, 0)]), created)

    owner: list[str | None] = []
    by_segment = {s: [e for e, seg in team.csm_segment.items() if seg == s] for s in range(3)}
    weights = {s: rng.dirichlet(np.full(len(c), 2.0)) for s, c in by_segment.items()}
    no_owner = rng.random(n) < np.array([0.12, 0.03, 0.0])[segment]
    for i in range(n):
        s = int(segment[i])
        owner.append(None if no_owner[i] else str(rng.choice(by_segment[s], p=weights[s])))
    account_id = [f"acct-{i + 1:06d}" for i in range(n)]
    return Company(account_id, account_names, domains, parent, segment, industry, country,
                   currency, owner, signup, created, seats)


def account_columns(company: Company) -> dict[str, object]:
    """The accounts file's columns, before data-quality problems are applied."""
    parent_id = [company.account_id[p] if p >= 0 else None for p in company.parent]
    return {
        "account_id": list(company.account_id),
        "name": list(company.name),
        "domain": list(company.domain),
        "parent_account_id": parent_id,
        "segment": company.segment_names(),
        "industry": list(company.industry),
        "region": [REGION[c] for c in company.country],
        "country": list(company.country),
        "owner_email": list(company.owner),
        "created_at": [int(t) for t in company.created_us],
    }
