"""Materials per service: edited on the service page, printed per stop on the route sheet
(page and PDF); a service without materials adds nothing."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from booking.extensions import db
from booking.models import AuditEntry, RouteStop, ServiceType
from tests.booking.test_dispatch import login
from tests.booking.test_dispatch_manage import ADMIN_EMAIL, make_admin, service_form
from tests.booking.test_sheet_pdf import BREITER_WEG, H, book, pdf_pages, sheet_token
from tests.factories import make_business, service

TAP_MATERIALS = "Dichtungssatz, Kartusche 35 mm, Teflonband"


def test_an_admin_edits_the_materials_and_the_change_is_audited(client: FlaskClient) -> None:
    """The service page shows the materials field; saving a list stores it and writes one
    audit entry naming the changed field "materials"."""
    business = make_business()
    make_admin(business)
    login(client, email=ADMIN_EMAIL)
    tap = service(business, "tap")
    page = client.get(f"/dispatch/services/{tap.id}").get_data(as_text=True)
    assert 'name="materials"' in page and "Material zum Mitnehmen" in page

    response = client.post(
        f"/dispatch/services/{tap.id}", data=service_form(tap, materials=TAP_MATERIALS)
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ServiceType, tap.id).materials == TAP_MATERIALS
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None
    assert (entry.action, entry.subject) == ("service_update", f"service {tap.id}")
    assert entry.details["changed"] == ["materials"]


def test_materials_show_per_stop_on_the_sheet_and_in_the_pdf(client: FlaskClient) -> None:
    """A tap job with materials: the sheet page shows "Material: …" in the stop, the PDF's
    extracted text has the same line."""
    business = make_business()
    service(business, "tap").materials = TAP_MATERIALS
    db.session.commit()
    book(business, BREITER_WEG, "Erika Mustermann", 8 * H)
    technician = db.session.scalars(select(RouteStop)).one().technician
    token = sheet_token(technician.id)

    html = client.get(f"/sheets/{token}").get_data(as_text=True)
    (text,) = pdf_pages(client.get(f"/sheets/{token}.pdf").data)

    assert f'<p class="materials"><strong>Material:</strong> {TAP_MATERIALS}</p>' in html
    assert f"Material: {TAP_MATERIALS}" in text


def test_a_service_without_materials_adds_nothing(client: FlaskClient) -> None:
    """Materials empty (the default): no materials line on the page, none in the PDF."""
    business = make_business()
    book(business, BREITER_WEG, "Erika Mustermann", 8 * H)
    technician = db.session.scalars(select(RouteStop)).one().technician
    token = sheet_token(technician.id)

    html = client.get(f"/sheets/{token}").get_data(as_text=True)
    (text,) = pdf_pages(client.get(f"/sheets/{token}.pdf").data)

    assert "Erika Mustermann" in html and "Erika Mustermann" in text
    assert 'class="materials"' not in html
    assert "Material" not in text
