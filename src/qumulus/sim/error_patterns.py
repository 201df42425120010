"""Every shot's Pauli errors, sampled up front and grouped into distinct patterns.

The fast noisy engine does not run one trajectory per shot. It draws all shots' error events first
(:func:`sample_patterns`), simplifies each event where the circuit allows it exactly, and groups the
shots by the resulting *pattern* (the ordered list of errors that still touch the quantum state):

* an error with no gate left on its qubit is classical: X/Y flip the measured bit, Z does nothing;
* an error on a qubit no gate has touched yet acts on |0⟩: Z does nothing, Y is X up to a phase;
* otherwise an error moves forward, untouched, to just before the next gate on its qubit (a Z error
  also passes diagonal gates, ZZ), so errors that reach the same place become the same event;
* events at the same place on the same qubit compose (Pauli product, phase dropped).

Shots without events are the *error-free* shots: they are all drawn from one simulation. The other
patterns form a prefix tree walked by :mod:`qumulus.sim.branching`: a shared error-free prefix is
simulated once and branched from, so the cost follows the number of distinct patterns and how
deep their first error sits, not the number of shots. :func:`work_plan` walks the same tree without
simulating, which is what the cost model (:mod:`qumulus.sim.cost`) counts.

Pauli codes: 0 = I, 1 = X, 2 = Y, 3 = Z (the order of stim's ``PAULI_CHANNEL_1``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from qumulus.sim.pauli_noise import PauliProgram

#: Pauli code → symplectic bits (x | z << 1), and back (the map is its own inverse).
_SYMPLECTIC = np.array([0, 1, 3, 2], dtype=np.int64)

#: One event: (position = gates applied before it, qubit, Pauli code 1..3).
Event = tuple[int, int, int]


@dataclass(frozen=True)
class Patterns:
    """All shots' errors, grouped.

    ``patterns`` are the distinct non-empty patterns in lexicographic order, each with the shots
    (indices into the job's shot list) that drew it; ``error_free`` are the shots with no quantum
    event; ``flips[s]`` is the bit mask shot ``s``'s classical X/Y errors flip.
    """

    shots: int
    patterns: list[tuple[tuple[Event, ...], list[int]]]
    error_free: list[int]
    flips: np.ndarray


@dataclass(frozen=True)
class _QubitGates:
    """Per qubit: the indices of the gates on it, and of the non-diagonal ones among them."""

    all: list[np.ndarray]
    non_diagonal: list[np.ndarray]


def _qubit_gates(program: PauliProgram) -> _QubitGates:
    per: list[list[int]] = [[] for _ in range(program.qubits)]
    nondiag: list[list[int]] = [[] for _ in range(program.qubits)]
    for i, ((qubits, _), op) in enumerate(zip(program.gates, program.ops, strict=True)):
        for q in qubits:
            per[q].append(i)
            if op.name != "zz":
                nondiag[q].append(i)
    return _QubitGates(
        [np.array(p, dtype=np.int64) for p in per], [np.array(p, dtype=np.int64) for p in nondiag]
    )


def _draw_events(
    program: PauliProgram, shots: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(location index, shot, Pauli code) of every error event, each location's shots distinct."""
    locations = program.locations
    if not locations or shots == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    rates = np.array([loc.rate for loc in locations])
    counts = rng.binomial(shots, np.clip(rates, 0.0, 1.0))
    loc = np.repeat(np.arange(len(locations)), counts)
    shot = rng.integers(0, shots, size=loc.size)
    # Distinct shots per location: redraw collisions until none (a uniform random subset).
    while loc.size:
        key = loc * shots + shot
        order = np.argsort(key, kind="stable")
        dup = np.zeros(loc.size, dtype=bool)
        dup[order[1:]] = key[order[1:]] == key[order[:-1]]
        if not dup.any():
            break
        shot[dup] = rng.integers(0, shots, size=int(dup.sum()))
    # The Pauli at each event, from its location's distribution conditioned on an error.
    width = max(len(x.probs) for x in locations) - 1
    cdf = np.ones((len(locations), width))
    for i, x in enumerate(locations):
        p = x.probs[1:]
        total = float(p.sum())
        if total > 0:
            cdf[i, : p.size] = np.cumsum(p) / total
    u = rng.random(loc.size)
    code = 1 + np.minimum((u[:, None] >= cdf[loc]).sum(axis=1), width - 1)
    return loc, shot, code


def sample_patterns(program: PauliProgram, shots: int, rng: np.random.Generator) -> Patterns:
    """Draw every shot's Pauli errors and group the shots by pattern (see the module docstring)."""
    loc, shot, code = _draw_events(program, shots, rng)
    # One event per (qubit, Pauli) component: a two-qubit code 4a + b is a on the first qubit, b on
    # the second.
    ev_pos: list[np.ndarray] = []
    ev_q: list[np.ndarray] = []
    ev_p: list[np.ndarray] = []
    ev_shot: list[np.ndarray] = []
    arity = np.array([len(x.qubits) for x in program.locations] or [0], dtype=np.int64)
    pos_of = np.array([x.pos for x in program.locations] or [0], dtype=np.int64)
    q0 = np.array([x.qubits[0] for x in program.locations] or [0], dtype=np.int64)
    q1 = np.array([x.qubits[-1] for x in program.locations] or [0], dtype=np.int64)
    if loc.size:
        one = arity[loc] == 1
        ev_pos.append(pos_of[loc][one])
        ev_q.append(q0[loc][one])
        ev_p.append(code[one])
        ev_shot.append(shot[one])
        two = ~one
        for qubits, pauli in ((q0, code // 4), (q1, code % 4)):
            keep = two & (pauli > 0)
            ev_pos.append(pos_of[loc][keep])
            ev_q.append(qubits[loc][keep])
            ev_p.append(pauli[keep])
            ev_shot.append(shot[keep])
    pos = np.concatenate(ev_pos) if ev_pos else np.zeros(0, dtype=np.int64)
    qub = np.concatenate(ev_q) if ev_q else np.zeros(0, dtype=np.int64)
    pauli = np.concatenate(ev_p) if ev_p else np.zeros(0, dtype=np.int64)
    sh = np.concatenate(ev_shot) if ev_shot else np.zeros(0, dtype=np.int64)
    return _group(program, shots, pos, qub, pauli, sh)


def _group(
    program: PauliProgram, shots: int, pos: np.ndarray, qub: np.ndarray, pauli: np.ndarray, sh: np.ndarray
) -> Patterns:
    flips = np.zeros(shots, dtype=np.uint64)
    gates = _qubit_gates(program)
    sym = _SYMPLECTIC[pauli]
    new_pos = np.full(pos.size, -1, dtype=np.int64)  # -1: classical
    for q in range(program.qubits):
        mine = np.flatnonzero(qub == q)
        if not mine.size:
            continue
        on_q = gates.all[q]
        x_part = (sym[mine] & 1) == 1
        if not on_q.size:  # never touched: every error is classical
            np.bitwise_xor.at(flips, sh[mine[x_part]], np.uint64(1) << np.uint64(q))
            continue
        nxt = np.searchsorted(on_q, pos[mine], side="left")
        has_next = nxt < on_q.size
        # X/Y with no gate left: a bit flip. Z with no gate left: nothing.
        classical = mine[~has_next & x_part]
        np.bitwise_xor.at(flips, sh[classical], np.uint64(1) << np.uint64(q))
        before_first = has_next & (nxt == 0)
        # On |0⟩ (no gate yet): Z does nothing, Y acts as X.
        sym[mine[before_first]] &= 1
        live = mine[has_next]
        new_pos[live] = on_q[nxt[has_next]]
        # A pure Z moves further, through diagonal gates, to the next non-diagonal gate (or away).
        z_only = live[sym[live] == 2]
        if z_only.size:
            nd = gates.non_diagonal[q]
            k = np.searchsorted(nd, pos[z_only], side="left")
            inside = k < nd.size
            new_pos[z_only[inside]] = nd[k[inside]]
            new_pos[z_only[~inside]] = -1
    keep = (new_pos >= 0) & (sym != 0)
    sh, p, q, s = sh[keep], new_pos[keep], qub[keep], sym[keep]
    patterns: list[tuple[tuple[Event, ...], list[int]]] = []
    error_free: list[int]
    if sh.size:
        order = np.lexsort((q, p, sh))
        sh, p, q, s = sh[order], p[order], q[order], s[order]
        # Compose events at the same (shot, position, qubit).
        start = np.ones(sh.size, dtype=bool)
        start[1:] = (sh[1:] != sh[:-1]) | (p[1:] != p[:-1]) | (q[1:] != q[:-1])
        idx = np.flatnonzero(start)
        s = np.bitwise_xor.reduceat(s, idx)
        sh, p, q = sh[idx], p[idx], q[idx]
        nz = s != 0
        sh, p, q, s = sh[nz], p[nz], q[nz], _SYMPLECTIC[s[nz]]
        groups: dict[bytes, list[int]] = {}
        keys: dict[bytes, tuple[Event, ...]] = {}
        bounds = np.flatnonzero(np.r_[True, sh[1:] != sh[:-1], True])
        triples = np.stack([p, q, s], axis=1)
        for a, b in itertools.pairwise(bounds):
            block = triples[a:b]
            key = block.tobytes()
            if key not in groups:
                groups[key] = []
                keys[key] = tuple((int(x), int(y), int(z)) for x, y, z in block)
            groups[key].append(int(sh[a]))
        patterns = sorted(((keys[k], v) for k, v in groups.items()), key=lambda item: item[0])
        hit = np.zeros(shots, dtype=bool)
        hit[sh] = True
        error_free = np.flatnonzero(~hit).tolist()
    else:
        error_free = list(range(shots))
    return Patterns(shots=shots, patterns=patterns, error_free=error_free, flips=flips)


# walking the tree --------------------------------------------------------------------------------


class Walker:
    """What :func:`walk` drives: a state-vector backend, or a counter (the cost model).

    ``run(state, paulis, start, stop)`` applies gates ``start..stop-1`` with each Pauli error
    ``(position, qubit, code)`` of ``paulis`` inserted before gate ``position`` (``start ≤ position
    ≤ stop``), returning the new state (the input is consumed unless it was forked); ``fork`` returns
    an independent copy; ``sample(state, shots)`` records the outcomes of ``shots`` (shot indices)
    drawn from a final state.
    """

    def initial(self) -> object:
        raise NotImplementedError

    def run(self, state: object, paulis: list[Event], start: int, stop: int) -> object:
        raise NotImplementedError

    def fork(self, state: object) -> object:
        raise NotImplementedError

    def sample(self, state: object, shots: list[int]) -> None:
        raise NotImplementedError


def walk(patterns: Patterns, depth: int, walker: Walker, stride: int = 1) -> None:
    """Simulate the pattern tree: the error-free trunk once, each branch from its first divergence.

    ``stride`` > 1 stops a shared state only at multiples of ``stride`` gates: a branch then starts
    from the last stop before its error and applies the few gates in between itself. Why: every stop
    is one more engine call, and on qsim a call copies the whole state in and out (about as much as
    17 gates at 20 qubits), while a branch's extra gates cost ``stride/2`` gates on average.
    """
    entries: list[tuple[tuple[Event, ...], list[int]]] = []
    if patterns.error_free:
        entries.append(((), patterns.error_free))
    entries.extend(patterns.patterns)
    if entries:
        _walk(entries, 0, walker.initial(), 0, [], depth, walker, max(1, stride))


def _walk(
    entries: list[tuple[tuple[Event, ...], list[int]]],
    k: int,
    state: object,
    pos: int,
    pending: list[Event],
    depth: int,
    walker: Walker,
    stride: int,
) -> None:
    """``entries`` share their first ``k`` events; ``state`` is at gate ``pos`` with ``pending``
    errors not yet applied. A subtree with one pattern left runs to the end in one segment."""
    if len(entries) == 1:
        events, shots = entries[0]
        state = walker.run(state, [*pending, *events[k:]], pos, depth)
        walker.sample(state, shots)
        return
    ended: list[int] = []
    i = 0
    while i < len(entries) and len(entries[i][0]) == k:
        ended.extend(entries[i][1])
        i += 1
    groups = list(_consecutive(entries[i:], k))
    for g, (event, sub) in enumerate(groups):
        stop = max(pos, event[0] - event[0] % stride)
        if stop > pos:
            state = walker.run(state, pending, pos, stop)
            pos, pending = stop, []
        last = g == len(groups) - 1 and not ended
        child = state if last else walker.fork(state)
        _walk(sub, k + 1, child, pos, [*pending, event], depth, walker, stride)
    if ended:
        state = walker.run(state, pending, pos, depth)
        walker.sample(state, ended)


def _consecutive(
    entries: list[tuple[tuple[Event, ...], list[int]]], k: int
) -> Iterator[tuple[Event, list[tuple[tuple[Event, ...], list[int]]]]]:
    start = 0
    for j in range(1, len(entries) + 1):
        if j == len(entries) or entries[j][0][k] != entries[start][0][k]:
            yield entries[start][0][k], entries[start:j]
            start = j


@dataclass
class WorkPlan:
    """What walking a pattern tree costs, in the units the cost model prices."""

    gates: int = 0
    paulis: int = 0
    segments: int = 0
    forks: int = 0
    leaves: int = 0
    patterns: int = 0


class _Counter(Walker):
    def __init__(self) -> None:
        self.plan = WorkPlan()

    def initial(self) -> object:
        return None

    def run(self, state: object, paulis: list[Event], start: int, stop: int) -> object:
        if stop == start and not paulis:
            return state
        self.plan.gates += stop - start
        self.plan.paulis += len(paulis)
        self.plan.segments += 1
        return None

    def fork(self, state: object) -> object:
        self.plan.forks += 1
        return None

    def sample(self, state: object, shots: list[int]) -> None:
        self.plan.leaves += 1


def work_plan(patterns: Patterns, depth: int, stride: int = 1) -> WorkPlan:
    """The work :func:`walk` will do for these patterns, without simulating anything."""
    counter = _Counter()
    walk(patterns, depth, counter, stride)
    counter.plan.patterns = len(patterns.patterns) + (1 if patterns.error_free else 0)
    return counter.plan


#: A backend factory: (program, rng) → Walker that records outcomes.
BackendFactory = Callable[[PauliProgram, np.random.Generator], Walker]


# trajectory budget ---------------------------------------------------------------------------------


def share_trajectories(patterns: Patterns, keep: int, rng: np.random.Generator) -> Patterns:
    """Trajectory-budget mode: the shots that drew errors share ``keep`` trajectories.

    ``keep`` of those shots are drawn uniformly (without replacement) as *representatives*; every
    shot with errors is then dealt to one representative (a random permutation dealt round-robin, so
    each takes ``⌊N/keep⌋`` or ``⌈N/keep⌉`` shots) and takes that representative's whole error
    realization: its quantum pattern and its classical bit flips. Error-free shots keep their own
    (they all share the one error-free simulation anyway). Each shot's error realization is still
    distributed exactly as before (a representative is a uniform draw among the shots with errors,
    which are i.i.d. given that they have errors), so every output probability and expectation
    value stays **unbiased**; what changes is the variance: shots dealt to one representative are
    sampled from one final state, so they are independent only given that state. For an estimate
    of ``E[f]`` from ``N`` shots in ``K`` trajectories, ``Var = σ²_shot/N + σ²_traj/K`` where
    ``σ²_traj`` is the variance of ``E[f | trajectory]`` across trajectories (docs/simulation.md).
    A no-op when there are at most ``keep`` distinct patterns.
    """
    entries = patterns.patterns
    if keep <= 0:
        raise ValueError("keep must be >= 1")
    if len(entries) <= keep:
        return patterns
    shots_with = np.concatenate([np.asarray(s, dtype=np.int64) for _, s in entries])
    pattern_of = np.repeat(np.arange(len(entries)), [len(s) for _, s in entries])
    total = shots_with.size
    representatives = rng.choice(total, size=keep, replace=False)
    dealt = np.empty(total, dtype=np.int64)
    dealt[rng.permutation(total)] = np.arange(total) % keep
    source = representatives[dealt]  # index (into shots_with) of each shot's representative
    flips = patterns.flips.copy()
    flips[shots_with] = patterns.flips[shots_with[source]]
    groups: dict[int, list[int]] = {}
    for shot, pattern in zip(shots_with.tolist(), pattern_of[source].tolist(), strict=True):
        groups.setdefault(pattern, []).append(shot)
    shared = [(entries[p][0], sorted(shots)) for p, shots in sorted(groups.items())]
    return Patterns(shots=patterns.shots, patterns=shared, error_free=patterns.error_free, flips=flips)
