"""Duplicates the demo never makes: a generated company with each kind of real-world variant.

`variant_world(accounts)` builds that many accounts: distinct companies (names coined from two
or three syllables such as "Zantorix Analytics", with a plain word "Blue Zantorix Analytics",
partner names "Hale and Moreno Consulting"), each with
a domain (most), country, region, industry, segment, owner, creation day and contacts, and
injects, per class, a second record of some of them as another system would type it. No
injected record shares the original's domain; most have none.

| class | the second record |
|---|---|
| case_punctuation | "ZANTORIX ANALYTICS", "zantorix-analytics", "Zantorix, Analytics." |
| legal_suffix | "Zantorix Analytics Inc." (Inc, LLC, Ltd, GmbH, S.A., Pty Ltd, plc …) |
| the_prefix | "The Zantorix Analytics" (or the original's "The" dropped) |
| and_ampersand | "Hale & Moreno Consulting" for "Hale and Moreno Consulting" |
| abbreviation | "Zantorix Intl Tech Svcs" for "Zantorix International Technology Services" |
| typo | one or two letters replaced, dropped or doubled |
| transposition | one or two pairs of adjacent letters swapped |
| missing_domain | the name as it is, no domain |
| different_domain | the name as it is, the domain under another top-level domain (.io, .de …) |
| different_owner | the name as it is, another owner, no domain |

And two classes of distinct companies that must stay apart:

| class | the other company |
|---|---|
| near_identical_name | "Zantorix Analytica Labs" beside "Zantorix Analytics"; its own domain |
| sister_same_domain | "Zantorix Logistics" on the same domain as "Zantorix Analytics" |

Every injected record keeps the country, mostly the region, industry and segment, and half
the time has a contact at the original's domain. The truth is returned beside the accounts;
the engine never sees it.

Example: w = variant_world(2000); resolve_accounts(w.accounts, …, contact_domains=w.contacts);
score(w, resolution).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

import pyarrow as pa

from quarterdeck.warehouse.schema import canonical_schema

SAME_CLASSES = ("case_punctuation", "legal_suffix", "the_prefix", "and_ampersand",
                "abbreviation", "typo", "transposition", "missing_domain", "different_domain",
                "different_owner")
APART_CLASSES = ("near_identical_name", "sister_same_domain")
CLASSES = SAME_CLASSES + APART_CLASSES
SOURCE_KINDS = {"crm": "hubspot", "billing": "stripe", "desk": "zendesk"}

_ONSETS = "b c d f g h j k l m n p r s t v z br cr dr fl gr pl pr st tr qu sh ch".split()
_VOWELS = "a e i o u ai ea io".split()
_CODAS = ["", "", "n", "r", "x", "l", "s", "m", "nt", "rk", "st"]
_PLAIN = ("Blue Red Green North South East West Silver Golden Iron Stone River Harbor Summit "
          "Maple Cedar Pine Oak Falcon Eagle Fox Wolf Bright Clear Swift Prime First Union "
          "Pioneer Atlas Orbit Nova Vertex Apex Crest Bay Lake Ridge Valley Canyon").split()
_INDUSTRY_WORDS = ("Analytics Logistics Robotics Health Foods Energy Capital Software Media "
                   "Networks Labs Dynamics Partners Consulting Retail Works Studio Finance "
                   "Security Cloud Systems Solutions Motors Pharma Brands Bank Insurance "
                   "Design Data Marine Foods Textiles Travel Learning").split()
_SURNAMES = ("Hale Moreno Fischer Novak Okafor Lindqvist Tanaka Byrne Costa Dubois Kowalski "
             "Haddad Ivanova Mensah Patel Quinn Romero Schmidt Varga Walsh Young Zhou").split()
_ABBREVIABLE = {"International": "Intl", "Technology": "Tech", "Services": "Svcs",
                "Management": "Mgmt", "Manufacturing": "Mfg", "Systems": "Sys",
                "Solutions": "Solns", "Holdings": "Hldgs", "Laboratories": "Labs"}
_LEGAL = ["Inc.", "Inc", "LLC", "Ltd", "Ltd.", "GmbH", "S.A.", "Pty Ltd", "plc", "Corp.",
          "Limited", "B.V.", "SAS", "AG", "Co."]
_COUNTRIES = [("US", "NA", 40), ("CA", "NA", 5), ("GB", "EMEA", 12), ("DE", "EMEA", 8),
              ("FR", "EMEA", 6), ("NL", "EMEA", 4), ("ES", "EMEA", 3), ("SE", "EMEA", 2),
              ("AU", "APAC", 6), ("JP", "APAC", 4), ("SG", "APAC", 3), ("IN", "APAC", 4),
              ("BR", "LATAM", 3)]
_TLD = {"US": ".com", "CA": ".ca", "GB": ".co.uk", "DE": ".de", "FR": ".fr", "NL": ".nl",
        "ES": ".es", "SE": ".se", "AU": ".com.au", "JP": ".jp", "SG": ".sg", "IN": ".in",
        "BR": ".com.br"}
_SEGMENTS = ["SMB", "Mid-Market", "Enterprise"]
_INDUSTRIES = ["Software", "Retail", "Healthcare", "Finance", "Manufacturing", "Media",
               "Education", "Logistics"]
START = dt.date(2022, 1, 1)


@dataclass
class VariantWorld:
    accounts: pa.Table
    contacts: dict[str, list[str]]  # account id → its contacts' email addresses
    same: dict[str, set[tuple[str, str]]] = field(default_factory=dict)   # class → pairs
    apart: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # class → pairs


def _coined(rng: random.Random) -> str:
    word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.randint(2, 3)))
    return (word + rng.choice(_CODAS)).capitalize()


def _base_name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        return f"{_coined(rng)} {rng.choice(_INDUSTRY_WORDS)}"
    if roll < 0.75:
        return f"{rng.choice(_PLAIN)} {_coined(rng)} {rng.choice(_INDUSTRY_WORDS)}"
    if roll < 0.85:
        a, b = rng.sample(_SURNAMES, 2)
        return f"{a} and {b} {rng.choice(_INDUSTRY_WORDS)}"
    if roll < 0.93:
        return f"{_coined(rng)} {rng.choice(list(_ABBREVIABLE))} {rng.choice(_INDUSTRY_WORDS)}"
    return f"{_coined(rng)}"


def _letters_edit(rng: random.Random, name: str, swap: bool) -> str:
    """`name` with one letter changed, dropped, doubled or two adjacent letters swapped
    (never the first letter: people rarely mistype that)."""
    chars = list(name)
    spots = [i for i in range(1, len(chars) - 1) if chars[i].isalpha() and chars[i + 1].isalpha()]
    if not spots:
        return name + "s"
    i = rng.choice(spots)
    if swap:
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    else:
        kind = rng.choice(("replace", "drop", "double"))
        if kind == "replace":
            chars[i] = rng.choice([c for c in "aeioustnrl" if c != chars[i].lower()])
        elif kind == "drop":
            del chars[i]
        else:
            chars.insert(i, chars[i])
    return "".join(chars)


def _variant_name(rng: random.Random, kind: str, name: str) -> str:
    if kind == "case_punctuation":
        return rng.choice((name.upper(), name.lower(), name.replace(" ", "-").lower(),
                           name.replace(" ", ", ", 1) + ".", "  ".join(name.split())))
    if kind == "legal_suffix":
        return f"{name}{rng.choice(('', ','))} {rng.choice(_LEGAL)}"
    if kind == "the_prefix":
        return name[4:] if name.startswith("The ") else f"The {name}"
    if kind == "and_ampersand":
        return name.replace(" and ", " & ") if " and " in name else name.replace(" & ",
                                                                                   " and ")
    if kind == "abbreviation":
        for word, short in _ABBREVIABLE.items():
            name = name.replace(word, short)
        return name
    if kind in ("typo", "transposition"):
        for _ in range(rng.choice((1, 1, 2))):
            name = _letters_edit(rng, name, swap=kind == "transposition")
        return name
    return name


def _fits(kind: str, name: str, domain: object) -> bool:
    """Whether the class can be made from `name` (a variant must differ in letters or case)
    and `domain` (distinct companies beside it need one to be told apart)."""
    if kind in ("different_domain", *APART_CLASSES) and not domain:
        return False
    if kind == "and_ampersand":
        return " and " in name
    if kind == "abbreviation":
        return any(word in name for word in _ABBREVIABLE)
    if kind in ("typo", "transposition"):
        return len(name.replace(" ", "")) >= 8
    return True


def variant_world(accounts: int, *, seed: int = 7, share: float = 0.015,
                  sparse: bool = False) -> VariantWorld:
    """`accounts` accounts, `share` of them per class injected (at least 10 per class).
    `sparse`: the injected records hold only a name, country and creation day (and the
    domain or owner their class is about), as a help desk's organisations often do."""
    rng = random.Random(seed)
    per_class = max(10, round(accounts * share))
    n_base = max(accounts - per_class * len(CLASSES), per_class * 3)
    owners = [f"csm{i}@vendor.example" for i in range(max(5, n_base // 60))]
    rows: list[dict[str, object]] = []
    contacts: dict[str, list[str]] = {}
    used_names: set[str] = set()
    weights = [w for *_, w in _COUNTRIES]
    for i in range(n_base):
        name = _base_name(rng)
        while name in used_names:
            name = _base_name(rng)
        used_names.add(name)
        country, region, _ = rng.choices(_COUNTRIES, weights)[0]
        label = name.lower().replace(" and ", "").replace(" ", "")
        domain = None if rng.random() < 0.1 else label + (
            ".com" if rng.random() < 0.6 else _TLD[country])
        account_id = f"acct-{i:06d}"
        rows.append({
            "account_id": account_id, "name": name, "domain": domain, "country": country,
            "region": region, "industry": rng.choice(_INDUSTRIES),
            "segment": rng.choice(_SEGMENTS), "owner_email": rng.choice(owners),
            "created_at": START + dt.timedelta(days=rng.randrange(3 * 365))})
        if domain and rng.random() < 0.7:
            contacts[account_id] = [f"p{j}@{domain}" for j in range(rng.randint(1, 3))]
    world = VariantWorld(pa.table({}), contacts, defaultdict(set), defaultdict(set))
    sources = list(SOURCE_KINDS)
    for kind in CLASSES:
        candidates = [r for r in rows[:n_base] if _fits(kind, str(r["name"]), r["domain"])]
        for j, base in enumerate(rng.sample(candidates, min(per_class, len(candidates)))):
            new_id = f"{sources[j % len(sources)]}:{kind}-{j}"
            row = _inject(rng, kind, base, new_id, owners)
            if sparse:
                row.update(region=None, industry=None, segment=None,
                           owner_email=row["owner_email"] if kind == "different_owner" else None)
            rows.append(row)
            domain = base["domain"]
            if kind in SAME_CLASSES and domain and not sparse and rng.random() < 0.5:
                contacts[new_id] = [f"help@{domain}"]
            pair = tuple(sorted((str(base["account_id"]), new_id)))
            (world.same if kind in SAME_CLASSES else world.apart)[kind].add(pair)
    schema = canonical_schema("accounts").to_pyarrow()
    world.accounts = pa.Table.from_pylist(
        [{**r, "created_at": dt.datetime.combine(r["created_at"], dt.time())} for r in rows],
        schema=pa.schema([schema.field(c) for c in rows[0] if c in schema.names]))
    return world


def _inject(rng: random.Random, kind: str, base: dict[str, object], new_id: str,
            owners: list[str]) -> dict[str, object]:
    """The record of `kind` made from `base`."""
    name = str(base["name"])
    country = str(base["country"])
    created = base["created_at"] + dt.timedelta(  # type: ignore[operator]
        days=rng.randrange(7) if rng.random() < 0.3 else rng.randrange(7, 400))
    row: dict[str, object] = {
        "account_id": new_id, "name": _variant_name(rng, kind, name), "domain": None,
        "country": country,
        "region": base["region"] if rng.random() < 0.9 else None,
        "industry": base["industry"] if rng.random() < 0.7 else None,
        "segment": base["segment"] if rng.random() < 0.6 else None,
        "owner_email": base["owner_email"] if rng.random() < 0.5 else rng.choice(
            [None, rng.choice(owners)]),
        "created_at": created}
    if kind == "different_domain" and base["domain"]:
        label = str(base["domain"]).split(".")[0]
        row["domain"] = label + rng.choice([".io", ".net", ".co", _TLD[country], ".eu"])
        if row["domain"] == base["domain"]:
            row["domain"] = label + ".io"
    elif kind == "different_owner":
        row["owner_email"] = rng.choice([o for o in owners if o != base["owner_email"]])
    elif kind == "near_identical_name":
        words = name.split()
        last = words[-1]
        words[-1] = last[:-1] + ("a" if last[-1] != "a" else "o")
        row["name"] = " ".join(words) + rng.choice(["", " Labs", " Group", " Studio"])
        row["domain"] = str(row["name"]).lower().replace(" ", "") + ".com"
        row["owner_email"] = rng.choice(owners)
        row["created_at"] = START + dt.timedelta(days=rng.randrange(3 * 365))
    elif kind == "sister_same_domain":
        brand = name.split()[0] if name.split()[0] not in _PLAIN else " ".join(name.split()[:2])
        other = rng.choice([w for w in _INDUSTRY_WORDS if w not in name])
        row["name"] = f"{brand} {other}"
        row["domain"] = base["domain"]
        row["owner_email"] = rng.choice(owners)
        row["created_at"] = START + dt.timedelta(days=rng.randrange(3 * 365))
    return row


@dataclass
class ClassScore:
    pairs: int          # injected pairs of the class
    merged: int         # of them, in one customer
    false_merges: int   # other pairs merged that involve the class's injected accounts

    @property
    def recall(self) -> float:
        return self.merged / self.pairs if self.pairs else 1.0

    @property
    def precision(self) -> float:
        merged = self.merged + self.false_merges
        return self.merged / merged if merged else 1.0


def merged_pairs(account_resolution: pa.Table) -> set[tuple[str, str]]:
    """Every pair of accounts resolved into one customer."""
    members: dict[str, list[str]] = defaultdict(list)
    for account, customer in zip(account_resolution["account_id"].to_pylist(),
                                 account_resolution["customer_id"].to_pylist(), strict=True):
        members[customer].append(account)
    return {tuple(sorted(p)) for group in members.values() if len(group) > 1
            for p in combinations(group, 2)}


def true_pairs(world: VariantWorld) -> set[tuple[str, str]]:
    """Every pair of one company's records (an original and all its injected records)."""
    records: dict[str, set[str]] = defaultdict(set)
    for pairs in world.same.values():
        for original, injected in pairs:
            records[original] |= {original, injected}
    return {tuple(sorted(p)) for group in records.values() for p in combinations(group, 2)}


def score(world: VariantWorld, merged: set[tuple[str, str]]) -> dict[str, ClassScore]:
    """Per class: for the duplicate classes how many pairs merged (recall) and what else
    merged with their injected accounts; for the classes kept apart, `merged` counts the
    pairs wrongly merged."""
    truth = true_pairs(world)
    by_account: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for pair in merged:
        for account in pair:
            by_account[account].add(pair)
    out = {}
    for kind, pairs in {**world.same, **world.apart}.items():
        injected = {b for _, b in pairs}
        touching = set().union(*(by_account[a] for a in injected)) if injected else set()
        hits = len(pairs & merged)
        false = len(touching - truth) - (hits if kind in APART_CLASSES else 0)
        out[kind] = ClassScore(len(pairs), hits, max(false, 0))
    return out
