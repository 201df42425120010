"""PennyLane on Qumulus: devices ``qumulus.simulator`` and ``qumulus.qpu`` (entry points).

Needs ``pip install 'qumulus[pennylane]'``; nothing else in the SDK imports PennyLane.

    dev = qml.device("qumulus.simulator", wires=2, shots=1000)   # the saved profile's server
"""

from qumulus.pennylane.device import QumulusDevice, QumulusQPUDevice, QumulusSimulatorDevice

__all__ = ["QumulusDevice", "QumulusQPUDevice", "QumulusSimulatorDevice"]
