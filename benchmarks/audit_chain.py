"""The audit log's hash chain: what sealing costs per audited write, beside a plain INSERT of the same row.

"Ours" is what every request does to leave its audit row: `record_event` and `db.session.commit()`, one event
a transaction, so each pays the chain lock (PostgreSQL's advisory lock, SQLite's write lock taken by an empty
UPDATE), one read of the head, an id (PostgreSQL: nextval), the HMAC and, on SQLite, the INSERT trigger that
refuses collisions. "Plain" is a Core `insert()` of the same fields and a commit, one row a transaction, into
a table shaped like `audit_events` before the chain (same columns, indexes and foreign key; no chain columns,
no triggers), made by the benchmark beside the real one. A third side, "ORM unsealed", runs ours with the
sealing listener swapped for one that fills the chain columns with made-up values (the ORM, the trigger and
the unique index still work): ours minus it is what sealing costs. The same three sides again for the bulk
paths: BULK events recorded in one transaction (one flush, one lock, one head read) beside one plain
executemany. Before any figure is reported, `registry audit verify`'s check must pass over every sealed
event. No limit is set: the issue asks for the figure, not a target.
"""
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from statistics import median

import sqlalchemy as sa
from sqlalchemy import event

from benchmarks.common import Backend, BenchmarkFailed, Options, Result, clocked, fresh_app
from registry.core import audit
from registry.core.audit import AuditEvent, record_event
from registry.core.db import db

NAME = "audit_chain"
DEFAULT_ROWS = 2000  # transactions of one event each, per side and run
BULK = 1000  # events in one transaction for the bulk figure
RUNS = 3
AFTER = {"name": "开封演示技工学校（演示数据）", "county_code": "410221", "hours": 120, "is_subsidised": True}


def plain_table(metadata: sa.MetaData) -> sa.Table:
    """`audit_events` as it was before the chain (migration 0001)."""
    return sa.Table(
        "bench_plain_events", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("actor_id", sa.ForeignKey("users.id"), index=True),
        sa.Column("actor_name", sa.String(80), nullable=False),
        sa.Column("ip_address", sa.String(64)),
        sa.Column("action", sa.String(40), nullable=False, index=True),
        sa.Column("entity_type", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(40)),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
        sa.Index("ix_bench_plain_events_entity", "entity_type", "entity_id"),
    )


def plain_row(index: int) -> dict:
    return {"occurred_at": datetime.now(UTC), "actor_id": None, "actor_name": "system",
            "ip_address": "127.0.0.1", "action": "update", "entity_type": "training_class",
            "entity_id": str(index), "before": None, "after": AFTER | {"index": index}}


def audited_writes(count: int) -> None:
    for index in range(count):
        record_event(None, "update", "training_class", index, after=AFTER | {"index": index})
        db.session.commit()


def plain_writes(table: sa.Table, count: int) -> None:
    with db.engine.connect() as connection:
        for index in range(count):
            connection.execute(table.insert(), plain_row(index))
            connection.commit()


def without_sealing(work: Callable[[], None]) -> Callable[[], None]:
    """`work` with the listener that seals events removed, each event's chain fields given instead."""
    def unsealed() -> None:
        head = db.session.execute(sa.select(sa.func.max(AuditEvent.chain_seq),
                                            sa.func.max(AuditEvent.id))).one()
        numbers = iter(range(1, 10**9))

        def given(_mapper, _connection, target: AuditEvent) -> None:
            step = next(numbers)
            target.id, target.chain_seq = (head[1] or 0) + step, (head[0] or 0) + step
            target.occurred_at, target.chain_prev, target.chain_hash = datetime.now(UTC), "0" * 64, "f" * 64

        event.remove(AuditEvent, "before_insert", audit._seal_new_events)
        event.listen(AuditEvent, "before_insert", given)
        try:
            work()
        finally:
            event.remove(AuditEvent, "before_insert", given)
            event.listen(AuditEvent, "before_insert", audit._seal_new_events)
    return unsealed


