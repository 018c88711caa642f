"""Tests for the training scope rule: who reads and who writes which classes."""
import pytest
import sqlalchemy as sa
from werkzeug.exceptions import Forbidden as HTTPForbidden
from werkzeug.exceptions import NotFound

from registry.core.roles import Role
from registry.core.db import db
from registry.training.models import TrainingClass
from registry.training.operations import enroll_person
from registry.training.scopes import (
    get_class_or_404, get_enrollment_or_404, may_create, may_read, may_write, readable_classes,
)


@pytest.fixture
def classes(make_institution, make_class):
    """Two institutions; the first runs classes in 杞县 and 通许县, the second one in 杞县."""
    first, second = make_institution(), make_institution()
    return {
        "first_qixian": make_class(first, county_code="410221"),
        "first_tongxu": make_class(first, county_code="410222"),
        "second_qixian": make_class(second, county_code="410221"),
    }, first, second


@pytest.fixture
def users(make_user, make_agency, classes):
    _, first, _ = classes
    return {
        "admin": make_user(Role.ADMIN),
        "first": make_user(Role.INSTITUTION, organization_id=first.id),
        "qixian": make_user(Role.COUNTY, county_code="410221"),
        "agency": make_user(Role.AGENCY, organization_id=make_agency().id),
    }


def visible(user) -> set[int]:
    return set(db.session.scalars(sa.select(TrainingClass.id).where(readable_classes(user))))


@pytest.mark.parametrize(("user", "readable", "writable"), [
    ("admin", {"first_qixian", "first_tongxu", "second_qixian"},
     {"first_qixian", "first_tongxu", "second_qixian"}),
    ("first", {"first_qixian", "first_tongxu"}, {"first_qixian", "first_tongxu"}),
    ("qixian", {"first_qixian", "second_qixian"}, set()),
    ("agency", set(), set()),
])
def test_filter_and_checks_agree(classes, users, user, readable, writable):
    by_name, _, _ = classes
    actor = users[user]
    assert visible(actor) == {by_name[name].id for name in readable}
    assert {name for name, training_class in by_name.items() if may_read(actor, training_class)} == readable
    assert {name for name, training_class in by_name.items() if may_write(actor, training_class)} == writable


def test_only_administrators_and_institutions_create(users):
    assert [name for name, user in users.items() if may_create(user)] == ["admin", "first"]


def test_loader_hides_classes_outside_the_read_scope(classes, users):
    by_name, _, _ = classes
    with pytest.raises(NotFound):
        get_class_or_404(users["first"], by_name["second_qixian"].id)
    with pytest.raises(NotFound):
        get_class_or_404(users["qixian"], by_name["first_tongxu"].id)
    with pytest.raises(NotFound):
        get_class_or_404(users["admin"], 999_999)
    own = by_name["first_tongxu"]
    assert get_class_or_404(users["first"], own.id, for_write=True) is own


def test_loader_refuses_writes_to_a_readable_class(classes, users):
    by_name, _, _ = classes
    assert get_class_or_404(users["qixian"], by_name["first_qixian"].id) is by_name["first_qixian"]
    with pytest.raises(HTTPForbidden):
        get_class_or_404(users["qixian"], by_name["first_qixian"].id, for_write=True)


def test_enrollment_loader_follows_its_class(classes, users, make_person):
    by_name, _, _ = classes
    enrollment = enroll_person(None, by_name["second_qixian"], make_person())
    db.session.commit()
    with pytest.raises(NotFound):
        get_enrollment_or_404(users["first"], enrollment.id)
    with pytest.raises(HTTPForbidden):
        get_enrollment_or_404(users["qixian"], enrollment.id, for_write=True)
    assert get_enrollment_or_404(users["admin"], enrollment.id, for_write=True) is enrollment
    with pytest.raises(NotFound):
        get_enrollment_or_404(users["admin"], 999_999)
