"""Probabilistic matching of accounts with Splink (Fellegi–Sunter) on an in-memory DuckDB.

Each candidate pair is compared on every field of `account_keys`, each at a few levels:

- name: exact (weighed by how distinctive the name is) · within 1 edit, or 2 edits (8
  letters or more), with a rare word in common ("Flion Robotics" / "Flion Robotcis": few
  names say Flion) · within 1 edit · within 2 edits · Jaro-Winkler ≥ 0.94 · else;
- domain: exact · same registrable label (`acme.com` vs `acme.io`) · either, but the names
  unrelated · else;
- contacts: an email domain of one's contacts is the other's site or contacts' domain ·
  the same, but the names unrelated · else;
- country, region, industry, segment, owner: equal · else;
- created: within 7 days · else.

Names are "related" when one is missing or they are within 2 edits:
sister companies on one domain ("Globex Retail", "Globex Logistics") share the domain (and
contacts' domains) but not the name, and the shared domain then weighs nothing — its u is
the prior, never sampled (a rare level, so sampling would make it decisive).

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

An exact name is weighed by Splink's term-frequency adjustment, with a frequency table of
its own: the chance that another company's name has as many words and holds all of its
words (the share of distinct names with that many words times each word's share of them; a
word no other name uses counts as one in `LONE_WORD_NAMES`, whatever the workspace's size).
A name is never taken as more common than an exact name is on average (the level's u), so
the adjustment raises the weight of distinctive names: "Zephyrine Quarry Works" on two
accounts says much more than "Acme" where twenty names start with Acme. (Splink's own
frequency of the whole name counts the records of one company in each system as if they were
different companies, so in a small workspace every name would look common.)

Candidate pairs come from blocking rules (equal name, domain, domain label, compact name,
name = the other's domain label, a shared contact or site email domain, a shared
one-letter-deleted form of the compact name — which brings together every pair within one
edit — or of one of the name's rarer words (two typos in different words), the same
letters in another order (swapped letters); for names
within two letters of each other's length, the same first and last 4
letters, or the same letters 5 to 12, for two edits), so the work grows with the accounts,
not with their square (see docs/benchmarks-identity.md).

Example: score_pairs(account_keys(accounts), min_probability=0.5) → (scored pairs, model).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import pyarrow as pa

MIN_ROWS_FOR_U = 1000
MIN_U_PAIRS = 2_000_000
U_PAIRS_PER_ACCOUNT = 30
EXACT_RECALL = 0.7
SEED = 20240601


@dataclass(frozen=True)
class Level:
    label: str          # how the evidence reads, e.g. "name exact"
    sql: str | None     # Splink condition; None for the final "else" level
    m: float
    u: float            # prior, used when there are too few accounts to sample
    tf: bool = False    # weighed by the distinctiveness of the value (names only)
    sampled: bool = True  # whether u is estimated from the accounts (else the prior)


@dataclass(frozen=True)
class Comparison:
    name: str           # the comparison, and the key column shown in evidence
    levels: tuple[Level, ...]  # best first; the last is "else"
    null_sql: str | None = None  # when there is nothing to compare (default: a value missing)


def _else(field: str, m: float, u: float) -> Level:
    return Level(f"{field} differs", None, m, u)


def _agrees(field: str, m: float, u: float) -> Comparison:
    return Comparison(field, (Level(f"{field} agrees", f'"{field}_l" = "{field}_r"', m, u),
                              _else(field, 1 - m, 1 - u)))




def _within(edits: int) -> str:
    """SQL: the compact names are within `edits` edits (a swap of two letters is one edit).
    Damerau-Levenshtein is slow, so it runs only on pairs close in length and in Jaro-Winkler
    (which any pair of 4 letters or more within 2 edits is)."""
    a, b = '"name_compact_l"', '"name_compact_r"'
    return (f"(case when abs(length({a}) - length({b})) <= {edits} and "
            f"jaro_winkler_similarity({a}, {b}) >= 0.8 then "
            f"damerau_levenshtein({a}, {b}) <= {edits} else false end)")


_RARE_SHARED = 'list_has_any("rare_words_l", "rare_words_r")'
_LONG = 'least(length("name_compact_l"), length("name_compact_r")) >= 8'
RELATED_NAMES = f'("name_l" is null or "name_r" is null or {_within(2)})'
_CONTACTS_SHARED = (
    '(list_has_any("contact_domains_l", "contact_domains_r") '
    'or list_contains("contact_domains_l", "site_r") '
    'or list_contains("contact_domains_r", "site_l"))')
_CONTACTS_NULL = (
    'not (("contact_domains_l" is not null and ("contact_domains_r" is not null '
    'or "site_r" is not null)) or ("contact_domains_r" is not null and "site_l" is not null))')

COMPARISONS: tuple[Comparison, ...] = (
    Comparison("name", (
        Level("name exact", '"name_l" = "name_r"', 0.72, 1e-5, tf=True),
        Level("name within 1 edit, a rare word shared", f"{_within(1)} and {_RARE_SHARED}",
              0.08, 2e-6),
        Level("name within 2 edits, a rare word shared",
              f"{_within(2)} and {_LONG} and {_RARE_SHARED}", 0.05, 5e-6),
        Level("name within 1 edit", _within(1), 0.06, 1e-5),
        Level("name within 2 edits", f"{_within(2)} and {_LONG}", 0.04, 2e-5),
        Level("name similar", 'jaro_winkler_similarity("name_l", "name_r") >= 0.94', 0.02,
              3e-3, sampled=False),
        _else("name", 0.03, 0.99693),
    )),
    Comparison("domain", (
        Level("domain exact", f'"domain_l" = "domain_r" and {RELATED_NAMES}', 0.80, 5e-5),
        Level("same domain label", f'"domain_label_l" = "domain_label_r" and {RELATED_NAMES}',
              0.17, 5e-5),
        Level("same domain but unrelated names", '"domain_label_l" = "domain_label_r"', 2e-4,
              2e-4, sampled=False),
        _else("domain", 0.0298, 0.9997),
    )),
    Comparison("contact_domains", (
        Level("contacts share a domain", f"{_CONTACTS_SHARED} and {RELATED_NAMES}", 0.6, 1e-4),
        Level("contacts share a domain but unrelated names", _CONTACTS_SHARED, 2e-4, 2e-4,
              sampled=False),
        _else("contact_domains", 0.3998, 0.9997),
    ), null_sql=_CONTACTS_NULL),
    _agrees("country", 0.95, 0.25),
    _agrees("region", 0.93, 0.35),
    _agrees("industry", 0.75, 0.12),
    _agrees("segment", 0.8, 0.35),
    _agrees("owner", 0.6, 0.05),
    Comparison("created", (
        Level("created within 7 days",
              'abs(date_diff(\'day\', "created_l", "created_r")) <= 7', 0.15, 0.01),
        _else("created", 0.85, 0.99),
    )),
)
MIN_NAME_TF = 1e-9
# A word no other distinct name uses is taken to be as rare as one name in this many, however
# few names the workspace has (in 300 names, "Quillfeather" seen once is not a 1-in-300 word).
LONE_WORD_NAMES = 10_000
BLOCKING_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (  # (rule, arrays to explode)
    ("l.name = r.name", ()),
    ("l.domain = r.domain", ()),
    ("l.domain_label = r.domain_label", ()),
    ("l.name_compact = r.name_compact", ()),
    ("l.name_compact = r.domain_label", ()),
    ("l.domain_label = r.name_compact", ()),
    ("l.email_domains = r.email_domains", ("email_domains",)),
    ("l.name_deletions = r.name_deletions", ("name_deletions",)),
    ("l.word_variants = r.word_variants", ("word_variants",)),
    # Swapped letters, however many, leave the same letters.
    ("l.name_letters = r.name_letters and length(l.name_compact) >= 6", ()),
    # Two edits leave either the first and last 4 letters or letters 5-12 as they were.
    ("substr(l.name_compact, 1, 4) || right(l.name_compact, 4) = "
     "substr(r.name_compact, 1, 4) || right(r.name_compact, 4) "
     "and abs(length(l.name_compact) - length(r.name_compact)) <= 2", ()),
    ("substr(l.name_compact, 5, 8) = substr(r.name_compact, 5, 8) "
     "and length(l.name_compact) >= 12 "
     "and abs(length(l.name_compact) - length(r.name_compact)) <= 2", ()),
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


def _settings(prior: float, u: dict[str, list[float]] | None, rule_filter=None):
    import splink.comparison_level_library as cll
    from splink import SettingsCreator
    from splink.blocking_rule_library import CustomRule
    from splink.comparison_library import CustomComparison

    comparisons = []
    for comp in COMPARISONS:
        null = (cll.CustomLevel(comp.null_sql).configure(is_null_level=True) if comp.null_sql
                else cll.NullLevel(comp.name))
        levels = [null]
        for lv in comp.levels:
            level = (cll.CustomLevel(lv.sql, label_for_charts=lv.label) if lv.sql
                     else cll.ElseLevel())
            if lv.tf:
                level.configure(tf_adjustment_column=comp.name, tf_adjustment_weight=1.0,
                                tf_minimum_u_value=MIN_NAME_TF)
            levels.append(level)
        comparison = CustomComparison(levels, output_column_name=comp.name)
        comparison.configure(m_probabilities=[lv.m for lv in comp.levels],
                             u_probabilities=(u or {}).get(comp.name)
                             or [lv.u for lv in comp.levels])
        comparisons.append(comparison)
    rules = [CustomRule(rule_filter(rule) if rule_filter else rule,
                        arrays_to_explode=list(arrays) or None)
             for rule, arrays in BLOCKING_RULES]
    return SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="account_id", comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        probability_two_random_records_match=prior,
        retain_matching_columns=True, retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=[])


def name_frequencies(keys: pa.Table, ceiling: float = 1.0) -> pa.Table:
    """`name`, `tf_name`: how likely another company is to bear each name (see above), at
    most `ceiling` (the u of an exact name on average)."""
    names = sorted({n for n in keys["name"].to_pylist() if n})
    distinct = len(names) or 1
    words = Counter(w for name in names for w in set(name.split()))
    lengths = Counter(len(name.split()) for name in names)
    tf = []
    for name in names:
        split = name.split()
        chance = lengths[len(split)] / distinct
        for w in set(split):
            chance *= words[w] / distinct if words[w] > 1 else 1 / max(distinct, LONE_WORD_NAMES)
        tf.append(min(max(chance, MIN_NAME_TF), ceiling))
    return pa.table({"name": names, "tf_name": tf})


def _sampled_u(table, prior: float, n: int, seed: int) -> dict[str, list[float]]:
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
            u = spec.u if u is None or not spec.sampled else (u - prior * spec.m) / (1 - prior)
            us.append(min(max(u, floor), 1.0))
        sampled[comp.name] = us
    return sampled


def _exact_name_u(u: dict[str, list[float]] | None) -> float:
    return (u or {}).get("name", [COMPARISONS[0].levels[0].u])[0]


@dataclass(frozen=True)
class ScoringModel:
    """What scoring learnt from the accounts of one resolution: the prior, the u of every
    level (None below `MIN_ROWS_FOR_U` accounts: the shipped priors) and each name's
    frequency. An incremental resolution scores the accounts that changed with the model of
    the last full one, so its pairs are the pairs a full scoring with this model finds."""

    prior: float
    u: dict[str, list[float]] | None
    frequencies: dict[str, float]  # name → tf_name when the model was fitted

    def name_frequencies(self, keys: pa.Table) -> pa.Table:
        """The frequency of every name of `keys`: as fitted, and for a name the model has
        not seen, as `name_frequencies` finds it among `keys`'s names."""
        known = self.frequencies
        names = sorted({n for n in keys["name"].to_pylist() if n})
        if all(n in known for n in names):  # the keys it was fitted on: nothing to compute
            return pa.table({"name": names, "tf_name": [known[n] for n in names]})
        computed = name_frequencies(keys, _exact_name_u(self.u))
        names = computed["name"].to_pylist()
        return pa.table({"name": names, "tf_name": [
            known.get(n, f) for n, f in zip(names, computed["tf_name"].to_pylist(),
                                            strict=True)]})


