"""What the workspace's navigation (templates/dispatch/_nav.html) needs to know."""

from __future__ import annotations

from typing import Any

from flask import current_app

from booking.auth import is_admin
from booking.dispatch import bp


def has_endpoint(endpoint: str) -> bool:
    """Whether this installation has that page: parts of the workspace come and go."""
    return endpoint in current_app.view_functions


@bp.app_context_processor
def navigation_helpers() -> dict[str, Any]:
    return {
        "has_endpoint": has_endpoint,
        "user_is_admin": is_admin,
    }
