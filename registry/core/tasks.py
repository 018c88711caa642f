"""Background work (后台任务) on a huey queue, run by a worker process of its own (`registry worker`).

A request only enqueues: imports, batch files and other long work run in the worker, in the worker's own
app and transaction, so no web worker holds them and a web restart loses nothing. The queue is huey's SQLite
file in instance/ by default (`REGISTRY_TASK_QUEUE_URL=redis://…` in production); tests run tasks at once in
the calling process (huey's immediate mode), through the same code.

Huey forgets a task the moment a worker takes it, so a worker killed mid-task would lose it. Each enqueued
task therefore leaves a claim file in instance/tasks/, locked (flock) by the process running the task and
removed when it ends. A claim that nobody holds and whose task is no longer queued was left by a worker that
died: `recover_orphans` (at each worker's start and every minute) enqueues it again. Every task here is
all-or-nothing — an import commits in one transaction, a batch file is renamed into place — so a rerun never
doubles anything. A task whose runs died MAX_ATTEMPTS times is given up, and its `give_up` records why.
"""
import contextlib
import fcntl
import json
import logging
import os
import re
import resource
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask import Flask, current_app, has_app_context
from huey import Huey, crontab
from huey.consumer import WORKER_PROCESS
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import event
from sqlalchemy.orm import Session

from registry.core.db import db

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# A claim younger than this may belong to a task that is being put on the queue right now.
ORPHAN_GRACE_SECONDS = 5
RUN = "registry.run"

huey = Huey("registry", results=False, immediate=True)  # init_tasks points it at its storage
_worker_app: Flask | None = None


@dataclass(frozen=True)
class Task:
    """One kind of background work: `work(*args)` does it, `give_up(*args, reason=…)` records a final failure."""

    name: str
    work: Callable[..., None]
    give_up: Callable[..., None]

    def __call__(self, *args: int | str) -> None:
        """Do the work here and now, in the caller's transaction (benchmarks and tests of the work itself)."""
        self.work(*args)

    def is_claimed(self, *args: int | str) -> bool:
        """Whether this work is queued or running (its claim exists)."""
        return Claim.of(self.name, args).path.exists()

    def enqueue(self, *args: int | str) -> bool:
        """Queue the work unless the same work is already queued or running; True when it was queued now."""
        if not Claim.of(self.name, args).create():
            return False
        huey.enqueue(_run.s(self.name, list(args)))
        return True


TASKS: dict[str, Task] = {}
PERIODIC: dict[str, Callable[[], None]] = {}  # name → work, for tests/core/test_tasks.py
AFTER_COMMIT = "tasks_after_commit"


def enqueue_after_commit(task: Task, *args: int | str) -> None:
    """Queue `task` when the current transaction commits, and never if it rolls back: an operation (which
    never commits) can ask for follow-up work that must see what it wrote."""
    db.session.info.setdefault(AFTER_COMMIT, []).append((task, args))


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    for task, args in session.info.pop(AFTER_COMMIT, []):
        task.enqueue(*args)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(AFTER_COMMIT, None)


def background_task(give_up: Callable[..., None]) -> Callable[[Callable[..., None]], Task]:
    """Register a function as background work; `give_up` takes the same arguments and a `reason`."""

    def register(work: Callable[..., None]) -> Task:
        task = Task(f"{work.__module__}.{work.__name__}", work, give_up)
        TASKS[task.name] = task
        return task

    return register


def init_tasks(app: Flask) -> None:
    """Point the queue at its storage, or run tasks at once in the calling process (TASKS_IMMEDIATE)."""
    if app.config.get("TASKS_IMMEDIATE"):
        huey.immediate = True
        return
    url = app.config["TASK_QUEUE_URL"]
    if url.startswith(("redis://", "rediss://", "unix://")):
        huey.storage_class, huey.storage_kwargs = RedisStorage, {"url": url}
    elif url == "memory://":  # one process only: tests that play the worker themselves
        huey.storage_class, huey.storage_kwargs = MemoryStorage, {}
    else:
        huey.storage_class, huey.storage_kwargs = SqliteStorage, {"filename": url.removeprefix("sqlite:///")}
    huey.immediate = False  # the setter makes the storage anew


def claims_folder() -> Path:
    folder = Path(current_app.config["INSTANCE_PATH"]) / "tasks"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class Claim:
    """The file saying a task is queued or running; whoever holds its lock is running it."""

    path: Path
    name: str
    args: tuple

    @classmethod
    def of(cls, name: str, args: tuple) -> "Claim":
        slug = re.sub(r"[^A-Za-z0-9_.-]", "_", "-".join([name, *map(str, args)]))
        return cls(claims_folder() / f"{slug}.json", name, tuple(args))

    def create(self) -> bool:
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(descriptor, "w") as handle:
            json.dump({"name": self.name, "args": list(self.args), "attempt": 0}, handle)
        return True

    @contextlib.contextmanager
    def held(self) -> Iterator[IO[str] | None]:
        """The claim file, locked by this process; None when it is gone or another process holds it."""
        try:
            handle = self.path.open("r+")
        except FileNotFoundError:
            yield None
            return
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield None
                return
            # Removed between our open and our lock: its task has just ended.
            yield handle if os.fstat(handle.fileno()).st_nlink else None


