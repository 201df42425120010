"""Scheduling policy: pure functions that decide which queued execution runs next (DESIGN §4).

Nothing here does I/O. :mod:`qumulus.runtime.fairshare` loads a snapshot from the database and
writes charges back; :mod:`qumulus.scheduling.policy` decides; :mod:`qumulus.scheduling.decay`
keeps decayed usage without a periodic decay job.
"""
