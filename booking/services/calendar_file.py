"""The calendar file (`.ics`, RFC 5545) that goes with every email about an appointment.

One VEVENT per appointment: DTSTART and DTEND are the promised arrival window in the
business's time zone, with its VTIMEZONE, so every calendar shows 08:00-10:00 local time,
also across a DST switch. The UID is stable per appointment and SEQUENCE grows with every
change, so a calendar replaces the event it has (METHOD:REQUEST: booked or moved) or
removes it (METHOD:CANCEL), instead of adding a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from icalendar import Calendar, Event, vCalAddress, vText

Method = Literal["REQUEST", "CANCEL"]


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """What the event says, already worded in the customer's language."""

    uid: str
    sequence: int
    start: datetime  # aware, in the business's zone
    end: datetime
    summary: str
    location: str
    description: str
    url: str
    organizer_name: str
    organizer_email: str
    attendee_name: str
    attendee_email: str

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must lie after start {self.start}")
        if self.sequence < 0:
            raise ValueError(f"sequence must not be negative, got {self.sequence}")


def appointment_uid(appointment_id: int, business_slug: str) -> str:
    """Stable for the appointment's whole life: moves and cancellation keep it."""
    return f"appointment-{appointment_id}@{business_slug}.kombitermin"


def calendar_file(event: CalendarEvent, method: Method, stamp: datetime) -> bytes:
    """The `.ics` bytes: a request for a booked or moved appointment, a cancel otherwise."""
    calendar = Calendar()
    calendar.add("prodid", "-//KombiTermin//Termine//DE")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", event.start)
    vevent.add("dtend", event.end)
    vevent.add("summary", event.summary)
    vevent.add("location", event.location)
    vevent.add("description", event.description)
    vevent.add("url", event.url)
    vevent.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{event.organizer_email}")
    organizer.params["cn"] = vText(event.organizer_name)
    vevent.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{event.attendee_email}")
    attendee.params["cn"] = vText(event.attendee_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    vevent.add("attendee", attendee)
    calendar.add_component(vevent)
    # The zone's rules for the years around the event: correct, and a few lines only.
    year = event.start.year
    calendar.add_missing_timezones(first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))
    return calendar.to_ical()
