"""The technician's calendar feed: a long-lived signed link naming only the technician,
one event per stop at its planned local time with the appointment's stable UID, fresh on
every fetch, and nothing of anyone else."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from flask import current_app
from flask.testing import FlaskClient
from icalendar import Calendar, Event
from sqlalchemy import select

from booking.extensions import db
from booking.models import Appointment, Business, RouteStop, Technician
from booking.services.calendar_file import appointment_uid
from booking.services.clock import local_datetime, now_utc
from booking.services.feed_tokens import FeedLink, read_feed, sign_feed
from booking.services.sheets import SheetLink, sign_sheet
from booking.services.technician_feed import feed_days
from tests.booking.test_sheet_pdf import BREITER_WEG, KNOCHENHAUER, book
from tests.factories import TUESDAY, make_business

H = 3600


def feed_url(technician: Technician) -> str:
    link = FeedLink(technician.id, technician.sheet_key)
    return f"/sheets/feed/{sign_feed(link, current_app.config['SECRET_KEY'])}.ics"


def fetch(client: FlaskClient, technician: Technician) -> tuple[Calendar, list[Event]]:
    """GET the feed; it must be text/calendar and parse."""
    response = client.get(feed_url(technician))
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    return calendar, list(calendar.walk("VEVENT"))


def stops_of(technician: Technician) -> list[RouteStop]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(RouteStop)
            .where(RouteStop.technician_id == technician.id)
            .order_by(RouteStop.position)
        )
    )


def uids(events: list[Event]) -> list[str]:
    return [str(e["uid"]) for e in events]


# --- the token -----------------------------------------------------------------------------


def test_a_feed_token_names_the_technician_and_nothing_else_opens(app) -> None:
    """Signed and read back: the id. Tampered, another key, a route-sheet token (other
    salt) or garbage: None."""
    token = sign_feed(FeedLink(7, 2), "key")
    assert read_feed(token, "key") == FeedLink(7, 2)
    assert read_feed(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "key") is None
    assert read_feed(token, "other-key") is None
    assert read_feed(sign_sheet(SheetLink(7, TUESDAY), "key"), "key") is None
    assert read_feed("not-a-token", "key") is None


def test_the_feed_covers_a_week_back_to_the_end_of_the_horizon(app) -> None:
    """Now is Monday 23 November 2026 and the horizon 14 days: 16 November to 7 December."""
    business = make_business()
    assert feed_days(business, now_utc()) == (date(2026, 11, 16), date(2026, 12, 7))


# --- the feed ------------------------------------------------------------------------------


def test_the_feed_has_one_event_per_stop_at_the_planned_local_time(client: FlaskClient) -> None:
    """Erika (08-10, access hint) and Karl (10-12, notes) ride in one route. The feed has
    the calendar's name and a 15-minute refresh hint, and one event per stop with the
    appointment's UID, start and end at the planned times in Berlin (CET, UTC+1 in
    November), summary "service – customer", the address, and phone, window, hint, notes
    and navigation links in the description."""
    business = make_business()
    erika = book(business, BREITER_WEG, "Erika Mustermann", 8 * H, access_hints="Hof links")
    karl = book(business, KNOCHENHAUER, "Karl Nachbar", 10 * H, notes="Hund im Garten")
    technician = db.session.get(Technician, erika.stop.technician_id)
    assert technician is not None and karl.stop.technician_id == technician.id

    calendar, events = fetch(client, technician)

    assert str(calendar["x-wr-calname"]) == f"Aufträge von {technician.name} – Sanitär Test GmbH"
    assert calendar["refresh-interval"].to_ical() == b"PT15M"
    assert calendar["x-published-ttl"].to_ical() == b"PT15M"
    assert uids(events) == [appointment_uid(erika.id, "elbe"), appointment_uid(karl.id, "elbe")]
    for event, appointment in zip(events, [erika, karl], strict=True):
        stop = appointment.stop
        assert stop is not None
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        assert start == local_datetime(business, TUESDAY, stop.planned_start_s)
        assert end == local_datetime(business, TUESDAY, stop.planned_end_s)
        assert start.utcoffset() == timedelta(hours=1)
        assert start.hour * H + start.minute * 60 + start.second == stop.planned_start_s
        assert str(event["location"]) == f"{appointment.street}, 39104 Magdeburg"
    assert str(events[0]["summary"]) == "Armatur tauschen – Erika Mustermann"
    first = str(events[0]["description"])
    assert "Telefon: 0391 765432" in first
    assert "Fenster 08:00–10:00" in first
    assert "Zugang: Hof links" in first
    assert "geo:52.1243,11.6322" in first
    assert "https://www.openstreetmap.org/?mlat=52.1243&mlon=11.6322" in first
    assert "Anmerkungen: Hund im Garten" in str(events[1]["description"])


def test_the_feed_follows_the_plan(client: FlaskClient) -> None:
    """After a third booking on Tuesday the next fetch has it too, and every event's
    times are the stops' planned times as they are now."""
    business = make_business()
    erika = book(business, BREITER_WEG, "Erika Mustermann", 8 * H)
    technician = db.session.get(Technician, erika.stop.technician_id)
    assert technician is not None
    _, before = fetch(client, technician)
    assert uids(before) == [appointment_uid(erika.id, "elbe")]

    book(business, KNOCHENHAUER, "Karl Nachbar", 8 * H)
    book(business, BREITER_WEG, "Frieda Dritte", 10 * H)
    _, after = fetch(client, technician)

    stops = stops_of(technician)
    assert len(stops) > 1  # the new jobs ride along Erika's route
    assert uids(after) == [appointment_uid(s.appointment_id, "elbe") for s in stops]
    assert [e.decoded("dtstart") for e in after] == [
        local_datetime(business, TUESDAY, s.planned_start_s) for s in stops
    ]


