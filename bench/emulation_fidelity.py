"""Honesty check of the emulated QPUs: do they perform as their characterizations say?

Everything goes THROUGH THE PLATFORM: a real ``qumulus serve`` (fresh data dir, bootstrap key), jobs
submitted over HTTP, results read back over HTTP, exactly as a user would.

* **1q randomized benchmarking** (native, "direct" RB) on physical qubit 0: sequences of m random
  GPI2(k/4) pulses (k ∈ 0..3: they generate the one-qubit Clifford group), then a short native
  sequence that returns the state to |0⟩. Survival P(0) = A·p^m + B; error per gate
  r = (1 − p)/2. Compared with the characterization's 1q fidelity of qubit 0.
* **2q randomized benchmarking** on qubits (0, 1): each step is a random GPI2(k/4) on both qubits
  then MS(k0/4, k1/4, ¼) (Cliffords), inverted at the end (qiskit's ``Clifford`` finds the inverse,
  our compiler turns it into native gates). Error per step r = 3(1 − p)/4; the two 1q gates'
  characterized errors are subtracted to get the MS error, compared with the pair's 2q fidelity.
* **GHZ** on n qubits: P(0…0) + P(1…1) with and without ``error_mitigation.debiasing`` (and the
  plurality-vote ``sharpen=true`` aggregation of the debiased run).

Target: measured infidelity within ±10 % (relative) of the characterized one.

    python bench/emulation_fidelity.py [--quick] [--backends qpu.harmony,qpu.aria-1]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from _common import emit, free_port, print_table, qumulus_cli, start_qumulus
from qumulus.backends.catalog import BY_NAME
from qumulus.circuits.gates import matrix
from qumulus.circuits.model import Circuit, Operation

ALL = ["qpu.harmony", "qpu.aria-1", "qpu.aria-2", "qpu.forte-1", "qpu.forte-enterprise-1"]


# circuits ----------------------------------------------------------------------------------------


def gpi2(q: int, k: int) -> Operation:
    return Operation("gpi2", (q,), params=(k / 4,))


def _state_after(ops: list[Operation], qubits: int) -> np.ndarray:
    from qumulus.circuits.gates import circuit_unitary

    return circuit_unitary(Circuit(qubits, tuple(ops)))[:, 0]


#: Native sequences (≤ 2 pulses) that bring each one-qubit stabilizer state back to |0⟩.
_RETURNS = [
    [],
    *([gpi2(0, k)] for k in range(4)),
    *([gpi2(0, a), gpi2(0, b)] for a in range(4) for b in range(4)),
]


def rb1_circuit(rng: np.random.Generator, m: int) -> dict:
    ops = [gpi2(0, int(k)) for k in rng.integers(0, 4, m)]
    state = _state_after(ops, 1)
    for tail in _RETURNS:
        u = np.eye(2, dtype=complex)
        for op in tail:
            u = matrix(op) @ u
        if abs((u @ state)[0]) > 1 - 1e-9:
            return native_json(1, ops + tail)
    raise AssertionError("no return sequence found")


def rb2_circuit(rng: np.random.Generator, m: int, native_2q: str) -> dict:
    from qiskit.quantum_info import Clifford, Operator

    from qumulus.circuits.compile import native_from_qiskit, to_qiskit

    ops: list[Operation] = []
    for _ in range(m):
        ops += [gpi2(0, int(rng.integers(4))), gpi2(1, int(rng.integers(4)))]
        if native_2q == "ms":
            k0, k1 = (int(k) for k in rng.integers(0, 4, 2))
            ops.append(Operation("ms", (0, 1), params=(k0 / 4, k1 / 4, 0.25)))
        else:
            ops.append(Operation("zz", (0, 1), params=(math.pi / 2,)))  # ZZ(¼ turn): Clifford
    clifford = Clifford.from_operator(Operator(to_qiskit(Circuit(2, tuple(ops)))))
    # The inverse, in native gates by the server's own compiler (its final virtual Z is irrelevant).
    tail = native_from_qiskit(clifford.adjoint().to_circuit(), native_2q).circuit.operations
    return native_json(2, ops + list(tail))


def native_json(qubits: int, ops: list[Operation]) -> dict:
    from qumulus.circuits.ionq_json import to_native_json

    return to_native_json(Circuit(qubits, tuple(ops), gateset="native"))


def ghz_json(n: int) -> dict:
    chain = [{"gate": "cnot", "control": i, "target": i + 1} for i in range(n - 1)]
    return {"gateset": "qis", "qubits": n, "circuit": [{"gate": "h", "target": 0}, *chain]}


# platform ----------------------------------------------------------------------------------------


#: The bench's own price: the bootstrap organization's demo rate, with no allocation cap.
BENCH_RATE = "0.50"


def give_bench_contracts(data_dir: Path, backends: list[str]) -> None:
    """Give the bench's organization its own contract per QPU it measures, as an administrator would
    (``qumulus contracts create``): no allocation cap, so the full run (its billed QPU time
    is printed at the end) is not stopped by a 402 at the demo allocation of 3600 s a month. A contract for
    the exact backend name is more specific than the demo ``qpu.*`` one, so it is the one in force.
    """
    for backend in backends:
        qumulus_cli(
            "contracts", "create", "--backend", backend, "--rate", BENCH_RATE, "--data-dir", str(data_dir)
        )


class Client:
    def __init__(self, base: str, key: str) -> None:
        self.http = httpx.Client(base_url=base, headers={"Authorization": f"apiKey {key}"}, timeout=600)
        #: Billed QPU seconds of the completed jobs (what the contract is charged).
        self.billed = 0.0

    def run(self, body: dict) -> dict:
        created = self.http.post("/v0.4/jobs", json=body)
        created.raise_for_status()
        job_id = created.json()["id"]
        while True:
            job = self.http.get(f"/v0.4/jobs/{job_id}", params={"wait": 30}).json()
            if job["status"] in ("completed", "failed", "canceled"):
                break
        if job["status"] != "completed":
            raise RuntimeError(f"job {job_id} {job['status']}: {job.get('failure')}")
        self.billed += (job.get("execution_duration_ms") or 0) / 1000
        return job

    def probabilities(self, job: dict, sharpen: bool = False) -> dict:
        params = {"sharpen": "true"} if sharpen else None
        return self.http.get(job["results"]["probabilities"]["url"], params=params).json()

    def characterization(self, backend: str) -> dict:
        return self.http.get(f"/v0.4/backends/{backend}/characterizations", params={"limit": 1}).json()[
            "characterizations"
        ][0]


def survival(client: Client, backend: str, circuits: list[dict], shots: int) -> list[float]:
    """One multi-circuit job; P(all zeros) of each circuit."""
    job = client.run(
        {
            "type": "ionq.multi-circuit.v1",
            "backend": backend,
            "shots": shots,
            "input": {"gateset": "native", "qubits": circuits[0]["qubits"], "circuits": circuits},
        }
    )
    probs = client.probabilities(job)
    return [float(p.get("0", 0.0)) for p in probs.values()]


def fit_decay(lengths: list[int], values: list[float]) -> float:
    """p of A·p^m + B (least squares, B free)."""
    from scipy.optimize import curve_fit

    def model(m, a, p, b):  # type: ignore[no-untyped-def]
        return a * p**m + b

    (_, p, _), _ = curve_fit(model, np.array(lengths, float), np.array(values), p0=[0.5, 0.99, 0.5],
                             bounds=([0, 0, 0], [1, 1, 1]), maxfev=20000)  # fmt: skip
    return float(p)


def lengths_for(infidelity: float, d: int, points: int) -> list[int]:
    """Sequence lengths up to where the decay is about e^-1.5 (log-spaced, from 1)."""
    decay = infidelity * d / (d - 1)
    top = max(4, int(1.5 / decay))
    return sorted({max(1, round(x)) for x in np.geomspace(1, top, points)})


# main --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="harmony and aria-1, fewer sequences (< 1 min)")
    parser.add_argument("--backends", default=None, help="comma-separated QPU names")
    parser.add_argument("--sequences", type=int, default=None, help="random sequences per length")
    parser.add_argument("--shots", type=int, default=None)
    parser.add_argument("--ghz", type=int, default=5, help="GHZ width")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    backends = (
        args.backends.split(",") if args.backends else (["qpu.harmony", "qpu.aria-1"] if args.quick else ALL)
    )
    sequences = args.sequences or (4 if args.quick else 12)
    shots = args.shots or (1000 if args.quick else 2000)
    points = 5 if args.quick else 7
    rng = np.random.default_rng(args.seed)
    rows: list[list[object]] = []
    ghz_rows: list[list[object]] = []
    summary: dict[str, object] = {
        "bench": "emulation_fidelity",
        "quick": args.quick,
        "target_rel_error": 0.10,
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qumulus-bench-") as tmp:
        server, key = start_qumulus(Path(tmp) / "data", port := free_port())
        give_bench_contracts(Path(tmp) / "data", backends)
        with server:
            client = Client(f"http://127.0.0.1:{port}", key)
            for backend in backends:
                # Per-qubit figures are not on the wire yet: the catalog's seeded snapshot is the one
                # the fresh server stored (its summary is checked against the wire's here).
                data = BY_NAME[backend].characterization()
                assert client.characterization(backend)["fidelity"] == data["fidelity"]
                f1 = data["qubit"]["1q"][0]
                f1b = data["qubit"]["1q"][1]
                f2 = data["pair"]["2q"]["0-1"]
                native = data["native_2q"]
                # 1q RB on qubit 0
                ls1 = lengths_for(1 - f1, 2, points)
                s1 = [
                    np.mean(survival(client, backend, [rb1_circuit(rng, m) for _ in range(sequences)], shots))
                    for m in ls1
                ]
                r1 = (1 - fit_decay(ls1, s1)) / 2
                # 2q RB on (0, 1)
                ls2 = lengths_for(1 - f2, 4, points)
                s2 = [
                    np.mean(
                        survival(
                            client, backend, [rb2_circuit(rng, m, native) for _ in range(sequences)], shots
                        )
                    )
                    for m in ls2
                ]
                r_step = 3 * (1 - fit_decay(ls2, s2)) / 4
                r2 = r_step - (1 - f1) - (1 - f1b)
                for label, measured, characterized in (
                    ("1q (qubit 0)", r1, 1 - f1),
                    ("2q (pair 0-1)", r2, 1 - f2),
                ):
                    rel = measured / characterized - 1
                    ok = "yes" if abs(rel) <= 0.10 else "NO"
                    rows.append([backend, label, characterized, measured, f"{100 * rel:+.1f}%", ok])
                    summary[f"{backend}:{label.split()[0]}_rel_error"] = round(rel, 4)
                # GHZ with and without debiasing
                n = args.ghz
                body = {"backend": backend, "shots": 4 * shots, "input": ghz_json(n)}
                top = str(2**n - 1)
                plain = client.probabilities(client.run(body))
                debiased_job = client.run({**body, "settings": {"error_mitigation": {"debiasing": True}}})
                debiased = client.probabilities(debiased_job)
                sharpened = client.probabilities(debiased_job, sharpen=True)
                figures = [p.get("0", 0.0) + p.get(top, 0.0) for p in (plain, debiased, sharpened)]
                ghz_rows.append([backend, n, *figures])
                summary[f"{backend}:ghz{n}"] = [round(f, 4) for f in figures]
            summary["billed_qpu_seconds"] = round(client.billed, 1)
    print_table(
        f"Randomized benchmarking through the platform ({sequences} sequences/length, {shots} shots)",
        ["backend", "gate", "characterized infidelity", "measured infidelity", "rel. error", "within ±10%"],
        rows,
    )
    print_table(
        f"GHZ population P(0…0)+P(1…1), {4 * shots} shots",
        ["backend", "qubits", "plain", "debiased (average)", "debiased + sharpen"],
        ghz_rows,
    )
    within = sum(1 for r in rows if r[-1] == "yes")
    summary.update(within_target=within, checks=len(rows), seconds=round(time.perf_counter() - started, 1))
    billed = summary["billed_qpu_seconds"]
    print(f"{within}/{len(rows)} infidelities within ±10 % of the characterization; billed {billed} s")
    emit(summary)


if __name__ == "__main__":
    main()
