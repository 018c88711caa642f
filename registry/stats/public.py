"""The public figures (人人持证进度): the city's and each county's holders, skilled and highly skilled workers
against their 2025 targets, read from the same kept totals as the cockpit, with nothing about any person."""
from dataclasses import dataclass
from datetime import date

from registry.stats.coverage import Coverage, coverage

# figure shown → its label; each has a 2025 target in coverage.TARGET_INDICATORS
FIGURES = (("holders", "持证人员"), ("skilled", "技能人才"), ("high_skilled", "高技能人才"))


@dataclass(frozen=True)
class Progress:
    value: int
    target: int | None

    @property
    def share(self) -> float | None:
        return self.value / self.target if self.target else None


@dataclass(frozen=True)
class Place:
    """The city or one county: each figure against its target."""

    code: str
    name: str
    figures: dict[str, Progress]


def public_figures(as_of: date) -> tuple[Place, list[Place]]:
    """The city, then every current county in code order, as of the end of `as_of`."""
    city, counties = coverage(as_of)
    return _place(city), [_place(county) for county in counties]


def _place(figures: Coverage) -> Place:
    return Place(figures.code, figures.name, {key: Progress(getattr(figures, key), figures.targets.get(key))
                                              for key, _label in FIGURES})
