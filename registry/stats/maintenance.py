"""Bring the cockpit's totals up to date just before each transaction that changed their sources commits."""
from flask_sqlalchemy.session import Session
from sqlalchemy import event

from registry.core.changes import take_changes
from registry.stats import tally


@event.listens_for(Session, "before_commit")
def _refresh_before_commit(session) -> None:
    persons, classes = take_changes(session)
    if not persons and not classes:
        return
    session.flush()  # the contributions are read back from the database
    tally.refresh("person", tally.person_contributions(persons))
    tally.refresh("class", tally.class_contributions(classes))


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        take_changes(session)
