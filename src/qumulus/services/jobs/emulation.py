"""Emulated runs at submission: the emulator's predicted wall time, and the limit it must stay under.

An emulated job (a ``qpu.*`` job, or a ``simulator`` job with a QPU noise model) runs the noisy
engine of :mod:`qumulus.sim.emulator`, whose cost model predicts its wall-clock time from the compiled
circuit before anything runs. The prediction is shown on the job (``predicted_emulation_duration_ms``;
``predicted_execution_duration_ms`` stays the billed QPU time), and a job predicted to take longer
than ``Settings.max_emulation_seconds`` fails at once with IonQ's failure code
``TooLongPredictedExecutionTime`` instead of occupying a worker for hours.
"""

from __future__ import annotations

from typing import Any

from qumulus.backends.catalog import BY_NAME, emulation_target
from qumulus.circuits.model import Circuit, CircuitBatch

#: IonQ's failure code for a job whose predicted execution time is over the limit.
TOO_LONG = "TooLongPredictedExecutionTime"


def predicted_emulation_seconds(
    backend: str,
    noise: dict[str, Any] | None,
    circuit: Circuit,
    shots: int,
    settings: dict[str, Any] | None,
    max_seconds: float = 0.0,
) -> float | None:
    """Predicted wall seconds of one emulated circuit on this machine class; None when not emulated.

    ``max_seconds`` is the server's limit: a circuit predicted over it exactly is priced as it will
    run, in trajectory-budget mode (fewer, shared trajectories; ``qumulus.sim.emulator``), when that
    fits; only a circuit that does not fit even so stays over the limit (and is refused).

    Pure (no I/O, deterministic): the QPU's catalog characterization gives the device's shape and
    noise rates (a recalibrated snapshot changes rates by a few per cent, not the work); the circuit
    is compiled the same deterministic way the run compiles it.
    """
    target = emulation_target(backend, noise)
    spec = BY_NAME.get(target) if target else None
    if spec is None:
        return None
    from qumulus.backends.device import device_model
    from qumulus.sim.emulator import predict

    em = (settings or {}).get("error_mitigation") or {}
    debias = isinstance(em, dict) and em.get("debiasing") is True
    device = device_model(spec.characterization(), spec.qubits)
    try:
        return predict(circuit, device, shots, debias=debias, max_seconds=max_seconds or None).seconds
    except ValueError:  # not emulable (preflight refuses it first): the run itself says why
        return None


def predictions(
    backend: str,
    noise: dict[str, Any] | None,
    batch: CircuitBatch,
    shots: int,
    settings: dict[str, Any] | None,
    max_seconds: float = 0.0,
) -> list[float | None]:
    """:func:`predicted_emulation_seconds` of every circuit of a job (each runs as its own execution)."""
    return [
        predicted_emulation_seconds(backend, noise, c, shots, settings, max_seconds) for c in batch.circuits
    ]


def too_long(seconds: list[float | None], limit: float) -> dict[str, str] | None:
    """The failure of a job whose slowest circuit is predicted over ``limit`` seconds, else None."""
    worst = max((s for s in seconds if s is not None), default=None)
    if worst is None or limit <= 0 or worst <= limit:
        return None
    return {
        "code": TOO_LONG,
        "message": (
            f"the emulator predicts {worst:.0f} s of simulation for this job, over this server's limit of "
            f"{limit:.0f} s (QUMULUS_MAX_EMULATION_SECONDS): use fewer qubits, gates or shots"
        ),
    }


#: ``GET /jobs/estimate`` prices gate counts up to this many gates (building the noise program of a
#: representative circuit costs ~60 µs a gate); above it the estimate says nothing about wall time.
COUNTS_MAX_GATES = 20_000


def predicted_from_counts(
    backend: str, qubits: int, one_qubit: int, two_qubit: int, shots: int, debias: bool, max_seconds: float
) -> float | None:
    """Predicted emulator wall seconds for a job known only by its gate counts (qiskit-ionq's
    ``estimate_job``); None when the backend is not emulated or the counts are out of range.

    The counts are taken as native gates (what a circuit's gates mostly become: a CNOT is one MS plus
    one-qubit pulses the compiler folds into neighbours) of a representative circuit: layer after
    layer, a GPI2 at an irrational phase on every qubit in turn and MS on neighbouring pairs, so it is
    not Clifford and entangles everything, which is what a state-vector engine pays for. The body
    form (``POST``) prices the real compiled circuit instead.
    """
    spec = BY_NAME.get(backend)
    if spec is None or not backend.startswith("qpu.") or qubits < 1 or qubits > spec.qubits:
        return None
    if one_qubit + two_qubit > COUNTS_MAX_GATES or (two_qubit and qubits < 2):
        return None
    from qumulus.backends.device import device_model
    from qumulus.circuits.model import Operation
    from qumulus.sim.emulator import predict_native

    device = device_model(spec.characterization(), spec.qubits)
    ops: list[Operation] = []
    per_two = one_qubit / two_qubit if two_qubit else float(one_qubit)
    ones = twos = 0
    while ones < one_qubit or twos < two_qubit:
        # ones/twos interleaved in the requested proportion
        while ones < one_qubit and (twos >= two_qubit or ones < per_two * (twos + 1)):
            ops.append(Operation("gpi2", (ones % qubits,), params=(0.1 + 0.618 * ones % 1.0,)))
            ones += 1
        if twos < two_qubit:
            a = (2 * twos + (twos * 2 // qubits) % 2) % qubits
            b = (a + 1) % qubits
            name = "ms" if device.native_2q == "ms" else "zz"
            params = (0.0, 0.0, 0.25) if name == "ms" else (0.25,)
            ops.append(Operation(name, (a, b), params=params))
            twos += 1
    native = Circuit(qubits, tuple(ops), gateset="native")
    return predict_native(native, device, shots, debias=debias, max_seconds=max_seconds or None).seconds
