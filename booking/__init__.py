"""KombiTermin web app: `create_app()` builds it; one blueprint per audience."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, request, session
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from booking.config import config_from_env
from booking.extensions import babel, csrf, db, login_manager, migrate
from booking.jsonprovider import OrjsonProvider
from booking.security import init_security

LOCALES = ("de", "en")


def select_locale() -> str:
    """?lang=en switches and is remembered in the session; German by default."""
    wanted = request.args.get("lang")
    if wanted in LOCALES:
        session["lang"] = wanted
    return session.get("lang", "de")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # Writers queue for the day lock instead of failing at once with "database is locked".
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()


def create_app(config: Mapping[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the app; `config` overrides what the environment says (tests, tools)."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.json = OrjsonProvider(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config_from_env(app.instance_path))
    if config:
        app.config.update(config)
    init_security(app)  # first: refuses the development secret key in production

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    if app.config["TRUSTED_PROXIES"]:
        # Behind a reverse proxy the peer is the proxy; rate limits count the client that
        # the trusted proxies name in X-Forwarded-For.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"])

    from booking.errors import init_error_handlers
    from booking.ratelimits import init_rate_limits

    init_rate_limits(app)
    init_error_handlers(app)

    from booking.services.addresses import init_geocoder
    from booking.services.background import init_background
    from booking.services.horizons import init_horizons
    from booking.services.mail import init_mailer
    from booking.services.travel import init_travel

    init_travel(app)
    init_horizons(app)
    init_geocoder(app)
    init_mailer(app)
    init_background(app)

    from booking import api, auth, customer, dispatch, leaflet, routesheet
    from booking.api import openapi as api_docs
    from booking.cli import register_cli
    from booking.templating import register_template_helpers
    from booking.tenancy import UnknownHost, unknown_host_answer

    app.register_blueprint(customer.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dispatch.bp, url_prefix="/dispatch")
    app.register_blueprint(routesheet.bp, url_prefix="/sheets")
    app.register_blueprint(leaflet.bp, url_prefix="/leaflet")  # public: library files only
    app.register_blueprint(api.bp, url_prefix=api_docs.SERVER_URL)
    csrf.exempt(api.bp)  # the API carries no cookies: quotes and manage tokens authorise
    app.register_blueprint(api_docs.docs)  # GET /api/openapi.json
    register_template_helpers(app)
    register_cli(app)
    app.register_error_handler(UnknownHost, unknown_host_answer)
    return app
