"""Backends as people choose between them: status in force now (maintenance windows applied),
qubits, how busy the queue is, and what a second costs the caller's organization."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from qumulus.auth.principal import Principal
from qumulus.errors import QumulusError
from qumulus.services.backends import catalog
from qumulus.services.backends import status as backend_status
from qumulus.services.billing import contracts


@dataclass(frozen=True)
class BackendRow:
    name: str
    kind: str
    qubits: int
    description: str
    status: str
    message: str
    accepting: bool
    pending_jobs: int
    average_wait_s: float | None
    rate_per_second: Decimal | None
    currency: str

    @property
    def usable(self) -> bool:
        """Whether a job sent now would be accepted (a QPU also needs a contract)."""
        priced = self.kind != "qpu" or self.rate_per_second is not None
        return self.accepting and self.status != "retired" and priced


def rows(platform: Any, principal: Principal | None) -> list[BackendRow]:
    """Every backend, simulators first then QPUs by name (the catalog's order)."""
    found = catalog.list_with_queues(platform)
    now = backend_status.current(platform, [b for b, _, _ in found])
    prices: dict[str, contracts.Price] = {}
    if principal is not None and principal.project_id:
        try:
            prices = contracts.prices(platform, principal, [b.name for b, _, _ in found])
        except QumulusError:
            prices = {}
    out = []
    for backend, pending, wait_ms in found:
        effective = now[backend.name]
        price = prices.get(backend.name)
        out.append(
            BackendRow(
                name=backend.name,
                kind=backend.kind,
                qubits=backend.qubits,
                description=backend.description,
                status=effective.status,
                message=effective.message or backend.status_message,
                accepting=bool(backend.accepting_jobs),
                pending_jobs=pending,
                average_wait_s=wait_ms / 1000 if wait_ms is not None else None,
                rate_per_second=price.rate_per_second if price else None,
                currency=price.currency if price else "USD",
            )
        )
    return out
