"""Idempotency-Key: a repeated bulk request gets the first answer back and writes nothing more."""
import hashlib
from functools import wraps

import sqlalchemy as sa
from flask import g, jsonify, make_response, request

from registry.api.errors import ApiError
from registry.api.models import IdempotentRequest
from registry.core.db import db

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 100


def idempotent(view):
    """Inside api_access, so the stored answer commits with the request's own writes, or not at all."""

    @wraps(view)
    def remembered(*args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return view(*args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise ApiError(400, f"{HEADER}：最多 {MAX_KEY_LENGTH} 个字符")
        if not key.isprintable():  # a NUL, which PostgreSQL refuses, or another control character
            raise ApiError(400, f"{HEADER}：含有控制字符")
        body_sha256 = hashlib.sha256(request.get_data()).hexdigest()
        endpoint = f"{request.method} {request.path}"
        first = db.session.scalar(sa.select(IdempotentRequest).where(
            IdempotentRequest.user_id == g.api_user.id, IdempotentRequest.key == key))
        if first is not None:
            if (first.endpoint, first.body_sha256) != (endpoint, body_sha256):
                raise ApiError(422, f"{HEADER} 已用于另一个请求，请换一个新的键", code="idempotency_key_reused")
            response = make_response(jsonify(first.response), first.status_code)
            response.headers["Idempotent-Replayed"] = "true"
            return response
        response = make_response(view(*args, **kwargs))
        if response.status_code < 400:
            db.session.add(IdempotentRequest(user_id=g.api_user.id, key=key, endpoint=endpoint,
                                             body_sha256=body_sha256, status_code=response.status_code,
                                             response=response.get_json()))
        return response

    return remembered
