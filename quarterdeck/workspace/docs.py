"""Render the configuration reference (docs/configuration.md) from the settings models.

Regenerate with::

    python -m quarterdeck.workspace.docs > docs/configuration.md

tests/test_docs.py fails when the committed file and the models disagree.
"""

from __future__ import annotations

import textwrap
import types
import typing
from collections.abc import Iterator
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from quarterdeck.workspace import workspace as workspace_module
from quarterdeck.workspace.init import TIERS_TEMPLATE
from quarterdeck.workspace.settings import WorkspaceSettings
from quarterdeck.workspace.workspace import (
    CONFIG_FILE,
    ENV_APP_DATABASE_URL,
    ENV_WAREHOUSE_URL,
    ENV_WORKSPACE,
    Tier,
    TierDefinitions,
)

REGENERATE = "python -m quarterdeck.workspace.docs > docs/configuration.md"

# Descriptions for fields whose model leaves them out.
_FALLBACK_DESCRIPTIONS = {
    "tiers": "The tiers, from the highest `min_arr` to the lowest.",
}

# What the code does beyond a field's description, stated where the reader looks.
_NOTES = {
    "timezone": "In this version it decides only which date is today, the default `--as-of`; "
    "the day of a timestamp in the data is always its UTC date "
    "([reference rules](reference-rules.md#days)).",
}

_TYPE_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def type_name(annotation: Any) -> str:
    """A reader's name for a field type: `integer`, `string or empty`, `list of tier`."""
    if annotation is type(None):
        return "empty"
    if annotation in _TYPE_NAMES:
        return _TYPE_NAMES[annotation]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        named = [type_name(a) for a in args if a is not type(None)]
        return " or ".join(named) + (" or empty" if type(None) in args else "")
    if origin is list:
        (item,) = typing.get_args(annotation)
        return f"list of {type_name(item)}"
    if _is_model(annotation):
        return "section" if annotation is not Tier else "tier"
    return getattr(annotation, "__name__", str(annotation))


def _constraints(info: FieldInfo) -> str:
    bounds: dict[str, Any] = {}
    for meta in info.metadata:
        for attr in ("ge", "gt", "le", "lt", "min_length"):
            if getattr(meta, attr, None) is not None:
                bounds[attr] = getattr(meta, attr)
    if "ge" in bounds and "le" in bounds:
        return f"{bounds['ge']}–{bounds['le']}"
    parts = []
    for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
        if attr in bounds:
            parts.append(f"{sign} {bounds[attr]}")
    if "min_length" in bounds:
        parts.append(f"at least {bounds['min_length']}")
    return ", ".join(parts)


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        return "—"
    if info.default is None:
        return "empty"
    return f"`{info.default}`"


