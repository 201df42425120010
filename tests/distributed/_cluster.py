"""Distributed-mode processes for tests and benches: ``qumulus api|scheduler|worker`` as users run them."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


@dataclass
class Proc:
    """One ``qumulus`` subprocess and its log."""

    name: str
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.output()[-4000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not print {text!r}:\n{self.output()[-4000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@dataclass
class Cluster:
    """Processes sharing one database URL and one data dir (as machines sharing a results volume)."""

    database_url: str
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    procs: list[Proc] = field(default_factory=list)

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> Proc:
        log = self.data_dir.parent / f"{name}-{len(self.procs)}.log"
        handle = open(log, "w")  # noqa: SIM115 - lives as long as the process
        process = subprocess.Popen(
            [sys.executable, "-m", "qumulus.cli.main", *args, "--data-dir", str(self.data_dir)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "QUMULUS_DATABASE_URL": self.database_url,
                "QUMULUS_SECRET_KEY": "test-secret",
                "QUMULUS_WARM_ENGINES": "0",
                **self.env,
                **(env or {}),
            },
        )
        proc = Proc(name, process, log)
        self.procs.append(proc)
        return proc

    def worker(self, *args: str, env: dict[str, str] | None = None, ready: bool = True) -> Proc:
        proc = self.start("worker", "worker", *args, env=env)
        if ready:
            proc.wait_for("worker ready")
        return proc

    def scheduler(self, interval: float = 0.5) -> Proc:
        proc = self.start("scheduler", "scheduler", "--interval", str(interval))
        proc.wait_for("scheduler running")
        return proc

    def api(self, port: int, env: dict[str, str] | None = None) -> Proc:
        proc = self.start("api", "api", "--port", str(port), env=env)
        deadline = time.monotonic() + 90
        while True:
            if proc.process.poll() is not None:
                raise RuntimeError(f"api exited:\n{proc.output()[-4000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return proc
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"api did not start:\n{proc.output()[-4000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


def random_circuit(qubits: int, layers: int, seed: int) -> dict:
    """A dense random circuit (every qubit entangled), IonQ JSON: CPU-bound to simulate."""
    rng = random.Random(seed)
    gates: list[dict] = []
    for _ in range(layers):
        for q in range(qubits):
            gate = rng.choice(["h", "t", "s", "rx", "ry"])
            step: dict = {"gate": gate, "target": q}
            if gate in ("rx", "ry"):
                step["rotation"] = rng.uniform(0, 3.14)
            gates.append(step)
        for start in (0, 1):
            gates += [{"gate": "cnot", "control": q, "target": q + 1} for q in range(start, qubits - 1, 2)]
    return {"qubits": qubits, "circuit": gates}
