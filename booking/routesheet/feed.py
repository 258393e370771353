"""A technician's calendar feed: subscribed once, fetched again by the phone's calendar."""

from __future__ import annotations

from flask import Response, abort, current_app, url_for
from flask_babel import get_locale

from booking.extensions import db
from booking.models import Business, Technician
from booking.routesheet import bp
from booking.services.clock import now_utc
from booking.services.feed_tokens import FeedLink, read_feed, sign_feed
from booking.services.technician_feed import feed_days, feed_stops, technician_feed


@bp.get("/feed/<token>.ics")
def feed(token: str):
    link = read_feed(token, current_app.config["SECRET_KEY"])
    technician = db.session.get(Technician, link.technician_id) if link else None
    if link is None or technician is None or not technician.active:
        abort(404)
    if technician.sheet_key != link.key:  # revoked with the route-sheet links
        abort(404)
    business = db.session.get(Business, technician.business_id)
    assert business is not None
    now = now_utc()
    first, last = feed_days(business, now)
    body = technician_feed(
        business, technician, feed_stops(technician, first, last), now, str(get_locale())
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="touren.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.app_template_global()
def feed_links(technician: Technician) -> dict[str, str]:
    """The technician's feed as an https link and as webcal:// (opens the calendar app)."""
    token = sign_feed(
        FeedLink(technician.id, technician.sheet_key), current_app.config["SECRET_KEY"]
    )
    https = url_for("routesheet.feed", token=token, _external=True)
    return {"https": https, "webcal": "webcal://" + https.split("://", 1)[1]}
