"""Usage estimates before a job runs: simulator per circuit, QPU from gate and readout times."""

from __future__ import annotations

import pytest

from qumulus.accounting.estimate import (
    SIMULATOR_SECONDS_PER_CIRCUIT,
    Timing,
    estimate_usage_seconds,
)


def test_simulator_costs_a_small_figure_per_circuit_whatever_the_shots() -> None:
    one = estimate_usage_seconds("simulator", 2, {"1q": 1, "2q": 1}, shots=100)
    assert one == SIMULATOR_SECONDS_PER_CIRCUIT
    assert estimate_usage_seconds("simulator", 2, {"1q": 1}, shots=100_000) == one
    assert estimate_usage_seconds("simulator", 2, {"1q": 3}, shots=1, circuits=3) == 3 * one


def test_simulator_estimate_doubles_per_qubit_past_twenty() -> None:
    assert estimate_usage_seconds("simulator", 22, {}, 1) == 4 * SIMULATOR_SECONDS_PER_CIRCUIT


def test_qpu_estimate_is_shots_times_gate_and_readout_time_on_aria() -> None:
    # Bell pair on Aria: 1 × 135 µs + 1 × 600 µs + readout 300 µs + reset 20 µs = 1055 µs per shot
    seconds = estimate_usage_seconds("qpu", 2, {"1q": 1, "2q": 1}, shots=1000)
    assert seconds == pytest.approx(1.055)


def test_qpu_estimate_uses_the_backends_timing_and_counts_wide_gates_as_two_qubit_ones() -> None:
    forte = Timing.from_characterization({"1q": 110e-6, "2q": 900e-6, "readout": 150e-6, "reset": 50e-6})
    seconds = estimate_usage_seconds("qpu", 3, {"3q": 1}, shots=10, timing=forte)
    assert seconds == pytest.approx(10 * (6 * 900e-6 + 200e-6))  # a Toffoli ≈ six 2q gates


def test_more_circuits_add_their_readouts() -> None:
    one = estimate_usage_seconds("qpu", 1, {"1q": 2}, shots=10, circuits=1)
    two = estimate_usage_seconds("qpu", 1, {"1q": 2}, shots=10, circuits=2)
    assert two - one == pytest.approx(10 * (300e-6 + 20e-6))
