"""Running a form's operation: the one place a form view commits or rolls back."""
from collections.abc import Callable

from flask import flash
from flask_wtf import FlaskForm
from wtforms.validators import NumberRange

from registry.core.arguments import MAX_ID
from registry.core.db import db
from registry.core.errors import InvalidInput

# A field that names a row by its id: a larger number names none, and would overflow the database driver.
ROW_ID = NumberRange(min=1, max=MAX_ID, message=f"应为 1–{MAX_ID} 之间的编号")


def submit(form: FlaskForm, operation: Callable[[], object]) -> bool:
    """Commit when the operation succeeds; otherwise roll back and show its message on the field it names."""
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
