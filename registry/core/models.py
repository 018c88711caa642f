"""Core's tables: the audit log (registry/core/audit.py writes and seals it) and the import jobs
(registry/core/import_jobs.py runs them)."""
import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import db, enum_type, utcnow


class AuditEvent(db.Model):
    """审计事件 — one recorded action; rows are never updated or deleted (a database trigger enforces it)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    actor_name: Mapped[str] = mapped_column(sa.String(80))
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str | None] = mapped_column(sa.String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # Set at flush, under the chain lock (_seal_new_events): position, predecessor's hash, own hash.
    chain_seq: Mapped[int] = mapped_column(sa.BigInteger)
    chain_prev: Mapped[str] = mapped_column(sa.String(64))
    chain_hash: Mapped[str] = mapped_column(sa.String(64))

    __table_args__ = (
        sa.Index("ix_audit_events_entity", "entity_type", "entity_id"),
        # The log's orders, ending on the id the pager breaks ties with (registry/core/listing.py).
        sa.Index("ix_audit_events_occurred_at", "occurred_at", "id"),
        sa.Index("ix_audit_events_actor_name", "actor_name", "id"),
        # One event per position: were the chain lock ever bypassed, the second INSERT fails, never a fork.
        sa.Index("ix_audit_events_chain_seq", "chain_seq", unique=True),
    )


class RowCount(db.Model):
    """行数 — how many rows a large table holds, kept by database triggers (registry/core/row_counts.py), so that
    an unfiltered list need not count a million rows to show its total and its last page."""

    __tablename__ = "row_counts"

    table_name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    # '' for a table counted as a whole; persons keep a row per county, the table's count being their sum.
    county_code: Mapped[str] = mapped_column(sa.String(6), primary_key=True, default="", server_default="")
    rows: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class RowCountChange(db.Model):
    """A change to a table's row count not yet folded into row_counts (PostgreSQL: one per writing statement,
    so that concurrent writers add rows here instead of queueing for one counter row)."""

    __tablename__ = "row_count_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(sa.String(64), index=True)
    county_code: Mapped[str] = mapped_column(sa.String(6), default="", server_default="")
    change: Mapped[int] = mapped_column(sa.BigInteger)


class JobStatus(enum.StrEnum):
    CHECKING = "checking"
    CHECKED = "checked"
    COMMITTING = "committing"
    COMMITTED = "committed"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"checking": "正在检查", "checked": "检查完成，待确认", "committing": "正在导入",
                "committed": "已导入", "failed": "失败"}[self.value]

    @property
    def is_running(self) -> bool:
        return self in (JobStatus.CHECKING, JobStatus.COMMITTING)


class ImportJob(db.Model):
    """导入任务 — one uploaded file on its way through dry run and commit."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    target_id: Mapped[int | None]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    file_sha256: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[JobStatus] = mapped_column(enum_type(JobStatus), default=JobStatus.CHECKING)
    skip_errors: Mapped[bool] = mapped_column(default=False)
    total_rows: Mapped[int | None]
    counts: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    message: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    @property
    def error_count(self) -> int:
        return (self.counts or {}).get("error", 0)

    @property
    def writable_count(self) -> int:
        counts = self.counts or {}
        return counts.get("new", 0) + counts.get("existing", 0) + counts.get("updated", 0)


class Setting(db.Model):
    """系统设置 — one choice the administrator makes on a page (registry/core/settings.py lists them)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(200))
