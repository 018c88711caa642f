"""专项职业能力项目目录 page (admin): the items, adding one, stopping and restarting them."""
import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.core.access import admin_required
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.reference.models import SpecialItem
from registry.reference.special_items import add_special_item, set_special_item_active
from registry.reference.views import bp


@bp.route("/admin/special-items", methods=["GET", "POST"])
@admin_required
def special_items():
    error = None
    if request.method == "POST":
        try:
            item = add_special_item(current_user, request.form.get("code"), request.form.get("name"),
                                    request.form.get("source"))
        except InvalidInput as failure:
            db.session.rollback()
            error = failure.message
        else:
            db.session.commit()
            flash(f"专项职业能力项目 {item} 已加入目录。", "success")
            return redirect(url_for("reference.special_items"))
    items = db.session.scalars(sa.select(SpecialItem).order_by(SpecialItem.code)).all()
    return render_template("reference/special_items.html", items=items, error=error,
                           submitted=request.form if error else {}), 400 if error else 200


@bp.post("/admin/special-items/<int:item_id>/active")
@admin_required
def set_special_item_status(item_id: int):
    item = db.session.get(SpecialItem, item_id) or abort(404)
    set_special_item_active(current_user, item, request.form.get("active") == "1")
    db.session.commit()
    flash(f"{item} 已{'启用' if item.is_active else '停用'}。", "success")
    return redirect(url_for("reference.special_items"))
