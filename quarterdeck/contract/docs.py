"""Render the data-contract reference (docs/data-contract.md) from the entity registry.

Regenerate with::

    python -m quarterdeck.contract.docs > docs/data-contract.md

tests/test_docs.py fails when the committed file and the registry disagree.
"""

from __future__ import annotations

from quarterdeck.contract.entities import ENTITIES, SQL_TYPES, Column, Entity, loading_order

REGENERATE = "python -m quarterdeck.contract.docs > docs/data-contract.md"

# What each logical column type accepts in a file (warehouse types come from SQL_TYPES).
TYPE_FORMATS: dict[str, str] = {
    "string": "Any text. Ids are strings: `007` stays `007`.",
    "email": "An email address, as text.",
    "currency": "An ISO 4217 code, e.g. `USD`, `EUR`, `JPY`; any case, stored upper-case.",
    "date": "ISO 8601 date `YYYY-MM-DD`, e.g. `2024-03-01`.",
    "timestamp": "ISO 8601 date and time, e.g. `2024-03-01T09:30:00Z` or "
    "`2024-03-01T11:30:00+02:00` (the same instant); `T` or a space between date and time. "
    "No offset means UTC; a bare date means midnight UTC. Stored in UTC.",
    "decimal": "A decimal number with `.` as separator, e.g. `49.99`. Kept exactly "
    "(6 decimal places).",
    "rate": "A decimal number kept exactly to 12 decimal places, e.g. `1.083472`.",
    "integer": "A whole number, e.g. `12`.",
    "number": "A number, e.g. `3` or `0.75` (floating point).",
    "boolean": "`true`/`false`, `1`/`0` or `yes`/`no` (also `t`/`f`, `y`/`n`); any case.",
    "json": "A JSON object: in a CSV cell its JSON text (quote the cell), in NDJSON or Parquet "
    "a nested object or its JSON text.",
}

# Rules the registry cannot say by itself, stated once per entity.
ENTITY_NOTES: dict[str, tuple[str, ...]] = {
    "fx_rates": (
        "A rate is in effect from its `date` until the next `date` of the same currency. "
        "A subscription row is priced at the rate in effect on its `start_date`; a row with no "
        "rate in effect is an error that names the currency and date. Rows already in the base "
        "currency need no rate.",
    ),
    "subscriptions": (
        "MRR of a row on day d = `quantity` × `unit_price` × (1 − `discount`) / "
        "`interval_months`, for `start_date` ≤ d < `end_date`, and 0 while `trial` is true. "
        "See [reference rules](reference-rules.md).",
        "Record a renewal or a change of quantity, price or discount as a new row (a new "
        "`subscription_id`) starting the day it takes effect, and give the old row that day as "
        "its `end_date`. Editing the old row in place rewrites its history.",
        "As of a date before `canceled_at`, `end_date` is not known yet: the row counts as "
        "ongoing.",
    ),
    "events": (
        "An event given only a `user_id` is attributed to the account that `users` (or tracked "
        "`identify`/`group` calls) map that user to.",
        "A resent event with the same `event_id` is stored once.",
    ),
    "tickets": ("As of a date before `solved_at`, the ticket is open.",),
    "accounts": (
        "A child account (`parent_account_id` set) rolls up to its parent when a report asks "
        "for parent-level numbers. The parent may be in the same file.",
        "An account with an empty `created_at` exists as of any date.",
    ),
    "usage_daily": (
        "Use this entity when the warehouse already holds usage aggregated per day; "
        "otherwise load `events`.",
    ),
}

