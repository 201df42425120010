"""Per-qubit characterizations of the emulated QPUs, and the device model the emulator reads from them.

Two pure functions, no I/O:

* :func:`detailed_characterization` turns a catalog spec's published *medians* into a full snapshot:
  per-qubit T1, T2, readout (SPAM) error, 1q fidelity and frequency offset, per-pair 2q fidelity. The
  spread is seeded from the backend's name, so every fresh install shows the same device, and it is
  normalised so the **median of each figure is exactly the published median** (what IonQ publishes
  and what the summary ``fidelity``/``timing`` blocks report).
* :func:`device_model` reads any stored snapshot (this one, a recalibrated one, or an old one with
  medians only) into a :class:`DeviceModel`, the only thing the noise model and timing model see.

Why a frequency offset: a trapped-ion qubit whose drive is slightly off resonance (a magnetic field
drift) picks up a *coherent* Z rotation while it waits. Coherent errors are what IonQ's debiasing
(symmetrized variants) exists to fight, so an honest emulator has to have some; its size is chosen
so it stays a small part of each gate's error budget (see :mod:`qumulus.sim.noise`).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

#: Log-normal spread (σ of the log) of per-qubit infidelities and of T1/T2 around their medians.
INFIDELITY_SPREAD = 0.25
COHERENCE_SPREAD = 0.10
#: Share of a qubit's readout error that is "bright read as dark" (|1⟩ → 0): ions lose brightness
#: more often than they gain it, so readout is asymmetric.
READOUT_ONE_TO_ZERO_SHARE = 0.7
#: Coherent phase a qubit picks up during one 2q gate from its frequency offset (radians): sets the
#: offset's size per device (≈ 3 % of the 2q error budget).
PHASE_PER_2Q_GATE = 0.03
#: Share of each two-qubit gate's error that is coherent: a systematic over-rotation of the MS/ZZ
#: angle (a calibration offset, same sign on every gate of a pair), see ``DeviceModel.over_rotation``.
#: Off by default: at 0.3 the honesty bench's two-qubit RB (whose local layers are not a full
#: twirl) measured 35-45 % more error than characterized, and the GHZ circuits showed no coherent
#: build-up for debiasing to undo (docs/simulation.md). Kept as a knob for experiments.
COHERENT_2Q_SHARE = 0.0
#: Fixed cost of a job on a QPU (calibration check, loading, result upload), in seconds.
JOB_OVERHEAD_SECONDS = 0.5
#: The qubit of every emulated device: the ground-state hyperfine (clock) transition of ¹⁷¹Yb⁺, in
#: Hz. A qubit's published frequency is this plus its measured detuning (``qubit_frequencies``).
QUBIT_FREQUENCY_HZ = 12_642_812_118.466


def pair_key(a: int, b: int) -> str:
    """``"a-b"`` with ``a < b``: a pair's key in a snapshot (JSON objects need string keys)."""
    lo, hi = (a, b) if a < b else (b, a)
    return f"{lo}-{hi}"


def _seed(name: str) -> int:
    return zlib.crc32(name.encode())


def _spread(rng: np.random.Generator, median: float, size: int, sigma: float) -> np.ndarray:
    """``size`` log-normal values whose median is exactly ``median``."""
    if size == 0:
        return np.zeros(0)
    values = np.exp(rng.normal(0.0, sigma, size))
    return median * values / float(np.median(values))


def detailed_characterization(
    name: str, qubits: int, native_2q: str | None, medians: dict[str, float]
) -> dict[str, Any]:
    """A full characterization snapshot (the platform's shape; ``api/`` maps it per client).

    Keeps the summary keys every client reads (``fidelity``, ``timing``, ``connectivity``) and adds
    ``qubit`` (lists indexed by qubit), ``pair`` (``"a-b"`` → 2q fidelity) and ``emulation``.
    """
    rng = np.random.default_rng(_seed(name))
    m = medians
    n = qubits
    t1 = _spread(rng, m["t1"], n, COHERENCE_SPREAD)
    t2 = np.minimum(_spread(rng, m["t2"], n, COHERENCE_SPREAD), 2 * t1)
    spam_error = _spread(rng, 1 - m["spam"], n, INFIDELITY_SPREAD)
    f1q = 1 - _spread(rng, 1 - m["1q"], n, INFIDELITY_SPREAD)
    pairs = list(combinations(range(n), 2))
    f2q = 1 - _spread(rng, 1 - m["2q"], len(pairs), INFIDELITY_SPREAD)
    # One field offset shared by the chain plus a small per-qubit part: a global drift, same sign.
    offset_hz = PHASE_PER_2Q_GATE / (2 * math.pi * m["t_2q"])
    detuning = offset_hz * (1 + 0.2 * rng.normal(0.0, 1.0, n))
    one_to_zero = READOUT_ONE_TO_ZERO_SHARE * 2 * spam_error
    zero_to_one = (1 - READOUT_ONE_TO_ZERO_SHARE) * 2 * spam_error

    def summary(values: np.ndarray) -> dict[str, float]:
        return {"median": _r(float(np.median(values))), "mean": _r(float(np.mean(values)))}

    return {
        "fidelity": {
            "spam": summary(1 - spam_error),
            "1q": summary(f1q),
            "2q": summary(f2q),
        },
        "timing": {
            "t1": m["t1"],
            "t2": m["t2"],
            "1q": m["t_1q"],
            "2q": m["t_2q"],
            "readout": m["t_readout"],
            "reset": m["t_reset"],
        },
        "connectivity": [list(pair) for pair in pairs],
        "native_2q": native_2q,
        "qubit": {
            "t1": _rs(t1),
            "t2": _rs(t2),
            "spam": _rs(1 - spam_error),
            "readout_p1_given_0": _rs(zero_to_one),
            "readout_p0_given_1": _rs(one_to_zero),
            "1q": _rs(f1q),
            "detuning_hz": _rs(detuning),
        },
        "pair": {"2q": {pair_key(a, b): _r(float(f)) for (a, b), f in zip(pairs, f2q, strict=True)}},
        "emulation": {"job_overhead": JOB_OVERHEAD_SECONDS, "seed": _seed(name)},
    }


