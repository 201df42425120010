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


def depolarizing_parameter(fidelity: float, other_fidelity: float, qubits: int) -> float:
    """Depolarizing λ (Aer's ``depolarizing_error`` parameter) that brings a gate whose other error
    sources leave average gate fidelity ``other_fidelity`` down to ``fidelity``.

    Average gate fidelity is linear in the channel, and ρ → (1−λ)·E(ρ) + λ·I/d has fidelity
    (1−λ)·F_E + λ/d (the fully depolarizing channel has 1/d), so λ = (F_E − F)/(F_E − 1/d), exactly;
    never below 0 (a gate cannot be better than its relaxation allows: then λ = 0).
    """
    d = 2**qubits
    return max(0.0, (other_fidelity - fidelity) / (other_fidelity - 1.0 / d))


class NoiseBuilder:
    """Aer error objects for one device, cached (RB circuits reuse a handful thousands of times)."""

    def __init__(self, device: DeviceModel, *, trajectories: bool = False) -> None:
        """``trajectories``: two-qubit errors as Aer mixtures (relaxation circuits and Paulis), which
        Aer's state-vector trajectories sample directly; otherwise one exact Kraus channel (density
        matrix; Aer's trajectory path fails on a general 2q Kraus: "heevx ... not hermitian")."""
        self.device = device
        self.trajectories = trajectories
        self._idle = functools.lru_cache(maxsize=4096)(lambda q, s: _settled(self._idle_uncached(q, s)))
        self._gate1 = functools.lru_cache(maxsize=None)(lambda q: _settled(self._gate1_uncached(q)))
        self._gate2 = functools.lru_cache(maxsize=None)(lambda a, b: _settled(self._gate2_uncached(a, b)))

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
        from qiskit.quantum_info import SuperOp, average_gate_fidelity

        d = self.device
        drift = SuperOp(self._drift(qubit, d.t_1q).to_quantumchannel())
        lam = depolarizing_parameter(d.f1q[qubit], float(average_gate_fidelity(drift)), 1)
        if self.trajectories:
            from qiskit_aer.noise import depolarizing_error

            mixture = self._drift(qubit, d.t_1q)
            return mixture.compose(depolarizing_error(lam, 1)) if lam > 0 else mixture
        return _as_error(drift.compose(_depolarizing(lam, 1)))

    def _gate2_uncached(self, a: int, b: int) -> Any:
        from qiskit.quantum_info import Operator, SuperOp, average_gate_fidelity

        from qumulus.circuits.gates import matrix
        from qumulus.circuits.model import Operation

        d = self.device
        drift_a = SuperOp(self._drift(a, d.t_2q).to_quantumchannel())
        drift_b = SuperOp(self._drift(b, d.t_2q).to_quantumchannel())
        # ``x.expand(y)`` = y ⊗ x: ``x`` acts on the channel's first qubit (a, the gate's first).
        drift = drift_a.expand(drift_b)
        # The gate itself runs over-rotated (emulator._as_run): that coherent part is in the budget
        # too. Its error unitary is an MS/ZZ-type rotation by the excess; any phases give the same
        # fidelity, so the MS form stands for both.
        excess = Operation("ms", (0, 1), params=(0.0, 0.0, d.over_rotation(a, b)))
        other = SuperOp(Operator(matrix(excess))).compose(drift)
        lam = depolarizing_parameter(d.fidelity_2q(a, b), float(average_gate_fidelity(other)), 2)
        if self.trajectories:
            from qiskit_aer.noise import depolarizing_error

            mixture = self._drift(a, d.t_2q).expand(self._drift(b, d.t_2q))
            return mixture.compose(depolarizing_error(lam, 2)) if lam > 0 else mixture
        return _as_error(drift.compose(_depolarizing(lam, 2)))


def _depolarizing(lam: float, qubits: int) -> Any:
    """ρ → (1−λ)ρ + λ·I/d as a superoperator (Aer's ``depolarizing_error`` parameter)."""
    from qiskit.quantum_info import SuperOp

    d = 2**qubits
    identity = SuperOp(np.eye(d * d))
    # The fully depolarizing map: vec(ρ) → tr(ρ)·vec(I)/d.
    full = SuperOp(np.outer(np.eye(d).reshape(-1), np.eye(d).reshape(-1)) / d)
    return SuperOp((1 - lam) * identity.data + lam * full.data)


class _Known:
    """A constant answer, standing in for a method whose answer for this object never changes."""

    __slots__ = ("answer",)

    def __init__(self, answer: bool) -> None:
        self.answer = answer

    def __call__(self) -> bool:
        return self.answer


def _settled(error: Any) -> Any:
    """``error`` with its ``ideal()`` answered once, for good.

    Aer moves every ``QuantumError`` instruction of a circuit into the run's noise model and asks
    each, on every run, whether it is the identity (``QuantumError.ideal``: a Clifford conversion
    that fails on a Kraus channel, formatting the channel's matrices into its error message, then a
    Kraus decomposition): about 1 ms per distinct error, 10 ms of a 2-qubit circuit's 15 ms
    emulation. The builder's errors are cached and never change, so neither does the answer; it is
    computed here, with Aer's own check, once per error.
    """
    error.ideal = _Known(bool(error.ideal()))
    return error


def _as_error(channel: Any) -> Any:
    """An Aer ``QuantumError`` (one Kraus instruction) from a quantum_info channel."""
    from qiskit.quantum_info import Kraus
    from qiskit_aer.noise import QuantumError

    return QuantumError(Kraus(channel))
