"""Programs with mid-circuit measurement, reset and ``if`` on an emulated QPU: predicted vs measured.

Per width ``n`` and round count ``r``: ``r`` rounds of (a random ``ry`` on every qubit, a CNOT chain,
``c[k] = measure q[k mod n]``, ``reset q[k mod n]``, ``if (c[k]) { x q[(k+1) mod n]; }``), then every
qubit measured. Columns:

* ``ours``: :func:`qumulus.sim.emulator.emulate` called directly (compile block by block, the noisy
  trajectory engine, :mod:`qumulus.sim.noisy_trajectories`), wall seconds, and its ``predicted``
  figure (:func:`qumulus.sim.emulator.predict`, the cost model ``TooLongPredictedExecutionTime``
  compares with the limit; it should not be below the measured time by much);
* ``aer``: qiskit-aer running the same compiled program with the same noise written as Aer
  instructions (the reference of ``tests/sim/test_noisy_programs.py``: Pauli channels, drift as
  ``rz``, readout error, ``if`` expanded per path), density matrix up to 4 qubits, state-vector
  trajectories above, same shots, when ``n ≤ --aer-max`` (10).

Both sides run in this process, interleaved per case. ``--quick`` (3 and 6 qubits) takes < 1 minute.

    python bench/noisy_programs.py [--quick] [--widths 3,8,12,16] [--rounds 2,6] [--shots 1000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the Aer reference in tests/
from _common import emit, print_table
from qumulus.backends.catalog import BY_NAME
from qumulus.backends.device import device_model
from qumulus.circuits.compile import compile_program
from qumulus.circuits.openqasm import parse_openqasm
from qumulus.sim import emulator


def program(n: int, rounds: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    lines = [
        "OPENQASM 3.0;",
        'include "stdgates.inc";',
        f"bit[{rounds}] m;",
        f"bit[{n}] c;",
        f"qubit[{n}] q;",
    ]
    for k in range(rounds):
        lines += [f"ry({rng.uniform(0.2, 2.9):.4f}) q[{q}];" for q in range(n)]
        lines += [f"cx q[{q}], q[{q + 1}];" for q in range(n - 1)]
        a, b = k % n, (k + 1) % n
        lines += [f"m[{k}] = measure q[{a}];", f"reset q[{a}];", f"if (m[{k}]) {{ x q[{b}]; }}"]
    lines += [f"c[{q}] = measure q[{q}];" for q in range(n)]
    return "\n".join(lines) + "\n"


def aer_seconds(native, device, shots: int) -> float:  # type: ignore[no-untyped-def]
    from qiskit_aer import AerSimulator
    from qiskit_aer.noise import NoiseModel, ReadoutError
    from tests.sim.test_noisy_programs import _aer_reference

    noise = NoiseModel()
    for q in range(native.qubits):
        p10, p01 = device.p1_given_0[q], device.p0_given_1[q]
        noise.add_readout_error(ReadoutError([[1 - p10, p10], [p01, 1 - p01]]), [q])
    qc = _aer_reference(native, device)
    method = "density_matrix" if native.qubits <= 4 else "statevector"
    started = time.perf_counter()
    result = AerSimulator(method=method, noise_model=noise, seed_simulator=1).run(qc, shots=shots).result()
    assert result.success
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--widths", default="3,8,12,16")
    parser.add_argument("--rounds", default="2,6")
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--backend", default="qpu.aria-1")
    parser.add_argument("--aer-max", type=int, default=10)
    args = parser.parse_args()
    widths = [3, 6] if args.quick else [int(w) for w in args.widths.split(",")]
    rounds_list = [2, 6] if args.quick else [int(r) for r in args.rounds.split(",")]
    spec = BY_NAME[args.backend]
    device = device_model(spec.characterization(), spec.qubits)
    emulator.emulate(parse_openqasm(program(3, 1, 0)), device, 10, seed=0)  # imports, qiskit warm-up
    rows = []
    ratios = []
    for n in widths:
        for rounds in rounds_list:
            circuit = parse_openqasm(program(n, rounds, n * 100 + rounds))
            predicted = emulator.predict(circuit, device, args.shots)
            started = time.perf_counter()
            run = emulator.emulate(circuit, device, args.shots, seed=3)
            ours = time.perf_counter() - started
            aer = None
            if n <= args.aer_max:
                aer = aer_seconds(compile_program(circuit, device.native_2q), device, args.shots)
            ratios.append(ours / predicted.seconds)
            rows.append([
                n, rounds, args.shots, predicted.native_gates, predicted.patterns, predicted.seconds, ours,
                ours / predicted.seconds, "–" if aer is None else aer, "–" if aer is None else aer / ours,
                run.seconds,
            ])  # fmt: skip
    print_table(
        f"Programs with mid-circuit measurement on {args.backend} (noisy trajectories)",
        ["qubits", "rounds", "shots", "native ops", "branches (pred.)", "predicted s", "ours s",
         "ours / predicted", "aer s", "aer / ours", "billed QPU s"],
        rows,
    )  # fmt: skip
    emit({
        "bench": "noisy_programs",
        "backend": args.backend,
        "max_measured_over_predicted": max(ratios),
        "cases": len(rows),
    })  # fmt: skip


if __name__ == "__main__":
    main()
