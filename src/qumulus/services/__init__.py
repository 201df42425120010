"""Use cases: one place for every rule. The REST API, the console and the CLI all call these.

Grouped by domain, each a package whose ``__init__`` says what it owns and what it may import; imports
point down this list only (``tests/test_architecture.py`` checks it):

* ``backends`` — the catalog, status and maintenance, calibration, reservations, properties;
* ``jobs`` — submission, reads, cancel/delete, results, job sets, sessions, priority, queue view;
* ``billing`` — contracts, budgets, admission charges, usage and cost;
* ``tenancy`` — organizations, projects, users, members, keys, access, audit, console sessions;
* ``context`` and ``paging`` — what every use case receives, and cursor paging.

Every use case takes a :class:`~qumulus.services.context.Context` first; the running
:class:`~qumulus.platform.Platform` is one, and nothing here imports it.
"""
