"""Drive the alpha ``ionq`` package's hybrid workloads against a Qumulus server; print a JSON summary.

Run in the package's own venv (it pins pydantic<2), as ``tests/compat/test_ionq_workloads.py`` does:

    IONQ_BASE_URL=http://127.0.0.1:8000/v0.4 IONQ_API_KEY=... \
        .venv-ionq/bin/python scripts/ionq_workloads_probe.py

Steps (each recorded even if another failed): ``quantum_function`` (``HamiltonianEnergy`` on H2),
``optimization`` (``Optimization`` with COBYLA, and the package's own ``get_job_progress``) and
``qubo`` (``ionq.problems.QuadraticProgram`` with a linear constraint). ``ionq.problems`` imports
qiskit, tqdm and sympy: when the package's venv lacks one, ``QUMULUS_BORROW_SITE`` (a site-packages
directory) is appended to ``sys.path`` so what is missing comes from there while everything the
package has itself (pydantic 1, numpy) still comes from its own venv. The last line of stdout is
``IONQ_WORKLOADS_SUMMARY {json}``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

PREFIX = "IONQ_WORKLOADS_SUMMARY "
H2_TERMS = [
    ("II", -1.052373245772859),
    ("IZ", 0.39793742484318045),
    ("ZI", -0.39793742484318045),
    ("ZZ", -0.01128010425623538),
    ("XX", 0.18093119978423156),
]
H2_ANSATZ = """OPENQASM 3.0;
include "stdgates.inc";
input float[64] theta;
qubit[2] q;
x q[0];
ry(theta) q[1];
cx q[1], q[0];
"""


def main() -> int:
    summary: dict[str, Any] = {}

    def step(name: str, fn: Callable[[], Any]) -> None:
        try:
            summary[name] = fn()
        except BaseException as exc:  # record and go on
            summary[name] = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()[-2500:]}

    from ionq import Backend, Client
    from ionq.jobs import HamiltonianEnergy, Optimization
    from ionq.schemas.job import Ansatz, Hamiltonian, HamiltonianPauliTerm

    client = Client()
    backend = Backend("simulator", client=client)
    hamiltonian = Hamiltonian(
        [HamiltonianPauliTerm(pauli_string=p, coefficient=c) for p, c in H2_TERMS], num_qubits=2
    )
    h2 = HamiltonianEnergy(Ansatz(data=H2_ANSATZ), hamiltonian)

    def quantum_function() -> dict[str, Any]:
        job = backend.run(h2, params=[-0.2235], shots=1000, name="ionq-pkg-h2")
        result = job.results()
        details = client.jobs.get_job(job.id)
        return {"id": job.id, "value": result.value, "variance": result.variance, "type": details.type,
                "status": details.status}  # fmt: skip

    def optimization() -> dict[str, Any]:
        started = time.monotonic()
        job = backend.run(
            Optimization(
                quantum_function=h2, method="COBYLA", initial_params=[0.5], maxiter=40, log_interval=1
            ),
            shots=1000,
            name="ionq-pkg-vqe",
        )
        result = job.results()
        progress = backend.get_job_progress(job.id).progress
        return {
            "id": job.id,
            "seconds": time.monotonic() - started,
            "minimum_value": result.minimum_value,
            "optimal_parameters": result.optimal_parameters,
            "iterations": [p.iteration for p in result.progress],
            "values": [p.value for p in result.progress],
            "statuses": [p.status.value for p in progress],
            "finished_at": [p.finished_at for p in progress],
            "job_ids": [p.job_id for p in progress],
        }

    def qubo() -> dict[str, Any]:
        try:
            import ionq.problems  # noqa: F401 - needs qiskit, tqdm and sympy
        except ImportError:
            borrowed = os.environ.get("QUMULUS_BORROW_SITE")
            if borrowed:
                sys.path.append(borrowed)
                for name in [
                    m for m in sys.modules if m == "ionq.problems" or m.startswith("ionq.problems.")
                ]:
                    del sys.modules[name]
        import numpy as np
        from ionq.problems import QuadraticProgram
        from ionq.problems.quadratic import LinearConstraint
        from qiskit import QuantumCircuit
        from qiskit.circuit import ParameterVector

        # min xᵀQx with x0 + x1 + x2 <= 1: the unconstrained optimum (all three) is infeasible.
        q = np.array([[-3.0, 0.5, 0.5], [0.5, -2.0, 0.5], [0.5, 0.5, -4.0]])
        program = QuadraticProgram(q, linear_constraints=[LinearConstraint(coeffs=[1, 1, 1], rhs=1)])
        theta = ParameterVector("t", 3)
        ansatz = QuantumCircuit(3)
        for i in range(3):
            ansatz.ry(theta[i], i)
        objective = program.quantum_function_objective(ansatz, penalty=10)
        job = backend.run(
            Optimization(
                quantum_function=objective, method="COBYLA", initial_params=[1.2, 1.2, 1.6], maxiter=60
            ),
            shots=1000,
            name="ionq-pkg-qubo",
        )
        result = job.results()
        best = program.compute_optimal_solution()
        # The product ansatz puts variable i at 1 with probability sin²(θ_i/2): read the bit string.
        bits = "".join(str(int(np.sin(t / 2) ** 2 > 0.5)) for t in result.optimal_parameters)
        return {
            "id": job.id,
            "minimum_value": result.minimum_value,
            "optimal_parameters": result.optimal_parameters,
            "bits": bits,
            "feasible": bool(program.is_feasible(bits)),
            "objective_of_bits": float(program.evaluate_qp_objective(bits)),
            "optimum_bits": best.x,
            "optimum_value": float(best.fun),
            "unconstrained_value": float(np.ones(3) @ q @ np.ones(3)),
        }

    step("quantum_function", quantum_function)
    step("optimization", optimization)
    step("qubo", qubo)
    print(PREFIX + json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
