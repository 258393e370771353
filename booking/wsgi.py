"""The WSGI entry for gunicorn: `gunicorn -w 4 -b 127.0.0.1:8000 booking.wsgi:app`.

Every worker process imports this module and builds its own app from the environment
(DATABASE_URL, SECRET_KEY, … as the README lists them)."""

from booking import create_app

app = create_app()
