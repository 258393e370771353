"""Benchmark harness: solve Solomon VRPTW instances with the planner and compare to BKS.

Example (all 56 instances, two seconds each, distance-only best-known values)::

    python -m optimizer.bench solomon --data ../shared/benchmarks/solomon \\
        --bks ../shared/benchmarks/solomon/bks_distance_only.csv --time-limit 2

    python -m optimizer.bench solomon --data DIR --bks DIR/bks.csv --time-limit 10 \\
        --instances C101,R101 --objective vehicles --workers 2 --json out.json

Each instance `DIR/<NAME>.txt` is turned into an integer problem (`solomon.to_problem`,
scale 1000), solved with `planner.solve`, and its routes are re-checked in floats by
`solomon.check_solution`, which also computes the reported distance. One aligned row per
instance (`name vehicles distance bks_vehicles bks_distance gap_pct seconds feasible`, plus
`veh_diff` for the vehicles objective), then the summary as the last line::

    instances=N solved=N feasible=N mean_gap_pct=X max_gap_pct=Y mean_seconds=Z

gap_pct = 100 × (distance − bks distance) / bks distance, averaged over the instances that
were solved (a solution placing every customer) and feasible; seconds is the wall time of
`solve`, averaged over all instances.

`--bounds FILE` (same columns) adds proven lower bounds on the distance: a `bound_gap`
column and, just before the summary, a `bounds:` line naming every reference that lies
below its bound (no solution can reach it) with the gap figures without those. For the
Solomon set, `opt_distance_trunc1.csv` is such a bound: its optima truncate every arc,
which shortens both the distance and the travel time, so every float-feasible plan is
feasible there and no shorter. The exit code is 0 whenever the run completes
(missed targets are a measurement, not an error) and 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from optimizer.planner import FIRST_SOLUTIONS, PlanParameters, solve
from optimizer.solomon import (
    OBJECTIVES,
    BestKnown,
    Objective,
    SolomonInstance,
    check_solution,
    read_bks,
    read_solomon,
    to_problem,
)

SCALE = 1000


@dataclass
class Row:
    name: str
    solved: bool = False
    feasible: bool = False
    vehicles: int | None = None
    distance: float | None = None
    bks_vehicles: int | None = None
    bks_distance: float | None = None
    gap_pct: float | None = None
    bound_distance: float | None = None
    bound_gap_pct: float | None = None
    vehicle_diff: int | None = None
    seconds: float = 0.0
    dropped: int = 0
    status: str = ""
    routes: list[list[int]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


@dataclass
class Summary:
    instances: int
    solved: int
    feasible: int
    mean_gap_pct: float | None
    max_gap_pct: float | None
    mean_seconds: float

    def line(self) -> str:
        return (
            f"instances={self.instances} solved={self.solved} feasible={self.feasible} "
            f"mean_gap_pct={_fixed(self.mean_gap_pct)} max_gap_pct={_fixed(self.max_gap_pct)} "
            f"mean_seconds={self.mean_seconds:.2f}"
        )


def _fixed(value: float | None, digits: int = 2, missing: str = "nan") -> str:
    """Fixed-point text; a value that rounds to zero prints without a minus sign."""
    return missing if value is None else f"{round(value, digits) + 0.0:.{digits}f}"


def run_instance(
    instance: SolomonInstance,
    best: BestKnown | None,
    parameters: PlanParameters,
    objective: Objective,
    bound: BestKnown | None = None,
) -> Row:
    """Solve one instance and re-check the answer in floats."""
    row = Row(instance.name)
    if best is not None:
        row.bks_vehicles, row.bks_distance = best.vehicles, best.distance
    if bound is not None:
        row.bound_distance = bound.distance
    problem = to_problem(instance, objective, SCALE)
    began = time.perf_counter()
    try:
        solution, status = solve(problem, parameters)
    except Exception as error:  # a measurement run goes on with the next instance
        solution, status = None, f"ERROR:{type(error).__name__}: {error}"
    row.seconds = time.perf_counter() - began
    row.status = status
    if solution is None:
        row.dropped = len(instance.customers)
        return row
    row.routes = [
        [instance.customers[stop].id for stop in route] for route in solution.routes if route
    ]
    row.dropped = len(solution.dropped)
    row.solved = row.dropped == 0
    report = check_solution(instance, row.routes)
    row.vehicles, row.distance = report.vehicles, report.distance
    row.feasible = row.solved and report.feasible
    row.violations = report.violations
    if best is not None:
        row.vehicle_diff = report.vehicles - best.vehicles
        if row.feasible:
            row.gap_pct = 100.0 * (report.distance - best.distance) / best.distance
    if bound is not None and row.feasible:
        row.bound_gap_pct = 100.0 * (report.distance - bound.distance) / bound.distance
    return row


def unreachable_references(rows: Sequence[Row]) -> list[Row]:
    """Rows whose best-known distance lies below the lower bound: no feasible solution
    can reach such a reference, so its gap measures the reference, not the solver."""
    return [
        r
        for r in rows
        if r.bks_distance is not None
        and r.bound_distance is not None
        and r.bks_distance < r.bound_distance
    ]


def bounds_line(rows: Sequence[Row]) -> str:
    """The lower-bound figures: the largest gap to the bound, the references that no
    solution can reach, and the gap statistics without those."""
    unreachable = unreachable_references(rows)
    names = {r.name for r in unreachable}
    bound_gaps = [r.bound_gap_pct for r in rows if r.bound_gap_pct is not None]
    rest = summarize([r for r in rows if r.name not in names])
    listed = ",".join(f"{r.name}({r.bks_distance:.2f}<{r.bound_distance:.2f})" for r in unreachable)
    return (
        f"bounds: max_bound_gap_pct={_fixed(max(bound_gaps) if bound_gaps else None)} "
        f"bks_below_bound={listed or '-'} "
        f"without_those: mean_gap_pct={_fixed(rest.mean_gap_pct)} "
        f"max_gap_pct={_fixed(rest.max_gap_pct)}"
    )


def summarize(rows: Sequence[Row]) -> Summary:
    gaps = [r.gap_pct for r in rows if r.solved and r.feasible and r.gap_pct is not None]
    return Summary(
        instances=len(rows),
        solved=sum(r.solved for r in rows),
        feasible=sum(r.feasible for r in rows),
        mean_gap_pct=sum(gaps) / len(gaps) if gaps else None,
        max_gap_pct=max(gaps) if gaps else None,
        mean_seconds=sum(r.seconds for r in rows) / len(rows) if rows else 0.0,
    )


class _Table:
    """Fixed-width rows, printed as each instance finishes."""

    def __init__(self, name_width: int, vehicles_objective: bool, bounds: bool) -> None:
        self.columns = [
            ("name", max(4, name_width), "<"),
            ("vehicles", 8, ">"),
            ("distance", 10, ">"),
            ("bks_vehicles", 12, ">"),
            ("bks_distance", 12, ">"),
            ("gap_pct", 8, ">"),
            ("seconds", 8, ">"),
            ("feasible", 8, "<"),
        ]
        if bounds:
            self.columns.append(("bound_gap", 9, ">"))
        if vehicles_objective:
            self.columns.append(("veh_diff", 8, ">"))

    def _format(self, cells: Sequence[str]) -> str:
        return "  ".join(
            f"{cell:{align}{width}}"
            for cell, (_, width, align) in zip(cells, self.columns, strict=True)
        ).rstrip()

    def header(self) -> str:
        return self._format([name for name, _, _ in self.columns])

    def row(self, row: Row) -> str:
        def number(value: float | None) -> str:
            return _fixed(value, missing="-")

        verdict = "yes" if row.feasible else ("no" if row.solved else "unsolved")
        cells = [
            row.name,
            "-" if row.vehicles is None else str(row.vehicles),
            number(row.distance),
            "-" if row.bks_vehicles is None else str(row.bks_vehicles),
            number(row.bks_distance),
            number(row.gap_pct),
            number(row.seconds),
            verdict,
        ]
        names = [name for name, _, _ in self.columns]
        if "bound_gap" in names:
            cells.append(number(row.bound_gap_pct))
        if "veh_diff" in names:
            cells.append("-" if row.vehicle_diff is None else f"{row.vehicle_diff:+d}")
        return self._format(cells)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and 0 < value <= 86_400):
        raise argparse.ArgumentTypeError(f"must lie in (0, 86400] seconds, got {text}")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 16:
        raise argparse.ArgumentTypeError(f"must lie in 1..16, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m optimizer.bench", description="Routing benchmarks of the planner."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    solomon = commands.add_parser(
        "solomon", help="Solomon VRPTW instances against best-known solutions"
    )
    solomon.add_argument("--data", required=True, type=Path, help="folder of <NAME>.txt files")
    solomon.add_argument(
        "--bks",
        type=Path,
        help="CSV instance,vehicles,distance[,source]; without it gaps are nan (synthetic data)",
    )
    solomon.add_argument(
        "--bounds",
        type=Path,
        help="CSV of proven lower bounds on the distance, same columns as --bks (e.g. "
        "opt_distance_trunc1.csv: optima with every arc truncated, which no float "
        "solution can beat); reports the gap to them and flags references below them",
    )
    solomon.add_argument(
        "--time-limit", required=True, type=_positive_seconds, help="seconds per instance"
    )
    solomon.add_argument(
        "--instances", help="comma-separated names, e.g. C101,R101 (default: every file)"
    )
    solomon.add_argument("--objective", choices=OBJECTIVES, default="distance")
    solomon.add_argument(
        "--workers", type=_workers, default=2, help="parallel searches (default: two cores)"
    )
    solomon.add_argument(
        "--metaheuristic",
        choices=("sisr", "gls", "greedy"),
        default="sisr",
        help="sisr (default): SISR ruin-and-recreate; gls: OR-Tools guided local search",
    )
    solomon.add_argument(
        "--first-solution",
        choices=sorted(FIRST_SOLUTIONS),
        default="parallel_cheapest_insertion",
        metavar="NAME",
        help="OR-Tools first-solution strategy in lower case",
    )
    solomon.add_argument("--json", type=Path, metavar="OUT", help="write rows and summary here")
    generate = commands.add_parser(
        "generate",
        help="write a synthetic random instance in Solomon format (for scale tests)",
    )
    generate.add_argument("--customers", type=int, required=True)
    generate.add_argument("--seed", type=int, default=1)
    generate.add_argument("--out", type=Path, required=True)
    return parser


def write_synthetic(customers: int, seed: int, out: Path) -> None:
    """A random R1-like instance in the Gehring-Homberger layout: customers uniform on a
    square growing with their number, capacity 200, a quarter as many vehicles as
    customers, 10-unit services and windows of 30-240 units that the depot can reach."""
    rng = random.Random(seed)
    side = 50 * math.sqrt(customers / 25)
    depot = (side / 2, side / 2)
    horizon = round(8 * side)
    lines = [
        f"SYN{customers}_{seed}",
        "",
        "VEHICLE",
        "NUMBER     CAPACITY",
        f"{max(1, customers // 4):>5d}{200:>12d}",
        "",
        "CUSTOMER",
        "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME",
        "",
    ]
    lines.append(f"{0:>5d}{depot[0]:>10.0f}{depot[1]:>10.0f}{0:>10d}{0:>10d}{horizon:>10d}{0:>10d}")
    for number in range(1, customers + 1):
        x, y = rng.uniform(0, side), rng.uniform(0, side)
        reach = math.ceil(math.dist(depot, (round(x), round(y))))
        width = rng.randint(30, 240)
        ready = rng.randint(reach, max(reach, horizon - reach - 10 - width))
        due = ready + width
        demand = rng.randint(1, 50)
        lines.append(
            f"{number:>5d}{x:>10.0f}{y:>10.0f}{demand:>10d}{ready:>10d}{due:>10d}{10:>10d}"
        )
    out.write_text("\r\n".join(lines) + "\r\n", encoding="ascii")


def _select(
    parser: argparse.ArgumentParser, data: Path, names: str | None
) -> list[tuple[str, Path]]:
    if not data.is_dir():
        parser.error(f"--data: {data} is not a directory")
    files = {p.stem.upper(): p for p in data.iterdir() if p.suffix.lower() == ".txt"}
    if not files:
        parser.error(f"--data: no instance files (*.txt) in {data}")
    if names is None:
        return sorted(files.items())
    wanted = [n.strip().upper() for n in names.split(",") if n.strip()]
    if not wanted:
        parser.error("--instances: no instance names given")
    unknown = [n for n in wanted if n not in files]
    if unknown:
        parser.error(f"--instances: unknown instance(s) {', '.join(unknown)} in {data}")
    return [(n, files[n]) for n in dict.fromkeys(wanted)]


def _lookup(table: dict[str, BestKnown], name: str, stem: str) -> BestKnown | None:
    return table.get(name) or table.get(stem) or table.get(name.upper())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "generate":
        if args.customers < 1 or not args.out.parent.is_dir():
            parser.error("generate: --customers must be positive and --out's folder must exist")
        write_synthetic(args.customers, args.seed, args.out)
        print(f"wrote {args.out} ({args.customers} customers, seed {args.seed})")
        return 0
    selected = _select(parser, args.data, args.instances)
    if args.json is not None and not args.json.parent.is_dir():
        parser.error(f"--json: the folder {args.json.parent} does not exist")
    bks: dict[str, BestKnown] = {}
    bounds: dict[str, BestKnown] = {}
    for option, path, table in (("--bks", args.bks, bks), ("--bounds", args.bounds, bounds)):
        if path is not None:
            try:
                table.update(read_bks(path))
            except (OSError, ValueError, UnicodeDecodeError) as error:
                parser.error(f"{option}: {error}")
    instances = []
    for _, path in selected:
        try:
            instances.append(read_solomon(path))
        except (OSError, ValueError) as error:
            parser.error(f"--data: {error}")
    parameters = PlanParameters(
        time_limit_s=args.time_limit,
        metaheuristic=args.metaheuristic,
        first_solution=args.first_solution,
        workers=args.workers,
    )

    if parameters.metaheuristic == "sisr":
        # Compile (or load from numba's cache) before any clock runs: a first call in a
        # fresh checkout compiles for seconds, which belongs to no instance's time.
        from optimizer.sisr import warm_up

        warm_up()
    table = _Table(max(len(i.name) for i in instances), args.objective == "vehicles", bool(bounds))
    print(
        f"# solomon objective={args.objective} time_limit={args.time_limit:g}s "
        f"metaheuristic={args.metaheuristic} first_solution={args.first_solution} "
        f"workers={args.workers} scale={SCALE} bks={args.bks.name if args.bks else '-'}"
    )
    print(table.header(), flush=True)
    rows = []
    for (stem, _), instance in zip(selected, instances, strict=True):
        row = run_instance(
            instance,
            _lookup(bks, instance.name, stem),
            parameters,
            args.objective,
            _lookup(bounds, instance.name, stem),
        )
        rows.append(row)
        print(table.row(row), flush=True)
    summary = summarize(rows)
    if args.objective == "vehicles":
        diffs = [r.vehicle_diff for r in rows if r.feasible and r.vehicle_diff is not None]
        print(
            f"vehicles: veh_diff_total={sum(diffs):+d} "
            f"at_bks={sum(d <= 0 for d in diffs)} above_bks={sum(d > 0 for d in diffs)}"
        )
    if bounds:
        print(bounds_line(rows))
    print(summary.line(), flush=True)
    if args.json is not None:
        document = {
            "benchmark": "solomon",
            "parameters": {
                "objective": args.objective,
                "time_limit_s": args.time_limit,
                "metaheuristic": args.metaheuristic,
                "first_solution": args.first_solution,
                "workers": args.workers,
                "scale": SCALE,
                "bks": None if args.bks is None else str(args.bks),
                "bounds": None if args.bounds is None else str(args.bounds),
                "data": str(args.data),
            },
            "rows": [asdict(r) for r in rows],
            "summary": asdict(summary),
        }
        args.json.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
