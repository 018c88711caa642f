"""The page table's arithmetic and text, free of servers and databases (tests/test_bench_pages.py checks it).

A row is one page as one role sees it, timed at the small and the large registry. Its verdicts are the
[City scale] issue's targets — ratios taken within one run, because the machine is noisy — and the guide.
"""
import re
from dataclasses import dataclass, field
from statistics import median

GROWTH_LIMIT = 2.0  # a page at 1.35M persons ≤ 2× the same page at 100k
DEPTH_LIMIT = 2.0  # a list's page 2000 or last page ≤ 2× its first page
COCKPIT_LIMIT = 5.0  # any page ≤ 5× /stats in the same run, same role, same registry
GUIDE_SECONDS = 0.300  # a guide on this 2-core machine, not a target: every page ≤ 300 ms at 1.35M
COCKPIT = "/stats"  # the page every other one is compared with
ENGINES_LIMIT = 1.0  # the item 3: every page on PostgreSQL as fast as on SQLite, or faster
SECTION_HEADING = "## pages — the [City scale] issue's page table"


@dataclass(frozen=True)
class Timing:
    """The timed requests of one page (after its warm-up), in seconds, and the size of its answer."""

    seconds: tuple[float, ...]
    size: int = 0

    @property
    def median(self) -> float:
        return median(self.seconds)

    def brief(self) -> str:
        return f"{ms(self.median)} ({ms(min(self.seconds))}–{ms(max(self.seconds))})"


@dataclass(frozen=True)
class Raw:
    """Plain openpyxl's time for a sheet of an export's shape: `rows` (the header included) × `columns`."""

    rows: int
    columns: int
    seconds: float


@dataclass(frozen=True)
class PageKey:
    """A page as the table names it: the same key at every size, whatever ids its address carries there."""

    label: str
    role: str
    first_page: str | None = None  # for page 2000 and the last page of a list: the label of its page 1


@dataclass
class Row:
    key: PageKey
    small: Timing | None
    large: Timing | None
    skipped: str = ""  # why the page was not timed for this role (not visible to it, too few pages …)
    growth: float | None = None
    depth: float | None = None
    cockpit: float | None = None
    misses: list[str] = field(default_factory=list)  # the targets missed (the guide is not one)
    over_guide: bool = False

    @property
    def wants_plans(self) -> bool:
        """Slow by any measure: worth its SQL and query plans in the closing note."""
        return bool(self.misses) or self.over_guide


def ratio(numerator: Timing | None, denominator: Timing | None) -> float | None:
    if numerator is None or denominator is None or denominator.median <= 0:
        return None
    return numerator.median / denominator.median


def cockpit_of(role: str, timings: dict[PageKey, Timing]) -> Timing | None:
    """/stats as `role` saw it; for a role without it (the public pages), as the first role that has it."""
    return timings.get(PageKey(COCKPIT, role)) or next(
        (timing for key, timing in timings.items() if key.label == COCKPIT), None)


def verdicts(keys: list[PageKey], small: dict[PageKey, Timing], large: dict[PageKey, Timing],
             skipped: dict[PageKey, str]) -> list[Row]:
    """One row per key: each ratio beside its limit; `misses` names every target the page missed."""
    rows = []
    for key in keys:
        row = Row(key, small.get(key), large.get(key), skipped.get(key, ""))
        if row.large is None:
            rows.append(row)
            continue
        row.growth = ratio(row.large, row.small)
        if key.first_page is not None:
            row.depth = ratio(row.large, large.get(PageKey(key.first_page, key.role)))
        if key.label != COCKPIT:
            row.cockpit = ratio(row.large, cockpit_of(key.role, large))
        checks = (("larger÷smaller", row.growth, GROWTH_LIMIT), ("last÷first", row.depth, DEPTH_LIMIT),
                  ("÷/stats", row.cockpit, COCKPIT_LIMIT))
        for name, value, limit in checks:
            if value is not None and value > limit:
                row.misses.append(f"{name} {value:.1f}× > {limit:g}×")
        row.over_guide = row.large.median > GUIDE_SECONDS
        rows.append(row)
    return rows


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.0f} ms" if seconds >= 0.0995 else f"{seconds * 1e3:.1f} ms"


def _figure(value: float | None, limit: float) -> str:
    if value is None:
        return ""
    return f"{value:.2f}×" + (" **OVER**" if value > limit else "")


