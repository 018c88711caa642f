"""Bring the cockpit's totals up to date just before each transaction that changed their sources commits.

The app factory installs the hooks (init_totals); every session of the process then keeps the totals."""
from flask_sqlalchemy.session import Session
from sqlalchemy import event

from registry.core.changes import take_changes
from registry.stats import breakdown_tally, funnel_tally, tally


def _refresh_before_commit(session) -> None:
    persons, classes = take_changes(session)
    if not persons and not classes:
        return
    session.flush()  # the contributions are read back from the database
    tally.refresh("person", tally.person_contributions(persons))
    # An enrolment, a class's county or a new rural flag moves its rural persons' rural_trained. Refreshing
    # one of them twice changes nothing: streamed, they need not be gathered into one set.
    for rural in tally.rural_trainees_in(classes):
        tally.refresh("person", tally.person_contributions(rural))
    tally.refresh("class", tally.class_contributions(classes))
    breakdown_tally.refresh("person", breakdown_tally.person_contributions(persons))
    breakdown_tally.refresh("class", breakdown_tally.class_contributions(classes))
    funnel_tally.refresh(persons, classes)


def _forget_after_rollback(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        take_changes(session)


def init_totals() -> None:
    """Install the session hooks, once per process (a second app in the same process finds them in place)."""
    for name, hook in (("before_commit", _refresh_before_commit), ("after_soft_rollback", _forget_after_rollback)):
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)
