"""Rate-limit counters in an SQLite file, so every worker process of one machine counts against one limit.

The `limits` library under Flask-Limiter finds a storage by the scheme of its URI: subclassing its `Storage`
with STORAGE_SCHEME registers this one for ``sqlite:///relative/path`` and ``sqlite:////absolute/path`` (the
SQLAlchemy spelling). It serves the fixed-window strategy the app uses (registry/core/ratelimit.py): a
counter per key that starts at the first hit and is void once its window has passed.

Each hit is one UPSERT statement, its own transaction: SQLite runs one writer at a time, so two processes
incrementing the same counter can neither lose a hit nor both pass the last free one. WAL lets the reads
(the rate-limit headers) go on beside a writer.
"""
import os
import sqlite3
import threading
import time
from urllib.parse import urlparse

from limits.errors import ConfigurationError
from limits.storage import Storage

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID
"""
# A counter whose window has passed starts again from this hit, in the same statement as any other hit.
INCREMENT = """
INSERT INTO counters (key, count, expires_at) VALUES (:key, :amount, :now + :expiry)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN counters.expires_at <= :now THEN :amount ELSE counters.count + :amount END,
    expires_at = CASE WHEN counters.expires_at <= :now THEN :now + :expiry ELSE counters.expires_at END
RETURNING count, expires_at
"""
# Passed windows are swept now and then, so the file holds about one row per client seen in the last day.
SWEEP_EVERY_SECONDS = 60
# The rate-limit headers read the counter a request has just hit (its count, its window's end): within this
# long of the hit, in the same thread, the hit's own answer serves, sparing two queries a request.
JUST_HIT_SECONDS = 0.05
# Under a burst from many workers a hit waits for the one writer rather than failing.
BUSY_TIMEOUT_SECONDS = 5.0


def switch_to_wal(connection: sqlite3.Connection) -> None:
    """Put the file in WAL mode, waiting for another process that is doing the same.

    When several workers open a new file at once, SQLite answers the journal-mode change of all but one with
    "database is locked" at once, without waiting out the busy timeout (measured: 50 of 200 rounds of four
    processes), so the wait is here.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def path_of(uri: str) -> str:
    parsed = urlparse(uri)
    path = parsed.path[1:] if parsed.path.startswith("/") else parsed.path
    if parsed.netloc or not path:
        raise ConfigurationError(
            f"sqlite rate-limit storage needs a file: sqlite:///path or sqlite:////path, not {uri}")
    return path


class SQLiteStorage(Storage):
    """Fixed-window counters in one SQLite file; a connection per process and thread (never across fork)."""

    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = path_of(uri or "")
        self.clock = time.time  # tests move time forward instead of waiting for a window to pass
        self._local = threading.local()
        self._swept_at = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        # A connection opened before a fork (gunicorn --preload) must not be used by the child.
        if getattr(local, "pid", None) != os.getpid():
            directory = os.path.dirname(self.path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            switch_to_wal(connection)
            # A counter may lose its last hits in a power cut; not worth an fsync per request.
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute(SCHEMA)
            local.connection, local.pid = connection, os.getpid()
        return local.connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self.clock()
        connection = self._connection()
        (count, expires_at), = connection.execute(INCREMENT, {"key": key, "amount": amount, "now": now,
                                                               "expiry": expiry}).fetchall()
        self._local.last_hit = (key, count, expires_at, now)
        if now - self._swept_at > SWEEP_EVERY_SECONDS:
            self._swept_at = now
            connection.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
        return count

    def _just_hit(self, key: str, now: float) -> tuple[int, float] | None:
        """The count and window's end this thread's last hit gave `key`, if it was just now."""
        last = getattr(self._local, "last_hit", None)
        if last is None or last[0] != key or not 0 <= now - last[3] < JUST_HIT_SECONDS or last[2] <= now:
            return None
        return last[1], last[2]

    def get(self, key: str) -> int:
        if just := self._just_hit(key, self.clock()):
            return just[0]
        row = self._connection().execute("SELECT count FROM counters WHERE key = ? AND expires_at > ?",
                                         (key, self.clock())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        now = self.clock()
        if just := self._just_hit(key, now):
            return just[1]
        row = self._connection().execute("SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?",
                                         (key, now)).fetchone()
        return row[0] if row else now

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1 FROM counters LIMIT 1").fetchall()
        except (sqlite3.Error, OSError):  # OSError: its folder cannot be made
            return False
        return True

    def reset(self) -> int | None:
        self._local.last_hit = None
        return self._connection().execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        self._local.last_hit = None
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))
