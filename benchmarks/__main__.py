"""`python -m benchmarks [--only NAME] [--rows N] [--engine NAME]`: every benchmark module, its result lines, then a table.

Exit status: 0 when every figure is within its limit, 2 when a ratio exceeds its limit, 1 when a benchmark
found the code under test writing the wrong thing (BenchmarkFailed).
"""
import argparse
import importlib
import pkgutil
import sys
import tempfile
from pathlib import Path

import benchmarks
from benchmarks.common import BenchmarkFailed, Options, Result, backends, megabytes

NOT_BENCHMARKS = {"common"}


def benchmark_names() -> list[str]:
    return sorted(module.name for module in pkgutil.iter_modules(benchmarks.__path__)
                  if not module.name.startswith("_") and module.name not in NOT_BENCHMARKS)


def table(results: list[Result]) -> str:
    lines = ["| benchmark | database | rows | ours rows/s | raw rows/s | ratio | CPU ratio | peak MB | note |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for result in results:
        raw = "" if result.raw_rate is None else f"{result.raw_rate:,.0f}"
        ratio = "" if result.ratio is None else f"{result.ratio:.2f}×"
        if result.limit is not None:
            ratio += f" (≤ {result.limit:g}×{' OVER' if result.over_limit else ''})"
        cpu = "" if result.cpu_ratio is None else f"{result.cpu_ratio:.2f}×"
        peak = "" if result.peak_bytes is None else megabytes(result.peak_bytes)
        lines.append(f"| {result.name.strip()} | {result.backend} | {result.rows:,} | {result.ours_rate:,.0f} | "
                     f"{raw} | {ratio} | {cpu} | {peak} | {result.note} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    names = benchmark_names()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=names, action="append", help="run just this benchmark (repeatable)")
    parser.add_argument("--rows", type=int, help="rows for the main run instead of each benchmark's default")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs of each side, reporting medians")
    parser.add_argument("--engine", choices=["sqlite", "postgresql"],
                        help="one database engine only (PostgreSQL needs its URL, as given by scripts/with-postgres)")
    arguments = parser.parse_args(argv)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="registry-bench-") as workdir:
        chosen = [backend for backend in backends()
                  if arguments.engine in (None, backend.name.lower())]
        if not chosen:
            parser.error(f"no {arguments.engine} database: run it under scripts/with-postgres")
        options = Options(rows=arguments.rows, workdir=Path(workdir), backends=chosen,
                          repeat=max(arguments.repeat, 1))
        print("databases:", ", ".join(backend.name for backend in options.backends), flush=True)
        for name in arguments.only or names:
            module = importlib.import_module(f"benchmarks.{name}")
            try:
                for result in module.run(options):
                    results.append(result)
                    print(result.line(), flush=True)
            except BenchmarkFailed as failure:
                print(f"{name}: FAILED — {failure}", file=sys.stderr)
                return 1
    print()
    print(table(results))
    return 2 if any(result.over_limit for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