# One small valid file per entity. Together they form one consistent company (base USD),
# so every reference resolves when the files are loaded in loading order.
EXAMPLES: dict[str, str] = {
    "team": """\
email,name,role,manager_email,capacity_accounts,capacity_arr
maria@yourco.com,Maria Lopez,manager,,,
sam@yourco.com,Sam Okafor,csm,maria@yourco.com,40,2500000
""",
    "fx_rates": """\
date,currency,rate_to_base
2024-03-01,EUR,1.08
2024-04-01,EUR,1.10
2024-03-01,GBP,1.27
""",
    "accounts": """\
account_id,name,domain,parent_account_id,segment,industry,region,country,owner_email,created_at
A-001,Acme Corp,acme.com,,Enterprise,Manufacturing,NA,US,sam@yourco.com,2023-11-02T14:05:00Z
A-002,Acme Europe,acme.eu,A-001,Enterprise,Manufacturing,EMEA,DE,sam@yourco.com,\
2024-02-20T09:00:00+01:00
A-003,Globex,globex.io,,SMB,Software,NA,US,sam@yourco.com,2024-01-15T08:00:00Z
""",
    "users": """\
user_id,account_id,email,name,created_at
u_881,A-001,jo@acme.com,Jo Park,2024-01-08T10:12:00Z
u_882,A-003,lee@globex.io,Lee Chen,2024-01-16T08:00:00Z
""",
    "contacts": """\
contact_id,account_id,email,name,title,persona,created_at,left_at
C-10,A-001,jo@acme.com,Jo Park,VP Operations,champion,2023-11-02T14:05:00Z,
C-11,A-001,raj@acme.com,Raj Patel,CFO,decision_maker,2023-11-02T14:05:00Z,2024-06-30T17:00:00Z
""",
    "subscriptions": """\
subscription_id,account_id,plan,quantity,unit_price,discount,currency,interval_months,\
start_date,end_date,canceled_at,contract_id,auto_renew,trial
S-1,A-001,Pro,10,50,0.2,USD,1,2024-01-01,,,K-1,true,false
S-2,A-003,Team,1,1200,,USD,12,2024-02-01,2025-02-01,2024-11-20T16:00:00Z,K-2,false,false
S-3,A-002,Enterprise,1,108000,0,USD,36,2024-03-01,2027-03-01,,K-3,false,false
S-4,A-002,Pro,10,100,0,EUR,1,2024-03-15,,,K-4,true,false
S-5,A-003,Pro,5,50,,USD,1,2024-01-15,2024-02-01,,,,true
""",
    "tickets": """\
ticket_id,account_id,created_at,solved_at,priority,status,csat
T-1,A-001,2024-03-10T08:00:00Z,2024-03-11T17:30:00Z,high,solved,4
T-2,A-003,2024-03-12T13:00:00Z,,normal,open,
""",
    "surveys": """\
response_id,account_id,contact_id,kind,score,comment,responded_at
R-1,A-001,C-10,nps,9,Great onboarding,2024-03-20T12:00:00Z
R-2,A-001,C-11,csat,4,,2024-03-22T12:00:00Z
""",
    "activities": """\
activity_id,account_id,kind,occurred_at,owner_email,subject
ACT-1,A-001,qbr,2024-03-28T15:00:00Z,sam@yourco.com,Q1 business review
ACT-2,A-003,email,2024-03-29T10:00:00Z,sam@yourco.com,Renewal options
""",
    "opportunities": """\
opportunity_id,account_id,kind,amount_arr,currency,stage,close_date,outcome
O-1,A-003,renewal,1200,USD,Negotiation,2025-02-01,open
O-2,A-001,expansion,2400,USD,Closed Won,2024-03-30,won
""",
    "invoices": """\
invoice_id,account_id,issued_at,due_at,paid_at,amount,currency,status
I-1,A-001,2024-03-01T00:00:00Z,2024-03-31T00:00:00Z,2024-03-18T10:00:00Z,400.00,USD,paid
I-2,A-002,2024-03-15T00:00:00Z,2024-04-14T00:00:00Z,,1000.00,EUR,open
""",
    "events": """\
event_id,timestamp,event,account_id,user_id,value,properties
E-1,2024-03-04T09:15:00Z,report_created,A-001,,,
E-2,2024-03-04T09:20:00+02:00,seats_invited,,u_882,3,"{""source"": ""admin_panel""}"
""",
    "usage_daily": """\
date,account_id,metric,value
2024-03-04,A-001,active_users,42
2024-03-04,A-001,reports_created,7
""",
}

