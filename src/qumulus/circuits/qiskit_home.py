"""Import qiskit on the main thread of a process that will use it from other threads.

qiskit 2.x crashes the process (a segmentation fault building ``CircuitData`` in
``QuantumCircuit.__init__``) when it is first imported on a thread that then exits and a circuit is
later built on another thread — exactly what a server does: a request thread of the pool compiles
the first QPU job, the pool retires that thread when idle, a later request compiles again. Imported
once on the main thread first, any thread may use it. (Reproduced with qiskit 2.6.2: import and
build on thread A, join, build on thread B → SIGSEGV; ``import qiskit`` on the main thread first → fine.)

The API (``create_app``) and the runtime (``Platform.start_runtime``, ``qumulus worker``) call
:func:`preload` at start-up; the pure parsing paths keep importing it lazily.
"""

from __future__ import annotations

import contextlib
import threading


def preload() -> None:
    """Import qiskit now if this is the main thread (a no-op elsewhere, and when qiskit is absent)."""
    if threading.current_thread() is not threading.main_thread():
        return
    with contextlib.suppress(ImportError):  # the client-only install has no qiskit: nothing compiles
        import qiskit  # noqa: F401
