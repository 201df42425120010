"""Recalibration drift: a new characterization snapshot from the current one, within bounds (pure).

A real QPU's figures wander between calibrations; an emulator that never changes would hide every
client path that reads history. :func:`drift` takes the current snapshot, the backend's published
medians and a seed, and returns the next snapshot:

* each figure family (T1, T2, SPAM error, 1q error, 2q error) moves as a whole — a mean-reverting
  random walk of its median in log space (:data:`STEP`, :data:`REVERSION`) — plus a small
  independent jitter per qubit or pair (:data:`JITTER`), renormalised so the family's median is
  exactly the walk's value;
* the walk is clipped so every median stays within ±:data:`BOUND` (relative) of the published one:
  error *rates* (1 − fidelity) and coherence times are what is bounded, so a fidelity can never
  pass 1 and a 1 % error rate never becomes 2 %;
* T2 ≤ 2·T1 on every qubit (physics), readout flips follow the SPAM error, and the summary blocks
  (``fidelity``, ``timing.t1``/``t2``) are recomputed from the per-qubit figures.

Durations, connectivity and the coherent frequency offsets do not drift. Same inputs, same output.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from qumulus.backends.device import READOUT_ONE_TO_ZERO_SHARE, _r, _rs

#: Largest relative distance of a family's median from the published median.
BOUND = 0.2
#: σ of one recalibration's step of a family's log-median.
STEP = 0.05
#: Share of the distance from the published median kept at each step (mean reversion).
REVERSION = 0.8
#: σ of the per-qubit / per-pair log jitter at each recalibration.
JITTER = 0.03
#: Error rates are kept inside this range whatever the walk does.
MIN_ERROR, MAX_ERROR = 1e-7, 0.5


def _walk(current: float, published: float, rng: np.random.Generator) -> float:
    """The family's next median: mean-reverting in log space, clipped to ±BOUND of published."""
    r = math.log(current / published) if current > 0 else 0.0
    nxt = published * math.exp(REVERSION * r + STEP * float(rng.normal()))
    return min(published * (1 + BOUND), max(published * (1 - BOUND), nxt))


def _family(values: np.ndarray, published: float, rng: np.random.Generator) -> np.ndarray:
    target = _walk(float(np.median(values)), published, rng)
    moved = values * np.exp(rng.normal(0.0, JITTER, values.size))
    return moved * (target / float(np.median(moved)))


def drift(data: dict[str, Any], medians: dict[str, float], seed: int) -> dict[str, Any]:
    """The snapshot after one recalibration of ``data`` (a per-qubit snapshot, see backends.device)."""
    rng = np.random.default_rng(seed)
    out = copy.deepcopy(data)
    per = out["qubit"]
    t1 = _family(np.asarray(per["t1"], float), medians["t1"], rng)
    t2 = _family(np.asarray(per["t2"], float), medians["t2"], rng)
    t2 = np.minimum(t2, 2 * t1)
    spam_err = np.clip(
        _family(1 - np.asarray(per["spam"], float), 1 - medians["spam"], rng), MIN_ERROR, MAX_ERROR
    )
    err_1q = np.clip(_family(1 - np.asarray(per["1q"], float), 1 - medians["1q"], rng), MIN_ERROR, MAX_ERROR)
    pairs = list(out["pair"]["2q"])
    err_2q = 1 - np.asarray([out["pair"]["2q"][k] for k in pairs], float)
    if pairs:
        err_2q = np.clip(_family(err_2q, 1 - medians["2q"], rng), MIN_ERROR, MAX_ERROR)
    per.update(
        t1=_rs(t1),
        t2=_rs(t2),
        spam=_rs(1 - spam_err),
        readout_p1_given_0=_rs((1 - READOUT_ONE_TO_ZERO_SHARE) * 2 * spam_err),
        readout_p0_given_1=_rs(READOUT_ONE_TO_ZERO_SHARE * 2 * spam_err),
    )
    per["1q"] = _rs(1 - err_1q)
    out["pair"]["2q"] = {k: _r(float(1 - e)) for k, e in zip(pairs, err_2q, strict=True)}

    def summary(fidelities: np.ndarray) -> dict[str, float]:
        return {"median": _r(float(np.median(fidelities))), "mean": _r(float(np.mean(fidelities)))}

    out["fidelity"] = {
        "spam": summary(1 - spam_err),
        "1q": summary(1 - err_1q),
        "2q": summary(1 - err_2q) if pairs else out["fidelity"]["2q"],
    }
    out["timing"] = {**out["timing"], "t1": _r(float(np.median(t1))), "t2": _r(float(np.median(t2)))}
    return out