_HEAD = f"""\
# Data contract

<!-- Generated from quarterdeck/contract/entities.py. Do not edit by hand:
     {REGENERATE} -->

The data contract is the shape of every input Quarterdeck accepts: which entities exist, their
columns, and the rules a row must meet. Files that meet it load; files that do not are refused
with every problem named by file, row and field.

## Files

- **Formats**, told by the file extension:

  | format | extensions |
  |---|---|
  | CSV with a header row (UTF-8, comma-separated; tab-separated for `.tsv`) | \
`.csv`, `.tsv`, `.csv.gz` |
  | Parquet | `.parquet`, `.pq` |
  | NDJSON: one JSON object per line, keys are column names | \
`.ndjson`, `.jsonl`, `.json`, `.ndjson.gz`, `.jsonl.gz` |

- **One file per entity, named after it**: `accounts.csv`, `subscriptions.parquet`,
  `events.ndjson`. The name may carry a suffix after `-`, `_` or a space, in any case:
  `subscriptions-2024.parquet` and `Subscriptions_EU.csv` both hold subscriptions.
- **A folder may hold several files**, in sub-folders too; they load in
  [loading order](#loading-order), so a file may reference rows of a file loaded in the same
  command. Files in a folder whose format or entity cannot be told from the name are skipped.
- **Any other name**: give the entity, e.g.
  `quarterdeck load exports/crm_dump.csv --entity accounts`.
- Column order does not matter. Optional columns may be left out entirely. Parquet columns may
  hold native types (dates, timestamps, numbers) or text in the formats below.
- **Encoding**: CSV and NDJSON are read as UTF-8. A file that is not is read as Windows-1252
  (Excel's "CSV" on many machines; Latin-1 text reads the same) when its text looks like it,
  and refused otherwise with one sentence:
  `accounts.csv is not UTF-8 (line 2): save it as UTF-8 or pass --encoding cp1252 (or the
  encoding it was saved in)`. `quarterdeck load --encoding NAME` names the encoding.
- **An empty file** (nothing but blank lines) is refused: `accounts.csv is empty: it has no
  header and no rows`. A header without rows loads nothing.

## General rules

- **Timestamps** are ISO 8601. A timestamp without an offset is UTC; one with an offset is
  converted. All timestamps are stored in UTC. The day of a timestamp is its UTC date.
- **Dates** are ISO `YYYY-MM-DD`. A date that is not on the calendar (`2024-02-30`) is refused
  as `not a real date`; a date in a locale's order (`03/15/2024`, `15.03.2024`) is refused with
  the format to use, since day and month cannot be told apart.
- **Ids are strings**: `00042` and `42` are different ids.
- **Money** is in the row's `currency` and is converted to the workspace's base currency only
  when metrics are computed.
- **Values are trimmed**; an empty or blank CSV cell, a JSON `null` or a missing key is a
  missing value. A missing value takes the column's default when it has one.
- **Allowed values** (such as `role` or `kind`) are matched in any case and stored lower-case.
- **Unknown columns** are kept as custom attributes of the row, stored as text.
- **Booleans** are `true`/`false`, `1`/`0` or `yes`/`no`.

## Column types

| type | accepted values | warehouse type |
|---|---|---|
"""

_VALIDATION = """\
## Validation

Every row of a file is checked before anything of it is loaded:

- the header has every required column (column names match in any case); a missing one
  refuses the file at once, with an empty `row` (the load table still counts the rows read);
- each value parses as its column's type;
- required values are not empty;
- values are among the allowed values, and numbers within the stated range;
- date order holds within the row (e.g. a subscription's `start_date` is before its `end_date`);
- currency codes are ISO 4217; amounts and quantities are not negative;
- references resolve: e.g. a subscription's `account_id` must exist in `accounts` loaded
  before, or in the same command;
- no id (the entity's key) appears twice in the file.

**A file with any invalid row is rejected whole**: nothing of it is loaded. Every problem is
printed and written to a rejects file,
`data/rejects/<entity>-<UTC time>-<file name>.rejects.csv`, with the columns
`file,line,row,field,value,reason`. `row` is the 1-based record number in the file: the first
data row after the CSV header is row 1. `line` is where a spreadsheet shows it: a CSV's header
is line 1, so row 2 is on line 3, and problems are printed as `line 3 (row 2 of data)`; in
NDJSON line and row are the same (`line 2`); Parquet has rows only (`row 2`, empty `line`). For
example, this `subscriptions.csv`:

```csv
subscription_id,account_id,plan,quantity,unit_price,currency,interval_months,start_date
S-1,A-001,Pro,10,50,USD,1,2024-01-01
S-2,A-999,Pro,5,50,EURO,1,2024-01-01
```

is refused, when no account `A-999` has been loaded, with two problems on line 3 (row 2):

```text
$ quarterdeck load /srv/acme/in/subscriptions.csv
/srv/acme/in/subscriptions.csv: 2 problem(s), refused: nothing of it was loaded
  /srv/acme/in/subscriptions.csv, line 3 (row 2 of data), field 'account_id': unknown \
account: no accounts row has this account_id (value 'A-999')
  /srv/acme/in/subscriptions.csv, line 3 (row 2 of data), field 'currency': not an ISO 4217 \
currency code (e.g. USD, EUR) (value 'EURO')
```

and the rejects file holds

```csv
file,line,row,field,value,reason
/srv/acme/in/subscriptions.csv,3,2,account_id,A-999,unknown account: no accounts row has \
this account_id
/srv/acme/in/subscriptions.csv,3,2,currency,EURO,"not an ISO 4217 currency code (e.g. USD, \
EUR)"
```

The command exits with status 1 when a file is refused.

With `--skip-invalid`, the valid rows load and the rejected ones go to the rejects file only.

**Loading is atomic and idempotent.** A load either completes or leaves no trace. Loading the
same file twice changes nothing. A changed file with the same ids updates those rows, and the
new file is kept as a new version in the landing area (`data/landing/`), which is append-only:
nothing accepted is ever lost.

## Loading order

Referenced entities load first. Entities with the same rank do not reference each other.

| rank | entity | key | dated by | description |
|---|---|---|---|---|
"""


