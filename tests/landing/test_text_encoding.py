"""Telling UTF-8 from Excel's Windows-1252, streamed over files of any size."""

from __future__ import annotations

from pathlib import Path

import pytest

from quarterdeck.landing import text_encoding
from quarterdeck.landing.text_encoding import (
    UnreadableText,
    first_invalid_utf8,
    transcode_to_utf8,
)


def test_utf8_character_cut_by_a_chunk_boundary_is_still_utf8(tmp_path, monkeypatch):
    monkeypatch.setattr(text_encoding, "CHUNK", 4)
    path = tmp_path / "a.csv"
    path.write_bytes("abcé\nxyzü\n".encode())  # é spans bytes 3–4: across the first boundary
    assert first_invalid_utf8(path) is None


def test_first_invalid_byte_is_found_past_the_first_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr(text_encoding, "CHUNK", 4)
    path = tmp_path / "a.csv"
    path.write_bytes(b"abcdefgh\n\xe9t\xe9\n")
    assert first_invalid_utf8(path) == 9


def test_transcoding_writes_utf8_and_names_the_line_it_cannot_read(tmp_path):
    src = tmp_path / "a.csv"
    src.write_bytes("name\nCafé €\n".encode("cp1252"))
    out = tmp_path / "b.csv"
    transcode_to_utf8(src, "cp1252", out)
    assert out.read_text("utf-8") == "name\nCafé €\n"

    src.write_bytes(b"name\nok\n\x81\n")  # 0x81 has no character in Windows-1252
    with pytest.raises(UnreadableText, match=r"cannot be read as cp1252 \(line 3\)"):
        transcode_to_utf8(src, "cp1252", out)


def test_text_in_an_asian_encoding_is_not_taken_for_windows_1252(tmp_path: Path):
    path = tmp_path / "accounts.csv"
    path.write_bytes("account_id,name\na1,株式会社テスト\na2,東京システム\n".encode("shift_jis"))
    with pytest.raises(UnreadableText, match="accounts.csv is not UTF-8"):
        text_encoding.text_encoding(path)


@pytest.mark.parametrize("text", ["Łódź Spółka", "Zażółć gęślą", "Wrocław Łąka"])
def test_short_central_european_text_is_not_taken_for_windows_1252(tmp_path, text):
    path = tmp_path / "accounts.csv"
    path.write_bytes(f"account_id,name\na1,{text}\n".encode("cp1250"))
    with pytest.raises(UnreadableText, match="accounts.csv is not UTF-8"):
        text_encoding.text_encoding(path)


@pytest.mark.parametrize("text", ["O’Brien & Søn", "Nº 5 – 20 m² café", "¿Qué tal? Señor",
                                  "Crème brûlée £12", "Cœur d’Alène"])
def test_western_text_with_symbols_is_still_windows_1252(tmp_path, text):
    path = tmp_path / "accounts.csv"
    path.write_bytes(f"account_id,name\na1,{text}\n".encode("cp1252"))
    assert text_encoding.text_encoding(path).encoding == "cp1252"


def test_a_valid_utf8_file_stays_utf8_whatever_encoding_is_asked(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("account_id,name\na1,Société\n", encoding="utf-8")
    assert text_encoding.text_encoding(path, "cp1252").encoding == "utf-8"
    path.write_bytes("account_id,name\na1,Société\n".encode("cp1252"))
    assert text_encoding.text_encoding(path, "latin-1").encoding == "iso8859-1"
    with pytest.raises(UnreadableText, match="although --encoding utf-8 was given"):
        text_encoding.text_encoding(path, "utf-8")
