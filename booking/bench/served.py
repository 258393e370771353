"""The real app under gunicorn on a throw-away PostgreSQL database, for the load bench and
the concurrency tests: create the database, migrate and seed it, serve it, stop it.

Each part is a context manager that cleans up after itself, even when the body fails:

    with throwaway_database(server_url) as url:
        prepare_database(url, seed)
        with gunicorn("booking.wsgi:app", {"DATABASE_URL": url, ...}) as base_url:
            ...  # real HTTP against base_url
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from booking import create_app
from booking.extensions import db

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# gunicorn logs the address it bound to; binding port 0 lets the kernel pick a free one.
LISTENING = re.compile(r"Listening at: (http://[0-9.]+:\d+)")


class ServeError(RuntimeError):
    """gunicorn did not come up; the message carries the end of its log."""


@contextmanager
def throwaway_database(server_url: str, prefix: str = "kombitermin_served") -> Iterator[str]:
    """A fresh, empty database on the server `server_url` names; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def prepare_database(
    database_url: str, seed: Callable[[], object], config: Mapping[str, Any] | None = None
) -> None:
    """Apply every migration to the database, then run `seed` in an app context on it.

    `config`: more app settings for the seeding (e.g. the clock `NOW`, `GEODATA_DIR`)."""
    with tempfile.TemporaryDirectory(prefix="kombitermin-seed-") as instance:
        settings = {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "seeding-only"}
        app = create_app({**settings, **(config or {})}, instance_path=instance)
        with app.app_context():
            upgrade()
            seed()
            db.session.commit()
            db.session.remove()
            db.engine.dispose()


@contextmanager
def gunicorn(
    app_target: str,
    env: Mapping[str, str],
    *,
    workers: int = 4,
    threads: int = 1,
    timeout_s: float = 60.0,
    log_path: Path | None = None,
) -> Iterator[str]:
    """Serve `app_target` (e.g. "booking.wsgi:app") with gunicorn on a free local port and
    yield its base URL once it answers HTTP; stop it afterwards (SIGTERM, then SIGKILL).

    `env` is added to this process's environment (DATABASE_URL, SECRET_KEY, …). The log
    goes to `log_path` (a temporary file if none) and its end is in any ServeError."""
    own_log = log_path is None
    if log_path is None:
        handle, name = tempfile.mkstemp(prefix="gunicorn-", suffix=".log")
        os.close(handle)
        log_path = Path(name)
    command = [
        sys.executable, "-m", "gunicorn",
        "--bind", "127.0.0.1:0",
        "--workers", str(workers),
        "--threads", str(threads),
        # gthread with one thread is the sync worker plus keep-alive, which the clients use
        "--worker-class", "gthread",
        "--keep-alive", "5",
        "--timeout", "120",
        "--graceful-timeout", "5",
        "--error-logfile", "-",
        # The control socket's default path is one per user: servers started side by side
        # (tests, the bench) would take it from each other. Nothing here uses it.
        "--no-control-socket",
        app_target,
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base_url = _wait_until_answering(process, log_path, timeout_s)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if own_log:
            log_path.unlink(missing_ok=True)


def _wait_until_answering(
    process: subprocess.Popen[bytes], log_path: Path, timeout_s: float
) -> str:
    """The base URL once gunicorn listens and the app answers GET /api/v1/services."""
    deadline = time.monotonic() + timeout_s
    base_url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServeError(f"gunicorn exited with {process.returncode}:\n{_tail(log_path)}")
        if base_url is None:
            found = LISTENING.search(log_path.read_text(errors="replace"))
            base_url = found.group(1) if found else None
        if base_url is not None and _answers(base_url + "/api/v1/services"):
            return base_url
        time.sleep(0.1)
    raise ServeError(f"gunicorn did not answer within {timeout_s:.0f} s:\n{_tail(log_path)}")


def _answers(url: str) -> bool:
    """Whether the app answers HTTP at all (a database without a business answers 503)."""
    try:
        with urllib.request.urlopen(url, timeout=10):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def _tail(log_path: Path, lines: int = 40) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


class JsonClient:
    """One keep-alive HTTP connection that sends and reads JSON, as a widget would.

    Not thread-safe: one per client thread. A dropped connection is reopened for the next
    request; the failed request itself raises (the caller counts it)."""

    def __init__(self, base_url: str, timeout_s: float = 60.0) -> None:
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._timeout_s = timeout_s
        self._connection: http.client.HTTPConnection | None = None

    def __enter__(self) -> JsonClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def post(self, path: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        return self.request("POST", path, body)

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        return self.request("GET", path)

    def request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """(status, JSON body); a body that is not a JSON object reads as {}."""
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self._host, self._port, timeout=self._timeout_s
            )
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        try:
            self._connection.request(method, path, body=payload, headers=headers)
            response = self._connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        return response.status, data if isinstance(data, dict) else {}

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
