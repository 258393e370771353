"""The firm's logins: administrators list, add, deactivate and reactivate them.

Users are deactivated, never deleted: the audit log names who did what. Nobody can
deactivate their own login (a firm must not lock its last administrator out by a click).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from booking.auth import admin_required
from booking.dispatch import bp, my_business
from booking.dispatch.forms import ROLE_NAMES, ConfirmForm, UserForm
from booking.extensions import db
from booking.models import Business, User
from booking.services import audit


def _render(business: Business, form: UserForm, status: int = 200):
    users = db.session.scalars(
        select(User).where(User.business_id == business.id).order_by(User.name, User.id)
    ).all()
    return (
        render_template(
            "dispatch/manage/users.html",
            business=business,
            users=users,
            form=form,
            confirm=ConfirmForm(),
            role_names=ROLE_NAMES,
        ),
        status,
    )


@bp.get("/users")
@admin_required
def users():
    return _render(my_business(), UserForm(formdata=None))


@bp.post("/users")
@admin_required
def user_create():
    business = my_business()
    form = UserForm()
    if not form.validate():
        return _render(business, form, 422)
    email = form.email.data.lower()
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        form.email.errors.append(_("A login with this email address exists already."))
        return _render(business, form, 422)
    user = User(business_id=business.id, email=email, name=form.name.data, role=form.role.data)
    user.set_password(form.password.data)
    db.session.add(user)
    db.session.flush()
    audit.record(business.id, current_user, "user_create", f"user {user.id}", role=user.role)
    db.session.commit()
    flash(_("Login for %(email)s created.", email=email), "info")
    return redirect(url_for("dispatch.users"))


@bp.post("/users/<int:user_id>/active")
@admin_required
def user_active(user_id: int):
    business = my_business()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id)
    if user is None or user.business_id != business.id:
        abort(404)
    if user.id == current_user.id:
        flash(_("You cannot deactivate your own login."), "error")
        return redirect(url_for("dispatch.users"))
    user.active = not user.active
    action = "user_activate" if user.active else "user_deactivate"
    audit.record(business.id, current_user, action, f"user {user.id}")
    db.session.commit()
    if user.active:
        flash(_("%(email)s can log in again.", email=user.email), "info")
    else:
        flash(_("%(email)s is deactivated.", email=user.email), "info")
    return redirect(url_for("dispatch.users"))
