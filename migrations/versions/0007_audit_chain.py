"""Audit log hash chain (chain_seq, chain_prev, chain_hash) over existing events; REPLACE, TRUNCATE refused.

Existing events are chained in id order with the key derived from the configured REGISTRY_DATA_KEY, so run
this with the installation's own key (as every `registry init-db` does). SQLite: a BEFORE INSERT trigger
refuses an INSERT that collides with an existing event (id or chain position), which is what REPLACE INTO
and INSERT OR REPLACE do (their implicit delete fires no DELETE trigger unless recursive_triggers is on, a
per-connection pragma another client would not set). PostgreSQL: a statement-level BEFORE TRUNCATE trigger.

Revision ID: 0007_audit_chain
Revises: 0006
Create Date: 2026-12-04 15:00:00

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from registry.core import audit_chain


# revision identifiers, used by Alembic.
revision = '0007_audit_chain'
down_revision = '0006'
branch_labels = None
depends_on = None

BATCH = 5000
REFUSAL = "SELECT RAISE(ABORT, 'audit_events is append-only')"
# The same guards as 0001 (a table rebuilt by SQLite's batch mode loses its triggers) plus the INSERT one.
SQLITE_GUARDS = {
    "audit_events_no_update": f"BEFORE UPDATE ON audit_events BEGIN {REFUSAL}; END",
    "audit_events_no_delete": f"BEFORE DELETE ON audit_events BEGIN {REFUSAL}; END",
    "audit_events_no_replace": (
        "BEFORE INSERT ON audit_events WHEN "
        "EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id) OR "
        f"EXISTS (SELECT 1 FROM audit_events WHERE chain_seq = NEW.chain_seq) BEGIN {REFUSAL}; END"),
}
# Typed, so SQLite's stored texts come back as the datetimes and JSON values the app wrote.
events = sa.table(
    "audit_events",
    *(sa.column(name) for name in ("id", "actor_id", "actor_name", "ip_address", "action", "entity_type",
                                   "entity_id", "chain_seq", "chain_prev", "chain_hash")),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("before", sa.JSON()),
    sa.column("after", sa.JSON()),
)


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, kind in (("chain_seq", sa.BigInteger()), ("chain_prev", sa.String(length=64)),
                       ("chain_hash", sa.String(length=64))):
        op.add_column('audit_events', sa.Column(name, kind, nullable=True))
    if postgresql:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    else:
        for name in ("audit_events_no_update", "audit_events_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    chain_existing_events()
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        for name in ("chain_seq", "chain_prev", "chain_hash"):
            batch_op.alter_column(name, nullable=False)
        batch_op.create_index('ix_audit_events_chain_seq', ['chain_seq'], unique=True)
    if postgresql:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
        op.execute("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                   "FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change()")
    else:
        for name, body in SQLITE_GUARDS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def chain_existing_events():
    """Seal every event already written, in id order, a batch at a time (flat memory for a long log)."""
    connection = op.get_bind()
    key = audit_chain.chain_key(current_app.config["DATA_KEY"])
    seal = events.update().where(events.c.id == sa.bindparam("event_id")).values(
        chain_seq=sa.bindparam("seq"), chain_prev=sa.bindparam("prev"), chain_hash=sa.bindparam("hash"))
    head, after_id = (0, audit_chain.GENESIS), 0
    while rows := connection.execute(sa.select(events).where(events.c.id > after_id)
                                     .order_by(events.c.id).limit(BATCH)).mappings().all():
        values = [dict(row) for row in rows]
        audit_chain.link(key, values, head, [row["id"] for row in values])
        connection.execute(seal, [{"event_id": row["id"], "seq": row["chain_seq"], "prev": row["chain_prev"],
                                   "hash": row["chain_hash"]} for row in values])
        head, after_id = (values[-1]["chain_seq"], values[-1]["chain_hash"]), values[-1]["id"]


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
    else:
        for name in SQLITE_GUARDS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_chain_seq')
        for name in ("chain_hash", "chain_prev", "chain_seq"):
            batch_op.drop_column(name)
    if not postgresql:
        for name in ("audit_events_no_update", "audit_events_no_delete"):
            op.execute(f"CREATE TRIGGER {name} {SQLITE_GUARDS[name]}")
