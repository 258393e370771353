"""SISR: slack induction by string removals, a ruin-and-recreate metaheuristic.

After Christiaens & Vanden Berghe (2020), "Slack Induction by String Removals for Vehicle
Routing Problems", Transportation Science 54(2). Pure Python + numpy, with the hot loops
compiled by numba (`cache=True`: the first call in a fresh checkout compiles for a few
seconds, later processes load the machine code from `__pycache__`). No OR-Tools.

Scope (`applicable` says why a problem is outside it): identical vehicles (one depot that
is start and end, one shift, one capacity or none, the same fixed cost, no lunch, no
overtime), every stop mandatory with a single time window and no vehicle restriction or
pin. Objective: the problem's `cost` matrix summed over the arcs driven, plus the fixed
cost of every used vehicle. Feasibility uses the `time` matrix: service at a stop starts at
max(window start, arrival) and no later than the window end; a vehicle leaves the depot at
the shift start (waiting is free) and is back by the shift end; the load of a route stays
within the capacity.

One iteration (all in numba, on fixed-size arrays, routes as rows plus lengths):
- ruin: pick a seed stop; walk its neighbours (sorted by cost) and from up to k_s
  different routes remove a string of consecutive stops containing the neighbour, or, with
  probability `split_rate`, a longer string of which a middle part of m stops is kept
  (m grows while U(0,1) >= `split_depth`). Cardinalities follow the paper's equations 5-9
  with c̄ = `mean_removed` and L_max = `max_string`.
- recreate: sort the stops left out randomly / by demand (largest first) / far from the
  depot / close to the depot (weights 4/4/2/1) and insert each at its cheapest feasible
  position, every position being skipped ("blinked") with probability `blink_rate`; an
  unused vehicle is one more candidate (its round trip plus the fixed cost). Every route
  keeps the earliest service start (forward) and the latest feasible service start
  (backward) per position, so a position is checked in O(1).
- accept (simulated annealing) if the new cost < current cost − T·ln U. T cools
  exponentially from `t_start` to `t_end` over the time budget (or over `iterations`);
  both are multiples of the mean cost of an arc to one of the 10 nearest neighbours,
  which makes them independent of the unit of the cost matrix.

Start: `initial` if given, else every stop on its own route if the fleet allows, else
nothing (the first recreate is a greedy insertion). A stop that fits nowhere stays out.
While stops are out (a tight fleet), and with a fixed cost per vehicle for the first
`fleet_share` of the time, the paper's fleet minimisation runs instead of annealing: a
solution is accepted if it leaves out fewer stops or stops that were out less often so
far (absence counters); each time all stops are placed, the shortest route is emptied and
the search goes on with one route less, down to the bound sum(demand) / capacity. Only
complete solutions are returned; stops out cost a penalty above any plan's cost.

The time limit is checked from Python between chunks of iterations (~50 ms each); the
temperature follows the elapsed time. With `iterations` the run is deterministic for a
seed: the temperature follows the iteration count and the chunks have a fixed size.
`warm_up()` compiles (or loads) the core ahead of a timed run or a fork.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from optimizer.domain import TimeWindow
from optimizer.problem import RoutingProblem, Solution, Stop, Vehicle

logger = logging.getLogger(__name__)

STATUS = "SISR"
_CHUNK_SECONDS = 0.05  # wall time of one compiled chunk of iterations
_FIRST_CHUNK = 64
_FIXED_CHUNK = 2000  # iterations per chunk in deterministic mode
_SAFETY_S = 0.005  # kept free at the end of the time limit for building the result

# splitmix64 constants (a tiny, fast, seedable generator kept in a uint64[1] array)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@dataclass(frozen=True, slots=True)
class SisrParameters:
    """Search parameters (defaults from the paper, temperatures tuned for short runs).

    mean_removed: c̄, the average number of stops removed per iteration.
    max_string: L_max, the longest string removed from one route.
    split_rate: probability of the split-string removal (α).
    split_depth: β; the kept middle part grows while U(0,1) >= β.
    blink_rate: probability of skipping an insertion position (γ).
    t_start, t_end: start and end temperature, in mean neighbour-arc costs (see module).
    fleet_share: with a fixed cost per vehicle, the part of the time (or iterations)
        spent on fleet minimisation first.
    """

    mean_removed: float = 10.0
    max_string: float = 10.0
    split_rate: float = 0.5
    split_depth: float = 0.01
    blink_rate: float = 0.01
    t_start: float = 2.0
    t_end: float = 0.05
    fleet_share: float = 0.5

    def __post_init__(self) -> None:
        if not (self.mean_removed >= 1 and self.max_string >= 1):
            raise ValueError("mean_removed and max_string must be at least 1")
        for name in ("split_rate", "split_depth", "blink_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must lie in [0, 1]")
        if not 0 < self.t_end <= self.t_start:
            raise ValueError("temperatures need 0 < t_end <= t_start")
        if not 0 <= self.fleet_share <= 1:
            raise ValueError("fleet_share must lie in [0, 1]")


DEFAULT_PARAMETERS = SisrParameters()


def applicable(problem: RoutingProblem) -> str | None:
    """None if SISR can solve this problem, else the reason (e.g. 'stops have several
    windows')."""
    vehicles = problem.vehicles
    if not vehicles:
        return "no vehicles"
    first = vehicles[0]
    if any(v.start_place != first.start_place or v.end_place != v.start_place for v in vehicles):
        return "vehicles do not all start and end at the same place"
    if any(v.shift != first.shift for v in vehicles):
        return "vehicles have different shifts"
    if any(v.capacity != first.capacity for v in vehicles):
        return "vehicles have different capacities"
    if any(v.lunch is not None for v in vehicles):
        return "vehicles have lunch breaks"
    if any(v.overtime_max > 0 for v in vehicles):
        return "vehicles allow overtime"
    if any(v.fixed_cost != first.fixed_cost for v in vehicles):
        return "vehicles have different fixed costs"
    everyone = frozenset(range(len(vehicles)))
    stops = problem.stops
    if any(len(s.windows) != 1 for s in stops):
        return "stops have several windows"
    if any(s.vehicles is not None and s.vehicles != everyone for s in stops):
        return "stops are restricted to some vehicles"
    if any(s.pinned_vehicle is not None for s in stops):
        return "stops are pinned"
    if any(s.drop_penalty is not None for s in stops):
        return "stops are optional (drop penalty)"
    return None


# --- compiled core ---------------------------------------------------------------------------


@njit(cache=True)
def _uniform(rng):
    """U[0, 1) from splitmix64; the state is rng[0]."""
    z = rng[0] + _GOLDEN
    rng[0] = z
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return (z >> _S11) * _TO_UNIT


@njit(cache=True)
def _below(rng, k):
    """A whole number in [0, k), k >= 1."""
    value = int(_uniform(rng) * k)
    return value if value < k else k - 1


@njit(cache=True)
def _refresh(r, rn, rlen, rload, rcost, es, ls, wr, wp, dist, ts, ready, due, demand):
    """Recompute load, cost, schedule and positions of route r from its stop sequence."""
    length = rlen[r]
    rn[r, length + 1] = 0
    es[r, 0] = ready[0]
    load = 0
    cost = 0
    for q in range(1, length + 2):
        a = rn[r, q - 1]
        b = rn[r, q]
        t = es[r, q - 1] + ts[a, b]
        es[r, q] = t if t > ready[b] else ready[b]
        load += demand[b]
        cost += dist[a, b]
        wr[b] = r
        wp[b] = q
    ls[r, length + 1] = due[0]
    for q in range(length, -1, -1):
        a = rn[r, q]
        t = ls[r, q + 1] - ts[a, rn[r, q + 1]]
        ls[r, q] = t if t < due[a] else due[a]
    rload[r] = load
    rcost[r] = cost


@njit(cache=True)
def _feasible(r, rn, rlen, es, due):
    late = 0
    for q in range(1, rlen[r] + 2):
        late += es[r, q] > due[rn[r, q]]
    return late == 0


@njit(cache=True)
def _backup(r, st, bk):
    """Save route r before its first change in this iteration."""
    rn, rlen, rload, rcost, es, ls = st[0], st[1], st[2], st[3], st[4], st[5]
    bk_rn, bk_len, bk_load, bk_cost, bk_es, bk_ls, slot, touched, counts = bk
    if slot[r] >= 0:
        return
    k = counts[0]
    counts[0] = k + 1
    touched[k] = r
    slot[r] = k
    length = rlen[r]
    bk_rn[k, : length + 2] = rn[r, : length + 2]
    bk_es[k, : length + 2] = es[r, : length + 2]
    bk_ls[k, : length + 2] = ls[r, : length + 2]
    bk_len[k] = length
    bk_load[k] = rload[r]
    bk_cost[k] = rcost[r]


@njit(cache=True)
def _insert(r, p, c, st, dist, ts, ready, due, demand):
    """Insert stop c at position p of route r and update the route's schedule."""
    rn, rlen, rload, rcost, es, ls, wr, wp = st[0], st[1], st[2], st[3], st[4], st[5], st[6], st[7]
    length = rlen[r]
    a = rn[r, p - 1]
    b = rn[r, p]
    for q in range(length + 1, p - 1, -1):
        node = rn[r, q]
        rn[r, q + 1] = node
        ls[r, q + 1] = ls[r, q]
        wp[node] = q + 1
    rn[r, p] = c
    wr[c] = r
    wp[c] = p
    length += 1
    rlen[r] = length
    rload[r] += demand[c]
    rcost[r] += dist[a, c] + dist[c, b] - dist[a, b]
    for q in range(p, length + 2):
        prev = rn[r, q - 1]
        node = rn[r, q]
        t = es[r, q - 1] + ts[prev, node]
        es[r, q] = t if t > ready[node] else ready[node]
    for q in range(p, -1, -1):
        node = rn[r, q]
        t = ls[r, q + 1] - ts[node, rn[r, q + 1]]
        ls[r, q] = t if t < due[node] else due[node]


@njit(cache=True)
def _remove_range(r, start, stop, keep_from, keep_to, st, absent, counts, pb):
    """Remove the stops at positions [start, stop) of route r except [keep_from, keep_to)."""
    rn, rlen, wr = st[0], st[1], st[6]
    length = rlen[r]
    w = 1
    for q in range(1, length + 1):
        node = rn[r, q]
        if start <= q < stop and not (keep_from <= q < keep_to):
            wr[node] = -1
            absent[counts[1]] = node
            counts[1] += 1
        else:
            rn[r, w] = node
            w += 1
    rlen[r] = w - 1
    dist, ts, ready, due, demand = pb[0], pb[1], pb[2], pb[3], pb[4]
    _refresh(r, rn, rlen, st[2], st[3], st[4], st[5], wr, st[7], dist, ts, ready, due, demand)


@njit(cache=True)
def _ruin(st, bk, pb, absent, counts, mark, stamp, fpar, rng, n):
    """Adjacent string removal (paper, section 5.1)."""
    rlen, wr, wp = st[1], st[6], st[7]
    neigh = pb[5]
    n_routes = rlen.shape[0]
    used = 0
    for r in range(n_routes):
        if rlen[r] > 0:
            used += 1
    if used == 0:
        return
    placed = n - counts[1]
    mean_removed, max_string, split_rate, split_depth = fpar[0], fpar[1], fpar[2], fpar[3]
    avg = placed / used
    ls_max = max_string if max_string < avg else avg
    ks_max = 4.0 * mean_removed / (1.0 + ls_max) - 1.0
    ks = int(1.0 + _uniform(rng) * ks_max)
    if ks < 1:
        ks = 1
    seed = 1 + _below(rng, n)
    ruined = 0
    for i in range(n):
        if ruined >= ks:
            break
        c = neigh[seed, i]
        r = wr[c]
        if r < 0 or mark[r] == stamp:
            continue
        mark[r] = stamp
        ruined += 1
        length = rlen[r]
        lt_max = ls_max if ls_max < length else float(length)
        lt = int(1.0 + _uniform(rng) * lt_max)
        if lt > length:
            lt = length
        pos = wp[c]
        _backup(r, st, bk)
        if lt == length or _uniform(rng) >= split_rate:
            lo = pos - lt + 1 if pos - lt + 1 > 1 else 1
            hi = pos if pos < length - lt + 1 else length - lt + 1
            start = lo + _below(rng, hi - lo + 1)
            _remove_range(r, start, start + lt, start, start, st, absent, counts, pb)
        else:
            m = 1
            while lt + m < length and _uniform(rng) >= split_depth:
                m += 1
            total = lt + m
            lo = pos - total + 1 if pos - total + 1 > 1 else 1
            hi = pos if pos < length - total + 1 else length - total + 1
            start = lo + _below(rng, hi - lo + 1)
            keep = start + _below(rng, lt + 1)
            _remove_range(r, start, start + total, keep, keep + m, st, absent, counts, pb)


@njit(cache=True)
def _recreate(st, bk, pb, ipar, absent, counts, order, keys, fpar, rng):
    """Greedy insertion with blinks (paper, section 5.2). Stops that fit nowhere stay out."""
    rn, rlen, rload, es, ls = st[0], st[1], st[2], st[4], st[5]
    dist, ts, ready, due, demand = pb[0], pb[1], pb[2], pb[3], pb[4]
    capacity, fixed, max_used = ipar[0], ipar[1], ipar[3]
    blink = fpar[4]
    n_routes = rlen.shape[0]
    k = counts[1]
    if k == 0:
        return
    used = 0
    for r in range(n_routes):
        if rlen[r] > 0:
            used += 1
    for i in range(k):
        order[i] = absent[i]
    for i in range(k - 1, 0, -1):
        j = _below(rng, i + 1)
        order[i], order[j] = order[j], order[i]
    u = _uniform(rng) * 11.0
    if u >= 4.0:
        for i in range(k):
            c = order[i]
            if u < 8.0:
                keys[i] = -demand[c]
            elif u < 10.0:
                keys[i] = -dist[0, c]
            else:
                keys[i] = dist[0, c]
        for i in range(1, k):  # stable insertion sort by key
            c = order[i]
            key = keys[i]
            j = i - 1
            while j >= 0 and keys[j] > key:
                order[j + 1] = order[j]
                keys[j + 1] = keys[j]
                j -= 1
            order[j + 1] = c
            keys[j + 1] = key
    counts[1] = 0
    big = np.iinfo(np.int64).max
    for i in range(k):
        c = order[i]
        best = big
        best_r = -1
        best_p = -1
        tried_empty = False
        dc = demand[c]
        ready_c = ready[c]
        due_c = due[c]
        for r in range(n_routes):
            length = rlen[r]
            if rload[r] + dc > capacity:
                continue
            if length == 0:
                if tried_empty or used >= max_used:
                    continue
                tried_empty = True
                delta = dist[0, c] + dist[c, 0] + fixed
                if delta >= best or (blink > 0.0 and _uniform(rng) < blink):
                    continue
                arrival = es[r, 0] + ts[0, c]
                if arrival > due_c:
                    continue
                start = arrival if arrival > ready_c else ready_c
                if start + ts[c, 0] > ls[r, 1]:
                    continue
                best = delta
                best_r = r
                best_p = 1
                continue
            for p in range(1, length + 2):
                before = es[r, p - 1]
                if before > due_c:
                    break
                a = rn[r, p - 1]
                b = rn[r, p]
                delta = dist[a, c] + dist[c, b] - dist[a, b]
                if delta >= best:
                    continue
                arrival = before + ts[a, c]
                if arrival > due_c:
                    continue
                start = arrival if arrival > ready_c else ready_c
                if start + ts[c, b] > ls[r, p]:
                    continue
                if blink > 0.0 and _uniform(rng) < blink:
                    continue
                best = delta
                best_r = r
                best_p = p
        if best_r < 0:
            absent[counts[1]] = c
            counts[1] += 1
            continue
        if rlen[best_r] == 0:
            used += 1
        _backup(best_r, st, bk)
        _insert(best_r, best_p, c, st, dist, ts, ready, due, demand)


@njit(cache=True)
def _save_best(st, best_rn, best_len):
    rn, rlen = st[0], st[1]
    for r in range(rlen.shape[0]):
        length = rlen[r]
        best_len[r] = length
        best_rn[r, : length + 2] = rn[r, : length + 2]


@njit(cache=True)
def _install(nodes, offsets, st, bk, pb, ipar, scal, best_rn, best_len):
    """Set the routes to nodes[offsets[k]:offsets[k + 1]] (stops as nodes 1..n): a route
    that breaks the capacity or a window is dropped; its stops and all missing ones are left
    out. Sets the objective and the best solution; keeps the iteration counters."""
    rn, rlen, rload, rcost, es, ls, wr, wp, absent = st
    dist, ts, ready, due, demand = pb[0], pb[1], pb[2], pb[3], pb[4]
    capacity, fixed, penalty = ipar[0], ipar[1], ipar[2]
    counts = bk[8]
    n = wr.shape[0] - 1
    n_routes = rlen.shape[0]
    wr[:] = -1
    rlen[:] = 0
    r = 0
    for k in range(offsets.shape[0] - 1):
        length = offsets[k + 1] - offsets[k]
        rlen[r] = length
        rn[r, 1 : length + 1] = nodes[offsets[k] : offsets[k + 1]]
        _refresh(r, rn, rlen, rload, rcost, es, ls, wr, wp, dist, ts, ready, due, demand)
        if rload[r] <= capacity and _feasible(r, rn, rlen, es, due):
            r += 1
            continue
        for q in range(1, length + 1):
            wr[rn[r, q]] = -1
        rlen[r] = 0
    for e in range(r, n_routes):
        rlen[e] = 0
        _refresh(e, rn, rlen, rload, rcost, es, ls, wr, wp, dist, ts, ready, due, demand)
    wr[0] = -1
    out = 0
    for c in range(1, n + 1):
        if wr[c] < 0:
            absent[out] = c
            out += 1
    counts[0] = 0
    counts[1] = out
    objective = out * penalty
    for e in range(n_routes):
        if rlen[e] > 0:
            objective += rcost[e] + fixed
    scal[0] = objective
    scal[1] = objective
    scal[2] = out
    scal[3] = out
    _save_best((rn, rlen, rload, rcost, es, ls, wr, wp), best_rn, best_len)


@njit(cache=True)
def _scratch(n, n_routes):
    """Work arrays of one run: insertion order and its sort keys, the backup of the stops
    left out, and the per-route stamps of the ruin step."""
    order = np.empty(n, dtype=np.int64)
    keys = np.empty(n, dtype=np.int64)
    bk_absent = np.empty(n, dtype=np.int64)
    mark = np.full(n_routes, -1, dtype=np.int64)
    return order, keys, bk_absent, mark


@njit(cache=True)
def _accepted(routes, scal, counts, best_rn, best_len):
    """Book an accepted iteration (scal[0] already holds its objective); keep it if best."""
    scal[2] = counts[1]
    scal[5] += 1
    if scal[0] < scal[1]:
        scal[1] = scal[0]
        scal[3] = counts[1]
        scal[6] += 1
        _save_best(routes, best_rn, best_len)


@njit(cache=True)
def _untouch(slot, touched, counts):
    """Forget the backups of the iteration's touched routes."""
    for i in range(counts[0]):
        slot[touched[i]] = -1
    counts[0] = 0


@njit(cache=True)
def _run(pb, st, bk, best_rn, best_len, scal, ipar, fpar, rng, n_iter, temp_from, temp_to):
    """n_iter SISR iterations; the temperature moves geometrically from temp_from to temp_to.

    scal: [current objective, best objective, stops left out now, ... in the best,
    iterations done, accepted, improved the best]. Objective = cost + fixed cost per used
    vehicle + penalty per stop left out."""
    rn, rlen, rload, rcost, es, ls, wr, wp, absent = st
    slot, touched, counts = bk[6], bk[7], bk[8]
    fixed, penalty = ipar[1], ipar[2]
    n = wr.shape[0] - 1
    n_routes = rlen.shape[0]
    order, keys, bk_absent, mark = _scratch(n, n_routes)
    routes = (rn, rlen, rload, rcost, es, ls, wr, wp)
    ratio = temp_to / temp_from if temp_from > 0.0 else 1.0
    for it in range(n_iter):
        temp = temp_from * ratio ** (it / n_iter)
        stamp = scal[4]
        n_abs = counts[1]
        for i in range(n_abs):
            bk_absent[i] = absent[i]
        counts[0] = 0
        _ruin(routes, bk, pb, absent, counts, mark, stamp, fpar, rng, n)
        _recreate(routes, bk, pb, ipar, absent, counts, order, keys, fpar, rng)
        delta = _delta(st, bk, n_abs, fixed, penalty)
        current = scal[0]
        scal[4] += 1
        threshold = current - temp * math.log(1.0 - _uniform(rng))
        if current + delta < threshold:
            scal[0] = current + delta
            _accepted(routes, scal, counts, best_rn, best_len)
        else:
            _restore(st, bk, bk_absent, n_abs)
        _untouch(slot, touched, counts)


@njit(cache=True)
def _restore(st, bk, bk_absent, n_abs):
    """Undo the iteration: restore the touched routes and the stops left out."""
    rn, rlen, rload, rcost, es, ls, wr, wp, absent = st
    bk_rn, bk_len, bk_load, bk_cost, bk_es, bk_ls, _slot, touched, counts = bk
    for i in range(counts[1]):
        wr[absent[i]] = -1
    for i in range(n_abs):
        c = bk_absent[i]
        absent[i] = c
        wr[c] = -1
    counts[1] = n_abs
    for i in range(counts[0]):
        r = touched[i]
        length = bk_len[i]
        rlen[r] = length
        rload[r] = bk_load[i]
        rcost[r] = bk_cost[i]
        rn[r, : length + 2] = bk_rn[i, : length + 2]
        es[r, : length + 2] = bk_es[i, : length + 2]
        ls[r, : length + 2] = bk_ls[i, : length + 2]
        for q in range(1, length + 1):
            c = rn[r, q]
            wr[c] = r
            wp[c] = q


@njit(cache=True)
def _delta(st, bk, n_abs, fixed, penalty):
    """Change of the objective by the iteration, from the touched routes."""
    rlen, rcost = st[1], st[3]
    bk_len, bk_cost, touched, counts = bk[1], bk[3], bk[7], bk[8]
    delta = (counts[1] - n_abs) * penalty
    for i in range(counts[0]):
        r = touched[i]
        delta += rcost[r] - bk_cost[i]
        delta += fixed * (int(rlen[r] > 0) - int(bk_len[i] > 0))
    return delta


@njit(cache=True)
def _run_fleet(pb, st, bk, best_rn, best_len, scal, ipar, fpar, rng, n_iter, absence):
    """n_iter iterations of fleet minimisation (paper, section 6): at most ipar[3] routes;
    a solution is accepted if it leaves out fewer stops, or stops that were left out less
    often so far (absence counters). Whenever all stops are placed, the solution is saved
    as the best and the shortest route is emptied, so the next goal is one route less."""
    rn, rlen, rload, rcost, es, ls, wr, wp, absent = st
    slot, touched, counts = bk[6], bk[7], bk[8]
    fixed, penalty = ipar[1], ipar[2]
    n = wr.shape[0] - 1
    n_routes = rlen.shape[0]
    order, keys, bk_absent, mark = _scratch(n, n_routes)
    routes = (rn, rlen, rload, rcost, es, ls, wr, wp)
    for _ in range(n_iter):
        if counts[1] == 0:
            used = 0
            shortest = 0
            fewest = n + 1
            for r in range(n_routes):
                if rlen[r] > 0:
                    used += 1
                    if rlen[r] < fewest:
                        fewest = rlen[r]
                        shortest = r
            if used <= ipar[4]:  # the lower bound: nothing left to minimise
                return True
            ipar[3] = used - 1
            scal[0] -= rcost[shortest] + fixed - rlen[shortest] * penalty
            counts[0] = 0
            whole = rlen[shortest] + 1
            _remove_range(shortest, 1, whole, whole, whole, routes, absent, counts, pb)
            slot[shortest] = -1
        stamp = scal[4]
        n_abs = counts[1]
        before = 0
        for i in range(n_abs):
            bk_absent[i] = absent[i]
            before += absence[absent[i]]
        counts[0] = 0
        _ruin(routes, bk, pb, absent, counts, mark, stamp, fpar, rng, n)
        _recreate(routes, bk, pb, ipar, absent, counts, order, keys, fpar, rng)
        after = 0
        for i in range(counts[1]):
            after += absence[absent[i]]
        scal[4] += 1
        if counts[1] < n_abs or after < before:
            scal[0] += _delta(st, bk, n_abs, fixed, penalty)
            _accepted(routes, scal, counts, best_rn, best_len)
        else:
            _restore(st, bk, bk_absent, n_abs)
        _untouch(slot, touched, counts)
        for i in range(counts[1]):
            absence[absent[i]] += 1
    return False


# --- Python driver ---------------------------------------------------------------------------


@dataclass
class _Model:
    """The problem as arrays: node 0 is the depot, node i is stop i-1."""

    dist: np.ndarray
    ts: np.ndarray  # service at the origin + travel time
    ready: np.ndarray
    due: np.ndarray
    demand: np.ndarray
    neigh: np.ndarray
    capacity: int
    fixed: int
    penalty: int
    n_routes: int
    min_routes: int  # a lower bound from the demand
    arc_scale: float


def _model(problem: RoutingProblem) -> _Model:
    stops = problem.stops
    vehicle = problem.vehicles[0]
    n = len(stops)
    places = np.array([vehicle.start_place, *(s.place for s in stops)], dtype=np.int64)
    time_matrix = np.asarray(problem.time, dtype=np.int64)
    cost_matrix = np.asarray(problem.cost, dtype=np.int64)
    dist = np.ascontiguousarray(cost_matrix[np.ix_(places, places)])
    travel = time_matrix[np.ix_(places, places)]
    service = np.array([0, *(s.service for s in stops)], dtype=np.int64)
    ts = np.ascontiguousarray(service[:, None] + travel)
    ready = np.array([vehicle.shift.start, *(s.windows[0].start for s in stops)], np.int64)
    due = np.array([vehicle.shift.end, *(s.windows[0].end for s in stops)], np.int64)
    demand = np.array([0, *(s.demand for s in stops)], dtype=np.int64)
    total_demand = int(demand.sum())
    capacity = total_demand if vehicle.capacity is None else min(vehicle.capacity, total_demand)
    # neighbours of each stop by cost, the stop itself first (row 0: of the depot)
    keyed = dist[:, 1:].astype(np.float64)
    keyed[np.arange(1, n + 1), np.arange(n)] = -1.0
    neigh = (np.argsort(keyed, axis=1, kind="stable") + 1).astype(np.int64)
    k = min(10, n - 1)
    if k > 0:
        near = np.take_along_axis(dist[1:, 1:], neigh[1:, 1 : k + 1] - 1, axis=1)
        arc_scale = float(near.mean())
    else:
        arc_scale = float(dist[0, 1:].mean()) if n else 1.0
    arc_scale = max(arc_scale, 1.0)
    n_routes = min(len(problem.vehicles), n)
    fixed = vehicle.fixed_cost
    longest = int(dist.max(initial=0))
    penalty = (n_routes + 1) * fixed + 2 * (n + n_routes + 1) * longest + 1
    min_routes = max(1, -(-total_demand // capacity)) if capacity > 0 else 1
    return _Model(
        dist, ts, ready, due, demand, neigh, capacity, fixed, penalty, n_routes, min_routes,
        arc_scale,
    )  # fmt: skip


def _hopeless(model: _Model) -> bool:
    """True if some stop can never be served: its demand exceeds the capacity, or even the
    shortest path from the depot reaches it after its window (or cannot get back in time)."""
    demand, ready, due, ts = model.demand, model.ready, model.due, model.ts
    if np.any(demand > model.capacity):
        return True
    out = _shortest(ts, from_depot=True)
    back = _shortest(ts, from_depot=False)
    start = np.maximum(ready, ready[0] + out)
    return bool(np.any(start[1:] > due[1:]) or np.any(start[1:] + back[1:] > due[0]))


def _shortest(weights: np.ndarray, *, from_depot: bool) -> np.ndarray:
    """Dijkstra on the dense matrix: from node 0 to every node, or from every node to 0."""
    w = weights if from_depot else weights.T
    size = w.shape[0]
    best = np.full(size, np.iinfo(np.int64).max // 4, dtype=np.int64)
    best[0] = 0
    done = np.zeros(size, dtype=bool)
    for _ in range(size):
        candidates = np.where(done, np.iinfo(np.int64).max, best)
        u = int(np.argmin(candidates))
        if done[u]:
            break
        done[u] = True
        np.minimum(best, best[u] + w[u], out=best)
    return best


class _State:
    """Working arrays of the compiled core."""

    def __init__(self, model: _Model, seed: int, parameters: SisrParameters) -> None:
        n, n_routes = len(model.ready) - 1, model.n_routes
        width = n + 2
        self.rn = np.zeros((n_routes, width), dtype=np.int64)
        self.rlen = np.zeros(n_routes, dtype=np.int64)
        self.rload = np.zeros(n_routes, dtype=np.int64)
        self.rcost = np.zeros(n_routes, dtype=np.int64)
        self.es = np.zeros((n_routes, width), dtype=np.int64)
        self.ls = np.zeros((n_routes, width), dtype=np.int64)
        self.wr = np.full(n + 1, -1, dtype=np.int64)
        self.wp = np.zeros(n + 1, dtype=np.int64)
        self.absent = np.zeros(n, dtype=np.int64)
        self.bk = (
            np.zeros((n_routes, width), dtype=np.int64),
            np.zeros(n_routes, dtype=np.int64),
            np.zeros(n_routes, dtype=np.int64),
            np.zeros(n_routes, dtype=np.int64),
            np.zeros((n_routes, width), dtype=np.int64),
            np.zeros((n_routes, width), dtype=np.int64),
            np.full(n_routes, -1, dtype=np.int64),
            np.zeros(n_routes, dtype=np.int64),
            np.zeros(2, dtype=np.int64),  # [routes touched, stops left out]
        )
        self.best_rn = np.zeros((n_routes, width), dtype=np.int64)
        self.best_len = np.zeros(n_routes, dtype=np.int64)
        self.scal = np.zeros(7, dtype=np.int64)
        self.rng = np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64)
        self.pb = (model.dist, model.ts, model.ready, model.due, model.demand, model.neigh)
        # capacity, fixed cost, penalty per stop left out, most routes to use, fewest possible
        self.ipar = np.array(
            [model.capacity, model.fixed, model.penalty, model.n_routes, model.min_routes],
            dtype=np.int64,
        )
        self.absence = np.zeros(n + 1, dtype=np.int64)
        self.model = model
        self.fpar = np.array(
            [
                parameters.mean_removed,
                parameters.max_string,
                parameters.split_rate,
                parameters.split_depth,
                parameters.blink_rate,
            ],
            dtype=np.float64,
        )

    @property
    def routes(self) -> tuple:
        return (
            self.rn,
            self.rlen,
            self.rload,
            self.rcost,
            self.es,
            self.ls,
            self.wr,
            self.wp,
            self.absent,
        )

    def load(self, initial: Sequence[Sequence[int]] | None, n: int) -> None:
        """Start from `initial` (stops of infeasible routes and missing stops are left out
        and inserted by the first iteration), else every stop on its own route if the
        fleet allows, else nothing placed (the first iteration is a greedy insertion).
        Keeps the iteration counters."""
        if initial is not None:
            sequences = [list(route) for route in initial if len(route) > 0]
        elif self.model.n_routes >= n:
            sequences = [[stop] for stop in range(n)]
        else:
            sequences = []
        nodes = np.array([stop + 1 for route in sequences for stop in route], dtype=np.int64)
        offsets = np.cumsum([0, *(len(route) for route in sequences)], dtype=np.int64)
        _install(nodes, offsets, self.routes, self.bk, self.pb, self.ipar, self.scal,
                 self.best_rn, self.best_len)  # fmt: skip

    def run(self, iterations: int, temp_from: float, temp_to: float) -> None:
        _run(self.pb, self.routes, self.bk, self.best_rn, self.best_len, self.scal, self.ipar,
             self.fpar, self.rng, iterations, temp_from, temp_to)  # fmt: skip

    def minimise_fleet(self, iterations: int, _begin: float, _end: float) -> bool:
        return bool(
            _run_fleet(self.pb, self.routes, self.bk, self.best_rn, self.best_len, self.scal,
                       self.ipar, self.fpar, self.rng, iterations, self.absence)
        )  # fmt: skip

    def restart_from_best(self) -> None:
        """Continue from the best solution with the whole fleet (after fleet minimisation)."""
        self.load(self.best_routes(), len(self.wr) - 1)
        self.ipar[3] = self.model.n_routes

    def best_routes(self) -> list[list[int]]:
        return [
            [int(node) - 1 for node in self.best_rn[r, 1 : self.best_len[r] + 1]]
            for r in range(len(self.best_len))
            if self.best_len[r] > 0
        ]


def warm_up() -> float:
    """Compile the core (or load it from numba's cache) by solving a tiny problem; the
    seconds it took. Call it once before forking workers so that they share the code."""
    began = time.perf_counter()
    window = TimeWindow(0, 100)
    stops = tuple(Stop(str(i), i, 1, (window,), demand=1) for i in (1, 2, 3))
    vehicles = tuple(Vehicle(f"v{v}", 0, 0, window, capacity=2) for v in (1, 2))
    line = [[abs(a - b) for b in range(4)] for a in range(4)]
    solve_sisr(RoutingProblem(stops, vehicles, line, line), 60.0, iterations=20)
    return time.perf_counter() - began


def _check_initial(initial: Sequence[Sequence[int]], n: int, fleet: int) -> None:
    if len(initial) > fleet:
        raise ValueError(f"initial: {len(initial)} routes but only {fleet} vehicles")
    seen: set[int] = set()
    for route in initial:
        for stop in route:
            if isinstance(stop, bool) or not isinstance(stop, int | np.integer):
                raise TypeError(f"initial: stop indices must be whole numbers, got {stop!r}")
            if not 0 <= stop < n:
                raise ValueError(f"initial: stop {stop} outside 0..{n - 1}")
            if stop in seen:
                raise ValueError(f"initial: stop {stop} appears twice")
            seen.add(int(stop))


def _drive(
    step: Callable[[int, float, float], bool],
    iterations: int | None,
    end: float,
    deadline: float,
) -> None:
    """Call step(chunk, begin, end) with chunks of iterations until `iterations` are done
    (fixed chunks; fractions of the iterations) or, without, until the clock reaches `end`
    (chunks of ~50 ms; fractions of the time). Never past `deadline`; `step` returns True
    to end early."""
    if iterations is not None:
        done = 0
        while done < iterations and time.perf_counter() < deadline:
            chunk = min(_FIXED_CHUNK, iterations - done)
            if step(chunk, done / iterations, (done + chunk) / iterations):
                return
            done += chunk
        return
    began = time.perf_counter()
    span = max(end - began, 1e-9)
    chunk = last_chunk = _FIRST_CHUNK
    per_iteration = None
    while True:
        now = time.perf_counter()
        left = min(end, deadline) - now
        if left <= 0:
            return
        if per_iteration is not None:
            chunk = int(min(_CHUNK_SECONDS, left) / per_iteration)
            chunk = max(1, min(chunk, 4 * last_chunk))
        fraction = (now - began) / span
        planned = chunk * (per_iteration or 0.0) / span
        if step(chunk, fraction, fraction + planned):
            return
        per_iteration = max((time.perf_counter() - now) / chunk, 1e-8)
        last_chunk = chunk


def solve_sisr(
    problem: RoutingProblem,
    time_limit_s: float,
    seed: int = 0,
    initial: Sequence[Sequence[int]] | None = None,
    *,
    iterations: int | None = None,
    parameters: SisrParameters = DEFAULT_PARAMETERS,
) -> Solution | None:
    """The best complete solution found within the time limit, None if none was found.

    `initial` lists stop indices per route (at most one route per vehicle). With
    `iterations` the search stops after that many iterations and is deterministic for the
    seed (the temperature follows the iteration count), unless the time limit ends it
    first. Routes are returned one per vehicle, used ones first. Raises ValueError if
    `applicable` rejects the problem.
    """
    started = time.perf_counter()
    reason = applicable(problem)
    if reason is not None:
        raise ValueError(f"SISR cannot solve this problem: {reason}")
    if not (math.isfinite(time_limit_s) and time_limit_s > 0):
        raise ValueError(f"time_limit_s must be positive, got {time_limit_s}")
    if iterations is not None and iterations < 0:
        raise ValueError(f"iterations must not be negative, got {iterations}")
    n, fleet = len(problem.stops), len(problem.vehicles)
    if initial is not None:
        _check_initial(initial, n, fleet)
    if n == 0:
        return Solution(tuple(() for _ in range(fleet)), (), 0, STATUS)
    model = _model(problem)
    if _hopeless(model):
        return None
    state = _State(model, seed, parameters)
    state.load(initial, n)
    t0 = parameters.t_start * model.arc_scale
    t1 = parameters.t_end * model.arc_scale

    def anneal(chunk: int, begin: float, end: float) -> bool:
        state.run(chunk, t0 * (t1 / t0) ** begin, t0 * (t1 / t0) ** min(end, 1.0))
        return False

    deadline = started + time_limit_s - _SAFETY_S
    if model.fixed > 0 and model.n_routes > model.min_routes:
        share = parameters.fleet_share  # fleet minimisation, then distance
    else:
        share = 1.0  # only until every stop is placed (at once if the start does that)
        state.ipar[4] = model.n_routes
    if iterations is not None:
        _drive(state.minimise_fleet, round(share * iterations), deadline, deadline)
        state.restart_from_best()
        _drive(anneal, iterations - int(state.scal[4]), deadline, deadline)
    else:
        now = time.perf_counter()
        _drive(state.minimise_fleet, None, now + share * (deadline - now), deadline)
        state.restart_from_best()
        _drive(anneal, None, deadline, deadline)
    logger.debug(
        "SISR: %d iterations (%d accepted, %d new best) in %.2f s",
        *state.scal[4:7],
        time.perf_counter() - started,
    )
    if state.scal[3] != 0:
        return None
    used = state.best_routes()
    objective = _verified_objective(model, used)
    if objective != state.scal[1]:
        raise RuntimeError(f"SISR objective {state.scal[1]} differs from its routes' {objective}")
    routes = tuple(tuple(route) for route in used) + tuple(() for _ in range(fleet - len(used)))
    return Solution(routes, (), objective, STATUS)


def _verified_objective(model: _Model, routes: list[list[int]]) -> int:
    """The objective of routes of stop indices, re-checked in plain Python: every stop once,
    capacity, windows and the shift. Raises RuntimeError on a violation (a bug)."""
    n = len(model.ready) - 1
    seen = sorted(stop for route in routes for stop in route)
    if seen != list(range(n)):
        raise RuntimeError("SISR solution does not place every stop exactly once")
    dist, ts = model.dist, model.ts
    ready, due, demand = model.ready.tolist(), model.due.tolist(), model.demand.tolist()
    total = 0
    for route in routes:
        nodes = [0, *(stop + 1 for stop in route), 0]
        if sum(demand[node] for node in nodes) > model.capacity:
            raise RuntimeError(f"SISR route {route} exceeds the capacity")
        clock = ready[0]
        for a, b in itertools.pairwise(nodes):
            clock = max(ready[b], clock + int(ts[a, b])) if b else clock + int(ts[a, b])
            if clock > due[b]:
                raise RuntimeError(f"SISR route {route} is late at node {b}")
            total += int(dist[a, b])
        total += model.fixed
    return total
