"""Flexible windows end to end: half days, the whole day and any day of a week are offered
on the pages and in the API, confirmed at exactly the quoted price, explained in the
visitor's language, and never change the plan by being looked at.

The factory firm: two technicians at the depot, 08:00-16:30 on weekdays, slot windows
08-10, 10-12, 12-14, 14-16. So the half days are 08-12 and 12-16, the whole day 08-16.
Breiter Weg 10 (postcode centroid of 39104) is 0.6 km from the depot: no travel fee. A
tap costs 89.00 €; the default flexibility discounts are 3 / 5 / 8 % of it = 2.67 / 4.45 /
7.12 €, rounded down to whole euros: 2, 4 and 7 €.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import refresh
from flask_migrate import downgrade, upgrade
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, text

from booking.extensions import db
from booking.models import Appointment, Customer, DayPlan, RouteStop
from booking.services.invariants import broken_promises
from booking.services.quotes import Quote, read_quote, sign_quote
from tests.booking.pages import ADDRESS, book, count, quotes_on, slot_quotes
from tests.factories import TUESDAY, make_business

H = 3600
SECRET = "test-secret"
API = "/api/v1"
THURSDAY = date(2026, 11, 26)

FLEXIBILITY_CENTS = {"slot": 0, "half_day": 200, "day": 400, "week": 700}
FIRST_WINDOW = {"slot": (8 * H, 10 * H), "half_day": (8 * H, 12 * H), "day": (8 * H, 16 * H),
                "week": (8 * H, 16 * H)}  # fmt: skip
KINDS = list(FLEXIBILITY_CENTS)
API_CONTACT = {
    "name": "Erika Mustermann",
    "phone": "0391 123456",
    "email": "erika@example.de",
    "consent": True,
}


def page_quote(
    client: FlaskClient, kind: str, code: str = "tap", day: date | None = None
) -> tuple[str, Quote]:
    """The first quote of this kind on the slot page (on `day`, if given), and what it says."""
    for token in slot_quotes(client, code):
        quote = read_quote(token, SECRET, 900)
        if quote.kind == kind and (day is None or quote.day == day):
            return token, quote
    raise AssertionError(f"no {kind} offered on {day}")


def api_offers(client: FlaskClient, code: str = "tap", lang: str | None = None):
    query = f"?lang={lang}" if lang else ""
    response = client.post(f"{API}/offers{query}", json={"service": code, **ADDRESS})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["slots"]


def api_entry(client: FlaskClient, kind: str, code: str = "tap") -> dict[str, Any]:
    return next(s for s in api_offers(client, code) if s["kind"] == kind and s["offered"])


def api_book(client: FlaskClient, quote: str, **overrides: Any):
    return client.post(f"{API}/bookings", json={"quote": quote, **API_CONTACT, **overrides})


def api_error(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()["error"]


def forget_language() -> None:
    """Let the next request choose its language afresh. A test holds one app context for
    all its requests, and Flask-Babel caches the locale there; in production every request
    has its own context."""
    refresh()


def nothing_stored() -> bool:
    return count(Customer) == count(Appointment) == count(RouteStop) == 0


def plan_snapshot() -> tuple[list[Any], list[Any], list[Any]]:
    """Every column of every route stop, day plan and appointment, in id order."""
    db.session.expire_all()
    return tuple(
        [tuple(row) for row in db.session.execute(select(table).order_by(table.c.id)).all()]
        for table in (RouteStop.__table__, DayPlan.__table__, Appointment.__table__)
    )


# --- every kind can be booked at exactly the quoted price ---------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_confirmable_on_the_pages_at_the_quoted_price(
    client: FlaskClient, kind: str
) -> None:
    """The first offer of each kind (Tuesday on an empty plan) goes through details and
    confirm: the appointment keeps the quoted price with its flexibility discount, the
    kind and the window; its stop starts inside the window."""
    business = make_business()
    token, quote = page_quote(client, kind)
    assert quote.day == TUESDAY  # all days cost the same; the week's choice is its first
    assert (quote.window_start_s, quote.window_end_s) == FIRST_WINDOW[kind]
    assert quote.price.flexibility_cents == FLEXIBILITY_CENTS[kind]
    assert quote.price.total_cents == 8900 - FLEXIBILITY_CENTS[kind]

    details = client.post("/book/details", data={"quote": token}).get_data(as_text=True)
    assert ("Flexi-Rabatt" in details) == (kind != "slot")
    response = book(client, token)
    assert response.status_code == 302
    appointment = db.session.scalars(select(Appointment)).one()
    assert appointment.price == quote.price
    assert appointment.price_flexibility_cents == FLEXIBILITY_CENTS[kind]
    assert appointment.window_kind == kind
    assert (appointment.day, appointment.window_start_s, appointment.window_end_s) == (
        TUESDAY,
        *FIRST_WINDOW[kind],
    )
    stop = db.session.scalars(select(RouteStop)).one()
    assert appointment.window_start_s <= stop.planned_start_s <= appointment.window_end_s
    assert broken_promises(business) == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_confirmable_through_the_api_at_the_quoted_price(
    client: FlaskClient, kind: str
) -> None:
    """offers → bookings for the first offer of each kind: 201, the offered price (with
    its flexibility discount) and the window kind come back on the appointment."""
    business = make_business()
    entry = api_entry(client, kind)
    assert entry["price"]["flexibility_discount_cents"] == FLEXIBILITY_CENTS[kind]
    response = api_book(client, entry["quote"])
    assert response.status_code == 201, response.get_data(as_text=True)
    booked = response.get_json()["appointment"]
    assert booked["window_kind"] == kind
    assert booked["price"] == entry["price"]
    assert (booked["day"], booked["window_start"], booked["window_end"]) == (
        entry["day"],
        entry["window_start"],
        entry["window_end"],
    )
    shown = client.get(f"{API}/appointments/{booked['manage_token']}").get_json()
    assert shown["appointment"] == booked
    assert broken_promises(business) == []


def test_the_flexibility_discount_is_on_the_confirmation_and_in_the_api(
    client: FlaskClient,
) -> None:
    """A whole-day booking: the confirmation page words the promise as a flexible day and
    lists "Flexi-Rabatt −4,00 €"; the API's appointment carries the same 4.00 €."""
    make_business()
    token, _quote = page_quote(client, "day")
    response = book(client, token)
    manage = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ihr Termin ist gebucht" in manage
    assert "Dienstag, 24. November 2026, ganztags flexibel: Ankunft zwischen 08:00 und " in (manage)
    assert "<dt>Flexi-Rabatt</dt><dd>−4,00\xa0€</dd>" in manage
    assert '<dd class="total">85,00\xa0€</dd>' in manage
    appointment = db.session.scalars(select(Appointment)).one()
    shown = client.get(f"{API}/appointments/{appointment.manage_token}").get_json()
    assert shown["appointment"]["window_kind"] == "day"
    assert shown["appointment"]["price"]["flexibility_discount_cents"] == 400
    assert shown["appointment"]["price"]["total_cents"] == 8500


