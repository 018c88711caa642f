"""Planning a 专项职业能力考核批次 (an item of the catalogue, no level); results and issuing are every batch's."""
import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from registry.assessment.forms import SpecialBatchForm
from registry.assessment.models import AssessmentBatch
from registry.assessment.special_batches import create_special_batch
from registry.assessment.views import bp
from registry.core.access import roles_required
from registry.core.db import db
from registry.core.forms import submit
from registry.core.roles import Role
from registry.organizations.models import Agency, AgencySpecialItem, AgencyStatus
from registry.reference.models import SpecialItem
from registry.reference.queries import county_choices

writers = roles_required(Role.ADMIN, Role.AGENCY)


@bp.route("/assessment/batches/new-special", methods=["GET", "POST"])
@writers
def create_special_batch_page():
    form = _form()
    created: list[AssessmentBatch] = []  # submit() returns only a flag: keep the new row to redirect to it
    if form.validate_on_submit() and submit(form, lambda: created.append(
        create_special_batch(current_user, **{"agency_id": None} | form.values())
    )):
        flash("专项职业能力考核批次已创建，可以开始录入成绩。", "success")
        return redirect(url_for("assessment.batch_detail", batch_id=created[0].id))
    return render_template("form_page.html", form=form, title="新建专项职业能力考核批次",
                           cancel_url=url_for("assessment.list_batches"))


def _form() -> SpecialBatchForm:
    form = SpecialBatchForm()
    items = sa.select(SpecialItem).where(SpecialItem.is_active).order_by(SpecialItem.code)
    if current_user.role is Role.ADMIN:
        agencies = sa.select(Agency.id, Agency.name).where(Agency.status == AgencyStatus.ACTIVE).order_by(Agency.name)
        form.agency_id.choices = [("", "（请选择）"), *((agency_id, name) for agency_id, name in
                                                    db.session.execute(agencies))]
    else:
        del form.agency_id  # an agency plans only its own batches, of the items it is filed for
        items = items.where(SpecialItem.id.in_(sa.select(AgencySpecialItem.special_item_id).where(
            AgencySpecialItem.agency_id == current_user.agency_id)))
    form.special_item_id.choices = [("", "（请选择）"), *((item.id, str(item)) for item in db.session.scalars(items))]
    form.county_code.choices = [("", "（请选择）"), *county_choices()]
    if not form.is_submitted() and current_user.role is Role.AGENCY:
        form.county_code.data = current_user.agency.county_code
    return form
