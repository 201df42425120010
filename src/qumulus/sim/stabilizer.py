"""stim adapter: Clifford circuits at any width up to a configured cap (default 1000 qubits).

A Clifford circuit (H, S, CNOT, Paulis, quarter-turn rotations, measurement, reset) is simulated in
polynomial time by a stabilizer tableau, so width stops being the limit: GHZ-28 took 16 ms here
against 4 s for qsim (simulators.md), and a 1000-qubit GHZ samples 1000 shots in a few ms.
Results are never 2**n vectors:

* :meth:`StimEngine.sample` returns :class:`~qumulus.sim.engine.Samples` (packed bits per shot);
* :meth:`StimEngine.probabilities` returns the **exact** distribution when it has at most
  ``2**EXACT_RANDOM_BITS`` outcomes (a stabilizer state's outcomes are uniform over an affine space:
  GHZ has two, each exactly 0.5), found by walking the random measurement outcomes with postselection;
  wider supports raise :class:`TooManyOutcomes` and the caller samples instead.

Which gates count as Clifford: ``x y z h s si v vi swap``, ``x``/``y``/``z`` with one control, ``rx
ry rz phase xx yy zz`` at multiples of π/2 (up to 1e-9; a global phase is dropped, which is exact for
uncontrolled gates), ``measure`` and ``reset``. Everything else (T, arbitrary angles, native gates,
control flow) makes :meth:`supports` false.
"""

from __future__ import annotations

import functools
import math
import os
from typing import Any

import numpy as np

from qumulus.circuits.model import Circuit, Operation
from qumulus.sim.engine import Distribution, Samples

#: Widest circuit the stabilizer engine takes (``QUMULUS_STIM_MAX_QUBITS`` overrides).
DEFAULT_MAX_QUBITS = 1000
#: Exact probabilities are enumerated up to this many random outcome bits (4096 outcomes, the
#: largest result kept inline).
EXACT_RANDOM_BITS = 12

_FIXED = {"x": "X", "y": "Y", "z": "Z", "h": "H", "s": "S", "si": "S_DAG", "v": "SQRT_X", "vi": "SQRT_X_DAG",
          "swap": "SWAP"}  # fmt: skip
_CONTROLLED = {"x": "CX", "y": "CY", "z": "CZ"}
#: Quarter-turn rotations: name -> stim gates for k = 1, 2, 3 quarter turns (k = 0 is nothing).
_QUARTERS = {
    "rz": ("S", "Z", "S_DAG"), "phase": ("S", "Z", "S_DAG"),
    "rx": ("SQRT_X", "X", "SQRT_X_DAG"), "ry": ("SQRT_Y", "Y", "SQRT_Y_DAG"),
    "zz": ("SQRT_ZZ", "ZZ", "SQRT_ZZ_DAG"), "xx": ("SQRT_XX", "XX", "SQRT_XX_DAG"),
    "yy": ("SQRT_YY", "YY", "SQRT_YY_DAG"),
}  # fmt: skip
_TWO_QUBIT_PAULI = {"ZZ": ("Z", "Z"), "XX": ("X", "X"), "YY": ("Y", "Y")}


class TooManyOutcomes(ValueError):
    """The exact distribution has more outcomes than :data:`EXACT_RANDOM_BITS` allows: sample it."""


@functools.cache
def max_qubits_configured() -> int:
    """``QUMULUS_STIM_MAX_QUBITS`` (read once per process), else :data:`DEFAULT_MAX_QUBITS`."""
    value = os.environ.get("QUMULUS_STIM_MAX_QUBITS")
    return int(value) if value else DEFAULT_MAX_QUBITS


