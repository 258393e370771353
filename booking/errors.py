"""When the database cannot be reached: 503 with Retry-After, never a 500.

A lost connection (PostgreSQL restarted, a backend terminated, the network gone), a
database file that cannot be opened, or a pool with no free connection all end the request
here. The session is rolled back first, so whatever the request had begun is not written;
the plan in force is as it was. The answer is JSON under /api/ and a page in the visitor's
language elsewhere. The page needs no database: it names no business and no user.

The log names only the kind of error: SQLAlchemy's message would quote the statement and
its parameters, which may hold a customer's name or address.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.wrappers import Response

from booking.extensions import db

logger = logging.getLogger(__name__)

# Long enough for a restarted database or a failover, short enough that a customer waits.
DATABASE_RETRY_AFTER_S = 30

DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)


def database_unavailable(error: Exception) -> Response:
    original = getattr(error, "orig", None) or error
    logger.warning(
        "database unavailable during %s %s: %s",
        request.method,
        request.url_rule.rule if request.url_rule else "(no route)",
        type(original).__name__,
    )
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; dropping the session is all that is left
        logger.warning("rollback after a lost database connection failed too")
    db.session.remove()
    message = _(
        "The booking system is briefly unavailable. Nothing was saved. Please try again in "
        "%(seconds)d seconds.",
        seconds=DATABASE_RETRY_AFTER_S,
    )
    if request.path.startswith("/api/"):
        response = jsonify(
            {
                "error": {
                    "code": "temporarily_unavailable",
                    "message": message,
                    "retry_after_s": DATABASE_RETRY_AFTER_S,
                }
            }
        )
    else:
        response = make_response(render_template("unavailable.html", message=message))
    response.status_code = 503
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
    return response


def init_error_handlers(app: Flask) -> None:
    for kind in DATABASE_DOWN:
        app.register_error_handler(kind, database_unavailable)
