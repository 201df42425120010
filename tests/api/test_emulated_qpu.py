"""Emulated QPUs through the REST API (bootstrap key), on SQLite and PostgreSQL."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from qumulus.backends.timing import estimate_execution_seconds
from qumulus.circuits.ionq_json import parse_input
from qumulus.store.models import Characterization, Result, UsageLedger
from tests.api.conftest import BELL
from tests.conftest import Api, make_platform


def ghz_input(n: int) -> dict:
    gates = [{"gate": "h", "target": 0}] + [
        {"gate": "cnot", "control": i, "target": i + 1} for i in range(n - 1)
    ]
    return {"qubits": n, "circuit": gates}


def run(api: Api, body: dict, version: str = "v0.4") -> dict:
    created = api.post(f"/{version}/jobs", json=body)
    assert created.status_code == 201, created.text
    job = api.wait(created.json()["id"], timeout=120)
    assert job["status"] == "completed", job
    return api.get(f"/v0.4/jobs/{job['id']}").json()


def test_qpu_job_has_noisy_counts_stored_shots_and_timing_model_usage(api: Api) -> None:
    job = run(api, {"backend": "qpu.aria-1", "shots": 1000, "input": BELL})
    assert job["engine"] == "aer-density-matrix"  # tiny: the exact density matrix (docs/simulation.md)
    assert "noise" not in job  # a QPU's noise is its own
    base = f"/v0.4/jobs/{job['id']}/results"
    assert job["results"]["histogram"]["url"] == f"{base}/histogram"
    histogram = api.get(f"{base}/histogram").json()
    probabilities = api.get(f"{base}/probabilities").json()
    shots = api.get(f"{base}/shots").json()
    assert sum(histogram.values()) == 1000 and len(shots) == 1000
    assert {k: v / 1000 for k, v in histogram.items()} == pytest.approx(probabilities)
    assert histogram["0"] + histogram["3"] >= 940  # Aria: ~0.97 Bell population
    assert histogram["0"] + histogram["3"] < 1000  # ... and noise is really there
    # The shots endpoint returns the shots the emulator sampled (stored), not a resample.
    with api.platform.db.read() as session:  # type: ignore[attr-defined]
        stored = session.scalar(select(Result.shots).where(Result.job_id == job["id"]))
        snapshot = session.scalars(
            select(Characterization).where(Characterization.backend == "qpu.aria-1")
        ).one()
    assert stored["outcomes"] == shots and stored["variants"] == [1000]
    assert api.get(f"{base}/shots").json() == shots
    # Usage is the timing model's QPU time, not the simulator's wall time.
    circuit = parse_input("ionq.circuit.v1", BELL)
    expected = estimate_execution_seconds(snapshot.data, circuit, 1000)
    assert job["usage_seconds"] == pytest.approx(expected)
    assert job["execution_duration_ms"] == round(expected * 1000)
    with api.platform.db.read() as session:  # type: ignore[attr-defined]
        charged = session.scalar(select(UsageLedger.usage_seconds).where(UsageLedger.job_id == job["id"]))
    assert charged == pytest.approx(expected)  # the ledger bills the same QPU time


def test_noise_model_on_the_simulator_is_reproducible_with_its_seed(api: Api) -> None:
    body = {"backend": "simulator", "shots": 300, "input": ghz_input(3)}
    first = run(api, {**body, "noise": {"model": "aria-1", "seed": 7}})
    again = run(api, {**body, "noise": {"model": "aria-1", "seed": 7}})
    other = run(api, {**body, "noise": {"model": "aria-1", "seed": 8}})
    assert first["noise"] == {"model": "aria-1", "seed": 7}
    shots = [api.get(f"/v0.4/jobs/{j['id']}/results/shots").json() for j in (first, again, other)]
    assert shots[0] == shots[1]
    assert shots[0] != shots[2]
    assert set(shots[0]) - {0, 7}  # noisy: some shots outside the GHZ branches
    ideal = run(api, {**body, "noise": {"model": "ideal", "seed": 7}})
    assert set(api.get(f"/v0.4/jobs/{ideal['id']}/results/probabilities").json()) == {"0", "7"}


def test_noisy_simulation_is_limited_to_the_emulated_qpus_qubits(api: Api) -> None:
    body = {"backend": "simulator", "input": ghz_input(12), "noise": {"model": "harmony"}}
    refused = api.post("/v0.4/jobs", json=body)
    assert refused.status_code == 422
    assert "11" in refused.json()["message"]


def ghz_population(api: Api, job: dict, n: int, sharpen: bool = False) -> float:
    url = f"/v0.4/jobs/{job['id']}/results/probabilities" + ("?sharpen=true" if sharpen else "")
    probs = api.get(url).json()
    return probs.get("0", 0.0) + probs.get(str(2**n - 1), 0.0)


def test_debiasing_raises_the_ghz_fidelity(api: Api) -> None:
    """Harmony's default assignment (qubits 0..5) sits on worse-than-average pairs (0.953 against
    0.961); debiasing's variants average over qubit assignments and twirled compilations, so the
    result no longer carries that assignment's bias (+0.026, about 5σ at 16 000 shots)."""
    n, shots = 6, 16_000
    noise = {"model": "harmony", "seed": 11}  # fixed seeds: the same shots on every run
    body = {"backend": "simulator", "noise": noise, "shots": shots, "input": ghz_input(n)}
    plain = run(api, body)
    debiased = run(api, {**body, "settings": {"error_mitigation": {"debiasing": True}}})
    f_plain, f_debiased = ghz_population(api, plain, n), ghz_population(api, debiased, n)
    sigma = math.sqrt((f_plain * (1 - f_plain) + f_debiased * (1 - f_debiased)) / shots)
    assert f_debiased - f_plain > 3 * sigma, (f_plain, f_debiased)
    # v0.3's error_mitigation.debias is the same setting.
    legacy = run(
        api,
        {
            "target": "simulator",
            "noise": noise,
            "shots": shots,
            "input": ghz_input(n),
            "error_mitigation": {"debias": True},
        },
        version="v0.3",
    )
    assert legacy["settings"]["error_mitigation"] == {"debiasing": True}
    assert ghz_population(api, legacy, n) - f_plain > 3 * sigma
    # sharpen=true: plurality vote over the 16 variants; each votes for one of the GHZ branches.
    assert ghz_population(api, debiased, n, sharpen=True) == pytest.approx(1.0)
    assert ghz_population(api, plain, n, sharpen=True) == ghz_population(api, plain, n)  # no variants


