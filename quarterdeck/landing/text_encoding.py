"""Text files as users export them: UTF-8, or Windows-1252 (Excel's default "CSV" on many
machines, a superset of Latin-1's printable characters), told apart before DuckDB reads them.

DuckDB reads UTF-8 only. A file that is not UTF-8 is read as Windows-1252 when that is what its
bytes look like (judged by charset-normalizer's mess detector on the text around the first
non-UTF-8 byte) or as the encoding the user named with `--encoding`; it is then transcoded to a
UTF-8 copy in chunks. Anything else is refused with one sentence saying what to do.

Example::

    decoding = text_encoding(Path("accounts.csv"), requested=None)
    decoding.encoding  # 'utf-8', or 'cp1252' for a file saved by Excel on Windows
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from quarterdeck.errors import QuarterdeckError

CHUNK = 1 << 20
SAMPLE_BEFORE = 1 << 14  # bytes of context before the first non-UTF-8 byte
SAMPLE_AFTER = 1 << 18
DETECTED = "cp1252"  # the one legacy encoding told apart from UTF-8 without being asked
MAX_CHAOS = 0.1  # mess-detector score above which the text is not plausibly that encoding
WHITESPACE = b" \t\r\n\xef\xbb\xbf"  # and a UTF-8 byte order mark
# Symbols Windows-1252 gives to bytes that other code pages use for letters (Central European
# ł ą ż, Baltic, Cyrillic): between two letters they betray a wrong guess ("Spó³ka" is
# "Spółka"), which the mess detector can miss in a short file. Ÿ is ź after a letter.
LETTER_BYTES_AS_SYMBOLS = re.compile(r"(?<=[^\W\d_])[¤¦¨¯´¸¹²³¼½¾¬±×÷£¥¿¡](?=[^\W\d_])"
                                     r"|(?<=[^\W\d_])Ÿ")


class UnreadableText(QuarterdeckError):
    """A text file is not in the encoding it was taken to be, or is empty."""


@dataclass(frozen=True)
class Decoding:
    """How a text file is read: its encoding, and whether it was detected rather than UTF-8 or
    named by the user."""

    encoding: str
    detected: bool = False

    @property
    def is_utf8(self) -> bool:
        return codecs.lookup(self.encoding).name == "utf-8"


def text_encoding(path: Path, requested: str | None = None) -> Decoding:
    """The encoding to read `path` with; raises UnreadableText with the sentence to show.

    A file that is valid UTF-8 is read as UTF-8 even when another encoding is `requested`
    (text in a legacy encoding is almost never valid UTF-8, and one `--encoding` serves a
    whole folder of files, some of them UTF-8)."""
    if is_empty(path):
        raise UnreadableText(f"{path.name} is empty: it has no header and no rows")
    name = None
    if requested is not None:
        try:
            name = codecs.lookup(requested).name
        except LookupError:
            raise UnreadableText(f"{requested!r} is not an encoding Python knows "
                                 "(e.g. utf-8, cp1252, latin-1)") from None
    bad = first_invalid_utf8(path)
    if bad is None:
        return Decoding("utf-8")
    if name is not None and name != "utf-8":
        return Decoding(name)
    line = _line_of(path, bad)
    if name is None and _looks_like(path, bad, DETECTED):
        return Decoding(DETECTED, detected=True)
    if name is not None:
        raise UnreadableText(f"{path.name} is not UTF-8 (line {line}), although --encoding "
                             f"{requested} was given: save it as UTF-8 or pass the encoding it "
                             "was saved in (e.g. --encoding cp1252)")
    raise UnreadableText(f"{path.name} is not UTF-8 (line {line}): save it as UTF-8 or pass "
                         "--encoding cp1252 (or the encoding it was saved in)")


def is_empty(path: Path) -> bool:
    """Nothing but whitespace (or a byte order mark) in the file."""
    if path.stat().st_size > CHUNK:
        return False
    return not path.read_bytes().strip(WHITESPACE)


def first_invalid_utf8(path: Path) -> int | None:
    """Byte offset of the first byte that is not valid UTF-8, or None; streamed in chunks."""
    base, carry = 0, b""
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            data = carry + chunk
            if not data:
                return None
            try:
                data.decode("utf-8")
                carry = b""
            except UnicodeDecodeError as exc:
                if not (chunk and exc.reason == "unexpected end of data"):
                    return base + exc.start
                carry = data[exc.start:]  # a character cut by the chunk boundary
            base += len(data) - len(carry)


def transcode_to_utf8(path: Path, encoding: str, out: Path) -> None:
    """Write `path`, read as `encoding`, to `out` as UTF-8; raises UnreadableText at the
    first byte the encoding cannot decode."""
    decoder = codecs.getincrementaldecoder(encoding)()
    base = 0
    with path.open("rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
        while True:
            chunk = src.read(CHUNK)
            try:
                dst.write(decoder.decode(chunk, final=not chunk))
            except UnicodeDecodeError as exc:
                line = _line_of(path, base + max(exc.start, 0))
                raise UnreadableText(
                    f"{path.name} cannot be read as {encoding} (line {line}): save it as UTF-8 "
                    "or pass the encoding it was saved in with --encoding") from None
            if not chunk:
                return
            base += len(chunk)


def _looks_like(path: Path, offset: int, encoding: str) -> bool:
    """Whether the text around `offset` reads plausibly in `encoding`."""
    start = max(0, offset - SAMPLE_BEFORE)
    with path.open("rb") as fh:
        fh.seek(start)
        sample = fh.read(offset - start + SAMPLE_AFTER)
    best = from_bytes(sample, cp_isolation=[encoding], threshold=MAX_CHAOS).best()
    if best is None or LETTER_BYTES_AS_SYMBOLS.search(str(best)):
        return False
    try:  # the whole file must decode, not only the sample
        decoder = codecs.getincrementaldecoder(encoding)()
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                decoder.decode(chunk)
    except UnicodeDecodeError:
        return False
    return True


def _line_of(path: Path, offset: int) -> int:
    """1-based line number of the byte at `offset`."""
    newlines, read = 0, 0
    with path.open("rb") as fh:
        while read < offset:
            chunk = fh.read(min(CHUNK, offset - read))
            if not chunk:
                break
            newlines += chunk.count(b"\n")
            read += len(chunk)
    return newlines + 1
