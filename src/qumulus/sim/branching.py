"""State-vector backends for the pattern tree of :mod:`qumulus.sim.error_patterns`.

Each backend holds a :class:`~qumulus.sim.pauli_noise.PauliProgram`'s gates ready for its engine
and implements the :class:`~qumulus.sim.error_patterns.Walker` steps: run a gate segment (with the
pending Pauli errors first), fork a state, sample final outcomes.

* :class:`QsimBackend` (x86_64, wide circuits): qsim's C++ simulator called directly with a
  ``qsim.Circuit`` built from the gates' matrices (no cirq objects: building a segment costs about
  2 µs a gate), gate fusion on, float32. qsim copies its input state and returns a new one, so a
  fork costs nothing: the parent's array is never written.
* :class:`QulacsBackend` (few qubits): qulacs gates built once, applied one by one (double
  precision, lowest per-call overhead); a fork is ``QuantumState.copy``.

:func:`run_program` samples all shots' errors, walks the tree on a backend, then applies the
classical bit flips (errors after a qubit's last gate) and the readout error.
"""

from __future__ import annotations

import numpy as np

from qumulus.sim._common import default_threads
from qumulus.sim.error_patterns import Event, Patterns, Walker, sample_patterns, share_trajectories, walk
from qumulus.sim.pauli_noise import PauliProgram, apply_readout
from qumulus.sim.sampling import sample_from_amplitudes, sample_from_probabilities

_PAULI = {
    1: np.array([[0, 1], [1, 0]], dtype=np.complex128),
    2: np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    3: np.array([[1, 0], [0, -1]], dtype=np.complex128),
}


def _flat(unitary: np.ndarray) -> list[float]:
    return np.stack([unitary.real, unitary.imag], axis=-1).ravel().tolist()


class _Sampling(Walker):
    """Shared bookkeeping: outcomes in shot order, one seed per leaf from the job's generator."""

    def __init__(self, program: PauliProgram, rng: np.random.Generator, shots: int) -> None:
        self.program = program
        self.rng = rng
        self.outcomes = np.zeros(shots, dtype=np.uint64)

    def _record(self, probabilities: np.ndarray, shots: list[int]) -> None:
        drawn = sample_from_probabilities(probabilities, len(shots), int(self.rng.integers(2**63)))
        self.outcomes[np.asarray(shots, dtype=np.int64)] = drawn


class QsimBackend(_Sampling):
    """qsim, called directly; states are complex64 numpy arrays (``None`` = |0…0⟩)."""

    name = "qsim"

    def __init__(
        self,
        program: PauliProgram,
        rng: np.random.Generator,
        shots: int,
        *,
        threads: int | None = None,
        fusion: int | None = None,
    ) -> None:
        super().__init__(program, rng, shots)
        from qsimcirq import qsim

        self._qsim = qsim
        self._gates = [(list(qubits), _flat(u)) for qubits, u in program.gates]
        self._paulis = {code: _flat(m) for code, m in _PAULI.items()}
        self._options = {
            "f": fusion or default_fusion(program.qubits),
            "t": threads or default_threads(),
            "r": 1, "g": False, "gmode": 0, "gsst": 0, "gdb": 0, "v": 0, "z": False, "s": 0,
        }  # fmt: skip

    def initial(self) -> object:
        return None

    def run(self, state: object, paulis: list[Event], start: int, stop: int) -> object:
        if start == stop and not paulis:
            return state
        qsim = self._qsim
        circuit = qsim.Circuit()
        circuit.num_qubits = self.program.qubits
        for time, (pos, qubit, code) in enumerate(_interleave(paulis, start, stop)):
            if code:
                qsim.add_matrix_gate(time, [qubit], self._paulis[code], circuit)
            else:
                qubits, flat = self._gates[pos]
                qsim.add_matrix_gate(time, qubits, flat, circuit)
        options = dict(self._options, c=circuit)
        source = 0 if state is None else np.asarray(state).view(np.float32)
        return qsim.qsim_simulate_fullstate(options, source).view(np.complex64)

    def fork(self, state: object) -> object:
        return state  # qsim never writes its input

    def sample(self, state: object, shots: list[int]) -> None:
        if state is None:
            self.outcomes[np.asarray(shots, dtype=np.int64)] = 0
            return
        # One pass over the amplitudes, no probability vector (see sample_from_amplitudes).
        drawn = sample_from_amplitudes(np.asarray(state), len(shots), self.rng)
        self.outcomes[np.asarray(shots, dtype=np.int64)] = drawn


