"""Direct randomized benchmarking (DRB) of an emulated QPU's native gates: circuits, estimator and
the protocol's exact expected decay.

The honesty bench (``bench/emulation_fidelity.py``) checks that RB through the platform reads the
characterized 1q and 2q infidelities. Its estimator must be unbiased for that check to mean anything,
so the protocol lives here, where tests pin it (``tests/sim/test_rb.py``).

**Protocol** (Proctor et al., PRL 123, 030503 (2019), on n = 1 or 2 qubits): a sequence is

1. a *preparation*: the shortest native circuit to a uniformly random stabilizer state ψ₀ (6 states
   on one qubit, 60 on two);
2. ``m`` random *layers*: GPI2(k/4) on each qubit (k ∈ 0..3), then, on two qubits, MS(k₀/4, k₁/4, ¼)
   (ZZ(π/2) on ZZ devices), each choice uniform;
3. a *return*: the shortest native circuit from the ideal final state ψ_m to |0…0⟩.

On two qubits preparation and return hold exactly one entangling gate each (a product state too), so
a sequence's SPAM costs about the same whichever states it visits (less spread between sequences).

Survival P(0…0) averaged over sequences decays as A·p^m + B; the layer's average infidelity is
r = (d − 1)/d · (1 − p). Why the random preparation: layers permute the stabilizer states, so ψ_m is
uniform for *every* m, the return's cost does not depend on m, and its error stays in A. Without it
(the bench's first protocol: layers from |0…0⟩, then the compiled inverse of the whole Clifford) the
inverse of one layer always takes one MS while the inverse of a long, mixed sequence takes 1.5 on
average: short sequences survived too well and the fit read a decay that was too steep (Harmony's
pair read +13 % in expectation, every sequence run exactly on the emulator: about 10 points from
this, 3 from the 1q conversion below). With ψ uniform over a 2-design, an error channel Λ after any
layer costs 1 − F_avg(Λ) to first order, wherever it sits.

**Two-qubit gate infidelity** from a layer's: process (entanglement) infidelities add to first order,
and average infidelity is r = d/(d+1)·e, so a one-qubit gate's r₁ counts (4/5)·(3/2)·r₁ = 1.2·r₁ in a
two-qubit layer: r_2q = r_layer − 1.2·(r₁ₐ + r₁ᵦ) (:func:`gate_infidelity_2q`).
"""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qumulus.circuits.gates import apply
from qumulus.circuits.model import Circuit, Operation


def gpi2(q: int, k: int) -> Operation:
    return Operation("gpi2", (q,), params=(k / 4,))


def entangler(native_2q: str, k0: int = 0, k1: int = 0) -> Operation:
    """The layers' two-qubit Clifford: MS(k₀/4, k₁/4, ¼) or ZZ(π/2) (a quarter turn)."""
    if native_2q == "ms":
        return Operation("ms", (0, 1), params=(k0 / 4, k1 / 4, 0.25))
    return Operation("zz", (0, 1), params=(math.pi / 2,))


@dataclass(frozen=True)
class Protocol:
    """The DRB ensemble on ``qubits`` qubits of a device whose entangler is ``native_2q``.

    States are the stabilizer states, indexed; ``zero`` is |0…0⟩'s index. ``step[l, s]`` is the state
    layer ``l`` takes state ``s`` to (each layer permutes the states).
    """

    qubits: int
    native_2q: str
    layers: tuple[tuple[Operation, ...], ...]
    prep: tuple[tuple[Operation, ...], ...]
    ret: tuple[tuple[Operation, ...], ...]
    step: np.ndarray
    zero: int

    @property
    def states(self) -> int:
        return len(self.prep)

    def circuit(self, start: int, layers: Sequence[int]) -> Circuit:
        """The native sequence: preparation of state ``start``, the given layers, the return."""
        state = start
        ops = list(self.prep[start])
        for layer in layers:
            ops += self.layers[layer]
            state = int(self.step[layer, state])
        ops += self.ret[state]
        return Circuit(self.qubits, tuple(ops), gateset="native")

    def sample(self, rng: np.random.Generator, m: int) -> Circuit:
        """One random sequence of ``m`` layers (uniform start, uniform layers)."""
        start = int(rng.integers(self.states))
        return self.circuit(start, [int(x) for x in rng.integers(len(self.layers), size=m)])


