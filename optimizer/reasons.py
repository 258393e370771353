"""Why a slot costs what it costs: one sentence in German and in English.

The offer engine states the facts (how far the nearest planned stop is, how many minutes
of detour the job adds, which window the customer leaves open and what that earns); the
sentence is built from those facts only, so it is true to how the price was computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from optimizer.pricing import WindowKind

Language = Literal["de", "en"]
LANGUAGES: tuple[Language, ...] = ("de", "en")
NEARBY_METERS = 3000  # a neighbouring stop this close is worth naming

_ROUTE = {
    "nearby": {
        "de": "Ein Monteur ist an diesem Tag schon {km} km von Ihnen entfernt",
        "en": "A technician is already {km} km from you that day",
    },
    "passing": {
        "de": "Ein Monteur kommt an diesem Tag in Ihrer Nähe vorbei: nur {minutes} Umweg",
        "en": "A technician passes near you that day: only {minutes} of detour",
    },
    "detour": {
        "de": "Passt mit {minutes} zusätzlicher Fahrt in eine Tour",
        "en": "Fits into a route with {minutes} of extra driving",
    },
    "alone": {
        "de": "Ein Monteur fährt nur für Sie los",
        "en": "A technician drives out just for you",
    },
}
_MINUTES = {"de": ("{} Minuten", "{} Minute"), "en": ("{} minutes", "{} minute")}
_FLEX = {
    "half_day": {"de": "den halben Tag", "en": "half the day"},
    "day": {"de": "den ganzen Tag", "en": "the whole day"},
    "week": {"de": "die Wahl des Tages", "en": "the choice of day"},
}
_FLEX_SENTENCE = {
    "de": "; weil Sie uns {span} lassen, sparen Sie zusätzlich {euros} €.",
    "en": "; because you leave us {span}, you save another €{euros}.",
}


@dataclass(frozen=True, slots=True)
class Reason:
    """The facts behind a price. `route`: nearby | passing | detour | alone."""

    route: str
    minutes: int
    nearest_meters: int | None
    kind: WindowKind = "slot"
    flexibility_cents: int = 0

    def text(self, language: str) -> str:
        """The sentence in German ("de") or English (anything else)."""
        lang: Language = "de" if language.startswith("de") else "en"
        km = "" if self.nearest_meters is None else _decimal(self.nearest_meters / 1000, lang)
        minutes = _MINUTES[lang][self.minutes == 1].format(self.minutes)
        sentence = _ROUTE[self.route][lang].format(km=km, minutes=minutes)
        if self.kind == "slot" or self.flexibility_cents <= 0:
            return sentence + "."
        euros = self.flexibility_cents // 100
        return sentence + _FLEX_SENTENCE[lang].format(span=_FLEX[self.kind][lang], euros=euros)


def _decimal(value: float, lang: Language) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "de" else text


def route_reason(
    detour_seconds: int, nearest_meters: int | None, combination_discount_cents: int
) -> str:
    """Which route fact explains the price: a discount names the nearby stop (or the short
    detour), no discount names the detour (or the trip made just for this job)."""
    if combination_discount_cents > 0:
        if nearest_meters is not None and nearest_meters <= NEARBY_METERS:
            return "nearby"
        return "passing"
    return "alone" if nearest_meters is None else "detour"
