"""Tests for the benchmark CLI `python -m optimizer.bench solomon`, run in-process on the
hand-solved TINY instance of test_solomon (distance optimum 30.0 with 2 vehicles,
vehicles-first optimum 40.0 with 1 vehicle)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer import bench
from optimizer.bench import main
from optimizer.problem import Solution
from optimizer.solomon import read_solomon
from tests.optimizer.test_solomon import write_tiny

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(
    r"instances=(\d+) solved=(\d+) feasible=(\d+) mean_gap_pct=(\S+) max_gap_pct=(\S+) "
    r"mean_seconds=(\d+\.\d\d)"
)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "solomon"
    folder.mkdir()
    write_tiny(folder, "TINY")
    write_tiny(folder, "TINY2")  # the same customers, compared with a lower best-known value
    return folder


@pytest.fixture
def bks(tmp_path: Path) -> Path:
    path = tmp_path / "bks.csv"
    path.write_text(
        "instance,vehicles,distance,source\r\nTINY,2,30.00,by hand\r\nTINY2,2,25.00,made up\r\n"
    )
    return path


def run(data: Path, bks: Path, *extra: str, time_limit: str = "0.5") -> int:
    """The harness with OR-Tools search on one core, unless a test asks otherwise: these
    tests are about the harness, and SISR's one-off compile would blur their timings."""
    argv = ["solomon", "--data", str(data), "--bks", str(bks), "--time-limit", time_limit]
    defaults = ["--metaheuristic", "gls", "--workers", "1"]
    return bench.main([*argv, *defaults, *extra])


def summary_of(out: str) -> tuple[str, ...]:
    last = out.rstrip("\n").split("\n")[-1]
    match = SUMMARY.fullmatch(last)
    assert match, f"last line {last!r} is not the summary"
    return match.groups()


def rows_of(out: str) -> dict[str, list[str]]:
    lines = out.rstrip("\n").split("\n")
    header = next(i for i, line in enumerate(lines) if line.startswith("name"))
    assert lines[header].split() == [
        "name", "vehicles", "distance", "bks_vehicles", "bks_distance", "gap_pct", "seconds",
        "feasible", *(["bound_gap"] if "bound_gap" in lines[header] else []),
        *(["veh_diff"] if "veh_diff" in lines[header] else []),
    ]  # fmt: skip
    return {line.split()[0]: line.split() for line in lines[header + 1 :] if "=" not in line}


def test_bench_prints_one_row_per_instance_and_the_summary_last(data, bks, tmp_path, capsys):
    out_json = tmp_path / "out.json"
    assert run(data, bks, "--json", str(out_json)) == 0
    out = capsys.readouterr().out
    rows = rows_of(out)
    assert list(rows) == ["TINY", "TINY2"]
    # name vehicles distance bks_vehicles bks_distance gap_pct seconds feasible
    assert rows["TINY"][:6] == ["TINY", "2", "30.00", "2", "30.00", "0.00"]
    assert rows["TINY2"][:6] == ["TINY2", "2", "30.00", "2", "25.00", "20.00"]
    assert rows["TINY"][7] == rows["TINY2"][7] == "yes"
    # gaps 0 % and 20 %: mean 10.00, max 20.00; each solve takes about its 0.5 s
    *counts, seconds = summary_of(out)
    assert counts == ["2", "2", "2", "10.00", "20.00"]
    assert 0.3 <= float(seconds) < 5
    assert out.rstrip("\n").split("\n")[-1] == (
        f"instances=2 solved=2 feasible=2 mean_gap_pct=10.00 max_gap_pct=20.00 "
        f"mean_seconds={seconds}"
    )

    document = json.loads(out_json.read_text())
    assert [r["name"] for r in document["rows"]] == ["TINY", "TINY2"]
    first = document["rows"][0]
    assert sorted(first["routes"]) == [[1], [2, 3]]
    assert (first["solved"], first["feasible"], first["vehicles"]) == (True, True, 2)
    assert first["distance"] == 30.0 and first["gap_pct"] == 0.0
    assert document["summary"]["mean_gap_pct"] == pytest.approx(10.0)
    assert document["summary"]["max_gap_pct"] == pytest.approx(20.0)
    assert document["parameters"]["objective"] == "distance"


def test_bench_vehicles_objective_shows_the_vehicle_difference(data, bks, capsys):
    assert run(data, bks, "--instances", "tiny", "--objective", "vehicles") == 0
    out = capsys.readouterr().out
    row = rows_of(out)["TINY"]
    # 1 vehicle at 40.0 against the best-known 2 vehicles at 30.0: +33.33 %, one vehicle less
    assert row[:6] == ["TINY", "1", "40.00", "2", "30.00", "33.33"]
    assert row[7:] == ["yes", "-1"]
    assert summary_of(out)[:5] == ("1", "1", "1", "33.33", "33.33")


