"""What every benchmark shares: throw-away migrated databases, a clock, a memory gauge and the result line."""
import contextlib
import logging
import os
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

from registry.core.config import normalise_database_url
from registry.people.protection import generate_data_key

T = TypeVar("T")
# The benchmark's own variable first; scripts/with-postgres sets the test suite's, which is reused when alone.
POSTGRES_VARIABLES = ("REGISTRY_BENCH_DATABASE_URL", "REGISTRY_TEST_DATABASE_URL")
# One key for every database of a run, so ciphertexts copied from one database read the same in the other.
DATA_KEY = generate_data_key()


class BenchmarkFailed(Exception):
    """The code measured did the wrong thing: a speed for it would mean nothing."""


@dataclass(frozen=True)
class Backend:
    name: str
    url: str | None  # None: a new SQLite file for each database


@dataclass(frozen=True)
class Options:
    rows: int | None  # None: each benchmark's own default
    workdir: Path
    backends: list[Backend]
    repeat: int = 1  # timed runs of each side; the figures are their medians


def backends() -> list[Backend]:
    """SQLite always; PostgreSQL too when a URL is given (its public schema is dropped and rebuilt)."""
    found = [Backend("SQLite", None)]
    url = next((os.environ[name] for name in POSTGRES_VARIABLES if os.environ.get(name)), None)
    if url:
        found.append(Backend("PostgreSQL", normalise_database_url(url)))
    return found


@dataclass
class Result:
    name: str
    backend: str
    rows: int
    ours_seconds: float
    raw_seconds: float | None = None
    peak_bytes: int | None = None
    limit: float | None = None  # the largest ratio the acceptance rule allows, when it sets one
    note: str = ""
    # Our CPU seconds ÷ raw's, where both sides run in this process (SQLite): unlike wall time it barely
    # moves when other processes compete for the cores.
    cpu_ratio: float | None = None
    # Targets missed besides `limit` (the page benchmark's ratios other than its main one), named for the note.
    misses: tuple[str, ...] = ()

    @property
    def ours_rate(self) -> float:
        return self.rows / self.ours_seconds

    @property
    def raw_rate(self) -> float | None:
        return self.rows / self.raw_seconds if self.raw_seconds else None

    @property
    def ratio(self) -> float | None:
        return self.ours_seconds / self.raw_seconds if self.raw_seconds else None

    @property
    def over_limit(self) -> bool:
        return bool(self.misses) or (self.limit is not None and self.ratio is not None and self.ratio > self.limit)

    def line(self) -> str:
        parts = [f"ours {self.ours_rate:,.0f} rows/s"]
        if self.raw_rate is not None:
            parts += [f"raw {self.raw_rate:,.0f} rows/s", f"ratio {self.ratio:.2f}×"]
        if self.cpu_ratio is not None:
            parts.append(f"CPU ratio {self.cpu_ratio:.2f}×")
        if self.peak_bytes is not None:
            parts.append(f"peak {megabytes(self.peak_bytes)} MB")
        verdict = "" if self.limit is None else f" [limit {self.limit:g}×: {'OVER' if self.over_limit else 'ok'}]"
        note = f" ({self.note})" if self.note else ""
        return f"{self.name} [{self.backend}, {self.rows:,} rows]: {', '.join(parts)}{verdict}{note}"


def megabytes(size: int) -> str:
    return f"{size / 2**20:.1f}"


def timed(work: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def clocked(work: Callable[[], T]) -> tuple[T, float, float]:
    """The result, the wall-clock seconds and this process's CPU seconds of `work`."""
    cpu = time.process_time()
    result, seconds = timed(work)
    return result, seconds, time.process_time() - cpu


def peak_memory(work: Callable[[], T]) -> tuple[T, int]:
    """The most Python heap `work` held at once (tracemalloc), not counting what existed before it ran.

    tracemalloc sees every allocation through Python's allocators, including the drivers' result objects,
    but not the C libraries' own buffers (SQLite's page cache is capped by its cache_size anyway). It slows
    Python code down, so a benchmark measures memory in a run of its own, never in a timed one.
    """
    tracemalloc.start()
    try:
        result = work()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


@contextlib.contextmanager
def fresh_app(backend: Backend, workdir: Path, label: str) -> Iterator:
    """A migrated, seeded app on an empty database, inside its app context; the database is the run's own."""
    from registry import create_app

    instance = workdir / label
    instance.mkdir(parents=True)
    url = backend.url or f"sqlite:///{instance / 'registry.sqlite3'}"
    if backend.url:
        _reset_schema(backend.url)
    os.environ.update(REGISTRY_INSTANCE_PATH=str(instance), REGISTRY_DATABASE_URL=url,
                      REGISTRY_SECRET_KEY="benchmark-secret-key", REGISTRY_DATA_KEY=DATA_KEY)
    # Keys the run does not set are generated into the throw-away instance folder; no need to warn about it.
    logging.getLogger("registry.core.config").setLevel(logging.ERROR)
    app = create_app({"TASKS_IMMEDIATE": True})
    with app.app_context():
        _migrate_and_seed()
        try:
            yield app
        finally:
            from registry.core.db import db

            db.session.remove()
            db.engine.dispose()


def _reset_schema(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def _migrate_and_seed() -> None:
    from flask_migrate import upgrade

    from registry.core.db import db
    from registry.reference.seeding import seed_reference_data

    logging.disable(logging.INFO)  # Alembic's per-migration chatter would bury the figures
    try:
        upgrade()
    finally:
        logging.disable(logging.NOTSET)
    seed_reference_data()
    db.session.commit()
