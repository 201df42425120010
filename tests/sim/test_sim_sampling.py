"""``sample()``: seeded reproducibility, little-endian outcomes, and statistics that match."""

from __future__ import annotations

import numpy as np
import pytest

from qumulus.circuits.model import Circuit, Operation
from qumulus.sim.sampling import sample_from_probabilities
from tests.sim._util import make_engine

ENGINES = ("aer", "qsim", "qulacs")
BELL = Circuit(2, (Operation("h", (0,)), Operation("x", (1,), controls=(0,))))


@pytest.mark.parametrize("name", ENGINES)
def test_same_seed_same_shots(name: str) -> None:
    engine = make_engine(name)
    circuit = Circuit(
        3, (Operation("h", (0,)), Operation("ry", (1,), params=(1.1,)), Operation("x", (2,), (0,)))
    )
    a = engine.sample(circuit, 500, seed=42)
    b = engine.sample(circuit, 500, seed=42)
    c = engine.sample(circuit, 500, seed=43)
    assert a.dtype == np.uint64 and a.shape == (500,)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_double_engines_give_identical_shots_for_a_seed() -> None:
    """Sampling is shared, so the engine choice does not change a seeded run (double engines)."""
    circuit = Circuit(
        3, (Operation("h", (0,)), Operation("rx", (1,), params=(0.7,)), Operation("x", (2,), (1,)))
    )
    np.testing.assert_array_equal(
        make_engine("aer").sample(circuit, 1000, 5), make_engine("qulacs").sample(circuit, 1000, 5)
    )


@pytest.mark.parametrize("name", ENGINES)
def test_bell_sampling_is_half_half(name: str) -> None:
    """20 000 Bell shots: only 00 and 11, and the count of 11 within 5σ of a fair binomial."""
    shots = 20_000
    outcomes = make_engine(name).sample(BELL, shots, seed=2024)
    values, counts = np.unique(outcomes, return_counts=True)
    assert set(values.tolist()) <= {0, 3}
    ones = int(counts[values == 3].sum()) if 3 in values else 0
    sigma = np.sqrt(shots * 0.25)
    assert abs(ones - shots / 2) < 5 * sigma


def test_sampler_matches_distribution_chi_square() -> None:
    """Pearson χ² over 8 outcomes with uneven probabilities; seeded, so the test is deterministic."""
    probs = np.array([0.3, 0.0, 0.05, 0.15, 0.2, 0.0, 0.1, 0.2])
    shots = 50_000
    outcomes = sample_from_probabilities(probs, shots, seed=7)
    counts = np.bincount(outcomes.astype(np.int64), minlength=8)
    assert counts[1] == counts[5] == 0  # zero-probability outcomes never appear
    nonzero = probs > 0
    expected = probs[nonzero] * shots
    chi2 = float((((counts[nonzero] - expected) ** 2) / expected).sum())
    assert chi2 < 20.5  # χ²(5 dof) 99.9th percentile


def test_sampler_chunked_cdf_crosses_slices() -> None:
    """Mass spread across several cumulative-sum slices and a sparse index map."""
    n = (1 << 21) + 3
    probs = np.zeros(n)
    hot = np.array([5, (1 << 20) - 1, 1 << 20, (1 << 21) + 2])
    probs[hot] = [0.1, 0.2, 0.3, 0.4]
    outcomes = sample_from_probabilities(probs, 40_000, seed=1)
    got = {int(k): int(v) for k, v in zip(*np.unique(outcomes, return_counts=True), strict=True)}
    assert set(got) == set(hot.tolist())
    for index, p in zip(hot.tolist(), [0.1, 0.2, 0.3, 0.4], strict=True):
        assert abs(got[index] / 40_000 - p) < 0.015
    sparse = sample_from_probabilities(np.array([0.25, 0.75]), 1000, seed=3, indices=np.array([9, 1 << 40]))
    assert set(sparse.tolist()) <= {9, 1 << 40}


def test_unnormalised_float32_input_and_zero_shots() -> None:
    probs = np.array([0.5, 0.5000001], dtype=np.float32)
    assert sample_from_probabilities(probs, 0, seed=1).shape == (0,)
    assert set(sample_from_probabilities(probs, 100, seed=1).tolist()) <= {0, 1}
    with pytest.raises(ValueError):
        sample_from_probabilities(probs, -1, seed=1)


def test_sampling_from_amplitudes_follows_the_squared_amplitudes() -> None:
    """The noisy engine's leaf sampler (block sums, one block's cumulative sum per draw) draws from
    |ψ|² like the probability-vector sampler, leaves the state untouched, and never picks a zero."""
    from qumulus.sim.sampling import sample_from_amplitudes

    rng = np.random.default_rng(3)
    n = 13  # 8 blocks of 1024 amplitudes
    psi = (rng.normal(size=2**n) + 1j * rng.normal(size=2**n)).astype(np.complex64)
    psi[rng.random(2**n) < 0.3] = 0  # zeros must never be drawn
    psi /= np.linalg.norm(psi)
    before = psi.copy()
    shots = 400_000
    drawn = sample_from_amplitudes(psi, shots, np.random.default_rng(5))
    assert np.array_equal(psi, before)
    probs = np.abs(psi.astype(np.complex128)) ** 2
    probs /= probs.sum()
    assert probs[drawn.astype(np.int64)].min() > 0
    counts = np.bincount(drawn.astype(np.int64), minlength=probs.size) / shots
    noise = [0.5 * np.abs(rng.multinomial(shots, probs) / shots - probs).sum() for _ in range(50)]
    assert 0.5 * np.abs(counts - probs).sum() < 1.2 * max(noise)
    # a tiny state (fewer amplitudes than a block) and a basis state
    assert sample_from_amplitudes(np.array([0, 1], dtype=np.complex64), 5, rng).tolist() == [1] * 5
