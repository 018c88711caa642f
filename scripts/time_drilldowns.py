"""Every drill-down from the kept totals beside the raw count, timed in-process on a copy of a demo registry
brought to the code's head by `registry init-db`: median of 5 (kept) and 3 (raw), city-wide and for 杞县.

    REGISTRY_INSTANCE_PATH=<copy's folder> .venv/bin/python scripts/time_drilldowns.py
"""
import os
import statistics
import time

from registry.app import create_app
from registry.core.db import db
from registry.stats import kept_tables
from registry.stats.filters import Filters
from registry.stats.tables import DIMENSIONS, recent_months

app = create_app()
with app.app_context():
    print("load", os.getloadavg(), flush=True)
    for county in (None, ["410221"]):
        for dimension, (_label, query, uses_kind) in DIMENSIONS.items():
            filters = Filters(None, county, None, None)
            if dimension == "month":
                filters = recent_months(filters)
            arguments = {"county_codes": filters.county_codes, "date_from": filters.date_from,
                         "date_to": filters.date_to}
            ways = {"kept": lambda: kept_tables.table(dimension, filters), "raw": lambda: query(**arguments)}
            tables, times = {}, {}
            for name, way in ways.items():
                tables[name] = way()
                samples = []
                for _ in range(5 if name == "kept" else 3):
                    start = time.perf_counter()
                    way()
                    samples.append(time.perf_counter() - start)
                    db.session.rollback()
                times[name] = statistics.median(samples) * 1000
            same = (tables["kept"].rows, tables["kept"].total) == (tables["raw"].rows, tables["raw"].total)
            print(f"| {dimension} | {'杞县' if county else 'city'} | {times['kept']:.1f} ms | {times['raw']:,.0f} ms |"
                  f" {times['kept'] / times['raw']:.4f} | {same} |", flush=True)
    print("load", os.getloadavg(), flush=True)
