"""Noisy emulation at hardware widths: Qumulus's Pauli engine against qsim and Aer trajectories.

Per width, on a random circuit (one layer = a random rx/ry/rz on every qubit + a random CNOT
matching, as in issue 12) and a GHZ chain, ``--shots`` shots (1000), the device's noise:

* ``qumulus``: the emulator's engine called directly (:func:`qumulus.sim.emulator.emulate`): compile,
  Pauli program, patterns, qsim branching (or stim for a Clifford circuit); ``predicted`` is the cost
  model's prediction for the same run (:mod:`qumulus.sim.cost`). Planned as a worker plans it, under
  the server's limit (``QUMULUS_MAX_EMULATION_SECONDS``, 600 s): above it the engine column reads
  ``… budget:K`` (K shared trajectories, docs/simulation.md), so compare that row's time with care;
* ``qsim-traj``: qsimcirq's own noisy simulation (``QSimSimulator.run``, one trajectory per shot)
  on the *same* native circuit with the *same* Pauli channels (the gates' matrices with the drift
  already in them, each location an ``asymmetric_depolarize``), readout flips applied the same way;
* ``aer-traj``: qiskit-aer's state-vector trajectories of the full (non-twirled) model, the path the
  emulator took before (relaxation and depolarizing as Aer mixtures), when ``--aer`` allows;
* ``platform`` (``--platform``; ``--platform-only`` skips the direct call): the same job end to end
  through a live ``qumulus serve`` of this checkout (submit over HTTP, wait, read the results); the
  ratio columns then divide the platform's time.

Besides the widths, GHZ-25 on ``qpu.aria-1`` and GHZ-36 on ``qpu.forte-1`` (Clifford: stim) run
unless ``--no-wide-ghz``; no reference runs above 24 qubits (2**25 amplitudes × 1000 trajectories).
``--quick`` (widths 8 and 12, depth 5, 300 shots) takes well under a minute.

Every engine runs in this process, same threads (``QUMULUS_SIM_THREADS``, default all cores), in the
same run, interleaved per width; a reference whose previous width took more than ``--budget`` seconds
is extrapolated instead (marked ``~``).

    python bench/noisy.py [--quick] [--widths 8,12,16,20] [--depth 10] [--backend qpu.aria-1]
                          [--platform | --platform-only] [--refs qsim-traj,aer-traj] [--budget 120]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from _common import emit, free_port, print_table, start_qumulus
from qumulus.backends.catalog import BY_NAME
from qumulus.backends.device import DeviceModel, device_model
from qumulus.circuits.compile import compile_native
from qumulus.circuits.model import Circuit, Operation


def random_circuit(n: int, depth: int, seed: int) -> Circuit:
    """Issue 12's circuit: per layer a random rx/ry/rz on every qubit, then a random CNOT matching."""
    rng = np.random.default_rng(seed)
    ops: list[Operation] = []
    for _ in range(depth):
        for q in range(n):
            name = str(rng.choice(["rx", "ry", "rz"]))
            ops.append(Operation(name, (q,), params=(float(rng.uniform(0, 2 * math.pi)),)))
        perm = rng.permutation(n)
        for i in range(0, n - 1, 2):
            ops.append(Operation("x", (int(perm[i + 1]),), controls=(int(perm[i]),)))
    return Circuit(n, tuple(ops))


def ghz(n: int) -> Circuit:
    return Circuit(
        n, (Operation("h", (0,)), *(Operation("x", (i + 1,), controls=(i,)) for i in range(n - 1)))
    )


def device(name: str) -> DeviceModel:
    spec = BY_NAME[name]
    return device_model(spec.characterization(), spec.qubits)


# engines -----------------------------------------------------------------------------------------


#: The server's default emulation limit (``QUMULUS_MAX_EMULATION_SECONDS``): the direct call plans
#: the same way a worker does (trajectory-budget mode above it).
LIMIT = float(os.environ.get("QUMULUS_MAX_EMULATION_SECONDS") or 600.0)


def run_qumulus(circuit: Circuit, dev: DeviceModel, shots: int, seed: int) -> dict[str, Any]:
    from qumulus.sim.emulator import emulate, predict

    predicted = predict(circuit, dev, shots, max_seconds=LIMIT or None)
    started = time.perf_counter()
    result = emulate(circuit, dev, shots, seed=seed, max_seconds=LIMIT or None)
    return {
        "seconds": time.perf_counter() - started,
        "predicted": predicted.seconds,
        "engine": result.method,
        "patterns": predicted.patterns,
        "outcomes": result.outcomes,
    }


