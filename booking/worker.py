"""The RQ side of background work: what a worker process runs, and the worker itself.

`flask --app booking worker` starts one worker on `REDIS_URL`. It runs jobs in its own
process, one after the other, without forking a child per job: the app (its database
pool, travel-time cache, OR-Tools) is built once per process, and a killed worker takes
its job with it instead of leaving a child that might still write. (RQ's scheduler, the
one child it forks, only moves retries that are due into the queue.) Run several for
more throughput. Each job runs in an app context of its own (`run_job`); a job that raises is
retried as its queue said (booking.services.background), and so is one whose worker died:
RQ's registry cleanup hands it on once its heartbeat ran out.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job

from booking.extensions import db

_JOB_PACKAGE = "booking."
_app: Flask | None = None


def job_name(function: Callable[..., Any]) -> str:
    """`module:function`, what RQ stores instead of the function (and all it shows)."""
    if not function.__module__.startswith(_JOB_PACKAGE) or "." in function.__qualname__:
        raise ValueError(f"a job must be a module-level function of booking, got {function!r}")
    return f"{function.__module__}:{function.__qualname__}"


def _job_function(name: str) -> Callable[..., None]:
    module, _, function = name.partition(":")
    if not module.startswith(_JOB_PACKAGE) or not function:
        # Only our own functions run here, whatever else finds its way into Redis.
        raise ValueError(f"not a KombiTermin job: {name!r}")
    found: Callable[..., None] = getattr(importlib.import_module(module), function)
    return found


def _worker_app() -> Flask:
    """The app of this worker process: the one `flask worker` runs in, or one built from
    the environment once (for a plain `rq worker`)."""
    global _app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _app is None:
        from booking import create_app

        _app = create_app()
    return _app


def run_job(name: str, args: Sequence[Any]) -> None:
    """What RQ calls: the named job with its plain arguments, in a fresh app context.

    Raises what the job raises, so RQ records the failure and retries.
    """
    function = _job_function(name)
    with _worker_app().app_context():
        try:
            function(*args)
        except BaseException:
            db.session.rollback()
            raise
        finally:
            db.session.remove()


class KombiWorker(SimpleWorker):
    """RQ's SimpleWorker, with a dead worker's job handed on sooner.

    The registry entry of a running job expires `ABANDONED_AFTER_S` after the job's own
    timeout (RQ's default adds 60 s); then the next registry cleanup retries it. The
    solver jobs are idempotent (their plan or proposal is written in one transaction at
    the end, guarded by the day's version or the proposal's status), so one that was only
    slow and runs twice does no harm; for a mail, the worst case is a second copy.
    """

    ABANDONED_AFTER_S = 5

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        if job.timeout is None or job.timeout <= 0:
            return super().get_heartbeat_ttl(job, working_time)
        return int(job.timeout) + self.ABANDONED_AFTER_S


def work(redis_url: str, queue_name: str, burst: bool = False) -> None:
    """Run one worker on the app's queue until stopped (or, with `burst`, until empty)."""
    connection = Redis.from_url(redis_url)
    worker = KombiWorker(
        [Queue(queue_name, connection=connection)],
        connection=connection,
        # Clean the registries (retrying abandoned jobs) every minute, not every ten.
        maintenance_interval=60,
        worker_ttl=75,
        # The description is the job's name: no customer data in the worker's log.
        log_job_description=True,
    )
    # The scheduler enqueues retries that wait (emails: 30 s, 2 min, 10 min).
    worker.work(burst=burst, with_scheduler=True)
