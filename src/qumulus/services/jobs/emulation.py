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
    except ValueError:  # not emulable (mid-circuit measurement): the run itself says why
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
