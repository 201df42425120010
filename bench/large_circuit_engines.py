"""Scratch: random IonQ JSON circuits and the time an engine takes when called directly.

The lead folds this into ``bench/large_circuit.py`` to compare the platform's end-to-end time with
the bare engine (engine circuit build + simulate + probabilities), so the platform's overhead is the
difference. Usage: ``python bench/large_circuit_engines.py 20 20 [engine]``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from qumulus.circuits.ionq_json import parse_input
from qumulus.circuits.model import Circuit, Operation
from qumulus.sim.routing import available_engines, choose_engine


def random_ionq_circuit(n: int, depth: int, seed: int) -> dict[str, Any]:
    """An ``ionq.circuit.v1`` QIS ``input``: per layer one random rx, ry or rz on every qubit, then a
    random perfect matching (all-to-all, like an ion chain) with ``cnot`` or ``xx`` per pair (½ each).

    ``depth`` layers give ``depth·n`` one-qubit and ``depth·⌊n/2⌋`` two-qubit gates."""
    rng = np.random.default_rng(seed)
    gates: list[dict[str, Any]] = []
    for _ in range(depth):
        for q in range(n):
            axis = ("rx", "ry", "rz")[int(rng.integers(3))]
            gates.append({"gate": axis, "targets": [q], "rotation": float(rng.uniform(0, 2 * np.pi))})
        order = rng.permutation(n)
        for a, b in zip(order[0::2].tolist(), order[1::2].tolist(), strict=False):
            if rng.random() < 0.5:
                gates.append({"gate": "cnot", "control": a, "target": b})
            else:
                gates.append({"gate": "xx", "targets": [a, b], "rotation": float(rng.uniform(0, 2 * np.pi))})
    return {"gateset": "qis", "qubits": n, "circuit": gates}


def to_circuit(payload: dict[str, Any]) -> Circuit:
    """Parse an ``input`` object (or a whole job body with ``input``) into the platform model."""
    body = payload.get("input", payload)
    return parse_input("ionq.circuit.v1", body).circuits[0]


def engine_direct_seconds(payload: dict[str, Any], engine: str | None = None) -> float:
    """Wall seconds for the routed (or named) engine to build its circuit, simulate and return
    probabilities, called directly. Not counted: parsing the JSON, and the engine's import and first
    call (a 2-qubit warm-up runs first; importing cirq alone takes ~1.8 s)."""
    circuit = to_circuit(payload)
    chosen = available_engines()[engine] if engine else choose_engine(circuit)
    chosen.probabilities(Circuit(2, (Operation("h", (0,)), Operation("x", (1,), controls=(0,)))))
    start = time.perf_counter()
    chosen.probabilities(circuit)
    return time.perf_counter() - start


if __name__ == "__main__":
    qubits = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    layers = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    name = sys.argv[3] if len(sys.argv) > 3 else None
    seconds = engine_direct_seconds(random_ionq_circuit(qubits, layers, seed=1), name)
    print(f"n={qubits} depth={layers} engine={name or 'routed'}: {seconds:.3f} s")
