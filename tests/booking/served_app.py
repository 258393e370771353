"""The app as the gunicorn tests serve it: configured from the environment like
`booking.wsgi`, but on the tests' clock (Monday 23 November 2026, 10:00 in Magdeburg), so
the days of `tests.factories` are bookable whatever day the tests run."""

from booking import create_app
from tests.conftest import NOW

app = create_app({"NOW": lambda: NOW})
