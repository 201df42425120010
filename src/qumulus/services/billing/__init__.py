"""Billing: contracts (rates and allocations), budgets, admission charges (the budget hold a
submission takes), and usage and cost reports.

May import ``services.tenancy`` (who may see and change what, the audit trail) and the layers below
``services``; never ``services.jobs`` or ``services.backends``. Pure pricing rules are in
``qumulus.accounting``; the SQL that settles a hold when a job ends is ``store.holds``. The JSON (and
the usage CSV) of contracts, allocations, budgets and reports is ``qumulus.wire.billing``.
"""
