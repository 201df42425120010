"""Native ``SamplerV2`` and ``EstimatorV2``: every ``run`` is one server job, retrievable by its id.

Why native rather than Qiskit's ``BackendSamplerV2``/``BackendEstimatorV2`` alone: those return a
local job whose id the server never saw (qiskit-ionq #242). Here ``job.job_id()`` is the server's,
and ``sampler.job(id)`` / ``estimator.job(id)`` rebuild the result in any process, because the pub
shapes (and the estimator's observables) are stored with the job.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.primitives import (
    BaseEstimatorV2,
    BasePrimitiveJob,
    BaseSamplerV2,
    BitArray,
    DataBin,
    PrimitiveResult,
    PubResult,
    SamplerPubResult,
)
from qiskit.primitives.containers.estimator_pub import EstimatorPub
from qiskit.primitives.containers.sampler_pub import SamplerPub
from qiskit.providers import JobStatus as QiskitJobStatus

from qumulus.client.interop.qiskit_circuits import to_ionq
from qumulus.qiskit.backend import QumulusBackend
from qumulus.qiskit.job import LAYOUT_KEY, QumulusJob, layout_metadata, read_layout

PRIMITIVE_KEY = "qiskit_primitive"


class PrimitiveJob(BasePrimitiveJob[PrimitiveResult, QiskitJobStatus]):
    """A primitive's job: the server job (same id) plus how to turn its shots into pub results."""

    def __init__(self, job: QumulusJob, build: Any) -> None:
        super().__init__(job.job_id())
        self.backend_job = job
        self._build = build
        self._result: PrimitiveResult | None = None

    def result(self, timeout: float | None = None) -> PrimitiveResult:
        if self._result is None:
            self._result = self._build(self.backend_job, timeout)
        return self._result

    def status(self) -> QiskitJobStatus:
        return self.backend_job.status()

    def done(self) -> bool:
        return self.status() is QiskitJobStatus.DONE

    def running(self) -> bool:
        return self.status() is QiskitJobStatus.RUNNING

    def cancelled(self) -> bool:
        return self.status() is QiskitJobStatus.CANCELLED

    def in_final_state(self) -> bool:
        return self.status() in (QiskitJobStatus.DONE, QiskitJobStatus.ERROR, QiskitJobStatus.CANCELLED)

    def cancel(self) -> bool:
        return self.backend_job.cancel()


def _submit(backend: QumulusBackend, circuits: list[QuantumCircuit], shots: int, spec: dict) -> QumulusJob:
    converted = [to_ionq(c) for c in circuits]
    payload: Any = [c.ionq for c in converted] if len(converted) > 1 else converted[0].ionq
    job = backend.client_backend.run(
        payload,
        shots=shots,
        memory=True,
        metadata={
            LAYOUT_KEY: layout_metadata(converted),
            PRIMITIVE_KEY: json.dumps(spec, separators=(",", ":")),
        },
    )
    return QumulusJob(backend, job, memory=True)


def _spec(job: QumulusJob, kind: str) -> dict:
    raw = (job.client_job.data.get("metadata") or {}).get(PRIMITIVE_KEY)
    spec = json.loads(raw) if raw else None
    if not spec or spec.get("kind") != kind:
        raise ValueError(f"job {job.job_id()} is not a {kind} job of qumulus.qiskit")
    return spec


# sampler ---------------------------------------------------------------------------------------


class QumulusSamplerV2(BaseSamplerV2):
    """``SamplerV2`` on a Qumulus backend: all pubs (every parameter binding) in one server job."""

    def __init__(self, backend: QumulusBackend, default_shots: int = 1024) -> None:
        self.backend = backend
        self.default_shots = default_shots

    def run(self, pubs: Any, *, shots: int | None = None) -> PrimitiveJob:
        coerced = [SamplerPub.coerce(pub, shots if shots is not None else self.default_shots) for pub in pubs]
        run_shots = {pub.shots for pub in coerced}
        if len(run_shots) != 1:
            raise ValueError(
                f"pubs ask for different shots {sorted(run_shots)}: one run is one server job with one "
                "shot count; run them separately"
            )
        circuits: list[QuantumCircuit] = []
        pubs_spec = []
        for pub in coerced:
            bound = pub.parameter_values.bind_all(pub.circuit)
            circuits.extend(np.ravel(bound).tolist())
            registers = [
                [reg.name, [pub.circuit.find_bit(b).index for b in reg]] for reg in pub.circuit.cregs
            ]
            pubs_spec.append({"shape": list(bound.shape), "registers": registers})
        spec = {"kind": "sampler", "pubs": pubs_spec}
        job = _submit(self.backend, circuits, run_shots.pop(), spec)
        return PrimitiveJob(job, _sampler_result)

    def job(self, job_id: str) -> PrimitiveJob:
        """A sampler job by its server id (from any process)."""
        job = self.backend.retrieve_job(job_id, memory=True)
        _spec(job, "sampler")
        return PrimitiveJob(job, _sampler_result)


