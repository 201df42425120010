"""The ``Engine`` interface every simulator adapter implements, and the result it returns.

Engines are chosen per job (see ``qumulus.sim.routing``); the platform never assumes one. An engine
takes the platform's own :class:`~qumulus.circuits.model.Circuit` and returns a
:class:`Distribution` over little-endian basis-state indices (qubit 0 = least significant bit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from qumulus.circuits.model import Circuit

#: Below this fraction of non-zero entries a distribution is kept sparse.
SPARSE_FRACTION = 0.25
#: Entries sampled by :meth:`Distribution.from_dense` to recognise an obviously dense vector.
_DENSITY_SAMPLE = 4096


@dataclass(frozen=True)
class Distribution:
    """Probabilities over basis states, dense or sparse.

    * dense: ``indices is None`` and ``values[k]`` is P(k) for every k in ``0 .. 2**qubits - 1``;
    * sparse: ``values[i]`` is P(``indices[i]``), indices ascending, zeros omitted. Indices are
      ``uint64``, or Python ints (``dtype=object``) for outcomes wider than 63 bits (stabilizer and
      sampled results of wide circuits: a GHZ on 1000 qubits has two 1000-bit outcomes).

    Dense large results stay numpy arrays end to end (a 26-qubit state has 67 M entries), so nothing
    here converts to Python dicts unless asked.
    """

    qubits: int
    values: np.ndarray
    indices: np.ndarray | None = None

    @classmethod
    def from_dense(cls, probabilities: np.ndarray, qubits: int, *, cutoff: float = 0.0) -> Distribution:
        """Wrap a dense probability vector, switching to sparse when most entries are zero.

        Large generic states are dense, and a full ``probs > cutoff`` scan there costs a bool
        temporary and an index array as big as the state (13 % of a 24-qubit qsim run). So a
        sample of ~4096 entries at an **odd** stride (odd, so it cannot alias with the power-of-two
        structure of states like "low qubits all |0⟩") decides first: clearly dense means no scan.
        The representation (dense or sparse) may differ from an exact count only near the
        threshold, never the probabilities.
        """
        probs = np.asarray(probabilities)
        if probs.size > 2 * _DENSITY_SAMPLE:
            stride = (probs.size // _DENSITY_SAMPLE) | 1
            sample = probs[::stride]
            if np.count_nonzero(sample > cutoff) > 2 * SPARSE_FRACTION * sample.size:
                return cls(qubits=qubits, values=probs)
        # A bool mask then flatnonzero is ~7x faster than flatnonzero on floats (SIMD on bools).
        nonzero = np.flatnonzero(probs > cutoff)
        if nonzero.size <= SPARSE_FRACTION * probs.size:
            return cls(
                qubits=qubits, values=probs[nonzero].astype(np.float64), indices=nonzero.astype(np.uint64)
            )
        return cls(qubits=qubits, values=probs)

    @classmethod
    def from_counts(cls, outcomes: np.ndarray, qubits: int) -> Distribution:
        """Empirical frequencies of sampled outcomes (multiples of 1/shots)."""
        keys, counts = np.unique(np.asarray(outcomes, dtype=np.uint64), return_counts=True)
        return cls(qubits=qubits, values=counts / counts.sum(), indices=keys)

    @property
    def sparse(self) -> bool:
        return self.indices is not None

    def nonzero_count(self) -> int:
        """How many entries :meth:`nonzero` would return, without building them.

        Decide "inline or file" with this: ``nonzero()`` on a dense 30-qubit result builds an 8 GiB
        index array and an 8 GiB value copy, while this is one allocation-free counting pass.
        """
        return int(np.count_nonzero(self.values))

    def nonzero(self) -> tuple[np.ndarray, np.ndarray]:
        """``(indices, values)`` of the non-zero entries, indices ascending."""
        if self.indices is not None:
            return self.indices, self.values
        if self.nonzero_count() == self.values.size:  # fully dense: no mask, no gather, no copy
            return np.arange(self.values.size, dtype=np.uint64), self.values
        idx = np.flatnonzero(self.values > 0)
        return idx.astype(np.uint64), self.values[idx]

    def as_dict(self) -> dict[int, float]:
        """Small distributions only: ``{index: probability}`` without zeros."""
        idx, vals = self.nonzero()
        return {int(k): float(v) for k, v in zip(idx.tolist(), vals.tolist(), strict=True)}


def as_indices(values: list[int] | np.ndarray) -> np.ndarray:
    """Outcome keys as ``uint64`` when they fit, else as Python ints (``dtype=object``).

    Stored results of wide circuits (a GHZ on 1000 qubits) have keys far beyond 64 bits; every reader
    of stored indices goes through this instead of ``np.asarray(..., dtype=np.uint64)``.
    """
    if isinstance(values, np.ndarray) and values.dtype != object:
        return values.astype(np.uint64, copy=False)
    items = list(values)
    if items and max(items) >= 1 << 64:
        return np.asarray(items, dtype=object)
    return np.asarray(items, dtype=np.uint64)


@dataclass(frozen=True)
class Samples:
    """Sampled outcomes, one per shot in shot order: what wide and per-shot engines return.

    ``packed[s]`` holds shot ``s``'s ``bits`` outcome bits, little endian (bit ``b`` of the outcome
    is bit ``b % 8`` of byte ``b // 8``, numpy's ``bitorder="little"``), so a 1000-qubit shot is
    125 bytes and nothing ever indexes 2**1000 states. Outcomes and counts come back as Python ints,
    which have no width limit (``uint64`` has).
    """

    bits: int
    packed: np.ndarray

    @classmethod
    def from_bool(cls, array: np.ndarray) -> Samples:
        """From a ``(shots, bits)`` boolean array (bit ``b`` in column ``b``)."""
        array = np.asarray(array, dtype=bool)
        return cls(bits=array.shape[1], packed=np.packbits(array, axis=1, bitorder="little"))

    @classmethod
    def from_ints(cls, outcomes: list[int] | np.ndarray, bits: int) -> Samples:
        """From integer outcomes (little endian) of ``bits`` bits."""
        width = max(1, (bits + 7) // 8)
        if bits <= 64:
            values = np.ascontiguousarray(np.asarray(outcomes, dtype=np.uint64).astype("<u8", copy=False))
            return cls(bits=bits, packed=values.view(np.uint8).reshape(-1, 8)[:, :width].copy())
        raw = b"".join(int(v).to_bytes(width, "little") for v in outcomes)
        return cls(bits=bits, packed=np.frombuffer(raw, dtype=np.uint8).reshape(-1, width).copy())

    @property
    def shots(self) -> int:
        return int(self.packed.shape[0])

    def outcomes(self) -> list[int]:
        """Each shot's outcome as an int, in shot order."""
        if self.bits <= 64:
            width = self.packed.shape[1]
            padded = np.zeros((self.shots, 8), dtype=np.uint8)
            padded[:, :width] = self.packed
            return padded.view("<u8").ravel().tolist()
        return [int.from_bytes(row.tobytes(), "little") for row in self.packed]

    def counts(self) -> dict[int, int]:
        """``{outcome: count}``, outcomes ascending."""
        rows, counts = np.unique(self.packed, axis=0, return_counts=True)
        distinct = Samples(self.bits, rows).outcomes()
        return dict(sorted(zip(distinct, counts.tolist(), strict=True)))

    def bit_columns(self) -> np.ndarray:
        """``(shots, bits)`` booleans."""
        return np.unpackbits(self.packed, axis=1, count=self.bits, bitorder="little").astype(bool)

    def registers(self, cregs: tuple[tuple[str, tuple[int, ...]], ...]) -> list[dict[str, list[int]]]:
        """Per shot, each classical register's bits (element ``i`` is bit ``i`` of the register), the
        ``registers`` of IonQ's ``ionq.result.shots.json.v2`` artifact, which qiskit-ionq reads."""
        columns = self.bit_columns().astype(np.uint8)
        per_register = {name: columns[:, list(clbits)].tolist() for name, clbits in cregs}
        return [{name: rows[s] for name, rows in per_register.items()} for s in range(self.shots)]

    def distribution(self) -> Distribution:
        """Empirical frequencies (multiples of 1/shots), sparse; keys wider than 63 bits as Python ints."""
        counts = self.counts()
        keys = list(counts)
        values = np.asarray(list(counts.values()), dtype=np.float64) / max(1, self.shots)
        dtype = np.uint64 if self.bits <= 63 else object
        return Distribution(qubits=self.bits, values=values, indices=np.asarray(keys, dtype=dtype))


@runtime_checkable
class Engine(Protocol):
    """A simulator adapter.

    ``name`` identifies the engine in job records and benchmarks. ``max_qubits`` is what the adapter
    accepts at all (memory decides what this machine can really do; see docs/simulation.md).
    """

    name: str
    max_qubits: int
    #: 32 for single-precision engines (results are stored as float32), 64 for double.
    precision_bits: int

    def probabilities(self, circuit: Circuit) -> Distribution:
        """Exact (ideal) output distribution when every qubit is measured at the end."""
        ...

    def sample(self, circuit: Circuit, shots: int, seed: int | None = None) -> np.ndarray:
        """``shots`` measured outcomes as little-endian integers, in shot order."""
        ...