# --- "any day this week" -------------------------------------------------------------------


def test_a_week_offer_books_the_day_the_engine_chose_for_the_whole_day(
    client: FlaskClient,
) -> None:
    """A neighbour at the same address is booked on Thursday 10-12. For the week of
    24-27 November the engine then chooses Thursday: inserting there adds no travel at all.
    Booking it promises Thursday 08:00-16:00, the whole day, at 89 − 13 (15 % combination
    discount for r = 100 %, 13.35 € rounded down) − 7 (week) = 69.00 €."""
    business = make_business()
    neighbour, _quote = next(
        (token, quote)
        for token in slot_quotes(client, "tap")
        if (quote := read_quote(token, SECRET, 900)).day == THURSDAY
        and quote.kind == "slot"
        and quote.window_start_s == 10 * H
    )
    assert book(client, neighbour, email="nachbar@example.de").status_code == 302

    week = next(s for s in api_offers(client) if s["kind"] == "week")
    assert week["days"] == ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]
    assert week["day"] == THURSDAY.isoformat()
    token, quote = page_quote(client, "week")
    assert quote.day == THURSDAY
    assert (quote.window_start_s, quote.window_end_s) == (8 * H, 16 * H)
    assert (quote.price.discount_cents, quote.price.flexibility_cents) == (1300, 700)
    assert quote.price.total_cents == 6900

    details = client.post("/book/details", data={"quote": token}).get_data(as_text=True)
    assert "Donnerstag, 26. November 2026, von uns gewählter Tag Ihrer Woche" in details
    assert book(client, token).status_code == 302
    appointment = db.session.scalars(
        select(Appointment).where(Appointment.window_kind == "week")
    ).one()
    assert (appointment.day, appointment.window_start_s, appointment.window_end_s) == (
        THURSDAY,
        8 * H,
        16 * H,
    )
    assert appointment.price == quote.price
    assert appointment.stop is not None
    assert appointment.stop.day_plan.day == THURSDAY
    assert 8 * H <= appointment.stop.planned_start_s <= 16 * H
    assert broken_promises(business) == []


