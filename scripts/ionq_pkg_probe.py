"""Drive the alpha ``ionq`` package (0.0.0a15) against an IonQ-compatible server; print a JSON summary.

It needs the package's own venv (the package pins pydantic<2, which cannot live next to FastAPI):

    IONQ_BASE_URL=http://127.0.0.1:8000/v0.4 IONQ_API_KEY=... .venv-ionq/bin/python scripts/ionq_pkg_probe.py

Every step runs even when an earlier one failed; a failed step records ``{"error": "..."}``. The last
line of stdout is ``IONQ_PROBE_SUMMARY {json}`` (the package itself prints to stdout on HTTP errors,
so a reader should look for the prefix). Exit status 0 when the summary was printed.
"""

from __future__ import annotations

import json
import os
import random
import sys
import traceback
from collections.abc import Callable
from typing import Any

PREFIX = "IONQ_PROBE_SUMMARY "
#: A circuit the simulator needs a minute or more for on any machine, so it is still queued or running
#: when it is canceled (a cancel stops its simulation at once).
BIG_QUBITS = 22
BIG_DEPTH = 300
POLL = 0.02


def big_circuit(qubits: int = BIG_QUBITS, depth: int = BIG_DEPTH, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    gates: list[dict[str, Any]] = []
    for layer in range(depth):
        for q in range(qubits):
            gates.append(
                {"gate": rng.choice(["rx", "ry", "rz"]), "target": q, "rotation": rng.uniform(0, 6.28)}
            )
        for q in range(layer % 2, qubits - 1, 2):
            gates.append({"gate": "cnot", "control": q, "target": q + 1})
    return gates


BELL = [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]


def main() -> int:
    summary: dict[str, Any] = {"base_url": os.environ.get("IONQ_BASE_URL")}

    def step(name: str, fn: Callable[[], Any]) -> None:
        try:
            summary[name] = fn()
        except BaseException as exc:  # record and go on: the test reports every failed step
            summary[name] = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()[-1500:]}

    try:
        import requests
        from ionq import Backend, Client
        from ionq.jobs.circuit import Circuit
    except BaseException as exc:
        summary["import"] = {"error": f"{type(exc).__name__}: {exc}"}
        print(PREFIX + json.dumps(summary))
        return 0
    import ionq.defaults

    summary["import"] = {"ok": True, "version": getattr(ionq.defaults, "SDK_VERSION", None)}
    client = Client()
    simulator = Backend("simulator", client=client)
    made: dict[str, str] = {}

    def finished(job_id: str) -> None:
        # The package polls every second; wait faster with its own API, then results() needs one GET.
        client.jobs.wait_for_results(job_id, polling_rate=POLL)

    def bell() -> dict[str, Any]:
        job = simulator.run(Circuit([{"circuit": BELL}], qubits=2, name="ionq-pkg-bell"), shots=100)
        made["bell"] = job.id
        finished(job.id)
        (result,) = job.results()
        details = client.jobs.get_job(job.id)
        return {
            "id": job.id,
            "probabilities": result.probabilities,
            "counts": result.counts,
            "status": details.status.value,
            "type": details.type.value,
            "backend": details.backend.value if details.backend else None,
            "stats_qubits": details.stats.qubits if details.stats else None,
            "submitted_at": details.submitted_at,
            "results_keys": sorted((details.results or {}).keys()),
        }

    def endianness() -> dict[str, Any]:
        # X on qubit 0 of 3: little-endian key "1".
        job = simulator.run(Circuit([{"circuit": [{"gate": "x", "target": 0}]}], qubits=3), shots=10)
        finished(job.id)
        (result,) = job.results()
        return {"probabilities": result.probabilities, "counts": result.counts}

    def backends() -> list[dict[str, Any]]:
        return [
            {
                "backend": b.backend,
                "status": b.status.value,
                "last_updated": b.last_updated,
                "average_queue_time": b.average_queue_time,
            }
            for b in client.backends.get_backends()
        ]

    def characterization() -> dict[str, Any]:
        char = client.backends.get_current_characterization("qpu.aria-1")
        history = client.backends.get_characterizations("qpu.aria-1", limit=2)
        by_id = client.backends.get_characterization(char.id)
        return {
            "id": char.id,
            "backend": char.backend,
            "date": char.date,
            "qubits": char.qubits,
            "connectivity_pairs": len(char.connectivity),
            "spam_mean": char.fidelity.spam.mean,
            "readout": char.timing.readout,
            "t1": char.timing.t1,
            "t2": char.timing.t2,
            "history_ids": [c.id for c in history],
            "by_id_matches": by_id.id == char.id and by_id.date == char.date,
        }

    def multi() -> dict[str, Any]:
        circuits = [
            {"circuit": [{"gate": "x", "target": 0}]},  # key 1 on 2 qubits
            {"circuit": BELL},  # keys 0 and 3
            {"circuit": [{"gate": "x", "target": 1}]},  # key 2
        ]
        job = simulator.run(Circuit(circuits, qubits=2), shots=100)
        made["multi"] = job.id
        finished(job.id)
        results = job.results()
        details = client.jobs.get_job(job.id)
        return {
            "id": job.id,
            "type": details.type.value,
            "children": details.child_job_ids,
            "probabilities": [r.probabilities for r in results],
            "counts": [r.counts for r in results],
        }

    def cancel() -> dict[str, Any]:
        job = simulator.run(Circuit([{"circuit": big_circuit()}], qubits=BIG_QUBITS), shots=100)
        update = client.jobs.cancel_job(job.id)
        after = client.jobs.get_job(job.id)
        made["cancel"] = job.id
        return {
            "id": job.id,
            "update_id": update.id,
            "update_status": update.status.value,
            "status_after": after.status.value,
            "results_after": after.results,
        }

    def delete() -> dict[str, Any]:
        job = simulator.run(Circuit([{"circuit": BELL}], qubits=2), shots=100)
        finished(job.id)
        update = client.jobs.delete_job(job.id, force=True)
        try:
            client.jobs.get_job(job.id)
            after: Any = "still readable"
        except requests.HTTPError as exc:
            after = exc.response.status_code
        return {
            "id": job.id,
            "update_id": update.id,
            "update_status": update.status.value,
            "get_after": after,
        }

    def get_jobs() -> dict[str, Any]:
        listed = client.jobs.get_jobs(limit=25)
        by_id = client.jobs.get_jobs(id=[made["bell"]]) if "bell" in made else []
        return {
            "count": len(listed),
            "ids": [j.id for j in listed],
            "statuses": {j.id: j.status.value for j in listed},
            "by_id": [j.id for j in by_id],
        }

    def bulk() -> dict[str, Any]:
        ids = []
        for _ in range(2):
            job = simulator.run(Circuit([{"circuit": BELL}], qubits=2), shots=10)
            finished(job.id)
            ids.append(job.id)
        update = client.jobs.delete_many_jobs(ids, force=True)
        gone = []
        for job_id in ids:
            try:
                client.jobs.get_job(job_id)
            except requests.HTTPError as exc:
                gone.append(exc.response.status_code)
        return {"ids": ids, "update_id": update.id, "update_status": update.status.value, "get_after": gone}

    step("bell", bell)
    step("endianness", endianness)
    step("backends", backends)
    step("characterization", characterization)
    step("multi", multi)
    step("cancel", cancel)
    step("delete", delete)
    step("get_jobs", get_jobs)
    step("bulk_delete", bulk)
    print(PREFIX + json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
