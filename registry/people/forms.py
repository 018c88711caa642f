"""The people-registry search box: one text field read as a document number or as a name."""
import re
from dataclasses import dataclass

from wtforms import Form, SelectChoice, SelectField, StringField
from wtforms.validators import Length

from registry.people.identity import DocumentType, InvalidDocument, normalize_document


@dataclass(frozen=True)
class PersonSearch:
    """Exactly one of `number` (normalised) and `name` is set."""

    document_type: DocumentType
    number: str | None = None
    name: str | None = None


class SearchForm(Form):
    """Read from the query string, so a search can be bookmarked and needs no CSRF token."""

    q = StringField("证件号码或姓名", validators=[Length(max=60, message="最多60个字符")])
    document_type = SelectField(
        "证件类型", default=DocumentType.RESIDENT_ID.value, invalid_choice_message="无效的选项",
        choices=[SelectChoice(member.value, member.label) for member in DocumentType],
    )

    def search(self) -> PersonSearch | None:
        """What to look for; None when the box is empty or the input is refused (the reason is on `q`)."""
        if not self.validate():
            return None
        text = (self.q.data or "").strip()
        if not text:
            return None
        document_type = DocumentType(self.document_type.data)
        # Names never contain digits: text with a digit was meant as a number, so a typing slip gets
        # its reason instead of an empty name search.
        if not re.search(r"\d", text):
            return PersonSearch(document_type, name=text)
        try:
            return PersonSearch(document_type, number=normalize_document(document_type, text))
        except InvalidDocument as error:
            self.q.errors.append(f"证件号码：{error.message}")
            return None
