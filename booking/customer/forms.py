"""Customer forms; every field is validated on the server with the message next to it.

Text is stripped before it is validated, and the rules are those of `booking.validation`,
which the service layer applies too: what a form accepts can always be stored."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from booking.validation import ACCESS_HINTS_MAX, email_address, phone_number, plain_text, strip


class AddressForm(FlaskForm):
    """Submitted with GET: looking up slots changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    street = StringField(
        _l("Street and house number"),
        filters=[strip],
        validators=[DataRequired(_l("Please enter your street.")), Length(max=200), plain_text],
    )
    postcode = StringField(
        _l("Postcode"),
        filters=[strip],
        validators=[
            DataRequired(_l("Please enter your postcode.")),
            Regexp(r"^\d{5}$", message=_l("A German postcode has five digits.")),
        ],
    )
    city = StringField(
        _l("City"),
        filters=[strip],
        validators=[DataRequired(_l("Please enter your city.")), Length(max=120), plain_text],
    )


class ContactForm(FlaskForm):
    quote = HiddenField(validators=[DataRequired(), Length(max=4000)])
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Please enter your name.")),
            Length(min=2, max=120, message=_l("Between 2 and 120 characters, please.")),
            plain_text,
        ],
    )
    phone = StringField(
        _l("Phone"),
        filters=[strip],
        validators=[DataRequired(_l("Please enter a phone number.")), phone_number],
    )
    email = StringField(
        _l("Email"),
        filters=[strip],
        validators=[DataRequired(_l("Please enter your email address.")), email_address],
    )
    notes = TextAreaField(
        _l("Notes"),
        filters=[strip],
        validators=[
            Length(max=1000, message=_l("At most 1000 characters, please.")),
            plain_text,
        ],
    )
    access_hints = StringField(
        _l("Access hints"),
        filters=[strip],
        validators=[
            Length(
                max=ACCESS_HINTS_MAX,
                message=_l("At most %(max)d characters, please.", max=ACCESS_HINTS_MAX),
            ),
            plain_text,
        ],
    )
    consent = BooleanField(
        _l("I agree that my details are processed to carry out the appointment."),
        validators=[DataRequired(_l("We need your consent to book the appointment."))],
    )


class QuoteForm(FlaskForm):
    """A chosen offer alone: moving a booked appointment asks for nothing else."""

    quote = HiddenField(validators=[DataRequired(), Length(max=4000)])
