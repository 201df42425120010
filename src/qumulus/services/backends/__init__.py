"""Backends as a service: the catalog with live queue figures, status and maintenance windows,
characterizations and recalibration, reservations, and per-qubit properties.

The top of the services: may import ``services.jobs`` (queue figures), ``services.tenancy`` and the
layers below ``services``. The static catalog, device models and the timing model are the lower
layer ``qumulus.backends``.
"""
