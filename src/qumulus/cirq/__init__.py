"""Cirq on Qumulus: a ``cirq.Sampler`` (one server job per call) and a small job service.

Needs ``pip install 'qumulus[cirq]'``; nothing else in the SDK imports Cirq.

    from qumulus.cirq import Service
    sampler = Service().sampler("simulator")      # the saved profile's server
"""

from qumulus.cirq.job import CirqJob
from qumulus.cirq.sampler import QumulusSampler
from qumulus.cirq.service import Service

__all__ = ["CirqJob", "QumulusSampler", "Service"]
