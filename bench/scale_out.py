"""Scale-out: completed jobs per second with 1, 2 and 4 ``qumulus worker`` processes on PostgreSQL.

Each worker is a separate process (``--slots 1``, one simulator thread: ``QUMULUS_SIM_THREADS=1``)
as on separate machines; jobs are CPU-bound random circuits (20 qubits, ~0.2-0.5 s each) submitted
all at once through the services, as an API process would. Throughput is measured from the
database's own timestamps: jobs / (last ``completed_at`` - first ``submitted_at``), so process start-up
is not counted. On a 2-core box 1 -> 2 workers can approach 2x and 4 workers cannot beat 2 cores:
the load average is printed because other work on the box takes cores from the workers.

    python bench/scale_out.py            # 40 jobs, 20 qubits, 1/2/4 workers
    python bench/scale_out.py --quick    # 16 jobs, 19 qubits, 1/2 workers, under a minute
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import emit, print_table  # noqa: I001 - after the path set-up above
from tests.distributed._cluster import Cluster, random_circuit

ADMIN_URL = os.environ.get("QUMULUS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _fresh_database(admin: str) -> tuple[str, str]:
    import psycopg

    name = f"qumulus_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, admin.rsplit("/", 1)[0] + "/" + name


def _platform(url: str, data_dir: Path):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from qumulus.auth.principal import Principal
    from qumulus.config import Settings
    from qumulus.platform.bootstrap import bootstrap_tenancy
    from qumulus.platform.distributed import enable_notifications, open_platform
    from qumulus.store.models import Project

    platform = open_platform(Settings(data_dir=data_dir, database_url=url, secret_key="bench"))
    with platform.db.write() as session:
        bootstrap_tenancy(session, secret=platform.secret)
    with platform.db.read() as session:
        project = session.scalars(select(Project)).one()
    who = Principal(
        organization_id=project.organization_id,
        project_id=project.id,
        user_id=None,
        api_key_id=None,
        project_role="admin",
    )
    enable_notifications(platform, work=False, done=False)  # submissions NOTIFY the workers
    return platform, who


def run(workers: int, jobs_n: int, qubits: int, layers: int, admin: str) -> dict[str, float]:
    from sqlalchemy import func, select

    from qumulus.services import jobs
    from qumulus.store.models import Job

    name, url = _fresh_database(admin)
    tmp = Path(tempfile.mkdtemp(prefix="qumulus-scale-"))
    platform, who = _platform(url, tmp / "data")
    cluster = Cluster(
        database_url=url,
        data_dir=tmp / "data",
        # One claim = one execution: a worker runs the large circuits of a claimed batch one after
        # another, so the default batch (32) would let the first worker hoard the whole queue.
        env={
            "QUMULUS_SIM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "QUMULUS_WARM_ENGINES": "1",
            "QUMULUS_CLAIM_BATCH": os.environ.get("QUMULUS_CLAIM_BATCH", "1"),
        },
    )
    try:
        procs = [cluster.worker("--slots", "1", ready=False) for _ in range(workers)]
        for proc in procs:
            proc.wait_for("worker ready", timeout=180)
        load_before = os.getloadavg()[0]
        circuits = [random_circuit(qubits, layers, seed=n) for n in range(jobs_n)]
        for circuit in circuits:
            spec = jobs.JobSpec(backend="simulator", job_type="ionq.circuit.v1", input=circuit)
            jobs.submit_job(platform, who, spec)
        deadline = time.monotonic() + 900
        while True:
            with platform.db.read() as session:
                done = session.scalar(
                    select(func.count()).select_from(Job).where(Job.status.in_(jobs.TERMINAL))
                )
            if done >= jobs_n or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        with platform.db.read() as session:
            first, last, sim, failed = session.execute(
                select(
                    func.min(Job.submitted_at),
                    func.max(Job.completed_at),
                    func.avg(Job.usage_seconds),
                    func.count().filter(Job.status != "completed"),
                )
            ).one()
        load_after = os.getloadavg()[0]
    finally:
        cluster.stop()
        platform.stop()
        _drop_later(admin, name)
    seconds = (last - first).total_seconds()
    return {
        "workers": workers,
        "jobs": jobs_n,
        "failed": failed,
        "seconds": seconds,
        "jobs_per_s": jobs_n / seconds,
        "sim_s": float(sim or 0.0),
        "load_before": load_before,
        "load_after": load_after,
    }


def _drop_later(admin: str, name: str) -> None:
    """DROP DATABASE waits for a checkpoint (slow on a busy box): do it in a detached process."""
    import subprocess

    script = (
        "import sys, psycopg\n"
        "with psycopg.connect(sys.argv[1], autocommit=True) as c:\n"
        "    c.execute(f'DROP DATABASE IF EXISTS \"{sys.argv[2]}\" WITH (FORCE)')\n"
    )
    subprocess.Popen(
        [sys.executable, "-c", script, admin, name],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="16 jobs of 19 qubits, 1 and 2 workers")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--qubits", type=int, default=None)
    parser.add_argument("--layers", type=int, default=20)
    parser.add_argument("--workers", default=None, help="comma-separated worker counts (default 1,2,4)")
    parser.add_argument("--admin-url", default=ADMIN_URL, help="PostgreSQL URL allowed to CREATE DATABASE")
    args = parser.parse_args()
    jobs_n = args.jobs or (16 if args.quick else 40)
    qubits = args.qubits or (19 if args.quick else 20)
    counts = [int(w) for w in (args.workers or ("1,2" if args.quick else "1,2,4")).split(",")]

    rows = [run(k, jobs_n, qubits, args.layers, args.admin_url) for k in counts]
    base = rows[0]["jobs_per_s"]
    print_table(
        f"Scale-out on PostgreSQL: {jobs_n} random {qubits}-qubit circuits ({args.layers} layers), "
        f"{os.cpu_count()} cores",
        ["worker processes", "jobs", "failed", "wall s", "jobs/s", "speed-up", "sim s/job", "load 1m"],
        [
            [r["workers"], r["jobs"], r["failed"], r["seconds"], r["jobs_per_s"], r["jobs_per_s"] / base,
             r["sim_s"], f"{r['load_before']:.1f} -> {r['load_after']:.1f}"]
            for r in rows
        ],
    )  # fmt: skip
    summary: dict[str, object] = {
        "bench": "scale_out",
        "jobs": jobs_n,
        "qubits": qubits,
        "cores": os.cpu_count(),
        "load_1m_before": round(rows[0]["load_before"], 2),
    }
    for r in rows:
        summary[f"jobs_per_s_{r['workers']}"] = round(r["jobs_per_s"], 3)
        summary[f"speedup_{r['workers']}"] = round(r["jobs_per_s"] / base, 3)
    emit(summary)


if __name__ == "__main__":
    main()
