"""Refit the noisy engines' cost model (``qumulus.sim.cost``) on this machine.

Measures, on the issue-12 random circuit compiled for ``qpu.aria-1``, the units the cost model
prices: a qsim gate application per amplitude (whole compiled circuits, fused as the engine fuses),
a qsim call's fixed cost per amplitude (one-gate calls: the state copied in and out), and a leaf
sample per amplitude (:func:`qumulus.sim.sampling.sample_from_amplitudes`); then checks the
refitted model against whole emulated runs (predicted vs measured wall seconds). Best of
``--repeats`` per unit (the box is shared: the minimum is the machine, the rest is other people's
load), threads as the engine uses them (``QUMULUS_SIM_THREADS``).

    python bench/noisy_calibrate.py [--widths 18,20,22] [--check 16,18,20] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from _common import emit
from noisy import device, random_circuit


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--widths", default="18,20,22")
    parser.add_argument("--check", default="16,18,20")
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from qumulus.circuits.compile import compile_native
    from qumulus.sim.branching import QsimBackend
    from qumulus.sim.pauli_noise import build_program
    from qumulus.sim.sampling import sample_from_amplitudes

    dev = device("qpu.aria-1")
    units: dict[str, list[float]] = {"gate_amp": [], "segment_amp": [], "leaf_amp": []}
    for n in (int(w) for w in args.widths.split(",")):
        program = build_program(compile_native(random_circuit(n, args.depth, n), "ms").circuit, dev)
        backend = QsimBackend(program, np.random.default_rng(0), 1)
        amps = float(2**n)
        state = backend.run(None, [], 0, 1)
        one = best(lambda b=backend, s=state: b.run(s, [], 1, 2), args.repeats)
        full = best(lambda b=backend, p=program: b.run(None, [], 0, p.depth), args.repeats)
        leaf = best(lambda s=state: sample_from_amplitudes(s, 1, np.random.default_rng(1)), args.repeats)
        units["segment_amp"].append(one / amps)
        units["gate_amp"].append((full - one) / program.depth / amps)
        units["leaf_amp"].append(leaf / amps)
        print(f"n={n}: gates {program.depth}, full {full:.4f} s, one-gate call {one * 1e3:.2f} ms, "
              f"leaf {leaf * 1e3:.2f} ms", flush=True)  # fmt: skip
    fitted = {k: float(np.median(v)) for k, v in units.items()}
    print("fitted:", {k: f"{v:.3e}" for k, v in fitted.items()}, flush=True)

    from qumulus.sim.emulator import emulate, predict

    checks = {}
    for n in (int(w) for w in args.check.split(",") if w):
        circuit = random_circuit(n, args.depth, 1 + n)
        predicted = predict(circuit, dev, 1000)
        started = time.perf_counter()
        emulate(circuit, dev, 1000, seed=1)
        measured = time.perf_counter() - started
        checks[n] = {"predicted": round(predicted.seconds, 3), "measured": round(measured, 3),
                     "ratio": round(measured / predicted.seconds, 3)}  # fmt: skip
        print(f"check n={n}: predicted {predicted.seconds:.2f} s, measured {measured:.2f} s", flush=True)
    emit({"bench": "noisy_calibrate", "threads": os.environ.get("QUMULUS_SIM_THREADS", "all"),
          "units": fitted, "checks": checks, "load1": os.getloadavg()[0]})  # fmt: skip


if __name__ == "__main__":
    main()
