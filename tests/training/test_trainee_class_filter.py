"""The trainee list's class filter (#17): a search narrows the classes offered, the chosen class stays offered
wherever it falls, and neither parameter can make the page fail."""
import re

from registry.core.roles import Role
from registry.training import queries


def offered(html: str) -> set[str]:
    select = re.search(r'<select[^>]*name="class_id".*?</select>', html, re.S).group(0)
    return set(re.findall(r'<option[^>]*value="(\d+)"', select))


def test_the_search_narrows_the_classes_and_the_chosen_one_stays(make_class, make_user, login, monkeypatch):
    welding, cooking = make_class(name="焊工提升班"), make_class(name="中式烹调班")
    admin = login(make_user(Role.ADMIN))
    assert offered(admin.get("/training/trainees").get_data(as_text=True)) == {str(welding.id), str(cooking.id)}
    html = admin.get("/training/trainees?class_search=焊工").get_data(as_text=True)
    assert offered(html) == {str(welding.id)} and 'data-option-filter=' in html
    assert offered(admin.get(f"/training/trainees?class_search={cooking.id}").get_data(as_text=True)) == {
        str(cooking.id)}
    monkeypatch.setattr(queries, "CLASS_CHOICES_LIMIT", 1)
    chosen = admin.get(f"/training/trainees?class_search=焊工&class_id={cooking.id}").get_data(as_text=True)
    assert offered(chosen) == {str(welding.id), str(cooking.id)}


def test_bad_class_parameters_are_a_clear_400_or_plain_text(make_class, make_user, login):
    make_class()
    admin = login(make_user(Role.ADMIN))
    too_big = admin.get("/training/trainees?class_id=99999999999999999999")
    assert too_big.status_code == 400 and "class_id" in too_big.get_data(as_text=True)
    assert admin.get("/training/trainees?class_id=²").status_code == 400
    assert admin.get("/training/trainees?class_search=²").status_code == 200
    assert admin.get("/training/trainees?class_search=99999999999999999999").status_code == 200
