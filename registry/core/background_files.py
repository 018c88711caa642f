"""Files too large to write while a request waits (a batch's certificates, a city-wide list): the task worker
writes them into instance/exports/, with a progress file beside each while it is written.

A file is known by its `path`; `<path>.progress.json` says how far its build is (or that it failed), and
`<path>.facts.json`, once it is built, what the writer reported about it (how many rows, when). The request
that finds no file claims the build (the progress file is created exclusively) and queues it; later requests
read the progress. Files print personal data: the folder and the files are owner-only, and `purge_expired`
deletes them after the retention period (a file deleted is built again when asked for).
"""
import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from registry.core import private_files

log = logging.getLogger(__name__)

STALE_SECONDS = 300  # a progress file untouched this long was left by a worker that died
FAILED_MESSAGE = "生成文件时发生内部错误，请稍后重试或联系管理员。"

Progress = Callable[[int], None]
# Writes the file into the open target (reporting progress as it goes); may return facts about it.
Writer = Callable[[BinaryIO], dict | None]


@dataclass(frozen=True)
class BackgroundFile:
    path: Path

    @property
    def progress_path(self) -> Path:
        return self.path.with_name(f"{self.path.name}.progress.json")

    @property
    def facts_path(self) -> Path:
        return self.path.with_name(f"{self.path.name}.facts.json")

    def facts(self) -> dict:
        try:
            return json.loads(self.facts_path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}


def exports_folder() -> Path:
    return private_files.private_folder(Path(current_app.config["INSTANCE_PATH"]) / "exports")


def status_of(file: BackgroundFile) -> dict:
    """{"state": "ready" | "running" | "failed" | "absent", "done", "total", "message"}."""
    if file.path.exists():
        return {"state": "ready"}
    try:
        age = time.time() - file.progress_path.stat().st_mtime
        progress = json.loads(file.progress_path.read_text() or "{}")
    except FileNotFoundError:
        return {"state": "absent"}
    except json.JSONDecodeError:
        progress = {}
    if progress.get("failed"):
        return {"state": "failed", "message": progress.get("message", "")}
    if age > STALE_SECONDS:
        return {"state": "absent"}
    return {"state": "running", "done": progress.get("done", 0), "total": progress.get("total")}


def claim(file: BackgroundFile, total: int) -> bool:
    """Let one request start the build: the progress file is created exclusively.

    Should two builds still run (a stale file removed twice), each writes its own part file and the last
    rename wins — harmless, because both write the same content.
    """
    if status_of(file)["state"] in ("ready", "running"):
        return False
    file.progress_path.unlink(missing_ok=True)
    try:
        with private_files.open_private(file.progress_path, exclusive=True) as handle:
            json.dump({"done": 0, "total": total}, handle)
    except FileExistsError:
        return False
    return True


def write_progress(file: BackgroundFile, **progress) -> None:
    private_files.write_private(file.progress_path, json.dumps(progress, ensure_ascii=False))


def build(file: BackgroundFile, write: Writer) -> bool:
    """Write to a private part file, then move it into place in one step: a reader never sees half a file.
    A failure is written to the progress file (never looks like a build still running); False then."""
    part = file.path.with_name(f"{file.path.name}.{uuid.uuid4().hex}.part")
    try:
        with private_files.open_private(part, "wb") as target:
            facts = write(target)
        if facts:
            private_files.write_private(file.facts_path, json.dumps(facts, ensure_ascii=False))
        os.replace(part, file.path)
        file.progress_path.unlink(missing_ok=True)
        return True
    except Exception:
        log.exception("background file %s failed", file.path.name)
        part.unlink(missing_ok=True)
        write_progress(file, failed=True, message=FAILED_MESSAGE)
        return False


def progress_every(file: BackgroundFile, total: int, step: int) -> Progress:
    """A progress callback that writes the progress file each `step` items and at the end."""
    def progress(done: int) -> None:
        if done % step == 0 or done == total:
            write_progress(file, done=done, total=total)
    return progress


def purge_expired(retention: timedelta, now: datetime | None = None) -> int:
    """Delete every file in the exports folder last written more than `retention` ago; how many went.

    Each is only a copy, built again on the next request; a progress file that old was left by a build
    that died.
    """
    cutoff = (now or datetime.now(UTC)) - retention
    removed = 0
    for path in exports_folder().iterdir():
        if path.is_file() and private_files.modified_at(path) < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