def test_a_week_whose_day_filled_up_is_just_taken_with_alternatives(
    client: FlaskClient,
) -> None:
    """The week offer for a 7-hour job chooses Tuesday; two others then fill Tuesday. The
    stale week quote is refused as slot_taken with fresh offers; nothing is written."""
    make_business()
    stale = api_entry(client, "week", "bigjob")
    assert stale["day"] == TUESDAY.isoformat()
    for email in ("a@example.de", "b@example.de"):
        first = api_entry(client, "slot", "bigjob")
        assert api_book(client, first["quote"], email=email).status_code == 201
    before = plan_snapshot()
    error = api_error(api_book(client, stale["quote"], email="late@example.de"), 409)
    assert error["code"] == "slot_taken"
    assert error["alternatives"]
    assert all(s["day"] != TUESDAY.isoformat() for s in error["alternatives"])
    fresh_week = next(s for s in error["alternatives"] if s["kind"] == "week")
    assert fresh_week["day"] == "2026-11-25"  # the engine now chooses Wednesday
    assert plan_snapshot() == before


# --- refused quotes: a clear message, nothing stored ---------------------------------------


def test_a_tampered_flexible_quote_is_refused_on_the_page_and_in_the_api(
    client: FlaskClient,
) -> None:
    """Changing the end of a signed week quote: the page sends the customer back to the
    start with "not valid", the API answers 422 quote_invalid; nothing is stored."""
    make_business()
    token, _quote = page_quote(client, "week")
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = book(client, tampered)
    assert response.status_code == 302
    assert "Dieses Angebot ist ungültig" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert api_error(api_book(client, tampered), 422)["code"] == "quote_invalid"
    assert nothing_stored()


def test_an_expired_flexible_quote_is_refused_on_the_page_and_in_the_api(
    app: Flask, client: FlaskClient
) -> None:
    """A half-day quote older than QUOTE_TTL_S: the page says it expired and shows fresh
    slots (409), the API answers 409 quote_expired; nothing is stored."""
    make_business()
    token, _quote = page_quote(client, "half_day")
    app.config["QUOTE_TTL_S"] = -1  # every quote is older than this
    response = book(client, token)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Ihr Angebot ist abgelaufen" in html
    assert quotes_on(html)
    error = api_error(api_book(client, token), 409)
    assert error["code"] == "quote_expired"
    assert "abgelaufen" in error["message"]
    assert nothing_stored()


def test_a_quote_of_the_old_format_is_refused_as_invalid(client: FlaskClient) -> None:
    """A quote signed with our key before quotes carried a window kind (salt v1, no kind)
    is refused as invalid on the page and in the API, never read as some kind."""
    make_business()
    _token, quote = page_quote(client, "slot")
    payload = asdict(quote)
    del payload["kind"]
    payload["day"] = quote.day.isoformat()
    old = URLSafeTimedSerializer(SECRET, salt="kombitermin.quote.v1").dumps(payload)
    response = book(client, old)
    assert response.status_code == 302
    assert "ungültig" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert api_error(api_book(client, old), 422)["code"] == "quote_invalid"
    assert nothing_stored()


