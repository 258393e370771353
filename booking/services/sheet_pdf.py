"""The route sheet on paper: an A4 PDF per technician and day, or a whole day in one file.

Built with fpdf2 (pure Python) from plain data (`SheetData`), so the layout can be tested
without a database and the page and the paper always come from the same board.

Fonts: no TTF font ships in any package we depend on (fpdf2, Pillow, fontTools carry
none), and adding one only for its font files is heavy. So the sheet uses the PDF core
font Helvetica in the Windows-1252 encoding, which covers German completely (ä ö ü ß),
the euro sign and the dashes. Anything outside it (a customer named "Łukasz Şahin") goes
through `printable`: letters lose their accents (Ş → S), a few letters without a
decomposition have a fixed stand-in (Ł → L), and whatever is left becomes "?". The sheet
never fails on a name, and the web page still shows the exact spelling.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from booking.models import Business
from booking.services.boards import TechnicianDay
from booking.services.clock import hhmm
from booking.templating import approximate_label, kilometres, long_date

ENCODING = "windows-1252"

# Letters that Unicode does not decompose into a base letter and an accent.
_STAND_INS = {
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "ĸ": "k",
    "Ŀ": "L", "ŀ": "l", "Ŧ": "T", "ŧ": "t", "Ŋ": "N", "ŋ": "n", "ſ": "s",
    "≈": "~", "→": "->", "←": "<-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
}  # fmt: skip


def printable(text: str) -> str:
    """`text` with every character the core font cannot show replaced by a close one."""
    try:
        text.encode(ENCODING)
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for char in text:
        if _encodable(char):
            out.append(char)
        elif char in _STAND_INS:
            out.append(_STAND_INS[char])
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            out.append(base if base and _encodable(base) else "?")
    return "".join(out)


def _encodable(text: str) -> bool:
    try:
        text.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class SheetStop:
    """One stop as the plumber needs it in the van."""

    number: int  # 1 = first of the day
    planned_start_s: int
    window_start_s: int
    window_end_s: int
    service: str
    duration_s: int
    customer: str
    phone: str
    street: str
    postcode: str
    city: str
    precision: str  # "house", "street" or "postcode"
    notes: str = ""
    access_hints: str = ""
    materials: str = ""  # what to take along for this job type

    def __post_init__(self) -> None:
        if self.number < 1:
            raise ValueError(f"stop numbers start at 1, got {self.number}")
        if not 0 <= self.window_start_s < self.window_end_s:
            raise ValueError(
                f"window must be 0 <= start < end seconds, got {self.window_start_s}-"
                f"{self.window_end_s}"
            )
        if self.duration_s <= 0:
            raise ValueError(f"duration must be positive seconds, got {self.duration_s}")

    @property
    def approximate(self) -> bool:
        return self.precision != "house"


@dataclass(frozen=True, slots=True)
class SheetData:
    """One technician's day: who, when, where from and to, and the stops in route order."""

    business: str
    business_phone: str
    technician: str
    day: date
    working: bool
    start_label: str
    end_label: str
    lunch_start_s: int | None
    return_s: int | None
    travel_meters: int
    travel_s: int
    stops: tuple[SheetStop, ...]

    def __post_init__(self) -> None:
        if [s.number for s in self.stops] != list(range(1, len(self.stops) + 1)):
            raise ValueError("stops must be numbered 1, 2, ... in route order")
        if self.travel_meters < 0 or self.travel_s < 0:
            raise ValueError("travel distance and time must not be negative")


def sheet_data(business: Business, day: date, entry: TechnicianDay, locale: str) -> SheetData:
    """The board entry as plain data, service names in `locale`."""
    stops = []
    for number, stop in enumerate(entry.stops, start=1):
        a = stop.appointment
        stops.append(
            SheetStop(
                number=number,
                planned_start_s=stop.planned_start_s,
                window_start_s=a.window_start_s,
                window_end_s=a.window_end_s,
                service=a.service.name(locale),
                duration_s=a.service.duration_s,
                customer=a.customer.name,
                phone=a.customer.phone,
                street=a.street,
                postcode=a.postcode,
                city=a.city,
                precision=a.geo_precision,
                notes=a.notes,
                access_hints=a.access_hints,
                materials=a.service.materials,
            )
        )
    tech = entry.technician
    return SheetData(
        business=business.name,
        business_phone=business.phone,
        technician=tech.name,
        day=day,
        working=entry.working,
        start_label=tech.start_label,
        end_label=tech.end_label,
        lunch_start_s=entry.lunch_start_s,
        return_s=entry.return_s,
        travel_meters=entry.travel_meters,
        travel_s=entry.travel_s,
        stops=tuple(stops),
    )


