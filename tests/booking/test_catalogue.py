"""The start page is the catalogue: the firm's intro, every active service with its short
description, duration and "from" price, and the firm's contact details."""

from __future__ import annotations

from flask.testing import FlaskClient
from flask_babel import refresh

from booking.extensions import db
from tests.factories import make_business, service


def test_the_start_page_shows_intro_services_and_contact(client: FlaskClient) -> None:
    """The German intro, each service with description, minutes and "ab" price (89 € tap:
    69 € at best, see test_api), and address, phone (a tel: link) and email of the firm."""
    business = make_business()
    business.intro_de = "Ihr Meisterbetrieb in Magdeburg."
    business.intro_en = "Your master plumbers in Magdeburg."
    service(business, "tap").description_de = "Neue Küchenarmatur montieren."
    service(business, "bigjob").active = False
    db.session.commit()

    html = client.get("/").get_data(as_text=True)

    for text in (
        "Ihr Meisterbetrieb in Magdeburg.",
        "Armatur tauschen",
        "Neue Küchenarmatur montieren.",
        "60 Min.",
        "ab 69,00\xa0€",
        "Gastherme warten",
        "120 Min.",
        "Sternstraße 12, 39104 Magdeburg",
        'href="tel:0391000111"',
        'href="mailto:info@test.example"',
        'href="/datenschutz"',
    ):
        assert text in html, text
    assert "Badsanierung" not in html  # inactive services are not offered


def test_the_start_page_speaks_english(client: FlaskClient) -> None:
    """With ?lang=en the English intro and prices are shown."""
    business = make_business()
    business.intro_en = "Your master plumbers in Magdeburg."
    db.session.commit()
    html = client.get("/?lang=en").get_data(as_text=True)
    assert "Your master plumbers in Magdeburg." in html
    assert "from €69.00" in html
    assert "Privacy notice" in html
    refresh()


def test_an_intro_with_markup_is_shown_as_text(client: FlaskClient) -> None:
    """The intro is plain text: markup in it is escaped."""
    business = make_business()
    business.intro_de = "<script>alert(1)</script>"
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_every_page_links_the_privacy_notice(client: FlaskClient) -> None:
    """The footer of the customer pages links /datenschutz."""
    make_business()
    for path in ("/", "/book/tap", "/datenschutz"):
        footer = client.get(path).get_data(as_text=True).split('<footer class="site">')[1]
        assert 'href="/datenschutz"' in footer, path


def test_without_an_intro_no_empty_paragraph_is_shown(client: FlaskClient) -> None:
    make_business()
    assert 'class="intro"' not in client.get("/").get_data(as_text=True)