class StimEngine:
    """Stabilizer simulation with stim (Clifford circuits only)."""

    name = "stim"
    precision_bits = 64

    def __init__(self, max_qubits: int | None = None) -> None:
        self.max_qubits = max_qubits or max_qubits_configured()

    @staticmethod
    def peak_bytes(qubits: int) -> int:
        """A tableau is 2n×2n bits; nothing grows with 2**n."""
        return qubits * qubits // 2 + (1 << 20)

    def supports(self, circuit: Circuit) -> bool:
        """A Clifford circuit (unitary, or with measure/reset) within the width cap."""
        return circuit.qubits <= self.max_qubits and is_clifford(circuit)

    def build(self, circuit: Circuit) -> tuple[Any, list[int]]:
        """``(stim.Circuit, clbit written by each measurement record)``.

        IonQ semantics (``clbits == 0``): every qubit is measured at the end, record ``q`` = qubit q.
        """
        import stim

        lines: list[str] = []
        records: list[int] = []
        for op in circuit.operations:
            assert type(op) is Operation
            if op.name == "measure":
                lines.append(f"M {' '.join(map(str, op.targets))}")
                records.extend(op.clbits)
            elif op.name == "reset":
                lines.append(f"R {op.targets[0]}")
            else:
                lines.extend(_stim_lines(op))
        if not circuit.measures_explicitly:
            lines.append("M " + " ".join(map(str, range(circuit.qubits))))
            records = list(range(circuit.qubits))
        program = stim.Circuit("\n".join(lines))
        if program.num_qubits < circuit.qubits:  # idle trailing qubits still exist
            program.append("I", [circuit.qubits - 1])
        return program, records

    def sample(
        self, circuit: Circuit, shots: int, seed: int | None = None, *, checked: bool = False
    ) -> Samples:
        """``shots`` outcomes: the qubits (IonQ semantics) or the classical bits (``clbits > 0``).

        ``checked``: the caller (routing) already knows the circuit is Clifford and fits.
        """
        if not checked:
            self._check(circuit)
        program, records = self.build(circuit)
        sampler = program.compile_sampler(seed=seed)
        measured = sampler.sample(shots)  # (shots, records) bool
        return Samples.from_bool(_to_clbits(measured, records, _outcome_bits(circuit)))

    def probabilities(self, circuit: Circuit) -> Distribution:
        """The exact distribution of a unitary Clifford circuit with at most 2**12 outcomes."""
        import stim

        self._check(circuit)
        if not circuit.is_unitary:
            raise ValueError("exact probabilities need a unitary circuit; sample programs that measure")
        program, _ = self.build(Circuit(circuit.qubits, circuit.operations))
        program = program.without_noise()
        # Everything but the final measurement layer, run on a tableau.
        body = stim.Circuit()
        for instruction in program:
            if instruction.name != "M":
                body.append(instruction)
        simulator = stim.TableauSimulator()
        simulator.set_num_qubits(circuit.qubits)
        simulator.do_circuit(body)
        outcomes: dict[int, float] = {}
        _enumerate(simulator, 0, circuit.qubits, 0, 0, outcomes)
        keys = sorted(outcomes)
        dtype = np.uint64 if circuit.qubits <= 63 else object
        return Distribution(
            qubits=circuit.qubits,
            values=np.asarray([outcomes[k] for k in keys], dtype=np.float64),
            indices=np.asarray(keys, dtype=dtype),
        )

    def _check(self, circuit: Circuit) -> None:
        if circuit.qubits > self.max_qubits:
            raise ValueError(f"stim is configured for at most {self.max_qubits} qubits, got {circuit.qubits}")
        if not is_clifford(circuit):
            raise ValueError("stim runs Clifford circuits only")


def _enumerate(sim: Any, q: int, n: int, value: int, random_bits: int, out: dict[int, float]) -> None:
    """Depth-first over the qubits: a deterministic qubit adds its bit, a random one branches (each
    branch postselected on a copy), so the leaves are exactly the support, each of weight 2**-k."""
    while q < n:
        z = sim.peek_z(q)
        if z == 0:
            if random_bits >= EXACT_RANDOM_BITS:
                raise TooManyOutcomes(f"more than 2**{EXACT_RANDOM_BITS} outcomes")
            one = sim.copy()
            one.postselect_z(q, desired_value=True)
            sim.postselect_z(q, desired_value=False)
            _enumerate(one, q + 1, n, value | (1 << q), random_bits + 1, out)
            random_bits += 1
        elif z < 0:
            value |= 1 << q
        q += 1
    out[value] = 2.0**-random_bits


def _outcome_bits(circuit: Circuit) -> int:
    return circuit.clbits if circuit.measures_explicitly else circuit.qubits


def _to_clbits(measured: np.ndarray, records: list[int], bits: int) -> np.ndarray:
    """Measurement records → classical bits; a clbit written twice keeps the last record."""
    out = np.zeros((measured.shape[0], bits), dtype=bool)
    if records == list(range(bits)):
        return measured
    for record, clbit in enumerate(records):
        out[:, clbit] = measured[:, record]
    return out


def _quarter_turns(angle: float) -> int | None:
    """``angle / (π/2)`` as 0..3 when it is a multiple of π/2 (to 1e-9), else None."""
    k = angle / (math.pi / 2)
    nearest = round(k)
    return nearest % 4 if abs(k - nearest) < 1e-9 else None


def is_clifford(circuit: Circuit) -> bool:
    """Only stabilizer operations (see the module docstring); no control flow."""
    for op in circuit.operations:
        if type(op) is not Operation:
            return False
        if op.name in ("measure", "reset"):
            continue
        if op.controls:
            if len(op.controls) != 1:
                return False
            if op.name in _CONTROLLED:
                continue
            if op.name == "phase" and _quarter_turns(op.params[0]) in (0, 2):
                continue
            return False
        if op.name in _FIXED:
            continue
        if op.name in _QUARTERS and _quarter_turns(op.params[0]) is not None:
            continue
        return False
    return True


def _stim_lines(op: Operation) -> list[str]:
    qubits = " ".join(map(str, op.qubits))
    if op.controls:
        if op.name == "phase":  # controlled P(0) or P(π) = CZ
            return ["CZ " + qubits] if _quarter_turns(op.params[0]) == 2 else []
        return [f"{_CONTROLLED[op.name]} {qubits}"]
    fixed = _FIXED.get(op.name)
    if fixed is not None:
        return [f"{fixed} {qubits}"]
    k = _quarter_turns(op.params[0])
    if not k:
        return []
    gate = _QUARTERS[op.name][k - 1]
    pauli = _TWO_QUBIT_PAULI.get(gate)
    if pauli is not None:  # stim has no two-qubit Pauli product gate: one Pauli per qubit
        a, b = op.targets
        return [f"{pauli[0]} {a}", f"{pauli[1]} {b}"]
    return [f"{gate} {qubits}"]
