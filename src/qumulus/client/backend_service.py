"""``provider.backends``: list backends by calling it, reach jobs through it, name backends on it.

IBMQ's provider has a backend *service* under ``provider.backends`` (also ``provider.backend``):
calling it filters backends, ``provider.backends.jobs()`` / ``retrieve_job(id)`` reach the jobs of
every backend, and each backend is an attribute (``provider.backends.ibmq_qasm_simulator``). Notebooks
use all three, so the same object is here. Backend names with ``.`` or ``-`` are attributes with
``_`` (``provider.backends.qpu_aria_1``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qumulus.client.backend import Backend
from qumulus.client.protocols import ProviderAPI


class BackendService:
    def __init__(self, provider: ProviderAPI) -> None:
        self._provider = provider

    def __repr__(self) -> str:
        return f"<BackendService of {self._provider!r}>"

    def __call__(
        self,
        name: str | None = None,
        filters: Callable[[Backend], bool] | None = None,
        min_num_qubits: int | None = None,
        operational: bool | None = None,
        simulator: bool | None = None,
        **kwargs: Any,
    ) -> list[Backend]:
        """Backends matching every criterion. Other keyword arguments are compared with the
        attributes of ``configuration()``, then of ``status()`` (``n_qubits=25``, ``pending_jobs=0``)."""
        found = [
            Backend(self._provider, entry) for entry in self._provider.transport.request("GET", "/backends")
        ]
        out = []
        for backend in found:
            config = backend.configuration()
            if name is not None and backend.name != name:
                continue
            if min_num_qubits is not None and config.n_qubits < min_num_qubits:
                continue
            if simulator is not None and config.simulator != simulator:
                continue
            status = backend.status() if operational is not None or kwargs else None
            if operational is not None and status is not None and status.operational != operational:
                continue
            if not all(_matches(key, value, config, status) for key, value in kwargs.items()):
                continue
            if filters is not None and not filters(backend):
                continue
            out.append(backend)
        return out

    def jobs(self, limit: int | None = 10, backend_name: str | None = None, **filters: Any) -> list[Any]:
        """The project's jobs on every backend (``provider.jobs``)."""
        return self._provider.jobs(limit=limit, backend_name=backend_name, **filters)

    def retrieve_job(self, job_id: str) -> Any:
        """Any job of the project by id, whatever its backend (``provider.retrieve_job``)."""
        return self._provider.retrieve_job(job_id)

    def __getattr__(self, attribute: str) -> Backend:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        for backend in self():
            if _attribute_name(backend.name) == attribute:
                return backend
        raise AttributeError(f"no backend {attribute!r} (there are: {', '.join(self._names())})")

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._names()})

    def _names(self) -> list[str]:
        return [_attribute_name(b.name) for b in self()]


def _attribute_name(backend_name: str) -> str:
    return backend_name.replace(".", "_").replace("-", "_")


def _matches(key: str, value: Any, config: Any, status: Any) -> bool:
    for source in (config, status):
        if source is not None and hasattr(source, key):
            return getattr(source, key) == value
    return False
