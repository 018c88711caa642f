"""专项职业能力项目目录: the administrator adds items and stops or restarts them (audited); the caller commits.

No Henan catalogue was found (docs/GLOSSARY.md), so the seeded rows are an example set and the city keeps the
real list here. An item is never deleted: certificates and filings name it; a stopped item takes no new filing
or batch (registry/organizations/special_filing.py, registry/assessment/special_batches.py).
"""
import re

import sqlalchemy as sa

from registry.core.audit import record_event
from registry.core.db import db
from registry.core.errors import Forbidden, InvalidInput
from registry.core.roles import Role
from registry.reference.models import SpecialItem

CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,19}")


def add_special_item(actor, code: str | None, name: str | None, source: str | None = "") -> SpecialItem:
    _check_admin(actor)
    code = re.sub(r"\s+", "", code or "").upper()
    name, source = (name or "").strip(), (source or "").strip()
    if not CODE.fullmatch(code):
        raise InvalidInput("code", f"项目编码：应为2–20位大写字母、数字或连字符，实为“{code or '（空）'}”")
    if db.session.scalar(sa.select(SpecialItem.id).where(SpecialItem.code == code)) is not None:
        raise InvalidInput("code", f"项目编码：{code} 已存在")
    if not name:
        raise InvalidInput("name", "项目名称：不能为空")
    if len(name) > 60:
        raise InvalidInput("name", "项目名称：最多60个字符")
    if db.session.scalar(sa.select(SpecialItem.id).where(SpecialItem.name == name)) is not None:
        raise InvalidInput("name", f"项目名称：{name} 已在目录中")
    if len(source) > 300:
        raise InvalidInput("source", "来源：最多300个字符")
    item = SpecialItem(code=code, name=name, source=source, is_active=True)
    db.session.add(item)
    db.session.flush()
    record_event(actor, "create", "special_item", item.id, after={"code": code, "name": name, "source": source})
    return item


def set_special_item_active(actor, item: SpecialItem, active: bool) -> None:
    _check_admin(actor)
    if item.is_active != active:
        record_event(actor, "update", "special_item", item.id, before={"is_active": item.is_active},
                     after={"is_active": active})
        item.is_active = active


def _check_admin(actor) -> None:
    if getattr(actor, "role", None) is not Role.ADMIN:
        raise Forbidden("only the administrator keeps the 专项职业能力 catalogue")