def _sampler_result(job: QumulusJob, timeout: float | None) -> PrimitiveResult:
    spec = _spec(job, "sampler")
    client_result = job.client_job.result(timeout=timeout)
    layouts = read_layout(job.client_job)
    experiments = iter(zip(layouts, client_result.results, strict=True))
    out = []
    for pub in spec["pubs"]:
        shape = tuple(pub["shape"])
        count = int(np.prod(shape)) if shape else 1
        memories = []
        shots = 0
        for _ in range(count):
            layout, experiment = next(experiments)
            values = [layout.value(v) for v in experiment.memory_int]
            shots = len(values)
            memories.append(values)
        data = {}
        for name, clbits in pub["registers"]:
            nbytes = max(1, math.ceil(len(clbits) / 8))
            arrays = []
            for values in memories:
                reg_values = [sum(((v >> c) & 1) << i for i, c in enumerate(clbits)) for v in values]
                raw = b"".join(r.to_bytes(nbytes, "big") for r in reg_values)
                arrays.append(np.frombuffer(raw, dtype=np.uint8).reshape(shots, nbytes))
            stacked = np.stack(arrays).reshape((*shape, shots, nbytes))
            data[name] = BitArray(stacked, len(clbits))
        out.append(
            SamplerPubResult(DataBin(**data, shape=shape), metadata={"shots": shots, "job_id": job.job_id()})
        )
    return PrimitiveResult(out, metadata={"version": 2, "job_id": job.job_id()})


# estimator -------------------------------------------------------------------------------------


class QumulusEstimatorV2(BaseEstimatorV2):
    """``EstimatorV2`` on a Qumulus backend: the Pauli terms of each binding are grouped by qubit-wise
    commutation and each group is measured in its basis; all those circuits go in one server job.
    Shots per circuit: ``ceil(1 / precision²)``; ``stds`` is the exact sample standard error."""

    def __init__(self, backend: QumulusBackend, default_precision: float = 0.015625) -> None:
        self.backend = backend
        self.default_precision = default_precision

    def run(self, pubs: Any, *, precision: float | None = None) -> PrimitiveJob:
        coerced = [
            EstimatorPub.coerce(pub, precision if precision is not None else self.default_precision)
            for pub in pubs
        ]
        precisions = {pub.precision for pub in coerced}
        if len(precisions) != 1:
            raise ValueError(
                "pubs ask for different precisions: one run is one server job; run them separately"
            )
        shots = math.ceil(1 / precisions.pop() ** 2)
        circuits: list[QuantumCircuit] = []
        pubs_spec = []
        for pub in coerced:
            shape = np.broadcast_shapes(pub.observables.shape, pub.parameter_values.shape)
            bound = pub.parameter_values.bind_all(pub.circuit)
            observables = np.broadcast_to(_object_array(pub.observables), shape)
            bound = np.broadcast_to(bound, shape)
            entries = []
            for index in np.ndindex(*shape):
                constant = 0.0
                groups = []
                for basis, terms in _group_commuting(observables[index]).items():
                    if basis is None:
                        constant = sum(coeff for coeff, _ in terms)
                        continue
                    groups.append([len(circuits), terms])
                    circuits.append(_measure_in_basis(bound[index], basis))
                entries.append({"constant": constant, "groups": groups})
            pubs_spec.append({"shape": list(shape), "entries": entries})
        spec = {"kind": "estimator", "pubs": pubs_spec}
        job = _submit(self.backend, circuits, shots, spec)
        return PrimitiveJob(job, _estimator_result)

    def job(self, job_id: str) -> PrimitiveJob:
        """An estimator job by its server id (from any process)."""
        job = self.backend.retrieve_job(job_id, memory=False)
        _spec(job, "estimator")
        return PrimitiveJob(job, _estimator_result)


