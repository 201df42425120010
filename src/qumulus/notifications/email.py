"""Failure emails: what the submitter reads, and sending it over SMTP."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

from qumulus.config import Settings


def compose(job: dict[str, Any], *, sender: str, recipient: str) -> EmailMessage:
    """The email for a failed job, from its v0.4 JSON."""
    failure = job.get("failure") or {}
    label = job.get("name") or job["id"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = f"[Qumulus] Job {label} failed"
    message.set_content(
        "\n".join(
            [
                f"Your job {job['id']} failed.",
                "",
                f"Name:      {job.get('name') or '-'}",
                f"Backend:   {job.get('backend', '-')}",
                f"Project:   {job.get('project_id', '-')}",
                f"Submitted: {job.get('submitted_at') or '-'}",
                f"Error:     {failure.get('code', 'unknown')}: {failure.get('message', 'no message')}",
                "",
                "You receive this because failure notifications are on for your user; turn them off",
                'with PATCH /v0.4/users/me {"notify_on_failure": false}.',
            ]
        )
    )
    return message


def send(settings: Settings, message: EmailMessage, *, timeout: float = 10.0) -> None:
    """Send one message; raises on any SMTP or network error (the caller retries later)."""
    assert settings.smtp_host, "emails are only queued when QUMULUS_SMTP_HOST is set"
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)