def iter_fields(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    """Every field of `model` and its nested sections, as (dotted name, field info)."""
    for name, info in model.model_fields.items():
        dotted = prefix + name
        yield dotted, info
        if _is_model(info.annotation):
            yield from iter_fields(info.annotation, dotted + ".")


def setting_names() -> list[str]:
    """The dotted name of every setting in quarterdeck.yml and tiers.yml (`tiers[].name`)."""
    names = [n for n, _ in iter_fields(WorkspaceSettings)]
    names += [n for n, _ in iter_fields(TierDefinitions)]
    names += ["tiers[]." + n for n, _ in iter_fields(Tier)]
    return names


def _table(rows: Iterator[tuple[str, FieldInfo]]) -> str:
    lines = ["| setting | type | default | allowed | description |", "|---|---|---|---|---|"]
    for dotted, info in rows:
        leaf = dotted.rsplit(".", 1)[-1]
        text = info.description or _FALLBACK_DESCRIPTIONS.get(leaf, "")
        if dotted in _NOTES:
            text += " " + _NOTES[dotted]
        description = text.replace("|", "\\|")
        if _is_model(info.annotation):
            description = f"Section; see [`{dotted}`](#{dotted.replace('.', '')})."
        lines.append(f"| `{dotted}` | {type_name(info.annotation)} | {_default(info)} | "
                     f"{_constraints(info)} | {description} |")
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    return " " + yaml.safe_dump(value).removesuffix("\n...\n").strip()


def example_yaml(model: type[BaseModel] = WorkspaceSettings, indent: int = 0) -> str:
    """A quarterdeck.yml with every setting at its default, each explained by a comment."""
    pad = " " * indent
    out: list[str] = []
    for name, info in model.model_fields.items():
        for line in textwrap.wrap(info.description or "", 96 - indent):
            out.append(f"{pad}# {line}")
        if _is_model(info.annotation):
            out.append(f"{pad}{name}:")
            out.append(example_yaml(info.annotation, indent + 2).rstrip("\n"))
        else:
            out.append(f"{pad}{name}:{_scalar(info.default)}")
    return "\n".join(out) + "\n"


def _layout() -> str:
    doc = workspace_module.__doc__ or ""
    return textwrap.dedent(doc.split("Layout::", 1)[1]).strip("\n") + "\n"


def _sections() -> str:
    out = []
    for dotted, info in iter_fields(WorkspaceSettings):
        if _is_model(info.annotation):
            prefix = dotted + "."
            out.append(f"\n### {dotted}\n\n")
            out.append(_table((prefix + n, i) for n, i in info.annotation.model_fields.items()))
    return "".join(out)


_PRODUCTION = """\
# quarterdeck.yml
name: Acme Software
base_currency: EUR
fiscal_year_start_month: 2
warehouse:
  url: postgres://quarterdeck@warehouse.internal:5432/analytics
app_database:
  url: postgresql+psycopg://quarterdeck@appdb.internal/quarterdeck
server:
  host: 0.0.0.0
  port: 8080
"""


_WEB_VIEW = """\
## Seeing the definitions in the web app

Admins, ops and managers see every definition file as loaded under **Settings**
(`/settings/definitions`; the same as JSON from `GET /api/definitions`): health models,
lifecycle stages and CS segments, signals, playbooks, reports, sources, the team,
`quarterdeck.yml`, tiers, data-quality checks and identity resolution. Each file is read from
the workspace on every visit with the loader `quarterdeck validate` and `quarterdeck run` use,
one file at a time, so one broken file does not hide the others. Edit a file and reload the
page to see it checked again; nothing needs a restart (the book changes at the next run).

| status | meaning |
|---|---|
| ok | the file loads; what it defines is shown in words: each health model with its segments, \
bands and components (weight, share of the weight, points), each lifecycle stage and CS segment \
in order with its condition, each signal with its kind, severity, owner, cool-down and \
evidence, each playbook with its trigger and steps, each report with its audience, schedule \
and channels, each source with the entities it feeds, its freshness and last sync |
| warning | the file loads but names something missing: a source with none of its credentials \
set, a manager or an account owner who is not in the team |
| error | the file does not load: the problem with its file, line and field, as \
`quarterdeck validate` prints it |

A signal with a misspelled kind shows as:

```text
definitions/signals.yml:8 · field signals.0.kind: unknown kind 'plunge'; kinds: threshold, \
change, event, expansion
```

Playbooks name stages, signals and milestones: while `lifecycle.yml` or `signals.yml` has a
problem, playbooks are checked against their own schema only, and the page says so. A file
that is absent shows the shipped default it falls back to.

Secrets are never shown. A password in a connection URL, and query parameters named like a
secret, show as `***`; source options named like a secret (`api_key`, `token`, …) and webhook
addresses written in `reports.yml` as `set (hidden)`; source credentials, and the environment
variables of SMTP and webhook channels, only as set or not set (and for credentials, whether
from the environment or `secrets.yml`).

The team is data, not a definition file: the page shows it as the last `quarterdeck run`
published it, with the rows refused at the latest load of the team file (file, line and field,
from `data/rejects/`). An app started without a workspace (`create_app` called directly, as
tests do) says so instead; `quarterdeck serve` always has one.
"""


def _tier_examples() -> str:
    """Which ARR lands in which tier, for the tiers `quarterdeck init` writes."""
    tiers = TierDefinitions.model_validate(yaml.safe_load(TIERS_TEMPLATE)).tiers
    lines = ["| account ARR | tier |", "|---|---|"]
    ceiling: float | None = None
    for tier in tiers:
        low = f"{tier.min_arr:,.0f}"
        arr = f"≥ {low}" if ceiling is None else f"{low} to under {ceiling:,.0f}"
        lines.append(f"| {arr} | {tier.name} |")
        ceiling = tier.min_arr
    return "\n".join(lines) + "\n"


def render_configuration_markdown() -> str:
    """The full configuration reference, as Markdown, generated from the settings models."""
    top = ((n, i) for n, i in WorkspaceSettings.model_fields.items())
    tier_rows = [(n, i) for n, i in TierDefinitions.model_fields.items()]
    tier_rows += [("tiers[]." + n, i) for n, i in Tier.model_fields.items()]
    return f"""\
# Configuration

<!-- Generated from quarterdeck/workspace/settings.py and workspace.py. Do not edit by hand:
     {REGENERATE} -->

A workspace is a folder holding `{CONFIG_FILE}`, the definition files and the data Quarterdeck
manages. It is meant to live in version control. `quarterdeck init` writes one with the
defaults below, and a `.gitignore` that leaves `data/` out.

```text
{_layout()}```

## {CONFIG_FILE}

Every setting is optional: an empty `{CONFIG_FILE}` means every default. Settings are
validated when the workspace opens; the first problem stops it with the file, line and dotted
setting name. An unknown key is an error, so a misspelling never passes silently:

```text
/srv/acme/{CONFIG_FILE}:3: field 'warehouse.urll': unknown setting (check the spelling; \
see docs/configuration.md)
/srv/acme/{CONFIG_FILE}:2: field 'server.port': Input should be less than or equal to 65535
```

A relative path in a `duckdb://` or `sqlite:///` URL is inside the workspace folder, so
`duckdb://data/warehouse.duckdb` means `<workspace>/data/warehouse.duckdb`. Absolute paths
(`duckdb:///var/lib/qd/warehouse.duckdb`, `sqlite:////var/lib/qd/app.db`) and `:memory:` are
used as given.

### Top level

{_table(top)}{_sections()}
## Environment variables

Environment variables override the file, so one workspace can run on a laptop and in
production, and credentials can stay out of version control.

| variable | overrides | meaning |
|---|---|---|
| `{ENV_WORKSPACE}` | the current folder | Folder to open when no workspace is given (the \
`--workspace` option wins over it). Quarterdeck looks for `{CONFIG_FILE}` there, then in each \
parent folder. |
| `{ENV_WAREHOUSE_URL}` | `warehouse.url` | Warehouse connection URL, when set and not empty. |
| `{ENV_APP_DATABASE_URL}` | `app_database.url` | App database URL, when set and not empty. |

```sh
export {ENV_WAREHOUSE_URL}='postgres://quarterdeck:s3cret@warehouse.internal:5432/analytics'
```

## definitions/tiers.yml

Account tiers by ARR. An account gets the first tier, in file order, whose `min_arr` its ARR
(in the base currency) meets or exceeds, so tiers are listed from the highest `min_arr` to the
lowest; any other order is an error. End with `min_arr: 0` so that every account has a tier.

{_table(iter(tier_rows))}
The file `quarterdeck init` writes:

```yaml
{TIERS_TEMPLATE}```

gives

{_tier_examples()}
{_WEB_VIEW}
## Full example

Every setting at its default, with its description:

```yaml
# {CONFIG_FILE}
{example_yaml()}```

A production workspace on PostgreSQL, reporting in euros, with a fiscal year starting in
February (credentials come from the environment variables above):

```yaml
{_PRODUCTION}```
"""


if __name__ == "__main__":
    print(render_configuration_markdown(), end="")
