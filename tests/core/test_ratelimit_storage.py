"""The SQLite rate-limit storage: one count for every worker process of a machine, exact under contention."""
import multiprocessing

import pytest
from limits import RateLimitItemPerHour
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from registry.core.db import db
from registry.core.ratelimit import limiter
from registry.core.ratelimit_storage import SQLiteStorage

# fork: each worker inherits the test's state, as gunicorn's workers inherit the master's.
FORK = multiprocessing.get_context("fork")


def run_in_processes(work, processes: int = 2) -> list:
    """Run work(start) in separate processes released together; return what each put in the queue."""
    start, results = FORK.Barrier(processes), FORK.Queue()
    workers = [FORK.Process(target=lambda: results.put(work(start))) for _ in range(processes)]
    for worker in workers:
        worker.start()
    answers = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    return answers


def test_two_processes_hitting_one_limit_get_exactly_the_limit_between_them(tmp_path):
    storage = storage_from_string(f"sqlite:///{tmp_path / 'ratelimit.sqlite3'}")
    assert isinstance(storage, SQLiteStorage)
    limit = RateLimitItemPerHour(150)

    def hit_200_times(start) -> int:
        start.wait()
        strategy = FixedWindowRateLimiter(storage)
        return sum(strategy.hit(limit, "10.0.0.1") for _ in range(200))

    allowed = run_in_processes(hit_200_times)
    assert sum(allowed) == 150, allowed  # with a count per process each would have let 150 through
    assert storage.get(limit.key_for("10.0.0.1")) == 400  # no hit lost either


def test_workers_opening_a_new_file_together_all_get_a_counter(tmp_path):
    # Workers start at once on a fresh file; without the wait in switch_to_wal one of four processes failed
    # with "database is locked" in 50 of 200 rounds, so 40 rounds all but never miss the fault.
    def open_and_hit(start) -> int:
        start.wait()
        return storage.incr("k", expiry=60)

    for round_ in range(40):
        storage = SQLiteStorage(f"sqlite:///{tmp_path / f'round-{round_}.sqlite3'}")
        assert sorted(run_in_processes(open_and_hit, processes=4)) == [1, 2, 3, 4]


def test_a_counter_starts_again_when_its_window_has_passed(tmp_path):
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'ratelimit.sqlite3'}")
    now = 1_000_000.0
    storage.clock = lambda: now
    assert [storage.incr("k", expiry=60) for _ in range(3)] == [1, 2, 3]
    assert storage.get_expiry("k") == now + 60
    now += 59.5
    assert storage.incr("k", expiry=60) == 4 and storage.get("k") == 4
    now += 1  # the window opened by the first hit is over
    assert storage.get("k") == 0 and storage.get_expiry("k") == now
    assert storage.incr("k", expiry=60, amount=5) == 5
    assert storage.get_expiry("k") == now + 60
    storage.incr("other", expiry=1)
    now += 3600  # the next hit sweeps the passed windows out of the file
    storage.incr("new", expiry=60)
    rows = storage._connection().execute("SELECT key FROM counters").fetchall()
    assert rows == [("new",)]
    storage.clear("new")
    assert storage.get("new") == 0 and storage.check()


@pytest.mark.parametrize("uri", ["sqlite://", "sqlite://host/file.sqlite3"])
def test_a_uri_without_a_file_is_refused(uri):
    from limits.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="sqlite:///path"):
        storage_from_string(uri)


def test_the_app_counts_in_a_file_of_its_instance_folder_shared_by_its_workers(app, tmp_path):
    app.config["VERIFY_PAGE_LIMITS"] = "25/hour"

    def worker(start) -> int:
        db.engine.dispose(close=False)  # the parent's pooled connections are not this process's to use
        client = app.test_client()
        start.wait()
        return sum(client.get("/verify").status_code == 200 for _ in range(20))

    answered = run_in_processes(worker)
    assert sum(answered) == 25, answered  # per-process counts (memory://) would have answered all 40
    assert app.config["RATELIMIT_STORAGE_URI"] == f"sqlite:///{tmp_path / 'ratelimit.sqlite3'}"


def test_an_operator_may_still_name_another_storage(monkeypatch, tmp_path):
    from tests.conftest import _app_for

    monkeypatch.setenv("REGISTRY_RATELIMIT_STORAGE_URI", "memory://")
    other = _app_for(f"sqlite:///{tmp_path / 'unused.sqlite3'}", tmp_path)
    assert other.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert isinstance(limiter.storage, MemoryStorage)


def test_the_headers_read_the_hit_just_made_and_later_reads_see_every_worker(tmp_path):
    uri = f"sqlite:///{tmp_path / 'counters.sqlite3'}"
    this, other = SQLiteStorage(uri), SQLiteStorage(uri)
    now = [1000.0]
    this.clock = other.clock = lambda: now[0]
    assert this.incr("k", 60) == 1
    assert (this.get("k"), this.get_expiry("k")) == (1, 1060.0)
    assert other.incr("k", 60) == 2
    now[0] += 1  # past JUST_HIT_SECONDS: the file answers, with the other worker's hit
    assert (this.get("k"), this.get_expiry("k")) == (2, 1060.0)
    now[0] += 60  # the window has passed: nothing counted, whatever was hit last
    assert this.incr("j", 60) == 1 and this.get("k") == 0
