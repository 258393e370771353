"""The dispatcher's actions on one appointment: pin, move, cancel, no-show, phone booking.

Each action is stated as a plan and shown as a proposal first; applying it re-checks the
day under its lock. The firm is tests.factories': Anna (water) and Gerd (water, gas) start
at the depot at 08:00, 30 km/h and a road factor of 1.3 on the straight line.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.extensions import db
from booking.models import (
    Appointment,
    AuditEntry,
    PlanProposal,
    RouteStop,
    Technician,
)
from booking.services.clock import now_utc
from booking.services.invariants import broken_promises
from booking.services.offering import find_slots
from booking.services.quotes import read_quote
from tests.booking.mailbox import mails, text_of
from tests.booking.pages import ADDRESS, quotes_on, slot_quotes
from tests.booking.test_dispatch import (
    ALL_DAY,
    EAST_1,
    SOLVER_S,
    WEST_1,
    WEST_2,
    confirm,
    criss_cross_tuesday,
    flashes,
    login,
    reoptimise,
    stops_and_version,
)
from tests.factories import TUESDAY, make_business, make_user, service

H = 3600
# Road times of the geodesic provider (straight line × 1.3 at 30 km/h):
# depot → Westring 1: 7012 m, 841 s; depot → Westring 9: 6840 m, 821 s;
# Westring 1 → Westring 9: 339 m, 41 s.
STALE = (
    "Der Tag hat sich geändert, nachdem dies berechnet wurde; nichts wurde übernommen. "
    "Bitte neu berechnen."
)


def placing(appointment: Appointment) -> tuple[str, int, bool] | None:
    """(technician name, position from 0, pinned) of the appointment's stop, read afresh."""
    db.session.expire_all()
    stop = db.session.scalar(select(RouteStop).where(RouteStop.appointment_id == appointment.id))
    if stop is None:
        return None
    return stop.technician.name, stop.position, stop.pinned


