"""User passwords (for the console): argon2id hashes, and the rule a new password must meet.

argon2id is memory-hard, so a leaked ``users`` table costs an attacker real memory per guess; the
parameters are argon2-cffi's defaults (RFC 9106 "low memory" profile: 64 MiB, 3 passes, 4 lanes).
When those defaults are raised in a later release, :func:`needs_rehash` tells the login path to
store a fresh hash the next time the user proves the password.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
#: Longer inputs are refused rather than hashed: hashing megabytes per login is a denial of service.
MAX_LENGTH = 1024

_HASHER = PasswordHasher()


def password_problem(password: object) -> str | None:
    """Why ``password`` may not be set, or None when it may. Pure: no hashing."""
    if not isinstance(password, str):
        return "must be a string"
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if "\x00" in password:
        return "must not contain a NUL character"
    if not password.strip():
        return "must not be only whitespace"
    return None


def hash_password(password: str) -> str:
    """An argon2id hash (``$argon2id$v=19$...``) with a fresh random salt."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; False (never an exception) for a missing or corrupt hash."""
    if not stored_hash or not isinstance(password, str) or len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with other parameters (or another algorithm) than today's."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
