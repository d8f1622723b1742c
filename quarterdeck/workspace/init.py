"""`quarterdeck init`: write a new workspace with commented, valid defaults."""

from __future__ import annotations

from pathlib import Path

from quarterdeck.errors import WorkspaceError
from quarterdeck.health.definitions import DEFAULT_HEALTH_MODELS_PATH
from quarterdeck.identity.definitions import IDENTITY_FILE
from quarterdeck.lifecycle.definitions import DEFAULT_LIFECYCLE_PATH, LIFECYCLE_FILE
from quarterdeck.owner_only import private_folder
from quarterdeck.playbooks.definitions import DEFAULT_PLAYBOOKS_PATH, PLAYBOOKS_FILE
from quarterdeck.quality.definitions import DEFAULT_QUALITY_PATH, QUALITY_FILE
from quarterdeck.reports.definitions import DEFAULT_REPORTS_PATH, REPORTS_FILE
from quarterdeck.signals.definitions import DEFAULT_SIGNALS_PATH, SIGNALS_FILE
from quarterdeck.workspace.workspace import CONFIG_FILE, HEALTH_MODELS_FILE

CONFIG_TEMPLATE = """\
# Quarterdeck workspace settings. Every setting is described in docs/configuration.md.
name: {name}

# ISO 4217 currency every amount is reported in; other currencies convert through fx_rates.
base_currency: {base_currency}

# Month (1-12) the fiscal year starts in; fiscal quarters and years follow it.
fiscal_year_start_month: 1

# IANA time zone of the company: it decides what "today" is (the default as-of date).
timezone: UTC

warehouse:
  # Ibis URL; the default is an embedded DuckDB file inside this workspace.
  url: duckdb://data/warehouse.duckdb
  # Memory DuckDB may use for computations, and while loading, before spilling to disk.
  memory_limit: 3GB
  load_memory_limit: 1GB

app_database:
  # SQLAlchemy URL; default SQLite inside this workspace. PostgreSQL:
  # postgresql+psycopg://user@host:5432/quarterdeck
  url: sqlite:///data/app.db

server:
  host: 127.0.0.1
  port: 8000

metrics:
  # A move to a zero-priced plan counts as churn (reference rule) or as contraction.
  free_plan: churn
  # Days past due after which an unpaid invoice stops MRR; empty = keep MRR until cancelled.
  past_due_churn_days:
"""

TIERS_TEMPLATE = """\
# Account tiers by ARR in the base currency: an account gets the first tier whose
# min_arr its ARR meets. List them from the highest floor to the lowest.
tiers:
  - name: Tier 1
    min_arr: 100000
  - name: Tier 2
    min_arr: 20000
  - name: Tier 3
    min_arr: 0
"""

IDENTITY_TEMPLATE = """\
# Identity resolution: how the accounts of every source are matched into one customer
# (see docs/identity.md). Every setting has a default; `quarterdeck identity confirm` and
# `quarterdeck identity split` add to the lists at the end.
threshold: 0.9              # pairs whose match probability reaches this merge
review_band: 0.4            # pairs from threshold - review_band up to it are listed for review
tie_break: oldest           # within one source, the oldest record's value wins (or newest)
merge_paying_accounts: false  # two paying accounts merge only on shared ids, domains, confirms
source_priority: []         # most trusted first, e.g. [files, crm, billing, support]
survivorship: {}            # per field, e.g. {owner_email: [crm, files], segment: [files]}
# Pairs of account ids that are the same company, e.g. [acct-1, "support:361"]:
confirm: []
# Pairs of account ids that are different companies:
split: []
"""

SOURCES_TEMPLATE = """\
# The systems `quarterdeck sync` reads from (see docs/sources.md). Credentials go in the
# environment (QUARTERDECK_<SOURCE>_<KEY>) or in secrets.yml (chmod 600), never here.
sources: {}
#  billing:
#    kind: stripe
#    expected_every: 1d
#  crm:
#    kind: hubspot
#    options: {external_id_properties: {billing: stripe_customer_id}}
#  support:
#    kind: zendesk
#    options: {subdomain: acme}
#  data-team:
#    kind: warehouse_table
#    url: postgresql://analytics@db:5432/prod
#    tables:
#      - entity: accounts
#        table: crm.companies
#        columns: {account_id: company_id, name: company_name, domain: website}
#        cursor: updated_at
files:
  expected_every: 1d
"""


def init_workspace(root: Path, *, name: str = "Quarterdeck", base_currency: str = "USD") -> Path:
    """Write quarterdeck.yml and the default definitions under `root`; never overwrite."""
    config = root / CONFIG_FILE
    if config.exists():
        raise WorkspaceError(str(config), None, None, "a workspace already exists here")
    (root / "definitions").mkdir(parents=True, exist_ok=True)
    private_folder(root / "data")
    config.write_text(CONFIG_TEMPLATE.format(name=name, base_currency=base_currency))
    tiers = root / "definitions" / "tiers.yml"
    if not tiers.exists():
        tiers.write_text(TIERS_TEMPLATE)
    health = root / "definitions" / HEALTH_MODELS_FILE
    if not health.exists():
        health.write_text(DEFAULT_HEALTH_MODELS_PATH.read_text())
    sources = root / "definitions" / "sources.yml"
    if not sources.exists():
        sources.write_text(SOURCES_TEMPLATE)
    identity = root / "definitions" / IDENTITY_FILE
    if not identity.exists():
        identity.write_text(IDENTITY_TEMPLATE)
    for name, default in ((QUALITY_FILE, DEFAULT_QUALITY_PATH),
                          (LIFECYCLE_FILE, DEFAULT_LIFECYCLE_PATH),
                          (SIGNALS_FILE, DEFAULT_SIGNALS_PATH),
                          (PLAYBOOKS_FILE, DEFAULT_PLAYBOOKS_PATH),
                          (REPORTS_FILE, DEFAULT_REPORTS_PATH)):
        target = root / "definitions" / name
        if not target.exists():
            target.write_text(default.read_text())
    (root / ".gitignore").write_text("data/\nsecrets.yml\n")
    return config
