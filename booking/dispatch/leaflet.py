"""Leaflet's script, stylesheet and images from the XStatic-Leaflet package: the map needs
no CDN, and the version is pinned by the Python dependencies."""

from __future__ import annotations

import xstatic.pkg.leaflet as leaflet
from flask import send_from_directory

from booking.dispatch import bp

LEAFLET_VERSION = leaflet.VERSION


@bp.get("/static/leaflet/<path:filename>")
def leaflet_file(filename: str):
    # send_from_directory refuses paths that leave the folder (404).
    return send_from_directory(leaflet.BASE_DIR, filename, max_age=7 * 24 * 3600)
