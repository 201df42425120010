"""Fair-share simulation: the real select_next and charging code against FIFO, on a simulated clock.

A seeded discrete-event simulation of one backend with a few slots. Three organizations with
contract shares 600:300:100; projects a1:a2:a3 = 2:1:1 in A, b1:b2 = 1:1 in B, c1 in C, so the
entitled shares are 0.30, 0.15, 0.15, 0.15, 0.15, 0.10. Job lengths are lognormal (median 20 s,
capped at 600 s); usage decays with a one-hour half-life. Every decision is
``qumulus.scheduling.policy.select_next`` over a snapshot built exactly as the claim builds it
(decayed usage from forward-decay accumulators, running work as provisional usage at the backend's
decayed mean run time), and every completion goes through ``qumulus.scheduling.charging.charges``
and ``qumulus.scheduling.decay.accrue`` — only the SQL around them is replaced by dictionaries.

Scenarios: everyone backlogged (3 queued each); c1 floods (30 queued); a late joiner (b2 from
mid-run); a reservation (C alone for 10 000 s); a boost (tier 1 on c1's jobs for 10 000 s); extreme
shares (1000:1). Metrics after a warm-up: Jain's index on attained ÷ entitled share, the maximum
absolute share error, and p95 / worst wait per project, for the policy and for FIFO in the same run.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from _common import emit, print_table
from qumulus.scheduling import charging, decay
from qumulus.scheduling.policy import Candidate, Running, Snapshot, Window, jain, select_next

BACKEND = "qpu.sim-1"
H = 3600.0
#: The production default starvation bound (runtime.fairshare.STARVATION_S): one day.
STARVATION_S = 86_400.0
ORG_SHARES = {"A": 600.0, "B": 300.0, "C": 100.0}
PROJECTS = {
    "a1": ("A", 2.0),
    "a2": ("A", 1.0),
    "a3": ("A", 1.0),
    "b1": ("B", 1.0),
    "b2": ("B", 1.0),
    "c1": ("C", 1.0),
}


@dataclass
class Scenario:
    name: str
    depth: dict[str, int]
    org_shares: dict[str, float] = field(default_factory=lambda: dict(ORG_SHARES))
    projects: dict[str, tuple[str, float]] = field(default_factory=lambda: dict(PROJECTS))
    joins: dict[str, float] = field(default_factory=dict)
    windows: list[Window] = field(default_factory=list)
    boost: tuple[str, float, float] | None = None  # project, from, until
    measure_from: float | None = None
    #: Jobs starting in [from, until) are left out of the share figures (a perturbation's own time).
    exclude: tuple[float, float] | None = None
    half_life: float = H
    horizon_factor: float = 1.0


@dataclass
class Job:
    id: str
    project: str
    submitted: float
    duration: float
    tier: int = 0


@dataclass
class Result:
    usage: dict[str, float]
    waits: dict[str, list[float]]
    window_usage: dict[str, float]
    after_window_usage: dict[str, float]
    boosted_usage: dict[str, float]
    overrun_s: float
    decisions: int


class Accumulators:
    """The fairshare_usage table, as dictionaries, updated with the production accrual."""

    def __init__(self, half_life: float) -> None:
        self.h = half_life
        self.rows: dict[tuple[str, str, str], list[float]] = {}

    def charge(self, usages: list[charging.Usage], windows: list[Window], t: float) -> None:
        for c in charging.charges(usages, windows):
            row = self.rows.setdefault((c.kind, c.entity_id, c.backend), [0.0, 0.0, t])
            a = decay.accrue(row[2], t, self.h)
            row[0] = row[0] * a.scale + c.seconds * a.weight
            row[1] = row[1] * a.scale + c.count * a.weight
            row[2] = a.epoch

    def decayed(self, kind: str, entity: str, t: float) -> tuple[float, float]:
        row = self.rows.get((kind, entity, BACKEND))
        if row is None:
            return 0.0, 0.0
        return decay.decayed(row[0], row[2], t, self.h), decay.decayed(row[1], row[2], t, self.h)


def simulate(sc: Scenario, policy: str, seed: int, horizon: float, slots: int) -> Result:
    rng = random.Random(seed)
    acc = Accumulators(sc.half_life)
    horizon *= sc.horizon_factor
    queues: dict[str, list[Job]] = defaultdict(list)
    counter = 0

    def submit(project: str, t: float) -> None:
        nonlocal counter
        counter += 1
        duration = min(600.0, rng.lognormvariate(math.log(20.0), 1.0))
        tier = 0
        if sc.boost and project == sc.boost[0] and sc.boost[1] <= t < sc.boost[2]:
            tier = 1
        queues[project].append(Job(f"j{counter}", project, t, duration, tier))

    def active(project: str, t: float) -> bool:
        return sc.joins.get(project, 0.0) <= t

    for project, depth in sc.depth.items():
        if active(project, 0.0):
            for _ in range(depth):
                submit(project, 0.0)
    wakeups = sorted(
        {*sc.joins.values(), *(w.starts_at for w in sc.windows), *(w.ends_at for w in sc.windows)}
    )
    if sc.boost:
        wakeups = sorted({*wakeups, sc.boost[1], sc.boost[2]})
    running: list[tuple[float, str, Job, float]] = []  # (end, id, job, start)
    usage: dict[str, float] = defaultdict(float)
    waits: dict[str, list[float]] = defaultdict(list)
    window_usage: dict[str, float] = defaultdict(float)
    after_usage: dict[str, float] = defaultdict(float)
    boosted_usage: dict[str, float] = defaultdict(float)
    overrun = 0.0
    decisions = 0
    measure_from = sc.measure_from if sc.measure_from is not None else horizon * 0.1
    t = 0.0
    joined: set[str] = {p for p in sc.depth if active(p, 0.0)}
    while t < horizon:
        for project in sc.depth:  # late joiners arrive with their backlog
            if project not in joined and active(project, t):
                joined.add(project)
                for _ in range(sc.depth[project]):
                    submit(project, t)
        while len(running) < slots:
            pending = [j for q in queues.values() for j in q]
            if not pending:
                break
            mean_s, mean_n = acc.decayed("backend", BACKEND, t)
            estimate = charging.estimate(mean_s, mean_n, default=20.0)
            if policy == "fifo":
                choice = min(pending, key=lambda j: (j.submitted, j.id))
            else:
                snap = Snapshot(
                    now=t,
                    candidates=[
                        Candidate(
                            j.id,
                            sc.projects[j.project][0],
                            j.project,
                            BACKEND,
                            j.submitted,
                            0,
                            j.tier,
                            estimate,
                        )
                        for j in pending
                    ],
                    org_usage={(BACKEND, o): acc.decayed("org", o, t)[0] for o in sc.org_shares},
                    project_usage={(BACKEND, p): acc.decayed("project", p, t)[0] for p in sc.projects},
                    org_share={(BACKEND, o): s for o, s in sc.org_shares.items()},
                    project_share={p: s for p, (_, s) in sc.projects.items()},
                    running=[
                        Running(sc.projects[j.project][0], j.project, BACKEND, estimate)
                        for _, _, j, _ in running
                    ],
                    reservations=sc.windows,
                    starvation_seconds=STARVATION_S,
                )
                picked = select_next(snap, 1)
                if not picked:
                    break
                choice = next(j for j in pending if j.id == picked[0].id)
            decisions += 1
            queues[choice.project].remove(choice)
            heapq.heappush(running, (t + choice.duration, choice.id, choice, t))
            if t >= measure_from:  # waits: every job, perturbations included
                waits[choice.project].append(t - choice.submitted)
            submit(choice.project, t)  # closed loop: each project keeps its backlog
            for w in sc.windows:
                org = sc.projects[choice.project][0]
                if org != w.organization_id and t < w.starts_at < t + choice.duration:
                    overrun += t + choice.duration - w.starts_at
        next_times = [running[0][0]] if running else []
        next_times += [w for w in wakeups if w > t]
        if not next_times:
            break
        t_next = min(next_times)
        while running and running[0][0] <= t_next:
            end, _, job, start = heapq.heappop(running)
            org = sc.projects[job.project][0]
            acc.charge([charging.Usage(org, job.project, BACKEND, job.duration, start, end)], sc.windows, end)
            excluded = sc.exclude is not None and sc.exclude[0] <= start < sc.exclude[1]
            if start >= measure_from and not excluded:
                usage[job.project] += job.duration
            for w in sc.windows:
                if w.starts_at <= start < w.ends_at:
                    window_usage[job.project] += job.duration
                elif w.ends_at <= start < w.ends_at + 10_000:
                    after_usage[job.project] += job.duration
            if sc.boost and sc.boost[1] <= start < sc.boost[2]:
                boosted_usage[job.project] += job.duration
        t = t_next
    return Result(usage, waits, window_usage, after_usage, boosted_usage, overrun, decisions)


def entitled(sc: Scenario) -> dict[str, float]:
    orgs = {o for p, (o, _) in sc.projects.items() if p in sc.depth}
    total = sum(sc.org_shares[o] for o in orgs)
    out = {}
    for p, (o, s) in sc.projects.items():
        if p not in sc.depth:
            continue
        siblings = sum(sp for q, (oq, sp) in sc.projects.items() if oq == o and q in sc.depth)
        out[p] = sc.org_shares[o] / total * s / siblings
    return out


def shares_of(usage: dict[str, float], projects: list[str]) -> dict[str, float]:
    total = sum(usage.get(p, 0.0) for p in projects) or 1.0
    return {p: usage.get(p, 0.0) / total for p in projects}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def scenarios(horizon: float) -> list[Scenario]:
    every = dict.fromkeys(PROJECTS, 3)
    mid = horizon / 2
    extreme = {"x1": 3, "y1": 3}
    ratio = {"X": 1000.0, "Y": 1.0}
    split = {"x1": ("X", 1.0), "y1": ("Y", 1.0)}
    return [
        Scenario("backlogged", every),
        Scenario("flood", {**every, "c1": 30}),
        Scenario("late joiner", every, joins={"b2": mid}, measure_from=mid + 2 * H),
        Scenario(
            "reservation",
            every,
            windows=[Window("C", BACKEND, mid, mid + 10_000)],
            exclude=(mid, mid + 10_000),
        ),
        Scenario("boost", every, boost=("c1", mid, mid + 10_000), exclude=(mid, mid + 10_000 + 2 * H)),
        Scenario("1000:1", extreme, org_shares=dict(ratio), projects=dict(split)),
        # A day's half-life: Y's entitlement per half-life (~170 s) is then several jobs, not a
        # fraction of one, so its attainment is no longer dominated by the size of single jobs.
        Scenario(
            "1000:1 H=1d", extreme, org_shares=ratio, projects=split, half_life=86_400.0, horizon_factor=10.0
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a shorter horizon (under a minute)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--slots", type=int, default=2, help="executions the backend runs at once")
    parser.add_argument("--horizon", type=float, default=None, help="simulated seconds (default 200 000)")
    args = parser.parse_args()
    horizon = args.horizon or (100_000.0 if args.quick else 200_000.0)
    summary: dict[str, object] = {
        "bench": "fairness",
        "seed": args.seed,
        "horizon_s": horizon,
        "slots": args.slots,
    }
    rows = []
    for sc in scenarios(horizon):
        target = entitled(sc)
        projects = list(target)
        for policy in ("fair", "fifo"):
            res = simulate(sc, policy, args.seed, horizon, args.slots)
            got = shares_of(res.usage, projects)
            j = jain([got[p] / target[p] for p in projects])
            err = max(abs(got[p] - target[p]) for p in projects)
            waits = {p: res.waits.get(p, []) for p in projects}
            rows.append(
                [
                    sc.name,
                    policy,
                    f"{j:.4f}",
                    f"{err:.4f}",
                    " ".join(f"{p}={got[p]:.3f}/{target[p]:.3f}" for p in projects),
                    " ".join(f"{p}={pct(waits[p], 0.95):.0f}" for p in projects),
                    " ".join(f"{p}={max(waits[p], default=float('nan')):.0f}" for p in projects),
                ]
            )
            key = sc.name.replace(" ", "_").replace(":", "to").replace("=", "")
            summary[f"{key}_{policy}_jain"] = round(j, 5)
            summary[f"{key}_{policy}_max_error"] = round(err, 5)
            if sc.windows and policy == "fair":
                inside = shares_of(res.window_usage, projects)
                after = shares_of(res.after_window_usage, projects)
                summary["reservation_c_share_inside"] = round(inside.get("c1", 0.0), 4)
                summary["reservation_c_share_after"] = round(after.get("c1", 0.0), 4)
                summary["reservation_overrun_s"] = round(res.overrun_s, 1)
            if sc.boost and policy == "fair":
                summary["boost_c1_share_during"] = round(
                    shares_of(res.boosted_usage, projects).get("c1", 0.0), 4
                )
    print_table(
        f"Fair share vs FIFO (seed {args.seed}, {horizon:.0f} s simulated, {args.slots} slots, H = {H:.0f} s"
        " unless named; reservation and boost: shares outside the perturbation, waits over all)",
        ["scenario", "policy", "Jain", "max |a-s|", "attained/entitled", "p95 wait s", "worst wait s"],
        rows,
    )
    summary["flood_target_met"] = bool(
        summary["flood_fair_jain"] >= 0.995 and summary["flood_fair_max_error"] <= 0.01
    )  # type: ignore[operator]
    emit(summary)


if __name__ == "__main__":
    main()
