"""qsimcirq adapter: the fast path for larger ideal circuits on x86_64.

**Precision: qsim computes in float32 (complex64) only.** Probabilities are squared in float32,
accumulated into float64 and renormalised, so they sum to 1 to float64 precision, but each value is
good to ~1e-7 relative to the double engines (measured TVD 1e-7..6e-7 at 10–22 qubits, see
simulators.md). That is far below shot noise, but a caller who needs 1e-9 must use Aer or qulacs
(``choose_engine(..., double_precision=True)``).

Why these choices:

* qsim fuses gates (``max_fused_gate_size``: 2 below 22 qubits, 4 from 22, per qsim's own guidance
  and simulators.md) and was 5–13× faster than Aer at 20–28 qubits on 2 cores.
* Endianness is handled **without a transpose**: our qubit ``q`` is ``LineQubit(q)`` and the
  simulation is asked for the qubit order ``[q_{n-1}, …, q_0]``, so cirq's big-endian vector *is*
  our little-endian vector (qsim itself numbers qubits in the reverse of cirq's order, so its
  internal layout is the same as ours). The alternative, simulating in the default order and then
  ``reshape((2,)*n).transpose(reversed)``, cost an extra full copy (see routing.py for the numbers).
* Gates: exact cirq gates where cirq has one (``rx``, ``ZPowGate`` for the phase gate,
  ``XXPowGate(global_shift=-0.5)`` for ``exp(-iθ/2·XX)``...), ``cirq.MatrixGate`` with our big-endian
  matrix for native gates and ``pauliexp`` (cirq's ``MatrixGate.on(a, b)`` reads the matrix
  big-endian over ``(a, b)``, so no reordering), and ``cirq.ControlledGate`` for controls, which
  qsim applies natively.
* ``simulate_into_1d_array`` returns qsim's float32 buffer directly (no cirq state wrapper, no copy).

cirq and qsimcirq (1.8 s to import) are imported when the engine is first used.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from qumulus.circuits.model import Circuit, Operation
from qumulus.sim._common import default_threads, matrix, sample_from_probabilities
from qumulus.sim.engine import Distribution

#: qsim's MatrixGate limit (qsimcirq refuses larger dense matrices) ...
MAX_MATRIX_QUBITS = 6
#: ... and its limit on the targets of a controlled gate.
MAX_CONTROLLED_TARGETS = 4
#: From this width qsim fuses up to 4-qubit blocks, below it 2-qubit blocks.
LARGE_FUSION_FROM = 22
#: Amplitudes converted per slice in :func:`probabilities_from_complex64` (512 KiB of scratch).
_CHUNK = 1 << 16


class QsimEngine:
    """Ideal probabilities with qsim (float32 state vector, gate fusion)."""

    name = "qsim"
    #: Bits of precision in the computed amplitudes (results are stored at this precision).
    precision_bits = 32
    max_qubits = 34

    def __init__(self, *, threads: int | None = None, max_fused_gate_size: int | None = None) -> None:
        self.threads = threads or default_threads()
        #: ``None``: 2 below :data:`LARGE_FUSION_FROM` qubits, 4 from there (qsim's own guidance,
        #: and simulators.md: f=2 0.084 s vs f=4 0.168 s at n=20; f=4 1.34 s vs f=2 1.66 s at n=24).
        self.max_fused_gate_size = max_fused_gate_size
        self._simulators: dict[int, Any] = {}

    def simulator(self, qubits: int) -> Any:
        """The ``QSimSimulator`` for a circuit of ``qubits`` qubits (one per fusion size, reused)."""
        fusion = self.max_fused_gate_size or (4 if qubits >= LARGE_FUSION_FROM else 2)
        if fusion not in self._simulators:
            import qsimcirq

            options = qsimcirq.QSimOptions(max_fused_gate_size=fusion, cpu_threads=self.threads)
            self._simulators[fusion] = qsimcirq.QSimSimulator(options)
        return self._simulators[fusion]

    @staticmethod
    def peak_bytes(qubits: int) -> int:
        """Planned peak: the complex64 state (probabilities overwrite it in place) plus the 1-byte
        mask ``Distribution.from_dense`` builds for a sparse state (measured 9.2 GiB at 30 qubits)."""
        return 9 << qubits

    def supports(self, circuit: Circuit) -> bool:
        """False when an operation is wider than qsim takes (a wide ``pauliexp``), or not a gate."""
        return (
            circuit.qubits <= self.max_qubits
            and circuit.is_unitary
            and all(
                len(op.targets) <= (MAX_CONTROLLED_TARGETS if op.controls else MAX_MATRIX_QUBITS)
                for op in circuit.operations
            )
        )

    def build(self, circuit: Circuit) -> tuple[Any, list[Any]]:
        """``(cirq.Circuit, qubit_order)``: our qubit q is ``LineQubit(q)``; order: most significant first."""
        import cirq

        qubits = cirq.LineQubit.range(circuit.qubits)
        ops = [_cirq_op(op, qubits) for op in circuit.operations]
        return cirq.Circuit(ops), list(reversed(qubits))

    def state_vector(self, circuit: Circuit) -> np.ndarray:
        """Final complex64 state vector, little-endian (qubit 0 = least significant bit)."""
        if circuit.qubits > self.max_qubits:
            raise ValueError(f"{self.name} accepts at most {self.max_qubits} qubits, got {circuit.qubits}")
        program, order = self.build(circuit)
        _, state, _ = self.simulator(circuit.qubits).simulate_into_1d_array(program, qubit_order=order)
        return state

    def probabilities(self, circuit: Circuit) -> Distribution:
        return Distribution.from_dense(self._probabilities(circuit), circuit.qubits)

    def sample(self, circuit: Circuit, shots: int, seed: int | None = None) -> np.ndarray:
        return sample_from_probabilities(self._probabilities(circuit), shots, seed)

    def _probabilities(self, circuit: Circuit) -> np.ndarray:
        return probabilities_from_complex64(self.state_vector(circuit))


def probabilities_from_complex64(state: np.ndarray) -> np.ndarray:
    """``|ψ|²`` as float64, renormalised, written **in place** over the complex64 state buffer.

    A complex64 amplitude and a float64 probability are both 8 bytes, so entry ``i`` of the result
    occupies exactly the bytes of amplitude ``i``: the buffer qsim handed over is converted slice by
    slice (each slice is read into a small scratch buffer before its bytes are overwritten) and
    returned as a float64 view. No second vector is allocated, so the peak memory of a run is the
    state alone (8 GiB at 30 qubits instead of 16) and there are no fresh pages to fault in.
    Measured at 26 qubits: ~0.14 s, against 0.46–0.84 s for ``np.abs(ψ)**2`` into a new array.
    The state is destroyed.
    """
    if state.dtype != np.complex64 or not state.flags.c_contiguous or not state.flags.writeable:
        state = np.array(state, dtype=np.complex64)  # a private, writable copy
    pairs = state.view(np.float32).reshape(-1, 2)
    out = state.view(np.float64)
    chunk = min(_CHUNK, out.size)
    squares = np.empty((chunk, 2), dtype=np.float32)
    sums = np.empty(chunk, dtype=np.float64)
    total = 0.0
    for start in range(0, out.size, chunk):
        stop = min(start + chunk, out.size)
        m = stop - start
        np.multiply(pairs[start:stop], pairs[start:stop], out=squares[:m])
        np.add(squares[:m, 0], squares[:m, 1], out=sums[:m])
        out[start:stop] = sums[:m]
        total += float(sums[:m].sum())
    if total > 0:
        out /= total
    return out


def _cirq_op(op: Operation, qubits: list[Any]) -> Any:
    import cirq

    gate = _cirq_gate(op)
    if op.controls:
        gate = cirq.ControlledGate(gate, num_controls=len(op.controls))
    return gate.on(*(qubits[q] for q in op.qubits))


@functools.cache
def _fixed_gates() -> dict[str, Any]:
    import cirq

    return {
        "x": cirq.X, "y": cirq.Y, "z": cirq.Z, "h": cirq.H, "s": cirq.S, "si": cirq.S**-1,
        "t": cirq.T, "ti": cirq.T**-1, "v": cirq.X**0.5, "vi": cirq.X**-0.5, "swap": cirq.SWAP,
    }  # fmt: skip


def _cirq_gate(op: Operation) -> Any:
    """The exact cirq gate for ``op`` on its targets (exact up to nothing: controls see global phase)."""
    import cirq

    name = op.name
    fixed = _fixed_gates()
    if name in fixed:
        return fixed[name]
    if name in ("rx", "ry", "rz"):
        return getattr(cirq, name)(op.params[0])
    if name == "phase":
        return cirq.ZPowGate(exponent=op.params[0] / math.pi)
    if name in ("xx", "yy", "zz"):
        cls = {"xx": cirq.XXPowGate, "yy": cirq.YYPowGate, "zz": cirq.ZZPowGate}[name]
        return cls(exponent=op.params[0] / math.pi, global_shift=-0.5)
    return cirq.MatrixGate(matrix(op))
