"""Qiskit on Qumulus: a ``BackendV2`` with a calibrated Target, and native SamplerV2 / EstimatorV2.

Needs ``pip install 'qumulus[qiskit]'``; nothing else in the SDK imports Qiskit.

    from qumulus import Qumulus
    from qumulus.qiskit import QumulusBackend
    backend = QumulusBackend(Qumulus.load_account().get_backend("simulator"))
"""

from qumulus.qiskit.backend import QumulusBackend
from qumulus.qiskit.job import QumulusJob
from qumulus.qiskit.primitives import QumulusEstimatorV2, QumulusSamplerV2

__all__ = ["QumulusBackend", "QumulusEstimatorV2", "QumulusJob", "QumulusSamplerV2"]
