"""Forms for revoking and correcting a certificate, and the filter bar of the certificate list."""
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from registry.assessment.forms import LEVEL_CHOICES
from registry.certificates.models import CertificateKind, CertificateStatus
from registry.core.forms import (
    ALL, NOT_AN_INTEGER, REQUIRED, ROW_ID, ListFilters, date_field, enum_choices, filter_select, optional_int,
)

REASON_LIMIT = Length(max=200, message="最多200个字符")


class RevokeForm(FlaskForm):
    reason = TextAreaField("撤销原因", validators=[DataRequired(REQUIRED), REASON_LIMIT],
                           description="例如：经核查考试作弊；将记入证书记录并显示在证书页面")


class CorrectForm(FlaskForm):
    reason = TextAreaField("更正原因", validators=[DataRequired(REQUIRED), REASON_LIMIT],
                           description="例如：姓名录入错误")
    name = StringField("更正后姓名", validators=[Optional(), Length(max=60, message="最多60个字符")],
                       description="留空：沿用原证书上的姓名")
    work_type = StringField("更正后工种/职业方向", validators=[Optional(), Length(max=60, message="最多60个字符")],
                            description="留空：沿用原证书上的工种")


class CertificateFilterForm(ListFilters):
    number = StringField("证书编号", validators=[Length(max=40, message="最多40个字符")])
    status = filter_select("状态", enum_choices(CertificateStatus, ALL))
    kind = filter_select("证书类型", enum_choices(CertificateKind, ALL))
    level = filter_select("等级", [SelectChoice(*ALL), *LEVEL_CHOICES], coerce=optional_int)
    occupation_id = filter_select("职业", coerce=optional_int)
    county_code = filter_select("持证人所在县区")
    batch_id = IntegerField("认定批次", validators=[Optional(), ROW_ID], invalid_value_message=NOT_AN_INTEGER)
    issued_from = date_field("发证日期从", required=False)
    issued_to = date_field("至", required=False)
