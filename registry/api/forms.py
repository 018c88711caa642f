"""The token form on the user's own token page."""
from datetime import date, timedelta

from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import InputRequired, Length

DEFAULT_DAYS = 90


class TokenForm(FlaskForm):
    name = StringField("名称", validators=[InputRequired("不能为空"), Length(max=60, message="最多60个字")],
                       description="用途，例如“学籍系统同步”")
    expires_on = DateField("有效期至", validators=[InputRequired("不能为空")],
                           default=lambda: date.today() + timedelta(days=DEFAULT_DAYS),
                           invalid_value_message="日期格式应为 YYYY-MM-DD", description="最长一年")
