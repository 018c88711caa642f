"""Why a page is slow: the page run once more in-process (Flask test client), every SQL statement it sends
recorded with its parameters and duration, and the slowest ones explained. Plans only — EXPLAIN QUERY PLAN on
SQLite, EXPLAIN on PostgreSQL — so a 5-second statement is not run twice more."""
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from benchmarks.common import BenchmarkFailed
from registry.core.db import db
from registry.core.tasks import huey

SHOWN = 3  # statements per page
MIN_SECONDS = 0.001  # faster statements are not where a page's time goes
STATEMENT_CHARS = 1200  # of each statement's text in the note


@dataclass
class Statement:
    text: str
    parameters: object
    seconds: float
    plan: str = ""


@contextlib.contextmanager
def recorded(engine: sa.Engine) -> Iterator[list[Statement]]:
    found: list[Statement] = []

    def before(connection, _cursor, _statement, _parameters, _context, _executemany):
        connection.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(connection, _cursor, statement, parameters, _context, executemany):
        started = connection.info["bench_started"].pop()
        if not executemany:
            found.append(Statement(statement, parameters, time.perf_counter() - started))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


def plan(connection: sa.Connection, statement: Statement) -> str:
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement.text}", statement.parameters).all()
        depth = {row[0]: 0 for row in rows}
        lines = []
        for node, parent, _unused, detail in rows:  # indented under its parent, as the sqlite3 shell does
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + detail)
        return "\n".join(lines)
    return "\n".join(connection.exec_driver_sql(f"EXPLAIN {statement.text}", statement.parameters).scalars())


@dataclass
class Profile:
    """One request run in-process: its wall time, its statements' count and sum, and the slowest of them."""

    seconds: float
    statements: int
    sql_seconds: float
    slowest: list[Statement]

    def brief(self, numbers: dict[str, int]) -> str:
        slowest = ", ".join(f"S{numbers[statement.text]} {statement.seconds * 1e3:,.1f} ms"
                            for statement in self.slowest) or f"none over {MIN_SECONDS * 1e3:g} ms"
        return (f"in-process {self.seconds * 1e3:,.0f} ms, {self.statements} statements taking "
                f"{self.sql_seconds * 1e3:,.0f} ms; slowest: {slowest}")


@contextlib.contextmanager
def immediate_tasks() -> Iterator[None]:
    """Work the request queues (a long leak export) done in the request, as the test suite runs it, so its
    statements are the request's: no worker runs beside this process."""
    was = huey.immediate
    huey.immediate = True
    try:
        yield
    finally:
        huey.immediate = was


def profile(app, sign_in: dict[str, str] | None, path: str, form: dict[str, str] | None) -> Profile:
    """One request for `path` (signed in with `sign_in`): the SHOWN slowest statements, each with its plan."""
    client = app.test_client()
    if sign_in is not None and client.post("/login", data=sign_in).status_code != 302:
        raise BenchmarkFailed(f"{sign_in['username']} could not sign in in-process")
    with app.app_context():
        engine = db.engine
    with recorded(engine) as statements, immediate_tasks():
        start = time.perf_counter()
        answer = client.post(path, data=form) if form is not None else client.get(path)
        seconds = time.perf_counter() - start
    if answer.status_code != 200:
        raise BenchmarkFailed(f"{path} answered {answer.status_code} in-process")
    ordered = sorted(statements, key=lambda statement: statement.seconds, reverse=True)
    worst = [statement for statement in ordered if statement.seconds >= MIN_SECONDS][:SHOWN]
    with engine.connect() as connection:
        for statement in worst:
            try:
                statement.plan = plan(connection, statement)
            except sa.exc.DBAPIError as error:  # e.g. a statement the database cannot EXPLAIN
                statement.plan = f"(no plan: {str(error.orig).splitlines()[0]})"
                connection.rollback()
    return Profile(seconds, len(statements), sum(statement.seconds for statement in statements), worst)


def numbered(profiles: list[Profile]) -> dict[str, int]:
    """A number for each distinct statement text, in order of first appearance: pages share statements (both
    roles, a list and its export, page 1 and the last page), and each is printed once."""
    numbers: dict[str, int] = {}
    for found in profiles:
        for statement in found.slowest:
            numbers.setdefault(statement.text, len(numbers) + 1)
    return numbers


def statements_markdown(profiles: list[Profile], numbers: dict[str, int]) -> str:
    """Each numbered statement once: its slowest time seen, its text (shortened) and its plan."""
    slowest: dict[str, Statement] = {}
    for found in profiles:
        for statement in found.slowest:
            if statement.text not in slowest or statement.seconds > slowest[statement.text].seconds:
                slowest[statement.text] = statement
    parts = []
    for text, number in numbers.items():
        statement = slowest[text]
        shown = " ".join(text.split())
        if len(shown) > STATEMENT_CHARS:
            shown = shown[:STATEMENT_CHARS] + " …"
        parts.append(f"S{number} (up to {statement.seconds * 1e3:,.1f} ms):\n```sql\n{shown}\n```\n"
                     f"```\n{statement.plan}\n```")
    return "\n".join(parts)