def test_qpus_parked_by_an_older_release_are_enabled_at_start(settings) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from qumulus.platform.bootstrap import seed_backends
    from qumulus.store.models import Backend

    platform, _ = make_platform(settings)
    parked = "Emulation of this QPU is not enabled in this release: its characterization is published"
    with platform.db.write() as session:
        session.execute(
            update(Backend)
            .where(Backend.name == "qpu.harmony")
            .values(status="maintenance", status_message=parked, accepting_jobs=False)
        )
        session.execute(
            update(Backend)
            .where(Backend.name == "qpu.forte-1")
            .values(status="maintenance", status_message="Ion trap swap until Friday", accepting_jobs=False)
        )
    with platform.db.write() as session:
        seed_backends(session)
    with platform.db.read() as session:
        harmony = session.get(Backend, "qpu.harmony")
        forte = session.get(Backend, "qpu.forte-1")
        snapshot = session.get(Characterization, harmony.characterization_id)
        assert (harmony.status, harmony.accepting_jobs, harmony.status_message) == ("operational", True, "")
        assert len(snapshot.data["qubit"]["t1"]) == 11  # a per-qubit snapshot is now current
        assert (forte.status, forte.accepting_jobs) == ("maintenance", False)  # an administrator's choice


def test_emulated_jobs_show_their_predicted_wall_time_and_an_over_limit_job_fails_at_once(settings) -> None:  # type: ignore[no-untyped-def]
    """``predicted_emulation_duration_ms`` is the cost model's wall time (not the billed QPU time);
    a job predicted over ``max_emulation_seconds`` fails at submission with IonQ's code."""
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from qumulus.api.app import create_app

    platform, key = make_platform(replace(settings, max_emulation_seconds=30.0))
    with TestClient(create_app(platform), raise_server_exceptions=False) as client:
        api = Api(client=client, key=key, platform=platform)
        small = run(api, {"backend": "qpu.aria-1", "shots": 200, "input": BELL})
        assert 0 < small["predicted_emulation_duration_ms"] < 30_000
        assert small["predicted_execution_duration_ms"] == small["execution_duration_ms"]  # billed time
        ideal = run(api, {"backend": "simulator", "shots": 100, "input": BELL})
        assert "predicted_emulation_duration_ms" not in ideal
        # 24 qubits, 12 layers of rotations and CNOTs on Aria: hours of state vectors, far over 30 s.
        layers = []
        for layer in range(12):
            layers += [{"gate": "ry", "target": q, "rotation": 0.1 * (q + layer + 1)} for q in range(24)]
            layers += [
                {"gate": "cnot", "control": q, "target": (q + 1 + 2 * (layer % 11)) % 24}
                for q in range(0, 24, 2)
            ]
        body = {"backend": "qpu.aria-1", "shots": 1000, "input": {"qubits": 24, "circuit": layers}}
        created = api.post("/v0.4/jobs", json=body)
        assert created.status_code == 201, created.text
        job = api.get(f"/v0.4/jobs/{created.json()['id']}").json()
        assert job["status"] == "failed"  # at once: no worker ever sees it
        assert job["failure"]["code"] == "TooLongPredictedExecutionTime"
        assert "over this server's limit of 30 s" in job["failure"]["message"]
        assert job["predicted_emulation_duration_ms"] > 30_000
