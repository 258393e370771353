"""A new customer books, gets the confirmation email, moves and cancels: in a real browser.

Debian's chromium (/usr/bin/chromium, headless) driven by Playwright for Python, against
the app served by a real HTTP server on a free port, with CSRF protection on and an
SQLite database. Screenshots of every step go to test-artifacts/browser/ (or the folder
in KOMBITERMIN_ARTIFACTS). Skips with the reason where chromium or Playwright is missing.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from flask import Flask

from booking.extensions import db
from booking.models import Appointment, AppointmentStatus
from tests.browser.support import CHROMIUM, browser_config, browser_page, serving, shot
from tests.conftest import NOW
from tests.factories import make_business

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is missing")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM} (.ci/run installs Debian's)"
)


@pytest.fixture
def served(tmp_path: Path, geodata_dir: Path) -> Iterator[tuple[str, Flask, Path]]:
    """The app on a real HTTP server: (base URL, app, outbox folder)."""
    outbox = tmp_path / "outbox"
    config = browser_config(
        tmp_path, geodata_dir, MAILER="outbox", MAIL_OUTBOX=str(outbox), NOW=lambda: NOW
    )
    with serving(config, lambda _app: make_business()) as (base, app, _business):
        yield base, app, outbox


@pytest.fixture
def page() -> Iterator[object]:
    with browser_page(sync_api, viewport={"width": 420, "height": 900}) as page:
        yield page


def mails(outbox: Path) -> list[EmailMessage]:
    files = sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [
        email.message_from_bytes(p.read_bytes(), policy=default_policy)  # type: ignore[misc]
        for p in files
    ]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content()


def test_a_customer_books_moves_and_cancels(served, page) -> None:
    base, app, outbox = served

    # 1. The start page lists the services; the customer picks the tap replacement.
    page.goto(base + "/")
    assert page.locator("h1").inner_text() == "Termin online buchen"
    shot(page, "01-start")
    page.locator("a.card", has_text="Armatur").click()

    # 2. Address (the tests' offline postcode data places 39104 in Magdeburg).
    page.locator("input[name=street]").fill("Breiter Weg 5")
    page.locator("input[name=postcode]").fill("39104")
    page.locator("input[name=city]").fill("Magdeburg")
    shot(page, "02-address")
    page.locator("form button[type=submit]").click()

    # 3. The slots of the next two weeks, each a button with its price and reason.
    page.wait_for_selector("button.slot")
    shot(page, "03-slots")
    first = page.locator("button.slot").first
    price = first.locator(".price").inner_text()
    assert re.fullmatch(r"\d+,\d\d\s€", price), price
    first.click()

    # 4. Details with consent; the button names the quoted price.
    page.wait_for_selector("input[name=name]")
    page.locator("input[name=name]").fill("Erika Mustermann")
    page.locator("input[name=phone]").fill("0391 555 1234")
    page.locator("input[name=email]").fill("erika@example.de")
    page.locator("[name=access_hints]").fill("Hinterhaus, 2. OG")
    page.locator("[name=notes]").fill("Die Küchenarmatur tropft.")
    page.locator("input[name=consent]").check()
    book = page.locator("form button[type=submit]")
    assert price in book.inner_text()
    shot(page, "04-details")
    book.click()

    # 5. Confirmation page, and the email with the calendar file and the manage link.
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "Ihr Termin ist gebucht"
    shot(page, "05-confirmed")
    [confirmation] = mails(outbox)
    assert confirmation["To"] == "Erika Mustermann <erika@example.de>"
    attachments = [part.get_filename() for part in confirmation.iter_attachments()]
    assert any(name and name.endswith(".ics") for name in attachments), attachments
    link = re.search(r"https?://\S+/appointment/\S+", text_of(confirmation))
    assert link, text_of(confirmation)
    with app.app_context():
        [booked] = db.session.scalars(db.select(Appointment)).all()
        assert (booked.status, booked.price_total_cents) == (
            AppointmentStatus.CONFIRMED, int(price.split(",")[0]) * 100 + int(price[-4:-2])
        )  # fmt: skip
        first_window = (booked.day, booked.window_start_s, booked.window_end_s)

    # 6. The manage link from the email: move the appointment to another slot.
    page.goto(link.group(0))
    shot(page, "06-manage")
    page.locator("a.button", has_text="verschieben").click()
    page.wait_for_selector("button.slot")
    shot(page, "07-move-slots")
    other = page.locator("button.slot:not(:has(.badge.current))").nth(3)
    other.click()
    page.wait_for_selector("form button[type=submit]")
    shot(page, "08-move-review")
    page.locator("form button[type=submit]").click()
    page.wait_for_selector("h1")
    shot(page, "09-moved")
    with app.app_context():
        db.session.expire_all()
        [moved] = db.session.scalars(db.select(Appointment)).all()
        assert moved.status == AppointmentStatus.CONFIRMED
        assert (moved.day, moved.window_start_s, moved.window_end_s) != first_window
    assert len(mails(outbox)) == 2  # the moved appointment's confirmation

    # 7. Cancel from the same page.
    page.goto(link.group(0))
    page.locator("form button", has_text="stornieren").click()
    page.wait_for_selector("h1")
    shot(page, "10-cancelled")
    assert "storniert" in page.content()
    with app.app_context():
        db.session.expire_all()
        [cancelled] = db.session.scalars(db.select(Appointment)).all()
        assert cancelled.status == AppointmentStatus.CANCELLED
    cancellation = mails(outbox)[-1]
    assert len(mails(outbox)) == 3 and "storniert" in (cancellation["Subject"] or "").lower()
