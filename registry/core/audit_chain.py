"""The audit log's keyed hash chain: each event seals its predecessor, so `registry audit verify` sees change.

What is stored. Every row of `audit_events` carries `chain_seq` (1, 2, 3, … with no gaps, unique),
`chain_prev` (the previous event's `chain_hash`; 64 zeros for the first) and `chain_hash` = HMAC-SHA256 over
a canonical JSON of the format tag, `chain_seq`, `chain_prev`, `id` and every recorded field. Ids keep their
own gaps (a rolled-back transaction leaves one); the chain position is `chain_seq`.

The key. HKDF-SHA256 of REGISTRY_DATA_KEY with its own label (the way registry/people/protection.py derives
its two sub-keys), not a new REGISTRY_AUDIT_KEY. The threat is someone who can write to the database but
does not run the application: a DBA, a stolen dump, an injected statement. They have neither key. Whoever
runs the application (and `registry audit verify`) must hold the data key already; it is mandatory in
production, backed up apart from the dumps, and can never be replaced (docs/DEPLOYMENT.md), so the chain
adds no secret to lose or rotate. The label keeps the derived key independent of the encryption and look-up
keys. The price: whoever holds the data key could also forge the chain, as with any HMAC key.

What verify detects, walking the rows in `chain_seq` order: a row whose hash does not match its own content
(changed after writing, or forged without the key, including a changed `chain_prev`, `id` or `chain_seq`);
a jump in `chain_seq` (deleted events: the verifier names the events on either side); a repeated position;
an authentic row that does not link to its predecessor (the predecessor was replaced). What no chain inside
the database can detect is the newest events deleted with the head moved back: the shorter log is itself a
valid chain. `verify` therefore prints an anchor (position and hash prefix) to keep outside the database;
`--anchor` checks that it is still there. See docs/AUDIT.md.

Concurrency. Appending reads the last row and writes the next one, so two transactions appending at once
must not both read the same last row. `lock_chain` makes the read wait until every other appender has
committed: on PostgreSQL a transaction-level advisory lock keyed by the table's oid (READ COMMITTED then
sees the winner's row in the next statement); on SQLite an empty UPDATE, which takes the database's write
lock (SQLite starts a write transaction on the first write statement, whether or not it changes a row; a
transaction whose snapshot is already stale gets "database is locked" instead), so a stale last hash is
never read. The lock is held to commit, and taken as late as possible: when the flush reaches the audit
INSERT (registry/core/audit.py), after the rows audit_events refers to, so the usual order is "row locks,
then the chain" and a transaction holding the chain never waits for a row that a transaction waiting for
the chain holds. The UNIQUE index on `chain_seq` is the last line: were the lock ever bypassed, the second
writer's INSERT fails; the chain never forks.
"""
import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import Connection

FORMAT = "registry.audit.v1"
GENESIS = "0" * 64
_KEY_INFO = b"registry.core.audit.chain.v1"
_DATA_KEY_BYTES = 32
# The recorded fields, in the order they are sealed.
FIELDS = ("occurred_at", "actor_id", "actor_name", "ip_address", "action", "entity_type", "entity_id",
          "before", "after")
TABLE = "audit_events"


