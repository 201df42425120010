"""Workload request bodies shared by the workload tests (the shapes the ``ionq`` package sends)."""

from __future__ import annotations

from typing import Any

from tests.workloads.test_library import H2_ANSATZ, H2_EXACT, H2_TERMS

__all__ = ["H2_EXACT", "optimization", "quantum_function"]


def function_data() -> dict[str, Any]:
    return {
        "type": "hamiltonian-energy",
        "data": {
            "hamiltonian": [{"pauli_string": p, "coefficient": c} for p, c in H2_TERMS],
            "ansatz": {"format": "qasm", "data": H2_ANSATZ, "num_qubits": 2},
        },
    }


def quantum_function(params: list[float], backend: str = "simulator", **extra: Any) -> dict[str, Any]:
    return {
        "type": "quantum-function",
        "backend": backend,
        "input": {"data": function_data(), "params": params},
        **extra,
    }


def optimization(
    method: str = "COBYLA", maxiter: int = 40, backend: str = "simulator", initial: float = 0.5, **extra: Any
) -> dict[str, Any]:
    inputs = {
        "quantum_function": function_data(),
        "method": method,
        "initial_params": [initial],
        "maxiter": maxiter,
        "log_interval": 1,
    }
    inputs.update(extra.pop("input", {}))
    return {"type": "optimization", "backend": backend, "input": inputs, **extra}
