"""Forms for training classes, enrolment and completion, and the filters of the class and trainee lists."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from registry.people.identity import DocumentType, Gender
from registry.people.models import KeyGroup
from registry.core.forms import (
    ALL, BAD_CHOICE, MARKED_REQUIRED, NOT_AN_INTEGER, REQUIRED, CheckboxesField, date_field, enum_choices, filter_select, filter_value, optional_int,
    readable,
)
from registry.reference.models import LEVEL_LABELS
from registry.training.models import ClassStatus, EnrollmentStatus, TrainingType
from registry.training.queries import ClassFilters, TraineeFilters

LEVEL_CHOICES = [SelectChoice("", "（不定等级）"),
                 *(SelectChoice(level, LEVEL_LABELS[level]) for level in (5, 4, 3, 2, 1))]
KEY_GROUP_CHOICES = [SelectChoice(int(group), group.label) for group in KeyGroup]


class ClassForm(FlaskForm):
    institution_id = SelectField("培训机构", validators=[MARKED_REQUIRED],
                                 coerce=optional_int, choices=[], validate_choice=False,
                                 invalid_value_message="请选择培训机构")
    name = StringField("班级名称", validators=[DataRequired(REQUIRED), Length(max=120, message="最多120个字符")],
                       description="例如：2025年第3期焊工（初级）培训班")
    occupation_id = SelectField("职业", validators=[MARKED_REQUIRED],
                                coerce=optional_int, choices=[], validate_choice=False,
                                invalid_value_message="请选择职业")
    work_type = StringField("工种/职业方向", validators=[Optional(), Length(max=60, message="最多60个字符")],
                            description="职业设有工种时须为其中之一；可留空")
    target_level = SelectField("目标等级", coerce=optional_int, choices=LEVEL_CHOICES, validate_choice=False,
                               invalid_value_message="请选择等级")
    training_type = SelectField("培训类型", validators=[MARKED_REQUIRED], choices=enum_choices(TrainingType),
                                invalid_choice_message=BAD_CHOICE)
    program_key = SelectField("专项工程", choices=[], validate_choice=False)
    is_subsidised = BooleanField("补贴性培训")
    planned_hours = IntegerField("计划学时", invalid_value_message=NOT_AN_INTEGER,
                                 validators=[InputRequired(REQUIRED), readable,
                                             NumberRange(min=1, message="应大于0")])
    starts_on = date_field("开始日期")
    ends_on = date_field("结束日期")
    county_code = SelectField("培训地点（县区）", validators=[MARKED_REQUIRED], choices=[], validate_choice=False)

    def values(self) -> dict:
        """Keyword arguments for create_class/update_class; institution staff get no institution field."""
        fields = {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
        return {"institution_id": None} | fields


class StatusForm(FlaskForm):
    status = SelectField("状态", choices=enum_choices(ClassStatus), invalid_choice_message=BAD_CHOICE)


class EnrollForm(FlaskForm):
    document_type = SelectField("证件类型", choices=enum_choices(DocumentType),
                                default=DocumentType.RESIDENT_ID.value, invalid_choice_message=BAD_CHOICE)
    document_number = StringField("证件号码",
                                  validators=[DataRequired(REQUIRED), Length(max=40, message="最多40个字符")])
    name = StringField("姓名", validators=[DataRequired(REQUIRED), Length(max=60, message="最多60个字符")])
    gender = SelectField("性别", choices=enum_choices(Gender, ("", "（按身份证号码）")), default="",
                         invalid_choice_message=BAD_CHOICE)
    county_code = SelectField("所在县区", choices=[], validate_choice=False, description="户籍或工作所在县区")
    phone = StringField("手机", validators=[Optional(), Regexp(r"^1[3-9][0-9]{9}$", message="应为11位手机号码")])
    key_groups = CheckboxesField("重点群体", coerce=int, choices=KEY_GROUP_CHOICES,
                                 invalid_value_message="包含无效的选项", invalid_choice_message="包含无效的选项")
    enrolled_on = date_field("报名日期", required=False, description="留空：培训期间为今天，否则为开班日期")

    def values(self) -> dict:
        return {
            "document_type": self.document_type.data, "document_number": self.document_number.data,
            "name": self.name.data, "county_code": self.county_code.data,
            "gender": Gender(self.gender.data) if self.gender.data else None, "phone": self.phone.data,
            "key_groups": sum(self.key_groups.data or []), "enrolled_on": self.enrolled_on.data,
        }


class CompletionForm(FlaskForm):
    completed_on = date_field("结业日期")
    attended_hours = IntegerField("参训学时", invalid_value_message=NOT_AN_INTEGER,
                                  validators=[InputRequired(REQUIRED), readable,
                                              NumberRange(min=0, message="不能为负数")])


# --- list filters, read from the query string: a value that does not parse is shown as an error and ignored

SUBSIDY_CHOICES = [SelectChoice(*ALL), SelectChoice("1", "补贴性"), SelectChoice("0", "非补贴性")]


class _CommonFilters(Form):
    occupation_id = filter_select("职业", coerce=optional_int)
    program_key = filter_select("专项工程")
    is_subsidised = filter_select("补贴性培训", SUBSIDY_CHOICES)
    county_code = filter_select("培训地点")
    institution_id = filter_select("培训机构", coerce=optional_int)

    def common(self) -> dict:
        values = {name: filter_value(getattr(self, name)) if name in self else None
                  for name in ("occupation_id", "program_key", "county_code", "institution_id")}
        subsidised = filter_value(self.is_subsidised)
        return values | {"is_subsidised": None if subsidised is None else subsidised == "1"}


class ClassFilterForm(_CommonFilters):
    status = filter_select("状态", enum_choices(ClassStatus, ALL))
    starts_from = date_field("开班日期从", required=False)
    starts_to = date_field("至", required=False)

    def filters(self) -> ClassFilters:
        self.validate()
        return ClassFilters(status=filter_value(self.status), starts_from=filter_value(self.starts_from),
                            starts_to=filter_value(self.starts_to), **self.common())


class TraineeFilterForm(_CommonFilters):
    q = StringField("姓名")
    # A city has tens of thousands of classes: the select offers the newest ones matching this search (by
    # name or number) plus the chosen one, and filters them as one types, as the batch form's class does.
    class_search = StringField("查找培训班", render_kw={"placeholder": "班级名称或编号"})
    class_id = filter_select("培训班", coerce=optional_int)
    status = filter_select("学员状态", enum_choices(EnrollmentStatus, ALL))
    key_group = filter_select("重点群体", [SelectChoice(*ALL), *KEY_GROUP_CHOICES], coerce=optional_int)
    enrolled_from = date_field("报名日期从", required=False)
    enrolled_to = date_field("至", required=False)

    def filters(self) -> TraineeFilters:
        self.validate()
        return TraineeFilters(
            class_id=filter_value(self.class_id), enrollment_status=filter_value(self.status),
            key_group=filter_value(self.key_group), enrolled_from=filter_value(self.enrolled_from),
            enrolled_to=filter_value(self.enrolled_to), name=(self.q.data or "").strip() or None,
            **self.common(),
        )
