"""pennylane-ionq, unmodified, against a live ``qumulus serve`` (wire spec §12.3).

pennylane-ionq has no setting for the host: the tests set ``APIClient.BASE_URL`` (runtime
configuration, restored afterwards). It POSTs without a Content-Type and polls about 100 times a second.

With ``shots`` set, ``qml.probs`` on this device is the exact distribution the simulator returned
(``IonQDevice.probability`` does not sample), while ``qml.counts`` and ``qml.expval`` sample from it
with numpy's global generator, which the tests seed.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

pytest.importorskip("pennylane_ionq")

import pennylane as qml
from pennylane import numpy as pnp
from pennylane_ionq import api_client
from pennylane_ionq.ops import GPI, GPI2, MS

from ._util import apply_big_endian, binomial_ok, gpi, gpi2, headers, ms

pytestmark = [
    pytest.mark.compat,
    pytest.mark.filterwarnings("ignore:Setting shots on device is deprecated"),
]


@pytest.fixture(scope="module", autouse=True)
def base_url(live_server) -> Iterator[None]:  # type: ignore[no-untyped-def]
    saved = api_client.APIClient.BASE_URL
    api_client.APIClient.BASE_URL = live_server.v04
    try:
        yield
    finally:
        api_client.APIClient.BASE_URL = saved


@pytest.fixture
def device(live_server):  # type: ignore[no-untyped-def]
    def make(wires: int, shots: int = 1000, **kwargs):  # type: ignore[no-untyped-def]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return qml.device("ionq.simulator", wires=wires, shots=shots, api_key=live_server.key, **kwargs)

    return make


def latest_job(live_server) -> dict:  # type: ignore[no-untyped-def]
    reply = httpx.get(f"{live_server.v04}/jobs", params={"limit": 1}, headers=headers(live_server.key))
    return reply.json()["jobs"][0]


def test_bell_counts(device, live_server) -> None:  # type: ignore[no-untyped-def]
    dev = device(2, shots=1000, job_name="pennylane-bell")

    @qml.qnode(dev)
    def bell():  # type: ignore[no-untyped-def]
        qml.Hadamard(wires=0)
        qml.CNOT(wires=[0, 1])
        return qml.counts()

    np.random.seed(11)
    counts = {str(k): int(v) for k, v in bell().items()}
    assert set(counts) <= {"00", "11"}, counts
    assert sum(counts.values()) == 1000
    for key in ("00", "11"):
        assert binomial_ok(counts.get(key, 0), 1000, 0.5), counts
    job = latest_job(live_server)
    assert job["name"] == "pennylane-bell"
    assert job["status"] == "completed"
    assert job["shots"] == 1000


def test_probs_of_an_asymmetric_circuit(device) -> None:  # type: ignore[no-untyped-def]
    dev = device(3, shots=100)

    @qml.qnode(dev)
    def circuit():  # type: ignore[no-untyped-def]
        qml.PauliX(wires=0)
        qml.RY(2 * np.arcsin(np.sqrt(0.3)), wires=2)  # P(wire 2 = 1) = 0.3
        return qml.probs(wires=[0, 1, 2])

    probs = circuit()
    # Wire 0 is the most significant bit in pennylane: |100> is index 4, |101> index 5.
    expected = np.zeros(8)
    expected[4] = 0.7
    expected[5] = 0.3
    assert np.allclose(probs, expected, atol=1e-9), probs

    @qml.qnode(dev)
    def marginal():  # type: ignore[no-untyped-def]
        qml.PauliX(wires=0)
        return qml.probs(wires=[1, 0])

    assert np.allclose(marginal(), [0, 1, 0, 0], atol=1e-12)


def test_parameter_shift_gradient_of_probs_is_exact(device, live_server) -> None:  # type: ignore[no-untyped-def]
    dev = device(2, shots=1000)

    @qml.qnode(dev, diff_method="parameter-shift")
    def circuit(x):  # type: ignore[no-untyped-def]
        qml.RX(x, wires=0)
        qml.CNOT(wires=[0, 1])
        return qml.probs(wires=[1])

    x = pnp.array(0.7, requires_grad=True)
    # probs are the simulator's exact probabilities, so the shifted evaluations are exact too.
    assert np.allclose(circuit(x), [np.cos(x / 2) ** 2, np.sin(x / 2) ** 2], atol=1e-9)
    jacobian = qml.jacobian(circuit)(x)
    assert np.allclose(jacobian, [-np.sin(x) / 2, np.sin(x) / 2], atol=1e-9), jacobian
    job = latest_job(live_server)
    assert job["type"] == "ionq.multi-circuit.v1"  # the two shifted circuits went as one job
    assert job["stats"]["circuits"] == 2


def test_parameter_shift_gradient_of_sampled_expval(device) -> None:  # type: ignore[no-untyped-def]
    shots = 2000
    dev = device(2, shots=shots)

    @qml.qnode(dev, diff_method="parameter-shift")
    def circuit(x, y):  # type: ignore[no-untyped-def]
        qml.RX(x, wires=0)
        qml.RY(y, wires=1)
        qml.CNOT(wires=[0, 1])
        return qml.expval(qml.PauliZ(1))

    x = pnp.array(0.7, requires_grad=True)
    y = pnp.array(-0.4, requires_grad=True)
    np.random.seed(5)
    grad = qml.grad(circuit)(x, y)
    # <Z1> = cos(x) cos(y). expval samples `shots` outcomes per shifted circuit: each shifted value has
    # a standard deviation <= 1/sqrt(shots), a shift-rule derivative <= 1/sqrt(2 shots); allow 5 of them.
    tolerance = 5 / np.sqrt(2 * shots)
    assert grad[0] == pytest.approx(-np.sin(0.7) * np.cos(-0.4), abs=tolerance)
    assert grad[1] == pytest.approx(-np.cos(0.7) * np.sin(-0.4), abs=tolerance)


def test_native_gates(device) -> None:  # type: ignore[no-untyped-def]
    dev = device(3, shots=100, gateset="native")

    @qml.qnode(dev)
    def circuit():  # type: ignore[no-untyped-def]
        GPI2(0.1, wires=0)
        GPI(0.3, wires=1)
        GPI2(0.85, wires=2)
        MS(0.2, 0.4, 0.25, wires=[0, 1])
        GPI2(0.7, wires=1)
        MS(0.05, 0.6, 0.1, wires=[1, 2])
        GPI(0.15, wires=0)
        return qml.probs(wires=[0, 1, 2])

    state = np.zeros(8, dtype=complex)
    state[0] = 1
    for matrix, wires in [
        (gpi2(0.1), [0]),
        (gpi(0.3), [1]),
        (gpi2(0.85), [2]),
        (ms(0.2, 0.4, 0.25), [0, 1]),
        (gpi2(0.7), [1]),
        (ms(0.05, 0.6, 0.1), [1, 2]),
        (gpi(0.15), [0]),
    ]:
        state = apply_big_endian(state, matrix, wires, 3)
    expected = np.abs(state) ** 2  # wire 0 = MSB, as pennylane orders probs
    assert np.allclose(circuit(), expected, atol=1e-9)