def test_no_technician_sees_anyone_elses_jobs(client: FlaskClient) -> None:
    """Elbe's gas job can only go to Gerd; another firm books a job too. Each feed lists
    exactly its own technician's stops, and no other customer's name appears in it."""
    business = make_business()
    other = make_business(slug="other")
    anna, gerd = business.technicians
    gas = book(business, BREITER_WEG, "Gustav Gaskunde", 10 * H, code="gasboiler")
    book(business, KNOCHENHAUER, "Erika Mustermann", 8 * H)
    book(other, BREITER_WEG, "Fremde Kundin", 8 * H)
    assert gas.stop is not None and gas.stop.technician_id == gerd.id

    everyone = [anna, gerd, *other.technicians]
    for technician in everyone:
        response = client.get(feed_url(technician))
        _, events = fetch(client, technician)
        assert uids(events) == [
            appointment_uid(s.appointment_id, technician.business.slug)
            for s in stops_of(technician)
        ]
        names = {a.customer.name for a in db.session.scalars(select(Appointment))}
        own = {s.appointment.customer.name for s in stops_of(technician)}
        text = response.get_data(as_text=True)
        assert all(name not in text for name in names - own), technician.name


def test_the_sheet_page_offers_the_subscription(client: FlaskClient) -> None:
    """The sheet page links the technician's feed as webcal:// and as http(s)://, and the
    link opens that technician's feed."""
    business = make_business()
    gerd = business.technicians[1]
    token = sign_sheet(SheetLink(gerd.id, TUESDAY), current_app.config["SECRET_KEY"])
    html = client.get(f"/sheets/{token}").get_data(as_text=True)
    expected = "localhost" + feed_url(gerd)
    assert f'href="webcal://{expected}"' in html
    https = re.search(r'<a href="(http[^"]*/sheets/feed/[^"]+)">https</a>', html)
    assert https is not None and unescape(https.group(1)) == f"http://{expected}"
    assert client.get(feed_url(gerd)).status_code == 200


@pytest.mark.parametrize(
    "kind", ["tampered", "sheet-token", "garbage", "unknown", "inactive", "revoked"]
)
def test_a_bad_feed_link_is_not_found(client: FlaskClient, kind: str) -> None:
    """A changed signature, a route-sheet token, garbage, a technician who does not exist,
    one who has been deactivated, and a link from before the technician's links were
    revoked (their sheet key raised): 404."""
    business: Business = make_business()
    anna = business.technicians[0]
    secret = current_app.config["SECRET_KEY"]
    good = sign_feed(FeedLink(anna.id), secret)
    assert client.get(f"/sheets/feed/{good}.ics").status_code == 200
    if kind == "inactive":
        anna.active = False
        db.session.commit()
    if kind == "revoked":
        anna.sheet_key += 1
        db.session.commit()
    token = {
        "tampered": good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"),
        "sheet-token": sign_sheet(SheetLink(anna.id, TUESDAY), secret),
        "garbage": "not-a-token",
        "unknown": sign_feed(FeedLink(max(t.id for t in business.technicians) + 1000), secret),
        "inactive": good,
        "revoked": good,
    }[kind]
    assert client.get(f"/sheets/feed/{token}.ics").status_code == 404
