"""Role gates for pages: every view names the roles that may reach it (the API's gate is api_access)."""
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from registry.core.roles import Role


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
