"""Runtime settings, read once from the environment (and CLI flags, which set the same variables).

Only three things differ between the embedded and distributed modes (DESIGN §1): the database URL,
the wake-up mechanism and the executor. Everything else has a sensible default for a laptop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to start; build with :meth:`from_env`."""

    data_dir: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    #: Worker threads that claim executions and feed the process pool.
    worker_threads: int = 2
    #: Processes in the simulation pool (0 = one per core).
    pool_processes: int = 0
    #: Whether pool processes import and exercise every engine at start (first jobs are then fast;
    #: tests turn it off to start pools in milliseconds).
    warm_engines: bool = True
    #: Executions a worker claims in one statement; tiny jobs are simulated as a batch.
    claim_batch: int = 32
    #: Seconds a claimed execution may go without a heartbeat before the reaper requeues it.
    lease_seconds: float = 60.0
    #: Times an execution is claimed before it fails with ``AttemptsExhausted`` instead of running
    #: again (its simulator process died, or its lease expired). One setting for the embedded server,
    #: ``qumulus worker`` and ``qumulus scheduler`` (runtime/reaping.py); 0 = no cap.
    max_attempts: int = 3
    #: Workload loops (quantum-function / optimization jobs) one process runs at once.
    workload_slots: int = 8
    #: How long ``POST /jobs`` waits for the job to finish before answering (0: answer at once). A tiny
    #: job is then already ``completed`` at the client's first GET.
    submit_wait_ms: int = 500
    #: Largest request body, in bytes.
    max_request_bytes: int = 64 * 1024 * 1024
    #: Distributions with at most this many non-zero entries are stored inline in the database.
    inline_result_entries: int = 4096
    #: SQLite ``synchronous``: FULL makes every accepted job survive a power loss, not only a crash.
    sqlite_synchronous: str = "FULL"
    #: Whether to create demo data (organization, project, user, key) on an empty database.
    bootstrap: bool = True
    secret_key: str | None = field(default=None, repr=False)
    # limits (docs/architecture.md "Limits") ----------------------------------------------------
    #: Requests per minute per API key, in this process (0 = off). Generous: one key driving
    #: bench/tiny_jobs.py makes ~700 requests/s on two cores, and pennylane polls ~100/s.
    rate_limit_per_minute: int = 60_000
    #: Requests a key may make at once before the per-minute rate applies (0 = one second's worth).
    rate_limit_burst: int = 0
    #: Active (submitted/ready/started) top-level jobs per project, unless the project sets its own.
    max_queued_jobs: int = 10_000
    max_shots: int = 1_000_000
    #: Gates in one circuit, and circuits in one job (IonQ documents 5 000 circuits per job).
    max_gates: int = 1_000_000
    max_circuits: int = 5_000
    #: A job's ``metadata``: keys, and characters per value (IonQ's documented limits: 10 keys,
    #: 40 000 characters); stored once per job, multi-circuit jobs included.
    max_metadata_keys: int = 10
    max_metadata_value_chars: int = 40_000
    #: An emulated job whose predicted simulation wall time exceeds this many seconds fails at once
    #: with ``TooLongPredictedExecutionTime`` (0 = no limit; docs/simulation.md "Limits").
    max_emulation_seconds: float = 600.0
    # notifications (docs/architecture.md "Notifications") ---------------------------------------
    #: SMTP server for failure emails; no host = no emails.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str = "qumulus@localhost"
    smtp_starttls: bool = True
    #: Allow webhooks to private, loopback and link-local addresses (tests, closed networks).
    webhook_allow_private: bool = False
    #: Seconds between recalibrations of the emulated QPUs by the embedded server (0 = never).
    recalibrate_seconds: float = 0.0
    #: Whether ``GET /metrics`` (Prometheus, unauthenticated, aggregate figures only) is served;
    #: off, it is a 404 (docs/architecture.md "Metrics").
    metrics: bool = True
    #: A TOML file declaring driver-served backends (docs/drivers.md), synced at start.
    backends_file: Path | None = None

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        data_dir = Path(os.environ.get("QUMULUS_DATA_DIR") or Path.cwd() / "qumulus-data").expanduser()
        if "data_dir" in overrides and overrides["data_dir"] is not None:
            data_dir = Path(str(overrides.pop("data_dir"))).expanduser()
        overrides.pop("data_dir", None)
        database_url = os.environ.get("QUMULUS_DATABASE_URL") or f"sqlite:///{data_dir / 'qumulus.db'}"
        values: dict[str, object] = {
            "data_dir": data_dir,
            "database_url": database_url,
            "host": os.environ.get("QUMULUS_HOST", "127.0.0.1"),
            "port": _env_int("QUMULUS_PORT", 8000),
            "worker_threads": _env_int("QUMULUS_WORKER_THREADS", 2),
            "pool_processes": _env_int("QUMULUS_POOL_PROCESSES", 0),
            "claim_batch": _env_int("QUMULUS_CLAIM_BATCH", 32),
            "max_attempts": _env_int("QUMULUS_MAX_ATTEMPTS", 3),
            "workload_slots": _env_int("QUMULUS_WORKLOAD_SLOTS", 8),
            "submit_wait_ms": _env_int("QUMULUS_SUBMIT_WAIT_MS", 500),
            "max_request_bytes": _env_int("QUMULUS_MAX_REQUEST_BYTES", 64 * 1024 * 1024),
            "sqlite_synchronous": os.environ.get("QUMULUS_SQLITE_SYNCHRONOUS", "FULL").upper(),
            "bootstrap": _env_bool("QUMULUS_BOOTSTRAP", True),
            "warm_engines": _env_bool("QUMULUS_WARM_ENGINES", True),
            "secret_key": os.environ.get("QUMULUS_SECRET_KEY"),
            "rate_limit_per_minute": _env_int("QUMULUS_RATE_LIMIT_PER_MINUTE", 60_000),
            "rate_limit_burst": _env_int("QUMULUS_RATE_LIMIT_BURST", 0),
            "max_queued_jobs": _env_int("QUMULUS_MAX_QUEUED_JOBS", 10_000),
            "max_shots": _env_int("QUMULUS_MAX_SHOTS", 1_000_000),
            "max_gates": _env_int("QUMULUS_MAX_GATES", 1_000_000),
            "max_circuits": _env_int("QUMULUS_MAX_CIRCUITS", 5_000),
            "max_metadata_keys": _env_int("QUMULUS_MAX_METADATA_KEYS", 10),
            "max_metadata_value_chars": _env_int("QUMULUS_MAX_METADATA_VALUE_CHARS", 40_000),
            "max_emulation_seconds": float(os.environ.get("QUMULUS_MAX_EMULATION_SECONDS") or 600.0),
            "smtp_host": os.environ.get("QUMULUS_SMTP_HOST") or None,
            "smtp_port": _env_int("QUMULUS_SMTP_PORT", 587),
            "smtp_user": os.environ.get("QUMULUS_SMTP_USER") or None,
            "smtp_password": os.environ.get("QUMULUS_SMTP_PASSWORD") or None,
            "smtp_from": os.environ.get("QUMULUS_SMTP_FROM") or "qumulus@localhost",
            "smtp_starttls": _env_bool("QUMULUS_SMTP_STARTTLS", True),
            "webhook_allow_private": _env_bool("QUMULUS_WEBHOOK_ALLOW_PRIVATE", False),
            "recalibrate_seconds": float(os.environ.get("QUMULUS_RECALIBRATE_SECONDS") or 0),
            "metrics": _env_bool("QUMULUS_METRICS", True),
            "backends_file": Path(os.environ["QUMULUS_BACKENDS_FILE"]).expanduser()
            if os.environ.get("QUMULUS_BACKENDS_FILE")
            else None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def results_dir(self) -> Path:
        return self.data_dir / "results"
