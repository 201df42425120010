"""Recalibration drift stays physical and within the published bounds, however long it runs."""

from __future__ import annotations

import numpy as np
import pytest

from qumulus.backends.catalog import BY_NAME, CATALOG
from qumulus.backends.drift import BOUND, drift

QPUS = [spec for spec in CATALOG if spec.kind == "qpu"]
TOL = 1e-5  # the snapshot rounds figures to 6 significant digits


def _errors(values: list[float]) -> np.ndarray:
    return 1 - np.asarray(values, float)


def _within(value: float, published: float) -> bool:
    return published * (1 - BOUND - TOL) <= value <= published * (1 + BOUND + TOL)


@pytest.mark.parametrize("spec", QPUS, ids=lambda s: s.name)
def test_two_hundred_recalibrations_keep_every_median_within_bounds_and_physics(spec) -> None:  # type: ignore[no-untyped-def]
    m = spec.medians
    data = spec.characterization()
    moved = False
    for step in range(200):
        nxt = drift(data, m, seed=step)
        q = nxt["qubit"]
        assert _within(float(np.median(q["t1"])), m["t1"])
        assert _within(float(np.median(q["t2"])), m["t2"])
        assert _within(float(np.median(_errors(q["spam"]))), 1 - m["spam"])
        assert _within(float(np.median(_errors(q["1q"]))), 1 - m["1q"])
        assert _within(float(np.median(_errors(list(nxt["pair"]["2q"].values())))), 1 - m["2q"])
        for key in ("spam", "1q"):
            assert all(0.5 <= f <= 1.0 for f in q[key])
        assert all(0.5 <= f <= 1.0 for f in nxt["pair"]["2q"].values())
        assert all(t2 <= 2 * t1 + 1e-12 for t1, t2 in zip(q["t1"], q["t2"], strict=True))
        # the summary blocks every client reads agree with the per-qubit figures
        assert nxt["fidelity"]["1q"]["median"] == pytest.approx(float(np.median(q["1q"])), rel=1e-5)
        assert nxt["timing"]["t1"] == pytest.approx(float(np.median(q["t1"])), rel=1e-5)
        assert nxt["connectivity"] == data["connectivity"] and nxt["timing"]["2q"] == m["t_2q"]
        moved = moved or nxt["fidelity"]["2q"] != data["fidelity"]["2q"]
        data = nxt
    assert moved


def test_drift_is_reproducible_and_moves_the_figures() -> None:
    spec = BY_NAME["qpu.aria-1"]
    base = spec.characterization()
    assert drift(base, spec.medians, seed=3) == drift(base, spec.medians, seed=3)
    assert drift(base, spec.medians, seed=3) != drift(base, spec.medians, seed=4)
    assert drift(base, spec.medians, seed=3)["qubit"]["t1"] != base["qubit"]["t1"]
    assert base == spec.characterization()  # the input is not modified
