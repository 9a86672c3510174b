"""Files that hold keys or personal data (the instance folder, the SQLite database, uploaded staff lists) are
this user's only: folders 0700, files 0600 (SECURITY.md "Data protection")."""
from __future__ import annotations

import os
from pathlib import Path


def private_folder(path: Path) -> None:
    """Make the folder if need be (its missing parents too), and make it this user's only (0700)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    _tighten(path, 0o700)


def private_file(path: Path) -> None:
    """Make the file, empty, if it is not there, and make it this user's only (0600)."""
    path = Path(path)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    _tighten(path, 0o600)


def _tighten(path: Path, mode: int) -> None:
    """A file or folder another user owns (a mount, a shared parent) is left as it is: not ours to change."""
    info = path.stat()
    if info.st_uid == os.getuid() and info.st_mode & 0o777 != mode:
        path.chmod(mode)
