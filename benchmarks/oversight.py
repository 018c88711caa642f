"""Oversight signals at city scale: `refresh_signals` (every signal's query and the upsert of its findings)
beside the coverage recount (`registry stats rebuild --check`: registry/stats/rebuild.differences()), on the
demo registry the coverage benchmark generates and caches (benchmarks/coverage.py; 1.35M persons by default,
`--rows N` for another size). The [Oversight] issue's target: signals ≤ 2× the recount. Both run in the same
process on the same database, alternately; the best of RUNS counts. The first refresh opens every finding
(inserts), later ones find them again (updates): both are reported.
"""
import os
from collections.abc import Iterator

from benchmarks.common import Backend, Options, Result, clocked
from benchmarks.coverage import cache_folder, measuring_app, postgres_registry, prepare, sqlite_registry
from registry.core.db import db

NAME = "oversight"
PERSONS = 1_350_000
RUNS = 2
LIMIT = 2.0


def one_backend(backend: Backend, options: Options, persons: int) -> dict:
    from registry.oversight.refresh import refresh_signals
    from registry.stats.rebuild import differences

    if backend.url:
        url, _facts, _fresh = postgres_registry(persons, backend.url)
    else:
        url, _facts, _fresh = sqlite_registry(persons, options.workdir)
    app = measuring_app(url, options.workdir / f"oversight-{backend.name}-{persons}", cache_folder(persons))
    figures: dict = {"ours": [], "recount": []}
    with app.app_context():
        prepare(app)

        def signals():
            tallies = refresh_signals(None)
            db.session.commit()
            return tallies

        tallies, figures["first"], _cpu = clocked(signals)
        figures["found"] = {key: tally.found for key, tally in tallies.items()}
        figures["per_signal"] = {key: round(tally.seconds, 2) for key, tally in tallies.items()}
        for _run in range(max(RUNS, options.repeat)):
            _, seconds, _cpu = clocked(signals)
            figures["ours"].append(seconds)
            _, seconds, _cpu = clocked(lambda: (differences(), db.session.rollback()))
            figures["recount"].append(seconds)
        db.session.remove()
        db.engine.dispose()
    return figures


def run(options: Options) -> Iterator[Result]:
    persons = options.rows or PERSONS
    for backend in options.backends:
        t = one_backend(backend, options, persons)
        ours, recount = min(t["ours"]), min(t["recount"])
        note = (f"first refresh (opens every finding) {t['first']:.1f} s; again {ours:.1f} s, recount {recount:.1f} s "
                f"(best of {len(t['ours'])}); findings {t['found']}; seconds per signal {t['per_signal']}; "
                f"load {os.getloadavg()[0]:.2f}")
        yield Result("oversight signals vs coverage recount", backend.name, persons, ours, recount, limit=LIMIT,
                     note=note)
        yield Result("oversight signals, first run vs coverage recount", backend.name, persons, t["first"],
                     recount, note="the first run inserts every finding")
