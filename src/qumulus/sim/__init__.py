"""Simulation: engine adapters behind one interface, routing, result I/O.

Importing this package imports neither qiskit, cirq nor qulacs: each adapter imports its engine
when first used, so a worker only pays for the engines it runs (cirq alone takes ~1.8 s).

* :mod:`qumulus.sim.engine` — the ``Engine`` protocol and ``Distribution``;
* :mod:`qumulus.sim.aer`, :mod:`qumulus.sim.qsim`, :mod:`qumulus.sim.qulacs_engine` — adapters;
* :mod:`qumulus.sim.routing` — ``choose_engine`` / ``run_ideal`` and the measurements behind them;
* :mod:`qumulus.sim.results_io` — ``.npy`` storage and streamed JSON for big distributions.
"""

from qumulus.sim.engine import Distribution, Engine
from qumulus.sim.results_io import iter_json_items, load_distribution, save_distribution
from qumulus.sim.routing import available_engines, choose_engine, run_ideal

__all__ = [
    "Distribution",
    "Engine",
    "available_engines",
    "choose_engine",
    "iter_json_items",
    "load_distribution",
    "run_ideal",
    "save_distribution",
]
