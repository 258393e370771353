"""Customer pages: choose a service, give an address, pick a slot, confirm, manage."""

from flask import Blueprint

bp = Blueprint("customer", __name__)

from booking.customer import manage, views  # noqa: E402,F401  (routes register on import)
