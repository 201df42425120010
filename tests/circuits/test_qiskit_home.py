"""qiskit used from a second request thread after the first one exited: the server must not crash.

Run in a subprocess, because the failure this guards against is a segmentation fault."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import threading
from qumulus.circuits.qiskit_home import preload
preload()
from qumulus.circuits.compile import compile_native
from qumulus.circuits.ionq_json import parse_input
batch = parse_input("ionq.circuit.v1", {"qubits": 2, "circuit": [{"gate": "h", "target": 0},
                                                             {"gate": "cnot", "control": 0, "target": 1}]})
def compile_once():
    compile_native(batch.circuits[0], "ms")
for _ in range(2):  # each thread exits before the next one compiles, as a retired pool thread does
    t = threading.Thread(target=compile_once)
    t.start()
    t.join()
print("compiled on two threads")
"""


def test_compiling_on_a_new_thread_after_another_exited_does_not_crash() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "compiled on two threads" in done.stdout
