"""Small, readable test data: a two-technician firm in Magdeburg."""

from __future__ import annotations

from datetime import date

from booking.extensions import db
from booking.models import Business, ServiceType, Technician, User
from tests.policies import ROUND_POLICY

H = 3600
TUESDAY = date(2026, 11, 24)  # the first bookable day when "now" is Monday 23 November
DEPOT = (52.1190, 11.6290)


def make_business(
    slug: str = "elbe", windows: list[list[int]] | None = None, cutoff_hours: int = 12
) -> Business:
    """Two technicians from the depot, 08:00-16:30 on weekdays, no lunch break, and three
    services: a 60-minute water job, a 120-minute gas job and a long 7-hour water job.

    Customers may move or cancel online until 12 hours before their window (the model's
    default is 24): with "now" at Monday 10:00, even Tuesday 08:00 is still changeable
    (until Monday 20:00), so only the cut-off's own tests need to move the clock."""
    business = Business(
        slug=slug,
        name="Sanitär Test GmbH",
        address="Sternstraße 12, 39104 Magdeburg",
        phone="0391 000 111",
        email="info@test.example",
        depot_lat=DEPOT[0],
        depot_lon=DEPOT[1],
        horizon_days=14,
        slot_windows=windows
        or [[8 * H, 10 * H], [10 * H, 12 * H], [12 * H, 14 * H], [14 * H, 16 * H]],
        pricing=ROUND_POLICY.to_dict(),
        cancel_cutoff_hours=cutoff_hours,
    )
    db.session.add(business)
    weekdays = {str(d): [8 * H, 16 * H + 1800] for d in range(5)}
    db.session.add_all(
        [
            Technician(
                business=business,
                name="Anna Wasser",
                skills=["water"],
                start_label="Depot",
                start_lat=DEPOT[0],
                start_lon=DEPOT[1],
                end_label="Depot",
                end_lat=DEPOT[0],
                end_lon=DEPOT[1],
                working_hours=weekdays,
            ),
            Technician(
                business=business,
                name="Gerd Gas",
                skills=["water", "gas"],
                start_label="Depot",
                start_lat=DEPOT[0],
                start_lon=DEPOT[1],
                end_label="Depot",
                end_lat=DEPOT[0],
                end_lon=DEPOT[1],
                working_hours=weekdays,
            ),
            ServiceType(
                business=business,
                code="tap",
                name_de="Armatur tauschen",
                name_en="Tap replacement",
                duration_s=3600,
                base_price_cents=8900,
                required_skill="water",
                sort_order=1,
            ),
            ServiceType(
                business=business,
                code="gasboiler",
                name_de="Gastherme warten",
                name_en="Gas boiler service",
                duration_s=2 * H,
                base_price_cents=18900,
                required_skill="gas",
                sort_order=2,
            ),
            ServiceType(
                business=business,
                code="bigjob",
                name_de="Badsanierung Tag",
                name_en="Bathroom day",
                duration_s=7 * H,
                base_price_cents=99000,
                required_skill="water",
                sort_order=3,
            ),
        ]
    )
    db.session.commit()
    return business


def make_user(
    business: Business, email: str = "dispo@test.example", password: str = "secret-123"
) -> User:
    user = User(business_id=business.id, email=email, name="Disponent")
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def service(business: Business, code: str) -> ServiceType:
    return next(s for s in business.services if s.code == code)