@functools.cache
def protocol(qubits: int, native_2q: str = "ms") -> Protocol:
    """Build the ensemble: enumerate the stabilizer states reachable from |0…0⟩ with the native
    Clifford gates, and the cheapest native path from |0…0⟩ to each and from each back."""
    if qubits not in (1, 2) or native_2q not in ("ms", "zz"):
        raise ValueError("DRB here is on 1 or 2 qubits of an 'ms' or 'zz' device")
    singles = [gpi2(q, k) for q in range(qubits) for k in range(4)]
    gates: list[Operation] = list(singles)
    if qubits == 2:
        gates += (
            [entangler(native_2q, a, b) for a in range(4) for b in range(4)]
            if native_2q == "ms"
            else [entangler(native_2q)]
        )
    if qubits == 1:
        layers = tuple((gpi2(0, k),) for k in range(4))
    else:
        layers = tuple(
            (gpi2(0, a), gpi2(1, b), entangler(native_2q, k0, k1))
            for a in range(4)
            for b in range(4)
            for k0 in range(4 if native_2q == "ms" else 1)
            for k1 in range(4 if native_2q == "ms" else 1)
        )
    zero_state = np.zeros(2**qubits, dtype=np.complex128)
    zero_state[0] = 1.0
    index: dict[tuple[float, ...], int] = {_key(zero_state): 0}
    vectors = [zero_state]
    edges: list[list[tuple[int, Operation]]] = [[]]  # edges[s] = [(next state, gate)]
    frontier = [0]
    while frontier:
        nxt: list[int] = []
        for s in frontier:
            for gate in gates:
                v = apply(vectors[s], gate, qubits)
                k = _key(v)
                if k not in index:
                    index[k] = len(vectors)
                    vectors.append(v)
                    edges.append([])
                    nxt.append(index[k])
                edges[s].append((index[k], gate))
        frontier = nxt
    n = len(vectors)
    expected = 6 if qubits == 1 else 60
    if n != expected:  # the gates generate the Clifford group: every stabilizer state, nothing else
        raise AssertionError(f"found {n} states, expected {expected}")
    # Exactly one entangler in every preparation and return on two qubits (a product state takes one
    # too): the sequence's SPAM then costs the same whichever state it visits, so the sequences'
    # survivals spread less (the decay is the same: ψ is uniform at every length either way).
    entanglers = qubits - 1
    prep = _paths_from(0, edges, entanglers)
    reverse: list[list[tuple[int, Operation]]] = [[] for _ in range(n)]
    for s in range(n):
        for t, gate in edges[s]:
            reverse[t].append((s, gate))
    back = _paths_from(0, reverse, entanglers)  # paths 0 ← s, listed from 0's side
    ret = tuple(tuple(reversed(path)) for path in back)
    step = np.empty((len(layers), n), dtype=np.int64)
    for li, layer in enumerate(layers):
        for s in range(n):
            v = vectors[s]
            for gate in layer:
                v = apply(v, gate, qubits)
            step[li, s] = index[_key(v)]
    return Protocol(qubits, native_2q, layers, prep, ret, step, 0)


def _key(v: np.ndarray) -> tuple[float, ...]:
    """A state up to global phase: the first non-zero amplitude made real and positive, rounded."""
    first = v[np.flatnonzero(np.abs(v) > 1e-6)[0]]
    w = v * (abs(first) / first)
    return tuple(float(x) + 0.0 for x in np.round(np.concatenate([w.real, w.imag]), 6))


def _paths_from(
    source: int, edges: list[list[tuple[int, Operation]]], entanglers: int
) -> tuple[tuple[Operation, ...], ...]:
    """Cheapest gate sequence from ``source`` to every state that uses exactly ``entanglers``
    two-qubit gates (Dijkstra on (state, entanglers so far); one-qubit gates cost 1)."""
    best: dict[tuple[int, int], tuple[int, tuple[Operation, ...]]] = {(source, 0): (0, ())}
    heap: list[tuple[int, int, tuple[int, int]]] = [(0, 0, (source, 0))]
    order = 1
    done: set[tuple[int, int]] = set()
    while heap:
        cost, _, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        s, used = node
        for t, gate in edges[s]:
            two = int(gate.arity == 2)
            if used + two > entanglers:
                continue
            nxt = (t, used + two)
            if nxt not in best or cost + 1 < best[nxt][0]:
                best[nxt] = (cost + 1, (*best[node][1], gate))
                heapq.heappush(heap, (cost + 1, order, nxt))
                order += 1
    return tuple(best[(s, entanglers)][1] for s in range(len(edges)))


# estimator -----------------------------------------------------------------------------------------


def lengths(infidelity: float, qubits: int, points: int) -> list[int]:
    """Sequence lengths from 1 up to where the decay is about e^-1.5 (log-spaced)."""
    d = 2**qubits
    decay = infidelity * d / (d - 1)
    top = max(4, int(1.5 / decay))
    return sorted({max(1, round(x)) for x in np.geomspace(1, top, points)})


def fit_decay(lengths: Sequence[int], survival: Sequence[float]) -> float:
    """p of A·p^m + B (least squares, A and B free)."""
    from scipy.optimize import curve_fit

    def model(m, a, p, b):  # type: ignore[no-untyped-def]
        return a * p**m + b

    (_, p, _), _ = curve_fit(model, np.array(lengths, float), np.array(survival, float), p0=[0.5, 0.99, 0.5],
                             bounds=([0, 0, 0], [1, 1, 1]), maxfev=20000)  # fmt: skip
    return float(p)


