"""Customer forms; every field is validated on the server with the message next to it.

Text is stripped before it is validated, and the rules are those of `booking.validation`,
which the service layer applies too: what a form accepts can always be stored."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired

from booking import fields
from booking.validation import email_address, strip


class AddressForm(FlaskForm):
    """Submitted with GET: looking up slots changes nothing, so it needs no CSRF token."""

    class Meta:
        csrf = False

    street = fields.street(_l("Please enter your street."))
    postcode = fields.postcode(_l("Please enter your postcode."))
    city = fields.city(_l("Please enter your city."))


class ContactForm(FlaskForm):
    quote = fields.chosen_quote()
    name = fields.person_name(_l("Please enter your name."))
    phone = fields.phone()
    email = StringField(
        _l("Email"),
        filters=[strip],
        validators=[DataRequired(_l("Please enter your email address.")), email_address],
    )
    notes = fields.notes()
    access_hints = fields.access_hints()
    consent = BooleanField(
        _l("I agree that my details are processed to carry out the appointment."),
        validators=[DataRequired(_l("We need your consent to book the appointment."))],
    )


class QuoteForm(FlaskForm):
    """A chosen offer alone: moving a booked appointment asks for nothing else."""

    quote = fields.chosen_quote()
