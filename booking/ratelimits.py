"""Rate limits on the booking endpoints (Flask-Limiter), counted per client address.

Two shared budgets, each configurable:

- `search_limit` (RATELIMIT_SEARCH): looking up an address and its slots, on the pages and
  in the API. Each costs a geocoding request and an offer computation.
- `booking_limit` (RATELIMIT_BOOKING): confirming, moving and cancelling.

All endpoints of one budget share its counter. The counters live in RATELIMIT_STORAGE_URI
(memory:// by default: per process; redis://host:6379 shares them between processes).
Every client is counted, the machine itself too: exempting loopback would switch the
limits off silently behind a reverse proxy on the same host. Behind a proxy, declare it
in TRUSTED_PROXIES so that each customer is counted by their own address; local tools
that need no limits (the benchmarks) turn them off with RATELIMIT_ENABLED.
A request over the limit gets 429 with Retry-After: JSON with the code "rate_limited" under
/api/, a page in the visitor's language elsewhere.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, TooManyRequests
from werkzeug.wrappers import Response

from booking.extensions import limiter
from booking.models import Business
from booking.tenancy import current_business

search_limit = limiter.shared_limit(lambda: current_app.config["RATELIMIT_SEARCH"], scope="search")
booking_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_BOOKING"], scope="booking"
)


# When the limit that was hit is unknown (a plain abort(429)), ask to wait this long.
DEFAULT_RETRY_AFTER_S = 60


def retry_after_s() -> int:
    """Whole seconds until the limit that was hit resets, at least 1."""
    hit = limiter.current_limit
    if hit is None or not hit.breached:
        return DEFAULT_RETRY_AFTER_S
    return max(1, min(math.ceil(hit.reset_at - time.time()), hit.limit.get_expiry()))


def too_many_requests(error: TooManyRequests) -> Response:
    wait_s = retry_after_s()
    message = _(
        "Too many requests from your connection. Please wait %(seconds)d seconds and try again.",
        seconds=wait_s,
    )
    if request.path.startswith("/api/"):
        response = jsonify(
            {"error": {"code": "rate_limited", "message": message, "retry_after_s": wait_s}}
        )
    else:
        try:
            business: Business | None = current_business()  # its name and phone number
        except HTTPException:  # a host of no business: the page without them
            business = None
        response = make_response(
            render_template("customer/rate_limited.html", business=business, message=message)
        )
    response.status_code = 429
    response.headers["Retry-After"] = str(wait_s)
    return response


def init_rate_limits(app: Flask) -> None:
    limiter.init_app(app)
    app.register_error_handler(429, too_many_requests)