class _SheetPDF(FPDF):
    """A4 portrait with a footer naming the sheet and the page."""

    def __init__(self) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.core_fonts_encoding = ENCODING
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)
        self.footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.set_text_color(90, 90, 90)
        page = _("Page %(page)d of %(pages)s", page=self.page_no(), pages="{nb}")
        self.cell(0, 5, printable(self.footer_text), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, printable(page), align="R")
        self.set_text_color(0, 0, 0)


def sheets_pdf(sheets: Sequence[SheetData]) -> bytes:
    """One PDF with every sheet, each starting on a new page; an empty list gives one page
    saying there is nothing planned."""
    pdf = _SheetPDF()
    pdf.alias_nb_pages()
    if not sheets:
        pdf.add_page()
        _line(pdf, _("No jobs yet."), size=12)
    for sheet in sheets:
        pdf.add_page()  # writes the previous page's footer, so name the sheet after it
        pdf.footer_text = f"{sheet.business} · {sheet.technician} · {long_date(sheet.day)}"
        _header(pdf, sheet)
        if not sheet.stops:
            _line(pdf, _("No jobs yet."), size=12)
        for stop in sheet.stops:
            _stop_block(pdf, stop)
        _closing(pdf, sheet)
    return bytes(pdf.output())


def sheet_pdf(sheet: SheetData) -> bytes:
    return sheets_pdf([sheet])


def _line(pdf: FPDF, text: str, *, size: float = 10, style: str = "", height: float = 5) -> None:
    """A paragraph across the page, wrapped."""
    pdf.set_font("Helvetica", style=style, size=size)
    pdf.set_x(pdf.l_margin)
    pdf.multi_cell(0, height, printable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _header(pdf: FPDF, sheet: SheetData) -> None:
    _line(pdf, f"{sheet.business} · {sheet.business_phone}", size=9)
    _line(pdf, sheet.technician, size=18, style="B", height=9)
    _line(pdf, long_date(sheet.day), size=12, height=6)
    jobs = ngettext("%(num)d job", "%(num)d jobs", len(sheet.stops))
    figures = [jobs, f"{kilometres(sheet.travel_meters)} km"]
    if sheet.working:
        figures.append(_("%(minutes)d min driving", minutes=sheet.travel_s // 60))
    _line(pdf, " · ".join(figures), size=10)
    if not sheet.working:
        _line(pdf, _("Not working this day."), size=10, style="B")
    start = f"{_('Start')}: {sheet.start_label}"
    if sheet.lunch_start_s is not None:
        start += " · " + _("lunch %(time)s", time=hhmm(sheet.lunch_start_s))
    _line(pdf, start, size=10)
    pdf.ln(2)
    y = pdf.get_y()
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.ln(2)


def _stop_block(pdf: FPDF, stop: SheetStop) -> None:
    # Keep a stop on one page: start a new page when not even its first lines fit.
    if pdf.get_y() > pdf.h - pdf.b_margin - 40:
        pdf.add_page()
    window = _(
        "window %(start)s–%(end)s", start=hhmm(stop.window_start_s), end=hhmm(stop.window_end_s)
    )
    duration = _("%(minutes)d min", minutes=stop.duration_s // 60)
    when = f"{stop.number}.  {hhmm(stop.planned_start_s)}  ·  {window}"
    _line(pdf, when, size=14, style="B", height=7)
    _line(pdf, f"{stop.service} · {duration}", size=11, height=6)
    _line(pdf, f"{stop.customer} · {_('Phone')} {stop.phone}", size=11, style="B", height=6)
    address = f"{stop.street}, {stop.postcode} {stop.city}"
    if stop.approximate:
        address += f" ({approximate_label(stop.precision)})"
    _line(pdf, address, size=11, height=6)
    if stop.access_hints:
        _line(pdf, f"{_('Access')}: {stop.access_hints}", size=10)
    if stop.notes:
        _line(pdf, f"{_('Notes')}: {stop.notes}", size=10)
    if stop.materials:
        _line(pdf, f"{_('Materials')}: {stop.materials}", size=10)
    pdf.ln(1)
    y = pdf.get_y()
    pdf.set_draw_color(180, 180, 180)
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(2)


def _closing(pdf: FPDF, sheet: SheetData) -> None:
    end = f"{_('End')}: {sheet.end_label}"
    if sheet.return_s is not None:
        end += " · " + _("back %(time)s", time=hhmm(sheet.return_s))
    _line(pdf, end, size=10)
