"""What crosses the process boundary: a task to simulate, and its outcome.

Tasks carry the circuit as wire JSON (already validated at submission) rather than pickled model
objects, so any process, on any machine, can run them from what the database holds. Large results
are written to ``result_path`` by the simulating process itself: a 26-qubit distribution is 512 MiB,
and copying it through a pipe would cost more than writing it once.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

#: Decimals kept in exact probabilities returned inline (see :func:`tidy`).
ROUND_DECIMALS = 14


@dataclass(frozen=True, slots=True)
class Task:
    execution_id: str
    job_id: str
    job_type: str
    input: dict[str, Any]
    shots: int
    noise: dict[str, Any] | None
    #: Absolute path for a result too large to return inline.
    result_path: str
    #: Largest number of non-zero entries returned inline.
    inline_limit: int
    qubits: int = 0
    #: Job settings (``error_mitigation.debiasing`` matters to emulated runs).
    settings: dict[str, Any] | None = None
    #: For an emulated run, the snapshot of the QPU it emulates (``Characterization.data``), its id
    #: and qubit count; None for an ideal simulation.
    characterization: dict[str, Any] | None = None
    characterization_id: str | None = None
    device_qubits: int = 0
    #: The server's emulation limit (``Settings.max_emulation_seconds``; 0 = none): an emulated run
    #: predicted over it runs in trajectory-budget mode (``qumulus.sim.emulator``).
    max_emulation_seconds: float = 0.0


@dataclass(slots=True)
class Outcome:
    execution_id: str
    ok: bool
    seconds: float
    qubits: int = 0
    engine: str | None = None
    indices: list[int] | None = None
    values: list[float] | None = None
    path: str | None = None
    failure: dict[str, str] | None = None
    #: Sampled runs (emulated QPUs): per-shot outcomes in execution order, and how many shots each
    #: debiasing variant took (one entry when not debiased).
    shots: list[int] | None = None
    variant_shots: list[int] | None = None
    #: The charge, when it is not the contract's rate × ``seconds``: a driver-served backend that
    #: passes its provider's reported cost through (``billing = "upstream"``).
    cost: Decimal | None = None


_NO_DISTRIBUTION = "the simulation produced no probability distribution (a non-finite or empty state)"


def _meaningful(probabilities: np.ndarray) -> bool:
    """Whether a result is a distribution at all: an empty or non-finite one (a gate whose angle
    overflowed, an engine fault) is never a completed job's result."""
    if probabilities.size == 0:
        return False
    total = float(np.sum(probabilities, dtype=np.float64))
    return np.isfinite(total) and total > 0.5


def run_task(task: Task) -> Outcome:
    """Simulate one task; never raises (a failure becomes a failed outcome with a code)."""
    from qumulus.circuits.errors import CircuitError
    from qumulus.circuits.ionq_json import parse_input
    from qumulus.circuits.pauli import lower_circuit
    from qumulus.sim.ideal import simulate
    from qumulus.sim.results_io import save_distribution
    from qumulus.sim.routing import sampling_engines

    started = time.perf_counter()
    try:
        batch = parse_input(task.job_type, task.input)
        circuit = lower_circuit(batch.circuits[0])  # a commuting pauliexp runs as rotations
        if task.characterization is not None:
            return _run_emulated(task, circuit)
        result = simulate(circuit, task.shots, seed=emulation_seed(task))
        distribution, engine = result.distribution, result.engine
        if not _meaningful(distribution.values):
            return _failed(task, started, "SimulationError", _NO_DISTRIBUTION)
        seconds = time.perf_counter() - started
        if result.samples is not None:  # sampled (a program that measures, or a wide circuit)
            indices, values = distribution.nonzero()
            return Outcome(
                execution_id=task.execution_id,
                ok=True,
                seconds=seconds,
                qubits=distribution.qubits,
                engine=engine,
                indices=indices.tolist(),
                values=values.tolist(),
                shots=result.samples.outcomes(),
                variant_shots=[result.samples.shots],
            )
        if distribution.nonzero_count() <= task.inline_limit:
            indices, values = tidy(*distribution.nonzero())
            return Outcome(
                execution_id=task.execution_id,
                ok=True,
                seconds=seconds,
                qubits=circuit.qubits,
                engine=engine,
                indices=indices.tolist(),
                values=values.tolist(),
            )
        # A float32 engine's probabilities carry float32 precision: storing them as float64 would
        # double the bytes written (256 → 512 MiB at 26 qubits) and add nothing.
        single = sampling_engines()[engine].precision_bits == 32
        save_distribution(task.result_path, distribution, dtype=np.float32 if single else None)
        return Outcome(
            execution_id=task.execution_id,
            ok=True,
            seconds=time.perf_counter() - started,
            qubits=circuit.qubits,
            engine=engine,
            path=task.result_path,
        )
    except CircuitError as exc:
        return _failed(task, started, "InvalidInput", str(exc))
    except MemoryError as exc:
        detail = str(exc) or "the simulation ran out of memory"
        return _failed(task, started, "SimulationError", detail)
    except Exception as exc:  # an engine bug must fail the job, not the worker
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return _failed(task, started, "SimulationError", f"simulation failed: {detail}")


