"""持证口径 page: the administrator chooses which certificate kinds count toward 持证 (registry/stats/counting.py)."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.certificates.models import CertificateKind
from registry.core.access import admin_required
from registry.core.db import db
from registry.core.errors import InvalidInput
from registry.stats import counting
from registry.stats.tally import counted_kinds
from registry.stats.views import bp


@bp.route("/stats/counted-kinds", methods=["GET", "POST"], endpoint="counted_kinds")
@admin_required
def counted_kinds_page():
    error = None
    if request.method == "POST":
        try:
            changed = counting.set_counted_kinds(current_user, request.form.getlist(counting.FIELD))
        except InvalidInput as failure:
            error = failure.message
        else:
            db.session.commit()
            flash("持证口径已保存，统计数据正在后台按新口径重新计算。" if changed else "持证口径没有变化。", "success")
            return redirect(url_for("stats.counted_kinds"))
    counted = counted_kinds()
    chosen = ({kind for kind in CertificateKind if kind.value in request.form.getlist(counting.FIELD)}
              if error else counted)
    return render_template("stats/counted_kinds.html", kinds=list(CertificateKind), chosen=chosen, error=error,
                           recounting=counting.is_recounting(counted)), 400 if error else 200
