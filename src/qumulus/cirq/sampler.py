"""``QumulusSampler``: a ``cirq.Sampler`` whose every call is one server job.

``run_sweep`` resolves all parameter sets and sends them as one multi-circuit job; ``run_batch``
sends every circuit of every program as one job too (Cirq's default would make one job per
program). The last job is on ``sampler.last_job`` (its id: ``sampler.last_job.job_id()``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cirq

from qumulus.cirq.job import CirqJob, submit


class QumulusSampler(cirq.Sampler):
    def __init__(self, backend: Any, timeout: float | None = None, seed: int | None = None) -> None:
        """``backend``: a client :class:`~qumulus.client.Backend`; ``timeout``: seconds to wait for
        results (None: as long as it takes); ``seed``: reproducible shots (the job's ``noise.seed``)."""
        self.backend = backend
        self.timeout = timeout
        self.seed = seed
        self.last_job: CirqJob | None = None

    def run_sweep(
        self, program: cirq.AbstractCircuit, params: cirq.Sweepable, repetitions: int = 1
    ) -> Sequence[cirq.Result]:
        return self.run_batch([program], [params], repetitions)[0]

    def run_batch(
        self,
        programs: Sequence[cirq.AbstractCircuit],
        params_list: Sequence[cirq.Sweepable] | None = None,
        repetitions: int | Sequence[int] = 1,
    ) -> Sequence[Sequence[cirq.Result]]:
        """All programs × all their parameter sets in one server job (one shot count for all)."""
        params_list = list(params_list) if params_list is not None else [None] * len(programs)
        if len(params_list) != len(programs):
            raise ValueError("params_list: one sweep per program")
        reps = set(repetitions) if isinstance(repetitions, Sequence) else {repetitions}
        if len(reps) != 1:
            raise ValueError("one job has one shot count: give the same repetitions to every program")
        circuits = []
        resolvers: list[list[cirq.ParamResolver]] = []
        for program, params in zip(programs, params_list, strict=True):
            group = list(cirq.to_resolvers(params))
            resolvers.append(group)
            circuits.extend(cirq.resolve_parameters(program, r) for r in group)
        job = submit(self.backend, circuits, repetitions=int(reps.pop()), seed=self.seed)
        self.last_job = job
        flat = iter(job.results(timeout=self.timeout))
        return [
            [cirq.ResultDict(params=r, records=None, measurements=next(flat).measurements) for r in group]
            for group in resolvers
        ]
