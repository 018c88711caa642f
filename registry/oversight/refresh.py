"""Recount every signal from the stored data (`registry oversight signals`, and nightly in the task worker).

A finding seen before keeps its row, status, owner and history; a new one opens; one the data no longer shows
stays with is_current false, so nothing an official wrote is lost.
"""
import time
from dataclasses import dataclass

import sqlalchemy as sa
from huey import crontab

from registry.core.audit import record_event
from registry.core.db import db, utcnow
from registry.core.tasks import periodic
from registry.oversight.models import SignalInstance
from registry.oversight.signals import SIGNALS, current_settings


@dataclass
class Tally:
    found: int = 0
    opened: int = 0
    gone: int = 0
    seconds: float = 0.0


def refresh_signals(actor=None, only: tuple[str, ...] = ()) -> dict[str, Tally]:
    """Run each signal's query and bring its instances in line; one audit event says what changed."""
    settings = current_settings()
    tallies = {}
    for key, definition in SIGNALS.items():
        if only and key not in only:
            continue
        start = time.perf_counter()
        tallies[key] = _apply(key, list(definition.find(settings)))
        tallies[key].seconds = time.perf_counter() - start
    record_event(actor, "refresh", "signals", after={
        key: f"{tally.found} found, {tally.opened} new, {tally.gone} no longer found" for key, tally in tallies.items()
    } | {"settings": str(settings)})
    return tallies


def _apply(key: str, findings: list) -> Tally:
    now = utcnow()
    known = {instance.subject_key: instance
             for instance in db.session.scalars(sa.select(SignalInstance).where(SignalInstance.signal == key))}
    tally = Tally(found=len(findings))
    seen = set()
    for finding in findings:
        if finding.subject_key in seen:
            continue
        seen.add(finding.subject_key)
        instance = known.get(finding.subject_key)
        if instance is None:
            tally.opened += 1
            db.session.add(SignalInstance(signal=key, subject_key=finding.subject_key, summary=finding.summary[:400],
                                          county_code=finding.county_code, agency_id=finding.agency_id,
                                          institution_id=finding.institution_id, first_found_at=now,
                                          last_found_at=now))
            continue
        instance.summary, instance.county_code = finding.summary[:400], finding.county_code
        instance.agency_id, instance.institution_id = finding.agency_id, finding.institution_id
        instance.is_current, instance.last_found_at = True, now
    for subject_key, instance in known.items():
        if subject_key not in seen and instance.is_current:
            instance.is_current = False
            tally.gone += 1
    db.session.flush()
    return tally


@periodic(crontab(hour="2", minute="40"), name="registry.oversight.signals")
def _refresh_nightly() -> None:
    refresh_signals()
