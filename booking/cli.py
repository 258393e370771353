"""Command-line tasks: `flask --app booking <command>`."""

from __future__ import annotations

import os
from datetime import date

import click
from flask import Flask, current_app
from sqlalchemy import select

from booking.extensions import db
from booking.models import Business, User, UserRole
from booking.services.clock import now_utc
from booking.services.planning import replan_day
from booking.validation import (
    has_control_characters,
    is_valid_email,
    is_valid_phone,
    looks_like_code,
)
from optimizer.planner import PlanParameters
from optimizer.pricing import PricingPolicy


def register_cli(app: Flask) -> None:
    from booking.gdpr import register_gdpr_commands

    register_gdpr_commands(app)  # gdpr-export, gdpr-delete
    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Create the demo business with two weeks of routed appointments, if the database
        has no business yet (a second run keeps every booking)."""
        from booking.auth import DEMO_EMAIL, DEMO_PASSWORD
        from seeds.demo import seed_demo

        if db.session.scalar(select(Business.id).limit(1)) is None:
            demo = current_app.config["DEMO_MODE"]
            business = seed_demo(now_utc(), with_demo_login=demo)
            click.echo(f"Seeded demo business {business.name!r}.")
        else:
            click.echo("Database already has a business; nothing seeded.")
        if current_app.config["DEMO_MODE"]:
            port = os.environ.get("PORT", "5000")  # `make run PORT=…` passes it on
            click.echo(
                f"Demo dispatcher login: {DEMO_EMAIL} / {DEMO_PASSWORD} "
                f"at http://127.0.0.1:{port}/login"
            )

    @app.cli.command("create-business")
    @click.option("--slug", required=True, help="short name for the other commands, e.g. mueller")
    @click.option("--name", required=True)
    @click.option("--street", required=True, help="the workshop, where routes start by default")
    @click.option("--postcode", required=True)
    @click.option("--city", required=True)
    @click.option("--phone", required=True)
    @click.option("--email", required=True)
    @click.option("--host", default="", help="its booking site's host name, e.g. termine.x.de")
    def create_business_command(
        slug: str,
        name: str,
        street: str,
        postcode: str,
        city: str,
        phone: str,
        email: str,
        host: str,
    ) -> None:
        """Create a business with 2-hour windows from 08:00 to 16:00 and the standard prices;
        then give it an admin with create-user, who enters technicians and services."""
        from booking.services.addresses import AddressNotFound, GeocoderUnavailable, locate
        from booking.tenancy import normalise_host

        checks = {
            "--slug must be lower-case letters, digits, - or _": looks_like_code(slug),
            "--name must be plain text of at most 200 characters": 0 < len(name) <= 200
            and not has_control_characters(name),
            "--phone must be a phone number": is_valid_phone(phone),
            "--email must be an email address": is_valid_email(email),
            "--host must be a host name without https:// or path": not host
            or normalise_host(host) is not None,
        }
        for message, ok in checks.items():
            if not ok:
                raise click.ClickException(message)
        host_name = normalise_host(host) if host else None
        if db.session.scalar(select(Business.id).where(Business.slug == slug)) is not None:
            raise click.ClickException(f"a business with slug {slug!r} exists already")
        if host_name and db.session.scalar(select(Business.id).where(Business.host == host_name)):
            raise click.ClickException(f"another business has the host name {host_name!r}")
        try:
            workshop = locate(street, postcode, city)
        except AddressNotFound as error:
            raise click.ClickException("no place is known at this address") from error
        except GeocoderUnavailable as error:
            raise click.ClickException("the address server cannot be reached; try again") from error
        business = Business(
            slug=slug,
            host=host_name,
            name=name,
            address=f"{workshop.street}, {workshop.postcode} {workshop.city}",
            phone=phone,
            email=email.lower(),
            depot_lat=workshop.lat,
            depot_lon=workshop.lon,
            slot_windows=[[hour * 3600, (hour + 2) * 3600] for hour in (8, 10, 12, 14)],
            pricing=PricingPolicy().to_dict(),
        )
        db.session.add(business)
        db.session.commit()
        where = f"https://{host_name}/" if host_name else "the deployment's host name"
        click.echo(f"Created business {slug!r} ({name}); its booking site: {where}.")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--business", "slug", required=True, help="the business's slug")
    @click.option("--role", type=click.Choice([r.value for r in UserRole]), default="dispatcher")
    @click.password_option()
    def create_user_command(email: str, name: str, slug: str, role: str, password: str) -> None:
        """Create a dispatcher or admin login for a business."""
        business = db.session.scalar(select(Business).where(Business.slug == slug))
        if business is None:
            raise click.ClickException(f"no business with slug {slug!r}")
        if db.session.scalar(select(User.id).where(User.email == email.lower())) is not None:
            raise click.ClickException(f"a user with email {email!r} exists already")
        if len(password) < 8:
            raise click.ClickException("the password needs at least 8 characters")
        user = User(business_id=business.id, email=email.lower(), name=name, role=role)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        click.echo(f"Created {role} {email} for {business.name}.")

    @app.cli.command("check-plans")
    def check_plans_command() -> None:
        """Verify every business's promises against its routes; exit 1 if any is broken."""
        from booking.services.invariants import broken_promises

        problems = [
            f"{business.slug}: {problem}"
            for business in db.session.scalars(select(Business))
            for problem in broken_promises(business)
        ]
        for problem in problems:
            click.echo(problem)
        click.echo(f"{len(problems)} broken promises")
        if problems:
            raise SystemExit(1)

    @app.cli.command("plan-day")
    @click.option("--business", "slug", required=True, help="the business's slug")
    @click.option("--day", "day_text", required=True, help="YYYY-MM-DD")
    @click.option("--time-limit", default=5.0, show_default=True, help="solver seconds")
    def plan_day_command(slug: str, day_text: str, time_limit: float) -> None:
        """Re-optimise one day's routes; applied only if every promise holds and it helps."""
        business = db.session.scalar(select(Business).where(Business.slug == slug))
        if business is None:
            raise click.ClickException(f"no business with slug {slug!r}")
        try:
            day = date.fromisoformat(day_text)
        except ValueError as error:
            raise click.ClickException("--day must look like 2026-11-23") from error
        try:
            outcome = replan_day(business, day, PlanParameters(time_limit_s=time_limit))
        except Exception as error:  # replan_day wrote nothing or rolled back: the plan stays
            db.session.rollback()
            raise click.ClickException(
                f"the solver failed ({type(error).__name__}); the plan in force stays"
            ) from error
        click.echo(
            f"{outcome.reason}: travel {outcome.travel_before_s // 60} → "
            f"{outcome.travel_after_s // 60} min, {outcome.meters_before / 1000:.1f} → "
            f"{outcome.meters_after / 1000:.1f} km ({'applied' if outcome.applied else 'kept'})"
        )

    @app.cli.command("plan-nightly")
    @click.option(
        "--days", type=click.IntRange(min=1), default=None,
        help="how many days from tomorrow on  [default: each business's booking horizon]",
    )
    @click.option(
        "--time-limit", type=click.FloatRange(min=0.1, max=3600), default=5.0,
        show_default=True, help="solver seconds per day",
    )
    def plan_nightly_command(days: int | None, time_limit: float) -> None:
        """Re-optimise every business's next days (for cron, at night): with REDIS_URL the
        RQ workers do it; without, this command does and waits for it."""
        from booking.services.background import RQQueue, job_queue
        from booking.services.nightly import queue_nightly_planning

        queued = queue_nightly_planning(now_utc(), time_limit, days)
        queue = job_queue()
        if isinstance(queue, RQQueue):
            click.echo(f"{queued} days queued for the RQ workers.")
            return
        # In-process: the jobs die with this command unless it waits for them.
        if not queue.wait_idle(timeout_s=queued * (time_limit + 60) + 60):
            raise click.ClickException("nightly planning did not finish in time")
        click.echo(f"{queued} days planned (each applied only where it helps).")

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="stop when the queue is empty")
    def worker_command(burst: bool) -> None:
        """Run one RQ worker for the background jobs on REDIS_URL."""
        from booking.worker import work

        redis_url = current_app.config["REDIS_URL"]
        if not redis_url:
            raise click.ClickException("set REDIS_URL, e.g. redis://127.0.0.1:6379/0")
        work(redis_url, current_app.config["RQ_QUEUE"], burst=burst)