def act(client: FlaskClient, appointment: Appointment, action: str, **form: str) -> str:
    """POST an action; the proposal page's path it redirects to."""
    response = client.post(f"/dispatch/appointments/{appointment.id}/{action}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    path = response.headers["Location"]
    assert re.fullmatch(r"/dispatch/proposals/\d+", path), path
    return path


def apply(client: FlaskClient, path: str) -> list[str]:
    """Apply the proposal; the flash messages on the page it lands on."""
    response = client.post(f"{path}/apply", follow_redirects=True)
    assert response.status_code == 200
    return flashes(response.get_data(as_text=True))


def technician(name: str) -> Technician:
    return db.session.scalars(select(Technician).where(Technician.name == name)).one()


def proposals() -> int:
    return db.session.scalar(select(func.count()).select_from(PlanProposal)) or 0


def two_taps_for_anna(windows: list[list[int]] | None = None) -> tuple[Appointment, Appointment]:
    """Westring 1 at 08:00-10:00 and Westring 9 at 10:00-12:00 (or both 08:00-16:00 with
    ALL_DAY): the second rides along in Anna's route, 339 m after the first; Gerd idles."""
    business = make_business(windows=windows)
    make_user(business)
    first = confirm(business, "tap", WEST_1, "Wilma West")
    second = confirm(business, "tap", WEST_2, "Walter West", 8 * H if windows else 10 * H)
    assert placing(first) == ("Anna Wasser", 0, False)
    assert placing(second) == ("Anna Wasser", 1, False)
    return first, second


# --- the appointment page ------------------------------------------------------------------


def test_the_appointment_page_shows_the_promise_and_its_place(client: FlaskClient) -> None:
    """Wilma West's tap: customer, phone, address, window, price, "Anna Wasser #1" with its
    planned 08:14 start (841 s from the depot), "online" as source, and the action buttons;
    no no-show button on Monday for Tuesday."""
    first, _second = two_taps_for_anna()
    login(client)
    response = client.get(f"/dispatch/appointments/{first.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in (
        "Wilma West",
        "0391 765432",
        "Westring 1, 39110 Magdeburg",
        "Armatur tauschen",
        "Anna Wasser #1",
        "08:14",
        "online gebucht",
        "Stopp fixieren",
        "Termin stornieren",
    ):
        assert text in html, text
    assert "Kunde nicht angetroffen" not in html  # a no-show only on the day or after


# --- pin -------------------------------------------------------------------------------------


def test_a_pinned_stop_keeps_its_place_when_the_day_is_re_optimised(
    app: Flask, client: FlaskClient
) -> None:
    """On the criss-crossing Tuesday (Anna: west, east, west, east), Otto Ost is pinned at
    Anna's second stop. Re-optimising shortens the day but keeps him there, pinned."""
    business = make_business(windows=ALL_DAY)
    make_user(business)
    _west_1, east_1, _west_2, _east_2 = criss_cross_tuesday(business)
    assert placing(east_1) == ("Anna Wasser", 1, False)
    login(client)

    path = act(client, east_1, "pin")
    assert 'data-status="ready"' in client.get(path).get_data(as_text=True)
    assert placing(east_1) == ("Anna Wasser", 1, False)  # shown, not applied
    assert apply(client, path)[0].startswith("Übernommen:")
    assert placing(east_1) == ("Anna Wasser", 1, True)

    app.config["SOLVER_TIME_LIMIT_S"] = SOLVER_S
    before = stops_and_version()[0]
    replan = reoptimise(app, client)
    assert 'data-status="ready"' in client.get(replan).get_data(as_text=True)
    apply(client, replan)
    assert stops_and_version()[0] != before  # the rest of the day did change
    assert placing(east_1) == ("Anna Wasser", 1, True)
    assert broken_promises(business) == []


def test_unpinning_clears_the_flag(client: FlaskClient) -> None:
    """Pin, apply, unpin, apply: the stop stays Anna's first and is no longer pinned."""
    first, _second = two_taps_for_anna()
    login(client)
    apply(client, act(client, first, "pin"))
    assert placing(first) == ("Anna Wasser", 0, True)
    apply(client, act(client, first, "unpin"))
    assert placing(first) == ("Anna Wasser", 0, False)


# --- move ----------------------------------------------------------------------------------


def test_moving_to_another_technician_shows_the_shift_and_applies(client: FlaskClient) -> None:
    """Both taps 08:00-16:00, both Anna's: Westring 9 first (821 s from the depot, 08:13:41
    to 09:13:41), then Wilma West at Westring 1, 41 s on: 09:14:22. Moved to Gerd's first
    place, Gerd drives 841 s from the depot: 08:14:01, 3621 s earlier, shown as "-61 min"
    (whole minutes, rounded down) and "Gerd Gas #1". Applying moves her; every promise
    holds; one audit entry "move"."""
    business = make_business(windows=ALL_DAY)
    make_user(business)
    wilma = confirm(business, "tap", WEST_1, "Wilma West")
    walter = confirm(business, "tap", WEST_2, "Walter West")
    assert placing(walter) == ("Anna Wasser", 0, False)
    assert placing(wilma) == ("Anna Wasser", 1, False)
    login(client)
    gerd = technician("Gerd Gas")

    path = act(client, wilma, "move", technician=str(gerd.id), position="1")
    page = client.get(path).get_data(as_text=True)
    assert 'data-status="ready"' in page
    assert "Anna Wasser #2, 09:14" in page
    assert "Gerd Gas #1, 08:14" in page
    assert "-61 min" in page
    assert placing(wilma) == ("Anna Wasser", 1, False)  # shown, not applied

    assert apply(client, path)[0].startswith("Übernommen:")
    assert placing(wilma) == ("Gerd Gas", 0, False)
    assert placing(walter) == ("Anna Wasser", 0, False)
    assert broken_promises(business) == []
    [entry] = db.session.scalars(select(AuditEntry)).all()
    assert entry.action == "move"
    assert entry.details["reason"] == f"move appointment {wilma.id} to technician {gerd.id} #1"


def test_the_best_position_is_the_default(client: FlaskClient) -> None:
    """Moving Walter West to Gerd with position "best": Gerd's route is empty, so place 1."""
    _first, second = two_taps_for_anna()
    login(client)
    gerd = technician("Gerd Gas")
    page = client.get(f"/dispatch/appointments/{second.id}").get_data(as_text=True)
    assert "Gerd Gas – beste Position 1 von 1" in page
    path = act(client, second, "move", technician=str(gerd.id), position="best")
    apply(client, path)
    assert placing(second) == ("Gerd Gas", 0, False)


def test_a_move_that_breaks_a_window_is_refused_with_the_reason(client: FlaskClient) -> None:
    """Putting Walter West (10:00-12:00) before Wilma West (08:00-10:00) in Anna's route:
    he cannot start before 10:00, ends 11:00, so Wilma is reached 41 s later, after her
    window. The proposal fails with that reason, has no apply button, and applying it
    anyway changes nothing."""
    _first, second = two_taps_for_anna()
    login(client)
    before = stops_and_version()
    anna = technician("Anna Wasser")
    path = act(client, second, "move", technician=str(anna.id), position="1")
    page = client.get(path).get_data(as_text=True)
    assert 'data-status="failed"' in page
    assert (
        "Wilma West: Anna Wasser würde um 11:00 beginnen, nach dem Zeitfenster 08:00–10:00."
        in unescape(page)
    )
    assert "Übernehmen" not in page
    client.post(f"{path}/apply")
    assert stops_and_version() == before


def test_a_move_to_a_technician_without_the_skill_is_refused(client: FlaskClient) -> None:
    """A gas boiler service (Gerd's, the only one with gas) moved to Anna fails: she lacks
    the gas skill; nothing changes."""
    business = make_business()
    make_user(business)
    boiler = confirm(business, "gasboiler", WEST_1, "Gustav Gas")
    assert placing(boiler) == ("Gerd Gas", 0, False)
    login(client)
    before = stops_and_version()
    anna = technician("Anna Wasser")
    path = act(client, boiler, "move", technician=str(anna.id), position="1")
    page = client.get(path).get_data(as_text=True)
    assert 'data-status="failed"' in page
    assert (
        "Gustav Gas braucht die Fähigkeit gas, die Anna Wasser nicht hat." in unescape(page)
    )
    assert stops_and_version() == before


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"technician": "999999", "position": "1"}, "Dieser Monteur arbeitet an dem Tag nicht."),
        ({"technician": "x", "position": "1"}, "Dieser Monteur arbeitet an dem Tag nicht."),
        ({"position": "9"}, "Bitte eine Position in der Tour dieses Monteurs wählen."),
        ({"position": "0"}, "Bitte eine Position in der Tour dieses Monteurs wählen."),
        ({"position": "-1"}, "Bitte eine Position in der Tour dieses Monteurs wählen."),
    ],
)
def test_a_move_with_bad_input_gets_a_message(
    client: FlaskClient, form: dict[str, str], message: str
) -> None:
    """An unknown technician or a position outside 1..n+1 (Gerd has no stops: only 1) is
    answered on the appointment page; no proposal, nothing changed."""
    _first, second = two_taps_for_anna()
    login(client)
    before = stops_and_version()
    data = {"technician": str(technician("Gerd Gas").id), **form}
    response = client.post(
        f"/dispatch/appointments/{second.id}/move", data=data, follow_redirects=True
    )
    assert response.request.path == f"/dispatch/appointments/{second.id}"
    assert flashes(response.get_data(as_text=True)) == [message]
    assert proposals() == 0
    assert stops_and_version() == before


