"""Read a YAML file and validate it against a Pydantic model, with errors naming file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from quarterdeck.errors import WorkspaceError

M = TypeVar("M", bound=BaseModel)


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc` (the deepest existing one)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    node, line = value, key.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


# libyaml's safe loader when PyYAML was built with it (its wheels are): the same documents,
# about ten times faster than the pure-Python one, which the definitions page felt.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse `path`, returning the data and the node tree used to find line numbers."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise WorkspaceError(str(path), None, None, "file not found") from exc
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
        data = yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise WorkspaceError(str(path), line, None, f"not valid YAML: {exc.problem}") from exc
    return data, node


def load_model(path: Path, model: type[M]) -> M:
    """Validate the YAML file at `path` as `model`; the first problem raises WorkspaceError."""
    data, node = read_yaml(path)
    if data is None:
        data = {}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc) or None
        reason = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            reason = "unknown setting (check the spelling; see docs/configuration.md)"
        raise WorkspaceError(str(path), _line_of(node, loc), field, reason) from exc


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc` in a tree from `read_yaml` (for checks that
    run after the schema's own, e.g. names defined in another file)."""
    return _line_of(node, loc)
