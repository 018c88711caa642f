"""Sign-in throttling: after a few failed sign-ins the next try must wait, longer after each failure, until the
account name (or the client address) is locked for a while; an administrator may lift it. The counts live in
the database (sign_in_throttles) so that every gunicorn worker sees the same ones. The caller commits.

An account name is counted whether or not such a user exists, so a lockout tells a guesser nothing about
which names are real.
"""
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from registry.accounts.models import SignInThrottle, ThrottleKind, User
from registry.core.audit import record_event
from registry.core.db import as_utc, db, utcnow
from registry.core.errors import InvalidInput


@dataclass(frozen=True)
class Policy:
    free_failures: int  # failures in a row that cost nothing
    lock_at: int  # the failure from which the name or address is locked rather than slowed down


# Many people may sign in from one office address, so it gets more room than one account name.
POLICIES = {ThrottleKind.ACCOUNT: Policy(free_failures=3, lock_at=10),
            ThrottleKind.ADDRESS: Policy(free_failures=20, lock_at=50)}
FIRST_WAIT = timedelta(seconds=2)  # doubles with each further failure
LONGEST_WAIT = timedelta(minutes=5)
FIRST_LOCK = timedelta(minutes=15)  # doubles with each failure after the lock ran out
LONGEST_LOCK = timedelta(hours=24)
# A count with no failure for this long starts again from nothing.
FORGET_AFTER = timedelta(hours=24)
WHO = {ThrottleKind.ACCOUNT: "该账号", ThrottleKind.ADDRESS: "本网络地址"}


@dataclass(frozen=True)
class Block:
    """Until when sign-ins for a name or from an address are refused without looking at the password."""

    kind: ThrottleKind
    until: datetime
    is_lock: bool

    def message(self, now: datetime) -> str:
        left = (self.until - now).total_seconds()
        if self.is_lock:
            return (f"{WHO[self.kind]}已被暂时锁定（登录失败次数过多），约 {math.ceil(left / 60)} 分钟后自动解除；"
                    "如需提前解除，请联系管理员。")
        return f"{WHO[self.kind]}登录失败次数过多，请 {math.ceil(left)} 秒后再试。"


def pause_after(policy: Policy, failures: int) -> timedelta | None:
    """How long the next try must wait after this many failures in a row (None: no wait)."""
    if failures <= policy.free_failures:
        return None
    if failures < policy.lock_at:
        return min(FIRST_WAIT * 2 ** min(failures - policy.free_failures - 1, 20), LONGEST_WAIT)
    return min(FIRST_LOCK * 2 ** min(failures - policy.lock_at, 20), LONGEST_LOCK)


def current_block(username: str, address: str | None) -> Block | None:
    """The longest wait now in force for this name or this address."""
    now = utcnow()
    blocks = [Block(kind, as_utc(until), failures >= POLICIES[kind].lock_at)
              for kind, failures, until in db.session.execute(
                  sa.select(SignInThrottle.kind, SignInThrottle.failures, SignInThrottle.blocked_until)
                  .where(_keys(username, address)))
              if until is not None and as_utc(until) > now]
    return max(blocks, key=lambda block: block.until, default=None)


def count_failure(username: str, address: str | None) -> Block | None:
    """Count a failed sign-in for the name and the address; return the wait it imposes, if any."""
    now = utcnow()
    # Old counts are forgotten here rather than by a scheduled job: the table stays small on its own.
    db.session.execute(sa.delete(SignInThrottle).where(SignInThrottle.last_failure_at < now - FORGET_AFTER)
                       .execution_options(synchronize_session=False))
    keys = [(ThrottleKind.ACCOUNT, username), *([(ThrottleKind.ADDRESS, address)] if address else [])]
    blocks = [block for kind, key in keys if (block := _count(kind, key, now))]
    return max(blocks, key=lambda block: block.until, default=None)


def clear_account(username: str) -> None:
    """A successful sign-in: the account name starts again from nothing (the address keeps its count, or one
    good password would let its owner try many other names)."""
    db.session.execute(sa.delete(SignInThrottle).where(
        SignInThrottle.kind == ThrottleKind.ACCOUNT, SignInThrottle.key == username,
    ).execution_options(synchronize_session=False))


def current_blocks() -> list[dict]:
    """Names and addresses that must wait now, for the administrator's user list."""
    now = utcnow()
    rows = db.session.scalars(sa.select(SignInThrottle).order_by(SignInThrottle.blocked_until.desc()))
    return [{"kind": row.kind, "key": row.key, "failures": row.failures, "who": WHO[row.kind],
             "is_lock": row.failures >= POLICIES[row.kind].lock_at,
             "minutes_left": math.ceil((as_utc(row.blocked_until) - now).total_seconds() / 60)}
            for row in rows if row.blocked_until is not None and as_utc(row.blocked_until) > now]


def lift(actor: User, kind: str, key: str) -> None:
    """An administrator lifts the wait or lockout on a name or an address; the count starts again."""
    try:
        kind = ThrottleKind(kind)
    except ValueError:
        raise InvalidInput(None, f"登录限制：未知的类型 {kind}") from None
    row = db.session.scalar(sa.select(SignInThrottle).where(SignInThrottle.kind == kind,
                                                            SignInThrottle.key == key))
    if row is None:
        raise InvalidInput(None, f"登录限制：{WHO[kind]}“{key}”没有登录限制（可能已自动解除）")
    record_event(actor, "unlock", "sign_in", key[:40], before={
        "kind": kind.value, "key": key, "failures": row.failures,
        "blocked_until": row.blocked_until.isoformat() if row.blocked_until else None})
    db.session.delete(row)


def _keys(username: str, address: str | None):
    account = sa.and_(SignInThrottle.kind == ThrottleKind.ACCOUNT, SignInThrottle.key == username)
    if not address:
        return account
    return sa.or_(account, sa.and_(SignInThrottle.kind == ThrottleKind.ADDRESS, SignInThrottle.key == address))


def _count(kind: ThrottleKind, key: str, now: datetime) -> Block | None:
    """One more failure for this name or address, counted in one statement so that concurrent failures in
    other workers are never lost; then the wait it earns (never shortening a longer one already set)."""
    table = SignInThrottle.__table__
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(table).values(kind=kind, key=key, failures=1, last_failure_at=now)
    upsert = upsert.on_conflict_do_update(index_elements=[table.c.kind, table.c.key], set_={
        "failures": sa.case((table.c.last_failure_at < now - FORGET_AFTER, 1), else_=table.c.failures + 1),
        "last_failure_at": now,
    }).returning(table.c.id, table.c.failures)
    row_id, failures = db.session.execute(upsert).one()
    pause = pause_after(POLICIES[kind], failures)
    if pause is None:
        return None
    until = now + pause
    db.session.execute(sa.update(table).where(
        table.c.id == row_id, sa.or_(table.c.blocked_until.is_(None), table.c.blocked_until < until),
    ).values(blocked_until=until))
    block = Block(kind, until, failures >= POLICIES[kind].lock_at)
    if block.is_lock:
        record_event(None, "lock", "sign_in", key[:40], after={
            "kind": kind.value, "key": key, "failures": failures, "blocked_until": until.isoformat()})
    return block