# --- cancel ------------------------------------------------------------------------------


def test_cancelling_frees_the_capacity_and_emails_the_customer_once(
    client: FlaskClient, outbox: Path
) -> None:
    """Two 7-hour jobs fill Anna's and Gerd's Tuesday (08:00-16:30 each), so a third is not
    offered on Tuesday. The dispatcher cancels one: it leaves its route, Tuesday is offered
    again, and its customer gets exactly one email, the cancellation."""
    business = make_business()
    make_user(business)
    first = confirm(business, "bigjob", WEST_1, "Berta Bad")
    confirm(business, "bigjob", EAST_1, "Bodo Bad")
    bigjob = service(business, "bigjob")

    def tuesday_offered() -> bool:
        return any(
            s.offer is not None and s.offer.day == TUESDAY
            for s in find_slots(business, bigjob, WEST_2, now_utc())
            if s.kind == "slot"
        )

    assert not tuesday_offered()
    login(client)
    path = act(client, first, "cancel")
    page = client.get(path).get_data(as_text=True)
    assert 'data-status="ready"' in page
    assert "nicht mehr eingeplant" in page  # the effect: Berta leaves the route
    assert mails(outbox) == []  # shown, not applied

    messages = apply(client, path)
    assert messages[1] == "Berta Bad wurde die Stornierung per E-Mail geschickt."
    db.session.expire_all()
    assert db.session.get(Appointment, first.id).status == "cancelled"
    assert placing(first) is None
    assert tuesday_offered()
    [mail] = mails(outbox)
    assert "storniert" in (mail["Subject"] or "").lower()
    # The firm cancelled, so the mail does not claim the customer asked for it.
    assert "von uns abgesagt" in text_of(mail)
    assert "wie gewünscht" not in text_of(mail)
    assert broken_promises(business) == []


