"""People at customer accounts: CRM contacts (with personas) and tracked product users.

Models buying committees (a champion, a decision maker, an admin, some users) whose champions
leave over time (about one in eight a year), sometimes replaced months later, and product users
who are invited over the first weeks of an account's life.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quarterdeck.demo import names
from quarterdeck.demo.company import Company
from quarterdeck.demo.timeline import DAY_US, NULL_INT, Timeline, rng_for

CONTACTS_PER_SEGMENT = ((2, 5), (3, 8), (5, 13))
CHAMPION_LEAVE_PER_YEAR = 0.13
USER_RAMP_DAYS = 112  # users are invited over the first 16 weeks
MAX_USERS = 250


@dataclass
class Contacts:
    columns: dict[str, list]
    account: np.ndarray  # account index per contact
    created_us: np.ndarray
    left_us: np.ndarray  # NULL_INT while still there
    champion_left_day: np.ndarray  # per account: day the first champion left, NULL_INT if not


@dataclass
class Users:
    columns: dict[str, object]  # every user, including those not invited yet
    first: np.ndarray  # per account: index of its first user
    count: np.ndarray  # per account: number of users

    def invited_by(self, today_day: int) -> dict[str, object]:
        """The users file as of `today_day`: users invited later do not exist yet."""
        keep = np.flatnonzero(self.columns["created_at"] < today_day * DAY_US)
        return {k: [v[i] for i in keep] if isinstance(v, list) else v[keep]
                for k, v in self.columns.items()}


def _name(rng: np.random.Generator) -> tuple[str, str]:
    return (names.FIRST_NAMES[rng.integers(len(names.FIRST_NAMES))],
            names.LAST_NAMES[rng.integers(len(names.LAST_NAMES))])


def build_contacts(company: Company, timeline: Timeline, seed: int) -> Contacts:
    """Each account's contacts; the champion may leave and a new one may arrive later."""
    rng = rng_for(seed, "contacts")
    today = timeline.today_day
    rows: dict[str, list] = {k: [] for k in
                             ("account", "name", "title", "persona", "created", "left", "domain")}
    champion_left = np.full(company.n, NULL_INT, dtype=np.int64)

    def add(a: int, persona: str, created: int, left: int) -> None:
        first, last = _name(rng)
        titles = names.TITLES[persona]
        rows["account"].append(a)
        rows["name"].append(f"{first} {last}")
        rows["title"].append(titles[rng.integers(len(titles))])
        rows["persona"].append(persona)
        rows["created"].append(created)
        rows["left"].append(left)
        rows["domain"].append(company.domain[a])

    for a in range(company.n):
        low, high = CONTACTS_PER_SEGMENT[company.segment[a]]
        signup = int(company.signup_day[a])
        created = signup * DAY_US - int(rng.integers(0, 20)) * DAY_US
        leave_day = signup + int(rng.exponential(365 / CHAMPION_LEAVE_PER_YEAR))
        left = leave_day * DAY_US + int(rng.integers(0, DAY_US)) if leave_day < today else NULL_INT
        add(a, "champion", created, left)
        if left != NULL_INT:
            champion_left[a] = leave_day
            successor = leave_day + int(rng.integers(20, 150))
            if successor < today and rng.random() < 0.65:
                add(a, "champion", successor * DAY_US, NULL_INT)
        add(a, "decision_maker", created, NULL_INT)
        for k in range(int(rng.integers(low, high)) - 2):
            joined = signup + int(rng.integers(0, 200))
            if joined < today:
                add(a, "admin" if k == 0 else "user", joined * DAY_US, NULL_INT)

    account = np.array(rows["account"], dtype=np.int64)
    emails = [f"{n.lower().replace(' ', '.')}@{d}" for n, d in zip(rows["name"], rows["domain"],
                                                                   strict=True)]
    columns = {
        "contact_id": [f"c-{i + 1:07d}" for i in range(account.size)],
        "account_id": [company.account_id[a] for a in account],
        "email": emails,
        "name": rows["name"],
        "title": rows["title"],
        "persona": rows["persona"],
        "created_at": np.array(rows["created"], dtype=np.int64),
        "left_at": np.array(rows["left"], dtype=np.int64),
    }
    return Contacts(columns, account, columns["created_at"], columns["left_at"], champion_left)


def build_users(company: Company, seed: int) -> Users:
    """Product users per account (most seats get used), invited over the first 16 weeks."""
    rng = rng_for(seed, "users")
    uptake = rng.uniform(0.45, 1.0, company.n)
    count = np.clip(np.round(company.seats * uptake), 1, MAX_USERS).astype(np.int64)
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    total = int(count.sum())
    account = np.repeat(np.arange(company.n), count)
    ordinal = np.arange(total) - first[account]
    created_day = company.signup_day[account] + ordinal * USER_RAMP_DAYS // count[account]
    fn = rng.integers(len(names.FIRST_NAMES), size=total)
    ln = rng.integers(len(names.LAST_NAMES), size=total)
    full = [f"{names.FIRST_NAMES[f]} {names.LAST_NAMES[s]}" for f, s in zip(fn, ln, strict=True)]
    seen: dict[str, int] = {}
    emails = []
    for person, a in zip(full, account, strict=True):
        email = f"{person.lower().replace(' ', '.')}@{company.domain[a]}"
        k = seen.get(email, 0)
        seen[email] = k + 1
        emails.append(email if k == 0 else email.replace("@", f"{k + 1}@"))
    columns = {
        "user_id": [f"u-{i + 1:08d}" for i in range(total)],
        "account_id": [company.account_id[a] for a in account],
        "email": emails,
        "name": full,
        "created_at": created_day * DAY_US,
    }
    return Users(columns, first, count)