def _r(value: float) -> float:
    return float(f"{value:.6g}")


def _rs(values: np.ndarray) -> list[float]:
    return [_r(float(v)) for v in values]


@dataclass(frozen=True)
class DeviceModel:
    """What the emulator needs from a characterization: per-qubit and per-pair figures, durations.

    Times in seconds, fidelities as fractions, readout error as the two flip probabilities.
    """

    qubits: int
    native_2q: str
    t1: tuple[float, ...]
    t2: tuple[float, ...]
    f1q: tuple[float, ...]
    p1_given_0: tuple[float, ...]
    p0_given_1: tuple[float, ...]
    detuning_hz: tuple[float, ...]
    f2q: dict[str, float]
    f2q_default: float
    t_1q: float
    t_2q: float
    t_readout: float
    t_reset: float
    job_overhead: float

    def fidelity_2q(self, a: int, b: int) -> float:
        return self.f2q.get(pair_key(a, b), self.f2q_default)

    def over_rotation(self, a: int, b: int) -> float:
        """Systematic excess angle (turns) of every MS/ZZ gate on pair (a, b): a coherent error
        worth :data:`COHERENT_2Q_SHARE` of the pair's infidelity (exp(−iπε·P⊗P) has average
        infidelity (4/5)·sin²(πε))."""
        coherent = COHERENT_2Q_SHARE * (1.0 - self.fidelity_2q(a, b))
        return math.asin(min(1.0, math.sqrt(coherent / 0.8))) / math.pi


def device_model(data: dict[str, Any], qubits: int | None = None) -> DeviceModel:
    """Read a stored snapshot. Snapshots with medians only (older ones) give a uniform device."""
    timing = data["timing"]
    fidelity = data["fidelity"]
    n = int(qubits) if qubits is not None else _count(data)
    per = data.get("qubit") or {}
    spam = fidelity["spam"]["median"]

    def column(key: str, default: float) -> tuple[float, ...]:
        values = per.get(key)
        if isinstance(values, list) and len(values) >= n:
            return tuple(float(v) for v in values[:n])
        return (float(default),) * n

    offset_hz = PHASE_PER_2Q_GATE / (2 * math.pi * timing["2q"])
    return DeviceModel(
        qubits=n,
        native_2q=str(data.get("native_2q") or "ms"),
        t1=column("t1", timing["t1"]),
        t2=column("t2", timing["t2"]),
        f1q=column("1q", fidelity["1q"]["median"]),
        p1_given_0=column("readout_p1_given_0", 2 * (1 - spam) * (1 - READOUT_ONE_TO_ZERO_SHARE)),
        p0_given_1=column("readout_p0_given_1", 2 * (1 - spam) * READOUT_ONE_TO_ZERO_SHARE),
        detuning_hz=column("detuning_hz", offset_hz),
        f2q={str(k): float(v) for k, v in ((data.get("pair") or {}).get("2q") or {}).items()},
        f2q_default=float(fidelity["2q"]["median"]),
        t_1q=float(timing["1q"]),
        t_2q=float(timing["2q"]),
        t_readout=float(timing["readout"]),
        t_reset=float(timing["reset"]),
        job_overhead=float((data.get("emulation") or {}).get("job_overhead", JOB_OVERHEAD_SECONDS)),
    )


def qubit_frequencies(data: dict[str, Any], qubits: int) -> list[float]:
    """Each qubit's transition frequency in Hz: the ion's clock transition plus the qubit's drive
    detuning as characterized (the coherent offset the emulator applies). Snapshots without a
    per-qubit detuning give the nominal frequency."""
    per = (data.get("qubit") or {}).get("detuning_hz")
    if not isinstance(per, list) or len(per) < qubits:
        per = [0.0] * qubits
    return [round(QUBIT_FREQUENCY_HZ + float(d), 3) for d in per[:qubits]]


def _count(data: dict[str, Any]) -> int:
    """Qubits of a snapshot that does not say: one more than the highest qubit in its connectivity."""
    return 1 + max((max(pair) for pair in data.get("connectivity", [])), default=-1)
