"""A technician's jobs as an iCalendar feed (RFC 5545), subscribed once on the phone.

One VEVENT per stop from a week ago to the end of the booking horizon. The calendar app
fetches the whole feed again every few minutes (REFRESH-INTERVAL / X-PUBLISHED-TTL), so a
re-plan shows up without anything sent: each event keeps its appointment's UID
(`calendar_file.appointment_uid`), so a moved job replaces its event, and a job that left
the technician's route simply disappears from the next fetch.

Times are the planned start and end of service, as stored with the route, in the
business's zone with its VTIMEZONE.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from icalendar import Calendar, Event, vDuration
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from booking.extensions import db
from booking.models import Appointment, Business, DayPlan, RouteStop, Technician
from booking.services.calendar_file import appointment_uid
from booking.services.clock import hhmm, local_datetime, local_today

PAST_DAYS = 7  # jobs of the last week stay visible, to look up what was done
REFRESH = timedelta(minutes=15)


def feed_days(business: Business, now: datetime) -> tuple[date, date]:
    """First and last day the feed covers: a week ago through the end of the horizon."""
    today = local_today(business, now)
    return today - timedelta(days=PAST_DAYS), today + timedelta(days=business.horizon_days)


def feed_stops(technician: Technician, first: date, last: date) -> list[RouteStop]:
    """The technician's stops on those days, by day and route order."""
    return list(
        db.session.scalars(
            select(RouteStop)
            .join(DayPlan)
            .where(
                DayPlan.business_id == technician.business_id,
                RouteStop.technician_id == technician.id,
                DayPlan.day >= first,
                DayPlan.day <= last,
            )
            .options(
                joinedload(RouteStop.day_plan),
                joinedload(RouteStop.appointment).joinedload(Appointment.service),
                joinedload(RouteStop.appointment).joinedload(Appointment.customer),
            )
            .order_by(DayPlan.day, RouteStop.position)
        )
    )


def osm_link(lat: float, lon: float) -> str:
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"


def _description(appointment: Appointment) -> str:
    a = appointment
    lines = [
        f"{_('Phone')}: {a.customer.phone}",
        _("window %(start)s–%(end)s", start=hhmm(a.window_start_s), end=hhmm(a.window_end_s)),
    ]
    if a.access_hints:
        lines.append(f"{_('Access')}: {a.access_hints}")
    if a.notes:
        lines.append(f"{_('Notes')}: {a.notes}")
    lines.append(f"{_('Navigate')}: geo:{a.lat},{a.lon}")
    lines.append(f"OSM: {osm_link(a.lat, a.lon)}")
    return "\n".join(lines)


def technician_feed(
    business: Business,
    technician: Technician,
    stops: list[RouteStop],
    stamp: datetime,
    locale: str,
) -> bytes:
    """The `.ics` bytes of the feed: METHOD:PUBLISH, one event per stop."""
    calendar = Calendar()
    calendar.add("prodid", "-//KombiTermin//Touren//DE")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = _("Jobs of %(technician)s", technician=technician.name) + f" – {business.name}"
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", business.timezone)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    # An X- property has no known type: give it the duration's text, not str(timedelta).
    calendar.add("x-published-ttl", vDuration(REFRESH).to_ical().decode())
    for stop in stops:
        a = stop.appointment
        day = stop.day_plan.day
        event = Event()
        event.add("uid", appointment_uid(a.id, business.slug))
        event.add("dtstamp", stamp)
        event.add("dtstart", local_datetime(business, day, stop.planned_start_s))
        event.add("dtend", local_datetime(business, day, stop.planned_end_s))
        event.add("summary", f"{a.service.name(locale)} – {a.customer.name}")
        event.add("location", f"{a.street}, {a.postcode} {a.city}")
        event.add("geo", (a.lat, a.lon))
        event.add("description", _description(a))
        event.add("url", osm_link(a.lat, a.lon))
        calendar.add_component(event)
    if stops:
        first, last = stops[0].day_plan.day, stops[-1].day_plan.day
        calendar.add_missing_timezones(
            first_date=date(first.year, 1, 1), last_date=date(last.year + 1, 1, 1)
        )
    return calendar.to_ical()
