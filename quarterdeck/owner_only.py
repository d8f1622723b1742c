"""Files that hold customer data or credentials are readable by their owner only.

The app database holds password hashes and sessions, the warehouse every customer's data; on
a shared machine neither may be readable by other accounts. New folders for them are made
0700 and the database files themselves 0600 (SQLite gives its -wal and -shm files the mode
of the database; DuckDB's WAL sits inside the 0700 folder).
"""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> None:
    """Create `path` (and missing parents) readable by the owner only; an existing folder is
    left as its owner set it."""
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        os.chmod(path, FOLDER_MODE)  # mkdir's mode is masked by the umask


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 if it does not exist; restrict it if it does."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            os.chmod(path, FILE_MODE)
