"""What the ideal ``simulator`` backend runs for one circuit: exact where it can, sampled where it must.

* An IonQ JSON circuit (``clbits == 0``) gets **exact probabilities**, like IonQ's simulator: a state
  vector when one fits (``routing.run_ideal``), or stim's enumerated distribution for a Clifford
  circuit with at most 4096 outcomes at any width up to the stim cap (GHZ-1000: exactly 0.5 / 0.5).
  Otherwise (a wide non-Clifford circuit on MPS, a Clifford circuit with a huge support) it is
  **sampled** with the job's shots, and the probabilities are the frequencies.
* A program that measures (OpenQASM, ``clbits > 0``) is always **sampled** with the job's shots, like
  a QPU: its per-shot classical bits are the result (qiskit-ionq reads them per register), and its
  probabilities are their frequencies over the classical bits.

:func:`admit` is the submission-time check of the same rules (which widths the simulator accepts per
circuit class), so a circuit no engine can run is refused before it is queued.
"""

from __future__ import annotations

from dataclasses import dataclass

from qumulus.circuits.model import Circuit
from qumulus.sim.engine import Distribution, Samples
from qumulus.sim.routing import STATE_VECTOR_MAX_QUBITS, route, run_ideal, run_shots

#: Advertised widths per circuit class (docs/simulation.md: how clients see them).
STATE_VECTOR_QUBITS = 29
#: Up to this width a Clifford circuit's exact distribution comes from a state vector: measured,
#: a Bell pair is 0.03 ms on qulacs against 0.4 ms for stim's enumeration (a tableau and a copy per
#: random outcome); GHZ-16 about 1 ms on either.
CLIFFORD_STATE_VECTOR_MAX = 16


@dataclass(frozen=True)
class IdealResult:
    engine: str
    #: Exact (``exact=True``) or empirical probabilities, over the qubits or the classical bits.
    distribution: Distribution
    exact: bool
    #: Per-shot outcomes of a sampled run (``None`` for an exact one).
    samples: Samples | None = None


def simulate(circuit: Circuit, shots: int, seed: int | None = None) -> IdealResult:
    """Run ``circuit`` as the ideal simulator does (see the module docstring)."""
    if not circuit.measures_explicitly:
        chosen = route(circuit, shots)
        if chosen.engine == "stim" and circuit.qubits > CLIFFORD_STATE_VECTOR_MAX:
            from qumulus.sim.stabilizer import StimEngine, TooManyOutcomes

            try:
                return IdealResult("stim", StimEngine().probabilities(circuit), exact=True)
            except TooManyOutcomes:
                pass
        if chosen.state_vector or (chosen.engine == "stim" and circuit.qubits <= STATE_VECTOR_QUBITS):
            distribution, engine = run_ideal(circuit)
            return IdealResult(engine, distribution, exact=True)
    samples, engine = run_shots(circuit, shots, seed)
    # "stim" names the exact (enumerated) answer; sampled stim results are told apart.
    return IdealResult("stim-shots" if engine == "stim" else engine, samples.distribution(), False, samples)


def widths() -> dict[str, int]:
    """The widest circuit the simulator takes per circuit class."""
    from qumulus.sim.mps import MPSEngine
    from qumulus.sim.stabilizer import max_qubits_configured

    return {
        "any": STATE_VECTOR_QUBITS,
        "clifford": max_qubits_configured(),
        "low_entanglement": MPSEngine.max_qubits,
        "mid_circuit_measurement": STATE_VECTOR_QUBITS,
    }


def admit(circuit: Circuit) -> str | None:
    """``None`` when the simulator can run ``circuit``, else why not (for a 4xx naming the class)."""
    n = circuit.qubits
    if n <= STATE_VECTOR_QUBITS:
        return None
    try:
        chosen = route(circuit, 1)
    except ValueError as exc:
        return str(exc)
    if chosen.state_vector and n > STATE_VECTOR_MAX_QUBITS:
        return f"{n} qubits is wider than a state vector takes here ({STATE_VECTOR_QUBITS})"
    if chosen.engine == "trajectories":
        return (
            f"{n} qubits: a program that measures mid-circuit, resets or branches runs on per-shot "
            f"state vectors, at most {STATE_VECTOR_QUBITS} qubits (or any width up to "
            f"{widths()['clifford']} when it is a Clifford circuit)"
        )
    if n > STATE_VECTOR_QUBITS and chosen.state_vector:
        return (
            f"{n} qubits: a general circuit is limited to {STATE_VECTOR_QUBITS} qubits; wider circuits "
            f"run when Clifford (up to {widths()['clifford']}) or weakly entangled (matrix product state)"
        )
    return None
