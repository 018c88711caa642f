"""Sign-in and user-management forms."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from registry.core.forms import REQUIRED
from registry.core.roles import ROLE_LABELS



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
    password = PasswordField("密码", description="至少 8 位，不能是常见密码或容易猜到的组合（用户名、日期、键盘序列等），"
                                                 "建议用几个不相关的词加数字；编辑时留空表示不修改。修改密码后该用户须重新登录，"
                                                 "其 API 令牌全部撤销")
    is_active = BooleanField("启用", default=True)


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField("密码", validators=[DataRequired(REQUIRED)])


class LiftLockForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired(REQUIRED)])
    key = HiddenField(validators=[DataRequired(REQUIRED)])
