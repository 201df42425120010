"""Notifications about jobs: failure emails to the submitter and per-project webhooks.

Flow (docs/architecture.md "Notifications"): the transaction that finishes or cancels a job writes
one ``notification_outbox`` row per notification (:mod:`.outbox`); the notifier thread
(:mod:`.notifier`) delivers the rows afterwards with retries and back-off (:mod:`.backoff`), by SMTP
(:mod:`.email`) or as a signed HTTP POST (:mod:`.webhook`, :mod:`.signing`) to a URL that must
resolve to public addresses only (:mod:`.guard`). Nothing here runs inside a request or slows the
completion transaction beyond one insert.
"""
