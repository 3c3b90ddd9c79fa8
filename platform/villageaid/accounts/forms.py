"""Account forms: they validate and report; they never commit."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from .services import MIN_PASSWORD_LENGTH


def _password(label):
    return PasswordField(label, validators=[
        DataRequired(message=_l("请输入密码。")),
        Length(min=MIN_PASSWORD_LENGTH, max=128, message=_l("密码长度应为 8 到 128 个字符。")),
    ])


def _email():
    return EmailField(_l("邮箱"), validators=[
        DataRequired(message=_l("请输入邮箱。")),
        Email(message=_l("邮箱格式不正确。"), check_deliverability=False),
        Length(max=254),
    ])


class RegisterForm(FlaskForm):
    name = StringField(_l("姓名或昵称"), validators=[DataRequired(message=_l("请输入姓名或昵称。")), Length(max=80)])
    email = _email()
    password = _password(_l("密码"))
    confirm = PasswordField(_l("确认密码"), validators=[EqualTo("password", message=_l("两次输入的密码不一致。"))])
    public_name_consent = BooleanField(_l("同意在光荣榜和公开台账中显示我的姓名（不勾选则显示为“爱心人士”）"))


class LoginForm(FlaskForm):
    email = _email()
    password = PasswordField(_l("密码"), validators=[DataRequired(message=_l("请输入密码。"))])
    remember = BooleanField(_l("记住我"))


class ForgotPasswordForm(FlaskForm):
    email = _email()


class ResetPasswordForm(FlaskForm):
    password = _password(_l("新密码"))
    confirm = PasswordField(_l("确认新密码"), validators=[EqualTo("password", message=_l("两次输入的密码不一致。"))])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(message=_l("请输入当前密码。"))])
    password = _password(_l("新密码"))
    confirm = PasswordField(_l("确认新密码"), validators=[EqualTo("password", message=_l("两次输入的密码不一致。"))])


class InviteForm(FlaskForm):
    email = _email()
    title = StringField(_l("职务（可选）"), validators=[Length(max=40)])


class ConfirmForm(FlaskForm):
    """An empty form for POST-only buttons (logout, accept): it carries the CSRF token."""
