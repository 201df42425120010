"""Qiskit circuits → IonQ JSON: the SDK core's converter (``qumulus.client.interop.qiskit_circuits``),
under the integration's name."""

from qumulus.client.interop.qiskit_circuits import BASIS_GATES, GATE_MAP, Converted, clbit_value, to_ionq

__all__ = ["BASIS_GATES", "GATE_MAP", "Converted", "clbit_value", "to_ionq"]
