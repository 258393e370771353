"""The demo business: a fictional plumbing and heating firm in Magdeburg.

Deterministic for a given start day: the same random seed places the same customers.
Appointments are booked the way customers book them (an offer with a concrete insertion,
priced from its detour), so the seeded routes are feasible and show real discounts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from booking.auth import DEMO_EMAIL, DEMO_PASSWORD
from booking.extensions import db
from booking.models import (
    Appointment,
    AppointmentStatus,
    Business,
    Customer,
    ServiceType,
    Technician,
    User,
    UserRole,
)
from booking.services.clock import local_today
from booking.services.dayplans import job_for, lock_day, save_routes, worker_for_day
from booking.services.offering import (
    Address,
    depot,
    job_request,
    pricing_policy,
    slot_windows,
)
from booking.services.travel import travel_times
from optimizer.domain import Route
from optimizer.offers import DayRoutes, Offer, offer_for
from optimizer.planner import PlanParameters, plan_day
from optimizer.pricing import PricingPolicy
from optimizer.schedule import check_route

RANDOM_SEED = 2026
# Deterministic (no time-bounded search), so the same morning always seeds the same plan.
EVENING_PLAN = PlanParameters(time_limit_s=5.0, use_local_search=False)
H = 3600

WEEKDAYS_7_TO_16 = {str(d): [7 * H, 16 * H + 1800] for d in range(5)}
WEEKDAYS_8_TO_17 = {str(d): [8 * H, 17 * H] for d in range(5)}

# Plain data of the firm besides its rows below, shared with `booking.bench.simulate`,
# which runs the same firm in memory without a database.
DEPOT_LAT, DEPOT_LON = 52.1190, 11.6290  # the workshop, Sternstraße 12
HORIZON_DAYS = 14
SLOT_WINDOWS = ((8 * H, 10 * H), (10 * H, 12 * H), (12 * H, 14 * H), (14 * H, 16 * H))
# Every technician's lunch: 30 minutes, starting between 11:30 and 13:00.
LUNCH_EARLIEST_S, LUNCH_LATEST_S, LUNCH_DURATION_S = 11 * H + 1800, 13 * H, 1800
# Magdeburg and the places around it: Schönebeck, the farthest demo district, is 13 km
# from the workshop; Burg (23 km) and Haldensleben (24 km) are in, Staßfurt (30 km) is out.
SERVICE_RADIUS_KM = 25.0
INTRO_DE = (
    "Seit 1998 Ihr Meisterbetrieb für Sanitär und Heizung in Magdeburg und Umgebung. "
    "Buchen Sie hier Ihren Termin mit festem Preis – liegt er auf der Tour eines Monteurs, "
    "zahlen Sie weniger."
)
INTRO_EN = (
    "Your master plumbers and heating engineers in Magdeburg and around since 1998. Book "
    "your appointment here at a fixed price – if it lies on a technician's route, you pay "
    "less."
)


@dataclass(frozen=True)
class District:
    postcode: str
    city: str
    lat: float
    lon: float
    streets: tuple[str, ...]


# Approximate centres of districts in and around Magdeburg; customers are spread around them.
DISTRICTS = (
    District(
        "39104", "Magdeburg", 52.1270, 11.6330, ("Breiter Weg", "Leiterstraße", "Weitlingstraße")
    ),
    District(
        "39108",
        "Magdeburg",
        52.1280,
        11.6100,
        ("Große Diesdorfer Straße", "Olvenstedter Straße", "Goethestraße"),
    ),
    District(
        "39110",
        "Magdeburg",
        52.1330,
        11.5850,
        ("Ankerstraße", "Hohendodeleber Straße", "Liebknechtstraße"),
    ),
    District(
        "39112",
        "Magdeburg",
        52.1100,
        11.6070,
        ("Halberstädter Straße", "Ackerstraße", "Wiener Straße"),
    ),
    District(
        "39106", "Magdeburg", 52.1410, 11.6380, ("Lübecker Straße", "Moritzplatz", "Mittagstraße")
    ),
    District(
        "39124",
        "Magdeburg",
        52.1510,
        11.6260,
        ("Ebendorfer Straße", "Lüneburger Straße", "Agnetenstraße"),
    ),
    District(
        "39120", "Magdeburg", 52.0990, 11.6250, ("Leipziger Straße", "Kroatenweg", "Bahnhofstraße")
    ),
    District(
        "39114",
        "Magdeburg",
        52.1250,
        11.6660,
        ("Berliner Chaussee", "Genthiner Straße", "Friedrich-Ebert-Straße"),
    ),
    District(
        "39116",
        "Magdeburg",
        52.0890,
        11.5800,
        ("Halberstädter Chaussee", "Hauptstraße", "Lange Göhren"),
    ),
    District(
        "39130",
        "Magdeburg",
        52.1500,
        11.5650,
        ("Olvenstedter Chaussee", "Rennebogen", "Bruno-Taut-Ring"),
    ),
    District(
        "39179", "Barleben", 52.2030, 11.6200, ("Breiteweg", "Ebendorfer Straße", "Lindenallee")
    ),
    District(
        "39218",
        "Schönebeck",
        52.0180,
        11.7350,
        ("Salzer Straße", "Magdeburger Straße", "Friedrichstraße"),
    ),
    District(
        "39175",
        "Biederitz",
        52.1600,
        11.7200,
        ("Heyrothsberger Straße", "Gartenstraße", "Am Anger"),
    ),
    District(
        "39167",
        "Niederndodeleben",
        52.1300,
        11.5000,
        ("Magdeburger Straße", "Schulstraße", "Feldstraße"),
    ),
)

FIRST_NAMES = (
    "Anna",
    "Bernd",
    "Claudia",
    "Dieter",
    "Elke",
    "Frank",
    "Gabi",
    "Heiko",
    "Ines",
    "Jürgen",
    "Karin",
    "Lars",
    "Monika",
    "Norbert",
    "Petra",
    "Ralf",
    "Sandra",
    "Thomas",
    "Ute",
    "Volker",
)
LAST_NAMES = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hartmann",
)

# code, German name, English name, German description, English description,
# minutes, base price in cents, required skill, how often customers ask for it
SERVICES = (
    (
        "tap",
        "Armatur tauschen",
        "Tap replacement",
        "Neue Wasch- oder Küchenarmatur montieren.",
        "Fit a new basin or kitchen tap.",
        45,
        8900,
        "water",
        5,
    ),
    (
        "drain",
        "Abfluss reinigen",
        "Drain cleaning",
        "Verstopften Abfluss mit Spirale freimachen.",
        "Clear a blocked drain with a spiral.",
        60,
        11900,
        "water",
        5,
    ),
    (
        "cistern",
        "Spülkasten reparieren",
        "Cistern repair",
        "Undichten oder laufenden Spülkasten instand setzen.",
        "Fix a leaking or running cistern.",
        45,
        7900,
        "water",
        3,
    ),
    (
        "leak",
        "Leck orten und abdichten",
        "Leak detection and repair",
        "Feuchte Stelle finden und Leitung abdichten.",
        "Find a damp spot and seal the pipe.",
        90,
        14900,
        "water",
        2,
    ),
    (
        "radiator",
        "Heizkörper entlüften, Thermostat tauschen",
        "Radiator bleeding, thermostat",
        "Heizkörper entlüften und Thermostatkopf erneuern.",
        "Bleed radiators, replace a thermostat head.",
        45,
        6900,
        "heating",
        4,
    ),
    (
        "boiler",
        "Heizungswartung",
        "Boiler service",
        "Jährliche Wartung der Öl- oder Pelletheizung.",
        "Annual service of an oil or pellet boiler.",
        90,
        15900,
        "heating",
        3,
    ),
    (
        "pump",
        "Heizungspumpe tauschen",
        "Heating pump replacement",
        "Alte Umwälzpumpe gegen Hocheffizienzpumpe tauschen.",
        "Replace an old circulation pump.",
        90,
        22900,
        "heating",
        1,
    ),
    (
        "gasboiler",
        "Gastherme warten",
        "Gas boiler service",
        "Wartung der Gastherme mit Abgasmessung.",
        "Gas boiler service with flue gas test.",
        120,
        18900,
        "gas",
        3,
    ),
    (
        "gascheck",
        "Gasleitung prüfen",
        "Gas pipe safety check",
        "Dichtheitsprüfung der Gasleitung nach TRGI.",
        "Leak test of the gas pipes.",
        60,
        12900,
        "gas",
        1,
    ),
)

# What the technician takes along per service, shown on the route sheet (by service code).
MATERIALS = {
    "tap": 'Dichtungssatz, Kartusche 35 mm, Teflonband, Eckventile 3/8"',
    "drain": "Rohrreinigungsspirale 10 m, Saugglocke, Siphon-Dichtungen, Eimer",
    "cistern": 'Füllventil, Ablaufventil-Dichtung, Spülkastenschwimmer, Schlauch 3/8"',
    "leak": "Feuchtemessgerät, Pressfittinge 15/18 mm, Rohrschelle, Hanf und Fermit",
    "radiator": "Entlüftungsschlüssel, Thermostatkopf M30x1,5, Auffangbehälter, Lappen",
    "boiler": "Düse und Filter, Dichtungssatz Brenner, Abgasmessgerät, Ölbindemittel",
    "pump": 'Hocheffizienzpumpe 25-60, Pumpendichtungen 1 1/2", Absperrschlüssel',
    "gasboiler": "Wartungsset Therme, Abgasmessgerät, Lecksuchspray, Dichtungen",
    "gascheck": "Prüfmanometer, Lecksuchspray, Prüfprotokoll TRGI, Absperrstopfen",
}

TECHNICIANS = (
    # name, colour, skills, start label, lat, lon, hours
    (
        "Tom Becker",
        "#1f77b4",
        ["water", "heating"],
        "Betrieb, Sternstraße 12, 39104 Magdeburg",
        52.1190,
        11.6290,
        WEEKDAYS_7_TO_16,
    ),
    (
        "Jana Schulz",
        "#ff7f0e",
        ["water"],
        "Wohnung Stadtfeld, 39108 Magdeburg",
        52.1295,
        11.6050,
        WEEKDAYS_7_TO_16,
    ),
    (
        "Mehmet Yılmaz",
        "#2ca02c",
        ["heating", "gas"],
        "Wohnung Barleben, 39179 Barleben",
        52.2010,
        11.6170,
        WEEKDAYS_8_TO_17,
    ),
    (
        "Lukas Hoffmann",
        "#d62728",
        ["water", "heating"],
        "Wohnung Schönebeck, 39218 Schönebeck",
        52.0200,
        11.7300,
        WEEKDAYS_7_TO_16,
    ),
    (
        "Sabine Krüger",
        "#9467bd",
        ["water", "heating", "gas"],
        "Betrieb, Sternstraße 12, 39104 Magdeburg",
        52.1190,
        11.6290,
        WEEKDAYS_8_TO_17,
    ),
)


def technician_rows(count: int = len(TECHNICIANS)) -> list[tuple]:
    """The demo's technicians, or `count` of them: beyond the five, the same five again
    (same skills, homes and hours) with a number after the name, for load tests."""
    if count < 1:
        raise ValueError(f"the demo needs at least one technician, got {count}")
    rows = []
    for n in range(count):
        name, *rest = TECHNICIANS[n % len(TECHNICIANS)]
        rounds = n // len(TECHNICIANS)
        rows.append((f"{name} {rounds + 1}" if rounds else name, *rest))
    return rows


def create_business(technicians: int = len(TECHNICIANS)) -> Business:
    business = Business(
        slug="sanitaer-elbe",
        name="Sanitär & Heizung Elbe GmbH",
        address="Sternstraße 12, 39104 Magdeburg",
        phone="0391 555 0123",
        email="termine@sanitaer-elbe.example",
        depot_lat=DEPOT_LAT,
        depot_lon=DEPOT_LON,
        timezone="Europe/Berlin",
        horizon_days=HORIZON_DAYS,
        slot_windows=[list(window) for window in SLOT_WINDOWS],
        pricing=PricingPolicy().to_dict(),
        service_radius_km=SERVICE_RADIUS_KM,
        intro_de=INTRO_DE,
        intro_en=INTRO_EN,
    )
    db.session.add(business)
    for order, (code, de, en, desc_de, desc_en, minutes, cents, skill, _weight) in enumerate(
        SERVICES
    ):
        db.session.add(
            ServiceType(
                business=business,
                code=code,
                name_de=de,
                name_en=en,
                description_de=desc_de,
                description_en=desc_en,
                materials=MATERIALS.get(code, ""),
                duration_s=minutes * 60,
                base_price_cents=cents,
                required_skill=skill,
                sort_order=order,
            )
        )
    for name, color, skills, label, lat, lon, hours in technician_rows(technicians):
        db.session.add(
            Technician(
                business=business,
                name=name,
                color=color,
                skills=skills,
                start_label=label,
                start_lat=lat,
                start_lon=lon,
                end_label=label,
                end_lat=lat,
                end_lon=lon,
                working_hours=hours,
                lunch_earliest_s=LUNCH_EARLIEST_S,
                lunch_latest_s=LUNCH_LATEST_S,
                lunch_duration_s=LUNCH_DURATION_S,
            )
        )
    db.session.flush()
    return business


def seed_appointments(business: Business, first_day: date, days: int, rng: random.Random) -> int:
    """Book customers day by day through offers; returns how many appointments were made."""
    travel = travel_times()
    policy = pricing_policy(business)
    windows = slot_windows(business)
    services = list(business.services)
    weights = [row[-1] for row in SERVICES]
    booked = 0
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        workers = [w for t in business.technicians if (w := worker_for_day(t, day))]
        if not workers:
            continue
        routes = {w.id: Route(w) for w in workers}
        appointments: dict[str, Appointment] = {}
        # Near days are well booked, later ones fill up as bookings come in.
        requests_per_technician = max(1, 5 - offset // 3)
        for _attempt in range(len(workers) * requests_per_technician):
            service = rng.choices(services, weights)[0]
            district = rng.choice(DISTRICTS)
            appointment = _customer_request(business, service, district, day, rng)
            request = job_request(service, _address_of(appointment))
            # Customers prefer one window; if it is full they take the next one that fits.
            preferred = rng.randrange(len(windows))
            for window in windows[preferred:] + windows[:preferred]:
                offer = offer_for(
                    request,
                    DayRoutes(day, tuple(routes.values())),
                    window,
                    depot(business),
                    travel,
                    policy,
                )
                if offer is not None:
                    break
            else:
                continue  # nothing fits: the request is turned away, nothing was added
            _lock_price(appointment, window.start, window.end, offer)
            db.session.add(appointment)
            db.session.flush()
            job = job_for(appointment)
            route = routes[offer.technician_id]
            routes[offer.technician_id] = route.with_job(job, offer.position)
            appointments[job.id] = appointment
            booked += 1
        # The evening's planning run, as the firm would do it: never worse, keeps every job.
        jobs = [job for route in routes.values() for job in route.jobs]
        result = plan_day(
            workers, jobs, travel, initial=list(routes.values()), parameters=EVENING_PLAN
        )
        if not result.dropped:
            routes = {route.technician.id: route for route in result.routes}
        plan = lock_day(business.id, day)
        save_routes(
            plan,
            {
                int(tech_id): check_route(route, travel).schedule
                for tech_id, route in routes.items()
            },
            appointments,
        )
    return booked


def customer_location(district: District, rng: random.Random) -> tuple[float, float]:
    """A customer's (lat, lon), spread about 1.5 km around the district centre."""
    lat = round(district.lat + rng.uniform(-0.012, 0.012), 5)
    lon = round(district.lon + rng.uniform(-0.02, 0.02), 5)
    return lat, lon


