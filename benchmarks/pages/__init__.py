"""Every page a user touches, timed over HTTP at 100k and 1.35M persons: the [City scale] issue's page table.

The registries are coverage's cached demo registries (a copy of the SQLite file, or the PostgreSQL dump
restored), brought to the code's head: migrated, their kept totals rebuilt by `registry stats rebuild`,
ANALYZEd, with an administrator and a county official of 杞县 made by the account service. Each is served by
`registry serve --workers 2` (tests/serving.py) and every page is fetched through a signed-in HTTP session:
one checked warm-up, then TIMED_RUNS timed requests, the median counting. The ratios (report.py) are taken
within the run; the pages that miss a target are run once more in-process to name their slowest SQL and its
plan (slow_sql.py). The table and those plans go to docs/BENCHMARKS.md, one block per engine and size; when
both engines ran, one more block sets each page's medians side by side (PostgreSQL ÷ SQLite, the issue's
item 3).
"""
import contextlib
import os
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from benchmarks import coverage
from benchmarks.common import Backend, BenchmarkFailed, Options, Result
from benchmarks.pages import catalogue, client, raw_xlsx, report, slow_sql
from benchmarks.pages.catalogue import ADMIN, ANONYMOUS, COUNTY, XLSX, Page
from benchmarks.pages.report import PageKey, Raw, Timing
from registry.core.config import PROJECT_ROOT
from registry.core.db import db

NAME = "pages"
SIZES = coverage.SIZES
DOCS = PROJECT_ROOT / "docs" / "BENCHMARKS.md"
USERS = {ADMIN: "bench-pages-admin", COUNTY: "bench-pages-county"}
# Far above what the run sends: the public verify page and call are rate-limited per address.
PUBLIC_LIMITS = "10000000/minute"


@dataclass
class Measured:
    """One registry's timings: the keys in the order timed, each with its timing or why it was not timed."""

    persons: int
    keys: list[PageKey] = field(default_factory=list)
    timings: dict[PageKey, Timing] = field(default_factory=dict)
    skipped: dict[PageKey, str] = field(default_factory=dict)
    requests: dict[PageKey, tuple[Page, str]] = field(default_factory=dict)
    raw: dict[PageKey, Raw] = field(default_factory=dict)  # an export's shape written by openpyxl alone
    loads: list[str] = field(default_factory=list)
    prepared: str = ""


