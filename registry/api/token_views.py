"""Each user's own API tokens (我的 API 令牌): create (the secret is shown once), list, revoke."""
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from registry.accounts.access import recent_password_required
from registry.core.access import any_role_required
from registry.api import tokens
from registry.api.forms import TokenForm
from registry.api.models import ApiToken
from registry.core.db import db
from registry.core.forms import submit

# Apart from the API blueprint: these are pages, and keep the CSRF protection the API goes without.
bp = Blueprint("api_tokens", __name__)


@bp.route("/account/tokens", methods=["GET", "POST"])
@any_role_required
@recent_password_required("POST")  # a new token is a new credential: only with the password typed recently
def list_tokens():
    form = TokenForm()
    created = {}
    if form.validate_on_submit():
        def create():
            created["token"], created["secret"] = tokens.create_token(current_user, form.name.data,
                                                                      form.expires_on.data)
        if submit(form, create):
            # Rendered, not flashed: a flash would carry the secret in the (signed, readable) session cookie.
            form = TokenForm(formdata=None)
    return render_template("api/tokens.html", form=form, tokens=tokens.user_tokens(current_user),
                           secret=created.get("secret"), created=created.get("token"), today=date.today())


@bp.post("/account/tokens/<int:token_id>/revoke")
@any_role_required
def revoke_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if submit(TokenForm(), lambda: tokens.revoke_token(current_user, token)):
        flash(f"令牌“{token.name}”已撤销，使用它的程序将无法再访问。", "success")
    return redirect(url_for("api_tokens.list_tokens"))
