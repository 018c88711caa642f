"""Files that hold personal data (import uploads and reports, certificate exports): owner-only, kept a while."""
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """The folder, created if missing, that only the server's own user may open."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    # mkdir's mode is cut by the umask, and a folder made by an older version keeps whatever it had.
    path.chmod(FOLDER_MODE)
    return path


def open_private(path: Path, mode: str = "w", exclusive: bool = False, **kwargs) -> IO:
    """open() for writing a file only the owner may read, whatever the umask; `exclusive` fails if it exists."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    descriptor = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)  # an existing file keeps its old mode through O_CREAT
        return open(descriptor, mode, **kwargs)
    except BaseException:
        os.close(descriptor)
        raise


def write_private(path: Path, data: bytes | str) -> None:
    """Write the whole file beside its place, then move it there: a reader never sees half of it."""
    temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    binary = isinstance(data, bytes)
    with open_private(temporary, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as handle:
        handle.write(data)
    temporary.replace(path)


def modified_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def remove(path: Path) -> None:
    """Delete a file or a folder with all it holds; nothing if already gone."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
