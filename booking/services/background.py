"""Background work (re-optimisation, nightly planning, emails, notices): a Protocol, an
in-process queue and RQ on Redis.

Solver runs take seconds and mail servers can be slow or down; a request should not wait
for them, and a web worker should not be tied up. `enqueue` takes a module-level function
and plain arguments (ids, numbers, strings: never ORM objects), so RQ can run the same
call in a worker process (booking.worker). Without Redis, the jobs run here on one
background thread inside an app context, so the embedded default keeps working.

`BACKGROUND_QUEUE`: "rq" (the default when `REDIS_URL` is set), "thread" (the default
otherwise) or "inline" (runs at once, in the caller's thread: tests, command-line tools).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

from flask import Flask, current_app, has_request_context, request
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.registry import StartedJobRegistry

from booking.extensions import db

logger = logging.getLogger(__name__)

_KEY = "kombitermin.background"
# A job that raises (or whose worker died) runs once more at once: the solver jobs are
# idempotent and write nothing until their last transaction.
RETRY_AT_ONCE: tuple[int, ...] = (0,)
# Mail servers come back after minutes, not milliseconds.
RETRY_DELIVERY: tuple[int, ...] = (30, 120, 600)


class JobQueue(Protocol):
    def enqueue(
        self,
        function: Callable[..., None],
        *args: Any,
        retry_after_s: Sequence[int] = RETRY_AT_ONCE,
    ) -> bool:
        """Run `function(*args)` inside an app context, some time soon.

        False when the job did not do its work and will not: it ran at once and raised,
        or it could not be queued. True when it ran at once and succeeded, or is queued.
        A queue that retries (RQ) tries again after each of `retry_after_s` seconds when
        the job raises or its worker dies.
        """

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until every job enqueued so far is done; False on timeout."""


class ThreadQueue:
    """One worker thread per app: solver runs queue up instead of sharing two cores."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kombi-bg")
        self._pending: list[Future[None]] = []
        self._lock = threading.Lock()

    def enqueue(
        self,
        function: Callable[..., None],
        *args: Any,
        retry_after_s: Sequence[int] = RETRY_AT_ONCE,
    ) -> bool:
        # No retries in-process: a failed job is logged (the embedded default stays simple).
        future = self._executor.submit(self._run, function, args)
        with self._lock:
            self._pending = [f for f in self._pending if not f.done()] + [future]
        return True

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

    def enqueue(
        self,
        function: Callable[..., None],
        *args: Any,
        retry_after_s: Sequence[int] = RETRY_AT_ONCE,
    ) -> bool:
        try:
            function(*args)
        except Exception:
            # The caller's change is committed already; a failed job must not undo it.
            logger.exception("job %s failed", function.__name__)
            db.session.rollback()
            return False
        return True

    def wait_idle(self, timeout_s: float) -> bool:
        return True


class RQQueue:
    """Jobs for RQ workers (`flask --app booking worker`), which run them in an app context
    of their own (booking.worker.run_job) and retry those that fail or are abandoned."""

    def __init__(self, redis_url: str, queue_name: str, job_timeout_s: int) -> None:
        # Short timeouts: a request whose change is committed must not hang on Redis.
        connection = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        self._queue = Queue(queue_name, connection=connection)
        self._job_timeout_s = job_timeout_s

    def enqueue(
        self,
        function: Callable[..., None],
        *args: Any,
        retry_after_s: Sequence[int] = RETRY_AT_ONCE,
    ) -> bool:
        from booking.worker import job_name, run_job

        try:
            self._queue.enqueue(
                run_job,
                job_name(function),
                list(args),
                job_timeout=self._job_timeout_s,
                retry=Retry(max=len(retry_after_s), interval=list(retry_after_s)),
                # The worker's log shows the description: the name, no customer's data.
                description=job_name(function),
            )
        except RedisError as error:
            logger.error("job %s not queued: %s", function.__name__, type(error).__name__)
            return False
        return True

    def wait_idle(self, timeout_s: float) -> bool:
        """Until no job waits or runs (retries scheduled for later do not count)."""
        started = StartedJobRegistry(queue=self._queue)
        deadline = time.monotonic() + timeout_s
        while self._queue.count or started.get_job_count(cleanup=False):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return True


def init_background(app: Flask) -> None:
    kind = app.config["BACKGROUND_QUEUE"]
    queue: JobQueue
    if kind == "thread":
        queue = ThreadQueue(app)
    elif kind == "inline":
        queue = InlineQueue()
    elif kind == "rq":
        if not app.config["REDIS_URL"]:
            raise ValueError("BACKGROUND_QUEUE=rq needs REDIS_URL, e.g. redis://127.0.0.1:6379/0")
        queue = RQQueue(
            app.config["REDIS_URL"], app.config["RQ_QUEUE"], int(app.config["RQ_JOB_TIMEOUT_S"])
        )
    else:
        raise ValueError(f"BACKGROUND_QUEUE must be 'thread', 'inline' or 'rq', got {kind!r}")
    app.extensions[_KEY] = queue


def job_queue() -> JobQueue:
    queue: JobQueue = current_app.extensions[_KEY]
    return queue


def request_base_url() -> str:
    """The address of the request that queues a job (empty outside requests), for
    `links_from` in the job."""
    return request.url_root if has_request_context() else ""


def links_from(base_url: str) -> AbstractContextManager[object]:
    """A context in which `url_for(..., _external=True)` builds links to `base_url`.

    Jobs that write links (the manage link in an email) run outside any request; the
    request that queued them passes its own address on (`request.url_root`).
    """
    if not base_url:
        return nullcontext()  # the app's SERVER_NAME, or the request we are in, builds them
    # The one way Flask offers to build URLs for a given host without serving a request.
    return current_app.test_request_context(base_url=base_url)
