"""The commercial life of each account: trials, contracts, renewals, changes, churn, comebacks.

Models a subscription ledger the way billing systems keep it: every renewal is a new row starting
the day the previous one ends; seat changes on monthly plans replace the row; mid-term expansions
of contracts are an additional line that co-terminates; a churn ends the last row with the
cancellation known some days or weeks before. The renewal decision is drawn from the account's
latent health, and the truth of every decision (its probability and outcome) is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from quarterdeck.demo import pricing
from quarterdeck.demo.company import Company
from quarterdeck.demo.health import recent_health
from quarterdeck.demo.timeline import DAY_US, NULL_INT, Timeline, add_months, rng_for

TRIAL = 0.7  # activity level of a trial week; 1 is a paying week
WIND_DOWN = 0.5  # a customer who gave notice uses the product less
REACTIVATION_SHARE = 0.22
RENEWAL_WINDOW_DAYS = 120  # renewals this close get an open opportunity


@dataclass
class Ledger:
    """Everything the lifecycle produced, one list per column."""

    subs: dict[str, list] = field(default_factory=lambda: {k: [] for k in (
        "account", "plan", "quantity", "unit_price", "discount", "currency", "interval_months",
        "start", "end", "canceled", "contract", "auto_renew", "trial")})
    opps: dict[str, list] = field(default_factory=lambda: {k: [] for k in (
        "account", "kind", "amount_arr", "currency", "stage", "close", "outcome")})
    renewals: dict[str, list] = field(default_factory=lambda: {k: [] for k in (
        "account", "subscription", "renewal_day", "monthly", "churn_probability",
        "latent_health", "champion_left", "outcome")})
    activity: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    contracts: int = 0


class _Lifecycle:
    def __init__(self, company: Company, health: np.ndarray, champion_left_day: np.ndarray,
                 timeline: Timeline, seed: int) -> None:
        self.company, self.health, self.timeline = company, health, timeline
        self.champion_left_day = champion_left_day
        self.rng = rng_for(seed, "subscriptions")
        self.today = timeline.today_day
        self.ledger = Ledger(activity=np.zeros(health.shape, np.float32))

    # -- recording -------------------------------------------------------------------------
    def _row(self, a: int, plan: int, qty: float, price: float, discount: float, months: int,
             start: int, end: int, contract: str | None, auto_renew: bool | None,
             trial: bool = False) -> int:
        s = self.ledger.subs
        for key, value in (("account", a), ("plan", pricing.PLANS[plan]), ("quantity", qty),
                           ("unit_price", price), ("discount", discount),
                           ("currency", self.company.currency[a]), ("interval_months", months),
                           ("start", start), ("end", end), ("canceled", NULL_INT),
                           ("contract", contract), ("auto_renew", auto_renew), ("trial", trial)):
            s[key].append(value)
        self._mark(a, start, end if end != NULL_INT else self.today + 1, TRIAL if trial else 1.0)
        return len(s["account"]) - 1

    def _mark(self, a: int, start: int, end: int, level: float) -> None:
        w0, w1 = self.timeline.week_of(start), self.timeline.week_of(end - 1) + 1
        act = self.ledger.activity[a, max(w0, 0):max(w1, 0)]
        np.maximum(act, level, out=act) if level >= 1 else act.fill(level)

    def _cancel(self, a: int, rows: list[int], day: int, end: int, wind_down: bool = True) -> None:
        """Record when the end of `rows` became known; a leaving customer winds down its use."""
        for r in rows:
            start = self.ledger.subs["start"][r]
            self.ledger.subs["canceled"][r] = max(day, start) * DAY_US + int(
                self.rng.integers(8, 18) * 3_600_000_000)
        if wind_down:
                self._mark(a, max(day, self.ledger.subs["start"][rows[0]]), end, WIND_DOWN)

    def _opp(self, a: int, kind: str, arr: float, close: int, outcome: str, stage: str) -> None:
        o = self.ledger.opps
        for key, value in (("account", a), ("kind", kind), ("amount_arr", round(arr, 2)),
                           ("currency", self.company.currency[a]), ("stage", stage),
                           ("close", close), ("outcome", outcome)):
            o[key].append(value)

    def _decide(self, a: int, row: int, renewal: int, decision: int, months: int) -> bool:
        """Draw and record whether the account leaves at `renewal`, decided on `decision`."""
        h = recent_health(self.health, a, int(self.timeline.week_of(decision)))
        left = self.champion_left_day[a]
        champion = bool(left != NULL_INT and decision - 180 <= left <= decision)
        p = pricing.churn_probability(h, int(self.company.segment[a]), months == 1, champion,
                                      months >= 24)
        churn = bool(self.rng.random() < p)
        if decision >= self.today:  # decided today is not yet known: facts end before today
            outcome = "pending"
        elif churn:
            outcome = "churned"
        else:
            outcome = "renewed" if renewal <= self.today else "pending"
        r = self.ledger.renewals
        for key, value in (("account", a), ("subscription", row), ("renewal_day", renewal),
                           ("monthly", months == 1), ("churn_probability", p),
                           ("latent_health", h), ("champion_left", champion),
                           ("outcome", outcome)):
            r[key].append(value)
        return churn and decision < self.today

    def _contract_id(self) -> str:
        self.ledger.contracts += 1
        return f"ctr-{self.ledger.contracts:07d}"

    # -- the life of one account ------------------------------------------------------------
    def live(self, a: int) -> None:
        """Trial (maybe), then spells of paying, each ending in churn or running on to today;
        some churned accounts come back months later."""
        rng, seg = self.rng, int(self.company.segment[a])
        start, qty = int(self.company.signup_day[a]), float(self.company.seats[a])
        plan = pricing.draw_plan(rng, seg)
        if rng.random() < pricing.TRIAL_SHARE[seg]:
            end = start + int(rng.choice([14, 30]))
            price = pricing.list_price(plan, self.company.currency[a], 1)
            self._row(a, plan, qty, price, 0.0, 1, start, end, None, False, trial=True)
            if end > self.today or rng.random() > pricing.TRIAL_CONVERSION:
                return
            start = end
        first = True
        while True:
            months = pricing.draw_term(rng, seg)
            if first and seg > 0:
                arr = 12 * qty * pricing.list_price(plan, self.company.currency[a], 1)
                self._opp(a, "new", arr, start - int(rng.integers(0, 15)), "won", "Closed Won")
            first = False
            spell = self._monthly if months == 1 else self._contract
            churn_day = spell(a, start, plan, qty, months)
            if churn_day is None or rng.random() > REACTIVATION_SHARE:
                return
            start = churn_day + int(rng.integers(60, 300))
            if start > self.today:
                return
            # A comeback is a fresh start (new sponsor, new use case): health recovers.
            self.health[a, self.timeline.week_of(start):] += 0.8
            qty = max(1.0, float(np.round(qty * rng.uniform(0.5, 1.0))))

    def _monthly(self, a: int, start: int, plan: int, qty: float, _: int) -> int | None:
        """A month-to-month plan, open-ended until cancelled; returns the churn day, if any."""
        rng, cur = self.rng, self.company.currency[a]
        contract = self._contract_id()
        discount = pricing.draw_discount(rng, 0, 1)
        row = self._row(a, plan, qty, pricing.list_price(plan, cur, 1), discount, 1, start,
                        NULL_INT, contract, True)
        for k in range(1, 1000):
            boundary = add_months(start, k)
            decision = boundary - int(rng.integers(2, 21))
            if decision >= self.today:
                return None
            if self._decide(a, row, boundary, decision, 1):
                self.ledger.subs["end"][row] = boundary
                self._cancel(a, [row], decision, boundary)
                return boundary
            if boundary > self.today:
                return None
            if rng.random() < 0.05:  # seat change or upgrade: the row is replaced
                h = self.health[a, self.timeline.week_of(boundary)]
                new_qty = max(1.0, float(np.round(qty * np.exp(rng.normal(0.15 * h, 0.3)))))
                if plan < 2 and h > 0.5 and rng.random() < 0.2:
                    plan += 1
                elif new_qty == qty:
                    continue
                self.ledger.subs["end"][row] = boundary
                self._cancel(a, [row], boundary - int(rng.integers(1, 10)), boundary, False)
                qty = new_qty
                row = self._row(a, plan, qty, pricing.list_price(plan, cur, 1), discount, 1,
                                boundary, NULL_INT, contract, True)
        return None

    def _contract(self, a: int, start: int, plan: int, qty: float, months: int) -> int | None:
        """Prepaid terms renewed as new rows (re-priced, seats adjusted); returns the churn day."""
        rng, seg, cur = self.rng, int(self.company.segment[a]), self.company.currency[a]
        uplift = 1.0
        while True:
            contract = self._contract_id()
            price = round(pricing.list_price(plan, cur, months) * uplift, 2)
            discount = pricing.draw_discount(rng, seg, months)
            auto_renew = pricing.draw_auto_renew(rng, seg)
            end = add_months(start, months)
            rows = [self._row(a, plan, qty, price, discount, months, start, end, contract,
                              auto_renew)]
            total = qty
            h = self.health[a, self.timeline.week_of(start)]
            if rng.random() < 0.35 * months / 12 / (1 + np.exp(-1.5 * h)):
                added_on = start + int(rng.integers(45, max(46, end - start - 90)))
                if added_on <= self.today:
                    extra = float(max(1, round(qty * rng.uniform(0.1, 0.4))))
                    rows.append(self._row(a, plan, extra, price, discount, months, added_on,
                                          end, contract, auto_renew))
                    total += extra
                    arr = 12 * pricing.monthly_value(extra, price, discount, months)
                    self._opp(a, "expansion", arr, added_on - int(rng.integers(0, 20)), "won",
                              "Closed Won")
            arr = 12 * pricing.monthly_value(total, price, discount, months)
            decision = end - int(rng.integers(15, 75))
            churn = self._decide(a, rows[0], end, decision, months)
            if churn:
                self._cancel(a, rows, decision, end)
                self._opp(a, "renewal", arr, decision, "lost", "Closed Lost")
                return end
            if end > self.today:
                if end - self.today <= RENEWAL_WINDOW_DAYS:
                    stage = ("Commit" if decision < self.today else
                             str(rng.choice(["Discovery", "Proposal", "Negotiation"])))
                    self._opp(a, "renewal", arr, end, "open", stage)
                return None
            self._opp(a, "renewal", arr, end - int(rng.integers(0, 20)), "won", "Closed Won")
            h = self.health[a, self.timeline.week_of(decision)]
            # Bigger customers grow into more seats at renewal; unhealthy ones cut seats.
            drift = (0.0, 0.02, 0.06)[seg] + 0.15 * h
            qty = max(1.0, float(np.round(total * np.exp(rng.normal(drift, 0.15)))))
            if plan < 2 and h > 0.3 and rng.random() < 0.15:
                plan += 1
            uplift *= 1 + round(float(rng.choice([0.0, 0.03, 0.05])), 2)
            if months == 12 and seg == 2 and rng.random() < 0.15:
                months = 36
            start = end


def simulate_subscriptions(company: Company, health: np.ndarray, champion_left_day: np.ndarray,
                           timeline: Timeline, seed: int) -> Ledger:
    """Run every account's commercial life; `health` gains the lift of reactivations in place."""
    lifecycle = _Lifecycle(company, health, champion_left_day, timeline, seed)
    for a in range(company.n):
        lifecycle.live(a)
    return lifecycle.ledger
