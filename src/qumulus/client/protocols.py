"""What a job, a backend or a job set needs from the provider that made it.

They hold their provider to make further calls; typing them against this protocol rather than the
:class:`~qumulus.client.provider.Provider` class keeps the SDK's modules in one direction
(provider → backend → job), with no import circle.
"""

from __future__ import annotations

from typing import Any, Protocol

from qumulus.client.http import Transport


class ProviderAPI(Protocol):
    transport: Transport

    def _submit(
        self, path: str, body: dict[str, Any], key: str, *, kind: str, backend: str | None, name: str | None
    ) -> Any: ...

    def get_backend(self, name: str) -> Any: ...

    def retrieve_job(self, job_id: str) -> Any: ...

    def jobs(self, limit: int | None = 10, backend_name: str | None = None, **filters: Any) -> list[Any]: ...

    def retrieve_job_set(self, job_set_id: str) -> Any: ...
