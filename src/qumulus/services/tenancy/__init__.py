"""Tenancy: organizations, projects, users and their memberships, API keys, who may do what
(``access``), the audit trail, console sign-in sessions and a project's webhooks.

The bottom of the services: imports only ``services.context``/``services.paging`` and the layers
below ``services`` (auth, store, notifications). Billing, jobs and backends build on it.
"""