def _code(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{v}`" for v in values)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _column_rules(ent: Entity, col: Column) -> str:
    parts: list[str] = []
    if col.allowed:
        parts.append("one of " + _code(col.allowed))
    if col.minimum is not None and col.maximum is not None:
        parts.append(f"{_num(col.minimum)}–{_num(col.maximum)}")
    elif col.minimum is not None:
        parts.append(f"{'>' if col.minimum_exclusive else '≥'} {_num(col.minimum)}")
    elif col.maximum is not None:
        parts.append(f"≤ {_num(col.maximum)}")
    for rk in ent.ranges_by_kind:
        if rk.column == col.name:
            parts.append("; ".join(
                f"{_num(lo)}–{_num(hi)} when `{rk.kind_column}` is `{kind}`"
                for kind, (lo, hi) in rk.ranges.items()
            ))
    if col.default is not None:
        parts.append(f"default `{col.default}`")
    if col.references:
        parts.append(f"must exist in `{col.references}`")
    return "; ".join(parts)


def _required(ent: Entity, col: Column) -> str:
    if col.required:
        return "yes"
    for group in ent.one_of_required:
        if col.name in group:
            return "one of " + _code(group)
    return "no"


def _key_text(ent: Entity) -> str:
    return _code(ent.key) if len(ent.key) == 1 else "(" + _code(ent.key) + ")"


def _row_rules(ent: Entity) -> list[str]:
    rules: list[str] = []
    required = [c.name for c in ent.columns if c.required]
    if required:
        rules.append(f"Required, never empty: {_code(required)}.")
    for group in ent.one_of_required:
        rules.append(f"At least one of {_code(group)} is given.")
    if len(ent.key) == 1:
        rules.append(f"`{ent.key[0]}` is unique within a file; loading a row with an "
                     "existing id updates that row.")
    else:
        rules.append(f"The combination {_key_text(ent)} is unique within a file; loading a row "
                     "with an existing combination updates that row.")
    for order in ent.date_orders:
        relation = "before" if order.strict else "on or before"
        rules.append(f"`{order.earlier}` is {relation} `{order.later}` when both are given.")
    for col in ent.columns:
        if col.references:
            target_entity, target_col = col.references.split(".")
            rules.append(f"`{col.name}` is the `{target_col}` of a row of `{target_entity}` "
                         "loaded before or in the same command.")
    if ent.point_in_time:
        dated = f"`{ent.point_in_time}`"
        if ent.column(ent.point_in_time).type == "timestamp":
            dated += " (its UTC date)"
        rules.append(f"Point in time: as of a date T, a row exists only if its {dated} is on "
                     "or before T.")
    rules.extend(ENTITY_NOTES.get(ent.name, ()))
    return rules


def _entity_section(ent: Entity) -> str:
    lines = [f"### {ent.name}", "", ent.description, "",
             f"Key: {_key_text(ent)}. File: `{ent.name}.csv`, `{ent.name}.parquet` or "
             f"`{ent.name}.ndjson`.", "",
             "| column | type | required | meaning | rules |", "|---|---|---|---|---|"]
    for col in ent.columns:
        lines.append(f"| `{col.name}` | {col.type} | {_required(ent, col)} | "
                     f"{_cell(col.description)} | {_cell(_column_rules(ent, col))} |")
    lines += ["", "Row rules:", ""]
    lines += [f"- {rule}" for rule in _row_rules(ent)]
    example = EXAMPLES.get(ent.name)
    if example:
        lines += ["", f"Example `{ent.name}.csv`:", "", "```csv", example.rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"


def ordered_entities() -> list[Entity]:
    """Every registered entity, in loading order (referenced entities first)."""
    return [ENTITIES[n] for n in loading_order(list(ENTITIES))]


def render_contract_markdown() -> str:
    """The full data-contract reference, as Markdown, generated from the registry."""
    out = [_HEAD]
    for name, fmt in TYPE_FORMATS.items():
        out.append(f"| {name} | {_cell(fmt)} | `{SQL_TYPES[name]}` |\n")
    out.append("\n" + _VALIDATION)
    for ent in ordered_entities():
        dated = f"`{ent.point_in_time}`" if ent.point_in_time else "—"
        out.append(f"| {ent.order} | [{ent.name}](#{ent.name}) | {_key_text(ent)} | {dated} | "
                   f"{_cell(ent.description)} |\n")
    out.append("\n## Entities\n")
    for ent in ordered_entities():
        out.append("\n" + _entity_section(ent))
    return "".join(out)


if __name__ == "__main__":
    print(render_contract_markdown(), end="")