def layer_infidelity(p: float, qubits: int) -> float:
    """Average infidelity of a layer whose depolarizing-equivalent decay is ``p``: (d−1)/d·(1−p)."""
    d = 2**qubits
    return (d - 1) / d * (1 - p)


def gate_infidelity_2q(layer: float, r1a: float, r1b: float) -> float:
    """The two-qubit gate's average infidelity in a layer with one one-qubit gate per qubit (first
    order: process infidelities add; a one-qubit gate's r₁ is (3/2)·r₁ as process infidelity, and
    a two-qubit channel's average infidelity is (4/5) of its process infidelity)."""
    return layer - 1.2 * (r1a + r1b)


# the protocol's exact expectation --------------------------------------------------------------------


def expected_survival(
    proto: Protocol,
    device: Any,
    lengths: Sequence[int],
    layout: Sequence[int] | None = None,
    *,
    starts: Sequence[int] | None = None,
) -> list[float]:
    """E[P(0…0)] over the whole ensemble at each length, infinite shots, on the emulator's full noise
    model (:func:`qumulus.sim.emulator.noisy_circuit`'s channels, readout included): the decay the
    bench would read with unlimited sequences and shots.

    Exact average over sequences: for each ideal state s, the average noisy density matrix of the
    sequences whose ideal state is s is carried forward (60 states × the layers, 16-dimensional
    superoperators). Segments (preparation, layers, return) are each scheduled on their own; in the
    emulator's schedule of a whole sequence an idle gap can move across a segment boundary
    (≤ 2e-4 per sequence on Forte, the longest gates; ``tests/sim/test_rb.py``). ``starts``: average
    over these prepared states only (tests); by default all of them, as the protocol draws them.
    """
    phys = list(range(proto.qubits)) if layout is None else list(layout)
    layers = np.stack([_superop(ops, proto.qubits, device, phys) for ops in proto.layers])
    n = proto.states
    d2 = 4**proto.qubits
    rho = np.zeros((n, d2), dtype=np.complex128)
    chosen = list(range(n)) if starts is None else list(starts)
    for s in chosen:
        rho[s] = _superop(proto.prep[s], proto.qubits, device, phys) @ _vec0(proto.qubits)
    rho /= len(chosen)
    readout = _readout_row(proto.qubits, device, phys)
    # What survives: P(read 0…0) after the return, as a row on each state's vectorized ρ.
    final = np.stack(
        [
            readout @ _diag_rows(proto.qubits) @ _superop(proto.ret[s], proto.qubits, device, phys)
            for s in range(n)
        ]
    )
    out: list[float] = []
    m = 0
    for target in sorted(lengths):
        while m < target:
            new = np.zeros_like(rho)
            moved = np.einsum("lij,sj->lsi", layers, rho) / len(proto.layers)
            for li in range(len(proto.layers)):
                np.add.at(new, proto.step[li], moved[li])
            rho = new
            m += 1
        out.append(float(np.real(np.einsum("si,si->", final, rho))))
    order = {t: v for t, v in zip(sorted(lengths), out, strict=True)}
    return [order[t] for t in lengths]


def _vec0(qubits: int) -> np.ndarray:
    d = 2**qubits
    rho = np.zeros((d, d), dtype=np.complex128)
    rho[0, 0] = 1
    return rho.reshape(-1, order="F")


def _diag_rows(qubits: int) -> np.ndarray:
    """vec(ρ) (column-stacked, qiskit's SuperOp convention) → the diagonal of ρ."""
    d = 2**qubits
    rows = np.zeros((d, d * d))
    for i in range(d):
        rows[i, i * d + i] = 1
    return rows


def _readout_row(qubits: int, device: Any, phys: Sequence[int]) -> np.ndarray:
    """P(read 0…0 | true basis state i), over i (qubit 0 the least significant bit)."""
    d = 2**qubits
    row = np.ones(d)
    for i in range(d):
        for q, p in enumerate(phys):
            bit = (i >> q) & 1
            row[i] *= device.p0_given_1[p] if bit else 1 - device.p1_given_0[p]
    return row


def _superop(ops: Sequence[Operation], qubits: int, device: Any, phys: Sequence[int]) -> np.ndarray:
    """The full noise model's superoperator of a native segment scheduled on its own (column-stacking
    convention, little-endian qubits, as qiskit's ``SuperOp``)."""
    from qiskit.quantum_info import SuperOp

    from qumulus.sim.emulator import _builder, noisy_circuit

    native = Circuit(qubits, tuple(ops), gateset="native")
    qc = noisy_circuit(native, device, phys, _builder(device, trajectories=False), measure=False)
    return np.asarray(SuperOp(qc).data)
