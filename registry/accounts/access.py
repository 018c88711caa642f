"""Role gates for views: every view names the roles that may reach it."""
from functools import wraps

from flask import abort, jsonify
from flask_login import current_user, login_required

from registry.accounts.models import Role


def roles_required(*roles: Role):
    """Anonymous users go to the login page; signed-in users of another role get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def gated(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        gated.allowed_roles = frozenset(roles)
        return gated

    return decorator


admin_required = roles_required(Role.ADMIN)
any_role_required = roles_required(*Role)


def api_roles_required(*roles: Role):
    """roles_required for JSON endpoints: answers 401 or 403 in the API's error shape instead of a page."""

    def decorator(view):
        @wraps(view)
        def gated(*args, **kwargs):
            if not current_user.is_authenticated:
                return jsonify(error="unauthorized", message="请先登录", details=[]), 401
            if current_user.role not in roles:
                return jsonify(error="forbidden", message="没有权限访问", details=[]), 403
            return view(*args, **kwargs)

        gated.allowed_roles = frozenset(roles)
        return gated

    return decorator
