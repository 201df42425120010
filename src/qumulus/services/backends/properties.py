"""A backend's calibration as per-qubit and per-pair figures (the SDK's ``backend.properties()``).

A characterization snapshot may carry per-qubit lists (``qubit``) and per-pair 2q fidelities
(``pair``), or only medians (older snapshots). Either way this returns one figure per qubit and per
pair, and says which ones are medians, so a client never has to know the snapshot's vintage.
"""

from __future__ import annotations

from datetime import datetime
from itertools import combinations
from typing import Any

from qumulus.backends.device import qubit_frequencies
from qumulus.services.backends import catalog as backend_svc
from qumulus.services.context import Context
from qumulus.timeutil import iso

#: Native gates of a trapped-ion QPU (wire spec §10.3): the 1q pair, and the 2q gate per family.
NATIVE_1Q = ("gpi", "gpi2")


def backend_properties(platform: Context, name: str, at: datetime | None = None) -> dict[str, Any] | None:
    """The snapshot in force at ``at`` (default: now), or None when the backend has none."""
    rows, _ = backend_svc.characterizations(platform, name, end=at, limit=1)
    if not rows:
        return None
    row = rows[0]
    data = row.data or {}
    n = int(row.qubits)
    timing = data.get("timing", {})
    fidelity = data.get("fidelity", {})
    per = data.get("qubit") or {}
    pairs_2q = (data.get("pair") or {}).get("2q") or {}

    def column(key: str, default: float | None) -> tuple[list[float | None], bool]:
        values = per.get(key)
        if isinstance(values, list) and len(values) >= n:
            return [float(v) for v in values[:n]], True
        return [default] * n, False

    t1, t1_per = column("t1", timing.get("t1"))
    t2, _ = column("t2", timing.get("t2"))
    spam_median = _median(fidelity, "spam")
    spam, _ = column("spam", spam_median)
    f1q, f1q_per = column("1q", _median(fidelity, "1q"))
    p10, _ = column("readout_p1_given_0", None)
    p01, _ = column("readout_p0_given_1", None)
    f2q_median = _median(fidelity, "2q")
    connectivity = data.get("connectivity") or [list(p) for p in combinations(range(n), 2)]
    frequency = qubit_frequencies(data, n)
    qubits = [
        {
            "qubit": q,
            "t1": t1[q],
            "t2": t2[q],
            "frequency": frequency[q],
            "readout_error": None if spam[q] is None else round(1.0 - spam[q], 12),
            "prob_meas1_prep0": p10[q],
            "prob_meas0_prep1": p01[q],
            "readout_length": timing.get("readout"),
            "gate_error_1q": None if f1q[q] is None else round(1.0 - f1q[q], 12),
        }
        for q in range(n)
    ]
    pairs = []
    for a, b in connectivity:
        lo, hi = min(a, b), max(a, b)
        f = pairs_2q.get(f"{lo}-{hi}", f2q_median)
        pairs.append({"qubits": [lo, hi], "gate_error_2q": None if f is None else round(1.0 - float(f), 12)})
    return {
        "backend": row.backend,
        "characterization_id": row.id,
        "date": iso(row.date),
        "qubits": n,
        "per_qubit": t1_per or f1q_per,
        "per_pair": bool(pairs_2q),
        "gates": {
            "1q": {"native": list(NATIVE_1Q), "duration": timing.get("1q")},
            "2q": {"native": data.get("native_2q"), "duration": timing.get("2q")},
        },
        "timing": {"readout": timing.get("readout"), "reset": timing.get("reset")},
        "qubit": qubits,
        "pair": pairs,
    }


def _median(fidelity: dict[str, Any], key: str) -> float | None:
    value = (fidelity.get(key) or {}).get("median")
    return float(value) if value is not None else None
