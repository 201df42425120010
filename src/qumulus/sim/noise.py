"""Noise channels of an emulated QPU, built from its characterization with qiskit-aer's noise library.

Each characterized figure becomes one physical channel:

* **idle decoherence**: while a qubit waits (the gaps in the timing model's schedule, and from its
  last gate until readout) it gets amplitude + phase damping from its T1/T2
  (``thermal_relaxation_error``) and a coherent Z rotation from its frequency offset
  (``detuning_hz``, 2π·δ·t radians);
* **gate error**: after each gate, the same relaxation and drift for the gate's duration on each of
  its qubits, then a depolarizing channel whose strength makes the *total* average gate fidelity
  equal the characterized one (per qubit for GPI/GPI2, per pair for MS/ZZ). Relaxation and drift
  are already part of what a characterization measures, so they are subtracted from the budget
  first (:func:`depolarizing_parameter`), as qiskit's own device noise models do;
* **coherent over-rotation**: every MS/ZZ gate on a pair runs with the pair's systematic excess
  angle (``DeviceModel.over_rotation``, part of the same budget);
* **readout (SPAM)**: an asymmetric per-qubit confusion matrix, ``P(1|0)`` and ``P(0|1)``,
  attached to measurements through an Aer ``NoiseModel``.

Gate and idle channels go into the circuit as Aer ``QuantumError`` instructions at the exact place
the schedule puts them (no label matching: a labelled ``unitary`` is easy to leave noiseless by
mistake, see simulators.md). Channels are cached per qubit / pair / duration.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from qumulus.backends.device import DeviceModel


def depolarizing_parameter(fidelity: float, other_infidelity: float, qubits: int) -> float:
    """Depolarizing λ (Aer's ``depolarizing_error`` parameter) that brings a gate whose other error
    sources already cost ``other_infidelity`` to average gate fidelity ``fidelity``.

    A depolarizing channel ρ → (1−λ)ρ + λ·I/d has average gate infidelity λ·(d−1)/d, d = 2**qubits;
    small errors add, so λ = (r_total − r_other)·d/(d−1), and never below 0 (a gate cannot be better
    than its relaxation allows: then the characterized figure is unreachable and λ = 0).
    """
    d = 2**qubits
    remaining = (1.0 - fidelity) - other_infidelity
    return max(0.0, remaining * d / (d - 1))


class NoiseBuilder:
    """Aer error objects for one device, cached (RB circuits reuse a handful thousands of times)."""

    def __init__(self, device: DeviceModel) -> None:
        self.device = device
        self._idle = functools.lru_cache(maxsize=4096)(self._idle_uncached)
        self._gate1 = functools.lru_cache(maxsize=None)(self._gate1_uncached)
        self._gate2 = functools.lru_cache(maxsize=None)(self._gate2_uncached)

    # public ------------------------------------------------------------------------------------

    def idle(self, qubit: int, seconds: float) -> Any:
        """Relaxation + drift of physical ``qubit`` waiting ``seconds``."""
        return self._idle(qubit, round(seconds, 12))

    def gate(self, physical: tuple[int, ...]) -> Any:
        """The error after a native gate on ``physical`` qubits (one or two, in gate order)."""
        if len(physical) == 1:
            return self._gate1(physical[0])
        return self._gate2(physical[0], physical[1])

    def readout_model(self, physical: list[int]) -> Any:
        """A ``NoiseModel`` with the readout error of ``physical[i]`` on simulated qubit ``i``."""
        from qiskit_aer.noise import NoiseModel, ReadoutError

        model = NoiseModel()
        for sim_qubit, q in enumerate(physical):
            p10 = self.device.p1_given_0[q]
            p01 = self.device.p0_given_1[q]
            model.add_readout_error(ReadoutError([[1 - p10, p10], [p01, 1 - p01]]), [sim_qubit])
        return model

    # building ----------------------------------------------------------------------------------

    def _drift(self, qubit: int, seconds: float) -> Any:
        """Relaxation then the coherent Z drift, as one one-qubit QuantumError."""
        from qiskit.circuit.library import RZGate
        from qiskit_aer.noise import coherent_unitary_error, thermal_relaxation_error

        d = self.device
        relax = thermal_relaxation_error(d.t1[qubit], d.t2[qubit], seconds)
        angle = 2 * math.pi * d.detuning_hz[qubit] * seconds
        return relax.compose(coherent_unitary_error(RZGate(angle).to_matrix()))

    def _idle_uncached(self, qubit: int, seconds: float) -> Any:
        return self._drift(qubit, seconds)

    def _gate1_uncached(self, qubit: int) -> Any:
        from qiskit.quantum_info import SuperOp

        d = self.device
        drift = SuperOp(self._drift(qubit, d.t_1q).to_quantumchannel())
        lam = depolarizing_parameter(d.f1q[qubit], 1 - _average_fidelity(_process_fidelity(drift), 2), 1)
        return _as_error(drift.compose(_depolarizing(lam, 1)))

    def _gate2_uncached(self, a: int, b: int) -> Any:
        from qiskit.quantum_info import SuperOp

        d = self.device
        drift_a = SuperOp(self._drift(a, d.t_2q).to_quantumchannel())
        drift_b = SuperOp(self._drift(b, d.t_2q).to_quantumchannel())
        # ``x.expand(y)`` = y ⊗ x: ``x`` acts on the channel's first qubit (a, the gate's first).
        drift = drift_a.expand(drift_b)
        # Process fidelities of independent channels multiply: no need to twirl the 2q channel.
        process = _process_fidelity(drift_a) * _process_fidelity(drift_b)
        # The gate itself is over-rotated (emulator._as_run): that coherent part is in the budget too.
        coherent = 0.8 * math.sin(math.pi * d.over_rotation(a, b)) ** 2
        other = 1 - _average_fidelity(process, 4) + coherent
        lam = depolarizing_parameter(d.fidelity_2q(a, b), other, 2)
        return _as_error(drift.compose(_depolarizing(lam, 2)))


def _depolarizing(lam: float, qubits: int) -> Any:
    """ρ → (1−λ)ρ + λ·I/d as a superoperator (Aer's ``depolarizing_error`` parameter)."""
    from qiskit.quantum_info import SuperOp

    d = 2**qubits
    identity = SuperOp(np.eye(d * d))
    # The fully depolarizing map: vec(ρ) → tr(ρ)·vec(I)/d.
    full = SuperOp(np.outer(np.eye(d).reshape(-1), np.eye(d).reshape(-1)) / d)
    return SuperOp((1 - lam) * identity.data + lam * full.data)


def _as_error(channel: Any) -> Any:
    """An Aer ``QuantumError`` (one Kraus instruction) from a quantum_info channel."""
    from qiskit.quantum_info import Kraus
    from qiskit_aer.noise import QuantumError

    return QuantumError(Kraus(channel))


def _process_fidelity(channel: Any) -> float:
    """Process (entanglement) fidelity of a one-qubit channel with the identity."""
    from qiskit.quantum_info import process_fidelity

    return float(process_fidelity(channel))


def _average_fidelity(process: float, d: int) -> float:
    """Average gate fidelity from process fidelity: (d·F_pro + 1)/(d + 1)."""
    return (d * process + 1) / (d + 1)
