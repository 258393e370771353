"""Security headers on every answer, the refusal of the development secret key in
production, and signatures checked in constant time."""

from __future__ import annotations

import hmac
import re
from datetime import date
from pathlib import Path

import itsdangerous.signer
import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking import create_app
from booking.config import DEFAULT_SECRET_KEY
from booking.extensions import db
from booking.models import new_manage_token
from booking.security import InsecureConfiguration, content_security_policy, tile_source
from booking.services.feed_tokens import FeedLink, read_feed, sign_feed
from booking.services.quotes import QuoteError, read_quote
from booking.services.sheets import SheetLink, read_sheet, sign_sheet
from tests.booking.pages import slot_quotes
from tests.factories import TUESDAY, make_business

TEMPLATES = Path(__file__).resolve().parents[2] / "booking" / "templates"
SAME_FOR_EVERY_ANSWER = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=(), payment=(), usb=()",
}


# --- headers ---------------------------------------------------------------------------------


def test_pages_api_errors_and_files_all_carry_the_security_headers(client: FlaskClient) -> None:
    """A page, a 404 page, a JSON answer, an API error, a static file and Leaflet's script."""
    make_business()
    answers = {
        "/": 200,
        "/no-such-page": 404,
        "/api/v1/services": 200,
        "/api/v1/appointments/not-a-token": 404,
        "/static/style.css": 200,
        "/leaflet/leaflet.js": 200,
    }
    for path, status in answers.items():
        response = client.get(path)
        assert response.status_code == status, path
        for name, value in SAME_FOR_EVERY_ANSWER.items():
            assert response.headers.get(name) == value, (path, name)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp, path
        assert "frame-ancestors 'none'" in csp, path
        response.close()


def test_the_policy_allows_own_scripts_only_and_the_tile_host_for_images() -> None:
    """The test config leaves MAP_TILE_URL at OpenStreetMap's: img-src names that host."""
    assert content_security_policy("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: https://tile.openstreetmap.org; connect-src 'self'; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
    assert "unsafe-inline" not in content_security_policy("").split("script-src")[1].split(";")[0]


@pytest.mark.parametrize(
    ("template", "source"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png", "http://127.0.0.1:8080"),
        ("", None),  # no tiles: no foreign image host
        ("/tiles/{z}/{x}/{y}.png", None),  # our own origin: 'self' covers it
    ],
)
def test_the_tile_host_becomes_an_image_source(template: str, source: str | None) -> None:
    assert tile_source(template) == source


def test_no_template_has_inline_script_that_the_policy_would_block() -> None:
    """script-src 'self' blocks inline code: every <script> loads a file or holds JSON
    data, and no element has an on…= handler or a javascript: link."""
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (template, tag)
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert "javascript:" not in text, template


def test_hsts_only_when_cookies_are_secure(migrated: dict[str, object]) -> None:
    """Secure cookies mean https: then browsers are told to stay on https for a year.
    Demo mode and --debug serve plain http and leave it out."""
    from tests.conftest import make_app

    for secure, expected in ((True, "max-age=31536000"), (False, None)):
        web = make_app({**migrated, "SESSION_COOKIE_SECURE": secure})
        response = web.test_client().get("/datenschutz")
        assert response.headers.get("Strict-Transport-Security") == expected
        with web.app_context():
            db.engine.dispose()


# --- the secret key ----------------------------------------------------------------------------


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment that says nothing: production, unless the config says otherwise."""
    for name in ("SECRET_KEY", "KOMBITERMIN_DEMO", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)


def _app(tmp_path: Path, **config: object) -> Flask:
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", **config}
    return create_app(settings, instance_path=str(tmp_path / "instance"))


@pytest.mark.usefixtures("production_env")
def test_production_refuses_the_development_secret_key(tmp_path: Path) -> None:
    """Neither demo, debug nor testing: the default key (or none) stops the app at once,
    with a message that names SECRET_KEY and how to make one."""
    for key in (DEFAULT_SECRET_KEY, ""):
        with pytest.raises(InsecureConfiguration) as refused:
            _app(tmp_path, SECRET_KEY=key)
        message = str(refused.value)
        assert "SECRET_KEY" in message and "secrets.token_hex(32)" in message


@pytest.mark.usefixtures("production_env")
def test_demo_debug_tests_and_an_own_key_start(tmp_path: Path) -> None:
    """`make run` is demo mode; `flask --debug` and the tests are not production; and in
    production the operator's own key is accepted."""
    for config in ({"DEMO_MODE": True}, {"DEBUG": True}, {"TESTING": True}):
        assert _app(tmp_path, **config).config["SECRET_KEY"] == DEFAULT_SECRET_KEY
    assert _app(tmp_path, SECRET_KEY="an-operator-key").config["SECRET_KEY"] == "an-operator-key"


def test_the_environment_decides_as_well(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, production_env: None
) -> None:
    """KOMBITERMIN_DEMO=1 (what `make run` sets) starts; SECRET_KEY from the environment
    lets production start."""
    monkeypatch.setenv("KOMBITERMIN_DEMO", "1")
    assert _app(tmp_path).config["DEMO_MODE"] is True
    monkeypatch.delenv("KOMBITERMIN_DEMO")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert _app(tmp_path).config["SECRET_KEY"] == "from-the-environment"


# --- tokens ------------------------------------------------------------------------------------


def forged(token: str) -> str:
    """The token with the first character of its signature (after the last dot) changed."""
    payload, signature = token.rsplit(".", 1)
    return f"{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


def test_signed_tokens_are_verified_with_compare_digest(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Route-sheet links and feed links are itsdangerous tokens, quotes HMAC-SHA256 ones:
    each signature is compared with hmac.compare_digest, and a forged one is refused."""
    make_business()
    quote = slot_quotes(client, "tap")[0]
    calls: list[bytes] = []
    compare_digest = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append(a)
        return compare_digest(a, b)

    monkeypatch.setattr(itsdangerous.signer.hmac, "compare_digest", spy)
    sheet = sign_sheet(SheetLink(1, TUESDAY), "test-secret")
    feed = sign_feed(FeedLink(1), "test-secret")
    assert read_sheet(sheet, "test-secret", 3600) == SheetLink(1, TUESDAY)
    assert read_feed(feed, "test-secret") == FeedLink(1)
    assert read_quote(quote, "test-secret", 900).day >= date(2026, 11, 24)
    assert len(calls) == 3
    # The first character of the signature changed: refused after a constant-time compare.
    assert read_sheet(forged(sheet), "test-secret", 3600) is None
    with pytest.raises(QuoteError):
        read_quote(forged(quote), "test-secret", 900)
    assert len(calls) == 5


def test_manage_tokens_are_too_long_to_guess() -> None:
    """Manage tokens are looked up through their unique index, not compared in Python:
    what makes that safe is 256 random bits (43 URL-safe characters), far beyond what a
    timing difference of an index lookup could ever narrow down."""
    tokens = {new_manage_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", token) for token in tokens)