# As Germans spell their names in email addresses: a non-ASCII local part is refused by
# the booking form and could never be sent a confirmation.
_MAIL_SPELLING = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def mail_name(name: str) -> str:
    """A name as the local part of an email address: "Jürgen" → "juergen"."""
    return name.lower().translate(_MAIL_SPELLING)


def _customer_request(
    business: Business, service: ServiceType, district: District, day: date, rng: random.Random
) -> Appointment:
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    customer = Customer(
        business_id=business.id,
        name=name,
        phone=f"0391 {rng.randrange(200, 999)} {rng.randrange(1000, 9999)}",
        email=f"{mail_name(name.split()[0])}.{rng.randrange(10, 99)}@example.de",
    )
    street = f"{rng.choice(district.streets)} {rng.randrange(1, 120)}"
    lat, lon = customer_location(district, rng)  # after the street: the same random stream
    return Appointment(
        business_id=business.id,
        customer=customer,
        service=service,
        street=street,
        postcode=district.postcode,
        city=district.city,
        lat=lat,
        lon=lon,
        geo_precision="house",
        day=day,
        status=AppointmentStatus.CONFIRMED,
    )


def _address_of(appointment: Appointment) -> Address:
    return Address(
        appointment.street,
        appointment.postcode,
        appointment.city,
        appointment.lat,
        appointment.lon,
        appointment.geo_precision,
    )