def run_qsim_trajectories(circuit: Circuit, dev: DeviceModel, shots: int, seed: int) -> dict[str, Any]:
    """qsimcirq's noisy ``run`` on the same native circuit with the same Pauli channels."""
    import cirq
    import qsimcirq

    from qumulus.sim._common import default_threads
    from qumulus.sim.branching import default_fusion
    from qumulus.sim.pauli_noise import apply_readout, build_program

    started = time.perf_counter()
    native = compile_native(circuit, dev.native_2q).circuit
    program = build_program(native, dev)
    qubits = cirq.LineQubit.range(program.qubits)
    by_pos: dict[int, list[Any]] = {}
    for loc in program.locations:
        by_pos.setdefault(loc.pos, []).append(loc)

    def channels(pos: int) -> list[Any]:
        out = []
        for loc in by_pos.get(pos, []):
            if len(loc.qubits) == 1:
                px, py, pz = (float(p) for p in loc.probs[1:])
                out.append(cirq.asymmetric_depolarize(px, py, pz).on(qubits[loc.qubits[0]]))
            else:
                probs = {
                    "IXYZ"[c // 4] + "IXYZ"[c % 4]: float(loc.probs[c])
                    for c in range(1, 16)
                    if loc.probs[c] > 0
                }
                out.append(cirq.asymmetric_depolarize(error_probabilities=probs).on(
                    qubits[loc.qubits[0]], qubits[loc.qubits[1]]))  # fmt: skip
        return out

    ops: list[Any] = []
    for i, (wires, unitary) in enumerate(program.gates):
        ops.extend(channels(i))
        ops.append(cirq.MatrixGate(unitary).on(*(qubits[q] for q in wires)))
    ops.extend(channels(program.depth))
    noisy = cirq.Circuit(ops)
    noisy.append(cirq.measure(*reversed(qubits), key="m"))
    options = qsimcirq.QSimOptions(
        max_fused_gate_size=default_fusion(program.qubits), cpu_threads=default_threads()
    )
    simulator = qsimcirq.QSimSimulator(options, seed=seed)
    bits = simulator.run(noisy, repetitions=shots).measurements["m"]
    weights = 1 << np.arange(program.qubits - 1, -1, -1, dtype=np.uint64)
    outcomes = (bits.astype(np.uint64) * weights).sum(axis=1).astype(np.uint64)
    outcomes = apply_readout(outcomes, program, np.random.default_rng(seed))
    return {"seconds": time.perf_counter() - started, "outcomes": outcomes}


def run_aer_trajectories(circuit: Circuit, dev: DeviceModel, shots: int, seed: int) -> dict[str, Any]:
    """The full (non-twirled) model on Aer's state-vector trajectories."""
    from qumulus.sim.emulator import emulate

    started = time.perf_counter()
    result = emulate(circuit, dev, shots, seed=seed, engine="aer-trajectories")
    return {"seconds": time.perf_counter() - started, "outcomes": result.outcomes}


def run_platform(client: Any, backend: str, circuit: Circuit, shots: int) -> dict[str, Any]:
    """The job end to end over HTTP: submit, wait, read the per-shot results (what a user does)."""
    from qumulus.circuits.ionq_json import to_qis_json

    started = time.perf_counter()
    job = client.run({"backend": backend, "shots": shots, "input": to_qis_json(circuit)})
    client.probabilities(job)
    return {
        "seconds": time.perf_counter() - started,
        "job": job,
        "engine": job.get("engine"),
        "predicted": (job.get("predicted_emulation_duration_ms") or 0) / 1000,
    }


def tvd(a: np.ndarray, b: np.ndarray) -> float:
    ka, ca = np.unique(a, return_counts=True)
    kb, cb = np.unique(b, return_counts=True)
    pa = dict(zip(ka.tolist(), (ca / a.size).tolist(), strict=True))
    pb = dict(zip(kb.tolist(), (cb / b.size).tolist(), strict=True))
    return 0.5 * sum(abs(pa.get(k, 0.0) - pb.get(k, 0.0)) for k in set(pa) | set(pb))


# main --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="widths 8 and 12, depth 5, 300 shots (< 1 min)")
    parser.add_argument("--backend", default="qpu.aria-1")
    parser.add_argument("--widths", default=None, help="comma-separated (default 8,10,...,24)")
    parser.add_argument("--depth", type=int, default=10, help="random-circuit layers")
    parser.add_argument("--shots", type=int, default=None)
    parser.add_argument("--circuits", default="random,ghz")
    parser.add_argument("--refs", default="qsim-traj,aer-traj", help="references to run (comma-separated)")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds a reference may take per cell")
    parser.add_argument(
        "--no-wide-ghz", action="store_true", help="skip GHZ-25 on aria-1 and GHZ-36 on forte-1"
    )
    parser.add_argument("--platform", action="store_true", help="also end to end through a live server")
    parser.add_argument("--platform-only", action="store_true", help="only the live server (no direct call)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    widths = [int(w) for w in args.widths.split(",")] if args.widths else (
        [8, 12] if args.quick else list(range(8, 25, 2)))  # fmt: skip
    depth = 5 if args.quick and args.depth == 10 else args.depth
    shots = args.shots or (300 if args.quick else 1000)
    refs = [r for r in args.refs.split(",") if r]
    dev = device(args.backend)
    cells: list[tuple[str, str, int, Circuit, DeviceModel]] = []
    for n in widths:
        for kind in args.circuits.split(","):
            circuit = random_circuit(n, depth, args.seed + n) if kind == "random" else ghz(n)
            cells.append((args.backend, kind, n, circuit, dev))
    if not args.no_wide_ghz:
        cells.append(("qpu.aria-1", "ghz", 25, ghz(25), device("qpu.aria-1")))
        cells.append(("qpu.forte-1", "ghz", 36, ghz(36), device("qpu.forte-1")))
    rows: list[list[object]] = []
    summary: dict[str, Any] = {"bench": "noisy", "quick": args.quick, "shots": shots, "depth": depth,
                               "threads": os.environ.get("QUMULUS_SIM_THREADS", "all")}  # fmt: skip
    last: dict[tuple[str, str], tuple[int, float]] = {}
    client = server = tmp = None
    if args.platform or args.platform_only:
        from emulation_fidelity import Client

        tmp = tempfile.TemporaryDirectory(prefix="qumulus-bench-")
        # The worker simulates with the same threads as this process (QUMULUS_SIM_THREADS passes on).
        server, key = start_qumulus(Path(tmp.name) / "data", port := free_port())
        client = Client(f"http://127.0.0.1:{port}", key)
    # Warm up every engine once (imports, first-call set-up: 1-3 s for qiskit-aer), so the first
    # width's row measures the engines and not Python loading them.
    warm = random_circuit(6, 2, 0)
    for kind in ("aer-density-matrix", "pauli-qsim", "pauli-stim"):
        from qumulus.sim.emulator import emulate

        emulate(warm if kind != "pauli-stim" else ghz(6), dev, 10, seed=0, engine=kind)
    if "qsim-traj" in refs:
        run_qsim_trajectories(warm, dev, 10, 0)
    if "aer-traj" in refs:
        run_aer_trajectories(warm, dev, 10, 0)
    try:
        for backend, kind, n, circuit, cell_dev in cells:
            row: dict[str, Any] = {}
            if client is not None:
                served = run_platform(client, backend, circuit, shots)
                row["platform"] = served["seconds"]
                ours = {"engine": served["engine"], "predicted": served["predicted"], "patterns": "–",
                        "outcomes": None, "seconds": None}  # fmt: skip
            if not args.platform_only:
                ours = run_qumulus(circuit, cell_dev, shots, args.seed)
                row["qumulus"] = ours["seconds"]
            row["predicted"] = ours["predicted"]
            for ref in refs:
                if n > 24:
                    continue  # 2**25+ amplitudes per trajectory × 1000 shots: not in a bench's time
                prev = last.get((kind, ref))
                if prev is not None and prev[1] > args.budget:
                    growth = 2.0 ** (n - prev[0])
                    row[ref] = ("~", prev[1] * growth)
                    last[(kind, ref)] = (n, prev[1] * growth)
                    continue
                fn = run_qsim_trajectories if ref == "qsim-traj" else run_aer_trajectories
                if ref == "qsim-traj" and ours["engine"] == "stim":
                    pass  # still measured: it is the reference the issue names
                res = fn(circuit, cell_dev, shots, args.seed + 1)
                row[ref] = res["seconds"]
                last[(kind, ref)] = (n, res["seconds"])
                if n <= 14 and ours["outcomes"] is not None:
                    row[f"tvd:{ref}"] = tvd(ours["outcomes"], res["outcomes"])

            def fmt(v: Any) -> str:
                if isinstance(v, tuple):
                    return f"~{v[1]:.3g}"
                return f"{v:.3g}" if isinstance(v, float) else "–"

            base = row.get("platform", row.get("qumulus"))
            ratios = {
                ref: base / (row[ref][1] if isinstance(row[ref], tuple) else row[ref])
                for ref in refs
                if ref in row
            }
            rows.append([
                backend, kind, n, ours["engine"], ours["patterns"], fmt(row["predicted"]),
                fmt(row.get("qumulus")), fmt(row.get("platform")), *(fmt(row.get(r)) for r in refs),
                *(f"{ratios[r]:.2f}" if r in ratios else "–" for r in refs),
            ])  # fmt: skip
            summary[f"{backend}:{kind}{n}"] = {
                k: (
                    round(v, 4)
                    if isinstance(v, float)
                    else (["~", round(v[1], 2)] if isinstance(v, tuple) else v)
                )
                for k, v in row.items()
            } | {"engine": ours["engine"], "patterns": ours["patterns"]}
            print(rows[-1], flush=True)
    finally:
        if server is not None:
            server.stop()
        if tmp is not None:
            tmp.cleanup()
    print_table(
        f"Noisy emulation, {shots} shots, random depth {depth} (wall s; ~ = extrapolated ×2/qubit)",
        ["backend", "circuit", "qubits", "engine", "patterns", "predicted", "qumulus", "platform",
         *refs, *(f"÷ {r}" for r in refs)],
        rows,
    )  # fmt: skip
    emit(summary)


if __name__ == "__main__":
    main()
