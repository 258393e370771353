"""Background work (re-optimisation for now): a Protocol with an in-process queue.

Solver runs take seconds; a dispatcher's request should not wait for them, and a web
worker should not be tied up. `enqueue` takes a module-level function and plain
arguments (ids, numbers), so a queue backed by a broker (RQ on Redis) can run the same
call in another process. Without one, the jobs run here on one background thread inside
an app context, so the embedded default keeps working.

`BACKGROUND_QUEUE`: "thread" (default) or "inline" (runs at once, in the caller's
thread: for command-line tools).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from flask import Flask, current_app

from booking.extensions import db

logger = logging.getLogger(__name__)

_KEY = "kombitermin.background"


class JobQueue(Protocol):
    def enqueue(self, function: Callable[..., None], *args: Any) -> None:
        """Run `function(*args)` inside an app context, some time soon."""

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until every job enqueued so far is done; False on timeout."""


class ThreadQueue:
    """One worker thread per app: solver runs queue up instead of sharing two cores."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kombi-bg")
        self._pending: list[Future[None]] = []
        self._lock = threading.Lock()

    def enqueue(self, function: Callable[..., None], *args: Any) -> None:
        future = self._executor.submit(self._run, function, args)
        with self._lock:
            self._pending = [f for f in self._pending if not f.done()] + [future]

    def _run(self, function: Callable[..., None], args: tuple[Any, ...]) -> None:
        with self._app.app_context():
            try:
                function(*args)
            except Exception:
                # The job records its own failure where it can; this is the last resort,
                # so a crashed job shows in the log instead of vanishing with the thread.
                logger.exception("background job %s failed", function.__name__)
            finally:
                db.session.remove()

    def wait_idle(self, timeout_s: float) -> bool:
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            try:
                future.result(timeout=timeout_s)
            except TimeoutError:
                return False
        return True


class InlineQueue:
    """Runs each job at once in the caller's thread and app context."""

    def enqueue(self, function: Callable[..., None], *args: Any) -> None:
        function(*args)

    def wait_idle(self, timeout_s: float) -> bool:
        return True


def init_background(app: Flask) -> None:
    kind = app.config["BACKGROUND_QUEUE"]
    queue: JobQueue
    if kind == "thread":
        queue = ThreadQueue(app)
    elif kind == "inline":
        queue = InlineQueue()
    else:
        raise ValueError(f"BACKGROUND_QUEUE must be 'thread' or 'inline', got {kind!r}")
    app.extensions[_KEY] = queue


def job_queue() -> JobQueue:
    queue: JobQueue = current_app.extensions[_KEY]
    return queue
