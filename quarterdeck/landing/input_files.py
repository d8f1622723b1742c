"""Finding input files, telling their format and which entity of the contract each holds."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from quarterdeck.contract.entities import ENTITIES, loading_order
from quarterdeck.errors import UnknownEntityError
from quarterdeck.landing.row_checks import literal

FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".csv.gz": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": "ndjson",
    ".ndjson.gz": "ndjson",
    ".jsonl.gz": "ndjson",
}


@dataclass(frozen=True)
class InputFile:
    path: Path
    entity: str
    format: str

    @property
    def header_lines(self) -> int | None:
        """Lines before the first record (a CSV's header), None for a format without lines."""
        return {"csv": 1, "ndjson": 0}.get(self.format)

    @property
    def is_plain_text(self) -> bool:
        """Text read as it is on disk (not compressed), so its encoding can be checked."""
        return self.format in ("csv", "ndjson") and not self.path.name.lower().endswith(".gz")

    def reader_sql(self, *, row_numbers: bool = False) -> str:
        """A DuckDB table function reading the file, every CSV field as text."""
        p = literal(str(self.path))
        if self.format == "csv":
            delim = "'\\t'" if self.path.name.endswith(".tsv") else "','"
            return (f"read_csv({p}, header = true, all_varchar = true, delim = {delim}, "
                    "quote = '\"', escape = '\"', null_padding = false, auto_detect = true)")
        if self.format == "parquet":
            return f"read_parquet({p}, file_row_number = {str(row_numbers).lower()})"
        return f"read_json({p}, format = 'newline_delimited', sample_size = -1)"


def file_format(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return FORMATS[suffix]
    return None


def entity_from_name(path: Path) -> str | None:
    """`subscriptions.csv`, `subscriptions-2024.parquet`, `Subscriptions_EU.csv` → subscriptions."""
    stem = path.name.lower().split(".")[0]
    for name in sorted(ENTITIES, key=len, reverse=True):
        if re.fullmatch(rf"{name}([-_ ].*)?", stem):
            return name
    return None


def discover(paths: list[Path], entity: str | None = None) -> list[InputFile]:
    """Every loadable file under `paths` (files or folders), in loading order."""
    found: list[InputFile] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
        candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in candidates:
            fmt = file_format(file)
            if fmt is None:
                if path.is_dir():
                    continue  # folders may hold other things (READMEs, truth files)
                raise UnknownEntityError(
                    f"{file}: unknown file format (use .csv, .parquet or .ndjson)")
            name = entity or entity_from_name(file)
            if name is None:
                if path.is_dir():
                    continue
                raise UnknownEntityError(
                    f"{file}: cannot tell the entity from the file name; name it after one "
                    f"({', '.join(sorted(ENTITIES))}) or pass --entity")
            if name not in ENTITIES:
                raise UnknownEntityError(
                    f"{name!r} is not an entity of the data contract "
                    f"({', '.join(sorted(ENTITIES))})")
            found.append(InputFile(file.resolve(), name, fmt))
    order = {n: i for i, n in enumerate(loading_order(list({f.entity for f in found})))}
    return sorted(found, key=lambda f: (order[f.entity], str(f.path)))


def sha256(path: Path) -> str:
    """Content hash of a file, read in chunks (files may be many GB)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
