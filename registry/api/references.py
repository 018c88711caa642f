"""Reference data named in API requests and filters (occupation codes), refused in the API's error shape."""
import sqlalchemy as sa

from registry.api.errors import ApiError
from registry.core.db import db
from registry.reference.models import Occupation


def occupation_id(code: str, status: int = 422) -> int:
    """The active occupation with this code, newest edition first."""
    found = db.session.scalar(sa.select(Occupation.id).where(Occupation.code == code.strip(), Occupation.is_active)
                              .order_by(Occupation.edition.desc()).limit(1))
    if found is None:
        raise ApiError(status, f"occupation_code：未知或已停用的职业编码 {code}", [{"field": "occupation_code"}])
    return found
