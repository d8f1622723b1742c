"""Loading contract files: validate every row, land a version, update the canonical table.

One file is one unit of work:

1. its rows are read and checked in one vectorised pass (types, required values, allowed
   values, ranges, date order), then checked as a set (duplicate ids, references);
2. if any row is wrong the file is refused whole (or, with `skip_invalid`, only the wrong rows
   are), and every problem is written to a rejects CSV as file, row, field, value, reason;
3. the valid rows land as a new Parquet version (atomic, append-only);
4. in ONE warehouse transaction the canonical table gets the version's rows (rows whose ids
   already exist are replaced) and the load is recorded in the manifest. A crash before the
   commit leaves the warehouse as it was; the orphaned version is removed by the next load.

The same bytes loaded again are recognised by their hash and change nothing. A text file
that is not UTF-8 is read in the encoding detected or named (see `text_encoding`), and
problems are placed as the file's user counts: `line 3 (row 2 of data)` in a CSV.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from quarterdeck.contract.entities import ENTITIES, Entity
from quarterdeck.errors import Problem
from quarterdeck.landing import landing_area, landing_views
from quarterdeck.landing.input_files import InputFile, discover, sha256
from quarterdeck.landing.manifest import Manifest
from quarterdeck.landing.row_checks import (
    ColumnSQL,
    column_sql,
    literal,
    problems_list_sql,
    quote,
)
from quarterdeck.landing.set_checks import set_problems_sql
from quarterdeck.landing.text_encoding import UnreadableText, text_encoding, transcode_to_utf8

ROW = "__qd_row"
PROBLEMS = "__qd_problems"
SHOWN_PROBLEMS = 200

Progress = Callable[[str, str], None]


@dataclass
class FileResult:
    """What happened to one input file."""

    file: str
    entity: str
    status: str  # loaded | unchanged | rejected
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    problems: list[Problem] = field(default_factory=list)
    total_problems: int = 0
    rejects_file: str | None = None
    version: str | None = None
    encoding: str | None = None  # when not UTF-8: the encoding it was read in
    encoding_detected: bool = False


@dataclass
class LoadReport:
    files: list[FileResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No file was refused (rows skipped on request with --skip-invalid are not failures)."""
        return not any(f.status == "rejected" for f in self.files)


def ensure_canonical_tables(con: duckdb.DuckDBPyConnection, landing_dir: Path) -> None:
    """Create every canonical table (empty) and the manifest, so readers never miss one;
    (re)create the views over landed versions (the workspace may have moved)."""
    manifest = Manifest(con)
    manifest.ensure()
    for ent in ENTITIES.values():
        if ent.storage == "landing":
            landing_views.refresh_view(con, ent, landing_dir, manifest.versions(ent.name))
            continue
        cols = ", ".join(f"{quote(c.name)} {c.sql_type}" for c in ent.columns)
        con.execute(f"CREATE TABLE IF NOT EXISTS {quote(ent.name)} ({cols})")
        for c in ent.columns:  # columns the contract gained after the table was made
            con.execute(f"ALTER TABLE {quote(ent.name)} ADD COLUMN IF NOT EXISTS "
                        f"{quote(c.name)} {c.sql_type}")


