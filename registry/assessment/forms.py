"""Forms for assessment batches and results, and the filter bar of the batch list."""
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from registry.assessment.models import BatchStatus
from registry.core.forms import (
    ALL, BAD_CHOICE, MARKED_REQUIRED, REQUIRED, ListFilters, date_field, enum_choices, filter_select, optional_int,
)
from registry.people.identity import DocumentType
from registry.reference.models import LEVEL_LABELS

# Highest digit first: 五级/初级工 is where most candidates start.
LEVEL_CHOICES = [SelectChoice(level, LEVEL_LABELS[level]) for level in (5, 4, 3, 2, 1)]
SCORE_HELP = "0–100，可带两位小数"


def score_field(label: str) -> StringField:
    # Parsed by the operation, so a typed form and an uploaded file get the same range message.
    return StringField(label, validators=[Optional(), Length(max=10, message="最多10个字符")],
                       description=SCORE_HELP)


class BatchForm(FlaskForm):
    agency_id = SelectField("评价机构", validators=[MARKED_REQUIRED],
                            coerce=optional_int, choices=[], validate_choice=False,
                            invalid_value_message="请选择评价机构")
    occupation_id = SelectField("职业", validators=[MARKED_REQUIRED],
                                coerce=optional_int, choices=[], validate_choice=False,
                                invalid_value_message="请选择职业")
    work_type = StringField("工种/职业方向", validators=[Optional(), Length(max=60, message="最多60个字符")],
                            description="可留空；备案范围限定了工种时须与之一致")
    level = SelectField("等级", validators=[MARKED_REQUIRED],
                        coerce=int, choices=LEVEL_CHOICES, invalid_choice_message="请选择等级",
                        invalid_value_message="请选择等级")
    assessed_on = date_field("认定日期")
    assessed_until = date_field("结束日期", required=False, description="多日认定时填写最后一天，否则留空")
    county_code = SelectField("认定地点（县区）", validators=[MARKED_REQUIRED], choices=[], validate_choice=False)
    # Chosen from the classes the user may link (registry/training/scopes.py), never typed as a number.
    training_class_id = SelectField(
        "关联培训班", coerce=optional_int, choices=[], invalid_choice_message="请从列表中选择培训班",
        invalid_value_message="请从列表中选择培训班",
        render_kw={"data-option-filter": "输入班级名称或编号筛选"},
        description="可留空；在上方输入框中输入班级名称或编号可筛选列表",
    )

    def values(self) -> dict:
        """Keyword arguments for create_batch/update_batch; agency staff get no agency field."""
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}


class ResultForm(FlaskForm):
    document_type = SelectField("证件类型", choices=enum_choices(DocumentType),
                                default=DocumentType.RESIDENT_ID.value, invalid_choice_message=BAD_CHOICE)
    document_number = StringField("证件号码",
                                  validators=[DataRequired(REQUIRED), Length(max=40, message="最多40个字符")])
    name = StringField("姓名", validators=[DataRequired(REQUIRED), Length(max=60, message="最多60个字符")])
    county_code = SelectField("所在县区", choices=[], validate_choice=False,
                              description="仅在首次登记该人员时使用：户籍或工作所在县区")
    theory_score = score_field("理论知识成绩")
    practical_score = score_field("操作技能成绩")
    review_score = score_field("综合评审成绩")
    remarks = StringField("备注", validators=[Optional(), Length(max=200, message="最多200个字符")])

    def values(self) -> dict:
        fields = {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
        return {"review_score": None} | fields


# --- list filters, read from the query string ------------------------------------------------------------

class BatchFilterForm(ListFilters):
    status = filter_select("状态", enum_choices(BatchStatus, ALL))
    occupation_id = filter_select("职业", coerce=optional_int)
    level = filter_select("等级", [SelectChoice(*ALL), *LEVEL_CHOICES], coerce=optional_int)
    county_code = filter_select("认定地点")
    agency_id = filter_select("评价机构", coerce=optional_int)
    assessed_from = date_field("认定日期从", required=False)
    assessed_to = date_field("至", required=False)


class SpecialBatchForm(FlaskForm):
    """专项职业能力考核批次: an item the agency is filed for; no occupation, no level."""
    agency_id = SelectField("评价机构", coerce=optional_int, choices=[], validate_choice=False,
                            invalid_value_message="请选择评价机构")
    special_item_id = SelectField("专项职业能力项目", coerce=optional_int, choices=[], validate_choice=False,
                                  invalid_value_message="请选择项目")
    assessed_on = date_field("考核日期")
    assessed_until = date_field("结束日期", required=False, description="多日考核时填写最后一天，否则留空")
    county_code = SelectField("考核地点（县区）", choices=[], validate_choice=False)

    def values(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