def run(options: Options) -> Iterator[Result]:
    large = options.rows or SIZES[-1]
    sizes = (min(SIZES[0], max(large // 10, 1)), large)
    measured = {}
    for backend in options.backends:
        measured[backend.name] = yield from run_on(backend, options, sizes)
    if {"SQLite", "PostgreSQL"} <= measured.keys():
        text = engines_section(measured["SQLite"], measured["PostgreSQL"])
        print(text, flush=True)
        DOCS.write_text(report.rewrite_section(DOCS.read_text(), f"engines:{sizes[1]}", text))


def run_on(backend: Backend, options: Options,
           sizes: tuple[int, int]) -> Generator[Result, None, tuple[Measured, Measured]]:
    with opened(backend, options, sizes[0]) as (app, found, prepared):
        small = served_timings(app, found, sizes[0], prepared)
    with opened(backend, options, sizes[1]) as (app, found, prepared):
        large = served_timings(app, found, sizes[1], prepared)
        keys = large.keys + [key for key in small.keys if key not in large.keys]
        skipped = small.skipped | large.skipped
        rows = report.verdicts(keys, small.timings, large.timings, skipped)
        plans = explained(app, rows, large)
    text = section(backend.name, small, large, rows, plans)
    print(text, flush=True)
    DOCS.write_text(report.rewrite_section(DOCS.read_text(), f"{backend.name}:{sizes[1]}", text))
    print(f"pages: written to {DOCS.relative_to(PROJECT_ROOT)}", flush=True)
    for row in rows:
        if row.large is not None:
            yield result(backend.name, sizes[1], row)
    return small, large


# --- the registry, ready to serve ---------------------------------------------------------------------------

@contextlib.contextmanager
def opened(backend: Backend, options: Options,
           persons: int) -> Iterator[tuple[object, catalogue.Subjects, str]]:
    """The cached registry of `persons` (copied or restored), prepared; the SQLite copy is deleted after."""
    if backend.url:
        url, facts, _fresh = coverage.postgres_registry(persons, backend.url)
    else:
        url, facts, _fresh = coverage.sqlite_registry(persons, options.workdir, NAME)
    app = coverage.measuring_app(url, options.workdir / f"{NAME}-{backend.name}-{persons}",
                                 coverage.cache_folder(persons))
    try:
        with app.app_context():
            start = time.perf_counter()
            prepare(app)
            found = catalogue.subjects()
            db.session.remove()
        prepared = (f"generated {facts['generated_at']} in {facts['seconds']:.0f} s; migrated, rebuilt, "
                    f"analysed in {time.perf_counter() - start:.0f} s")
        yield app, found, prepared
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if not backend.url:
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)  # 1.9 GB at 1.35M


def prepare(app) -> None:
    """At the code's head: migrated; every kept total filled by the real `registry stats rebuild` (a cached
    registry generated by older code lacks the totals added since); planner statistics, before the rebuild and
    after it; the two accounts."""
    from registry.core.roles import Role

    coverage.migrate_to_head()
    coverage.ensure_user(USERS[ADMIN], Role.ADMIN)
    coverage.ensure_user(USERS[COUNTY], Role.COUNTY, catalogue.COUNTY_CODE)
    db.session.commit()
    db.session.remove()
    # A restored PostgreSQL dump has no planner statistics: at 1.35M, preparing took 1,765 s with the rebuild's
    # recounts on guessed plans, and the rebuild alone 422 s after an ANALYZE (docs/BENCHMARKS.md, 2026-12-07).
    coverage.analyze()
    rebuilt = app.test_cli_runner().invoke(args=["stats", "rebuild"])
    if rebuilt.exit_code:
        raise BenchmarkFailed(f"registry stats rebuild: {rebuilt.output[-500:]} {rebuilt.exception!r}")
    coverage.analyze()


# --- served and timed ---------------------------------------------------------------------------------------

def served_timings(app, found: catalogue.Subjects, persons: int, prepared: str) -> Measured:
    from tests import serving

    measured = Measured(persons, prepared=prepared, loads=[load_average()])
    instance = Path(os.environ["REGISTRY_INSTANCE_PATH"])
    environment = serving.registry_environment(
        app.config["SQLALCHEMY_DATABASE_URI"], instance, os.environ["REGISTRY_DATA_KEY"],
        REGISTRY_SIGNING_KEY=os.environ["REGISTRY_SIGNING_KEY"], REGISTRY_SECRET_KEY="benchmark-secret-key",
        REGISTRY_VERIFY_PAGE_LIMITS=PUBLIC_LIMITS, REGISTRY_VERIFY_API_LIMITS=PUBLIC_LIMITS)
    try:
        served = serving.serve(environment, instance / "serve.log", workers=2)
    except AssertionError as error:
        raise BenchmarkFailed(str(error)[-2000:]) from None
    clients = {}
    try:
        clients = {role: client.signed_in(served.base_url, username, coverage.PASSWORD)
                   for role, username in USERS.items()} | {ANONYMOUS: client.anonymous(served.base_url)}
        for page in catalogue.pages(found):
            for role in (ANONYMOUS,) if page.roles == (ANONYMOUS,) else (ADMIN, COUNTY):
                time_page(measured, clients[role], page, role)
    finally:
        for opened_client in clients.values():
            opened_client.close()
        served.stop()
    measured.loads.append(load_average())
    return measured


def time_page(measured: Measured, visitor, page: Page, role: str) -> None:
    key = PageKey(page.label, role)
    measured.keys.append(key)
    if role not in page.roles:
        measured.skipped[key] = client.refused(visitor, page, role)
        return
    if page.form is not None:
        page = client.with_csrf_token(visitor, page)
    timing, first = client.timed(visitor, page, page.path, role)
    record(measured, key, timing, page, page.path)
    if page.content_type == XLSX:
        measured.raw[key] = raw_xlsx.written_by_openpyxl(*raw_xlsx.shape(first.content))
    if not page.is_list:
        return
    for suffix, number, reason in client.deeper_pages(page, first, catalogue.DEEP_PAGE):
        deeper = PageKey(f"{page.label} {suffix}", role, first_page=page.label)
        measured.keys.append(deeper)
        if number is None:
            measured.skipped[deeper] = reason
            continue
        path = catalogue.with_page(page.path, number)
        record(measured, deeper, client.timed(visitor, page, path, role)[0], page, path)


def record(measured: Measured, key: PageKey, timing: Timing, page: Page, path: str) -> None:
    measured.timings[key], measured.requests[key] = timing, (page, path)
    print(f"  pages [{report.persons(measured.persons)}] {key.label} · {key.role}: {timing.brief()}, "
          f"{timing.size / 1024:,.0f} KB", flush=True)


def load_average() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


# --- why slow, and the record -------------------------------------------------------------------------------

def explained(app, rows: list[report.Row], large: Measured) -> dict[PageKey, slow_sql.Profile]:
    """The pages that miss a target, each requested once more in-process for its statements and plans."""
    profiles = {}
    for row in rows:
        if row.large is None or not row.misses:
            continue
        page, path = large.requests[row.key]
        sign_in = None if row.key.role == ANONYMOUS else {"username": USERS[row.key.role],
                                                           "password": coverage.PASSWORD}
        profiles[row.key] = slow_sql.profile(app, sign_in, path, page.form)
    return profiles


def section(engine: str, small: Measured, large: Measured, rows: list[report.Row],
            plans: dict[PageKey, slow_sql.Profile]) -> str:
    sizes = f"{small.persons:,} and {large.persons:,} persons"
    lines = [f"### pages, {engine} — {datetime.now():%Y-%m-%d %H:%M}, {sizes}",
             "",
             f"`{'scripts/with-postgres ' if engine == 'PostgreSQL' else ''}python -m benchmarks --only pages"
             f"{'' if large.persons == SIZES[-1] else f' --rows {large.persons}'}`; "
             f"median of {client.TIMED_RUNS} after a warm-up, over HTTP from `registry serve --workers 2`. "
             f"Load average (1/5/15 min) at {report.persons(small.persons)}: "
             f"{small.loads[0]} → {small.loads[1]}; "
             f"at {report.persons(large.persons)}: {large.loads[0]} → {large.loads[1]}. "
             f"Registries: {report.persons(small.persons)} {small.prepared}; "
             f"{report.persons(large.persons)} {large.prepared}.",
             "",
             report.table(rows, small.persons, large.persons),
             "",
             report.summary(rows),
             "",
             "#### The .xlsx exports beside plain openpyxl",
             "",
             "Each export's file (its first timed download) written again by openpyxl alone, write-only, a short "
             "text in every cell, timed once in the benchmark's process (benchmarks/pages/raw_xlsx.py): the "
             "library's share of the export's time.",
             "",
             report.exports_table(large.keys, (small.persons, large.persons), (small.timings, large.timings),
                                  (small.raw, large.raw))]
    slow = [row for row in rows if row.key in plans]
    numbers = slow_sql.numbered(list(plans.values()))
    if slow:
        heading = f"#### Pages that miss a target at {report.persons(large.persons)}: where their time goes"
        lines += ["", heading, "", "Each page requested once more in-process; S1, S2 … are its slowest "
                  "statements, listed once below with their plans.", ""]
    for row in slow:
        why = "; ".join(row.misses + ([f"{report.ms(row.large.median)} > guide"] if row.over_guide else []))
        lines.append(f"- **{row.key.label} · {row.key.role}** — {why}. {plans[row.key].brief(numbers)}")
    if numbers:
        lines += ["", slow_sql.statements_markdown(list(plans.values()), numbers)]
    return "\n".join(lines)


def engines_section(sqlite: tuple[Measured, Measured], postgresql: tuple[Measured, Measured]) -> str:
    """The same pages on the two engines of one run, side by side: the issue's item 3, PostgreSQL as fast as
    SQLite or faster. Each engine's registry of a size is its own, generated by `registry demo` with the same
    size and seed."""
    small, large = sqlite
    keys = large.keys + [key for key in postgresql[1].keys if key not in large.keys]
    sizes = (small.persons, large.persons)
    rows = "" if large.persons == SIZES[-1] else f" --rows {large.persons}"
    return "\n".join([
        f"### pages, PostgreSQL beside SQLite — {datetime.now():%Y-%m-%d %H:%M}, "
        f"{small.persons:,} and {large.persons:,} persons",
        "",
        f"`scripts/with-postgres python -m benchmarks --only pages{rows}`: each page's median from the two "
        "engines' tables of this run (SQLite timed first, then PostgreSQL), and PostgreSQL's ÷ SQLite's.",
        "",
        f"At {report.persons(large.persons)}: "
        + report.engines_summary(keys, large.timings, postgresql[1].timings),
        f"At {report.persons(small.persons)}: "
        + report.engines_summary(keys, small.timings, postgresql[0].timings),
        "",
        report.engines_table(keys, sizes, (small.timings, large.timings),
                             (postgresql[0].timings, postgresql[1].timings))])


def result(engine: str, persons: int, row: report.Row) -> Result:
    """The row in the runner's table: ours = the median at the larger size, raw = at the smaller."""
    ratios = [f"{name} {value:.2f}×" for name, value in (("last÷first", row.depth), ("÷/stats", row.cockpit))
              if value is not None]
    note = "; ".join([f"{report.ms(row.large.median)} vs {report.ms(row.small.median) if row.small else '—'}",
                      *ratios, *(["MISSES " + ", ".join(row.misses)] if row.misses else []),
                      *(["over the 300 ms guide"] if row.over_guide else [])])
    return Result(f"page {row.key.label} · {row.key.role}", engine, persons, row.large.median,
                  row.small.median if row.small else None, limit=report.GROWTH_LIMIT, note=note,
                  misses=tuple(row.misses))