def audited_bulk(count: int) -> None:
    for index in range(count):
        record_event(None, "generate_roster", "training_class", index, after=AFTER | {"index": index})
    db.session.commit()


def plain_bulk(table: sa.Table, count: int) -> None:
    with db.engine.begin() as connection:
        connection.execute(table.insert(), [plain_row(index) for index in range(count)])


def check_chain(expected: int) -> None:
    with db.engine.connect() as connection:
        verification = audit.verify_log(connection)
    if not verification.is_intact or verification.events != expected:
        raise BenchmarkFailed(f"audit verify over {verification.events} events (expected {expected}): "
                              f"{verification.problems[:3]}")


def alternate(sides: dict[str, Callable[[], None]], runs: int) -> dict[str, tuple[float, float]]:
    """Each side `runs` times, alternating; the median wall-clock and CPU seconds of each."""
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    for _ in range(runs):
        for name, work in sides.items():
            _result, seconds, cpu = clocked(work)
            timings[name].append((seconds, cpu))
    return {name: (median(wall for wall, _cpu in measured), median(cpu for _wall, cpu in measured))
            for name, measured in timings.items()}


def run(options: Options) -> Iterator[Result]:
    count = options.rows or DEFAULT_ROWS
    runs = max(options.repeat, RUNS)
    for backend in options.backends:
        yield from run_on(backend, options, count, runs)


def run_on(backend: Backend, options: Options, count: int, runs: int) -> Iterator[Result]:
    with fresh_app(backend, options.workdir, f"{backend.name}-audit-chain"):
        table = plain_table(sa.MetaData())
        table.metadata.reflect(db.engine, only=["users"])
        table.create(db.engine)
        audited_writes(50)  # warm-up: connections, statement caches, the key derivation
        plain_writes(table, 50)
        single = alternate({"ours": lambda: audited_writes(count),
                            "plain": lambda: plain_writes(table, count)}, runs)
        bulk = alternate({"ours": lambda: audited_bulk(BULK), "plain": lambda: plain_bulk(table, BULK)}, runs)
        check_chain(50 + runs * (count + BULK))
        # Last: the events they write carry made-up hashes, so no verify runs after them.
        single |= alternate({"orm": without_sealing(lambda: audited_writes(count))}, runs)
        bulk |= alternate({"orm": without_sealing(lambda: audited_bulk(BULK))}, runs)
    in_process = backend.url is None  # SQLite's work is all this process's CPU; PostgreSQL's is its server's
    yield result("audited write (record_event + commit) vs plain INSERT + commit", backend.name, count,
                 single, in_process, f"one event a transaction, medians of {runs} runs")
    yield result(f"{BULK:,} events in one transaction vs plain executemany", backend.name, BULK, bulk,
                 in_process, f"one flush: one lock, one head read; medians of {runs} runs")


def result(title: str, backend: str, rows: int, sides: dict[str, tuple[float, float]], in_process: bool,
           what: str) -> Result:
    """Per write: ours, plain, and the ORM without sealing; what sealing adds = ours − that."""
    def each(side: str, index: int) -> str:
        return f"{sides[side][index] / rows * 1e6:,.0f}"

    def sealing(index: int) -> str:
        return f"{(sides['ours'][index] - sides['orm'][index]) / rows * 1e6:,.0f}"

    wall = f"wall µs a write: ours {each('ours', 0)}, plain {each('plain', 0)}, ORM unsealed {each('orm', 0)}"
    if in_process:
        figures = (f"{wall}; CPU µs a write: ours {each('ours', 1)}, plain {each('plain', 1)}, "
                   f"ORM unsealed {each('orm', 1)} → sealing ≈ {sealing(1)}")
    else:
        figures = f"{wall} → sealing ≈ {sealing(0)}"
    ours, plain = sides["ours"], sides["plain"]
    return Result(title, backend, rows, ours[0], plain[0], cpu_ratio=ours[1] / plain[1] if in_process else None,
                  note=f"{what}; {figures}; chain verified")
