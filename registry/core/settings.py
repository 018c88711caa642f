"""The administrator's choices kept in the database (系统设置), each with its default when never set."""
from registry.core.audit import record_event
from registry.core.db import db
from registry.core.models import Setting

# Whether certificates may be issued to holders without a photo. Allowed by default: the issue page lists
# who has none before anyone confirms.
ISSUE_WITHOUT_PHOTO = "issue_without_photo"
DEFAULTS = {ISSUE_WITHOUT_PHOTO: "1"}
LABELS = {ISSUE_WITHOUT_PHOTO: "允许为未采集照片的人员发证"}


def flag(key: str) -> bool:
    row = db.session.get(Setting, key)
    return (row.value if row else DEFAULTS[key]) == "1"


def set_flag(actor, key: str, enabled: bool) -> None:
    """Record the choice (audited); the caller commits."""
    before = flag(key)
    row = db.session.get(Setting, key) or Setting(key=key, value=DEFAULTS[key])
    row.value = "1" if enabled else "0"
    db.session.add(row)
    if before != enabled:
        record_event(actor, "update", "setting", key, before={"value": before}, after={"value": enabled})
