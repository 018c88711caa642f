"""Role gates for views: every view names the roles that may reach it."""
from functools import wraps

from flask import abort, flash, jsonify, redirect, request, session as cookie_session, url_for
from flask_login import current_user, login_required

from registry.accounts import sessions
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


def recent_password_required(*methods: str):
    """For pages that mint credentials (API tokens, users): the password must have been typed in this session
    within the last ten minutes (sessions.REAUTHENTICATION_WINDOW); otherwise the user is asked for it and then
    sent back to the page. Only `methods` are gated when named (e.g. "POST": reading a list needs no password).
    Goes below the role gate, which sends anonymous users to sign in first."""

    def decorator(view):
        @wraps(view)
        def gated(*args, **kwargs):
            if methods and request.method not in methods:
                return view(*args, **kwargs)
            user_session = sessions.live_session(cookie_session.get(sessions.COOKIE_KEY))
            if not sessions.password_recently_confirmed(user_session):
                flash("此操作需要再次输入密码，以确认是您本人。", "warning")
                # A form that was posted is shown again empty: its data is not carried through the detour.
                back_to = request.full_path.rstrip("?") if request.method == "GET" else request.path
                return redirect(url_for("accounts.confirm_password", next=back_to))
            return view(*args, **kwargs)

        return gated

    return decorator
