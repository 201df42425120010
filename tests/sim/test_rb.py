"""Direct RB (``qumulus.sim.rb``), the honesty bench's protocol: its sequences are what they claim,
its exact expected decay is what the emulator computes, and its estimator reads the characterized
infidelities of every emulated QPU (the bench's ±10 % target then only has sampling noise to meet)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from qumulus.backends.catalog import BY_NAME
from qumulus.backends.device import device_model
from qumulus.circuits.gates import circuit_unitary
from qumulus.circuits.model import Circuit
from qumulus.sim import rb
from qumulus.sim.emulator import exact_probabilities

QPUS = ["qpu.harmony", "qpu.aria-1", "qpu.aria-2", "qpu.forte-1", "qpu.forte-enterprise-1"]


def _returns_to_zero(circuit: Circuit) -> bool:
    return bool(abs(circuit_unitary(circuit)[0, 0]) > 1 - 1e-9)


@pytest.mark.parametrize(("qubits", "native"), [(1, "ms"), (2, "ms"), (2, "zz")])
def test_ensemble_is_the_stabilizer_states_with_layers_permuting_them(qubits: int, native: str) -> None:
    proto = rb.protocol(qubits, native)
    assert proto.states == (6 if qubits == 1 else 60)
    assert len(proto.layers) == (4 if qubits == 1 else 256 if native == "ms" else 16)
    for row in proto.step:  # each layer is a bijection on the states: ψ stays uniform at every length
        assert sorted(row.tolist()) == list(range(proto.states))
    for s in range(proto.states):
        # Preparation then return, and any layers in between, come back to |0…0⟩.
        assert _returns_to_zero(proto.circuit(s, []))
        entanglers = [sum(op.arity == 2 for op in ops) for ops in (proto.prep[s], proto.ret[s])]
        assert entanglers == [qubits - 1] * 2  # the same SPAM cost whichever state is visited
    rng = np.random.default_rng(4)
    for m in (1, 3, 8):
        assert _returns_to_zero(proto.sample(rng, m))


def test_expected_survival_is_the_emulators_average_over_every_one_qubit_sequence() -> None:
    """All 6 × 4**m one-qubit sequences of lengths 0-2, each run by the emulator's exact density matrix:
    their mean is the expected survival (no scheduling boundary on one qubit: equal to 1e-9)."""
    device = device_model(BY_NAME["qpu.harmony"].characterization())
    proto = rb.protocol(1, "ms")
    expected = rb.expected_survival(proto, device, [0, 1, 2])
    for m, value in zip([0, 1, 2], expected, strict=True):
        runs = [
            exact_probabilities(proto.circuit(s, list(layers)), device)[0]
            for s in range(proto.states)
            for layers in itertools.product(range(len(proto.layers)), repeat=m)
        ]
        assert value == pytest.approx(float(np.mean(runs)), abs=1e-9)


def test_expected_survival_is_the_emulators_average_over_two_qubit_sequences() -> None:
    """Every length-0 sequence on Forte's pair (60), and every length-1 sequence from 12 of the
    prepared states (12 × 16), on the emulator's density matrix: the mean agrees with the expected
    survival within the idle gaps that move across a segment boundary in the whole sequence's
    schedule (measured ≤ 2e-4 per sequence, ~1e-5 on a mean)."""
    device = device_model(BY_NAME["qpu.forte-1"].characterization())
    proto = rb.protocol(2, "zz")
    for m, starts in ((0, range(60)), (1, range(0, 60, 5))):
        (value,) = rb.expected_survival(proto, device, [m], starts=list(starts))
        runs = [
            exact_probabilities(proto.circuit(s, list(layers)), device)[0]
            for s in starts
            for layers in itertools.product(range(len(proto.layers)), repeat=m)
        ]
        assert value == pytest.approx(float(np.mean(runs)), abs=1e-4)


@pytest.mark.parametrize("backend", QPUS)
def test_estimator_reads_the_characterized_infidelities(backend: str) -> None:
    """The bench's estimator on the protocol's exact expected decay (unlimited sequences and shots)
    reads the characterized 1q and 2q infidelities: 1q within 0.5 %, 2q within 3 % (measured: 1q
    0.0 %, 2q −1.0…+1.9 %; the first protocol read Harmony's pair +13 % too bad)."""
    data = BY_NAME[backend].characterization()
    device = device_model(data)
    native = data["native_2q"]
    f1, f1b, f2 = data["qubit"]["1q"][0], data["qubit"]["1q"][1], data["pair"]["2q"]["0-1"]
    ls1 = rb.lengths(1 - f1, 1, 7)
    r1 = rb.layer_infidelity(rb.fit_decay(ls1, rb.expected_survival(rb.protocol(1, native), device, ls1)), 1)
    ls2 = rb.lengths(1 - f2, 2, 7)
    layer = rb.layer_infidelity(
        rb.fit_decay(ls2, rb.expected_survival(rb.protocol(2, native), device, ls2)), 2
    )
    r2 = rb.gate_infidelity_2q(layer, 1 - f1, 1 - f1b)
    assert r1 / (1 - f1) - 1 == pytest.approx(0, abs=0.005)
    assert r2 / (1 - f2) - 1 == pytest.approx(0, abs=0.03)


def test_one_qubit_gates_count_six_fifths_in_a_two_qubit_layer() -> None:
    """A one-qubit depolarizing channel seen as a two-qubit channel: its average infidelity is 1.2×
    its one-qubit one (process infidelities agree; r = d/(d+1)·e), the factor the 2q conversion uses."""
    from qiskit.quantum_info import average_gate_fidelity
    from qiskit_aer.noise import depolarizing_error

    one = depolarizing_error(0.01, 1).to_quantumchannel()
    two = one.expand(depolarizing_error(0.0, 1).to_quantumchannel())
    r1 = 1 - average_gate_fidelity(one)
    r2 = 1 - average_gate_fidelity(two)
    assert rb.gate_infidelity_2q(r2, r1, 0.0) == pytest.approx(0.0, abs=1e-12)
