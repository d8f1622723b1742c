"""Probabilistic matching of accounts with Splink (Fellegi–Sunter) on an in-memory DuckDB.

Each candidate pair is compared on five fields of `account_keys`, each at a few levels:

| field | levels, best first |
|---|---|
| name | exact · within 1 edit (spaces ignored) · Jaro-Winkler ≥ 0.95 · ≥ 0.88 · else |
| domain | exact · same registrable label (`acme.com` vs `acme.co.uk`) · else |
| country, region, industry | equal · else |

A missing value on either side is neutral. The match weight of a level is log2(m / u): m is
how often true matches land there, u how often two different companies do. Workspaces are
too small to learn m by expectation maximisation, so m comes from the priors below (what
duplicated company records look like across CRM, billing and help-desk exports). u is
estimated by random sampling of pairs (at least `MIN_U_PAIRS`, `U_PAIRS_PER_ACCOUNT` per
account; seeded, so runs repeat) when there are at least `MIN_ROWS_FOR_U` accounts (the
priors are used below that), corrected for the true matches the sample contains
(Splink assumes none; among few thousand accounts they make most of a rare level) and never
below half an observation. The prior probability that two random accounts match comes from
the pairs sharing an exact name or domain, assuming those find `EXACT_RECALL` of all matches.

Candidate pairs come from blocking rules (equal name, domain, domain label, compact name,
name = the other's domain label; for names within two letters of each other's length, the
same first and last 4 letters, or the same letters 5 to 12), so
the work grows with the accounts, not with their square (see docs/benchmarks-identity.md).

Example: score_pairs(account_keys(accounts), min_probability=0.5) → scored pairs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pyarrow as pa

MIN_ROWS_FOR_U = 1000
MIN_U_PAIRS = 2_000_000
U_PAIRS_PER_ACCOUNT = 100
EXACT_RECALL = 0.7
SEED = 20240601


@dataclass(frozen=True)
class Level:
    label: str          # how the evidence reads, e.g. "name exact"
    sql: str | None     # Splink condition; None for the final "else" level
    m: float
    u: float            # prior, used when there are too few accounts to sample


@dataclass(frozen=True)
class Comparison:
    name: str           # the field compared
    levels: tuple[Level, ...]  # best first; the last is "else"


def _else(field: str, m: float, u: float) -> Level:
    return Level(f"{field} differs", None, m, u)


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("name", (
        Level("name exact", '"name_l" = "name_r"', 0.75, 1e-4),
        Level("name within 1 edit",
              'levenshtein("name_compact_l", "name_compact_r") <= 1', 0.08, 1e-4),
        Level("name nearly equal", 'jaro_winkler_similarity("name_l", "name_r") >= 0.95',
              0.05, 5e-4),
        Level("name similar", 'jaro_winkler_similarity("name_l", "name_r") >= 0.88', 0.06,
              5e-3),
        _else("name", 0.06, 0.9944),
    )),
    Comparison("domain", (
        Level("domain exact", '"domain_l" = "domain_r"', 0.85, 1e-4),
        Level("same domain label", '"domain_label_l" = "domain_label_r"', 0.07, 3e-4),
        _else("domain", 0.08, 0.9996),
    )),
    Comparison("country", (
        Level("country agrees", '"country_l" = "country_r"', 0.95, 0.25),
        _else("country", 0.05, 0.75),
    )),
    Comparison("region", (
        Level("region agrees", '"region_l" = "region_r"', 0.93, 0.35),
        _else("region", 0.07, 0.65),
    )),
    Comparison("industry", (
        Level("industry agrees", '"industry_l" = "industry_r"', 0.75, 0.12),
        _else("industry", 0.25, 0.88),
    )),
)
BLOCKING_RULES = (
    "l.name = r.name",
    "l.domain = r.domain",
    "l.domain_label = r.domain_label",
    "l.name_compact = r.name_compact",
    "l.name_compact = r.domain_label",
    "l.domain_label = r.name_compact",
    # One edit leaves either the first and last 4 letters or letters 5-12 as they were.
    "substr(l.name_compact, 1, 4) || right(l.name_compact, 4) = "
    "substr(r.name_compact, 1, 4) || right(r.name_compact, 4) "
    "and abs(length(l.name_compact) - length(r.name_compact)) <= 2",
    "substr(l.name_compact, 5, 8) = substr(r.name_compact, 5, 8) "
    "and length(l.name_compact) >= 12 "
    "and abs(length(l.name_compact) - length(r.name_compact)) <= 2",
)


@dataclass(frozen=True)
class ScoredPair:
    left: str
    right: str
    probability: float
    levels: dict[str, int]  # comparison → index of its level (-1: a value is missing)


@contextmanager
def _quiet_splink() -> Iterator[None]:
    """Splink's advice to analysts (sample sizes, untrained m) is not for CS Ops users."""
    log = logging.getLogger("splink")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def match_prior(keys: pa.Table) -> float:
    """Probability that two random accounts are one company: the pairs sharing an exact name
    or domain, over the share EXACT_RECALL of all matches they are taken to be."""
    n = keys.num_rows
    total = n * (n - 1) / 2
    exact = 0
    for column in ("name", "domain"):
        counts = keys[column].drop_null().value_counts()
        exact += sum(c * (c - 1) // 2 for c in counts.field("counts").to_pylist())
    return min(0.5, max(exact, 1) / (EXACT_RECALL * total))


def _settings(prior: float, u: dict[str, list[float]] | None):
    import splink.comparison_level_library as cll
    from splink import SettingsCreator
    from splink.blocking_rule_library import CustomRule
    from splink.comparison_library import CustomComparison

    comparisons = []
    for comp in COMPARISONS:
        levels = [cll.NullLevel(comp.name)]
        levels += [cll.CustomLevel(lv.sql, label_for_charts=lv.label) if lv.sql
                   else cll.ElseLevel() for lv in comp.levels]
        comparison = CustomComparison(levels, output_column_name=comp.name)
        comparison.configure(m_probabilities=[lv.m for lv in comp.levels],
                             u_probabilities=(u or {}).get(comp.name)
                             or [lv.u for lv in comp.levels])
        comparisons.append(comparison)
    return SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="account_id", comparisons=comparisons,
        blocking_rules_to_generate_predictions=[CustomRule(r) for r in BLOCKING_RULES],
        probability_two_random_records_match=prior,
        retain_matching_columns=True, retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=[])