# --- no-show -------------------------------------------------------------------------------


def test_a_no_show_for_a_day_still_ahead_is_refused(client: FlaskClient) -> None:
    """On Monday, Tuesday's customer cannot have been missed yet: a clear message, no
    proposal, nothing changed."""
    first, _second = two_taps_for_anna()
    login(client)
    before = stops_and_version()
    response = client.post(f"/dispatch/appointments/{first.id}/no-show", follow_redirects=True)
    assert flashes(response.get_data(as_text=True)) == [
        "Ein Nichtantreffen kann erst am Tag des Termins oder danach erfasst werden."
    ]
    assert proposals() == 0
    assert stops_and_version() == before


def test_a_no_show_on_the_day_keeps_the_stop(app: Flask, client: FlaskClient) -> None:
    """On Tuesday at 12:00 Wilma West was not at home: no-show, and her stop stays in
    Anna's route (it was driven)."""
    first, _second = two_taps_for_anna()
    app.config["NOW"] = lambda: datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    login(client)
    apply(client, act(client, first, "no-show"))
    db.session.expire_all()
    assert db.session.get(Appointment, first.id).status == "no_show"
    assert placing(first) == ("Anna Wasser", 0, False)


# --- booking by phone ----------------------------------------------------------------------


def tuesday_eight(tokens: list[str]) -> str:
    secret = current_app.config["SECRET_KEY"]
    return next(
        t
        for t in tokens
        if (q := read_quote(t, secret, 900)).day == TUESDAY
        and q.window_start_s == 8 * H
        and q.kind == "slot"
    )


