"""The data folder is private to the user the console runs as: directories 0700, files 0600.

It holds the SQLite database (password hashes, sessions), the secret key, uploads, model files and
batch prediction results. Every process of the console (web server, worker, management commands)
imports the settings first, and the settings set a umask of 0o077 before anything is written, so
every file and folder made afterwards (by Django, SQLite, mlcore's writers, tempfile, os.replace)
is private without each writer having to remember it. A data folder or database made before that
is tightened at start-up.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600
# SQLite's companions of a database file, which hold the same rows.
SQLITE_COMPANIONS = ("", "-journal", "-wal", "-shm")


def use_private_umask() -> None:
    """New files 0600 and new folders 0700 for the rest of this process and its children."""
    os.umask(PRIVATE_UMASK)


def make_private_folder(folder: Path) -> None:
    """Create `folder` as 0700, or tighten the one that is there (if it is ours to change)."""
    folder.mkdir(parents=True, exist_ok=True)
    tighten(folder, PRIVATE_DIRECTORY)


def tighten_sqlite_database(database: dict[str, object]) -> None:
    """Make an SQLite database file (and its journal) 0600; other engines keep their own files."""
    if database.get("ENGINE") != "django.db.backends.sqlite3":
        return
    name = str(database.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    for suffix in SQLITE_COMPANIONS:
        tighten(Path(name + suffix), PRIVATE_FILE)


def tighten(path: Path, mode: int) -> None:
    """chmod `path` to `mode` if it exists, is ours and allows more; anything else is left as is."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return
    if stat.S_IMODE(status.st_mode) & ~mode == 0:
        return
    if status.st_uid != os.getuid():
        # A folder another user owns (a mounted volume): not ours to change, say so.
        logger.warning("%s is readable by others (mode %o)", path, stat.S_IMODE(status.st_mode))
        return
    path.chmod(mode)
