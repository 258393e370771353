"""`python -m booking.bench load`: the app under gunicorn on PostgreSQL, driven for a while
by many clients at once, as a busy day of a firm with 20 technicians would drive it.

Set-up: a throw-away database on the PostgreSQL server (`--server`), migrated, seeded with
the demo firm scaled to `--technicians` (its days booked through offers and planned as
the demo is); then `booking.wsgi:app` under gunicorn (`--workers`, `--threads`) on a free
local port. Rate limits are off for the served app: the bench's clients all come from
127.0.0.1 and would otherwise share one small budget.

Load: `--clients` threads of this process, each with one keep-alive connection, loop
until `--seconds` have passed: ask for offers (`POST /api/v1/offers`) for a random
service at a random demo district; with probability `--booking-share`, book a random
offered slot of that answer (`POST /api/v1/bookings` with its quote). A client holding
more than `--keep-bookings` of its bookings cancels its oldest one
(`POST /api/v1/appointments/<token>/cancel`), as customers do: at 20 bookings a second
the firm's two weeks would be full within a minute, and every later offer would be an
empty answer that costs far less than a real one.

Counted: per request type the answers per second and p50/p95 latency; a booking answered
201 is confirmed, 409 ("just taken", another client was faster) is counted but is no
error; a cancellation answered 409 (its cut-off has passed) is no error either. Errors
are any other status (5xx included) and connection failures. Finally, with gunicorn
stopped, every promise is checked on the database (`broken_promises`) and every
confirmed booking must be there exactly once, confirmed, or cancelled if its
cancellation was answered: each breach is a violation.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from booking import create_app
from booking.bench.served import JsonClient, gunicorn, prepare_database, throwaway_database
from booking.extensions import db
from booking.models import Appointment, AppointmentStatus, Business
from booking.services.invariants import broken_promises
from seeds.demo import DISTRICTS, SERVICES, seed_demo

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONTACT = {"name": "Lasttest Kunde", "phone": "0391 555 0000", "consent": True}


@dataclass
class Tally:
    """What one request type saw: latencies of its answers, and statuses or failures."""

    latencies_ms: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.latencies_ms += other.latencies_ms
        self.outcomes += other.outcomes

    def percentile_ms(self, share: float) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else 0.0
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[
            round(share * 100) - 1
        ]


@dataclass
class Load:
    offers: Tally = field(default_factory=Tally)
    bookings: Tally = field(default_factory=Tally)
    cancellations: Tally = field(default_factory=Tally)
    tokens: list[str] = field(default_factory=list)  # of every confirmed booking
    cancelled: list[str] = field(default_factory=list)  # of every booking cancelled again
    errors: Counter[str] = field(default_factory=Counter)  # what went wrong, how often
    seconds: float = 0.0
    server_cpu_s: float = 0.0  # CPU time the gunicorn workers used meanwhile
    client_cpu_s: float = 0.0  # and this process, the clients, on the same cores

    def add(self, other: Load) -> None:
        self.offers.add(other.offers)
        self.bookings.add(other.bookings)
        self.cancellations.add(other.cancellations)
        self.tokens += other.tokens
        self.cancelled += other.cancelled
        self.errors += other.errors


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m booking.bench load", description=__doc__)
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to drive")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds driven uncounted")
    parser.add_argument("--technicians", type=int, default=20)
    parser.add_argument("--seed-days", type=int, default=14, help="days the demo books ahead")
    # Two cores: one process per core, and threads to overlap one request's database
    # round trips with another's computing. Measured here (20 s each): 2 × 4 answered
    # 8.0 offers/s where 4 × 2 answered 5.2 (fewer processes: fewer horizon caches to
    # rebuild after each booking, fewer cold starts).
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    # The targets' own mix: 20 bookings/s beside 100 offers/s is one booking per 5 offers.
    parser.add_argument("--booking-share", type=float, default=0.2)
    parser.add_argument(
        "--keep-bookings", type=int, default=10,
        help="bookings a client holds before it cancels its oldest (0: never cancels)",
    )  # fmt: skip
    parser.add_argument("--random-seed", type=int, default=1)
    return parser.parse_args(argv)


def drive(
    base_url: str, args: argparse.Namespace, seconds: float, held: list[deque[str]]
) -> Load:
    """Every client thread's load, added up; `seconds` is the wall time they ran. `held`:
    each client's bookings not cancelled yet, oldest first (kept from one drive to the
    next)."""
    loads = [Load() for _ in range(args.clients)]
    start = threading.Barrier(args.clients + 1)
    deadline: list[float] = []

    def client(n: int) -> None:
        rng = random.Random(args.random_seed * 1000 + n)
        with JsonClient(base_url) as http:
            start.wait()
            while time.monotonic() < deadline[0]:
                token = one_customer(http, rng, args.booking_share, loads[n], n)
                if token is not None:
                    held[n].append(token)
                while args.keep_bookings > 0 and len(held[n]) > args.keep_bookings:
                    cancel(http, held[n].popleft(), loads[n])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    deadline.append(began + seconds)
    start.wait()
    for thread in threads:
        thread.join()
    total = Load(seconds=time.monotonic() - began)
    for load in loads:
        total.add(load)
    return total


def one_customer(
    http: JsonClient, rng: random.Random, booking_share: float, load: Load, n: int
) -> str | None:
    """Offers for a random service and district; sometimes a booking of one of them: its
    manage token when it was confirmed."""
    service = rng.choices([row[0] for row in SERVICES], [row[-1] for row in SERVICES])[0]
    district = rng.choice(DISTRICTS)
    address = {
        "street": f"{rng.choice(district.streets)} {rng.randrange(1, 120)}",
        "postcode": district.postcode,
        "city": district.city,
    }
    body = timed(http, "/api/v1/offers", {"service": service, **address}, load.offers, load)
    if body is None or rng.random() >= booking_share:
        return None
    quotes = [slot["quote"] for slot in body.get("slots", []) if slot.get("offered")]
    if not quotes:
        load.bookings.outcomes["nothing offered"] += 1
        return None
    contact = {**CONTACT, "email": f"last{n}.{rng.randrange(10**6)}@example.de"}
    answer = timed(
        http, "/api/v1/bookings", {"quote": rng.choice(quotes), **contact}, load.bookings, load
    )
    if answer is None or "appointment" not in answer:
        return None
    token: str = answer["appointment"]["manage_token"]
    load.tokens.append(token)
    return token


def cancel(http: JsonClient, token: str, load: Load) -> None:
    answer = timed(http, f"/api/v1/appointments/{token}/cancel", {}, load.cancellations, load)
    if answer is not None and answer.get("appointment", {}).get("status") == "cancelled":
        load.cancelled.append(token)


EXPECTED = {"/api/v1/offers": {200}, "/api/v1/bookings": {201, 409}, "cancel": {200, 409}}


def timed(
    http: JsonClient, path: str, body: dict[str, Any], tally: Tally, load: Load
) -> dict[str, Any] | None:
    """POST and tally; the JSON answer if its status was an expected one, else None."""
    began = time.perf_counter()
    try:
        status, answer = http.post(path, body)
    except OSError as error:
        tally.outcomes["connection error"] += 1
        load.errors[f"{path}: {type(error).__name__}"] += 1
        return None
    tally.latencies_ms.append((time.perf_counter() - began) * 1000)
    tally.outcomes[str(status)] += 1
    kind = "cancel" if path.endswith("/cancel") else path
    if status not in EXPECTED[kind]:
        code = answer.get("error", {}).get("code", "") if isinstance(answer, dict) else ""
        load.errors[f"{kind}: {status} {code}".rstrip()] += 1
        return None
    return answer


def workers_cpu_s(log: Path) -> float:
    """CPU seconds used so far by the gunicorn workers the log names (Linux /proc): on a
    shared machine, what the app itself costs per answer, whatever else is running."""
    total = 0.0
    for pid in re.findall(r"Booting worker with pid: (\d+)", log.read_text(errors="replace")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone (restarted worker): its time is lost to the figure
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def violations(database_url: str, tokens: list[str], cancelled: list[str]) -> list[str]:
    """Broken promises of every business, and confirmed bookings (`tokens`) missing,
    doubled, or in the wrong state: cancelled if in `cancelled`, confirmed otherwise."""
    with tempfile.TemporaryDirectory(prefix="kombitermin-check-") as instance:
        # Reads only, signs nothing: any key will do, but never the refused development key.
        settings = {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": secrets.token_hex(32)}
        app = create_app(settings, instance_path=instance)
        with app.app_context():
            found: list[str] = []
            for business in db.session.scalars(select(Business)):
                found += broken_promises(business)
            rows = db.session.execute(
                select(Appointment.manage_token, Appointment.status, func.count())
                .where(Appointment.manage_token.in_(tokens))
                .group_by(Appointment.manage_token, Appointment.status)
            ).all()
            stored: dict[str, Counter[str]] = {}
            for token, status, n in rows:
                stored.setdefault(token, Counter())[status] = n
            gone = set(cancelled)
            for token in tokens:
                want = AppointmentStatus.CANCELLED if token in gone else AppointmentStatus.CONFIRMED
                if stored.get(token) != Counter({want: 1}):
                    found.append(f"booking {token[:8]}… not stored once as {want}")
            db.session.remove()
            db.engine.dispose()
    return found


def report(load: Load, found: list[str]) -> list[str]:
    seconds = max(load.seconds, 1e-9)
    confirmed = load.bookings.outcomes["201"]
    errors = sum(load.errors.values())
    lines = [f"drove {load.seconds:.1f} s"]
    tallies = (
        ("offers", load.offers), ("bookings", load.bookings),
        ("cancellations", load.cancellations),
    )  # fmt: skip
    for name, tally in tallies:
        lines.append(
            f"{name}: {len(tally.latencies_ms)} answers, "
            f"{len(tally.latencies_ms) / seconds:.1f}/s, p50 {tally.percentile_ms(0.5):.0f} ms, "
            f"p95 {tally.percentile_ms(0.95):.0f} ms, {dict(sorted(tally.outcomes.items()))}"
        )
    lines.append(
        f"bookings confirmed: {confirmed} ({confirmed / seconds:.1f}/s); "
        f"just taken (409): {load.bookings.outcomes['409']}"
    )
    answers = sum(len(t.latencies_ms) for t in (load.offers, load.bookings, load.cancellations))
    if answers and load.server_cpu_s:
        lines.append(
            f"server CPU: {load.server_cpu_s:.1f} s in {load.seconds:.1f} s on {os.cpu_count()} "
            f"cores, {load.server_cpu_s * 1000 / answers:.0f} ms per answer; "
            f"the clients used {load.client_cpu_s:.1f} s"
        )
    lines += [f"error: {what} × {times}" for what, times in sorted(load.errors.items())]
    lines += [f"violation: {problem}" for problem in found[:20]]
    lines.append(
        f"offers_per_s={len(load.offers.latencies_ms) / seconds:.1f} "
        f"offers_p95_ms={load.offers.percentile_ms(0.95):.0f} "
        f"bookings_per_s={confirmed / seconds:.1f} "
        f"bookings_p95_ms={load.bookings.percentile_ms(0.95):.0f} "
        f"errors={errors} invariant_violations={len(found)}"
    )
    return lines


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    now = datetime.now(UTC)
    print(
        f"{args.technicians} technicians, {args.seed_days} days seeded; gunicorn "
        f"{args.workers} workers × {args.threads} threads; {args.clients} clients for "
        f"{args.seconds:g} s, {args.booking_share:.0%} of offers followed by a booking",
        flush=True,
    )
    print("rate limits: off for this bench (RATELIMIT_ENABLED=0)", flush=True)
    with throwaway_database(args.server) as url:
        began = time.perf_counter()
        prepare_database(
            url,
            lambda: seed_demo(
                now, with_demo_login=False, days=args.seed_days, technicians=args.technicians
            ),
        )
        print(f"database migrated and seeded in {time.perf_counter() - began:.1f} s", flush=True)
        with tempfile.TemporaryDirectory(prefix="kombitermin-load-") as folder:
            env = {
                "DATABASE_URL": url,
                "SECRET_KEY": secrets.token_hex(32),
                "RATELIMIT_ENABLED": "0",
                "MAILER": "outbox",
                "MAIL_OUTBOX": str(Path(folder) / "outbox"),
                "GEOCODER": "postcode",
                # pgeocode's converted copy of GEODATA_DIR's postcodes, this run's own
                "PGEOCODE_DATA_DIR": str(Path(folder) / "pgeocode"),
            }
            log = Path(folder) / "gunicorn.log"
            with gunicorn(
                "booking.wsgi:app", env, workers=args.workers, threads=args.threads, log_path=log
            ) as base_url:
                print(f"serving at {base_url}", flush=True)
                held: list[deque[str]] = [deque() for _ in range(args.clients)]
                warm = Load()
                if args.warmup > 0:
                    # Each worker's first requests load the postcodes, compile and build
                    # its horizon cache: a start-up cost, not the steady state measured.
                    warm = drive(base_url, args, args.warmup, held)
                    print(
                        f"warm-up: {args.warmup:g} s not counted "
                        f"({len(warm.offers.latencies_ms)} offers, {len(warm.tokens)} bookings,"
                        f" {sum(warm.errors.values())} errors)",
                        flush=True,
                    )
                    for what, times in sorted(warm.errors.items()):
                        print(f"warm-up error: {what} × {times}", flush=True)
                cpu_before, client_before = workers_cpu_s(log), time.process_time()
                load = drive(base_url, args, args.seconds, held)
                load.server_cpu_s = workers_cpu_s(log) - cpu_before
                load.client_cpu_s = time.process_time() - client_before
        found = violations(url, warm.tokens + load.tokens, warm.cancelled + load.cancelled)
    for line in report(load, found):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