@pytest.mark.parametrize(
    ("kind", "window"),
    [("slot", (8 * H, 16 * H)), ("day", (8 * H, 12 * H)), ("half_day", (8 * H, 10 * H)),
     ("week", (8 * H, 12 * H)), ("half_day", (9 * H, 13 * H))],
)  # fmt: skip
def test_a_signed_quote_for_a_window_not_offered_with_its_kind_is_refused(
    client: FlaskClient, kind: str, window: tuple[int, int]
) -> None:
    """Even correctly signed (say, by an older version with other windows), a whole day
    sold as a slot or a slot sold as a half day is not a window this business offers with
    that kind: 422 quote_invalid, nothing stored."""
    make_business()
    _token, quote = page_quote(client, "slot")
    forged = replace(quote, kind=kind, window_start_s=window[0], window_end_s=window[1])
    signed = sign_quote(forged, SECRET)
    assert api_error(api_book(client, signed), 422)["code"] == "quote_invalid"
    response = book(client, signed)
    assert response.status_code == 302
    assert "ungültig" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert nothing_stored()


# --- reading never writes -------------------------------------------------------------------


def test_requesting_offers_never_changes_the_stored_plan(client: FlaskClient) -> None:
    """With a slot, a whole day and a week booked, several offer requests for every
    service, on the pages (German and English) and in the API, leave every route stop,
    every day plan (version and timestamp) and every appointment exactly as they were."""
    make_business()
    for kind, email in (("slot", "a@example.de"), ("day", "b@example.de"),
                        ("week", "c@example.de")):  # fmt: skip
        token, _quote = page_quote(client, kind)
        assert book(client, token, email=email).status_code == 302
    before = plan_snapshot()
    assert len(before[0]) == 3 and before[1]
    for code in ("tap", "gasboiler", "bigjob"):
        slot_quotes(client, code)
        client.get(f"/book/{code}/slots", query_string={**ADDRESS, "lang": "en"})
        api_offers(client, code)
        api_offers(client, code, lang="de")
    assert plan_snapshot() == before


# --- the engine's reasons in the visitor's language -----------------------------------------


def test_the_slot_page_explains_prices_in_german_and_in_english(client: FlaskClient) -> None:
    """On an empty plan every technician drives out just for this job; the wide windows add
    why they are cheaper. German by default, English with ?lang=en."""
    make_business()
    german = client.get("/book/tap/slots", query_string=ADDRESS).get_data(as_text=True)
    assert "Ein Monteur fährt nur für Sie los." in german
    assert "weil Sie uns den ganzen Tag lassen, sparen Sie zusätzlich 4 €." in german
    for label in ("Vormittag flexibel", "Nachmittag flexibel", "Ganzer Tag flexibel",
                  "Egal wann in dieser Woche", "Flexi-Rabatt"):  # fmt: skip
        assert label in german
    assert "A technician" not in german

    forget_language()
    english = client.get("/book/tap/slots", query_string={**ADDRESS, "lang": "en"}).get_data(
        as_text=True
    )
    assert "A technician drives out just for you." in english
    assert "because you leave us the whole day, you save another €4." in english
    for label in ("Morning, flexible", "Afternoon, flexible", "All day, flexible",
                  "Any day this week", "flexibility discount"):  # fmt: skip
        assert label in english
    assert "Ein Monteur" not in english


def test_the_api_gives_the_reason_in_the_request_language_and_both(app: Flask) -> None:
    """Each offer's `reason` is German by default and English with ?lang=en; `reasons`
    always holds both."""
    make_business()
    german = api_offers(app.test_client())
    forget_language()
    english = api_offers(app.test_client(), lang="en")
    day_de = next(s for s in german if s["kind"] == "day")
    day_en = next(s for s in english if s["kind"] == "day")
    expected = {
        "de": "Ein Monteur fährt nur für Sie los; weil Sie uns den ganzen Tag lassen, "
        "sparen Sie zusätzlich 4 €.",
        "en": "A technician drives out just for you; because you leave us the whole day, "
        "you save another €4.",
    }
    assert day_de["reasons"] == day_en["reasons"] == expected
    assert day_de["reason"] == expected["de"]
    assert day_en["reason"] == expected["en"]


