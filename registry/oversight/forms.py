"""Forms of the oversight pages."""
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from registry.core.forms import BAD_CHOICE, NOT_AN_INTEGER, REQUIRED, date_field, enum_choices, optional_int
from registry.oversight.models import FindingKind, SignalStatus, SupervisionOutcome
from registry.reference.models import LEVEL_LABELS

LEVEL_CHOICES = [SelectChoice(level, label) for level, label in sorted(LEVEL_LABELS.items(), reverse=True)]


class HandleSignalForm(FlaskForm):
    status = SelectField("处理结果", choices=enum_choices(SignalStatus), invalid_choice_message=BAD_CHOICE)
    owner_id = SelectField("负责人", coerce=optional_int, invalid_choice_message=BAD_CHOICE)
    note = TextAreaField("说明", validators=[InputRequired(REQUIRED), Length(max=1000)])


class AuditForm(FlaskForm):
    agency_id = SelectField("评价机构", coerce=optional_int, validators=[InputRequired(REQUIRED)],
                            invalid_choice_message=BAD_CHOICE)
    period_from = date_field("发证日期自")
    period_to = date_field("发证日期至")
    sample_size = IntegerField("抽查数量（本）", validators=[InputRequired(REQUIRED), NumberRange(
        min=1, max=1000, message="应为 1–1000 之间的整数")], invalid_value_message=NOT_AN_INTEGER)
    seed = IntegerField("随机种子（可选，留空则随机生成并记录）", validators=[Optional(), NumberRange(
        min=0, max=2**31 - 1, message="应为 0–2147483647 之间的整数")], invalid_value_message=NOT_AN_INTEGER)


class FindingForm(FlaskForm):
    finding = SelectField("抽查结论", choices=enum_choices(FindingKind), invalid_choice_message=BAD_CHOICE)
    finding_note = TextAreaField("问题说明", validators=[Length(max=1000)])


class AnswerForm(FlaskForm):
    answer = TextAreaField("机构答复", validators=[InputRequired(REQUIRED), Length(max=1000)])


class CloseAuditForm(FlaskForm):
    summary = TextAreaField("抽查小结", validators=[InputRequired(REQUIRED), Length(max=2000)])


class SupervisionForm(FlaskForm):
    visited_on = date_field("督导日期")
    findings = TextAreaField("督导发现", validators=[InputRequired(REQUIRED), Length(max=2000)])
    correction_due_on = date_field("整改期限", required=False)
    outcome = SelectField("督导结论（机构状态）", choices=enum_choices(SupervisionOutcome),
                          invalid_choice_message=BAD_CHOICE)


class AssessorForm(FlaskForm):
    name = StringField("姓名", validators=[InputRequired(REQUIRED), Length(max=60)])
    document_number = StringField("身份证号码", validators=[InputRequired(REQUIRED), Length(max=30)])
    certificate_number = StringField("考评员证书编号", validators=[InputRequired(REQUIRED), Length(max=40)])
    occupation_id = SelectField("可考评职业", coerce=optional_int, validators=[InputRequired(REQUIRED)],
                                invalid_choice_message=BAD_CHOICE)
    lowest_level = SelectField("最低等级", coerce=int, choices=LEVEL_CHOICES, default=5,
                               invalid_choice_message=BAD_CHOICE)
    highest_level = SelectField("最高等级", coerce=int, choices=LEVEL_CHOICES, default=3,
                                invalid_choice_message=BAD_CHOICE)


class BatchAssessorForm(FlaskForm):
    assessor_id = SelectField("考评员", coerce=optional_int, validators=[InputRequired(REQUIRED)],
                              invalid_choice_message=BAD_CHOICE)

