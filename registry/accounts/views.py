"""Sign-in, sign-out, re-authentication and the administrator's user pages."""
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, session as cookie_session, url_for
from flask_login import current_user, login_user, logout_user
from wtforms import SelectChoice

from registry.accounts import operations, sessions, throttle
from registry.accounts.access import recent_password_required
from registry.core.access import admin_required, any_role_required
from registry.accounts.forms import ConfirmPasswordForm, LiftLockForm, LoginForm, UserForm
from registry.accounts.models import User
from registry.core.roles import Role
from registry.core import arguments
from registry.core.db import db
from registry.core.forms import submit
from registry.core.listing import paginate
from registry.reference.queries import county_choices

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        result = operations.authenticate(form.username.data.strip(), form.password.data, request.remote_addr)
        key = sessions.start_session(result.user) if result.user else None
        db.session.commit()
        if result.user:
            cookie_session[sessions.COOKIE_KEY] = key
            login_user(result.user)
            flash(f"欢迎，{result.user.display_name or result.user.username}。", "success")
            return redirect(url_for("dashboard.index"))
        form.password.errors.append(result.message)
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@any_role_required
def logout():
    operations.record_logout(current_user)
    sessions.end_session(cookie_session.pop(sessions.COOKIE_KEY, None))
    db.session.commit()
    logout_user()
    flash("已退出登录。", "success")
    return redirect(url_for("accounts.login"))


@bp.route("/account/confirm-password", methods=["GET", "POST"])
@any_role_required
def confirm_password():
    form = ConfirmPasswordForm()
    if form.validate_on_submit():
        problem = operations.confirm_password(current_user, form.password.data, request.remote_addr)
        if problem is None:
            sessions.confirm_password(sessions.live_session(cookie_session.get(sessions.COOKIE_KEY)))
        db.session.commit()
        if problem is None:
            return redirect(_local_path(request.args.get("next")))
        form.password.errors.append(problem)
    return render_template("accounts/confirm_password.html", form=form)


@bp.get("/admin/users")
@admin_required
def list_users():
    statement = sa.select(User)
    if query := arguments.text("q", max_length=80):
        statement = statement.where(sa.or_(User.username.contains(query), User.display_name.contains(query)))
    if role := arguments.option("role", Role):
        statement = statement.where(User.role == role)
    columns = {"username": User.username, "role": User.role, "created_at": User.created_at}
    page, sorting = paginate(statement, columns, default="username")
    return render_template("accounts/users.html", page=page, sorting=sorting, roles=Role,
                           blocks=throttle.current_blocks())


@bp.post("/admin/users/sign-in-locks/lift")
@admin_required
def lift_sign_in_lock():
    form = LiftLockForm()
    if not form.validate_on_submit():
        flash("请求有误：缺少要解除的账号或网络地址。", "error")
    elif submit(form, lambda: throttle.lift(current_user, form.kind.data, form.key.data)):
        flash(f"已解除“{form.key.data}”的登录限制。", "success")
    return redirect(url_for("accounts.list_users"))


@bp.route("/admin/users/new", methods=["GET", "POST"])
@admin_required
@recent_password_required()
def create_user():
    form = _user_form()
    if form.validate_on_submit() and submit(form, lambda: operations.create_user(
        current_user, form.username.data, form.password.data or "", Role(form.role.data),
        form.county_code.data or None, form.organization_id.data, form.display_name.data or "",
    )):
        flash("用户已创建。", "success")
        return redirect(url_for("accounts.list_users"))
    return render_template("form_page.html", form=form, title="新建用户", cancel_url=url_for("accounts.list_users"))


@bp.route("/admin/users/<int:user_id>/edit", methods=["GET", "POST"])
@admin_required
@recent_password_required()
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = _user_form(obj=user)
    form.username.render_kw = {"readonly": True}
    if request.method == "GET":
        form.organization_id.data = user.agency_id or user.institution_id
    if form.validate_on_submit() and submit(form, lambda: operations.update_user(
        current_user, user, Role(form.role.data), form.county_code.data or None, form.organization_id.data,
        form.display_name.data or "", form.is_active.data, form.password.data or None,
    )):
        flash("用户已更新。", "success")
        return redirect(url_for("accounts.list_users"))
    return render_template("form_page.html", form=form, title=f"编辑用户 {user.username}",
                           cancel_url=url_for("accounts.list_users"))


def _user_form(**kwargs) -> UserForm:
    form = UserForm(**kwargs)
    form.county_code.choices = [SelectChoice("", "（不适用）"), *(SelectChoice(*choice) for choice in county_choices())]
    return form


def _local_path(target: str | None) -> str:
    """Where to go back to after re-authentication: a path on this site only. `//host` and `/\\host` (and
    control characters, which browsers drop) would send the user to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target \
            or any(ord(character) < 32 for character in target) or urlsplit(target).netloc:
        return url_for("dashboard.index")
    return target
