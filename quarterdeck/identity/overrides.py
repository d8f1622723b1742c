"""Recording a manual `confirm` or `split` in `definitions/identity.yml`, comments kept.

The file is edited as text at the positions the YAML parser reports, so the user's comments,
order and spacing survive: a new pair is added as a `- [a, b]` line under its list (the list
is created at the end of the file when missing), and the same pair is taken out of the other
list (a pair cannot be both). The result is validated before it replaces the file, which is
written atomically.

Example: record_override(ws.definitions_dir, "split", "acct-1", "acct-2").
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml

from quarterdeck.errors import WorkspaceError
from quarterdeck.identity.definitions import IDENTITY_FILE, IdentityDefinitions
from quarterdeck.workspace.yaml_source import load_model

Kind = Literal["confirm", "split"]
TEMPLATE = """\
# Identity resolution: how accounts from every source are matched into one customer.
# Every setting is described in docs/identity.md; all are optional.
# threshold: 0.9        # pairs scoring at least this merge
# review_band: 0.4      # pairs scoring from threshold - review_band go to review
# source_priority: [files]
"""


def _pair_text(a: str, b: str) -> str:
    return yaml.safe_dump([a, b], default_flow_style=True, width=1_000).strip()


def _top_level(node: yaml.Node | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if k.value == key:
            return k, v
    return None


def _offset(text: str, mark: yaml.Mark) -> int:
    return mark.index if mark.index <= len(text) else len(text)


def _remove(text: str, key: str, pair: frozenset[str]) -> str:
    """`text` without the `key` entry naming `pair` (either order)."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    found = _top_level(node, key)
    if found is None or not isinstance(found[1], yaml.SequenceNode):
        return text
    _, seq = found
    items = [i for i in seq.value if isinstance(i, yaml.SequenceNode)
             and frozenset(str(v.value) for v in i.value) == pair]
    if not items:
        return text
    if seq.flow_style:
        kept = [[str(v.value) for v in i.value] for i in seq.value if i not in items]
        value = yaml.safe_dump(kept, default_flow_style=True, width=1_000).strip()
        start, end = _offset(text, seq.start_mark), _offset(text, seq.end_mark)
        return text[:start] + value + text[end:]
    lines = text.splitlines(keepends=True)
    drop = {n for i in items for n in range(i.start_mark.line, i.end_mark.line + 1)}
    text = "".join(line for n, line in enumerate(lines) if n not in drop)
    return text


def _add(text: str, key: str, a: str, b: str) -> str:
    """`text` with `[a, b]` appended to the `key` list (created when missing)."""
    node = yaml.compose(text, Loader=yaml.SafeLoader) if text.strip() else None
    found = _top_level(node, key)
    entry = _pair_text(a, b)
    if found is None:
        sep = "" if not text or text.endswith("\n") else "\n"
        return f"{text}{sep}{key}:\n  - {entry}\n"
    key_node, value = found
    if isinstance(value, yaml.SequenceNode) and not value.flow_style and value.value:
        last = value.value[-1]
        indent = " " * value.start_mark.column
        end = _offset(text, last.end_mark)
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        return text[:line_end] + f"\n{indent}- {entry}" + text[line_end:]
    existing = [[str(v.value) for v in i.value] for i in getattr(value, "value", [])
                if isinstance(i, yaml.SequenceNode)] if isinstance(value, yaml.SequenceNode) \
        else []
    block = "".join(f"\n  - {_pair_text(*p)}" for p in [*existing, [a, b]])
    start = _offset(text, key_node.end_mark) + 1  # just after the colon
    end = _offset(text, value.end_mark) if not (
        isinstance(value, yaml.ScalarNode) and value.value == "") else start
    return text[:start] + block + text[end:]


def record_override(definitions_dir: Path, kind: Kind, a: str, b: str) -> bool:
    """Add `[a, b]` to `kind` (confirm or split) in identity.yml, taking it out of the other
    list; False when it was already there. Raises WorkspaceError if the result is invalid."""
    if a == b:
        raise ValueError("name two different accounts")
    path = definitions_dir / IDENTITY_FILE
    text = path.read_text(encoding="utf-8") if path.exists() else TEMPLATE
    current = load_model(path, IdentityDefinitions) if path.exists() else IdentityDefinitions()
    pair = frozenset((a, b))
    if pair in {frozenset(p) for p in getattr(current, kind)}:
        return False
    other = "split" if kind == "confirm" else "confirm"
    text = _add(_remove(text, other, pair), kind, a, b)
    definitions_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        try:
            load_model(tmp, IdentityDefinitions)  # what we write must validate
        except WorkspaceError as exc:
            raise WorkspaceError(str(path), exc.line, exc.field, exc.reason) from exc
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return True
