"""`python -m booking.bench load` works end to end (a few seconds, small firm; not timed):
gunicorn on a throw-away PostgreSQL database, offers and bookings over HTTP, the check."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from booking.bench.load import main
from seeds.demo import DISTRICTS
from tests.conftest import POSTGRES_ENV

pytestmark = pytest.mark.postgres

SUMMARY = re.compile(
    r"offers_per_s=(?P<offers>[\d.]+) offers_p95_ms=\d+ bookings_per_s=(?P<bookings>[\d.]+) "
    r"bookings_p95_ms=\d+ errors=(?P<errors>\d+) invariant_violations=(?P<violations>\d+)"
)


def test_the_load_bench_drives_the_served_app_and_checks_every_promise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three technicians, two seeded days, two clients for 3 seconds, each keeping one
    booking and cancelling the one before: offers are answered, bookings cancelled,
    nothing fails, no promise is broken (a cancelled booking stored as cancelled), and
    the last line has exactly the issue's keys."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"the load bench needs PostgreSQL: set {POSTGRES_ENV}")
    # The demo districts' postcodes at their centres, for the served app's geocoder.
    rows = [
        f"DE\t{d.postcode}\t{d.city}\tSachsen-Anhalt\tST\t\t00\t\t15003\t{d.lat}\t{d.lon}\t4"
        for d in DISTRICTS
    ]
    (tmp_path / "DE.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    monkeypatch.setenv("GEODATA_DIR", str(tmp_path))

    code = main(
        [
            "--server", server, "--seconds", "3", "--warmup", "1", "--technicians", "3",
            "--seed-days", "2", "--workers", "2", "--threads", "2", "--clients", "2",
            "--booking-share", "0.5", "--keep-bookings", "1",
        ]
    )  # fmt: skip

    output = capsys.readouterr().out
    assert code == 0
    assert "rate limits: off for this bench" in output
    last = output.strip().splitlines()[-1]
    summary = SUMMARY.fullmatch(last)
    assert summary, last
    assert float(summary["offers"]) > 0
    cancellations = re.search(r"^cancellations: (\d+) answers", output, re.MULTILINE)
    assert cancellations and int(cancellations[1]) > 0, output
    assert summary["errors"] == "0", output
    assert summary["violations"] == "0", output
