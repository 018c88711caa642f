"""Forms for recognition agencies, their filed scope and training institutions."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from registry.core.forms import BAD_CHOICE, MARKED_REQUIRED, REQUIRED
from registry.organizations.models import INSTITUTION_KIND_LABELS, AgencyStatus, AgencyType
from registry.reference.models import LEVEL_LABELS

BAD_DATE = "日期格式应为 年-月-日，例如 2025-01-31"
LEVEL_CHOICES = [SelectChoice(level, label) for level, label in LEVEL_LABELS.items()]
AGENCY_TYPE_CHOICES = [SelectChoice(kind.value, f"{kind.label}（{kind.value}）") for kind in AgencyType]
STATUS_CHOICES = [SelectChoice(status.value, status.label) for status in AgencyStatus]
KIND_CHOICES = [SelectChoice(kind, label) for kind, label in INSTITUTION_KIND_LABELS.items()]


def _text(max_length: int, required: bool = True) -> list:
    presence = DataRequired(REQUIRED) if required else Optional()
    return [presence, Length(max=max_length, message=f"最多{max_length}个字符")]


def _date_field(label: str, required: bool = True, **kwargs) -> DateField:
    # InputRequired, unlike DataRequired, keeps the format error when a date was typed but cannot be read.
    check = InputRequired(REQUIRED) if required else Optional()
    return DateField(label, validators=[check], invalid_value_message=BAD_DATE, **kwargs)


class AgencyForm(FlaskForm):
    name = StringField("机构名称", validators=_text(120), description="与备案文件完全一致；证书上照此打印")
    agency_type = SelectField("机构类型", validators=[MARKED_REQUIRED],
                              choices=AGENCY_TYPE_CHOICES, invalid_choice_message=BAD_CHOICE)
    ministry_code = StringField(
        "人社部机构代码", default="0000",
        validators=[DataRequired(REQUIRED), Regexp(r"^[0-9]{4}$", message="应为4位数字")],
        description="4位数字；向省级备案的机构填 0000",
    )
    site_code = StringField(
        "站点序列码", validators=[DataRequired(REQUIRED), Regexp(r"^[0-9]{6}$", message="应为6位数字")],
        description="省级评价机构站点序列码，6位数字，出现在每个证书编号中",
    )
    filing_number = StringField("备案编号", validators=_text(60))
    credit_code = StringField("统一社会信用代码", validators=_text(40, required=False),
                              description="18位（GB 32100），末位校验码会自动核对；印在证书上")
    filed_on = _date_field("备案日期")
    county_code = SelectField("所在县区", validators=[MARKED_REQUIRED], choices=[], validate_choice=False)
    status = SelectField("备案状态", validators=[MARKED_REQUIRED],
                         choices=STATUS_CHOICES, invalid_choice_message=BAD_CHOICE)


class ScopeForm(FlaskForm):
    occupation_id = SelectField("职业", choices=[], coerce=int, validate_choice=False,
                                invalid_value_message="请选择职业")
    work_type = StringField("工种/职业方向", validators=_text(60, required=False), description="留空表示该职业的全部工种")
    lowest_level = SelectField("最低等级", choices=LEVEL_CHOICES, coerce=int, default=5, validate_choice=False,
                               invalid_value_message="请选择等级")
    highest_level = SelectField("最高等级", choices=LEVEL_CHOICES, coerce=int, default=3, validate_choice=False,
                                invalid_value_message="请选择等级")
    valid_from = _date_field("有效期起")
    valid_to = _date_field("有效期止", required=False, description="留空表示长期有效")


class SpecialFilingForm(FlaskForm):
    """专项职业能力备案: one catalogue item the agency may assess and issue."""
    special_item_id = SelectField("专项职业能力项目", choices=[], coerce=int, validate_choice=False,
                                  invalid_value_message="请选择项目")
    filed_on = _date_field("备案日期")


class InstitutionForm(FlaskForm):
    name = StringField("机构名称", validators=_text(120))
    # Room for the blanks people type between groups of digits; the operation strips them.
    credit_code = StringField("统一社会信用代码", validators=_text(40), description="18位，末位校验码会自动核对")
    kind = SelectField("机构类型", validators=[MARKED_REQUIRED], choices=KIND_CHOICES, invalid_choice_message=BAD_CHOICE)
    county_code = SelectField("所在县区", validators=[MARKED_REQUIRED], choices=[], validate_choice=False)
    is_active = BooleanField("启用", default=True)