def test_a_phone_booking_gets_the_online_price_and_is_marked_phone(
    client: FlaskClient, outbox: Path
) -> None:
    """With Wilma West booked at Westring 1, a tap at Breiter Weg 10 on Tuesday 08:00-10:00
    costs the same by phone as online. Booked by phone: source "phone", that price, an audit
    entry "phone_booking" by the dispatcher, and one confirmation email."""
    business = make_business()
    user = make_user(business)
    confirm(business, "tap", WEST_1, "Wilma West")
    secret = current_app.config["SECRET_KEY"]
    online = read_quote(tuesday_eight(slot_quotes(client, "tap", ADDRESS)), secret, 900)

    login(client)
    tap = service(business, "tap")
    response = client.get("/dispatch/phone-booking", query_string={"service": tap.id, **ADDRESS})
    assert response.status_code == 200
    token = tuesday_eight(quotes_on(response.get_data(as_text=True)))
    by_phone = read_quote(token, secret, 900)
    assert by_phone.price == online.price
    assert (by_phone.detour_s, by_phone.standalone_s) == (online.detour_s, online.standalone_s)

    details = client.post("/dispatch/phone-booking", data={"quote": token})
    assert details.status_code == 200
    assert "Kundendaten" in details.get_data(as_text=True)
    response = client.post(
        "/dispatch/phone-booking",
        data={
            "quote": token,
            "confirm": "1",
            "name": "Paul Telefon",
            "phone": "0391 555555",
            "email": "paul@example.de",
            "notes": "",
            "access_hints": "",
            "language": "de",
        },
    )
    assert response.status_code == 302
    booked = db.session.scalars(
        select(Appointment).where(Appointment.source == "phone")
    ).one()
    assert response.headers["Location"] == f"/dispatch/appointments/{booked.id}"
    assert booked.price == online.price
    assert booked.consent_at is None
    assert placing(booked) is not None
    audit = db.session.scalars(select(AuditEntry)).all()
    assert [(e.action, e.user_id, e.subject) for e in audit] == [
        ("phone_booking", user.id, f"appointment {booked.id}")
    ]
    [mail] = mails(outbox)
    assert mail["To"].addresses[0].addr_spec == "paul@example.de"
    assert broken_promises(business) == []


