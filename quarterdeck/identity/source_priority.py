"""Which source an account came from, and how far each source is trusted.

An account id carries its source as a prefix (`stripe:cus_N1`); ids without a registered
prefix came from loaded files or the tracking API, the source `files`. By default files rank
first (the team curated them), then warehouse tables, CRMs, billing and the help desk;
`source_priority` in identity.yml reorders them, and `survivorship` reorders them per field.

Example: priority_order(["zendesk"], {"crm": "hubspot", "zendesk": "zendesk"})
== ["zendesk", "files", "crm"].
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

FILES_SOURCE = "files"
# Default trust by connector kind: lower ranks first.
KIND_RANK = {"files": 0, "warehouse_table": 1, "hubspot": 2, "salesforce": 2, "stripe": 3,
             "zendesk": 4}
UNKNOWN_KIND_RANK = 5


def account_source(account_id: str, sources: Iterable[str]) -> str:
    """The source an account id came from, by its prefix (`files` when none is registered)."""
    prefix, sep, _ = account_id.partition(":")
    return prefix if sep and prefix in sources else FILES_SOURCE


def default_order(source_kinds: Mapping[str, str]) -> list[str]:
    """Every source, most trusted first: by kind (files, warehouse tables, CRMs, billing, help
    desk), then by name."""
    kinds = {FILES_SOURCE: FILES_SOURCE, **source_kinds}
    return sorted(kinds, key=lambda s: (KIND_RANK.get(kinds[s], UNKNOWN_KIND_RANK), s))


def priority_order(preferred: Iterable[str], source_kinds: Mapping[str, str],
                   fallback: Iterable[str] | None = None) -> list[str]:
    """`preferred` sources first, then the others in `fallback` order (default order when
    none); names not configured are kept, so an override may name a source added later."""
    preferred = list(preferred)
    rest = list(fallback) if fallback is not None else default_order(source_kinds)
    return preferred + [s for s in rest if s not in preferred]