def fit_model(table, keys: pa.Table, seed: int) -> ScoringModel:
    """The prior, u (sampled from `table`, Splink's registered `keys`) and frequencies."""
    n = keys.num_rows
    prior = match_prior(keys)
    u = _sampled_u(table, prior, n, seed) if n >= MIN_ROWS_FOR_U else None
    frequencies = name_frequencies(keys, _exact_name_u(u))
    return ScoringModel(prior, u, dict(zip(frequencies["name"].to_pylist(),
                                           frequencies["tf_name"].to_pylist(), strict=True)))


def _changed_only(rule: str) -> str:
    return f"({rule}) and (l.changed or r.changed)"


def score_pairs(keys: pa.Table, *, min_probability: float, model: ScoringModel | None = None,
                changed: Collection[str] | None = None, seed: int = SEED
                ) -> tuple[list[ScoredPair], ScoringModel]:
    """Candidate pairs of `keys` (from `account_keys`) scoring at least `min_probability`,
    ordered by account ids, and the model that scored them (fitted on `keys` unless given).

    With `changed`, only the pairs with at least one of those accounts are compared: every
    blocking rule also requires one side to be changed, so each changed account meets its
    blocks and nothing else."""
    n = keys.num_rows
    if n < 2 or (changed is not None and not changed):
        return [], model or ScoringModel(match_prior(keys) if n >= 2 else 0.0, None, {})
    from splink import DuckDBAPI, Linker

    if changed is not None:
        flags = pa.array([a in changed for a in keys["account_id"].to_pylist()], pa.bool_())
        keys = keys.append_column("changed", flags)
    con = duckdb.connect()
    try:
        with _quiet_splink():
            db_api = DuckDBAPI(con)
            table = db_api.register(keys, table_name="account_keys")
            model = model or fit_model(table, keys, seed)
            rules = None if changed is None else _changed_only
            linker = Linker(table, _settings(model.prior, model.u, rules), log_level=None)
            linker.table_management.register_term_frequency_lookup(
                db_api.register(model.name_frequencies(keys), table_name="name_frequencies"),
                "name")
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
    return sorted(out, key=lambda p: (p.left, p.right)), model


def _shown(value: object) -> object:
    return ", ".join(value) if isinstance(value, list) else value


def describe_levels(levels: dict[str, int], left: dict[str, object],
                    right: dict[str, object]) -> str:
    """The evidence of a scored pair in words, e.g. "name exact (acme); domain missing;
    country agrees (US); region differs (emea / na)". A missing name or domain is said;
    other fields with nothing to compare are left out."""
    parts = []
    for comp in COMPARISONS:
        index = levels.get(comp.name, -1)
        a, b = _shown(left.get(comp.name)), _shown(right.get(comp.name))
        if index < 0:
            if comp.name in ("name", "domain"):
                parts.append(f"{comp.name} missing")
        elif index == len(comp.levels) - 1 or a != b:
            parts.append(f"{comp.levels[index].label} ({a} / {b})")
        else:
            parts.append(f"{comp.levels[index].label} ({a})")
    return "; ".join(parts)
