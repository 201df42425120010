"""Project webhooks (create, list, delete) and the caller's notification preference.

Access: :data:`Action.WEBHOOK_MANAGE` (project admins, organization owners) on the target project,
whose reach and roles :func:`qumulus.services.tenancy.access.project` decides (out of reach: 404). Every
change invalidates the outbox's webhook cache, so this process's next completion sees it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qumulus.auth.permissions import Action
from qumulus.auth.principal import Principal
from qumulus.domain import WebhookView
from qumulus.errors import InvalidRequest, NotFound
from qumulus.notifications import guard, signing
from qumulus.notifications.outbox import EVENTS
from qumulus.services.context import Context
from qumulus.services.tenancy import access, audit
from qumulus.store.models import Project, ProjectWebhook, User

#: Webhooks one project may have.
MAX_WEBHOOKS = 20


def _view(row: ProjectWebhook, *, secret: str | None = None) -> WebhookView:
    return WebhookView(row.id, row.project_id, row.url, list(row.events), row.active, row.created_at, secret)


def _require_on_project(session: Session, principal: Principal, project_id: str) -> None:
    """404 when the project is out of the caller's reach; 403 unless its role there allows."""
    target = access.project(session, principal, project_id)
    access.require(target.actor, Action.WEBHOOK_MANAGE)


def _events(value: Any) -> list[str]:
    if value is None:
        return list(EVENTS)
    if not isinstance(value, list) or not value or not all(isinstance(e, str) and e in EVENTS for e in value):
        raise InvalidRequest(f"events: a non-empty list of {', '.join(EVENTS)}", field="events")
    return sorted(set(value), key=EVENTS.index)


def create_webhook(
    platform: Context, principal: Principal, project_id: str, url: Any, events: Any = None
) -> WebhookView:
    """Check the URL (public addresses only, unless allowed), store it with a fresh secret.

    Reach and role are checked *before* the URL is resolved: resolving first answered anyone with
    any key "host 'localhost' resolves to 127.0.0.1", a DNS oracle into the server's network. They
    are checked again in the write transaction (a role may change while the name resolves).
    """
    chosen = _events(events)
    with platform.db.read() as session:
        _require_on_project(session, principal, project_id)
    try:
        guard.check_url(url, allow_private=platform.settings.webhook_allow_private)
    except guard.UnsafeTarget as exc:
        raise InvalidRequest(f"url: {exc}", field="url") from None
    secret = signing.new_secret()
    with platform.db.write() as session:
        _require_on_project(session, principal, project_id)
        count = len(
            session.scalars(select(ProjectWebhook.id).where(ProjectWebhook.project_id == project_id)).all()
        )
        if count >= MAX_WEBHOOKS:
            raise InvalidRequest(f"url: a project may have at most {MAX_WEBHOOKS} webhooks", field="url")
        row = ProjectWebhook(
            project_id=project_id, url=url, events=chosen, secret=secret, created_by=principal.user_id
        )
        session.add(row)
        session.flush()
        _audit(session, principal, project_id, "webhook.create", row.id, {"url": url, "events": chosen})
        view = _view(row, secret=secret)
    platform.outbox.invalidate()
    return view


def list_webhooks(platform: Context, principal: Principal, project_id: str) -> list[WebhookView]:
    with platform.db.read() as session:
        _require_on_project(session, principal, project_id)
        rows = session.scalars(
            select(ProjectWebhook)
            .where(ProjectWebhook.project_id == project_id)
            .order_by(ProjectWebhook.created_at, ProjectWebhook.id)
        )
        return [_view(r) for r in rows]


def delete_webhook(platform: Context, principal: Principal, project_id: str, webhook_id: str) -> str:
    with platform.db.write() as session:
        _require_on_project(session, principal, project_id)
        row = session.get(ProjectWebhook, webhook_id) if len(webhook_id) <= 64 else None
        if row is None or row.project_id != project_id:
            raise NotFound(f"Webhook {webhook_id} not found.")
        session.delete(row)
        _audit(session, principal, project_id, "webhook.delete", webhook_id, {"url": row.url})
    platform.outbox.invalidate()
    return webhook_id


def _audit(
    session: Session, principal: Principal, project_id: str, action: str, target: str, details: dict
) -> None:
    organization_id = session.scalar(select(Project.organization_id).where(Project.id == project_id))
    audit.record(
        session,
        principal,
        action,
        target_type="webhook",
        target_id=target,
        organization_id=organization_id,
        project_id=project_id,
        details=details,
    )


# the caller's own notification preference --------------------------------------------------------


def set_notify_on_failure(platform: Context, principal: Principal, value: Any) -> User:
    """Opt the caller's user in or out of failure emails (read when one of its jobs fails)."""
    if not isinstance(value, bool):
        raise InvalidRequest("notify_on_failure: must be true or false", field="notify_on_failure")
    principal.require(Action.ACCOUNT_UPDATE, owns_target=True)
    with platform.db.write() as session:
        user = session.get(User, principal.user_id) if principal.user_id else None
        if user is None:
            raise NotFound("This API key belongs to no user.")
        user.notify_on_failure = value
        audit.record(
            session,
            principal,
            "user.update",
            target_type="user",
            target_id=user.id,
            organization_id=principal.organization_id,
            project_id=principal.project_id,
            details={"notify_on_failure": value},
        )
        return user
