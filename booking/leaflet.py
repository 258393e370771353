"""Leaflet's script, stylesheet and images from the XStatic-Leaflet package: the map needs
no CDN, and the version is pinned by the Python dependencies.

Public on purpose: these are the library's own files, the same for everyone and holding no
data, and the route sheet (opened by a signed link, without a login) draws its map with
them just like the dispatcher's day view does.
"""

from __future__ import annotations

import xstatic.pkg.leaflet as leaflet
from flask import Blueprint, send_from_directory

LEAFLET_VERSION = leaflet.VERSION

bp = Blueprint("leaflet", __name__)


@bp.get("/<path:filename>")
def file(filename: str):
    # send_from_directory refuses paths that leave the folder (404).
    return send_from_directory(leaflet.BASE_DIR, filename, max_age=7 * 24 * 3600)
