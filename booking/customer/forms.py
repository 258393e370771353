"""Customer forms; every field is validated on the server with the message next to it."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Regexp


class AddressForm(FlaskForm):
    """Submitted with GET: looking up slots changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    street = StringField(
        _l("Street and house number"),
        validators=[DataRequired(_l("Please enter your street.")), Length(max=200)],
    )
    postcode = StringField(
        _l("Postcode"),
        validators=[
            DataRequired(_l("Please enter your postcode.")),
            Regexp(r"^\s*\d{5}\s*$", message=_l("A German postcode has five digits.")),
        ],
    )
    city = StringField(
        _l("City"), validators=[DataRequired(_l("Please enter your city.")), Length(max=120)]
    )


class ContactForm(FlaskForm):
    quote = HiddenField(validators=[DataRequired(), Length(max=4000)])
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Please enter your name.")),
            Length(min=2, max=120, message=_l("Between 2 and 120 characters, please.")),
        ],
    )
    phone = StringField(
        _l("Phone"),
        validators=[
            DataRequired(_l("Please enter a phone number.")),
            Regexp(r"^\+?[0-9 ()/\-]{6,30}$", message=_l("Please enter a valid phone number.")),
        ],
    )
    email = StringField(
        _l("Email"),
        validators=[
            DataRequired(_l("Please enter your email address.")),
            Length(max=200),
            Email(message=_l("Please enter a valid email address."), check_deliverability=False),
        ],
    )
    notes = TextAreaField(
        _l("Notes and access hints"),
        validators=[Length(max=1000, message=_l("At most 1000 characters, please."))],
    )
    consent = BooleanField(
        _l("I agree that my details are processed to carry out the appointment."),
        validators=[DataRequired(_l("We need your consent to book the appointment."))],
    )