def _lock_price(appointment: Appointment, start: int, end: int, offer: Offer) -> None:
    appointment.window_start_s = start
    appointment.window_end_s = end
    appointment.price_base_cents = offer.price.base_cents
    appointment.price_travel_fee_cents = offer.price.travel_fee_cents
    appointment.price_discount_cents = offer.price.discount_cents
    appointment.price_total_cents = offer.price.total_cents
    appointment.saving_pct = offer.price.saving_pct
    appointment.detour_s = offer.detour_seconds
    appointment.standalone_s = offer.standalone_seconds


def create_demo_login(business: Business) -> User:
    """The demo's one login; an admin, so a visitor can try every part of the workspace
    (it works only in demo mode)."""
    user = User(business=business, email=DEMO_EMAIL, name="Demo-Disponentin", role=UserRole.ADMIN)
    user.set_password(DEMO_PASSWORD)
    db.session.add(user)
    return user


def seed_demo(
    now: datetime, *, with_demo_login: bool, days: int = 14, technicians: int = len(TECHNICIANS)
) -> Business:
    """Create the demo business with about two weeks of routed appointments from today;
    `technicians` scales the firm (the load bench uses 20)."""
    rng = random.Random(RANDOM_SEED)
    business = create_business(technicians)
    seed_appointments(business, local_today(business, now), days, rng)
    if with_demo_login:
        create_demo_login(business)
    db.session.commit()
    return business
