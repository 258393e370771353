"""Reading the mails a test sent: the outbox mailer writes one .eml file per message
(the `outbox` fixture in conftest.py points it at a fresh folder)."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path


def mails(folder: Path) -> list[EmailMessage]:
    """Every message in the outbox, oldest first (the file names sort by time)."""
    if not folder.exists():
        return []
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in sorted(folder.glob("*.eml"))
    ]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return body.get_content()