def _next_attempt(handle: IO[str]) -> int:
    handle.seek(0)
    try:
        state = json.loads(handle.read() or "{}")
    except json.JSONDecodeError:
        state = {}
    state |= {"attempt": state.get("attempt", 0) + 1, "pid": os.getpid()}
    handle.seek(0)
    handle.truncate()
    json.dump(state, handle)
    handle.flush()
    return state["attempt"]


@huey.task(name=RUN)
def _run(name: str, args: list) -> None:
    """Run one registered task under its claim, in an app context (and so a session) of its own."""
    task = TASKS[name]
    with _app_context():
        claim = Claim.of(name, tuple(args))
        with claim.held() as handle:
            if handle is None:
                return  # finished already, or being run by another live worker
            try:
                attempt = _next_attempt(handle)
                if attempt > MAX_ATTEMPTS:
                    task.give_up(*args, reason=f"后台任务已中断 {MAX_ATTEMPTS} 次（进程被终止或内存不足），已停止重试")
                else:
                    task.work(*args)
            except Exception:  # each task records its own failures; this is the last resort
                log.exception("background task %s%s failed", name, tuple(args))
                db.session.rollback()
                task.give_up(*args, reason="后台任务发生内部错误，请联系管理员")
            finally:
                db.session.remove()
                claim.path.unlink(missing_ok=True)


@contextlib.contextmanager
def _app_context() -> Iterator[None]:
    """A fresh app context: the caller's app in immediate mode, the worker's app in the worker."""
    app = current_app._get_current_object() if has_app_context() else _worker_app
    with app.app_context():
        yield


def recover_orphans() -> int:
    """Queue again every claimed task whose worker died; returns how many."""
    queued = {(task.args[0], tuple(task.args[1])) for task in huey.pending() if task.name == RUN}
    recovered = 0
    for path in claims_folder().glob("*.json"):
        try:
            age = time.time() - path.stat().st_mtime
            state = json.loads(path.read_text() or "{}")
        except (FileNotFoundError, json.JSONDecodeError):
            continue
        claim = Claim(path, state.get("name", ""), tuple(state.get("args", ())))
        if claim.name not in TASKS or (claim.name, claim.args) in queued:
            continue
        if not state.get("attempt") and age < ORPHAN_GRACE_SECONDS:
            continue  # never started: it may be on its way into the queue right now
        with claim.held() as handle:
            if handle is None:
                continue
        log.warning("background task %s%s was interrupted: queued again", claim.name, claim.args)
        huey.enqueue(_run.s(claim.name, list(claim.args)))
        recovered += 1
    return recovered


def periodic(schedule: crontab, name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Run `work()` on the schedule in the task worker, in an app context and a transaction of its own."""

    def register(work: Callable[[], None]) -> Callable[[], None]:
        PERIODIC[name] = work

        @huey.periodic_task(schedule, name=name)
        def run() -> None:
            with _app_context():
                try:
                    work()
                    db.session.commit()
                except Exception:
                    log.exception("periodic task %s failed", name)
                    db.session.rollback()
                finally:
                    db.session.remove()

        return work

    return register


@periodic(crontab(minute="*"), name="registry.recover")
def _recover_every_minute() -> None:
    recover_orphans()


@huey.on_startup()
def _start_worker_process() -> None:
    """Each worker process: bound its memory (a bad file fails its job, not the machine), then recover."""
    if _worker_app is None:
        return
    limit_memory(_worker_app.config["TASK_MEMORY_LIMIT_MB"])
    with _worker_app.app_context():
        db.engine.dispose(close=False)  # connections opened before the fork belong to the parent
        if count := recover_orphans():
            log.warning("%d interrupted background task(s) queued again", count)


def limit_memory(megabytes: int) -> None:
    """Past this much address space an allocation raises MemoryError in this process (0: no ceiling)."""
    if megabytes:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_worker(app: Flask, workers: int) -> None:
    """The worker process: huey's consumer, whose worker processes are restarted when they die."""
    global _worker_app
    _worker_app = app
    # huey logs every task it runs, the periodic ones each minute too: only what went wrong is news.
    logging.getLogger("huey").setLevel(logging.WARNING)
    consumer = huey.create_consumer(workers=workers, worker_type=WORKER_PROCESS, max_delay=1.0,
                                    health_check_interval=app.config["TASK_HEALTH_CHECK_SECONDS"])
    consumer.run()
