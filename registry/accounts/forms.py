"""Sign-in and user-management forms."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from registry.accounts.models import ROLE_LABELS

REQUIRED = "不能为空"


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(REQUIRED), Length(max=40)])
    password = PasswordField("密码", validators=[DataRequired(REQUIRED)])


class UserForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(REQUIRED), Length(max=40, message="最多40个字符")])
    display_name = StringField("姓名/显示名", validators=[Optional(), Length(max=60)])
    role = SelectField("角色", choices=[SelectChoice(value, label) for value, label in ROLE_LABELS.items()])
    county_code = SelectField("所属县区（县区人社部门）", choices=[], validate_choice=False)
    organization_id = IntegerField(
        "所属机构编号（评价机构或培训机构）", validators=[Optional()],
        description="评价机构/培训机构账号填写机构列表中的编号",
    )
    password = PasswordField("密码", description="至少 8 位；编辑时留空表示不修改")
    is_active = BooleanField("启用", default=True)
