"""PostgreSQL compiles no statement with JIT on the registry's connections unless REGISTRY_POSTGRES_JIT=1: a
poor cost estimate made a county official's two-character name search at 100k persons 163 ms, 123 ms of it
compiling (registry/core/db.py)."""
import pytest
import sqlalchemy as sa

from registry.core.db import configure_connections, db
from tests.conftest import POSTGRES_URL


def settings_for(uri: str, jit: bool) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": uri, "POSTGRES_JIT": jit, "SQLITE_BUSY_TIMEOUT_SECONDS": 10.0}


def test_postgresql_connections_ask_for_no_jit_unless_configured(monkeypatch):
    monkeypatch.delenv("PGOPTIONS", raising=False)
    off = settings_for("postgresql+psycopg://registry@localhost/registry", jit=False)
    configure_connections(off)
    assert off["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"options": "-c jit=off"}
    on = settings_for("postgresql+psycopg://registry@localhost/registry", jit=True)
    configure_connections(on)
    assert "options" not in on["SQLALCHEMY_ENGINE_OPTIONS"].get("connect_args", {})
    own = settings_for("postgresql+psycopg://registry@localhost/registry", jit=False)
    own["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": "-c statement_timeout=5000"}}
    configure_connections(own)
    assert own["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"options": "-c statement_timeout=5000 -c jit=off"}
    monkeypatch.setenv("PGOPTIONS", "-c work_mem=64MB")
    environment = settings_for("postgresql+psycopg://registry@localhost/registry", jit=False)
    configure_connections(environment)
    assert environment["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"options": "-c work_mem=64MB -c jit=off"}
    sqlite = settings_for("sqlite:////tmp/registry.sqlite3", jit=False)
    configure_connections(sqlite)
    assert sqlite["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"timeout": 10.0}


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL's JIT")
def test_a_statement_over_every_jit_threshold_runs_uncompiled(app, make_person):
    make_person()
    db.session.commit()
    assert db.session.scalar(sa.text("SHOW jit")) == "off"
    # Thresholds at zero: with JIT on, even this would be compiled (EXPLAIN ANALYZE would end with "JIT:").
    for threshold in ("jit_above_cost", "jit_inline_above_cost", "jit_optimize_above_cost"):
        db.session.execute(sa.text(f"SET LOCAL {threshold} = 0"))
    statement = "EXPLAIN (ANALYZE) SELECT count(*) FROM persons WHERE name || '' LIKE '%娜%'"
    plan = db.session.scalars(sa.text(statement))
    assert not any(line.startswith("JIT:") for line in plan)
