"""Sign-up, sign-in, passwords, e-mail verification, invitations and the personal page."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import limiter, login_manager
from ..notifications import services as inbox
from ..web import safe_next
from . import services
from .forms import ChangePasswordForm, ConfirmForm, ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm

bp = Blueprint("accounts", __name__)

login_manager.user_loader(services.load_user)
login_manager.login_view = "accounts.login"
login_manager.login_message_category = "info"


@login_manager.unauthorized_handler
def _unauthorized():
    flash(_("请先登录。"), "info")
    return redirect(url_for("accounts.login", next=request.full_path))


def _login_account_key():
    return "login:" + services.normalize_email(request.form.get("email"))


def _reset_account_key():
    return "reset:" + services.normalize_email(request.form.get("email"))


def _limits(name):
    from flask import current_app

    return current_app.config[name]


@bp.route("/auth/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register(
                form.email.data, form.name.data, form.password.data,
                locale=_current_locale(), public_name_consent=form.public_name_consent.data,
            )
        except services.AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            login_user(user)
            flash(_("注册成功。我们已向 %(email)s 发送验证邮件。", email=user.email), "success")
            return redirect(safe_next(request.args.get("next")) or url_for("accounts.me"))
    return render_template("accounts/register.html", form=form)


def _current_locale():
    from flask_babel import get_locale

    return str(get_locale())


@bp.route("/auth/login", methods=["GET", "POST"])
@limiter.limit(lambda: _limits("LOGIN_LIMIT_PER_IP"), methods=["POST"])
@limiter.limit(lambda: _limits("LOGIN_LIMIT_PER_ACCOUNT"), methods=["POST"], key_func=_login_account_key)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("邮箱或密码不正确。"))
        else:
            login_user(user, remember=form.remember.data)
            flash(_("欢迎回来，%(name)s。", name=user.name), "success")
            return redirect(safe_next(request.args.get("next")) or url_for("accounts.me"))
    return render_template("accounts/login.html", form=form)


@bp.post("/auth/logout")
def logout():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    logout_user()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("main.home"))


@bp.route("/auth/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: _limits("RESET_LIMIT"), methods=["POST"])
@limiter.limit(lambda: _limits("RESET_LIMIT"), methods=["POST"], key_func=_reset_account_key)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        flash(_("如果该邮箱已注册，重置密码的链接已发送，请查收。"), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form)


@bp.route("/auth/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    try:
        services.user_for_reset_token(token)
    except services.AccountError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("accounts.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(token, form.password.data)
        flash(_("密码已重置，请用新密码登录。"), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset.html", form=form)


@bp.get("/auth/verify/<token>")
def verify_email(token):
    try:
        services.verify_email(token)
    except services.AccountError as exc:
        flash(str(exc), "danger")
    else:
        flash(_("邮箱已验证。"), "success")
    return redirect(url_for("accounts.me") if current_user.is_authenticated else url_for("accounts.login"))


@bp.post("/auth/verify/resend")
@login_required
def resend_verification():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if current_user.email_verified_at is None:
        from .. import queue

        services.send_verification_email(current_user)
        queue.commit()
        flash(_("验证邮件已重新发送。"), "info")
    return redirect(url_for("accounts.me"))


@bp.route("/auth/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("当前密码不正确。"))
        else:
            services.change_password(current_user, form.password.data)
            login_user(current_user._get_current_object())  # this session continues with the new session token (not the proxy: g would hold current_user itself and recurse)
            flash(_("密码已修改，其他设备上的登录已失效。"), "success")
            return redirect(url_for("accounts.me"))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/auth/invitation/<token>", methods=["GET", "POST"])
@login_required
def accept_invitation(token):
    try:
        invitation = services.invitation_for_token(token)
    except services.AccountError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("accounts.me"))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.accept_invitation(current_user, token)
        except services.AccountError as exc:
            flash(str(exc), "danger")
        else:
            flash(_("已加入 %(name)s。", name=(invitation.organization or invitation.village).name), "success")
        return redirect(url_for("accounts.me"))
    return render_template("accounts/invitation.html", invitation=invitation, form=form)


@bp.get("/me")
@login_required
def me():
    from ..curation import services as curation

    waiting = {}
    if current_user.is_curator:
        waiting["organizations"] = len(curation.pending_organizations(current_user))
        waiting["villages"] = len(curation.pending_villages(current_user))
    from ..todo import for_user

    return render_template(
        "accounts/me.html", waiting=waiting, todos=for_user(current_user), notifications=inbox.inbox(current_user, limit=10),
        unread=inbox.unread_count(current_user), form=ConfirmForm(),
    )


@bp.route("/me/inbox", methods=["GET", "POST"])
@login_required
def inbox_page():
    form = ConfirmForm()
    if form.validate_on_submit():
        inbox.mark_all_read(current_user)
        return redirect(url_for("accounts.inbox_page"))
    return render_template("accounts/inbox.html", notifications=inbox.inbox(current_user, limit=200), form=form)
