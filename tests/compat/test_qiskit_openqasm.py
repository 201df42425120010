"""qiskit-ionq, unmodified: a circuit with a mid-circuit measurement and a reset (sent as
``ionq.qasm3.v1``, results read from the shots v2 artifact) and ``compiled_circuit()``."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

pytest.importorskip("qiskit_ionq")

from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
from qiskit_ionq import IonQProvider

from qumulus.circuits.gates import circuit_unitary
from qumulus.circuits.ionq_json import parse_input

pytestmark = pytest.mark.compat


@pytest.fixture(scope="module")
def provider(live_server) -> Iterator[IonQProvider]:  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as mp:
        for name in ("IONQ_API_URL", "QISKIT_IONQ_API_URL"):
            mp.setenv(name, live_server.v04)
        for name in ("IONQ_API_KEY", "IONQ_API_TOKEN", "QISKIT_IONQ_API_TOKEN"):
            mp.setenv(name, live_server.key)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield IonQProvider(token=live_server.key, url=live_server.v04)


def _backend(provider: IonQProvider, name: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return provider.get_backend(name)


def test_mid_circuit_measurement_and_reset_match_aer(provider: IonQProvider) -> None:
    qc = QuantumCircuit(2, 3)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure(0, 0)
    qc.reset(0)
    qc.ry(0.7, 0)
    qc.measure(0, 1)
    qc.measure(1, 2)
    shots = 4000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = _backend(provider, "simulator").run(qc, shots=shots)
        ours = job.result(wait=0.05, timeout=120).get_counts()
    aer = AerSimulator().run(qc, shots=shots, seed_simulator=11).result().get_counts()
    assert sum(ours.values()) == shots
    for key in set(ours) | set(aer):
        p = (ours.get(key, 0) + aer.get(key, 0)) / (2 * shots)
        sigma = math.sqrt(2 * p * (1 - p) / shots) * shots
        assert abs(ours.get(key, 0) - aer.get(key, 0)) <= 5 * sigma + 1, (key, ours, aer)


def test_mid_circuit_measurement_and_reset_on_an_emulated_qpu_match_aer_within_noise(
    provider: IonQProvider,
) -> None:
    """The same kind of circuit on ``qpu.aria-1``: the device's noise is on (a few per cent of the
    shots move), the counts stay within sampling error plus that noise of Aer's ideal counts, and
    the per-shot memory comes back (qiskit-ionq reads it from the shots v2 artifact)."""
    qc = QuantumCircuit(2, 3)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure(0, 0)
    qc.reset(0)
    qc.ry(0.7, 0)
    qc.measure(0, 1)
    qc.measure(1, 2)
    shots = 4000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = _backend(provider, "qpu.aria-1").run(qc, shots=shots, memory=True)
        result = job.result(wait=0.05, timeout=120)
    ours = result.get_counts()
    memory = result.get_memory()
    aer = AerSimulator().run(qc, shots=shots, seed_simulator=11).result().get_counts()
    assert sum(ours.values()) == shots and len(memory) == shots
    assert {key: memory.count(key) for key in set(memory)} == ours
    tv = 0.5 * sum(abs(ours.get(k, 0) - aer.get(k, 0)) for k in set(ours) | set(aer)) / shots
    # Sampling: ~0.02 expected for two samples of 4000 over 4 outcomes; noise: ~2 % of the shots
    # (two MS-based CNOT halves, three readouts). A circuit run wrong (no reset: c1 follows c0) is ~0.3 off.
    assert tv < 0.08, (ours, aer)
    # The noise is there: outcomes the ideal circuit never gives (c0 != c2, since q1 copies q0).
    impossible = sum(v for k, v in ours.items() if k[0] != k[2])
    assert 0 < impossible < 0.06 * shots, ours


def test_compiled_circuit_is_the_input_in_native_gates(provider: IonQProvider) -> None:
    qc = QuantumCircuit(3, 3)
    qc.h(0)
    qc.cx(0, 1)
    qc.rz(0.4, 1)
    qc.cx(1, 2)
    qc.ry(1.1, 2)
    qc.measure([0, 1, 2], [0, 1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = _backend(provider, "qpu.aria-1").run(qc, shots=100, dry_run=True)
        job.wait_for_final_state(wait=0.05, timeout=60)
        native = job.compiled_circuit("native")
    assert {g["gate"] for g in native["circuit"]} <= {"gpi", "gpi2", "ms"}
    compiled = parse_input("ionq.circuit.v1", {"gateset": "native", **native}).circuits[0]
    body = parse_input("ionq.circuit.v1", {"qubits": 3, "circuit": [
        {"gate": "h", "targets": [0]}, {"gate": "x", "targets": [1], "controls": [0]},
        {"gate": "rz", "targets": [1], "rotation": 0.4}, {"gate": "x", "targets": [2], "controls": [1]},
        {"gate": "ry", "targets": [2], "rotation": 1.1}]}).circuits[0]  # fmt: skip
    u_native, u_input = circuit_unitary(compiled), circuit_unitary(body)
    # Equal up to a final virtual-Z frame (diagonal) and a global phase: same |amplitudes| column by
    # column, and same output probabilities from every basis state.
    assert np.allclose(np.abs(u_native), np.abs(u_input), atol=1e-8)
