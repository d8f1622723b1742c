"""Source credentials: from the environment, else the workspace's `secrets.yml`; never printed.

For a source named `stripe`, the secret `api_key` is read from `QUARTERDECK_STRIPE_API_KEY`
(the name upper-cased, `-` as `_`), else from `secrets.yml` at the workspace root::

    stripe:
      api_key: sk_live_...

`secrets.yml` must be readable by its owner only (mode 0600), like an SSH key; Quarterdeck
refuses a file others can read. Values are `pydantic.SecretStr`, whose repr and str are
masked, so a secret cannot end up in a log line or a traceback by accident.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import SecretStr

from quarterdeck.errors import QuarterdeckError

SECRETS_FILE = "secrets.yml"


def env_name(source: str, key: str) -> str:
    return f"QUARTERDECK_{source}_{key}".upper().replace("-", "_")


class MissingCredential(QuarterdeckError):
    pass


class Credentials:
    """The secrets of one source."""

    def __init__(self, source: str, values: Mapping[str, SecretStr]) -> None:
        self.source = source
        self._values = dict(values)

    def get(self, key: str) -> SecretStr | None:
        return self._values.get(key)

    def require(self, key: str) -> str:
        """The secret's value, for handing to the vendor's client only."""
        value = self._values.get(key)
        if value is None or not value.get_secret_value():
            raise MissingCredential(
                f"source {self.source!r} needs {key!r}: set {env_name(self.source, key)} or "
                f"add `{self.source}: {{{key}: ...}}` to {SECRETS_FILE}")
        return value.get_secret_value()

    def __repr__(self) -> str:
        return f"Credentials({self.source!r}, keys={sorted(self._values)})"


def _secrets_file(root: Path) -> dict:
    path = root / SECRETS_FILE
    if not path.exists():
        return {}
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise QuarterdeckError(f"{path}: readable by others (mode {stat.filemode(mode)}); "
                               f"run `chmod 600 {path}`")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        # The parser's message would quote the file's text, secrets included.
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f":{line + 1}" if line is not None else ""
        raise QuarterdeckError(f"{path}{where}: not valid YAML") from None
    if not isinstance(data, dict):
        raise QuarterdeckError(f"{path}: expected a mapping of source name to its secrets")
    return data


def load_credentials(root: Path, source: str, keys: tuple[str, ...]) -> Credentials:
    """The `keys` of `source`: each from its environment variable, else from secrets.yml."""
    from_file = _secrets_file(root).get(source) or {}
    if not isinstance(from_file, dict):
        raise QuarterdeckError(f"{root / SECRETS_FILE}: {source!r} should map secret names to "
                               "values")
    values = {}
    for key in keys:
        value = os.environ.get(env_name(source, key))
        if value is None and from_file.get(key) is not None:
            value = str(from_file[key])
        if value is not None:
            values[key] = SecretStr(value)
    return Credentials(source, values)
