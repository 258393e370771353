"""Every technician's route sheet of a day in one PDF, to print in the morning."""

from __future__ import annotations

from flask_babel import get_locale

from booking.dispatch import bp, my_business, requested_day
from booking.routesheet.pdf import pdf_filename, pdf_response
from booking.services.boards import day_board
from booking.services.sheet_pdf import sheet_data, sheets_pdf


@bp.get("/sheets.pdf")
def sheets_pdf_file():
    business = my_business()
    day = requested_day(business)
    locale = str(get_locale())
    # Technicians off that day get no page, unless stops still sit in their route.
    sheets = [
        sheet_data(business, day, entry, locale)
        for entry in day_board(business, day)
        if entry.working or entry.stops
    ]
    return pdf_response(sheets_pdf(sheets), pdf_filename(day))
