"""The native compilation a job stores at submission, served as the ``ionq.native.v1`` artifact.

IonQ compiles every QPU job (and a dry run, which only compiles) and publishes the result under
``output.compilation.compiled_circuits``; qiskit-ionq's ``job.compiled_circuit("native")`` downloads
it through ``GET /jobs/{id}/artifacts/{id}``. Here the compiler is :mod:`qumulus.circuits.compile`
(deterministic: the emulator compiles the same circuit to the same gates, so the artifact is what
runs and what is billed). Which native gateset:

* a ``qpu.*`` job, or a simulator job with a QPU noise model: that QPU's (MS for Harmony/Aria, ZZ for
  Forte);
* an ideal simulator dry run: the default QPU's (``qpu.aria-1``, MS).

The artifact body is ``{"qubits": n, "circuit": [native gates]}`` in the wire's native gate format
(phases in turns); a program that measures keeps its ``measure``/``reset`` entries in place.
"""

from __future__ import annotations

from typing import Any

from qumulus.backends.catalog import BY_NAME, DEFAULT_QPU
from qumulus.circuits.model import CircuitBatch
from qumulus.store.models import Backend
from qumulus.wire.jobs import NATIVE_FORMAT


def compile_job(
    backend: Backend, emulated: str | None, batch: CircuitBatch, *, dry_run: bool
) -> list[dict[str, Any] | None] | None:
    """Per circuit, the native artifact body; ``None`` when the job stores no compilation (an ideal
    simulator job that runs)."""
    target = emulated or (backend.name if backend.kind == "qpu" else None)
    if target is None and not dry_run:
        return None
    spec = BY_NAME.get(target or DEFAULT_QPU) or BY_NAME[DEFAULT_QPU]
    from qumulus.circuits.compile import ControlFlowNotCompiled, compile_native
    from qumulus.circuits.ionq_json import to_native_json

    out: list[dict[str, Any] | None] = []
    for circuit in batch.circuits:
        try:
            native = compile_native(circuit, spec.native_2q or "ms").circuit
        except ControlFlowNotCompiled:
            out.append(None)  # a simulator dry run of a program with if/while: nothing native to show
            continue
        body = to_native_json(native)
        out.append({"qubits": body["qubits"], "circuit": body["circuit"]})
    return out


def stored(compiled: list[dict[str, Any] | None] | None, index: int | None) -> dict[str, Any] | None:
    """What a job row keeps: its circuit's artifact (``index``), or all of them for a multi-circuit
    parent (``index`` None), under the format name."""
    if compiled is None:
        return None
    if index is None:
        if len(compiled) == 1:
            return {NATIVE_FORMAT: compiled[0]} if compiled[0] is not None else None
        return {NATIVE_FORMAT: compiled}
    item = compiled[index]
    return {NATIVE_FORMAT: item} if item is not None else None
