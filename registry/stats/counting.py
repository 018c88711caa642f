"""持证口径: which certificate kinds make a 持证人员, chosen by the administrator on a page.

The city's statistics office sets it and may change it (shared/reference/DOMAIN.md). A change is audited and,
once committed, the kept totals are rebuilt by the task worker (`recount_totals`), as `registry stats rebuild`
would: on a large registry a rebuild takes minutes, longer than a request may. Until it has run, the cockpit
says the totals are being recounted.
"""
from collections.abc import Collection

from registry.certificates.models import CertificateKind
from registry.core.audit import record_event
from registry.core.db import db
from registry.core.errors import Forbidden, InvalidInput
from registry.core.models import Setting
from registry.core.roles import Role
from registry.core.tasks import background_task, enqueue_after_commit
from registry.stats import rebuild
from registry.stats.tally import COUNTED_KINDS, counted_kinds

FIELD = "kinds"


def labels(kinds: Collection[CertificateKind]) -> list[str]:
    """In the order of CertificateKind, as the page lists them."""
    return [kind.label for kind in CertificateKind if kind in kinds]


def _value(kinds: Collection[CertificateKind]) -> str:
    return ",".join(kind.value for kind in CertificateKind if kind in kinds)


def set_counted_kinds(actor, names: Collection[str]) -> bool:
    """Record the administrator's choice (audited) and queue the recount; the caller commits. False if unchanged."""
    if getattr(actor, "role", None) is not Role.ADMIN:
        raise Forbidden("only the administrator chooses the counted kinds")
    known = {kind.value: kind for kind in CertificateKind}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InvalidInput(FIELD, f"计入持证的证书种类：未知的种类 {'、'.join(unknown)}")
    chosen = frozenset(known[name] for name in names)
    if not chosen:
        raise InvalidInput(FIELD, "计入持证的证书种类：至少选择一种，否则持证人数恒为零")
    before = counted_kinds()
    if chosen == before:
        return False
    row = db.session.get(Setting, COUNTED_KINDS) or Setting(key=COUNTED_KINDS, value="")
    row.value = _value(chosen)
    db.session.add(row)
    record_event(actor, "set_counted_kinds", "setting", COUNTED_KINDS,
                 before={"计入持证的证书种类": "、".join(labels(before))},
                 after={"计入持证的证书种类": "、".join(labels(chosen))})
    enqueue_after_commit(recount_totals, row.value)
    return True


def _labelled(value: str) -> str:
    return "、".join(labels({CertificateKind(name) for name in value.split(",") if name}))


def is_recounting(counted: Collection[CertificateKind]) -> bool:
    """Whether the recount for the current choice (`counted`, as the caller read it) is still queued or
    running."""
    return recount_totals.is_claimed(_value(counted))


def _give_up(value: str, reason: str) -> None:
    db.session.rollback()
    record_event(None, "rebuild_failed", "statistics", None,
                 after={"计入持证的证书种类": _labelled(value), "原因": reason})
    db.session.commit()


@background_task(give_up=_give_up)
def recount_totals(value: str) -> None:
    """Rebuild the kept totals under the counted kinds `value`, in one transaction; a later choice has its own
    task, so a run whose choice was replaced meanwhile does nothing."""
    if _value(counted_kinds()) != value:
        return
    rebuild.rebuild()
    record_event(None, "rebuild", "statistics", None, after={"计入持证的证书种类": _labelled(value)})
    db.session.commit()
