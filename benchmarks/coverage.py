"""Coverage at city scale: the cockpit's JSON beside the indexed raw COUNT(DISTINCT person) GROUP BY county.

Two demo registries, 100k and 1.35M fictional persons (`registry demo`, seed 1), on each database. "Ours" is
what a county dashboard fetches: GET /api/v1/stats/coverage through the Flask test client, signed in as an
administrator (the kept day totals summed per county, targets, JSON). "Raw" is the recount the totals spare
us, with the index it needs: RAW_SQL below. Both run on the same database in the same run, alternately, each
several times after warm-ups; the best time of each counts (on cores shared with other work the least
disturbed run is the truest; the medians are printed beside). The [Cockpit] issue's targets: ours ≤ 1/20
of raw at 1.35M, and ours at 1.35M ≤ 2× ours at 100k. Before timing, the JSON's holders per county
must equal raw's.

Generating 1.35M persons takes minutes, and it is not what is measured: each registry is generated once by
the real command (`registry init-db`, `seed`, `demo --persons N --seed 1`, in a subprocess, timed) into
CACHE (instance/bench/, or $REGISTRY_BENCH_CACHE), one folder per size, seed and version of the generator's
source, and reused by later runs: SQLite as the database file itself (each run measures a copy), PostgreSQL
as a pg_dump file restored into the benchmark's database (its public schema is dropped first, as by every
benchmark). Delete the folder to regenerate.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from statistics import median

import sqlalchemy as sa

from benchmarks.common import Backend, BenchmarkFailed, Options, Result, _reset_schema, clocked
from registry.core.config import PROJECT_ROOT
from registry.core.db import db

NAME = "coverage"
SIZES = (100_000, 1_350_000)
SEED = 1
RUNS = 7  # timed runs of each side (at least; --repeat raises it), after the checking run and warm-ups
WARM_UPS = 2
RAW_LIMIT = 1 / 20  # the [Cockpit] issue: the JSON within 1/20 of the raw recount's time at 1.35M
GROWTH_LIMIT = 2.0  # … and within 2× of its own time at 100k
RAW_SQL = sa.text(
    "SELECT p.county_code, COUNT(DISTINCT c.person_id) FROM certificates c JOIN persons p ON p.id = c.person_id "
    "WHERE c.status = 'valid' GROUP BY p.county_code")
# The raw query's index: valid certificates' holders straight from the index, without reading the rows.
RAW_INDEX = "CREATE INDEX IF NOT EXISTS bench_certificates_status_person ON certificates (status, person_id)"
GENERATOR_SOURCES = ("registry/demo.py", "registry/demo_data.py", "registry/certificates/bulk_issue.py")
ADMIN, PASSWORD = "bench-coverage-admin", "benchmark-password-1"


def cache_root() -> Path:
    return Path(os.environ.get("REGISTRY_BENCH_CACHE") or PROJECT_ROOT / "instance" / "bench")


def generator_version() -> str:
    digest = hashlib.sha256()
    for name in GENERATOR_SOURCES:
        digest.update((PROJECT_ROOT / name).read_bytes())
    return digest.hexdigest()[:10]


def cache_folder(persons: int) -> Path:
    return cache_root() / f"coverage-demo-{persons}-seed{SEED}-{generator_version()}"


# --- the registries, generated once ---------------------------------------------------------------------------

def registry_command(instance: Path, url: str, *arguments: str) -> None:
    """`registry …` in a subprocess with the cache folder as its instance (its own data and signing keys)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("REGISTRY_") or key.startswith("REGISTRY_BENCH")}
    env.update(REGISTRY_INSTANCE_PATH=str(instance), REGISTRY_DATABASE_URL=url,
               REGISTRY_SECRET_KEY="benchmark-secret-key")
    command = [str(Path(sys.executable).with_name("registry")), *arguments]
    done = subprocess.run(command, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    if done.returncode:
        raise BenchmarkFailed(f"{' '.join(arguments)}: {done.stderr.strip()[-500:]}")


def generate(instance: Path, url: str, persons: int) -> dict:
    registry_command(instance, url, "init-db")
    registry_command(instance, url, "seed")
    load = os.getloadavg()[0]
    start = time.perf_counter()
    registry_command(instance, url, "demo", "--persons", str(persons), "--seed", str(SEED))
    return {"persons": persons, "seed": SEED, "seconds": round(time.perf_counter() - start, 1),
            "load_before": round(load, 2), "load_after": round(os.getloadavg()[0], 2),
            "generated_at": datetime.now().isoformat(timespec="seconds"), "version": generator_version()}


def sqlite_registry(persons: int, workdir: Path, label: str = NAME) -> tuple[str, dict, bool]:
    """A copy of the cached SQLite registry of `persons` (generated first if missing): URL, facts, fresh?"""
    folder, fresh = cache_folder(persons), False
    marker = folder / "generated.json"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        print(f"coverage: generating {persons:,} demo persons into {folder} (once; later runs reuse it)",
              flush=True)
        marker.write_text(json.dumps(generate(folder, f"sqlite:///{folder / 'registry.sqlite3'}", persons)))
        fresh = True
    copy = workdir / f"{label}-{persons}.sqlite3"
    engine = sa.create_engine(f"sqlite:///{folder / 'registry.sqlite3'}")
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # the whole database in the one file
    engine.dispose()
    shutil.copyfile(folder / "registry.sqlite3", copy)
    return f"sqlite:///{copy}", json.loads(marker.read_text()), fresh


def postgres_tool(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None)
    if found is None:
        raise BenchmarkFailed(f"{name} is missing: install the PostgreSQL client (postgresql-client)")
    return str(found)


def postgres_registry(persons: int, url: str) -> tuple[str, dict, bool]:
    """The cached dump restored into the benchmark's database (generated and dumped first if missing)."""
    folder, fresh = cache_folder(persons), False
    dump, marker = folder / "postgresql.dump", folder / "postgresql.json"
    plain_url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    _reset_schema(url)
    if marker.exists():
        # A dump of the public schema holds no extension, though its indexes may need one (pg_trgm's operator
        # class): create them first. Dumps made before the list was recorded needed pg_trgm alone.
        _create_extensions(url, json.loads(marker.read_text()).get("extensions", ["pg_trgm"]))
        subprocess.run([postgres_tool("pg_restore"), "--no-owner", "--schema=public", "-d", plain_url, str(dump)],
                       check=True, capture_output=True)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        print(f"coverage: generating {persons:,} demo persons on PostgreSQL, dumped to {dump}", flush=True)
        facts = generate(folder, url, persons) | {"extensions": _extensions(url)}
        subprocess.run([postgres_tool("pg_dump"), "--format=custom", "--no-owner", "--schema=public",
                        "-f", str(dump), plain_url], check=True, capture_output=True)
        marker.write_text(json.dumps(facts))
        fresh = True
    return url, json.loads(marker.read_text()), fresh


def _extensions(url: str) -> list[str]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        names = list(connection.scalars(sa.text(
            "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY extname")))
    engine.dispose()
    return names


def _create_extensions(url: str, names: list[str]) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for name in names:
            connection.exec_driver_sql(f'CREATE EXTENSION IF NOT EXISTS "{name}"')
    engine.dispose()


# --- measuring ------------------------------------------------------------------------------------------------

def measuring_app(url: str, instance: Path, keys: Path):
    """The app on that database, with the keys the registry was generated with (from its cache folder)."""
    from registry import create_app

    instance.mkdir(parents=True, exist_ok=True)
    os.environ.update(REGISTRY_INSTANCE_PATH=str(instance), REGISTRY_DATABASE_URL=url,
                      REGISTRY_SECRET_KEY="benchmark-secret-key",
                      REGISTRY_DATA_KEY=(keys / "registry_data_key").read_text().strip(),
                      REGISTRY_SIGNING_KEY=(keys / "registry_signing_key").read_text().strip())
    return create_app({"WTF_CSRF_ENABLED": False})


def prepare(app) -> None:
    """Up to date with the code's migrations; the raw query's index; planner statistics; an administrator."""
    from registry.core.roles import Role

    migrate_to_head()
    db.session.execute(sa.text(RAW_INDEX))
    ensure_user(ADMIN, Role.ADMIN)
    db.session.commit()
    analyze()


def migrate_to_head() -> None:
    """The cached registry brought up to the code's migrations, as `registry init-db` would."""
    import logging

    from flask_migrate import upgrade

    logging.disable(logging.INFO)  # Alembic's per-migration chatter would bury the figures
    try:
        upgrade()
    finally:
        logging.disable(logging.NOTSET)


def ensure_user(username: str, role, county_code: str | None = None) -> None:
    """An account of the benchmark (password PASSWORD), made by the real account service unless it exists."""
    from registry.accounts.models import User
    from registry.accounts.operations import create_user

    if db.session.scalar(sa.select(User.id).where(User.username == username)) is None:
        create_user(None, username, PASSWORD, role, county_code)


def analyze() -> None:
    """Fresh planner statistics, as after a real load."""
    # PostgreSQL answers from the index alone only for pages its visibility map marks: VACUUM sets it.
    statement = "VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(statement)


def raw_counts() -> dict[str, int]:
    return dict(db.session.execute(RAW_SQL).all())


def measure(app, runs: int) -> dict:
    """The best and median of `runs` alternating timings of each side, after checking that they agree."""
    client = app.test_client()
    signed_in = client.post("/login", data={"username": ADMIN, "password": PASSWORD})
    if signed_in.status_code != 302:
        raise BenchmarkFailed("the benchmark's administrator could not sign in")

    def ours() -> dict:
        response = client.get("/api/v1/stats/coverage")
        if response.status_code != 200:
            raise BenchmarkFailed(f"coverage JSON answered {response.status_code}")
        return response.get_json()

    with app.app_context():
        counts = raw_counts()
        body = ours()
        found = {county["code"]: county["holders"] for county in body["counties"] if county["holders"]}
        if found != counts or body["city"]["holders"] != sum(counts.values()):
            raise BenchmarkFailed(f"holders per county: JSON {found}, raw {counts}")
        for _warm_up in range(WARM_UPS):
            ours()
            raw_counts()
        times: dict[str, list[float]] = {"ours": [], "ours_cpu": [], "raw": [], "raw_cpu": []}
        for _run in range(runs):
            _, seconds, cpu = clocked(ours)
            times["ours"].append(seconds)
            times["ours_cpu"].append(cpu)
            _, seconds, cpu = clocked(raw_counts)
            times["raw"].append(seconds)
            times["raw_cpu"].append(cpu)
        plan = raw_plan()
        db.session.remove()
    figures = {key: min(values) for key, values in times.items()}
    return figures | {"holders": sum(counts.values()), "plan": plan, "runs": runs,
                      "ours_median": median(times["ours"]), "raw_median": median(times["raw"])}


def raw_plan() -> str:
    """How the database runs the raw query, in brief, for the note."""
    if db.session.get_bind().dialect.name == "sqlite":
        rows = db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {RAW_SQL.text}")).all()
        return "; ".join(row[-1] for row in rows)
    rows = db.session.execute(sa.text(f"EXPLAIN {RAW_SQL.text}")).scalars().all()
    return "; ".join(line.strip().split("  (")[0] for line in rows if "Scan" in line or "Join" in line)


def one_size(backend: Backend, options: Options, persons: int) -> Iterator[tuple[str, object]]:
    if backend.url:
        url, facts, fresh = postgres_registry(persons, backend.url)
    else:
        url, facts, fresh = sqlite_registry(persons, options.workdir)
    app = measuring_app(url, options.workdir / f"coverage-{backend.name}-{persons}", cache_folder(persons))
    with app.app_context():
        prepare(app)
        db.session.remove()
    figures = measure(app, max(RUNS, options.repeat))
    with app.app_context():
        db.engine.dispose()
    yield "facts", facts | {"fresh": fresh}
    yield "figures", figures


def run(options: Options) -> Iterator[Result]:
    large = options.rows or SIZES[-1]
    sizes = (min(SIZES[0], max(large // 10, 1)), large)
    for backend in options.backends:
        ours_at: dict[int, dict] = {}
        in_process = backend.url is None  # PostgreSQL's own work is out of our CPU clock's sight
        for persons in sizes:
            found = dict(one_size(backend, options, persons))
            facts, t = found["facts"], found["figures"]
            made = "generated in this run" if facts["fresh"] else f"cached, generated {facts['generated_at']}"
            yield Result("registry demo --persons N (generation)", backend.name, persons, facts["seconds"],
                         note=f"{made}; load {facts['load_before']} → {facts['load_after']}")
            ours_at[persons] = t
            note = (f"{t['holders']:,} holders; best of {t['runs']}: ours {ms(t['ours'])}, raw {ms(t['raw'])} "
                    f"(medians {ms(t['ours_median'])}, {ms(t['raw_median'])}); "
                    f"load {os.getloadavg()[0]:.2f}; raw plan: {t['plan']}")
            yield Result("coverage JSON vs raw COUNT(DISTINCT)", backend.name, persons, t["ours"], t["raw"],
                         limit=RAW_LIMIT if persons == sizes[-1] else None, note=note,
                         cpu_ratio=t["ours_cpu"] / t["raw_cpu"] if in_process and t["raw_cpu"] else None)
        small, big = (ours_at[size] for size in sizes)
        yield Result(f"coverage JSON at {sizes[1]:,} vs at {sizes[0]:,}", backend.name, sizes[1], big["ours"],
                     small["ours"], limit=GROWTH_LIMIT,
                     cpu_ratio=big["ours_cpu"] / small["ours_cpu"] if in_process else None,
                     note=f"ours {ms(big['ours'])} vs {ms(small['ours'])} (the raw column: ours at {sizes[0]:,});"
                          f" medians {ms(big['ours_median'])} vs {ms(small['ours_median'])}")


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"
