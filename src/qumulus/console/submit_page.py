"""The submit form as a job request, its preview (circuit, size, estimate) and refusals in plain
words. The form takes IonQ JSON (a job's ``input`` or a whole job body) or an OpenQASM 2/3
program (``ionq.qasm3.v1``), pasted or uploaded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from qumulus.auth.principal import Principal
from qumulus.circuits.model import CircuitBatch
from qumulus.console import charts, fmt
from qumulus.domain import JobSpec
from qumulus.errors import InvalidRequest, QumulusError
from qumulus.services.billing import budgets, contracts
from qumulus.services.jobs import estimates, submission
from qumulus.wire import billing as wire_billing

FORMATS = ("ionq", "openqasm")
QASM_TYPE = "ionq.qasm3.v1"
BELL_JSON = (
    '{"qubits": 2, "circuit": [{"gate": "h", "target": 0}, {"gate": "cnot", "control": 0, "target": 1}]}'
)
BELL_QASM = (
    "\n".join(
        (
            "OPENQASM 3.0;",
            'include "stdgates.inc";',
            "qubit[2] q;",
            "bit[2] c;",
            "h q[0];",
            "cx q[0], q[1];",
            "c = measure q;",
        )
    )
    + "\n"
)
#: Upload size the form accepts (the API's own body limit applies to the job too).
MAX_UPLOAD = 2 * 1024 * 1024


def source_format(text: str, declared: str | None) -> str:
    """``openqasm`` or ``ionq``: as chosen, else guessed (a program starts with ``OPENQASM``)."""
    if declared in FORMATS:
        return declared  # type: ignore[return-value]
    return "openqasm" if text.lstrip().upper().startswith(("OPENQASM", "//")) else "ionq"


def spec_of(form: dict[str, Any]) -> JobSpec:
    """The form as a job request (400 naming the field for anything malformed)."""
    text = str(form.get("source") or "")
    try:
        shots = int(str(form.get("shots") or "100"))
    except ValueError:
        raise InvalidRequest("shots: a whole number, like 1000", field="shots") from None
    name = str(form.get("name") or "").strip() or None
    tags = [t.strip() for t in str(form.get("tags") or "").split(",") if t.strip()]
    backend = str(form.get("backend") or "simulator")
    if source_format(text, str(form.get("format") or "")) == "openqasm":
        if not text.strip():
            raise InvalidRequest("source: paste or upload an OpenQASM program", field="source")
        return JobSpec(backend, QASM_TYPE, {"data": text}, shots=shots, name=name, tags=tags)
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(
            f"source: not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); choose OpenQASM "
            "for a program",
            field="source",
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequest("source: must be a JSON object, like the job's input", field="source")
    if isinstance(body.get("input"), dict):  # a whole job body was pasted: take what it says
        whole = body
        body = whole["input"]
        name = name or (whole.get("name") if isinstance(whole.get("name"), str) else None)
    job_type = "ionq.multi-circuit.v1" if "circuits" in body else "ionq.circuit.v1"
    return JobSpec(backend, job_type, body, shots=shots, name=name, tags=tags)


@dataclass
class Preview:
    """What the form would submit: the parsed circuits and the estimate (or why it cannot run)."""

    batch: CircuitBatch | None
    seconds: float | None
    cost: Decimal | None
    currency: str
    priced: bool
    error: str


def preview(platform: Any, principal: Principal, spec: JobSpec) -> Preview:
    """Validate the request exactly as a submission would and price it with ``POST /jobs/estimate``'s
    own function (:func:`qumulus.services.jobs.estimates.from_body`: the figure the budget hold uses,
    and for an emulated QPU the bill)."""
    try:
        _, batch, _ = submission.validate(platform, principal, spec)
        found = estimates.from_body(platform, principal, spec)
    except QumulusError as exc:
        return Preview(None, None, None, "USD", False, str(exc))
    price = contracts.prices(platform, principal, [found.backend]).get(found.backend)
    if found.contract_id is None and found.backend.startswith("qpu."):
        return Preview(
            batch, found.seconds, None, "USD", False,
            f"backend: your organization has no contract for {found.backend}, so it cannot run jobs there",
        )  # fmt: skip
    return Preview(batch, found.seconds, found.cost, price.currency if price else "USD", True, "")


def drawings(batch: CircuitBatch | None, limit: int = 4) -> list[dict[str, Any]]:
    if batch is None:
        return []
    return [
        {
            "name": c.name or f"Circuit {n + 1}",
            "qubits": c.qubits,
            "gates": len(c.operations),
            "counts": charts.gate_counts(c),
            "drawing": charts.circuit_text(c, max_columns=40),
        }
        for n, c in enumerate(batch.circuits[:limit])
    ]


def plain_refusal(platform: Any, principal: Principal, exc: QumulusError, estimate: Preview | None) -> str:
    """A 402 said as a person would: what the job would cost and what the budget (or allocation)
    has left; any other refusal as the service worded it."""
    message = str(exc)
    if exc.status_code != 402:
        return message
    if message.startswith("allocation:"):
        return (
            "Your organization has used up its allocation of machine time on this backend for the "
            "period. " + message.removeprefix("allocation: ").capitalize() + "."
        )
    try:
        current = [
            wire_billing.budget(b) for b in budgets.list_budgets(platform, principal, principal.project_id)
        ]
    except QumulusError:
        current = []
    budget = next((b for b in current if b["in_force"]), None)
    if budget is None:
        return message
    cost = fmt.money(estimate.cost, budget["currency"]) if estimate and estimate.cost is not None else "more"
    return (
        f"Not enough budget: this job would cost about {cost}, but the project has "
        f"{fmt.money(budget['remaining'], budget['currency'])} left of its "
        f"{fmt.money(budget['limit'], budget['currency'])} budget until {budget['period_end'][:10]} "
        f"({fmt.money(budget['spent'], budget['currency'])} spent, "
        f"{fmt.money(budget['held'], budget['currency'])} held for jobs still waiting or running). "
        "Choose fewer shots or a cheaper backend, or ask an organization owner to raise the budget."
    )
