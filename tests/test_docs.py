"""The reference docs say what the code does: generated pages match, examples are valid."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import ibis
import pytest
import yaml
from pydantic import BaseModel

from quarterdeck.contract.docs import TYPE_FORMATS, render_contract_markdown
from quarterdeck.contract.entities import ENTITIES, SQL_TYPES
from quarterdeck.workspace.docs import render_configuration_markdown
from quarterdeck.workspace.settings import WorkspaceSettings
from quarterdeck.workspace.workspace import Tier, TierDefinitions

DOCS = Path(__file__).resolve().parents[1] / "docs"


def read_doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def entity_section(doc: str, name: str) -> str:
    match = re.search(rf"^### {re.escape(name)}\n(.*?)(?=^### |\Z)", doc, re.S | re.M)
    assert match, f"docs/data-contract.md has no section for entity {name!r}"
    return match.group(1)


def csv_example(doc: str, name: str) -> list[dict[str, str]]:
    section = entity_section(doc, name)
    match = re.search(rf"Example `{re.escape(name)}\.csv`:\n\n```csv\n(.*?)```", section, re.S)
    assert match, f"the {name} section of docs/data-contract.md has no CSV example"
    reader = csv.reader(io.StringIO(match.group(1)))
    header, *rows = list(reader)
    assert rows, f"the {name} example has no data row"
    for i, row in enumerate(rows, start=1):
        assert len(row) == len(header), f"{name} example row {i} has {len(row)} fields"
    return [dict(zip(header, row, strict=True)) for row in rows]


def setting_names(model: type[BaseModel], prefix: str = "") -> list[str]:
    names = []
    for name, info in model.model_fields.items():
        names.append(prefix + name)
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += setting_names(annotation, prefix + name + ".")
    return names


# -- generated pages are current ------------------------------------------------------------


def test_data_contract_doc_matches_the_registry():
    assert read_doc("data-contract.md") == render_contract_markdown(), (
        "docs/data-contract.md is out of date; regenerate it with "
        "`python -m quarterdeck.contract.docs > docs/data-contract.md`"
    )


def test_configuration_doc_matches_the_settings_models():
    assert read_doc("configuration.md") == render_configuration_markdown(), (
        "docs/configuration.md is out of date; regenerate it with "
        "`python -m quarterdeck.workspace.docs > docs/configuration.md`"
    )


# -- nothing undocumented -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ENTITIES))
def test_contract_doc_documents_every_column_of_the_entity(name):
    section = entity_section(read_doc("data-contract.md"), name)
    for column in ENTITIES[name].columns:
        assert f"| `{column.name}` |" in section, f"{name}.{column.name} is undocumented"


def test_every_column_type_has_a_documented_format():
    assert set(TYPE_FORMATS) == set(SQL_TYPES)


def test_configuration_doc_documents_every_setting():
    doc = read_doc("configuration.md")
    names = setting_names(WorkspaceSettings) + setting_names(TierDefinitions)
    names += ["tiers[]." + n for n in setting_names(Tier)]
    missing = [n for n in names if f"`{n}`" not in doc]
    assert not missing, f"settings missing from docs/configuration.md: {missing}"


def test_configuration_doc_names_the_environment_overrides():
    doc = read_doc("configuration.md")
    for variable in ("QUARTERDECK_WORKSPACE", "QUARTERDECK_WAREHOUSE_URL",
                     "QUARTERDECK_APP_DATABASE_URL"):
        assert f"`{variable}`" in doc


# -- examples are valid ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ENTITIES))
def test_contract_example_has_known_and_required_columns(name):
    rows = csv_example(read_doc("data-contract.md"), name)
    ent = ENTITIES[name]
    header = list(rows[0])
    unknown = set(header) - set(ent.column_names)
    assert not unknown, f"{name} example has columns outside the contract: {unknown}"
    required = [c.name for c in ent.columns if c.required]
    for i, row in enumerate(rows, start=1):
        for col in required:
            assert row.get(col), f"{name} example row {i} lacks required {col}"
        for col in ent.columns:
            value = row.get(col.name, "")
            if value and col.allowed:
                assert value.lower() in col.allowed, f"{name} example row {i}: {col.name}"


def test_contract_examples_load_without_a_problem(tmp_path):
    from quarterdeck.ingest import load_into_workspace
    from quarterdeck.workspace.init import init_workspace
    from quarterdeck.workspace.workspace import open_workspace

    doc = read_doc("data-contract.md")
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ENTITIES:
        rows = csv_example(doc, name)
        with (inputs / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    init_workspace(tmp_path / "ws")
    report = load_into_workspace(open_workspace(tmp_path / "ws"), [inputs])
    for result in report.files:
        assert not result.problems, "\n".join(str(p) for p in result.problems)
        assert result.status == "loaded"
    assert {r.entity for r in report.files} == set(ENTITIES)


def yaml_blocks(doc: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", doc, re.S)


def test_configuration_doc_yaml_examples_are_valid():
    blocks = yaml_blocks(read_doc("configuration.md"))
    settings = [b for b in blocks if b.startswith("# quarterdeck.yml")]
    tiers = [b for b in blocks if "\ntiers:" in "\n" + b]
    assert len(settings) >= 2 and tiers
    for block in settings:
        WorkspaceSettings.model_validate(yaml.safe_load(block))
    for block in tiers:
        TierDefinitions.model_validate(yaml.safe_load(block))


# -- the reference rules' worked examples hold in the engine ---------------------------------


MRR_EXAMPLES = [
    # (quantity, unit_price, discount, currency, interval_months, start_date, trial, base MRR)
    ("10", "50", "0.2", "USD", 1, date(2024, 1, 1), False, "400.00"),
    ("1", "1200", "0", "USD", 12, date(2024, 1, 1), False, "100.00"),
    ("1", "108000", "0", "USD", 36, date(2024, 1, 1), False, "3000.00"),
    ("5", "50", "0", "USD", 1, date(2024, 1, 1), True, "0.00"),
    ("3", "100.50", "0", "USD", 12, date(2024, 1, 1), False, "25.13"),
    ("10", "100", "0", "EUR", 1, date(2024, 3, 15), False, "1080.00"),
    ("12", "100", "0", "EUR", 1, date(2025, 3, 15), False, "1344.00"),
    ("1", "33.33", "0", "EUR", 1, date(2024, 6, 1), False, "36.15"),
]


def test_reference_rules_mrr_examples_match_the_engine():
    from quarterdeck.warehouse.schema import canonical_schema
    from quarterdeck.warehouse.subscription_mrr import subscription_mrr

    doc = read_doc("reference-rules.md")
    subs = []
    for i, (qty, price, disc, cur, months, start, trial, _) in enumerate(MRR_EXAMPLES):
        subs.append({
            "subscription_id": f"S-{i}", "account_id": f"A-{i}", "plan": "Pro",
            "quantity": Decimal(qty), "unit_price": Decimal(price), "discount": Decimal(disc),
            "currency": cur, "interval_months": months, "start_date": start, "trial": trial,
        })
    subs_schema = canonical_schema("subscriptions")
    subs_table = ibis.memtable(
        [{c: row.get(c) for c in subs_schema.names} for row in subs], schema=subs_schema)
    rates = [(date(2024, 3, 1), "1.08"), (date(2024, 4, 1), "1.10"), (date(2024, 6, 1), "1.0845"),
             (date(2025, 3, 1), "1.12")]
    fx_table = ibis.memtable(
        [{"date": d, "currency": "EUR", "rate_to_base": Decimal(r)} for d, r in rates],
        schema=canonical_schema("fx_rates"))
    con = ibis.duckdb.connect()
    result = con.execute(subscription_mrr(subs_table, fx_table, as_of=date(2025, 12, 31),
                                          base_currency="USD"))
    got = dict(zip(result["subscription_id"], result["mrr"], strict=True))
    for i, example in enumerate(MRR_EXAMPLES):
        expected = example[-1]
        assert got[f"S-{i}"] == Decimal(expected), f"example {example}"
        shown = f"{Decimal(expected):,.2f}"
        assert shown in doc, f"reference-rules.md does not show the MRR {shown}"


def test_sources_doc_documents_every_source_setting():
    from quarterdeck.sources.config import Source, TableMapping

    text = (DOCS / "sources.md").read_text()
    for name in [*Source.model_fields, *TableMapping.model_fields]:
        assert f"`{name}`" in text, f"docs/sources.md does not document `{name}`"


def test_sources_doc_yaml_examples_are_valid():
    import yaml

    from quarterdeck.sources.config import SourcesConfig

    text = (DOCS / "sources.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:]]
    configs = [yaml.safe_load(b) for b in blocks if b.lstrip().startswith("sources:")]
    assert configs
    for config in configs:
        SourcesConfig.model_validate(config)


def test_every_relative_link_in_the_readme_and_docs_resolves():
    root = DOCS.parent
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = target.split("#")[0]
            if not (page.parent / path).exists():
                broken.append(f"{page.relative_to(root)} → {target}")
    assert not broken, "broken links:\n" + "\n".join(broken)
