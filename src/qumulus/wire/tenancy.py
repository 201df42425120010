"""JSON shapes of organizations, projects, members, keys, users and audit events."""

from __future__ import annotations

from typing import Any

from qumulus.domain import KeyView, MemberView, WebhookView
from qumulus.store.models import AuditEvent, Organization, Project, User
from qumulus.timeutil import iso, utcnow


def organization(org: Organization) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "slug": org.slug, "created_at": iso(org.created_at)}


def project(row: Project) -> dict[str, Any]:
    return {
        "id": row.id,
        "organization_id": row.organization_id,
        "name": row.name,
        "description": row.description,
        "created_at": iso(row.created_at),
        "archived_at": iso(row.archived_at),
    }


def member(view: MemberView) -> dict[str, Any]:
    return {"user_id": view.user_id, "email": view.email, "name": view.name, "role": view.role}


def key(view: KeyView) -> dict[str, Any]:
    if view.revoked_at is not None:
        status = "revoked"
    elif view.expires_at is not None and view.expires_at <= utcnow():
        status = "expired"
    else:
        status = "active"
    return {
        "id": view.id,
        "key_id": view.key_id,
        "prefix": view.prefix,
        "name": view.name,
        "project_id": view.project_id,
        "user_id": view.user_id,
        "user_email": view.user_email,
        "scopes": view.scopes,
        "status": status,
        "created_at": iso(view.created_at),
        "expires_at": iso(view.expires_at),
        "last_used_at": iso(view.last_used_at),
        "revoked_at": iso(view.revoked_at),
    }


def user(row: User) -> dict[str, Any]:
    return {
        "id": row.id,
        "email": row.email,
        "name": row.name,
        "is_admin": bool(row.is_admin),
        "has_password": row.password_hash is not None,
        "notify_on_failure": bool(row.notify_on_failure),
        "created_at": iso(row.created_at),
    }


def audit_event(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": iso(event.at),
        "action": event.action,
        "actor_user_id": event.actor_user_id,
        "actor_key_id": event.actor_key_id,
        "organization_id": event.organization_id,
        "project_id": event.project_id,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "details": event.details,
    }


def page(name: str, items: list[dict[str, Any]], cursor: str | None) -> dict[str, Any]:
    """A list in the jobs list's shape: ``next`` only when there is another page."""
    payload: dict[str, Any] = {name: items}
    if cursor is not None:
        payload["next"] = cursor
    return payload


def webhook(view: WebhookView) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": view.id,
        "project_id": view.project_id,
        "url": view.url,
        "events": view.events,
        "active": view.active,
        "created_at": iso(view.created_at),
    }
    if view.secret is not None:
        body["secret"] = view.secret  # shown once
    return body
