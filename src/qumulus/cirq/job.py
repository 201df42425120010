"""A Cirq-facing job: one server job (``job_id()`` is the server's), results as ``cirq.ResultDict``."""

from __future__ import annotations

from typing import Any

import cirq

from qumulus.client.interop.cirq_circuits import (
    LAYOUT_KEY,
    layout_metadata,
    measurement_arrays,
    read_layout,
    to_ionq,
)


def submit(
    backend: Any,
    circuits: list[cirq.AbstractCircuit],
    repetitions: int,
    seed: int | None = None,
    name: str | None = None,
) -> CirqJob:
    converted = [to_ionq(c) for c in circuits]
    payload: Any = [c.ionq for c in converted] if len(converted) > 1 else converted[0].ionq
    job = backend.run(
        payload,
        shots=repetitions,
        name=name,
        memory=True,
        metadata={LAYOUT_KEY: layout_metadata(converted)},
        noise={"seed": seed} if seed is not None else None,
    )
    return CirqJob(job)


class CirqJob:
    def __init__(self, job: Any) -> None:
        self.client_job = job

    def __repr__(self) -> str:
        return f"<CirqJob {self.job_id()}>"

    def job_id(self) -> str:
        return self.client_job.job_id()

    def status(self) -> str:
        """The server's status (``submitted``, ``ready``, ``started``, ``completed``, ``failed`` ...)."""
        return str(self.client_job.refresh().data["status"])

    def cancel(self) -> bool:
        return self.client_job.cancel()

    def results(self, timeout: float | None = None) -> list[cirq.ResultDict]:
        """One result per circuit, in submission order; waits (``JobTimeoutError`` after ``timeout``)."""
        result = self.client_job.result(timeout=timeout)
        layouts = read_layout((self.client_job.data.get("metadata") or {}).get(LAYOUT_KEY), self.job_id())
        return [
            cirq.ResultDict(
                params=cirq.ParamResolver({}), measurements=measurement_arrays(e.memory_int, keys)
            )
            for keys, e in zip(layouts, result.results, strict=True)
        ]
