"""Forms for occupations, targets and county denominators."""
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField, DecimalField, IntegerField, SelectChoice, SelectField, StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired, InputRequired, Length, NumberRange, Optional, Regexp,
)

from registry.core.forms import MARKED_REQUIRED, NOT_AN_INTEGER, REQUIRED, CheckboxesField, readable
from registry.reference.models import LEVEL_LABELS
from registry.reference.operations import (
    COMPARATORS, EDITION_RANGE, EMPLOYED_LIMIT, OCCUPATION_CODE, OCCUPATION_CODE_MESSAGE, TARGET_YEARS,
)

NOT_A_NUMBER = "应为数字"


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


YEAR_RANGE = NumberRange(*TARGET_YEARS, message=f"应在 {TARGET_YEARS[0]} 至 {TARGET_YEARS[1]} 年之间")


class OccupationForm(FlaskForm):
    code = StringField(
        "职业编码", validators=[DataRequired(REQUIRED), Regexp(OCCUPATION_CODE, message=OCCUPATION_CODE_MESSAGE)],
        description="职业分类大典编码，例如 4-03-02-01",
    )
    name = StringField("职业名称", validators=[DataRequired(REQUIRED), Length(max=60, message="最多 60 个字符")])
    edition = IntegerField(
        "大典版本", default=2022, invalid_value_message=NOT_AN_INTEGER,
        validators=[InputRequired(REQUIRED), readable,
                    NumberRange(*EDITION_RANGE, message="应为版本年份，例如 2015 或 2022")],
    )
    levels = CheckboxesField(
        "技能等级", coerce=int, choices=[SelectChoice(level, LEVEL_LABELS[level]) for level in (5, 4, 3, 2, 1)],
        invalid_value_message="包含无效的选项", invalid_choice_message="%(value)s 不是有效的等级",
        description="不勾选表示尚未确定（各等级均可登记）",
    )
    work_types = TextAreaField("工种/职业方向", render_kw={"rows": 4}, description="每行一个；没有工种的职业留空")
    is_active = BooleanField("启用", default=True)
    confidence = StringField("可信度", validators=[Optional(), Length(max=120, message="最多 120 个字符")])
    source = TextAreaField("来源", render_kw={"rows": 2})


class TargetForm(FlaskForm):
    indicator_key = SelectField("指标", validators=[MARKED_REQUIRED], choices=[], validate_choice=False)
    county_code = SelectField("县区", validators=[MARKED_REQUIRED],
                              choices=[], validate_choice=False, description="选择“开封市”设置全市目标")
    year = IntegerField("年份", default=2025, invalid_value_message=NOT_AN_INTEGER,
                        validators=[InputRequired(REQUIRED), readable, YEAR_RANGE])
    comparator = SelectField("比较方式", validators=[MARKED_REQUIRED],
                             choices=choices(COMPARATORS.items()), validate_choice=False)
    value = DecimalField("目标值", places=None, invalid_value_message=NOT_A_NUMBER,
                         validators=[InputRequired(REQUIRED), readable, NumberRange(min=0, message="不能为负数")],
                         description="按指标的单位填写，最多 4 位小数")


class SplitTargetForm(FlaskForm):
    indicator_key = SelectField("指标", validators=[MARKED_REQUIRED], choices=[], validate_choice=False)
    year = IntegerField("年份", default=2025, invalid_value_message=NOT_AN_INTEGER,
                        validators=[InputRequired(REQUIRED), readable, YEAR_RANGE])


class CountyForm(FlaskForm):
    employed_persons = IntegerField(
        "从业人员数", invalid_value_message=NOT_AN_INTEGER,
        validators=[Optional(), readable,
                    NumberRange(1, EMPLOYED_LIMIT, message=f"应为 1 至 {EMPLOYED_LIMIT} 之间的整数")],
        description="单位：人；计算持证率的分母，也是分解全市目标的默认权重。留空表示未设置",
    )


class EmploymentForm(FlaskForm):
    """从业人员数 of one county (or the city) in one year; ranges are checked by the operation, whose
    messages name the county and year."""

    county_code = SelectField("县区", choices=[], validate_choice=False, description="选择“开封市”录入全市合计")
    year = IntegerField("年份", invalid_value_message=NOT_AN_INTEGER, validators=[InputRequired(REQUIRED), readable])
    employed_persons = IntegerField("从业人员数", invalid_value_message=NOT_AN_INTEGER,
                                    validators=[InputRequired(REQUIRED), readable], description="单位：人")
    source = StringField("来源", validators=[DataRequired(REQUIRED), Length(max=200, message="最多 200 个字符")],
                         description="例如：开封市统计年鉴2024 表4-2")
