"""THE cross-check with cirq: cirq circuit → cirq-ionq's own serializer → our parser → our engines,
against ``cirq.Simulator(dtype=complex128)``'s final state.

cirq's state vector is big-endian (the first qubit of the order is the most significant bit), so the
reference is bit-reversed once here, into the wire's little-endian order. Fixed seeds; ≥100 QIS
circuits with every gate the serializer accepts and ≥100 native (GPI, GPI2, MS, ZZ) circuits.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from qumulus.circuits.ionq_json import parse_input
from tests.sim._util import big_endian_to_little, dense, make_engine

cirq = pytest.importorskip("cirq")
cirq_ionq = pytest.importorskip("cirq_ionq")

from cirq_ionq.serializer import Serializer  # noqa: E402

QIS_CIRCUITS = 120
NATIVE_CIRCUITS = 100
DOUBLE_TOLERANCE = 1e-8
QSIM_TOLERANCE = 1e-5
KINDS = ("fixed", "xpow", "ypow", "zpow", "rot", "parity", "cnot", "swap", "h", "phasor")


def _fixed_gates():
    return (cirq.X, cirq.Y, cirq.Z, cirq.H, cirq.S, cirq.S**-1, cirq.T, cirq.T**-1, cirq.X**0.5, cirq.X**-0.5)


def random_qis_circuit(seed: int):
    rng = np.random.default_rng(20_000 + seed)
    n = int(rng.integers(2, 6))
    q = cirq.LineQubit.range(n)
    ops = []
    kinds = [*KINDS] + [str(k) for k in rng.choice(KINDS, size=int(rng.integers(5, 20)))]
    rng.shuffle(kinds)
    for kind in kinds:
        a, b, *_ = [q[int(i)] for i in rng.permutation(n)] + [None]
        t = float(rng.uniform(-2, 2))
        if kind == "fixed":
            ops.append(_fixed_gates()[int(rng.integers(10))].on(a))
        elif kind == "xpow":
            ops.append(cirq.XPowGate(exponent=t).on(a))
        elif kind == "ypow":
            ops.append(cirq.YPowGate(exponent=t).on(a))
        elif kind == "zpow":
            ops.append(cirq.ZPowGate(exponent=t).on(a))
        elif kind == "rot":
            ops.append([cirq.rx, cirq.ry, cirq.rz][int(rng.integers(3))](t * np.pi).on(a))
        elif kind == "parity":
            ops.append([cirq.XX, cirq.YY, cirq.ZZ][int(rng.integers(3))].on(a, b) ** t)
        elif kind == "cnot":
            ops.append(cirq.CNOT(a, b))
        elif kind == "swap":
            ops.append(cirq.SWAP(a, b))
        elif kind == "h":
            ops.append(cirq.H(a))
        else:  # PauliStringPhasor on 1-3 qubits
            width = int(rng.integers(1, min(n, 3) + 1))
            qubits = [q[int(i)] for i in rng.permutation(n)[:width]]
            paulis = [cirq.X, cirq.Y, cirq.Z]
            string = cirq.PauliString({qb: paulis[int(rng.integers(3))] for qb in qubits})
            # The serializer needs time = π(neg − pos)/2 ≥ 0, and cirq canonicalises exponents to
            # (−1, 1] (and folds a −1 coefficient into swapped exponents), so keep 0 < neg − pos ≤ 1.
            neg, pos = float(rng.uniform(0.05, 0.6)), -float(rng.uniform(0, 0.35))
            ops.append(cirq.PauliStringPhasor(string, exponent_neg=neg, exponent_pos=pos))
    ops.append(cirq.Z(q[n - 1]))  # the serializer sizes the register by the highest qubit used
    return cirq.Circuit(ops), n


def random_native_circuit(seed: int):
    rng = np.random.default_rng(30_000 + seed)
    n = int(rng.integers(2, 6))
    q = cirq.LineQubit.range(n)
    ops = []
    for _ in range(int(rng.integers(6, 25))):
        a, b, *_ = [q[int(i)] for i in rng.permutation(n)] + [None]
        kind = int(rng.integers(4))
        if kind == 0:
            ops.append(cirq_ionq.GPIGate(phi=float(rng.uniform(-1, 1))).on(a))
        elif kind == 1:
            ops.append(cirq_ionq.GPI2Gate(phi=float(rng.uniform(-1, 1))).on(a))
        elif kind == 2:
            phases = rng.uniform(-1, 1, size=2)
            gate = cirq_ionq.MSGate(
                phi0=float(phases[0]), phi1=float(phases[1]), theta=float(rng.uniform(0, 0.25))
            )
            ops.append(gate.on(a, b))
        else:
            ops.append(cirq_ionq.ZZGate(theta=float(rng.uniform(-0.5, 0.5))).on(a, b))
    ops.append(cirq_ionq.GPIGate(phi=0.0).on(q[n - 1]))
    return cirq.Circuit(ops), n


def _reference(circuit, n: int) -> np.ndarray:
    result = cirq.Simulator(dtype=np.complex128).simulate(circuit, qubit_order=cirq.LineQubit.range(n))
    return big_endian_to_little(np.abs(result.final_state_vector) ** 2, n)


def _run_all(builder, count: int, gateset: str) -> None:
    serializer = Serializer()
    engines = [make_engine(name) for name in ("aer", "qulacs", "qsim")]
    mismatches: list[str] = []
    for seed in range(count):
        circuit, n = builder(seed)
        program = serializer.serialize_single_circuit(circuit)
        payload = json.loads(json.dumps(program.input))  # through real JSON, as on the wire
        assert payload["gateset"] == gateset and payload["qubits"] == n
        parsed = parse_input("ionq.circuit.v1", payload).circuits[0]
        want = _reference(circuit, n)
        for engine in engines:
            got = dense(engine.probabilities(parsed))
            tolerance = QSIM_TOLERANCE if engine.name == "qsim" else DOUBLE_TOLERANCE
            err = float(np.abs(got - want).max())
            if err > tolerance:
                mismatches.append(f"{gateset} seed {seed} on {engine.name}: max error {err:.2e}")
    assert mismatches == [], f"{len(mismatches)} mismatches out of {count} circuits: {mismatches[:10]}"


def test_random_cirq_qis_circuits_match_cirq_simulator() -> None:
    _run_all(random_qis_circuit, QIS_CIRCUITS, "qis")


def test_random_cirq_native_circuits_match_cirq_simulator() -> None:
    _run_all(random_native_circuit, NATIVE_CIRCUITS, "native")


def test_serializer_emits_every_qis_gate_kind() -> None:
    """The random circuits really exercise rx/ry/rz, v/vi, xx/yy/zz, cnot, swap and pauliexp."""
    serializer = Serializer()
    names: set[str] = set()
    for seed in range(QIS_CIRCUITS):
        circuit, _ = random_qis_circuit(seed)
        names.update(g["gate"] for g in serializer.serialize_single_circuit(circuit).input["circuit"])
    assert {"x", "y", "z", "h", "s", "si", "t", "ti", "v", "vi", "rx", "ry", "rz", "xx", "yy", "zz",
            "cnot", "swap", "pauliexp"} <= names  # fmt: skip