def test_bounds_give_the_gap_to_a_lower_bound_and_flag_references_below_it(
    data, bks, tmp_path, capsys
):
    """TINY2's made-up reference 25.00 lies below its bound 27.00: no solution can reach
    it, so the bounds line names it and gives the gaps without it."""
    bounds = tmp_path / "bounds.csv"
    bounds.write_text("instance,vehicles,distance\nTINY,2,28.00\nTINY2,2,27.00\n")
    assert run(data, bks, "--bounds", str(bounds)) == 0
    out = capsys.readouterr().out
    rows = rows_of(out)
    # 30.00 against the bounds 28.00 and 27.00: +7.14 % and +11.11 %
    assert rows["TINY"][8] == "7.14" and rows["TINY2"][8] == "11.11"
    lines = out.rstrip("\n").split("\n")
    assert lines[-2] == (
        "bounds: max_bound_gap_pct=11.11 bks_below_bound=TINY2(25.00<27.00) "
        "without_those: mean_gap_pct=0.00 max_gap_pct=0.00"
    )
    assert summary_of(out)[3:5] == ("10.00", "20.00")  # the summary itself is unchanged


def test_an_unreachable_customer_counts_as_not_solved(tmp_path, bks, capsys):
    """Customer 4 lies 5 from the depot but is due at 3: the solver must leave it out."""
    folder = tmp_path / "impossible"
    folder.mkdir()
    rows = [
        "0 10 10 0 0 60 0",
        "1 13 14 10 5 20 2",
        "2 7 6 20 0 5 2",
        "3 4 2 30 30 40 2",
        "4 13 6 1 0 3 0",
    ]
    write_tiny(folder, "TINY", rows)
    assert run(folder, bks) == 0
    out = capsys.readouterr().out
    assert rows_of(out)["TINY"][7] == "unsolved"
    assert summary_of(out)[:5] == ("1", "0", "0", "nan", "nan")


def test_a_route_failing_the_float_check_counts_as_not_feasible(data, bks, capsys, monkeypatch):
    """The solver's answer is never trusted: X→Y→Z reaches Y at 17 after its due date 5."""

    def bad_solve(problem, parameters):
        return Solution(routes=((0, 1, 2), (), ()), dropped=(), objective=1, status="FAKE"), "FAKE"

    monkeypatch.setattr(bench, "solve", bad_solve)
    assert run(data, bks, "--instances", "TINY") == 0
    out = capsys.readouterr().out
    row = rows_of(out)["TINY"]
    assert row[:6] == ["TINY", "1", "30.00", "2", "30.00", "-"] and row[7] == "no"
    assert summary_of(out)[:5] == ("1", "1", "0", "nan", "nan")


def test_no_solution_counts_as_not_solved(data, bks, capsys, monkeypatch):
    monkeypatch.setattr(bench, "solve", lambda problem, parameters: (None, "FAIL"))
    assert run(data, bks) == 0
    out = capsys.readouterr().out
    assert [r[1:3] + r[7:] for r in rows_of(out).values()] == [["-", "-", "unsolved"]] * 2
    assert summary_of(out)[:5] == ("2", "0", "0", "nan", "nan")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"data": "missing"}, "is not a directory"),
        ({"data": "empty"}, "no instance files"),
        ({"extra": ["--instances", "TINY,C101"]}, r"unknown instance\(s\) C101"),
        ({"bks": "missing.csv"}, "--bks: "),
        ({"bks": "bad.csv"}, "--bks: .*missing column"),
        ({"time_limit": "0"}, "must lie in \\(0, 86400\\]"),
        ({"time_limit": "soon"}, "not a number"),
        ({"extra": ["--objective", "time"]}, "invalid choice"),
        ({"extra": ["--first-solution", "magic"]}, "invalid choice"),
        ({"extra": ["--workers", "0"]}, "must lie in 1..16"),
        ({"extra": ["--json", "nowhere/out.json"]}, "does not exist"),
        ({"data": "broken"}, "--data: .*BROKEN.txt:11: expected 7 columns"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(tmp_path, data, bks, capsys, change, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.csv").write_text("name,count\nTINY,2\n")
    broken = tmp_path / "broken"
    broken.mkdir()
    write_tiny(broken, "BROKEN", ["0 10 10 0 0 60 0", "1 13 14 10 5 20"])
    folder = tmp_path / change["data"] if "data" in change else data
    bks_file = tmp_path / change["bks"] if "bks" in change else bks
    with pytest.raises(SystemExit) as caught:
        run(folder, bks_file, *change.get("extra", []), time_limit=change.get("time_limit", "1"))
    assert caught.value.code == 2
    captured = capsys.readouterr()
    assert re.search(message, captured.err), captured.err
    assert captured.out == ""


def test_module_entry_point_exits_2_on_a_missing_data_dir(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "optimizer.bench", "solomon", "--data", str(tmp_path / "no"),
         "--bks", str(tmp_path / "bks.csv"), "--time-limit", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "is not a directory" in result.stderr


def test_generate_writes_a_readable_synthetic_instance(tmp_path: Path) -> None:
    """`generate --customers 40` writes 40 customers and 10 vehicles of capacity 200 that
    read back in Solomon layout; the same seed gives the same file."""
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    assert main(["generate", "--customers", "40", "--seed", "7", "--out", str(first)]) == 0
    main(["generate", "--customers", "40", "--seed", "7", "--out", str(second)])
    instance = read_solomon(first)
    assert (len(instance.customers), instance.vehicles, instance.capacity) == (40, 10, 200)
    assert all(c.ready <= c.due for c in instance.customers)
    assert first.read_bytes() == second.read_bytes()
