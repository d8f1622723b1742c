"""Write keys: the secrets a product sends its tracking calls with, one or more per source.

Keys live in the workspace at `data/write_keys.json`, stored only as their SHA-256 hash; the
plaintext is returned once, when the key is created. A revoked key stays in the file (so the
record of who could write, and when, is kept) but no longer authenticates.

Example::

    keys = WriteKeys.for_workspace(ws.data_dir)
    key, plaintext = keys.create("web_app")   # show `plaintext` to the user once
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from quarterdeck.errors import QuarterdeckError
from quarterdeck.landing.landing_area import publish_version, temp_path

WRITE_KEYS_FILE = "write_keys.json"
KEY_PREFIX = "qd_wk_"


class WriteKeyError(QuarterdeckError):
    """A write key cannot be created or revoked as asked (unknown id, bad source name)."""


@dataclass(frozen=True)
class WriteKey:
    key_id: str
    source: str
    key_hash: str
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


class WriteKeys:
    """The workspace's write keys; re-reads the file when it changes, so a revoke takes effect
    in a running server without a restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._keys: list[WriteKey] = []

    @classmethod
    def for_workspace(cls, data_dir: Path) -> WriteKeys:
        return cls(data_dir / WRITE_KEYS_FILE)

    def list(self) -> list[WriteKey]:
        """Every key, revoked ones included, oldest first."""
        with self._lock:
            return list(self._current())

    def create(self, source: str) -> tuple[WriteKey, str]:
        """A new active key for `source`; returns the record and the plaintext (shown once)."""
        if not source or not source.replace("_", "").replace("-", "").isalnum():
            raise WriteKeyError(f"source name {source!r} must be letters, digits, '-' or '_'")
        plaintext = KEY_PREFIX + secrets.token_urlsafe(24)
        key = WriteKey(
            key_id="wk_" + secrets.token_hex(4),
            source=source,
            key_hash=hash_key(plaintext),
            created_at=_now(),
        )
        with self._lock:
            self._save([*self._current(), key])
        return key, plaintext

    def revoke(self, key_id: str) -> WriteKey:
        """Stop `key_id` authenticating; revoking twice keeps the first revocation time."""
        with self._lock:
            keys = self._current()
            for i, key in enumerate(keys):
                if key.key_id == key_id:
                    if key.active:
                        keys[i] = key = replace(key, revoked_at=_now())
                        self._save(keys)
                    return key
        raise WriteKeyError(f"no write key with id {key_id!r}")

    def source_for(self, plaintext: str) -> str | None:
        """The source an active key belongs to, or None for an unknown or revoked key."""
        digest = hash_key(plaintext)
        with self._lock:
            for key in self._current():
                if key.active and secrets.compare_digest(key.key_hash, digest):
                    return key.source
        return None

    def _current(self) -> list[WriteKey]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._keys = None, []
            return []
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            rows = json.loads(self.path.read_text(encoding="utf-8"))
            self._keys = [WriteKey(**row) for row in rows["keys"]]
            self._stamp = stamp
        return list(self._keys)

    def _save(self, keys: list[WriteKey]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path(self.path)
        tmp.write_text(json.dumps({"keys": [asdict(k) for k in keys]}, indent=2) + "\n",
                       encoding="utf-8")
        os.chmod(tmp, 0o600)
        publish_version(tmp, self.path)
        self._stamp = None  # re-read on next use


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
