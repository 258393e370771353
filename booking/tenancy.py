"""Which business a public request is for, in a deployment that serves several.

Dispatchers, route sheets, feeds and manage links carry their business (the login, the
signed technician, the appointment). A customer who opens the start page or a website
widget that asks for offers carries nothing but the host name they came to: each business
may have its own (`Business.host`). Resolution, in this order:

1. the business whose `host` is the request's host name;
2. the deployment's only business, whatever the host (`make run`, the demo, one firm);
3. the business whose slug is the config `DEFAULT_BUSINESS`;
4. none: 404 "this address belongs to no business" (JSON `unknown_business` on /api/).
"""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from flask import current_app, has_request_context, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import Select, String, bindparam, func, or_, select
from werkzeug.exceptions import NotFound, ServiceUnavailable

from booking.extensions import db
from booking.models import Business
from booking.validation import is_valid_host


class UnknownHost(NotFound):
    """The request's host name names no business, and no default business answers."""

    api_code = "unknown_business"

    def __init__(self) -> None:
        super().__init__(_("This address belongs to no business."))


def normalise_host(text: str) -> str | None:
    """A host name as `Business.host` stores it: lower-case, without trailing dot, umlauts
    in their DNS spelling (Punycode, as browsers send them); None if `text` is none."""
    host = text.strip().lower().rstrip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return host if is_valid_host(host) else None


def request_host() -> str | None:
    """The host name this request came to, without port; ProxyFix has put the client's
    one in place behind a trusted proxy."""
    try:
        return urlsplit("//" + request.host).hostname
    except ValueError:  # "[::1" and the like: a host nobody has
        return None


@cache
def _candidates_query() -> Select[tuple[Business, int]]:
    """The host's business, the default one and the first one (which is the only one when
    the count says 1), each found through a unique index or the key. Built once: every
    public request runs it, and building the statement cost more than running it. A
    missing host or default is bound as NULL, which equals nothing."""
    total = select(func.count(Business.id)).scalar_subquery()
    first = select(func.min(Business.id)).scalar_subquery()
    return select(Business, total).where(
        or_(
            Business.id == first,
            Business.host == bindparam("host", type_=String),
            Business.slug == bindparam("default", type_=String),
        )
    )


def current_business() -> Business:
    """The business this request's public page or API call is for (see the module). One
    query, so a view asks once and passes the business on."""
    host = request_host() or None
    default = current_app.config.get("DEFAULT_BUSINESS") or None
    rows = db.session.execute(_candidates_query(), {"host": host, "default": default}).all()
    if not rows:
        raise ServiceUnavailable(_("The booking service is not set up yet."))
    businesses = [business for business, _count in rows]
    by_host = next((b for b in businesses if host and b.host == host), None)
    if by_host is not None:
        return by_host
    if rows[0][1] == 1:
        return businesses[0]
    by_default = next((b for b in businesses if default and b.slug == default), None)
    if by_default is not None:
        return by_default
    raise UnknownHost()


def public_url(business: Business, endpoint: str, **values: object) -> str:
    """An absolute link to a public page of `business`, for emails: on the business's own
    host when it has one, whatever host the request came to (a dispatcher's action)."""
    if not business.host:
        return url_for(endpoint, _external=True, **values)
    scheme = request.scheme if has_request_context() else current_app.config["PREFERRED_URL_SCHEME"]
    return f"{scheme}://{business.host}{url_for(endpoint, _external=False, **values)}"


def unknown_host_answer(error: UnknownHost):
    """The 404 for a host that names no business, in the visitor's language: JSON with
    code `unknown_business` on the API, a page elsewhere."""
    if request.path.startswith("/api/"):
        body = {"error": {"code": error.api_code, "message": error.description}}
        return jsonify(body), 404
    return render_template("customer/unknown_host.html", message=error.description), 404
