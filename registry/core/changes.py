"""Which persons and training classes a transaction changed, for whatever keeps derived figures in step.

Operations say what they touched; a listener (registry.stats.maintenance) reads the marks just before the
transaction commits and brings its figures up to date inside that same transaction. Kept here, below every
domain, so that training and certificates need not import the statistics that are built on them.
"""
from collections.abc import Iterable

from registry.core.db import db

PERSONS, CLASSES = "changed_persons", "changed_classes"


def note_persons_changed(person_ids: Iterable[int]) -> None:
    db.session.info.setdefault(PERSONS, set()).update(person_ids)


def note_classes_changed(class_ids: Iterable[int]) -> None:
    db.session.info.setdefault(CLASSES, set()).update(class_ids)


def take_changes(session) -> tuple[set[int], set[int]]:
    """The marks so far, cleared: each is handled once."""
    return session.info.pop(PERSONS, set()), session.info.pop(CLASSES, set())