def _sampled_u(db_api, table, prior: float, n: int, seed: int) -> dict[str, list[float]]:
    """u of every level from random pairs, less the true matches expected among them."""
    from splink import Linker

    pairs = min(max(MIN_U_PAIRS, U_PAIRS_PER_ACCOUNT * n), n * (n - 1) / 2)
    linker = Linker(table, _settings(prior, None), log_level=None)
    linker.training.estimate_u_using_random_sampling(max_pairs=pairs, seed=seed)
    model = linker.misc.save_model_to_json()
    floor = 0.5 / pairs
    sampled = {}
    for comp, trained in zip(COMPARISONS, model["comparisons"], strict=True):
        levels = [lv for lv in trained["comparison_levels"] if not lv.get("is_null_level")]
        us = []
        for level, spec in zip(levels, comp.levels, strict=True):
            u = level.get("u_probability")
            u = spec.u if u is None else (u - prior * spec.m) / (1 - prior)
            us.append(max(u, floor))
        sampled[comp.name] = us
    return sampled


def score_pairs(keys: pa.Table, *, min_probability: float, seed: int = SEED
                ) -> list[ScoredPair]:
    """Candidate pairs of `keys` (from `account_keys`) scoring at least `min_probability`,
    ordered by account ids."""
    n = keys.num_rows
    if n < 2:
        return []
    from splink import DuckDBAPI, Linker

    prior = match_prior(keys)
    con = duckdb.connect()
    try:
        with _quiet_splink():
            db_api = DuckDBAPI(con)
            table = db_api.register(keys, table_name="account_keys")
            u = _sampled_u(db_api, table, prior, n, seed) if n >= MIN_ROWS_FOR_U else None
            linker = Linker(table, _settings(prior, u), log_level=None)
            predictions = linker.inference.predict(
                threshold_match_probability=min_probability, warning_mode="never")
            gammas = ", ".join(f"gamma_{c.name}" for c in COMPARISONS)
            rows = con.sql(
                f"SELECT account_id_l, account_id_r, match_probability, {gammas} "
                f"FROM {predictions.physical_name} ORDER BY account_id_l, account_id_r"
            ).fetchall()
    finally:
        con.close()
    out = []
    for left, right, probability, *gamma in rows:
        # Splink numbers a comparison's levels from the last (0) up; -1 is the null level.
        levels = {c.name: (-1 if g < 0 else len(c.levels) - 1 - g)
                  for c, g in zip(COMPARISONS, gamma, strict=True)}
        a, b = (left, right) if left < right else (right, left)
        out.append(ScoredPair(a, b, float(probability), levels))
    return sorted(out, key=lambda p: (p.left, p.right))


def describe_levels(levels: dict[str, int], left: dict[str, object],
                    right: dict[str, object]) -> str:
    """The evidence of a scored pair in words, e.g. "name exact (acme); domain missing;
    country agrees (US); region differs (emea / na)"."""
    parts = []
    for comp in COMPARISONS:
        index = levels.get(comp.name, -1)
        a, b = left.get(comp.name), right.get(comp.name)
        if index < 0:
            parts.append(f"{comp.name} missing")
        elif index == len(comp.levels) - 1 or a != b:
            parts.append(f"{comp.levels[index].label} ({a} / {b})")
        else:
            parts.append(f"{comp.levels[index].label} ({a})")
    return "; ".join(parts)