@lru_cache(maxsize=4)
def chain_key(data_key: str) -> bytes:
    """The HMAC key for the chain, derived from the data key (url-safe base64 of 32 bytes)."""
    try:
        master = base64.b64decode(data_key, altchars=b"-_", validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise ValueError("data key must be url-safe base64") from None
    if len(master) != _DATA_KEY_BYTES:
        raise ValueError(f"data key must decode to {_DATA_KEY_BYTES} bytes, got {len(master)}")
    # The data key is uniformly random already, so HKDF needs no salt.
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(master)


def utc_instant(value: datetime) -> datetime:
    """SQLite hands back the UTC the app wrote without an offset; PostgreSQL an aware value in its zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _json_value(value: Any) -> Any:
    # What the JSON column gives back after storing `value`: string keys, lists for tuples.
    return json.loads(json.dumps(value))


def canonical(row: Mapping[str, Any]) -> bytes:
    """The exact bytes sealed for one row: the same whether built before the INSERT or read back later."""
    occurred_at = utc_instant(row["occurred_at"]).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    values = [FORMAT, row["chain_seq"], row["chain_prev"], row["id"], occurred_at,
              *(row[name] for name in FIELDS[1:7]), _json_value(row["before"]), _json_value(row["after"])]
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def seal(key: bytes, row: Mapping[str, Any]) -> str:
    return hmac.new(key, canonical(row), hashlib.sha256).hexdigest()


def is_authentic(key: bytes, row: Mapping[str, Any]) -> bool:
    try:
        expected = seal(key, row)
    except (AttributeError, TypeError, ValueError):  # a timestamp or JSON value the app never writes
        return False
    return hmac.compare_digest(expected, row["chain_hash"] or "")


# --- appending -------------------------------------------------------------------------------------------
# Plain SQL through exec_driver_sql: it runs for every audited write, and skips SQLAlchemy's statement layer.
_LOCK = {"postgresql": f"SELECT pg_advisory_xact_lock('{TABLE}'::regclass::oid::bigint)",
         "sqlite": f"UPDATE {TABLE} SET id = id WHERE 0"}
_LAST = f"(SELECT {{}} FROM {TABLE} ORDER BY chain_seq DESC LIMIT 1)"
_HEAD = f"{_LAST.format('chain_seq')}, {_LAST.format('chain_hash')}"
_TAIL = {
    # The id sequence stays the one source of ids (transfer-data moves it past copied rows).
    "postgresql": (f"SELECT {_HEAD}, nextval(pg_get_serial_sequence('{TABLE}', 'id')) "
                   "FROM generate_series(1, {})"),
    # SQLite's own choice for a rowid without AUTOINCREMENT (max + 1), taken under the write lock.
    "sqlite": f"SELECT {_HEAD}, (SELECT max(id) FROM {TABLE})",
}


def lock_chain(connection: Connection) -> None:
    """Wait until no other transaction can append before this one commits (see the module docstring)."""
    connection.exec_driver_sql(_LOCK[connection.dialect.name])


def chain_tail(connection: Connection, count: int) -> tuple[tuple[int, str], list[int]]:
    """The last position and hash (0 and GENESIS for an empty log) and `count` ids for the rows to append,
    in one statement; call lock_chain first (in a statement of its own: under READ COMMITTED a statement
    sees what was committed when it started, so the head must be read by a statement begun after the lock).

    The ids are needed before the INSERT because the hash covers them.
    """
    rows = connection.exec_driver_sql(_TAIL[connection.dialect.name].format(int(count))).all()
    if connection.dialect.name == "postgresql":
        ids = sorted(row[2] for row in rows)
    else:
        top = rows[0][2] or 0
        ids = list(range(top + 1, top + 1 + count))
    seq, last_hash = rows[0][0], rows[0][1]
    return ((seq, last_hash) if seq is not None else (0, GENESIS)), ids


def link(key: bytes, rows: list[dict[str, Any]], head: tuple[int, str], ids: list[int]) -> None:
    """Give each row (in order) its id, position, predecessor and hash, continuing from `head`."""
    seq, prev = head
    for row, event_id in zip(rows, ids, strict=True):
        seq += 1
        row.update(id=event_id, chain_seq=seq, chain_prev=prev)
        row["chain_hash"] = prev = seal(key, row)


# --- verifying -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Anchor:
    """A position and the start of its hash, noted outside the database after an earlier verify."""
    seq: int
    hash_prefix: str

    @classmethod
    def parse(cls, text: str) -> "Anchor":
        position, _, prefix = text.partition(":")
        prefix = prefix.lower()
        if not position.isdigit() or len(prefix) < 8 or set(prefix) - set("0123456789abcdef"):
            raise ValueError(text)
        return cls(int(position), prefix)

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash_prefix}"


@dataclass
class Verification:
    events: int = 0
    problem_count: int = 0
    problems: list[str] = field(default_factory=list)  # the first KEPT_PROBLEMS, in chain order
    unauthentic: int = 0
    last: Mapping[str, Any] | None = None

    @property
    def is_intact(self) -> bool:
        return self.problem_count == 0

    def report(self, problem: str) -> None:
        # A wrong key fails every one of millions of events: count them all, keep the first few.
        self.problem_count += 1
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append(problem)


KEPT_PROBLEMS = 1000


def _named(row: Mapping[str, Any]) -> str:
    return f"事件 {row['id']}（序号 {row['chain_seq']}）"


def _positions(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}–{last}"


def find_breaks(key: bytes, rows: Iterable[Mapping[str, Any]],
                anchors: Iterable[Anchor] = ()) -> Verification:
    """Walk the rows in (chain_seq, id) order and say, in Chinese, every place where the chain breaks."""
    result = Verification()
    wanted = {anchor.seq: anchor for anchor in anchors}
    seen: dict[int, str] = {}
    prev: Mapping[str, Any] | None = None
    prev_authentic = True
    for row in rows:
        result.events += 1
        authentic = is_authentic(key, row)
        seq = row["chain_seq"]
        if not authentic:
            result.unauthentic += 1
            result.report(f"{_named(row)}：内容与摘要不符——写入后被改动，或是不知密钥者伪造插入的记录")
        expected_seq = 1 if prev is None else prev["chain_seq"] + 1
        expected_prev = GENESIS if prev is None else prev["chain_hash"]
        if prev is not None and seq == prev["chain_seq"]:
            result.report(f"{_named(row)}：序号与事件 {prev['id']} 重复——有记录被插入")
        elif seq < expected_seq:
            result.report(f"{_named(row)}：序号无效——有记录被插入")
        elif seq > expected_seq:
            missing = f"缺少序号 {_positions(expected_seq, seq - 1)} 的 {seq - expected_seq} 条事件——已被删除"
            where = f"事件 {row['id']} 之前" if prev is None else f"事件 {prev['id']} 与事件 {row['id']} 之间"
            result.report(where + missing)
        elif authentic and prev_authentic and row["chain_prev"] != expected_prev:
            earlier = "链首" if prev is None else f"前一条事件 {prev['id']} "
            result.report(f"{_named(row)}：与{earlier}接不上——两条都是真的，但不相邻：其中一条是从别处换进来的")
        if seq in wanted:
            seen[seq] = row["chain_hash"]
        prev, prev_authentic = row, authentic
    result.last = prev
    for seq, anchor in sorted(wanted.items()):
        if seq not in seen:
            result.report(f"锚点序号 {seq}：日志中已没有这一序号——末尾的事件被删除")
        elif not seen[seq].startswith(anchor.hash_prefix):
            result.report(f"锚点序号 {seq}：摘要不符（日志中为 {seen[seq][:16]}）"
                          "——该事件或其之前的事件被替换")
    return result


def stored_rows(connection: Connection, table: sa.Table,
                batch_size: int = 10_000) -> Iterator[Mapping[str, Any]]:
    """Every row in chain order, streamed: a log of millions of events is read in flat memory."""
    statement = (sa.select(table).order_by(table.c.chain_seq, table.c.id)
                 .execution_options(yield_per=batch_size))
    for partition in connection.execute(statement).mappings().partitions():
        yield from partition