class Loader:
    """Loads contract files into a DuckDB warehouse and its landing area."""

    def __init__(self, con: duckdb.DuckDBPyConnection, landing_dir: Path, rejects_dir: Path,
                 *, progress: Progress | None = None) -> None:
        self.con = con
        self.landing_dir = landing_dir
        self.rejects_dir = rejects_dir
        self.manifest = Manifest(con)
        self.progress = progress or (lambda file, stage: None)
        con.execute("SET enable_progress_bar = false")
        # CSV and NDJSON rows are numbered in file order, which needs insertion order kept.
        con.execute("SET preserve_insertion_order = true")
        ensure_canonical_tables(con, landing_dir)
        landing_area.remove_orphans(landing_dir, self.manifest.committed_versions())

    def load(self, paths: list[Path], *, entity: str | None = None,
             skip_invalid: bool = False, encoding: str | None = None) -> LoadReport:
        """Load every file under `paths`; `encoding` names the encoding of text files that
        are not UTF-8 (default: UTF-8, or Windows-1252 when detected)."""
        report = LoadReport()
        for input_file in discover(paths, entity):
            report.files.append(self.load_file(input_file, skip_invalid=skip_invalid,
                                               encoding=encoding))
        return report

    def load_file(self, f: InputFile, *, skip_invalid: bool = False,
                  encoding: str | None = None) -> FileResult:
        name = str(f.path)
        self.progress(name, "hashing")
        digest = sha256(f.path)
        if self.manifest.has(f.entity, digest):
            return FileResult(name, f.entity, "unchanged")
        self.progress(name, "reading and checking rows")
        try:
            with self._utf8(f, encoding) as (readable, used):
                result = self._check_and_load(f, readable, digest, skip_invalid=skip_invalid)
        except UnreadableText as exc:
            problem = Problem(name, None, None, None, str(exc))
            return FileResult(name, f.entity, "rejected", problems=[problem], total_problems=1)
        if used is not None:
            result.encoding, result.encoding_detected = used.encoding, used.detected
        return result

    @contextmanager
    def _utf8(self, f: InputFile, encoding: str | None
              ) -> Iterator[tuple[InputFile, Any]]:
        """The file as DuckDB can read it: itself, or a UTF-8 copy of a text file in another
        encoding (removed afterwards); with the encoding used when it was not UTF-8."""
        if f.path.stat().st_size == 0:
            raise UnreadableText(f"{f.path.name} is empty: it has no header and no rows")
        if not f.is_plain_text:
            yield f, None
            return
        decoding = text_encoding(f.path, encoding)
        if decoding.is_utf8:
            yield f, None
            return
        tmp_root = self.landing_dir.parent / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=tmp_root) as tmp:
            copy = Path(tmp) / f.path.name
            transcode_to_utf8(f.path, decoding.encoding, copy)
            yield dataclasses.replace(f, path=copy), decoding

    def _check_and_load(self, f: InputFile, readable: InputFile, digest: str, *,
                        skip_invalid: bool) -> FileResult:
        """Check `readable` (the file, or its UTF-8 copy) row by row and as a set, then land
        and commit its valid rows under the original file's name and hash."""
        ent = ENTITIES[f.entity]
        name = str(f.path)
        try:
            originals, source_types = self._source_columns(readable)
        except duckdb.Error as exc:
            problem = Problem(name, None, None, None, f"cannot read the file: {_plain(exc)}")
            return FileResult(name, f.entity, "rejected", problems=[problem], total_problems=1)
        missing = [c.name for c in ent.columns if c.required and c.name not in source_types]
        if missing:
            problems = [Problem(name, None, c, None, "required column is missing from the header")
                        for c in missing]
            rows_read = self.con.execute(
                f"SELECT count(*) FROM {readable.reader_sql()}").fetchall()[0][0]
            return FileResult(name, f.entity, "rejected", rows_read=rows_read,
                              problems=problems, total_problems=len(problems))
        custom = [c for c in source_types if c not in ent.column_names]
        self._stage(readable, ent, originals, source_types, custom)
        self.progress(name, "checking ids and references")
        self._collect_problems(ent, f.header_lines)
        rows_read = self.con.execute("SELECT count(*) FROM _qd_stage").fetchall()[0][0]
        total, bad_rows = self.con.execute(
            f"SELECT count(*), count(DISTINCT {ROW}) FROM _qd_problems").fetchall()[0]
        result = FileResult(name, f.entity, "loaded", rows_read=rows_read,
                            total_problems=total, rows_rejected=bad_rows)
        if total:
            result.problems = self._shown_problems(name, f.header_lines)
            result.rejects_file = str(self._write_rejects(f, name))
            if not skip_invalid:
                result.status = "rejected"
                return result
        self.progress(name, "landing")
        version = self._land(f, ent, custom, digest)
        self.progress(name, "updating the warehouse")
        result.rows_loaded = self._commit(f, ent, custom, digest, version, rows_read, bad_rows)
        result.version = str(version.relative_to(self.landing_dir))
        return result

    # -- steps ---------------------------------------------------------------------------

    def _source_columns(self, f: InputFile) -> tuple[dict[str, str], dict[str, str]]:
        """The file's columns by normalised name (trimmed, lower-case): their original names
        in the file, and their DuckDB types."""
        rows = self.con.execute(f"DESCRIBE SELECT * FROM {f.reader_sql()}").fetchall()
        originals: dict[str, str] = {}
        types: dict[str, str] = {}
        for col_name, col_type, *_ in rows:
            key = col_name.strip().lower()
            if key in types or not key:
                continue
            originals[key] = col_name
            types[key] = col_type
        return originals, types

    def _stage(self, f: InputFile, ent: Entity, originals: dict[str, str],
               source_types: dict[str, str], custom: list[str]) -> None:
        """One pass over the file: typed values and each row's problems, into a temp table."""
        renamed = ", ".join(f"{quote(originals[k])} AS {quote(k)}" for k in source_types)
        cols: dict[str, ColumnSQL] = {
            c.name: column_sql(c, source_types.get(c.name)) for c in ent.columns}
        typed = [f"{cs.typed} AS {quote(n)}" for n, cs in cols.items()]
        typed += [f"NULLIF(TRIM(CAST({quote(c)} AS VARCHAR)), '') AS {quote(c)}"
                  if not source_types[c].startswith("STRUCT")
                  else f"to_json({quote(c)})::VARCHAR AS {quote(c)}" for c in custom]
        # Parquet numbers its rows while reading in parallel; other formats need a window.
        numbered = (f"SELECT file_row_number + 1 AS {ROW}, {renamed} FROM "
                    f"{f.reader_sql(row_numbers=True)}" if f.format == "parquet" else
                    f"SELECT row_number() OVER () AS {ROW}, {renamed} FROM {f.reader_sql()}")
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE _qd_stage AS SELECT {ROW}, {', '.join(typed)}, "
            f"{problems_list_sql(ent, cols)} AS {PROBLEMS} FROM ({numbered})")

    def _collect_problems(self, ent: Entity, header_lines: int | None) -> None:
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE _qd_problems AS "
            f"SELECT {ROW}, p.field, p.value, p.reason FROM ("
            f"SELECT {ROW}, unnest({PROBLEMS}) AS p FROM _qd_stage WHERE len({PROBLEMS}) > 0)")
        for sql in set_problems_sql(ent, "_qd_stage", ROW, header_lines):
            self.con.execute(f"INSERT INTO _qd_problems {sql}")

    def _shown_problems(self, name: str, header_lines: int | None) -> list[Problem]:
        rows = self.con.execute(
            f"SELECT {ROW}, field, value, reason FROM _qd_problems "
            f"ORDER BY {ROW}, field LIMIT {SHOWN_PROBLEMS}").fetchall()
        return [Problem(name, r, fld, val, why, None if header_lines is None else r + header_lines)
                for r, fld, val, why in rows]

    def _write_rejects(self, f: InputFile, name: str) -> Path:
        self.rejects_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.rejects_dir / f"{f.entity}-{stamp}-{f.path.stem}.rejects.csv"
        line = "NULL" if f.header_lines is None else f"{ROW} + {f.header_lines}"
        self.con.execute(
            f"COPY (SELECT {literal(name)} AS file, {line} AS line, {ROW} AS row, field, value, "
            f"reason "
            f"FROM _qd_problems ORDER BY {ROW}, field) TO {literal(str(path))} (HEADER)")
        return path

    def _land(self, f: InputFile, ent: Entity, custom: list[str], digest: str) -> Path:
        final = landing_area.version_path(self.landing_dir, f.entity, digest)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = landing_area.temp_path(final)
        cols = ", ".join(quote(c) for c in ent.column_names + custom)
        self.con.execute(
            f"COPY (SELECT {cols} FROM _qd_stage WHERE {ROW} NOT IN "
            f"(SELECT {ROW} FROM _qd_problems)) TO {literal(str(tmp))} "
            f"(FORMAT parquet, COMPRESSION zstd)")
        landing_area.publish_version(tmp, final)
        return final

    def _commit(self, f: InputFile, ent: Entity, custom: list[str], digest: str, version: Path,
                rows_read: int, rows_rejected: int) -> int:
        table = quote(ent.name)
        # The staged rows are exactly what the version holds; reading them from the temp
        # table spares decoding the Parquet file again.
        src = f"(SELECT * EXCLUDE ({ROW}, {PROBLEMS}) FROM _qd_stage WHERE {ROW} NOT IN " \
              f"(SELECT {ROW} FROM _qd_problems))"
        keys = " AND ".join(f"t.{quote(k)} = n.{quote(k)}" for k in ent.key)
        key_cols = ", ".join(quote(k) for k in ent.key)
        con = self.con
        relative = str(version.relative_to(self.landing_dir))
        con.execute("BEGIN TRANSACTION")
        try:
            if ent.storage == "landing":
                older = self.manifest.versions(ent.name)
                landing_views.supersede(con, ent, self.landing_dir, older, src)
                loaded = rows_read - rows_rejected
                landing_views.refresh_view(con, ent, self.landing_dir, [*older, relative])
                self.manifest.record(
                    entity=ent.name, source=str(f.path), digest=digest, version=relative,
                    rows_read=rows_read, rows_loaded=loaded, rows_rejected=rows_rejected)
                con.execute("COMMIT")
                return loaded
            for c in custom:
                con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {quote(c)} VARCHAR")
            if con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]:
                con.execute(f"DELETE FROM {table} t USING (SELECT DISTINCT {key_cols} FROM {src})"
                            f" n WHERE {keys}")
            loaded = con.execute(
                f"INSERT INTO {table} BY NAME SELECT * FROM {src}").fetchall()[0][0]
            self.manifest.record(
                entity=ent.name, source=str(f.path), digest=digest, version=relative,
                rows_read=rows_read, rows_loaded=loaded, rows_rejected=rows_rejected)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return loaded


def _plain(exc: duckdb.Error) -> str:
    """The first line of a DuckDB error, without its class name and diagnostics."""
    first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
    return re.sub(r"^[A-Za-z ]*Error: ", "", first)
