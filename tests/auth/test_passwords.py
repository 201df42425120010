"""argon2id passwords: what is stored, what verifies, when to rehash, what may be set at all."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from qumulus.auth.passwords import (
    MAX_LENGTH,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)


def test_hash_is_argon2id_salted_and_not_the_password() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$v=19$")
    assert first != second  # a fresh salt each time
    assert "correct horse battery" not in first


def test_verify_accepts_the_password_and_nothing_else() -> None:
    stored = hash_password("correct horse battery")
    assert verify_password(stored, "correct horse battery")
    for wrong in ("correct horse batter", "Correct horse battery", "", "correct horse battery "):
        assert not verify_password(stored, wrong), wrong


@pytest.mark.parametrize(
    "stored", [None, "", "plaintext", "$argon2id$garbage", "$2b$12$bcrypthashxxxxxxxxxxxxx"]
)
def test_a_missing_or_corrupt_hash_never_verifies_and_never_raises(stored: str | None) -> None:
    assert verify_password(stored, "anything at all") is False


def test_overlong_input_is_refused_without_hashing() -> None:
    stored = hash_password("x" * MAX_LENGTH)
    assert verify_password(stored, "x" * MAX_LENGTH)
    assert not verify_password(stored, "x" * (MAX_LENGTH + 1))


def test_hashes_made_with_weaker_parameters_need_a_rehash() -> None:
    assert not needs_rehash(hash_password("correct horse battery"))
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("correct horse battery")
    assert verify_password(weak, "correct horse battery")  # still accepted at login...
    assert needs_rehash(weak)  # ...and then upgraded
    assert needs_rehash("not a hash")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 8"),
        ("        ", "whitespace"),
        ("x" * (MAX_LENGTH + 1), "at most"),
        ("nul\x00inside!", "NUL"),
        (12345678, "string"),
        ("long enough", None),
        ("ünïcödé pässwörd", None),
    ],
)
def test_password_rules(password: object, problem: str | None) -> None:
    found = password_problem(password)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