def table(rows: list[Row], small_size: int, large_size: int) -> str:
    small, large = persons(small_size), persons(large_size)
    lines = [f"| page | role | {small} median (min–max) | {large} median (min–max) | {large}÷{small} "
             f"(≤ {GROWTH_LIMIT:g}×) | last÷first (≤ {DEPTH_LIMIT:g}×) | ÷/stats (≤ {COCKPIT_LIMIT:g}×) | "
             f"≤ {GUIDE_SECONDS * 1e3:.0f} ms (guide) |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        if row.large is None:
            lines.append(f"| {row.key.label} | {row.key.role} | — | — | | | | {row.skipped or 'not timed'} |")
            continue
        guide = "over" if row.over_guide else "ok"
        lines.append(f"| {row.key.label} | {row.key.role} | {row.small.brief() if row.small else '—'} | "
                     f"{row.large.brief()} | {_figure(row.growth, GROWTH_LIMIT)} | "
                     f"{_figure(row.depth, DEPTH_LIMIT)} | {_figure(row.cockpit, COCKPIT_LIMIT)} | {guide} |")
    return "\n".join(lines)


def exports_table(keys: list[PageKey], sizes: tuple[int, int], timings: tuple[dict, dict],
                  raws: tuple[dict, dict]) -> str:
    """Each timed .xlsx export beside plain openpyxl writing a sheet of its shape, at both sizes."""
    heads = " | ".join(f"{persons(size)} rows × columns | {persons(size)} ours | {persons(size)} openpyxl | "
                       f"{persons(size)} ours÷openpyxl" for size in sizes)
    lines = [f"| export | role | {heads} |", "|---|---|" + "---:|" * 8]
    for key in keys:
        if not any(key in raw for raw in raws):
            continue
        cells = []
        for timing, raw in ((timings[0].get(key), raws[0].get(key)), (timings[1].get(key), raws[1].get(key))):
            if timing is None or raw is None:
                cells += ["—"] * 4
                continue
            cells += [f"{raw.rows - 1:,} × {raw.columns}", ms(timing.median), ms(raw.seconds),
                      f"{timing.median / raw.seconds:.2f}×" if raw.seconds > 0 else ""]
        lines.append(f"| {key.label} | {key.role} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def persons(size: int) -> str:
    """1,350,000 → 1.35M, 100,000 → 100k: the table's column names."""
    if size >= 1_000_000:
        return f"{size / 1e6:g}M"
    return f"{size / 1e3:g}k" if size >= 1000 else str(size)


def summary(rows: list[Row]) -> str:
    timed = [row for row in rows if row.large is not None]
    missed = [row for row in timed if row.misses]
    guide = [row for row in timed if row.over_guide]
    return (f"{len(timed)} pages timed ({len(rows) - len(timed)} not: see the table); {len(missed)} miss a "
            f"target, {len(guide)} take more than {GUIDE_SECONDS * 1e3:.0f} ms at the larger size.")


def engines_table(keys: list[PageKey], sizes: tuple[int, int], sqlite: tuple[dict, dict],
                  postgresql: tuple[dict, dict]) -> str:
    """Each page timed on both engines, at both sizes: PostgreSQL's median ÷ SQLite's (item 3's ≤ 1×)."""
    heads = " | ".join(f"{persons(size)} {name}" for size in sizes
                       for name in ("SQLite", "PostgreSQL", "PostgreSQL÷SQLite")) + f" (≤ {ENGINES_LIMIT:g}×)"
    lines = [f"| page | role | {heads} |", "|---|---|" + "---:|" * 6]
    for key in keys:
        cells = []
        for ours, theirs in zip(sqlite, postgresql):
            lite, pg = ours.get(key), theirs.get(key)
            cells += [ms(lite.median) if lite else "—", ms(pg.median) if pg else "—",
                      _figure(ratio(pg, lite), ENGINES_LIMIT)]
        if any(cell not in ("—", "") for cell in cells):
            lines.append(f"| {key.label} | {key.role} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def engines_summary(keys: list[PageKey], sqlite: dict, postgresql: dict) -> str:
    """How many pages PostgreSQL serves as fast as SQLite at one size, and the spread of the ratios."""
    ratios = sorted(((value, key) for key in keys
                     if (value := ratio(postgresql.get(key), sqlite.get(key))) is not None),
                    key=lambda pair: pair[0])
    if not ratios:
        return "No page was timed on both engines."
    slower = [value for value, _key in ratios if value > ENGINES_LIMIT]
    worst, worst_key = ratios[-1]
    pages = f"{len(ratios)} page{'s' if len(ratios) != 1 else ''}"
    return (f"{pages} timed on both engines: PostgreSQL as fast or faster on {len(ratios) - len(slower)}, "
            f"slower on {len(slower)}; PostgreSQL÷SQLite from "
            f"{ratios[0][0]:.2f}× to {worst:.2f}× ({worst_key.label} · {worst_key.role}), median "
            f"{median(value for value, _key in ratios):.2f}×.")


# --- the docs section -------------------------------------------------------------------------------------

def markers(engine: str) -> tuple[str, str]:
    return f"<!-- pages:{engine}:begin (generated by python -m benchmarks --only pages) -->", \
        f"<!-- pages:{engine}:end -->"


def rewrite_section(document: str, engine: str, generated: str) -> str:
    """The document with `engine`'s generated block replaced by `generated`, or added at the end of the pages
    section when it has none yet; the hand-written text of the section and the other engines' blocks stay."""
    begin, end = markers(engine)
    block = f"{begin}\n{generated.strip()}\n{end}"
    existing = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if existing.search(document):
        return existing.sub(lambda _match: block, document, count=1)
    start = document.find(f"\n{SECTION_HEADING}\n")
    if start < 0:
        raise ValueError(f"docs/BENCHMARKS.md has no section “{SECTION_HEADING}”")
    following = document.find("\n## ", start + len(SECTION_HEADING) + 2)
    if following < 0:
        return document.rstrip("\n") + f"\n\n{block}\n"
    return document[:following].rstrip("\n") + f"\n\n{block}\n" + document[following:]
