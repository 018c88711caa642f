"""The choices of the batch form (认定批次): occupations and levels in the agency's filed scope, and the
training classes the user may link, each named by number, name, institution and dates."""
import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from registry.core.db import db
from registry.organizations.models import Agency
from registry.organizations.scope_choices import filed_levels, filed_occupations
from registry.reference.models import LEVEL_LABELS
from registry.training.models import TrainingClass
from registry.training.scopes import linkable_classes

# The newest classes are the ones batches are planned for; a list longer than this no longer reads.
CLASS_CHOICES_LIMIT = 500


def offer_filed_scope(form, agency: Agency) -> None:
    """Narrow the occupation and level selects to the agency's filed scope. Each occupation carries its own
    levels (data-levels), so the page can narrow the levels further once an occupation is chosen."""
    filed = filed_occupations(agency)
    form.occupation_id.choices = [SelectChoice("", "（请选择）"), *(
        SelectChoice(occupation.id, occupation.label,
                     render_kw={"data-levels": " ".join(map(str, occupation.levels))})
        for occupation in filed)]
    form.level.choices = [SelectChoice(level, LEVEL_LABELS[level]) for level in filed_levels(filed)]
    form.occupation_id.render_kw = {"data-level-select": form.level.id}
    if not filed:
        form.occupation_id.description = "本机构尚无备案范围，请联系市人社局"


def offer_agencies(form, agencies) -> None:
    """The administrator's agency select: each agency carries the occupations it filed (data-occupations),
    so the page offers only those once an agency is chosen; the operation checks the scope in any case."""
    form.agency_id.choices = [SelectChoice("", "（请选择）"), *(
        SelectChoice(agency.id, agency.name, render_kw={
            "data-occupations": " ".join(str(occupation.id) for occupation in filed_occupations(agency))})
        for agency in agencies)]
    form.agency_id.render_kw = {"data-occupation-select": form.occupation_id.id}


def class_label(training_class: TrainingClass) -> str:
    return (f"{training_class.id} · {training_class.name}（{training_class.institution.name}，"
            f"{training_class.starts_on.isoformat()} 至 {training_class.ends_on.isoformat()}）")


def offer_classes(form, user, linked: TrainingClass | None = None) -> None:
    """The classes the user may link, newest first, and the one a batch already links even if older."""
    classes = list(db.session.scalars(
        sa.select(TrainingClass).where(linkable_classes(user)).options(selectinload(TrainingClass.institution))
        .order_by(TrainingClass.starts_on.desc(), TrainingClass.id.desc()).limit(CLASS_CHOICES_LIMIT)))
    if linked is not None and linked not in classes:
        classes.insert(0, linked)
    form.training_class_id.choices = [SelectChoice("", "（不关联）"),
                                      *(SelectChoice(each.id, class_label(each)) for each in classes)]
