"""Background jobs: the same functions run inline, on the in-process thread and on RQ
workers; the nightly planning; and a worker killed in the middle of a day's planning.

The RQ tests need a Redis server named by KOMBITERMIN_TEST_REDIS_URL (e.g.
redis://127.0.0.1:6379/15) and start real `flask --app booking worker` processes on the
test database. Each uses a queue of its own and deletes its keys afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import (
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from sqlalchemy import select

from booking.config import config_from_env
from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, PlanProposal, ProposalStatus
from booking.services.background import InlineQueue, RQQueue, job_queue
from booking.services.invariants import broken_promises
from booking.services.nightly import plan_day_job
from tests.booking.mailbox import mails, text_of
from tests.booking.pages import ADDRESS, CONTACT, book, quotes_on, slot_quotes
from tests.booking.test_dispatch import (
    criss_cross_tuesday,
    login,
    stops_and_version,
    tuesday_travel_s,
)
from tests.booking.test_emails import free_port
from tests.conftest import make_app
from tests.factories import TUESDAY, make_business, make_user

REDIS_ENV = "KOMBITERMIN_TEST_REDIS_URL"
ROOT = Path(__file__).resolve().parents[2]
ALL_DAY = [[8 * 3600, 16 * 3600 + 1800]]

# --- choosing the queue ------------------------------------------------------------------


def test_redis_url_sends_the_jobs_to_rq_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No REDIS_URL: the thread queue; REDIS_URL: RQ; BACKGROUND_QUEUE wins over both."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("BACKGROUND_QUEUE", raising=False)
    assert config_from_env(str(tmp_path))["BACKGROUND_QUEUE"] == "thread"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert config_from_env(str(tmp_path))["BACKGROUND_QUEUE"] == "rq"
    monkeypatch.setenv("BACKGROUND_QUEUE", "inline")
    assert config_from_env(str(tmp_path))["BACKGROUND_QUEUE"] == "inline"


def test_rq_without_a_redis_url_refuses_to_start(migrated: dict[str, object]) -> None:
    """BACKGROUND_QUEUE=rq with no REDIS_URL: the app does not start, and says why."""
    with pytest.raises(ValueError, match="BACKGROUND_QUEUE=rq needs REDIS_URL"):
        make_app({**migrated, "BACKGROUND_QUEUE": "rq", "REDIS_URL": ""})


def _works(marks: list[str]) -> None:
    marks.append("ran")


def _fails(marks: list[str]) -> None:
    marks.append("ran")
    raise RuntimeError("mail server down")


def test_the_inline_queue_runs_at_once_and_reports_a_failure_as_false(app: Flask) -> None:
    """A job that works: True after it ran; one that raises: False, and nothing raised to
    the caller, whose change is committed already."""
    queue = InlineQueue()
    marks: list[str] = []
    assert queue.enqueue(_works, marks) is True
    assert queue.enqueue(_fails, marks) is False
    assert marks == ["ran", "ran"]


def test_with_redis_unreachable_a_booking_stands_and_a_replan_fails_cleanly(
    app: Flask, migrated: dict[str, object]
) -> None:
    """REDIS_URL names a port where nothing listens: the booking is stored and its page
    says the email could not be sent (no 500); the dispatcher's re-optimisation of that
    day shows as failed at once instead of running for good."""
    business = make_business()
    make_user(business)
    db.session.commit()
    down = make_app(
        {**migrated, "BACKGROUND_QUEUE": "rq", "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    )
    client = down.test_client()
    response = book(client, slot_quotes(client, "tap")[0])
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.scalars(select(Appointment.status)).all() == [AppointmentStatus.CONFIRMED]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Wir konnten Ihnen gerade keine E-Mail schicken." in page
    assert login(client).status_code == 302
    response = client.post("/dispatch/replan", data={"day": TUESDAY.isoformat()})
    assert response.status_code == 302
    db.session.expire_all()
    proposal = db.session.scalars(select(PlanProposal)).one()
    assert (proposal.status, proposal.message) == (ProposalStatus.FAILED, "solver_failed")
    with down.app_context():
        db.engine.dispose()


# --- emails from the in-process thread ---------------------------------------------------

SITE = "https://termine.example.de"


def book_on_site(client: FlaskClient) -> None:
    """Book the first slot of a tap change at ADDRESS through the pages served at SITE."""
    page = client.get("/book/tap/slots", query_string=ADDRESS, base_url=SITE)
    quote = quotes_on(page.get_data(as_text=True))[0]
    response = client.post("/book/confirm", data={"quote": quote, **CONTACT}, base_url=SITE)
    assert response.status_code == 302, response.get_data(as_text=True)


def test_the_thread_queue_sends_the_booking_email_with_links_to_the_booking_site(
    app: Flask, migrated: dict[str, object], tmp_path: Path
) -> None:
    """Without Redis and without SERVER_NAME, the confirmation goes out from the background
    thread after the answer, and its manage link points to the site the customer booked on
    (https://termine.example.de), which the thread only knows from the queued job."""
    make_business()
    db.session.commit()
    outbox = tmp_path / "outbox"
    threaded = make_app(
        {
            **migrated,
            "BACKGROUND_QUEUE": "thread",
            "SERVER_NAME": None,
            "MAILER": "outbox",
            "MAIL_OUTBOX": str(outbox),
        }
    )
    client = threaded.test_client()
    book_on_site(client)
    with threaded.app_context():
        assert job_queue().wait_idle(timeout_s=30)
        db.engine.dispose()
    [confirmation] = mails(outbox)
    assert str(confirmation["Subject"]).startswith("Terminbestätigung")
    assert f"{SITE}/appointment/" in text_of(confirmation)


# --- nightly planning, in-process ---------------------------------------------------------


def test_plan_nightly_improves_the_zigzag_tuesday_and_skips_days_without_a_plan(
    app: Flask,
) -> None:
    """Monday night, the next three days: only Tuesday has a plan (the four zigzag taps in
    Anna's route), so one day is planned; it gets less driving, its version goes up by
    one, every promise still holds, and the other days get no plan row."""
    business = make_business(windows=ALL_DAY)
    criss_cross_tuesday(business)
    before_travel = tuesday_travel_s(business)
    _stops, versions_before = stops_and_version()
    result = app.test_cli_runner().invoke(
        args=["plan-nightly", "--days", "3", "--time-limit", "1"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 days planned"), result.output
    _stops, versions_after = stops_and_version()
    assert versions_after == [(TUESDAY, version + 1) for _day, version in versions_before]
    assert tuesday_travel_s(business) < before_travel
    assert broken_promises(business) == []


# --- RQ with real Redis and real worker processes ----------------------------------------


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"RQ tests need {REDIS_ENV}, e.g. redis://127.0.0.1:6379/15")
    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except RedisError as error:
        pytest.skip(f"no Redis at {REDIS_ENV}={url}: {type(error).__name__}")
    return url


@pytest.fixture
def rq_app(
    app: Flask, migrated: dict[str, object], redis_url: str, tmp_path: Path
) -> Iterator[Flask]:
    """An app whose jobs go to a queue of this test's own on the test Redis; afterwards the
    queue, its registries and its jobs are deleted (nothing else in that database)."""
    name = f"kombitermin-test-{uuid.uuid4().hex[:8]}"
    rq_app = make_app(
        {
            **migrated,
            "BACKGROUND_QUEUE": "rq",
            "REDIS_URL": redis_url,
            "RQ_QUEUE": name,
            "MAILER": "outbox",
            "MAIL_OUTBOX": str(tmp_path / "outbox"),
        }
    )
    yield rq_app
    connection = Redis.from_url(redis_url)
    queue = Queue(name, connection=connection)
    registries = [
        StartedJobRegistry(queue=queue),
        FinishedJobRegistry(queue=queue),
        FailedJobRegistry(queue=queue),
        ScheduledJobRegistry(queue=queue),
    ]
    for job_id in {i for r in registries for i in r.get_job_ids(cleanup=False)}:
        connection.delete(Job.key_for(job_id), f"rq:results:{job_id}", f"rq:executions:{job_id}")
    for registry in registries:
        connection.delete(registry.key)
    # Our workers' entries; their other keys (heartbeats, executions) expire by themselves.
    workers = f"rq:workers:{name}"
    for worker in connection.smembers(workers):
        connection.srem("rq:workers", worker)
        connection.delete(worker)
    connection.delete(workers, f"rq:scheduler-lock:{name}")
    queue.delete(delete_jobs=True)
    with rq_app.app_context():
        db.engine.dispose()


def start_worker(
    rq_app: Flask, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`flask --app booking worker` in a process of its own, on the test's database."""
    config = rq_app.config
    settings = {
        **os.environ,
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": config["REDIS_URL"],
        "RQ_QUEUE": config["RQ_QUEUE"],
        "BACKGROUND_QUEUE": "rq",
        "SECRET_KEY": "worker-test-secret",
        "GEOCODER": "postcode",
        "GEODATA_DIR": config["GEODATA_DIR"],
        "MAILER": "outbox",
        "MAIL_OUTBOX": config["MAIL_OUTBOX"],
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "booking", "worker", *extra],
        cwd=ROOT,
        env=settings,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        # A group of its own: the worker forks RQ's scheduler, and a killed worker service
        # (systemd, a container) loses both.
        start_new_session=True,
    )


def finish(worker: subprocess.Popen[bytes], timeout_s: float = 60) -> str:
    output, _ = worker.communicate(timeout=timeout_s)
    text = output.decode(errors="replace")
    assert worker.returncode == 0, text
    return text


def test_an_rq_worker_sends_the_booking_email(rq_app: Flask) -> None:
    """With Redis, the booking's answer does not wait for the mail: the outbox is empty
    until a worker (another process) has run the queued job; then it holds the
    confirmation, with the manage link to the site the customer booked on. The web
    process's `wait_idle` sees the job waiting before and done after."""
    make_business()
    db.session.commit()
    client = rq_app.test_client()
    book_on_site(client)
    outbox = Path(rq_app.config["MAIL_OUTBOX"])
    assert mails(outbox) == []
    with rq_app.app_context():
        assert job_queue().wait_idle(timeout_s=0.5) is False  # the mail job waits
        finish(start_worker(rq_app, "--burst"))
        assert job_queue().wait_idle(timeout_s=0.5) is True
    [confirmation] = mails(outbox)
    assert str(confirmation["Subject"]).startswith("Terminbestätigung")
    assert f"{SITE}/appointment/" in text_of(confirmation)


def test_a_mail_the_worker_cannot_send_is_kept_for_a_retry_and_the_booking_stands(
    rq_app: Flask,
) -> None:
    """The worker's mail server is down (SMTP to a closed port): the booking stays
    confirmed, no mail went out, and the job waits in RQ's schedule for its first retry
    (30 s later) with two more left."""
    make_business()
    db.session.commit()
    book_on_site(rq_app.test_client())
    port = free_port()  # nothing listens there
    finish(
        start_worker(
            rq_app,
            "--burst",
            env={"MAILER": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port)},
        )
    )
    db.session.expire_all()
    assert db.session.scalars(select(Appointment.status)).all() == [AppointmentStatus.CONFIRMED]
    connection = Redis.from_url(rq_app.config["REDIS_URL"])
    scheduled = ScheduledJobRegistry(rq_app.config["RQ_QUEUE"], connection=connection)
    [job_id] = scheduled.get_job_ids()
    job = Job.fetch(job_id, connection=connection)
    assert (job.get_status(), job.retries_left) == (JobStatus.SCHEDULED, 2)
    assert 20 < scheduled.get_expiration_time(job).timestamp() - time.time() <= 30


def wait_for(condition: Callable[[], object], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_worker_killed_mid_planning_leaves_the_plan_and_the_day_is_planned_again(
    rq_app: Flask,
) -> None:
    """The zigzag Tuesday's nightly job (3 s of solver time, 5 s job timeout) is running
    when its worker is killed (SIGKILL to its process group): the plan in force is exactly
    as before (same stops, same version). Once the job's registry entry expires (5 s + 5 s
    after it started), a new worker's registry cleanup retries it, and this time the better
    plan is applied: version + 1, less driving, every promise kept."""
    business = make_business(windows=ALL_DAY)
    criss_cross_tuesday(business)
    travel_before = tuesday_travel_s(business)
    stops_before, versions_before = stops_and_version()
    db.session.rollback()  # no read transaction of ours in the worker's way
    queue = RQQueue(rq_app.config["REDIS_URL"], rq_app.config["RQ_QUEUE"], job_timeout_s=5)
    queue.enqueue(plan_day_job, business.id, TUESDAY.isoformat(), 3.0)
    connection = Redis.from_url(rq_app.config["REDIS_URL"])
    rq_queue = Queue(rq_app.config["RQ_QUEUE"], connection=connection)
    started = StartedJobRegistry(queue=rq_queue)
    [job_id] = rq_queue.job_ids

    first = start_worker(rq_app)
    try:
        wait_for(lambda: started.get_job_ids(cleanup=False), 30, "the job to start")
        time.sleep(1.0)  # well inside the 3 s of solving
        assert Job.fetch(job_id, connection=connection).get_status() == JobStatus.STARTED
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its scheduler
        first.communicate(timeout=10)  # reaps it and closes its output pipe

    assert stops_and_version() == (stops_before, versions_before)
    db.session.rollback()
    # RQ hands the job on only once its entry has expired (no heartbeat comes any more).
    [(_entry, expires)] = connection.zrange(started.key, 0, -1, withscores=True)
    wait_for(lambda: time.time() > expires, 30, "the abandoned job's entry to expire")

    finish(start_worker(rq_app, "--burst"))
    job = Job.fetch(job_id, connection=connection)
    assert (job.get_status(), job.retries_left) == (JobStatus.FINISHED, 0)  # its one retry
    _stops, versions_after = stops_and_version()
    assert versions_after == [(TUESDAY, version + 1) for _day, version in versions_before]
    assert tuesday_travel_s(business) < travel_before
    assert broken_promises(business) == []
