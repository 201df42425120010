"""``qiskit_ionq.Session``, unmodified, against a live ``qumulus serve`` (wire spec §8.1).

The context manager opens a session (``POST /sessions``), injects ``session_id`` into every
``backend.run`` and ends the session on exit (``POST /sessions/{id}/end``, whose JSON it reads).
"""

from __future__ import annotations

import httpx
import pytest

pytest.importorskip("qiskit_ionq")

from qiskit_ionq import Session
from qiskit_ionq.exceptions import IonQAPIError

from ._util import headers
from .test_qiskit_ionq import backend, bell, provider, result  # noqa: F401  (fixtures)

pytestmark = pytest.mark.compat


def test_session_runs_jobs_and_closes(backend, live_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with Session(backend, max_jobs=5, max_time=10) as session:
        assert session.status() == "created"
        jobs = [backend.run(bell(f"s{i}"), shots=200) for i in range(2)]
        counts = [result(job).get_counts() for job in jobs]
        assert session.status() == "started"
        assert session.usage() is not None and session.usage() > 0
    assert all(set(c) <= {"00", "11"} and sum(c.values()) == 200 for c in counts)

    for job in jobs:  # each job carries the session id on the wire
        body = httpx.get(f"{live_server.v04}/jobs/{job.job_id()}", headers=headers(live_server.key)).json()
        assert body["session_id"] == session.session_id
    assert session.status() == "ended"
    assert session.details()["settings"] == {"job_count_limit": 5, "duration_limit_min": 10.0}

    with pytest.raises(IonQAPIError):  # an ended session takes no more jobs
        session.run(bell("late"), shots=10)


def test_session_job_count_limit(backend) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    session = Session(backend, max_jobs=1)
    result(session.run(bell("only"), shots=10))
    with pytest.raises(IonQAPIError, match="job count limit"):
        session.run(bell("one too many"), shots=10)
    assert Session.from_id(session.session_id, backend=backend).status() == "ended"
    session.close()  # ending an ended session is fine
