"""Person lookup (人员查询): search by document number or name, and the person page with their training,
assessment and certificates, within the user's scope. Above certificates, it may read every area it shows.

The blueprint keeps the name "people", so the endpoints (people.search, people.person_detail …) and URLs stay.
"""
import sqlalchemy as sa
from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import contains_eager, joinedload

from registry.core.access import admin_required, roles_required
from registry.core.roles import Role
from registry.assessment.models import AssessmentBatch, AssessmentResult
from registry.certificates.models import Certificate
from registry.core.db import db
from registry.core.listing import paginate
from registry.people import operations
from registry.people.forms import PersonSearch, SearchForm
from registry.people.masking import mask_document, mask_phone
from registry.people.models import Person
from registry.people.name_search import name_contains
from registry.people.scopes import get_person_or_404, readable_persons
from registry.reference.models import LEVEL_LABELS
from registry.training.models import Enrollment, TrainingClass
from registry.training.scopes import may_read

bp = Blueprint("people", __name__)  # the name of the endpoints, not of the area
readers = roles_required(Role.ADMIN, Role.COUNTY, Role.INSTITUTION, Role.AGENCY)
SEARCH_COLUMNS = {"name": Person.name, "gender": Person.gender, "county": Person.county_code}


@bp.route("/people", methods=["GET", "POST"])
@readers
def search():
    """The form posts, so a typed document number never lands in a URL, the browser history or an access log.

    A name search is redirected to a GET address, so its result pages can be sorted, paged and bookmarked.
    """
    form = SearchForm(request.form if request.method == "POST" else request.args)
    wanted = form.search()
    if request.method == "POST" and wanted is not None and wanted.name is not None:
        return redirect(url_for("people.search", q=wanted.name))
    page = sorting = None
    if wanted is not None:
        page, sorting = paginate(_matching(wanted), SEARCH_COLUMNS, default="name",
                                 loads=(joinedload(Person.county),))
    masked = None
    if wanted is not None and wanted.number is not None:
        # A number that was looked up is not echoed back in plain text; the page names it masked.
        masked, form.q.data = mask_document(wanted.document_type, wanted.number), ""
    return render_template("lookup/search.html", form=form, wanted=wanted, masked=masked, page=page,
                           sorting=sorting)


@bp.get("/people/<int:person_id>")
@readers
def person_detail(person_id: int):
    return _render_person(get_person_or_404(current_user, person_id))


@bp.post("/people/<int:person_id>/reveal")
@admin_required
def reveal_document(person_id: int):
    person = get_person_or_404(current_user, person_id)
    number = operations.reveal_document(current_user, person)
    db.session.commit()
    response = make_response(_render_person(person, revealed_number=number))
    # The plain number must not stay behind in a browser or proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _matching(wanted: PersonSearch) -> sa.Select:
    in_scope = sa.select(Person).where(readable_persons(current_user))
    if wanted.number is None:
        return in_scope.where(name_contains(wanted.name))
    # Exact, through the keyed hash: a number is never compared in plain text, let alone with LIKE.
    found = operations.find_person(wanted.document_type, wanted.number)
    return in_scope.where(Person.id == found.id) if found else in_scope.where(sa.false())


def _render_person(person: Person, revealed_number: str | None = None):
    enrollments = db.session.scalars(
        sa.select(Enrollment).where(Enrollment.person_id == person.id)
        .options(joinedload(Enrollment.training_class).joinedload(TrainingClass.institution))
        .order_by(Enrollment.enrolled_on.desc(), Enrollment.id)
    ).all()
    results = db.session.scalars(
        sa.select(AssessmentResult).join(AssessmentResult.batch)
        .where(AssessmentResult.person_id == person.id)
        .options(contains_eager(AssessmentResult.batch).joinedload(AssessmentBatch.agency),
                 contains_eager(AssessmentResult.batch).joinedload(AssessmentBatch.occupation))
        .order_by(AssessmentBatch.assessed_on.desc(), AssessmentResult.id)
    ).all()
    certificates = db.session.scalars(
        sa.select(Certificate).where(Certificate.person_id == person.id)
        .options(joinedload(Certificate.agency), joinedload(Certificate.occupation))
        .order_by(Certificate.issued_on.desc(), Certificate.id)
    ).all()
    return render_template(
        "lookup/person.html", person=person, revealed_number=revealed_number,
        is_admin=current_user.role is Role.ADMIN, phone=mask_phone(person.phone or ""),
        enrollments=enrollments, results=results, certificates=certificates, level_labels=LEVEL_LABELS,
        # Every enrolment of a person in scope is listed; only the classes the user may open are linked.
        linked_classes={item.class_id for item in enrollments if may_read(current_user, item.training_class)},
    )