# --- the slot picker --------------------------------------------------------------------------


def test_the_picker_groups_flexible_choices_and_lists_the_cheapest_of_each_kind(
    client: FlaskClient,
) -> None:
    """Per day the 4 slots come first, then the 3 flexible windows; the week's choice
    follows its last day. After a booking on Wednesday 08-10 next door, Wednesday rides
    along: the summary at the top links to the cheapest choice of each kind, all on
    Wednesday (the 08-10 slot fits a second job at the same address)."""
    make_business()
    wednesday = date(2026, 11, 25)
    token, _quote = page_quote(client, "slot", day=wednesday)
    book(client, token, email="nachbar@example.de")
    html = client.get("/book/tap/slots", query_string=ADDRESS).get_data(as_text=True)
    order = [read_quote(q, SECRET, 900) for q in quotes_on(html)]
    assert [q.kind for q in order[:7]] == ["slot"] * 4 + ["half_day"] * 2 + ["day"]
    # Tuesday to Friday (4 days x 7), then the week of 24-27 November.
    assert order[28].kind == "week" and order[28].day == wednesday
    start = html.index('class="picks"')
    summary = html[start : html.index("</nav>", start)]
    for anchor in ("2026-11-25-slot-28800", "2026-11-25-half_day-28800",
                   "2026-11-25-day-28800", "2026-11-24-week"):  # fmt: skip
        assert f'href="#{anchor}"' in summary
        assert f'id="{anchor}"' in html
    # Every button names its day for screen readers.
    assert html.count('<span class="sr-only">') == len(order) + html.count("slot full")


# --- the migration ------------------------------------------------------------------------


def test_the_migration_gives_older_appointments_their_true_kind_and_discount(
    app: Flask,
) -> None:
    """An appointment stored before flexible windows existed was a 2-hour slot without a
    flexibility discount: after the upgrade it reads as kind "slot" with 0 cents."""
    business = make_business()
    business_id, service_id = business.id, business.services[0].id
    db.session.close()  # no open transaction may hold a lock on the tables we alter
    try:
        downgrade(revision="5893cc854a97")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO customers (business_id, name, phone, email, created_at, "
                    "updated_at) VALUES (:b, 'Alt', '0391 1', 'alt@example.de', :t, :t)"
                ),
                {"b": business_id, "t": "2026-11-01 10:00:00+00:00"},
            )
            customer_id = connection.execute(text("SELECT max(id) FROM customers")).scalar()
            connection.execute(
                text(
                    "INSERT INTO appointments (business_id, customer_id, service_type_id, "
                    "street, postcode, city, lat, lon, geo_precision, day, window_start_s, "
                    "window_end_s, status, price_base_cents, price_travel_fee_cents, "
                    "price_discount_cents, price_total_cents, saving_pct, detour_s, "
                    "standalone_s, notes, manage_token, created_at, updated_at) VALUES "
                    "(:b, :c, :s, 'Alter Weg 1', '39104', 'Magdeburg', 52.12, 11.63, "
                    "'house', '2026-11-24', 28800, 36000, 'confirmed', 8900, 0, 500, 8400, "
                    "60, 300, 900, '', 'old-token-0123456789abcdef', :t, :t)"
                ),
                {"b": business_id, "c": customer_id, "s": service_id,
                 "t": "2026-11-01 10:00:00+00:00"},
            )  # fmt: skip
    finally:
        upgrade()
    appointment = db.session.scalars(select(Appointment)).one()
    assert appointment.window_kind == "slot"
    assert appointment.price_flexibility_cents == 0
    assert appointment.price.total_cents == 8400
    assert appointment.price.discounts_cents == 500
