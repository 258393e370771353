"""The offers benchmark runs end to end on a tiny firm and prints its fixed last line."""

from __future__ import annotations

import re

import pytest

from booking.bench.__main__ import main
from booking.config import config_from_env

LAST_LINE = re.compile(
    r"engine_p50_ms=(\d+\.\d\d) engine_p95_ms=(\d+\.\d\d) "
    r"endpoint_p50_ms=(\d+\.\d\d) endpoint_p95_ms=(\d+\.\d\d)"
)


@pytest.mark.skipif(
    not config_from_env("/tmp")["GEODATA_DIR"],
    reason="the endpoint half geocodes postcodes offline: needs ../shared/geodata or GEODATA_DIR",
)
def test_offers_bench_prints_the_percentiles_last(capsys):
    """Two technicians, 10 requests: the build line, the bound line and the summary."""
    assert main(["offers", "--requests", "10", "--technicians", "2"]) == 0
    lines = capsys.readouterr().out.rstrip("\n").split("\n")
    # 2 technicians x 8 jobs on each of the 10 working days of the 14-day horizon
    assert lines[0].startswith("# built 160 planned jobs for 2 technicians")
    bound = next(line for line in lines if line.startswith("# bound:"))
    # 160 jobs + 20 routes give 180 insertion positions; 8 windows per day
    assert "1440 insertion checks per request (180 positions x 8 windows)" in bound
    match = LAST_LINE.fullmatch(lines[-1])
    assert match, lines[-1]
    p50, p95, endpoint_p50, endpoint_p95 = map(float, match.groups())
    assert 0 < p50 <= p95 and 0 < endpoint_p50 <= endpoint_p95


def test_offers_bench_refuses_bad_options(capsys):
    """A request count of 0 exits 2 with the reason; so does an unknown command."""
    with pytest.raises(SystemExit) as exit_info:
        main(["offers", "--requests", "0"])
    assert exit_info.value.code == 2
    assert "--requests must lie in 1..100000" in capsys.readouterr().err
    assert main(["nonsense"]) == 2
    assert "usage: python -m booking.bench" in capsys.readouterr().err