def test_a_phone_booking_without_email_sends_none(client: FlaskClient, outbox: Path) -> None:
    """The email is optional by phone: booked all the same, no mail, and the page says so."""
    business = make_business()
    make_user(business)
    login(client)
    tap = service(business, "tap")
    page = client.get("/dispatch/phone-booking", query_string={"service": tap.id, **ADDRESS})
    token = tuesday_eight(quotes_on(page.get_data(as_text=True)))
    response = client.post(
        "/dispatch/phone-booking",
        data={
            "quote": token,
            "confirm": "1",
            "name": "Ida Ohnemail",
            "phone": "0391 4444",
            "language": "de",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Keine E-Mail-Adresse angegeben: es wurde keine Bestätigung verschickt." in flashes(
        response.get_data(as_text=True)
    )
    booked = db.session.scalars(select(Appointment)).one()
    assert (booked.source, booked.customer.email) == ("phone", "")
    assert mails(outbox) == []


def test_a_phone_booking_of_a_just_taken_slot_offers_fresh_slots(client: FlaskClient) -> None:
    """One quote for a 7-hour job on Tuesday 08:00-10:00, confirmed three times, as if
    three callers took it: the first two fill Anna's and Gerd's day, the third finds the day
    full: "gerade vergeben", 409 and fresh slots, exactly as online; nothing stored."""
    business = make_business()
    make_user(business)
    login(client)
    bigjob = service(business, "bigjob")
    page = client.get("/dispatch/phone-booking", query_string={"service": bigjob.id, **ADDRESS})
    token = tuesday_eight(quotes_on(page.get_data(as_text=True)))
    contact = {"confirm": "1", "name": "Paul Telefon", "phone": "0391 555555", "language": "de"}
    for _ in range(2):
        response = client.post("/dispatch/phone-booking", data={"quote": token, **contact})
        assert response.status_code == 302
    before = stops_and_version()
    response = client.post("/dispatch/phone-booking", data={"quote": token, **contact})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "gerade vergeben" in html
    assert quotes_on(html)  # fresh slots on other days
    assert stops_and_version() == before


# --- a day that changed between preview and apply ---------------------------------------------


def test_a_stale_proposal_is_refused_and_nothing_is_written(client: FlaskClient) -> None:
    """A move is previewed, then a customer books Ostring 1 on the same Tuesday: applying
    the move is refused as stale, and no stop, version or status changes."""
    business = make_business()
    make_user(business)
    first = confirm(business, "tap", WEST_1, "Wilma West")
    login(client)
    path = act(client, first, "move", technician=str(technician("Gerd Gas").id), position="1")
    assert 'data-status="ready"' in client.get(path).get_data(as_text=True)
    confirm(business, "tap", EAST_1, "Otto Ost")
    before = stops_and_version()
    assert apply(client, path) == [STALE]
    assert stops_and_version() == before
    # Still Anna's, not Gerd's; Otto Ost went before her (the same detour either way round).
    assert placing(first) == ("Anna Wasser", 1, False)
    assert db.session.scalars(select(PlanProposal)).one().status == "stale"
    assert db.session.scalars(select(AuditEntry)).all() == []


# --- access --------------------------------------------------------------------------------


def test_another_firms_dispatcher_gets_nothing(client: FlaskClient) -> None:
    """Firm "b"'s dispatcher gets 404 for firm "a"'s appointment page and for every action
    on it; firm a's signed quote books nothing for them; anonymous visitors are sent to the
    login. No proposal is stored and no stop or version changes."""
    firm_a = make_business(slug="a")
    firm_a.host = "localhost"  # the test client's host: the customer pages serve a
    first = confirm(firm_a, "tap", WEST_1, "Wilma West")
    firm_b = make_business(slug="b")
    make_user(firm_b)
    token = tuesday_eight(slot_quotes(client, "tap", ADDRESS))
    gerd_a = next(t for t in firm_a.technicians if t.name == "Gerd Gas")
    before = stops_and_version()
    base = f"/dispatch/appointments/{first.id}"
    posts = [
        (f"{base}/pin", {}),
        (f"{base}/unpin", {}),
        (f"{base}/move", {"technician": str(gerd_a.id), "position": "1"}),
        (f"{base}/cancel", {}),
        (f"{base}/no-show", {}),
    ]

    assert client.get(base).status_code == 302  # anonymous: to the login
    for url, data in posts:
        assert client.post(url, data=data).headers["Location"].startswith("/login")

    login(client)
    assert client.get(base).status_code == 404
    for url, data in posts:
        assert client.post(url, data=data).status_code == 404, url
    response = client.post(
        "/dispatch/phone-booking",
        data={"quote": token, "confirm": "1", "name": "Eve Fremd", "phone": "0391 666666"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/dispatch/phone-booking"
    assert proposals() == 0
    assert stops_and_version() == before
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"service": "abc", **ADDRESS}, "Ungültige Auswahl"),  # WTForms' own German
        ({"service": "999999", **ADDRESS}, "Keine gültige Auswahl."),
        ({"street": "", "postcode": "39104", "city": "Magdeburg"}, "Bitte geben Sie Ihre Straße"),
        ({"postcode": "3910", "street": "Breiter Weg 10", "city": "Magdeburg"}, "fünf Ziffern"),
        ({"postcode": "01067", "street": "Prager Str. 1", "city": "Dresden"}, "nicht finden"),
    ],
)
def test_a_phone_booking_search_with_bad_input_gets_a_message(
    client: FlaskClient, query: dict[str, str], message: str
) -> None:
    """A service that is not the firm's, a missing street, a four-digit postcode, or a
    postcode the (test) geocoder does not know: 422 with the message, no slots, nothing
    stored."""
    business = make_business()
    make_user(business)
    login(client)
    tap = service(business, "tap")
    response = client.get("/dispatch/phone-booking", query_string={"service": tap.id, **query})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in unescape(html), html
    assert quotes_on(html) == []
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0
