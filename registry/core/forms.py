"""What every area's forms share: the messages and field helpers of form and filter bars, and `submit`, the one
place a form view commits or rolls back."""
from collections.abc import Callable

from flask import flash
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import DateField, Form, SelectChoice, SelectField, SelectMultipleField
from wtforms.validators import InputRequired, NumberRange, Optional, StopValidation
from wtforms.widgets import CheckboxInput, html_params

from registry.core.arguments import MAX_ID
from registry.core.db import db
from registry.core.errors import InvalidInput

REQUIRED = "不能为空"
BAD_DATE = "日期格式应为 年-月-日，例如 2025-03-05"
BAD_CHOICE = "无效的选项"
NOT_AN_INTEGER = "应为整数"
ALL = ("", "全部")
# A field that names a row by its id: a larger number names none, and would overflow the database driver.
ROW_ID = NumberRange(min=1, max=MAX_ID, message=f"应为 1–{MAX_ID} 之间的编号")


def optional_int(value) -> int | None:
    """Coerce for a select whose blank option means "none" or "all"."""
    return None if value in ("", None) else int(value)


class _MarkedRequired:
    """No check of its own: marks as required (the * render_field puts on its label) a field whose value the
    operation behind the form checks, with a message naming the field, such as a select of ids."""

    field_flags = {"required": True}

    def __call__(self, _form, _field) -> None:
        return None


# One instance serves every field: it holds no state.
MARKED_REQUIRED = _MarkedRequired()


def date_field(label: str, required: bool = True, **kwargs) -> DateField:
    # InputRequired, unlike DataRequired, keeps the format error when a date was typed but cannot be read.
    check = InputRequired(REQUIRED) if required else Optional()
    return DateField(label, validators=[check], invalid_value_message=BAD_DATE, **kwargs)


def enum_choices(members, blank: tuple[str, str] | None = None) -> list[SelectChoice]:
    options = [SelectChoice(member.value, member.label) for member in members]
    return [SelectChoice(*blank), *options] if blank else options


def readable(_form, field) -> None:
    """An unreadable value already carries its message; a range check would only add a wrong one."""
    if field.process_errors:
        raise StopValidation()


class CheckboxRow:
    """Check boxes side by side, each inside its label so the text is clickable too. The class
    `checkbox-row` (static/registry.css) undoes the full-width blocks a field's inputs and labels get."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        given = kwargs.pop("class_", "") or kwargs.pop("class", "")
        kwargs["class"] = f"checkbox-row {given}".strip()
        boxes = [Markup("<label>{} {}</label>").format(option(), option.label.text) for option in field]
        return Markup("<div {}>{}</div>").format(Markup(html_params(**kwargs)), Markup("").join(boxes))


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as check boxes, so the chosen levels are visible at a glance."""

    widget = CheckboxRow()
    option_widget = CheckboxInput()


# --- list filters, read from the query string: a value that does not parse is shown as an error and ignored

def filter_select(label: str, choices=(), coerce=str) -> SelectField:
    # The blank default keeps an absent argument from counting as an invalid choice.
    return SelectField(label, choices=list(choices), coerce=coerce, default="",
                       invalid_choice_message=BAD_CHOICE, invalid_value_message=BAD_CHOICE)


def filter_value(field):
    return None if field.errors or field.data in ("", None) else field.data


class ListFilters(Form):
    """A GET filter bar: a value that does not parse is shown beside its field and ignored."""

    def filters(self) -> dict:
        """The filled-in, valid values by field name."""
        self.validate()
        return {name: field.data for name, field in self._fields.items()
                if not field.errors and field.data not in ("", None)}


# --- submitting ---------------------------------------------------------------------------------------------

def submit(form: FlaskForm, operation: Callable[[], object], *, validate: bool = False) -> bool:
    """Commit when the operation succeeds; otherwise roll back and show its message on the field it names.

    validate=True is for the small forms posted from a page that does not show them again (the buttons of the
    class page): the form is validated here, and its field errors come back as flashed messages."""
    if validate and not form.validate_on_submit():
        for field in form:
            for error in field.errors:
                flash(f"{field.label.text}：{error}", "error")
        return False
    try:
        operation()
    except InvalidInput as error:
        db.session.rollback()
        field = getattr(form, error.field or "", None)
        reason = error.message.split("：", 1)[-1]
        (field.errors if field is not None else form.form_errors).append(reason)
        flash(error.message, "error")
        return False
    db.session.commit()
    return True