def _run_emulated(task: Task, circuit: Any) -> Outcome:
    """An emulated-QPU run: noisy shots; ``seconds`` is the timing model's QPU time (what is billed)."""
    from qumulus.sim.emulator import aggregate_average, emulate

    device = _device(task)
    em = (task.settings or {}).get("error_mitigation") or {}
    debias = isinstance(em, dict) and em.get("debiasing") is True
    # A program that measures comes back over its classical bits (a mid-circuit one runs per shot).
    result = emulate(
        circuit,
        device,
        task.shots,
        seed=emulation_seed(task),
        debias=debias,
        max_seconds=task.max_emulation_seconds or None,
    )
    distribution = aggregate_average(result.outcomes, result.variant_shots)
    if not _meaningful(np.fromiter(distribution.values(), float, len(distribution))):
        raise ValueError(_NO_DISTRIBUTION)
    return Outcome(
        execution_id=task.execution_id,
        ok=True,
        seconds=result.seconds,
        qubits=circuit.qubits,
        engine=result.method,
        indices=list(distribution),
        values=list(distribution.values()),
        shots=result.outcomes.tolist(),
        variant_shots=result.variant_shots,
    )


_DEVICES: dict[str, Any] = {}


def _device(task: Task) -> Any:
    """The device model of the task's snapshot, built once per snapshot id in this process."""
    from qumulus.backends.device import device_model

    key = task.characterization_id or ""
    device = _DEVICES.get(key) if key else None
    if device is None:
        assert task.characterization is not None
        device = device_model(task.characterization, task.device_qubits or None)
        if key:
            _DEVICES[key] = device
    return device


def emulation_seed(task: Task) -> int:
    """``noise.seed`` when the job gave one (reproducible results), else one derived from the job id
    (a retried execution samples the same shots)."""
    seed = (task.noise or {}).get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    return int(task.job_id.replace("-", "")[:15], 16)


def tidy(indices: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round exact probabilities to 14 decimals and drop the zeros that leaves.

    Double-precision engines leave |1/√2|² one ulp below 0.5; IonQ's simulator reports 0.5, and the
    ionq package turns 0.4999999999999999 × 100 shots into 49 counts. Rounding at 1e-14 is far below
    any engine's own error and makes exact answers print exactly.
    """
    rounded = np.round(np.asarray(values, dtype=np.float64), ROUND_DECIMALS)
    keep = rounded > 0
    return np.asarray(indices)[keep], rounded[keep]


def _failed(task: Task, started: float, code: str, message: str) -> Outcome:
    return Outcome(
        execution_id=task.execution_id,
        ok=False,
        seconds=time.perf_counter() - started,
        failure={"code": code, "message": message},
    )


def run_tasks(tasks: list[Task]) -> list[Outcome]:
    """A batch of small tasks in one process call: one pipe round trip for many tiny jobs."""
    return [run_task(task) for task in tasks]


def warm_up(engines: bool = True) -> None:
    """Pool-process start: die with the server, and (``engines``) import and exercise every engine
    so the first job does not pay for it."""
    _die_with_parent()
    if engines:
        from qumulus.sim import routing

        routing.warm_up()


def _die_with_parent() -> None:
    """On Linux, ask the kernel to SIGTERM this process when the server process dies.

    Without it a server killed hard (SIGKILL, OOM) leaves its pool processes behind forever.
    """
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import os
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent is already gone
        os._exit(0)
