"""The ``hamiltonian-energy`` quantum function: which circuits one evaluation runs, and the energy
and its variance from what they measured.

One evaluation at parameters ``θ`` runs one circuit per qubit-wise commuting group (the bound ansatz
followed by that group's basis change), each with the job's shots, and combines:

* ``value = Σ_identity c + Σ_groups ⟨O_g⟩ (+ penalty term)``;
* ``variance = Σ_groups Var(O_g) / shots``: the variance of the returned value as an estimator of the
  energy (groups are measured independently, so their variances add). With exact probabilities
  (the ideal simulator) it is the variance a ``shots``-shot measurement would have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from qumulus.circuits.model import Circuit
from qumulus.workloads.ansatz import Ansatz, NativeTemplates, measured_in
from qumulus.workloads.hamiltonian import (
    GroupEstimate,
    Hamiltonian,
    MeasurementGroup,
    estimate_group,
    group_qubit_wise,
)
from qumulus.workloads.penalty import Penalty


@dataclass(frozen=True, slots=True)
class Evaluation:
    value: float
    variance: float


@dataclass
class HamiltonianEnergy:
    hamiltonian: Hamiltonian
    ansatz: Ansatz
    penalty: Penalty | None = None
    groups: list[MeasurementGroup] = field(init=False)

    def __post_init__(self) -> None:
        self.groups = group_qubit_wise(self.hamiltonian, need_z_basis=self.penalty is not None)
        self._native: dict[str, NativeTemplates] = {}

    @property
    def qubits(self) -> int:
        return self.ansatz.qubits

    @property
    def parameters(self) -> int:
        return len(self.ansatz.names)

    def circuits(self, params: Sequence[float], *, native_2q: str | None = None) -> list[Circuit]:
        """One circuit per measurement group, in group order (none if every term is the identity).

        ``native_2q`` (``ms`` or ``zz``): in native gates, from templates compiled once (see
        :class:`~qumulus.workloads.ansatz.NativeTemplates`); else QIS gates."""
        if native_2q is not None and self.groups:
            templates = self._native.get(native_2q)
            if templates is None:
                templates = self._native[native_2q] = NativeTemplates(self.ansatz, self.groups, native_2q)
            return templates.circuits(params)
        bound = self.ansatz.bind(params)
        return [measured_in(bound, group) for group in self.groups]

    def evaluate(self, distributions: Sequence[Mapping[int, float]], shots: int) -> Evaluation:
        """Energy and estimator variance from each group circuit's outcome distribution."""
        value = self.hamiltonian.identity_part()
        variance = 0.0
        penalized = self.penalty is not None
        for group, probabilities in zip(self.groups, distributions, strict=True):
            extra = None
            if penalized and group.diagonal:
                penalty, n = self.penalty, self.qubits
                extra = lambda k, penalty=penalty, n=n: penalty.term(k, n)  # noqa: E731
                penalized = False  # once
            estimate: GroupEstimate = estimate_group(group, probabilities, extra)
            value += estimate.value
            variance += estimate.single_shot_variance / max(1, shots)
        return Evaluation(value, variance)
