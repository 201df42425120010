"""What ``backend.run()`` and ``JobManager().run()`` take, made into IonQ circuits for the server.

Taken as they are: IonQ JSON (a circuit dict, or a list of gate dicts), a :class:`qumulus.Circuit`, a
Qiskit ``QuantumCircuit``, a Cirq circuit, an OpenQASM 2 or 3 string, or a list of them (one
framework per list). Why here and not in a wrapper: a user porting an IBMQ notebook passes Qiskit
circuits straight to the backend, and must not have to learn a second object first.

Framework objects are told apart by their class's module, so qiskit and cirq are imported only when
one of their objects is passed (``pip install qumulus`` stays light); the converters live in
``interop/``. How to read the shots back in the circuit's own terms (Qiskit clbits, Cirq measurement
keys) goes with the job as metadata, so any process that retrieves the job reads them the same.

One OpenQASM 2 or 3 program goes to the server as it is (``ionq.qasm3.v1``), which parses it, runs
mid-circuit measurement, reset and classical control, and keys its results by the program's
classical bits: no Qiskit needed here. A list of programs (a multi-circuit job, a job set) is
converted here through Qiskit, since a multi-circuit job carries IonQ JSON circuits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from qumulus.client import clbits
from qumulus.client.circuit import as_circuit, is_gate_list, job_input
from qumulus.client.errors import QumulusClientError

QISKIT_EXTRA = "pip install 'qumulus[qiskit]'"


@dataclass
class Program:
    """Circuits ready for a job body (``job_type``, ``input``) or a job set (``circuits``)."""

    circuits: list[dict[str, Any]]
    #: given as a list (a multi-circuit job, even of one circuit)
    many: bool
    #: how to read the results back (Qiskit clbits, Cirq keys); merged into the job's metadata
    metadata: dict[str, str] = field(default_factory=dict)
    kind: str = "ionq"
    #: one OpenQASM program, sent as it is and parsed by the server
    text: str | None = None

    @property
    def job_type(self) -> str:
        return "ionq.qasm3.v1" if self.text is not None else job_input(self.circuits, self.many)[0]

    @property
    def input(self) -> dict[str, Any]:
        return {"data": self.text} if self.text is not None else job_input(self.circuits, self.many)[1]


def framework(value: Any) -> str | None:
    """``"qiskit"``, ``"cirq"`` or ``"qasm"`` for such an object, else None (nothing is imported)."""
    if isinstance(value, str):
        return "qasm" if is_openqasm(value) else None
    for cls in type(value).__mro__:
        root = cls.__module__.split(".", 1)[0]
        if root in ("qiskit", "cirq"):
            return root
    return None


def is_openqasm(text: str) -> bool:
    """An OpenQASM program: its first statement (after comments and blank lines) is ``OPENQASM``."""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        return stripped.startswith("OPENQASM")
    return False


def prepare(circuits: Any) -> Program:
    """One circuit or a list of them (of one kind) → :class:`Program`."""
    if isinstance(circuits, list | tuple) and circuits and not is_gate_list(circuits):
        items, many = list(circuits), True
    else:
        items, many = [circuits], False
    kinds = {_kind(item) for item in items}
    if len(kinds) > 1:
        raise TypeError(
            f"circuits: one run takes circuits of one kind; got {', '.join(sorted(kinds))} together "
            "(submit them as separate jobs)"
        )
    kind = kinds.pop()
    if not many and isinstance(items[0], str) and is_openqasm(items[0]):
        return Program([{}], False, kind="qasm", text=items[0])
    if kind == "cirq":
        return _from_cirq(items, many)
    if kind == "qiskit":
        return _from_qiskit([_parse_qasm(i) if isinstance(i, str) else i for i in items], many)
    return Program([as_circuit(item) for item in items], many)


def _kind(value: Any) -> str:
    found = framework(value)
    return "qiskit" if found == "qasm" else (found or "ionq")


def _from_qiskit(circuits: list[Any], many: bool) -> Program:
    from qumulus.client.interop.qiskit_circuits import to_ionq

    converted = [to_ionq(c) for c in circuits]
    return Program(
        [c.ionq for c in converted],
        many,
        {clbits.LAYOUT_KEY: clbits.encode([c.layout for c in converted])},
        kind="qiskit",
    )


def _from_cirq(circuits: list[Any], many: bool) -> Program:
    from qumulus.client.interop.cirq_circuits import LAYOUT_KEY, layout_metadata, to_ionq

    converted = [to_ionq(c) for c in circuits]
    return Program([c.ionq for c in converted], many, {LAYOUT_KEY: layout_metadata(converted)}, kind="cirq")


def _parse_qasm(text: str) -> Any:
    """OpenQASM 2 or 3 → a Qiskit circuit; says what to install when Qiskit (or its OpenQASM 3
    importer) is missing, and where the program is wrong when it does not parse."""
    header = re.search(r"OPENQASM\s+(\d+)", text)
    version3 = header is not None and header.group(1) == "3"
    try:
        from qiskit import qasm2, qasm3
    except ImportError:
        raise QumulusClientError(
            f"OpenQASM is converted on this machine through Qiskit: {QISKIT_EXTRA} (or pass IonQ JSON)"
        ) from None
    try:
        if version3:
            return qasm3.loads(text)
        return qasm2.loads(text, custom_instructions=qasm2.LEGACY_CUSTOM_INSTRUCTIONS)
    except ImportError as exc:  # qiskit's MissingOptionalLibraryError is an ImportError
        raise QumulusClientError(
            f"OpenQASM 3 needs Qiskit's importer: pip install qiskit-qasm3-import ({exc})"
        ) from None
    except Exception as exc:
        raise ValueError(f"circuits: not valid OpenQASM {'3' if version3 else '2'}: {exc}") from None
