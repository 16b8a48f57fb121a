"""argon2id password hashing (argon2-cffi), with its recommended defaults."""

from __future__ import annotations

from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from application.auth_ports import PasswordHasher


class Argon2PasswordHasher(PasswordHasher):
    def __init__(self, hasher: Argon2 | None = None) -> None:
        self._hasher = hasher or Argon2()

    @classmethod
    def fast_for_tests(cls) -> Argon2PasswordHasher:
        """Cheap parameters: the same algorithm, milliseconds instead of tens of them."""
        return cls(Argon2(time_cost=1, memory_cost=1024, parallelism=1))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True