def _group_commuting(observable: dict[str, complex]) -> dict[str | None, list[list[Any]]]:
    """Terms grouped greedily by qubit-wise commutation: ``{basis label: [[coeff, clbits], ...]}``;
    one circuit per group measures the basis' support (clbit c ↔ c-th qubit of that support), and
    ``clbits`` are the positions a term's parity is read from. Identity terms go under ``None``."""
    bases: list[dict[int, str]] = []
    members: list[list[tuple[float, list[int]]]] = []
    identity: list[list[Any]] = []
    for pauli, coeff in observable.items():
        factors = {q: p for q, p in enumerate(reversed(pauli)) if p != "I"}
        value = float(np.real(coeff))
        if not factors:
            identity.append([value, []])
            continue
        for basis, group in zip(bases, members, strict=True):
            if all(basis.get(q, p) == p for q, p in factors.items()):
                basis.update(factors)
                group.append((value, sorted(factors)))
                break
        else:
            bases.append(dict(factors))
            members.append([(value, sorted(factors))])
    out: dict[str | None, list[list[Any]]] = {}
    width = max((len(p) for p in observable), default=0)
    for basis, group in zip(bases, members, strict=True):
        label = "".join(basis.get(q, "I") for q in reversed(range(width)))
        support = sorted(basis)
        out[label] = [[value, [support.index(q) for q in qubits]] for value, qubits in group]
    if identity:
        out[None] = identity
    return out


def _sign(outcome: int, clbits: list[int]) -> int:
    """(-1)^(parity of ``outcome``'s bits at ``clbits``): a Pauli term's eigenvalue on that outcome."""
    return -1 if sum((outcome >> c) & 1 for c in clbits) % 2 else 1


def _object_array(observables: Any) -> np.ndarray:
    """An ``ObservablesArray`` as a numpy array of ``{pauli: coeff}`` dicts (so it broadcasts)."""
    out = np.empty(observables.shape, dtype=object)
    for index in np.ndindex(*observables.shape):
        out[index] = observables[index]
    return out


def _measure_in_basis(circuit: QuantumCircuit, pauli: str) -> QuantumCircuit:
    """``circuit``'s gates, then a basis change so that each non-identity factor reads as Z, then
    a measurement of the support. ``pauli`` is Qiskit's label: its last character acts on qubit 0.
    Classical bits of the circuit are dropped (an estimator circuit measures nothing itself)."""
    support = [q for q, p in enumerate(reversed(pauli)) if p != "I"]
    measured = QuantumCircuit(circuit.num_qubits, len(support), name=f"{circuit.name}:{pauli}")
    for inst in circuit.data:
        if inst.operation.name == "measure" or inst.clbits:
            raise ValueError(
                f"circuit {circuit.name!r}: the Estimator takes circuits without measurements "
                f"(found {inst.operation.name})"
            )
        measured.append(inst.operation, [circuit.find_bit(q).index for q in inst.qubits])
    for q in support:
        factor = pauli[-1 - q]
        if factor == "X":
            measured.h(q)
        elif factor == "Y":
            measured.sdg(q)
            measured.h(q)
    for c, q in enumerate(support):
        measured.measure(q, c)
    return measured


def _estimator_result(job: QumulusJob, timeout: float | None) -> PrimitiveResult:
    spec = _spec(job, "estimator")
    result = job.result(timeout=timeout)
    shots = int(job.client_job.data.get("shots") or 0)
    out = []
    for pub in spec["pubs"]:
        shape = tuple(pub["shape"])
        evs = np.zeros(shape)
        stds = np.zeros(shape)
        for flat, entry in enumerate(pub["entries"]):
            index = np.unravel_index(flat, shape) if shape else ()
            value, variance = entry["constant"], 0.0
            for circuit_index, terms in entry["groups"]:
                # the group's observable is diagonal in the measured basis: its value per outcome
                counts = result.get_counts(circuit_index)
                total = sum(counts.values())
                per_outcome = {
                    key: sum(coeff * _sign(int(key.replace(" ", ""), 2), bits) for coeff, bits in terms)
                    for key in counts
                }
                mean = sum(n * per_outcome[key] for key, n in counts.items()) / total
                second = sum(n * per_outcome[key] ** 2 for key, n in counts.items()) / total
                value += mean
                variance += max(second - mean**2, 0.0) / total
            evs[index] = value
            stds[index] = math.sqrt(variance)
        out.append(
            PubResult(
                DataBin(evs=evs, stds=stds, shape=shape),
                metadata={"shots": shots, "job_id": job.job_id()},
            )
        )
    return PrimitiveResult(out, metadata={"version": 2, "job_id": job.job_id()})
