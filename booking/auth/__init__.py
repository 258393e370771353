"""Login for dispatchers (Flask-Login, hashed passwords)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from booking.extensions import db, login_manager
from booking.models import User, UserRole

bp = Blueprint("auth", __name__)
View = TypeVar("View", bound=Callable[..., Any])

DEMO_EMAIL = "dispo@example.com"
DEMO_PASSWORD = "demo1234"

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and usable(user) else None


def usable(user: User) -> bool:
    """The demo account only ever works in demo mode, even if its row exists."""
    return user.active and (user.email != DEMO_EMAIL or current_app.config["DEMO_MODE"])


class LoginForm(FlaskForm):
    email = StringField(_l("Email"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would let a link send users anywhere.

    Browsers drop tabs and newlines and read a backslash as a slash, so "/\t/evil" and
    "/\\evil" would leave the site; anything with those characters is refused outright.
    """
    fallback = url_for("dispatch.day")
    if not target or any(c.isspace() or c == "\\" or ord(c) < 32 for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dispatch.day"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if user is not None and usable(user) and user.check_password(form.password.data):
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Email or password is wrong."), "error")
        return render_template("auth/login.html", form=form, business=None), 401
    return render_template("auth/login.html", form=form, business=None)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


def is_admin() -> bool:
    return current_user.is_authenticated and current_user.role == UserRole.ADMIN


def admin_required(view: View) -> View:
    """Only administrators may run this view; anyone else gets a 403 page saying so.

    Dispatchers run the day; changing technicians, services, prices and logins is the
    administrators' part, so a dispatcher's mistake cannot reprice or re-staff the firm."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        if not is_admin():
            return render_template("dispatch/manage/forbidden.html", business=None), 403
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]
