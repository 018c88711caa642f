"""The password check for pages that mint credentials; the role gates themselves are in registry/core/access.py."""
from functools import wraps

from flask import flash, redirect, request, session as cookie_session, url_for

from registry.accounts import sessions


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
