"""What an agency's filed scope (备案范围) offers a form: its occupations, each with the levels filed for it.

A form built from these offers nothing the batch operation would refuse for being outside the scope; the
dates still decide (a scope line valid only in 2023 cannot cover a batch in 2025), and the operation checks
them. Every line counts here whatever its validity, so a batch of an earlier year can still be recorded.
"""
from dataclasses import dataclass

from registry.organizations.models import Agency


@dataclass(frozen=True)
class FiledOccupation:
    id: int
    label: str  # "6-18-02-04 焊工", as occupation lists show it
    levels: tuple[int, ...]  # level digits filed and known to the occupation, highest digit (初级) first


def filed_occupations(agency: Agency) -> list[FiledOccupation]:
    """The active occupations in the agency's filed scope, by code, with the levels filed for each."""
    levels: dict[int, set[int]] = {}
    occupations = {}
    for scope in agency.scopes:
        if not scope.occupation.is_active:
            continue
        occupations[scope.occupation_id] = scope.occupation
        filed = set(range(scope.highest_level, scope.lowest_level + 1))
        levels.setdefault(scope.occupation_id, set()).update(filed & set(scope.occupation.allowed_levels))
    return [FiledOccupation(occupation.id, str(occupation), tuple(sorted(levels[occupation.id], reverse=True)))
            for occupation in sorted(occupations.values(), key=lambda occupation: occupation.code)
            if levels[occupation.id]]


def filed_levels(filed: list[FiledOccupation]) -> list[int]:
    """Every level some filed occupation offers, highest digit first."""
    return sorted({level for occupation in filed for level in occupation.levels}, reverse=True)