class QulacsBackend(_Sampling):
    """qulacs ``QuantumState`` objects, gates applied one at a time (double precision)."""

    name = "qulacs"

    def __init__(self, program: PauliProgram, rng: np.random.Generator, shots: int) -> None:
        super().__init__(program, rng, shots)
        import qulacs
        from qulacs import gate

        self._qulacs = qulacs
        # Our matrices are big-endian over the gate's qubits; DenseMatrix reads its list little-endian.
        self._gates = [gate.DenseMatrix(list(reversed(qubits)), u) for qubits, u in program.gates]
        self._pauli = {1: gate.X, 2: gate.Y, 3: gate.Z}

    def initial(self) -> object:
        return self._qulacs.QuantumState(self.program.qubits)

    def run(self, state: object, paulis: list[Event], start: int, stop: int) -> object:
        gates = self._gates
        for pos, qubit, code in _interleave(paulis, start, stop):
            if code:
                self._pauli[code](qubit).update_quantum_state(state)
            else:
                gates[pos].update_quantum_state(state)
        return state

    def fork(self, state: object) -> object:
        return state.copy()  # type: ignore[attr-defined]

    def sample(self, state: object, shots: list[int]) -> None:
        vector = state.get_vector()  # type: ignore[attr-defined]
        self._record(vector.real**2 + vector.imag**2, shots)


def _interleave(paulis: list[Event], start: int, stop: int) -> list[Event]:
    """Gates ``start..stop-1`` as ``(index, -1, 0)`` with the Pauli errors ``(pos, qubit, code)``
    placed before gate ``pos`` (errors at one position keep their order)."""
    if not paulis:
        return [(i, -1, 0) for i in range(start, stop)]
    out: list[Event] = []
    j = 0
    ordered = sorted(paulis, key=lambda e: e[0])
    for i in range(start, stop):
        while j < len(ordered) and ordered[j][0] <= i:
            out.append(ordered[j])
            j += 1
        out.append((i, -1, 0))
    out.extend(ordered[j:])
    return out


#: qsim stops shared states every this many gates (``error_patterns.walk``'s ``stride``): a call copies
#: the state in and out, about 17 gates' worth at 20 qubits; a branch pays ``STRIDE/2`` gates more.
QSIM_STRIDE = 8


def stride(backend: str) -> int:
    """The walk stride of ``backend`` (qulacs forks by copying anyway: every gate)."""
    return QSIM_STRIDE if backend == "qsim" else 1


#: From this width qsim fuses up to 3-qubit blocks, below 2 (measured, see docs/simulation.md).
FUSION_3_FROM = 18


def default_fusion(qubits: int) -> int:
    return 3 if qubits >= FUSION_3_FROM else 2


def run_program(
    program: PauliProgram,
    shots: int,
    rng: np.random.Generator,
    backend: str,
    *,
    patterns: Patterns | None = None,
    threads: int | None = None,
    trajectories: int | None = None,
) -> np.ndarray:
    """``shots`` noisy outcomes (little-endian ints, shot order) of ``program`` on ``backend``.

    ``trajectories`` (budget mode) caps the distinct error patterns simulated: the shots with errors
    share that many trajectories (:func:`qumulus.sim.error_patterns.share_trajectories`).
    """
    if patterns is None:
        patterns = sample_patterns(program, shots, rng)
    if trajectories is not None:
        patterns = share_trajectories(patterns, trajectories, rng)
    walker: _Sampling = (
        QsimBackend(program, rng, shots, threads=threads)
        if backend == "qsim"
        else QulacsBackend(program, rng, shots)
    )
    walk(patterns, program.depth, walker, stride(backend))
    outcomes = walker.outcomes ^ patterns.flips
    return apply_readout(outcomes, program, rng)
